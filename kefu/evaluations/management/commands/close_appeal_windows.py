"""``manage.py close_appeal_windows``: make final the submitted monthly evaluations whose appeal window
has closed without an appeal (policy G3.1), for cron, e.g. hourly:

    5 * * * *  cd /srv/kefu && .venv/bin/python manage.py close_appeal_windows

Safe to run from several servers at once: each evaluation is locked and checked before it changes.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.evaluations import services
from kefu.evaluations.tasks import close_appeal_windows_task


class Command(BaseCommand):
    help = _("Make final the monthly evaluations whose appeal window has closed.")

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = close_appeal_windows_task.enqueue()
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        n = services.monthly_close_appeal_windows()
        self.stdout.write(_("%(n)d monthly evaluation(s) made final: their appeal window closed.") % {"n": n})
