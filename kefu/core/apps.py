from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("System")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        import kefu.core.calendar  # noqa: F401  (registers the work calendar's access rules)
        from kefu.core import access_rules  # registers core's access rules
        from kefu.core.attachments import file_goes_with_its_row
        from kefu.core.models import Attachment
        from kefu.core.registry import NavItem, nav, workbench
        from kefu.core.todos import calendar_years_to_enter

        workbench.register(calendar_years_to_enter)
        post_delete.connect(file_goes_with_its_row, sender=Attachment, dispatch_uid="kefu.attachment.file")

        # Navigation entries of core's own pages (role values as in people.models.Role).
        nav.register(NavItem("core:audit_log", _("Audit log"), roles=access_rules.AUDIT_READERS, order=90))
        nav.register(NavItem("core:policy", _("Policy parameters"), roles=access_rules.POLICY_READERS, order=92))
        nav.register(NavItem("core:calendar", _("Work calendar"), roles=None, order=95))
