"""Who sees award nominations (policy E3.2; DESIGN.md roles table).

- HR, leadership and inspectors see all (they are assigned to the company root); CS supervisors and
  department heads see those of their department (scope data) — the board's readers.
- A person sees her own nominations once approved (her certificate), never the pending or rejected ones.
- Change = leadership deciding a pending nomination (never her own).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.annual.access import BOARD_ROLES, LEADERSHIP, _signed_in
from kefu.annual.models import AnnualCycle, AwardNomination
from kefu.core import access as core_access
from kefu.people.access import has_role, scope_q


def nominations_visible(user, qs: QuerySet[AwardNomination]) -> QuerySet[AwardNomination]:
    if not _signed_in(user):
        return qs.none()
    own = Q(result__employee__user=user, status=AwardNomination.Status.APPROVED,
            cycle__status=AnnualCycle.Status.PUBLISHED)
    scoped = scope_q(user, BOARD_ROLES, field="result__employee__org_unit") & ~Q(result__employee__user=user)
    return qs.filter(own | scoped)


def nomination_can_change(user, obj: AwardNomination) -> bool:
    return (obj.status == AwardNomination.Status.NOMINATED and has_role(user, *LEADERSHIP)
            and obj.result.employee.user_id != getattr(user, "pk", None))


core_access.register(AwardNomination, visible=nominations_visible, can_change=nomination_can_change)
