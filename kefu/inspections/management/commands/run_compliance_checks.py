"""``manage.py run_compliance_checks``: run every automatic compliance check and store the hits for the
dashboard (issue 8 item 4, policy S1-S2), for cron, nightly:

    30 1 * * *  cd /srv/kefu && .venv/bin/python manage.py run_compliance_checks

``--enqueue`` hands the run to the task workers instead. Each run is stored on its own; the dashboard
compares the latest with the one before it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kefu.inspections import compliance


class Command(BaseCommand):
    help = _("Run the automatic compliance checks and store their hits.")

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help=_("Queue the job for the task workers."))
        parser.add_argument("--today", help=_("Judge as of this date (YYYY-MM-DD; default: today)."))

    def handle(self, *args, enqueue=False, today=None, **options):
        day = None
        if today:
            day = parse_date(today)
            if day is None:
                raise CommandError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": today})
        if enqueue:
            result = compliance.compliance_run_task.enqueue()
            self.stdout.write(_("Queued: %(id)s") % {"id": result.id})
            return
        run = compliance.compliance_run(actor=None, trigger="scheduled", today=day)
        for key, n in run.counts.items():
            self.stdout.write(f"{key}: {n}")
        self.stdout.write(_("%(n)d hit(s) stored in compliance run %(run)s.") % {
            "n": sum(v for v in run.counts.values() if v is not None), "run": run.pk})
