"""manage.py sla_recompute [--since DATE] [--until DATE] — bring stored SLA deadlines up to date."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.service import services


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as e:
        raise CommandError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text}) from e


class Command(BaseCommand):
    help = ("Recompute the stored SLA deadlines, statuses and working time of the interactions that came in "
            "between two local dates (default: all), with today's calendar and parameters.")

    def add_arguments(self, parser):
        parser.add_argument("--since", default="", help="First arrival date (YYYY-MM-DD)")
        parser.add_argument("--until", default="", help="Last arrival date (YYYY-MM-DD)")
        parser.add_argument("--reason", default="", help="Why (goes into the audit log)")

    def handle(self, *args, **options):
        since = _date(options["since"]) if options["since"] else None
        until = _date(options["until"]) if options["until"] else None
        run = services.sla_recompute(actor=None, since=since, until=until,
                                     reason=options["reason"] or _("manage.py sla_recompute"))
        self.stdout.write(_("%(checked)s interactions checked, %(changed)s changed.")
                          % {"checked": f"{run.rows_checked:,}", "changed": f"{run.rows_changed:,}"})
