"""``manage.py inspections_daily``: the rectification reminders and escalations of the day (policy S3),
for cron, once a day:

    30 7 * * *  cd /srv/kefu && .venv/bin/python manage.py inspections_daily

Safe to run twice, or from several servers at once: each rectification is locked and checked before
it changes, and each reminder and escalation level goes out once.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.inspections.rectification import rectification_remind_and_escalate
from kefu.inspections.tasks_rectification import inspections_daily_task


class Command(BaseCommand):
    help = _("Send the rectification reminders and escalate overdue rectifications (policy S3).")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("Run as of this day (YYYY-MM-DD); default today."))
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, date=None, enqueue=False, **options):
        day = None
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError as e:
                raise CommandError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": date}) from e
        if enqueue:
            result = inspections_daily_task.enqueue(day.isoformat() if day else None)
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        run = rectification_remind_and_escalate(today=day)
        self.stdout.write(_("%(reminded)d reminder(s) sent; %(head)d rectification(s) escalated to the department "
                            "head, %(leaders)d to leadership.") % {
            "reminded": run.reminded, "head": run.escalated_to_head, "leaders": run.escalated_to_leadership})
