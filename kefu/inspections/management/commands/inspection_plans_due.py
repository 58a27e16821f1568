"""``manage.py inspection_plans_due [--date YYYY-MM-DD] [--enqueue]``: make the inspections of recurring plans.

Each active monthly plan gets the inspection of the month that has just ended, each quarterly plan the one of
the quarter that has just ended (policy S2), planned and with the plan's checklist copied; the plan's
inspectors are told. Idempotent per plan and period: run it daily or on the 1st, a re-run makes nothing.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Make the inspections that recurring inspection plans have due (idempotent).")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("Run as on this day, YYYY-MM-DD (default: today)."))
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, date=None, enqueue=False, **options):
        from kefu.inspections.services import plans_due
        from kefu.inspections.tasks_plans import plans_due_task

        on = timezone.localdate()
        if date:
            try:
                on = datetime.date.fromisoformat(date)
            except ValueError as e:
                raise CommandError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": date}) from e
        if enqueue:
            result = plans_due_task.enqueue(on=on.isoformat())
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        run = plans_due(on=on)
        self.stdout.write(_("%(plans)d recurring plan(s): %(created)d inspection(s) made, %(existing)d already there.")
                          % {"plans": run.plans, "created": run.created, "existing": run.existing})
