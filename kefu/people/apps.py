from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "kefu.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from kefu.core import registry
        from kefu.core.registry import NavItem, nav
        from kefu.people import access  # registers the access rules
        from kefu.people.models import Role

        registry.set_roles_source(access.roles_of)

        nav.register(NavItem("people:employee_list", _("Employees"), roles=frozenset(access.NON_AGENT_ROLES), order=20))
        nav.register(NavItem("people:org_units", _("Org units"), roles=frozenset({Role.HR, Role.SYSADMIN}), order=80))
        nav.register(NavItem("people:roles", _("Roles"), roles=frozenset(access.ROLE_VIEWERS), order=82))
