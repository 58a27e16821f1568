from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "kefu.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from kefu.core import registry
        from kefu.people import access  # registers the access rules

        registry.set_roles_source(access.roles_of)
