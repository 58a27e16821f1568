"""``manage.py coaching_sync [--enqueue]``: make the draft coaching plans owed under policy E3.3.

Run it nightly from cron (see kefu/annual/tasks_coaching.py). Idempotent: a second run makes nothing.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Make the draft coaching plans owed by fail grades and low monthly totals (E3.3).")

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, enqueue=False, **options):
        from kefu.annual.coaching import coaching_sync
        from kefu.annual.tasks_coaching import coaching_sync_task

        if enqueue:
            result = coaching_sync_task.enqueue()
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        run = coaching_sync(actor=None)
        self.stdout.write(
            _("%(annual)d coaching plan(s) made for fail grades, %(monthly)d for low monthly totals; "
              "%(orphans)d without a CS supervisor to coach.")
            % {"annual": run.annual, "monthly": run.monthly, "orphans": run.without_coach})
