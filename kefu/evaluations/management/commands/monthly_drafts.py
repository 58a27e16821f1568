"""``manage.py monthly_drafts [--period YYYY-MM] [--enqueue]``: make a month's monthly drafts (E2.2).

Run it from cron early on the 1st (see kefu/evaluations/tasks_monthly.py); without ``--period``
it makes the drafts of the month that has just ended. Idempotent: a second run makes nothing.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.evaluations.forms_monthly import parse_month, previous_month


class Command(BaseCommand):
    help = _("Make the monthly evaluation drafts of a month that has ended (default: last month).")

    def add_arguments(self, parser):
        parser.add_argument("--period", help=_("The month, as YYYY-MM (default: last month)."))
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, period=None, enqueue=False, **options):
        from kefu.evaluations.services import monthly_drafts_create
        from kefu.evaluations.tasks_monthly import monthly_drafts_task

        if period:
            parsed = parse_month(period)
            if parsed is None:
                raise CommandError(_("“%(value)s” is not a month; write it as YYYY-MM (e.g. 2026-03).")
                                   % {"value": period})
            year, month = parsed
        else:
            year, month = previous_month(timezone.localdate())
        if enqueue:
            result = monthly_drafts_task.enqueue(year=year, month=month)
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        try:
            run = monthly_drafts_create(actor=None, year=year, month=month)
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        self.stdout.write(
            _("%(period)s: %(created)d draft(s) made, %(existing)d agent(s) already had one, "
              "%(orphans)d without a CS supervisor.")
            % {"period": f"{year}-{month:02d}", "created": run.created, "existing": run.existing,
               "orphans": run.without_supervisor}
        )
