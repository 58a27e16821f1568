from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kefu.service"
    label = "service"
    verbose_name = _("Customer service")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, nav
        from kefu.people.models import Role
        from kefu.service import access  # registers the access rules
        from kefu.service import demo as service_demo

        # Surveys, KPIs, evidence, alerts (issue 3 items 4-8).
        nav.register(NavItem("service:kpi_mine", _("My KPIs"), roles=frozenset({Role.AGENT}), order=30))
        nav.register(NavItem("service:kpi_team", _("Team KPIs"), roles=access.KPI_READERS, order=31))
        nav.register(NavItem("service:evidence_index", _("Evaluation evidence"), roles=access.EVALUATORS, order=32))
        nav.register(NavItem("service:survey_import", _("Survey answers"), roles=access.SURVEY_IMPORTERS, order=36))
        service_demo.register()

        # Interactions, their import and the SLA clock (issue 3 items 1-3): stored deadlines follow
        # changes of the work calendar and of the SLA parameters.
        from kefu.core import registry
        from kefu.service import services

        registry.on_calendar_changed(services.on_calendar_changed)
        registry.on_policy_changed(services.on_policy_changed)
        nav.register(NavItem("service:interaction_list", _("Interactions"),
                             roles=frozenset({Role.AGENT, *access.INTERACTION_VIEWERS}), order=29))
        nav.register(NavItem("service:import_upload", _("Import interactions"),
                             roles=access.INTERACTION_IMPORTERS, order=35))
