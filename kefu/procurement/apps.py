from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcurementConfig(AppConfig):
    name = "kefu.procurement"
    label = "procurement"
    verbose_name = _("Procurement")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, demo_steps, nav, workbench
        from kefu.procurement import access, demo, todos  # access registers the rules

        nav.register(NavItem("procurement:home", _("Procurement"), roles=frozenset(access.READERS), order=45))
        workbench.register(todos.plans_to_approve)
        workbench.register(todos.awards_to_approve)
        workbench.register(todos.admin_todos)
        # After the uniforms demo (its catalogue must exist): apps' ready() run in INSTALLED_APPS order.
        demo_steps.register("procurement.spring_plan", demo.build_procurement_demo)
