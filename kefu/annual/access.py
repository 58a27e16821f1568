"""Who sees and changes annual results (DESIGN.md roles table; policy E2.3).

- An agent sees her own result once the cycle is published.
- CS supervisors and department heads read the results of their department (scope data).
- HR, leadership and inspectors read all (they are assigned to the company root).
- HR changes grades while the cycle is calibrating; the supervisor enters achievements while it is open.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.annual.models import AnnualCycle, AnnualResult
from kefu.core import access as core_access
from kefu.people.access import has_role, scope_q
from kefu.people.models import Role

HR = frozenset({Role.HR})
LEADERSHIP = frozenset({Role.LEADERSHIP})
SUPERVISORS = frozenset({Role.CS_SUPERVISOR, Role.DEPT_HEAD})
ACHIEVEMENT_EDITORS = frozenset({Role.CS_SUPERVISOR})
ALL_READERS = frozenset({Role.HR, Role.LEADERSHIP, Role.INSPECTOR})
BOARD_ROLES = ALL_READERS | SUPERVISORS


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def results_visible(user, qs: QuerySet[AnnualResult]) -> QuerySet[AnnualResult]:
    if not _signed_in(user):
        return qs.none()
    own = Q(employee__user=user, cycle__status=AnnualCycle.Status.PUBLISHED)
    scoped = scope_q(user, BOARD_ROLES, field="employee__org_unit") & ~Q(employee__user=user)
    return qs.filter(own | scoped)


def result_can_change(user, obj: AnnualResult) -> bool:
    """Change = HR's grade change while calibrating, or the supervisor's achievements while open."""
    if obj.employee.user_id == getattr(user, "pk", None):
        return False
    if obj.cycle.status == AnnualCycle.Status.CALIBRATING:
        return has_role(user, *HR)
    if obj.cycle.status == AnnualCycle.Status.OPEN:
        return AnnualResult.objects.filter(
            scope_q(user, ACHIEVEMENT_EDITORS, field="employee__org_unit"), pk=obj.pk).exists()
    return False


def cycles_visible(user, qs: QuerySet[AnnualCycle]) -> QuerySet[AnnualCycle]:
    return qs if _signed_in(user) and has_role(user, *BOARD_ROLES) else qs.none()


def cycle_can_change(user, obj: AnnualCycle) -> bool:
    return has_role(user, *HR) or has_role(user, *LEADERSHIP)


def reads_board(user) -> bool:
    return _signed_in(user) and has_role(user, *BOARD_ROLES)


core_access.register(AnnualResult, visible=results_visible, can_change=result_can_change)
core_access.register(AnnualCycle, visible=cycles_visible, can_change=cycle_can_change)
