"""Who may see and change evaluations (DESIGN.md roles table; policy E2.1, E2.2, G3.1).

- An agent sees her own evaluations once they are submitted (never a draft).
- Team leads, CS supervisors, department heads, HR, leadership and inspectors see the
  evaluations of the agents in the units their role covers (HR, leadership and the
  inspectors are assigned to the company root, so they see all) — except drafts about
  themselves.
- The weekly evaluation is written by the agent's team lead or CS supervisor (E2.1),
  never by herself; the monthly one by her CS supervisor (E2.2); her department head
  decides her appeal; HR reopens a final one (G3.1).
- Scorecards are the fixed standard everyone is held to (G3.1): every signed-in user
  reads them; HR and CS supervisors edit them (an edit of a used one is a new version).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kefu.core import access as core_access
from kefu.core.registry import attachment_targets
from kefu.evaluations.models import (
    Appeal,
    CalibrationSession,
    MonthlyEvaluation,
    Scorecard,
    WeeklyEvaluation,
)
from kefu.people.access import active_assignments, employee_of, has_role, scope_q
from kefu.people.models import Employee, Role, RoleAssignment

WEEKLY_EVALUATORS = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR})
MONTHLY_EVALUATORS = frozenset({Role.CS_SUPERVISOR})
APPEAL_DECIDERS = frozenset({Role.DEPT_HEAD})
REOPENERS = frozenset({Role.HR})
READERS = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.HR, Role.LEADERSHIP, Role.INSPECTOR})
SCORECARD_EDITORS = frozenset({Role.HR, Role.CS_SUPERVISOR})


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def covers(user, roles: Iterable[str], employee: Employee) -> bool:
    """Whether one of ``user``'s ``roles`` covers ``employee``'s unit (one query)."""
    if not _signed_in(user):
        return False
    paths = active_assignments(user).filter(role__in=list(roles)).values_list("org_unit__path", flat=True)
    unit_path = employee.org_unit.path
    return any(unit_path.startswith(p) for p in paths)


def is_self(user, employee: Employee) -> bool:
    return employee.user_id is not None and employee.user_id == getattr(user, "pk", None)


def agents_q(prefix: str = "") -> Q:
    """Employees who hold the agent role today: the people the weekly and monthly evaluations are about."""
    today = timezone.localdate()
    holds = RoleAssignment.objects.filter(
        user_id=OuterRef(f"{prefix}user_id"), role=Role.AGENT, start_date__lte=today,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    return Q(Exists(holds))


def evaluable_agents(user, roles: Iterable[str] = WEEKLY_EVALUATORS,
                     qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    """Active agents in the units ``user``'s ``roles`` cover, herself excepted (E2.1: never herself)."""
    qs = Employee.objects.all() if qs is None else qs
    if not _signed_in(user):
        return qs.none()
    return (qs.filter(scope_q(user, roles), status=Employee.Status.ACTIVE)
            .filter(agents_q()).exclude(user=user))


def _evaluations_visible(user, qs: QuerySet) -> QuerySet:
    if not _signed_in(user):
        return qs.none()
    own_submitted = Q(agent__user=user) & ~Q(status="draft")
    in_scope = scope_q(user, READERS, field="agent__org_unit") & ~Q(agent__user=user)
    return qs.filter(in_scope | own_submitted)


def weekly_visible(user, qs: QuerySet[WeeklyEvaluation]) -> QuerySet[WeeklyEvaluation]:
    return _evaluations_visible(user, qs)


def weekly_can_change(user, obj: WeeklyEvaluation) -> bool:
    """Change = edit the draft: her team lead or CS supervisor, never the agent herself."""
    return (obj.status == WeeklyEvaluation.Status.DRAFT and not is_self(user, obj.agent)
            and covers(user, WEEKLY_EVALUATORS, obj.agent))


def monthly_visible(user, qs: QuerySet[MonthlyEvaluation]) -> QuerySet[MonthlyEvaluation]:
    return _evaluations_visible(user, qs)


def monthly_can_change(user, obj: MonthlyEvaluation) -> bool:
    """Change = edit the draft: her CS supervisor (E2.2)."""
    return (obj.status == MonthlyEvaluation.Status.DRAFT and not is_self(user, obj.agent)
            and covers(user, MONTHLY_EVALUATORS, obj.agent))


def appeals_visible(user, qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    if not _signed_in(user):
        return qs.none()
    in_scope = scope_q(user, READERS, field="evaluation__agent__org_unit") & ~Q(evaluation__agent__user=user)
    return qs.filter(in_scope | Q(evaluation__agent__user=user))


def appeal_can_change(user, obj: Appeal) -> bool:
    """Change = decide: her department head, while the appeal is open (G3.1)."""
    agent = obj.evaluation.agent
    return obj.status == Appeal.Status.OPEN and not is_self(user, agent) and covers(user, APPEAL_DECIDERS, agent)


def weekly_files_visible(user, ev: WeeklyEvaluation) -> bool:
    """A weekly evaluation's files are seen by those who see the evaluation (core:attachment)."""
    return core_access.can_see(user, ev)


def scorecards_visible(user, qs: QuerySet[Scorecard]) -> QuerySet[Scorecard]:
    return qs if _signed_in(user) else qs.none()


def edits_scorecards(user) -> bool:
    return has_role(user, *SCORECARD_EDITORS)


def scorecard_can_change(user, obj: Scorecard) -> bool:
    return edits_scorecards(user)


def is_weekly_evaluator(user) -> bool:
    return has_role(user, *WEEKLY_EVALUATORS)


def decides_appeals(user) -> bool:
    return has_role(user, *APPEAL_DECIDERS)


def reopens(user) -> bool:
    return has_role(user, *REOPENERS)


def is_agent(user) -> bool:
    return employee_of(user) is not None and has_role(user, Role.AGENT)


core_access.register(WeeklyEvaluation, visible=weekly_visible, can_change=weekly_can_change)
core_access.register(MonthlyEvaluation, visible=monthly_visible, can_change=monthly_can_change)
core_access.register(Appeal, visible=appeals_visible, can_change=appeal_can_change)
attachment_targets.register(WeeklyEvaluation, weekly_files_visible)
core_access.register(Scorecard, visible=scorecards_visible, can_change=scorecard_can_change)


# ---- monthly board and calibration sessions (4b: issue 4 items 5 and 6) ----------------------------
# Kept in this section so the rules above stay as they are.

# The department monthly board and its export: the roles that read monthly evaluations in their scope.
MONTHLY_BOARD_READERS = frozenset({Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.HR, Role.LEADERSHIP, Role.INSPECTOR})
# A CS supervisor calibrates her evaluators; HR runs calibration company-wide (DESIGN.md roles table).
CALIBRATION_CREATORS = frozenset({Role.CS_SUPERVISOR, Role.HR})
# Who may be asked to score a calibration: those who write evaluations (E2.1, E2.2).
CALIBRATION_EVALUATOR_ROLES = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR})
# Who reads every session's result: HR, and the supervision group the result is handed to (S1).
CALIBRATION_READERS = frozenset({Role.HR, Role.INSPECTOR, Role.LEADERSHIP})


def reads_monthly_board(user) -> bool:
    return has_role(user, *MONTHLY_BOARD_READERS)


def creates_calibration(user) -> bool:
    return _signed_in(user) and has_role(user, *CALIBRATION_CREATORS)


def evaluator_candidates(user, qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    """Active team leads and CS supervisors in the units ``user``'s calibration role covers."""
    qs = Employee.objects.all() if qs is None else qs
    if not creates_calibration(user):
        return qs.none()
    today = timezone.localdate()
    evaluates = RoleAssignment.objects.filter(
        user_id=OuterRef("user_id"), role__in=list(CALIBRATION_EVALUATOR_ROLES), start_date__lte=today,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    return qs.filter(scope_q(user, CALIBRATION_CREATORS), status=Employee.Status.ACTIVE).filter(Exists(evaluates))


def calibration_interactions(user, qs=None):
    """Interactions ``user`` may put in a session: those handled by an agent in her calibration scope."""
    from kefu.service.models import Interaction

    qs = Interaction.objects.all() if qs is None else qs
    if not creates_calibration(user):
        return qs.none()
    return qs.filter(scope_q(user, CALIBRATION_CREATORS, field="agent__org_unit"))


def inspector_users() -> list:
    """The supervision group (S1): users holding the inspector role today."""
    from django.contrib.auth import get_user_model

    today = timezone.localdate()
    ids = RoleAssignment.objects.filter(role=Role.INSPECTOR, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True))


def calibration_visible(user, qs: QuerySet[CalibrationSession]) -> QuerySet[CalibrationSession]:
    """Its creator and its evaluators; HR, the inspectors and leadership read every session."""
    if not _signed_in(user):
        return qs.none()
    if has_role(user, *CALIBRATION_READERS):
        return qs
    mine = CalibrationSession.evaluators.through.objects.filter(
        calibrationsession_id=OuterRef("pk"), employee__user=user)
    return qs.filter(Q(created_by=user) | Q(Exists(mine)))


def calibration_can_change(user, obj: CalibrationSession) -> bool:
    """Change = close it (and so compute the result): its creator or HR, while it is open."""
    return obj.status == CalibrationSession.Status.OPEN and (
        obj.created_by_id == getattr(user, "pk", None) or has_role(user, Role.HR))


core_access.register(CalibrationSession, visible=calibration_visible, can_change=calibration_can_change)
