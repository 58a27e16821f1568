"""``manage.py import_survey_answers FILE``: load answers from an outside survey tool (policy E1.1).

The same service as the upload page and ``POST /api/v1/survey-answers/bulk``: CSV or XLSX
with the columns source, external_id, rating, comment, answered_at (Chinese headers
accepted); all-or-nothing, every bad row reported; a second run of the same file changes nothing.
Exit status 1 when the file is rejected.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.core.tabular import ImportRejected
from kefu.service.models import ImportBatch
from kefu.service.surveys import survey_answers_import


class Command(BaseCommand):
    help = _("Import customer-satisfaction survey answers from a CSV or Excel file (all or nothing).")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("The CSV or .xlsx file."))
        parser.add_argument("--dry-run", action="store_true", help=_("Check the file and report; save nothing."))

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": file})
        try:
            report = survey_answers_import(actor=None, file=path, via=ImportBatch.Via.COMMAND, dry_run=dry_run)
        except ImportRejected as e:
            for error in e.report.errors:
                where = _("row %(row)s") % {"row": error.row} if error.row else _("file")
                column = f" [{error.field}]" if error.field else ""
                self.stderr.write(f"{where}{column}: {error.message}")
            raise CommandError(
                _("Nothing was imported: %(n)d problem(s).") % {"n": len(e.report.errors)}
            ) from None
        for warning in report.warnings:
            self.stderr.write(warning)
        message = _("%(rows)d rows: %(created)d added, %(updated)d changed, %(unchanged)d unchanged.") % {
            "rows": report.rows_read, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged,
        }
        if dry_run:
            message = _("Checked, nothing saved: %(message)s") % {"message": message}
        self.stdout.write(self.style.SUCCESS(message))
