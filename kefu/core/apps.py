from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, nav  # noqa: F401

        # Navigation entries of core's own pages (role values as in people.models.Role).
