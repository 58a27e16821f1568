"""``manage.py demo_logins``: one login per role of the demo company, as a table."""

import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.people.demo import DEMO_LOGINS, demo_password
from kefu.people.models import Employee, Role


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = _("Print one demo login per role (user name, password, name).")

    def handle(self, *args, **options):
        users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_LOGINS.values())}
        if not users:
            self.stderr.write(_("There is no demo company yet. Run manage.py seed_demo first."))
            return
        names = dict(Employee.objects.filter(user__in=users.values()).values_list("user__username", "name"))
        password = demo_password()
        # The seed gives every login one hash, so this is usually a single (slow) check.
        works = {h: check_password(password, h) for h in {u.password for u in users.values()}}
        rows = [[_("Role"), _("User name"), _("Password"), _("Name")]]
        for role, username in DEMO_LOGINS.items():
            label = Role(role).label
            with translation.override("zh-hant"):
                zh = str(label)
            with translation.override("en"):
                en = str(label)
            role_text = zh if zh == en else f"{zh} / {en}"
            user = users.get(username)
            if user is None:
                shown = _("(missing)")
            elif not user.is_active:
                shown = _("(disabled)")
            elif works[user.password]:
                shown = password
            else:
                shown = _("(changed)")
            rows.append([role_text, username, shown, names.get(username, "")])
        self.stdout.write(table(rows))
