"""Who sees and changes pay proposals and annual appeals (policy E3.1, G3.1); registered in apps.ready.

- Pay proposals: HR only (pay is not for supervisors' eyes), within HR's scope; changed while not approved.
- Appeals: the person sees her own; HR, leadership, inspectors and the CS supervisors / department heads of
  her department read them; only HR decides (never her own).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.annual.access import BOARD_ROLES, HR
from kefu.annual.models import AnnualAppeal, PayProposal
from kefu.core import access as core_access
from kefu.people.access import has_role, scope_q


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def pay_visible(user, qs: QuerySet[PayProposal]) -> QuerySet[PayProposal]:
    if not _signed_in(user):
        return qs.none()
    return qs.filter(scope_q(user, HR, field="result__employee__org_unit"))


def pay_can_change(user, obj: PayProposal) -> bool:
    return (has_role(user, *HR) and obj.result.cycle.pay_approved_at is None
            and obj.result.employee.user_id != getattr(user, "pk", None))


def appeals_visible(user, qs: QuerySet[AnnualAppeal]) -> QuerySet[AnnualAppeal]:
    if not _signed_in(user):
        return qs.none()
    own = Q(result__employee__user=user)
    scoped = scope_q(user, BOARD_ROLES, field="result__employee__org_unit") & ~own
    return qs.filter(own | scoped)


def appeal_can_change(user, obj: AnnualAppeal) -> bool:
    # The state (open or decided) is the service's to check, so a second click gets a message, not 403.
    return has_role(user, *HR) and obj.result.employee.user_id != getattr(user, "pk", None)


def register() -> None:
    core_access.register(PayProposal, visible=pay_visible, can_change=pay_can_change)
    core_access.register(AnnualAppeal, visible=appeals_visible, can_change=appeal_can_change)
