"""Who may see or change customer interactions, import batches, KPIs, evidence draws and survey answers.

Interactions (DESIGN.md roles table): an agent sees her own — those she handled, first
answered or resolved; a team lead her team's, a CS supervisor and a department head their
department's, HR, leadership and inspectors everything their assignment covers (normally
the company), and a system admin too, as the one who loads them from the source systems.
Scope is the org unit of the handling agent, first responder or resolver. Interactions are
facts from the source systems: they change only by importing them again, which system admins
(company-wide) and CS supervisors (their department's agents) may do.
"""

from django.db.models import Q, QuerySet

from kefu.core import access as core_access
from kefu.people.access import has_role, scope_q
from kefu.people.models import Employee, Role
from kefu.service.models import EvidenceDraw, ImportBatch, Interaction, SurveyAnswer

INTERACTION_VIEWERS = frozenset({
    Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.HR, Role.LEADERSHIP, Role.INSPECTOR, Role.SYSADMIN,
})
INTERACTION_IMPORTERS = frozenset({Role.SYSADMIN, Role.CS_SUPERVISOR})
PEOPLE_FIELDS = ("agent", "first_responder", "resolver")


def interactions_visible(user, qs: QuerySet[Interaction]) -> QuerySet[Interaction]:
    q = Q()
    for field in PEOPLE_FIELDS:
        q |= Q(**{f"{field}__user": user})
    if has_role(user, *INTERACTION_VIEWERS):
        for field in PEOPLE_FIELDS:
            q |= scope_q(user, INTERACTION_VIEWERS, field=f"{field}__org_unit")
    return qs.filter(q)


def interaction_can_change(user, obj: Interaction) -> bool:
    return Interaction.objects.filter(pk=obj.pk).filter(
        scope_q(user, INTERACTION_IMPORTERS, field="agent__org_unit")
    ).exists()


def sees_interactions(user) -> bool:
    """Whether the interaction list is for her at all (an agent, or a role that sees others')."""
    return has_role(user, Role.AGENT, *INTERACTION_VIEWERS)


def import_batches_visible(user, qs: QuerySet[ImportBatch]) -> QuerySet[ImportBatch]:
    if has_role(user, Role.SYSADMIN):
        return qs
    return qs.filter(created_by=user)


def import_batch_can_change(user, obj: ImportBatch) -> bool:
    return False  # a record of what was imported


core_access.register(Interaction, visible=interactions_visible, can_change=interaction_can_change)
core_access.register(ImportBatch, visible=import_batches_visible, can_change=import_batch_can_change)


# ---- KPIs, evidence draws and survey answers (issue 3 items 4–6) -------------------------------
# (kept together in this section; the interaction rules live above)

# Who reads other agents' KPIs, within the units their role covers (DESIGN.md roles table).
KPI_READERS = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.HR, Role.LEADERSHIP, Role.INSPECTOR})
# The weekly evaluation is the team lead's or the CS supervisor's (policy E2.1): they pick its evidence.
EVALUATORS = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR})
# Who loads survey answers from outside survey tools (E1.1), for interactions in their scope: the
# same people who load the interactions.
SURVEY_IMPORTERS = INTERACTION_IMPORTERS


def kpi_agents(user, qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    """The employees whose KPIs ``user`` may read: herself, and everyone in a unit a KPI role covers."""
    qs = Employee.objects.all() if qs is None else qs
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return qs.filter(scope_q(user, KPI_READERS) | Q(user=user))


def reads_team_kpis(user) -> bool:
    return has_role(user, *KPI_READERS)


def evaluated_agents(user, qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    """The employees ``user`` evaluates (E2.1): those in a unit her team-lead or supervisor role covers."""
    qs = Employee.objects.all() if qs is None else qs
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return qs.filter(scope_q(user, EVALUATORS)).exclude(user=user)


def is_evaluator(user) -> bool:
    return has_role(user, *EVALUATORS)


def evidence_draws_visible(user, qs: QuerySet[EvidenceDraw]) -> QuerySet[EvidenceDraw]:
    return qs.filter(agent__in=evaluated_agents(user).values("pk"))


def evidence_draw_can_change(user, obj: EvidenceDraw) -> bool:
    return False  # a draw is a record of what was drawn: never edited, drawn again instead


def survey_answers_visible(user, qs: QuerySet[SurveyAnswer]) -> QuerySet[SurveyAnswer]:
    return qs.filter(agent__in=kpi_agents(user).values("pk"))


def survey_answer_can_change(user, obj: SurveyAnswer) -> bool:
    return False  # the customer's word: corrected only by importing it again from its survey tool


def imports_survey_answers(user) -> bool:
    return has_role(user, *SURVEY_IMPORTERS)


def survey_import_scope(user) -> Q:
    """Interactions whose answers ``user`` may import: the handling agent lies in her importer scope."""
    return scope_q(user, SURVEY_IMPORTERS, field="agent__org_unit")


core_access.register(EvidenceDraw, visible=evidence_draws_visible, can_change=evidence_draw_can_change)
core_access.register(SurveyAnswer, visible=survey_answers_visible, can_change=survey_answer_can_change)
