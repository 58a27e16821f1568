from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "kefu.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        # Plans, inspections, findings (services.py, views.py) — registrations below this line
        from kefu.core.registry import NavItem as _NavItem
        from kefu.core.registry import demo_steps as _demo_steps
        from kefu.core.registry import nav as _nav
        from kefu.inspections import access as inspections_access  # registers the access rules
        from kefu.inspections import demo as inspections_demo

        _nav.register(_NavItem("inspections:inspection_list", _("Inspections"),
                               roles=inspections_access.ALL_READERS, order=60))
        _nav.register(_NavItem("inspections:plan_list", _("Inspection plans"),
                               roles=inspections_access.ALL_READERS, order=61))
        _nav.register(_NavItem("inspections:group", _("Supervision group"),
                               roles=inspections_access.ALL_READERS, order=64))
        _demo_steps.register("inspections", inspections_demo.build_inspections_demo)
        from kefu.core.registry import workbench as _workbench
        from kefu.inspections import todos_plans

        _workbench.register(todos_plans.inspections_to_do)
        # Rectification (rectification.py, views_rectification.py) — registrations below this line
        from kefu.core.registry import NavItem, nav, workbench
        from kefu.inspections import todos_rectification, views_rectification

        nav.register(NavItem("inspections:rectification_dashboard", _("Rectification dashboard"),
                             roles=views_rectification.DASHBOARD_ROLES, order=62))
        nav.register(NavItem("inspections:rectification_mine", _("My rectifications"),
                             roles=views_rectification.MINE_ROLES, order=63))
        workbench.register(todos_rectification.responsible_to_do)
        workbench.register(todos_rectification.inspector_to_do)
        from kefu.core.registry import demo_steps
        from kefu.inspections import demo_rectification

        demo_steps.register("inspections_rectification", demo_rectification.build_rectification_demo)
        # Compliance checks (compliance.py, views_compliance.py) — registrations below this line
        from kefu.inspections import compliance

        nav.register(NavItem("inspections:compliance_dashboard", _("Compliance checks"),
                             roles=inspections_access.ALL_READERS, order=65))
        workbench.register(compliance.compliance_to_do)
        _demo_steps.register("inspections_compliance", compliance.compliance_demo)
