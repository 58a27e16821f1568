from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kefu.integrations"
    label = "integrations"
    verbose_name = _("Company integrations")

    def ready(self) -> None:
        from kefu.core import services as core_services
        from kefu.core.registry import NavItem, nav
        from kefu.integrations import (
            access,  # noqa: F401  (registers the access rules)
            chat,
        )
        from kefu.people.models import Role

        core_services.notification_hooks.append(chat.on_notified)
        sysadmin = frozenset({Role.SYSADMIN})
        nav.register(NavItem("integrations:hooks", _("Chat bots"), roles=sysadmin, order=90))
        nav.register(NavItem("integrations:deliveries", _("Chat delivery log"), roles=sysadmin, order=91))
        nav.register(NavItem("integrations:hr_sync_runs", _("HR sync"), roles=sysadmin | {Role.HR}, order=92))
        # Issue 11 item 4: the monthly payroll file (E3.1 pay changes, U3.2 compensation), HR only.
        nav.register(NavItem("integrations:payroll", _("Payroll file"), roles=frozenset({Role.HR}), order=93))
