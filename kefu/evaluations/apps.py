from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "kefu.evaluations"
    label = "evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, nav, workbench
        from kefu.evaluations import access, todos  # access registers the rules
        from kefu.people.models import Role

        # Weekly evaluations, the monthly flow, appeals, scorecards (4a).
        nav.register(NavItem("evaluations:mine", _("My evaluations"), roles=frozenset({Role.AGENT}), order=20))
        nav.register(NavItem("evaluations:weekly_board", _("Weekly evaluations"), roles=access.WEEKLY_EVALUATORS,
                             order=21))
        nav.register(NavItem("evaluations:appeals", _("Appeals"), roles=access.APPEAL_DECIDERS, order=23))
        nav.register(NavItem("evaluations:scorecards", _("Scorecards"), roles=access.READERS | access.SCORECARD_EDITORS,
                             order=29))
        workbench.register(todos.weekly_to_do)
        workbench.register(todos.agent_to_do)
        workbench.register(todos.appeals_to_decide)
        # Monthly drafts, boards, calibration (4b) — below this line.
        from kefu.evaluations import todos_monthly

        nav.register(NavItem("evaluations:monthly_board", _("Monthly board"), roles=access.MONTHLY_BOARD_READERS,
                             order=22))
        nav.register(NavItem("evaluations:calibration_list", _("Calibration"),
                             roles=access.CALIBRATION_CREATORS | access.CALIBRATION_EVALUATOR_ROLES
                             | access.CALIBRATION_READERS, order=24))
        workbench.register(todos_monthly.monthly_drafts_to_do)
        workbench.register(todos_monthly.calibration_to_do)
        from kefu.evaluations import demo as evaluations_demo

        evaluations_demo.register()
