"""``manage.py sla_alerts``: send the due SLA alerts (policy E1.3), for cron every few minutes.

    */5 * * * *  cd /srv/kefu && .venv/bin/python manage.py sla_alerts

Safe to run from several servers at once: each alert goes out once (see kefu/service/alerts.py).
``--enqueue`` hands the run to the task workers instead of running it here.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kefu.service.alerts import sla_alerts_run, sla_alerts_task


class Command(BaseCommand):
    help = _("Tell agents and their team leads about SLA deadlines close to breaching and breached.")

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = sla_alerts_task.enqueue()
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        run = sla_alerts_run()
        self.stdout.write(
            _("SLA alerts: %(near)d close to breaching, %(breach)d breached; %(n)d notification(s) sent.")
            % {"near": run.near, "breach": run.breach, "n": run.notifications}
        )
