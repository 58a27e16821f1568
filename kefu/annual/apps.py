from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnualConfig(AppConfig):
    name = "kefu.annual"
    label = "annual"
    verbose_name = _("Annual evaluation")

    def ready(self) -> None:
        from kefu.annual import (  # noqa: F401 (rules)
            access,
            access_awards,
            access_coaching,
            access_pay,
            demo,
            todos_awards,
            todos_coaching,
            todos_pay,
        )
        from kefu.core.registry import NavItem, nav, workbench
        from kefu.people.models import Role

        agent = frozenset({Role.AGENT})
        # E2.3 cycle and calibration
        nav.register(NavItem("annual:cycles", _("Annual evaluation"), roles=access.BOARD_ROLES, order=25))
        nav.register(NavItem("annual:mine", _("My annual result"), roles=agent, order=26))
        # E3.1 pay and appeals
        access_pay.register()
        nav.register(NavItem("annual:pay_index", _("Pay proposals"), roles=access.HR, order=27))
        nav.register(NavItem("annual:appeals", _("Annual appeals"), roles=access.HR, order=28))
        workbench.register(todos_pay.hr_to_do)
        workbench.register(todos_pay.agent_to_do)
        # E3.2 awards and reports
        nav.register(NavItem("annual:report_distribution", _("Grade distribution"), roles=access.BOARD_ROLES,
                             order=27))
        nav.register(NavItem("annual:my_history", _("My evaluation history"), roles=agent, order=28))
        workbench.register(todos_awards.nominations_to_decide)
        # E3.3 coaching
        nav.register(NavItem("annual:coaching_list", _("Coaching"), roles=access_coaching.LIST_ROLES, order=27))
        nav.register(NavItem("annual:hr_cases", _("HR cases"), roles=access_coaching.HR, order=28))
        nav.register(NavItem("annual:coaching_mine", _("My coaching"), roles=agent, order=28))
        workbench.register(todos_coaching.supervisor_to_do)
        workbench.register(todos_coaching.hr_to_do)
        demo.register()
