"""manage.py import_interactions FILE — the same import as the upload page and the API."""

from __future__ import annotations

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.core.tabular import ImportRejected
from kefu.service import services
from kefu.service.models import ImportBatch


class Command(BaseCommand):
    help = "Import interactions from a CSV or XLSX file (all or nothing; every bad row is reported)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8 or GBK) or XLSX file in the documented layout")
        parser.add_argument("--as", dest="username", default="",
                            help="Import as this user (her scope applies); default: the system, company-wide")
        parser.add_argument("--max-errors", type=int, default=50, help="How many bad rows to print (default 50)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": path})
        actor = None
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(_("There is no user %(name)s.") % {"name": options["username"]})
        started = time.monotonic()
        last = [started]

        def progress(rows: int) -> None:
            if time.monotonic() - last[0] >= 5:
                last[0] = time.monotonic()
                self.stderr.write(_("%(n)s rows checked…") % {"n": f"{rows:,}"})

        try:
            with path.open("rb") as handle:
                report = services.interactions_import_file(
                    actor=actor, handle=handle, name=path.name, via=ImportBatch.Via.COMMAND, progress=progress
                )
        except PermissionDenied as e:
            raise CommandError(_("This user may not import interactions.")) from e
        except ImportRejected as e:
            errors = e.report.errors
            for error in errors[: options["max_errors"]]:
                row = error.row if error.row is not None else "-"
                self.stderr.write(f"row {row} · {error.field or '-'}: {error.message}")
            if len(errors) > options["max_errors"]:
                self.stderr.write(_("… and %(n)s more.") % {"n": len(errors) - options["max_errors"]})
            raise CommandError(_("Nothing was imported: %(n)s problem(s).") % {"n": len(errors)}) from e
        seconds = time.monotonic() - started
        for warning in report.warnings:
            self.stderr.write(warning)
        self.stdout.write(_(
            "%(rows)s rows: %(created)s added, %(updated)s changed, %(unchanged)s unchanged (%(seconds).1f s)."
        ) % {"rows": f"{report.rows_read:,}", "created": f"{report.created:,}", "updated": f"{report.updated:,}",
             "unchanged": f"{report.unchanged:,}", "seconds": seconds})
