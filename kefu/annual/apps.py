from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnualConfig(AppConfig):
    name = "kefu.annual"
    label = "annual"
    verbose_name = _("Annual evaluation")

    def ready(self) -> None:
        from kefu.annual import access
        from kefu.core.registry import NavItem, nav
        from kefu.people.models import Role

        nav.register(NavItem("annual:cycles", _("Annual evaluation"), roles=access.BOARD_ROLES, order=25))
        nav.register(NavItem("annual:mine", _("My annual result"), roles=frozenset({Role.AGENT}), order=26))
