"""``manage.py hr_sync [--dry-run] [--folder DIR]``: process the HR sync drop folder (cron; README)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.integrations import hrsync
from kefu.integrations.models import HrSyncRun


class Command(BaseCommand):
    help = _("Apply the org-unit and employee files in the HR sync folder (KEFU_HR_SYNC_DIR).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("Report what would change; move nothing."))
        parser.add_argument("--folder", help=_("The drop folder (default: KEFU_HR_SYNC_DIR)."))

    def handle(self, *args, dry_run=False, folder=None, **options):
        try:
            runs = hrsync.process_drop_folder(folder=folder, dry_run=dry_run)
        except FileNotFoundError as e:
            raise CommandError(str(e)) from e
        for run in runs:
            self.stdout.write(f"{run.file_name}: {run.get_status_display()}")
            self.stdout.write(json.dumps(run.report, ensure_ascii=False, indent=2))
        if not runs:
            self.stdout.write(_("No files to sync."))
        if any(r.status == HrSyncRun.Status.REJECTED for r in runs):
            raise CommandError(_("Some files were rejected; see failed/ and their reports."))
