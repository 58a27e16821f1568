"""``manage.py seed_demo``: load (or complete) the demo company 客服示範有限公司.

Idempotent: a second run creates nothing and says so. Every login gets the
password from ``KEFU_DEMO_PASSWORD`` (default ``kefu-demo-2026``) or
``--password``; ``manage.py demo_logins`` prints one login per role.
"""

from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils.translation import gettext as _

from kefu.people.demo import DEFAULT_PASSWORD, build_demo


class Command(BaseCommand):
    help = _("Load the demo company (idempotent). Password: $KEFU_DEMO_PASSWORD or %(default)s.") % {
        "default": DEFAULT_PASSWORD
    }

    def add_arguments(self, parser):
        parser.add_argument("--password", help=_("Password for new demo logins (default: $KEFU_DEMO_PASSWORD)."))

    def handle(self, *args, password=None, verbosity=1, **options):
        log = self.stdout.write if verbosity >= 2 else None
        # The demo's notifications stay in the in-app inbox: hundreds of console e-mails would bury
        # the logins this command is run for.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            report = build_demo(password=password, log=log)
            # Later apps' demo data (interactions, evaluations, uniforms…), registered in their ready().
            from kefu.core.registry import demo_steps

            for label, count in demo_steps.run(log=log).items():
                report.created[label] += count
        if not report.changed:
            self.stdout.write(_("The demo company is already there; nothing to add."))
            return
        labels = {
            "logins": _("logins"),
            "org units": _("org units"),
            "employees": _("employees"),
            "role assignments": _("role assignments"),
            "onboarded": _("onboarded"),
            "offboarded": _("offboarded"),
            "notifications": _("notifications"),
        }
        parts = [f"{labels.get(key, key)}: {count}" for key, count in report.created.items() if count]
        self.stdout.write(self.style.SUCCESS(_("Demo company loaded. Added %(parts)s.") % {"parts": ", ".join(parts)}))
        self.stdout.write(_("Run manage.py demo_logins for one login per role."))
