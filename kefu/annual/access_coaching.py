"""Who sees and changes coaching plans and HR cases (policy E3.3; DESIGN.md roles table).

- An agent sees her own plans once they are active (a draft has no goals yet), read-only, with the
  HR case and its decision.
- The coach sees the plans she coaches.
- CS supervisors and department heads read their department's; HR, leadership and inspectors read all
  (through the units their roles cover).
- Changes: the CS supervisor of the department runs the plan (the coach records sessions);
  HR decides the cases. The services check each step; ``can_change`` answers "may act on it at all".
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.annual.coaching import decides_cases, manages
from kefu.annual.models import CoachingPlan, HrCase
from kefu.core import access as core_access
from kefu.people.access import has_role, scope_q
from kefu.people.models import Role

READERS = frozenset({Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.HR, Role.LEADERSHIP, Role.INSPECTOR})
LIST_ROLES = READERS | frozenset({Role.TEAM_LEAD})  # a team lead may be a coach
HR = frozenset({Role.HR})


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def plans_visible(user, qs: QuerySet[CoachingPlan]) -> QuerySet[CoachingPlan]:
    if not _signed_in(user):
        return qs.none()
    own = Q(employee__user=user) & ~Q(status=CoachingPlan.Status.DRAFT)
    others = (scope_q(user, READERS, field="employee__org_unit") | Q(coach=user)) & ~Q(employee__user=user)
    return qs.filter(own | others)


def plan_can_change(user, obj: CoachingPlan) -> bool:
    return manages(user, obj.employee) or (obj.coach_id == user.pk and obj.employee.user_id != user.pk)


def cases_visible(user, qs: QuerySet[HrCase]) -> QuerySet[HrCase]:
    if not _signed_in(user):
        return qs.none()
    own = Q(plan__employee__user=user)
    others = scope_q(user, READERS, field="plan__employee__org_unit") & ~Q(plan__employee__user=user)
    return qs.filter(own | others)


def case_can_change(user, obj: HrCase) -> bool:
    return obj.status == HrCase.Status.OPEN and decides_cases(user, obj.plan.employee)


def reads_list(user) -> bool:
    return _signed_in(user) and has_role(user, *LIST_ROLES)


core_access.register(CoachingPlan, visible=plans_visible, can_change=plan_can_change)
core_access.register(HrCase, visible=cases_visible, can_change=case_can_change)
