"""Who may see and change procurement data (DESIGN.md roles table).

Purchase data is company-wide, not about one org unit: admin staff see and run all of it
(catalogue, plans, RFQs, receipts); leadership read everything and decide plans and
over-budget awards; the supervision group (inspectors) read everything. Everyone else sees
none of it (404 on objects, 403 on the role pages).

``can_change`` answers "may this user act on the object as it stands": admin staff on
what is still theirs to edit, leadership on what awaits their decision.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.core import access
from kefu.core.registry import attachment_targets
from kefu.people.access import has_role
from kefu.people.models import Role
from kefu.procurement.models import (
    Award,
    Invitation,
    PlanDecision,
    PlanLine,
    PlanLineSize,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasePlan,
    Quote,
    QuoteLine,
    Receipt,
    ReceiptLine,
    Rfq,
    Supplier,
    SupplierCertificate,
    SupplierContact,
    SupplierIssue,
)

ADMINS = (Role.ADMIN_STAFF,)
APPROVERS = (Role.LEADERSHIP,)
READERS = (Role.ADMIN_STAFF, Role.LEADERSHIP, Role.INSPECTOR)


def is_buyer(user) -> bool:
    return has_role(user, *ADMINS)


def is_approver(user) -> bool:
    return has_role(user, *APPROVERS)


def reads(user) -> bool:
    return has_role(user, *READERS)


def readers_see(user, qs: QuerySet) -> QuerySet:
    return qs if reads(user) else qs.none()


def buyer_changes(user, obj) -> bool:
    return is_buyer(user)


def nobody_changes(user, obj) -> bool:
    return False


def plan_can_change(user, obj: PurchasePlan) -> bool:
    if obj.status in PurchasePlan.EDITABLE:
        return is_buyer(user)
    if obj.status in PurchasePlan.PENDING:
        return is_approver(user)
    return False


def rfq_can_change(user, obj: Rfq) -> bool:
    if obj.status == Rfq.Status.OPEN:
        return is_buyer(user)
    if obj.status == Rfq.Status.AWARD_PENDING:
        return is_approver(user)
    return False


def award_can_change(user, obj: Award) -> bool:
    return obj.status == Award.Status.PENDING and is_approver(user)


def order_can_change(user, obj: PurchaseOrder) -> bool:
    return obj.status in PurchaseOrder.OPEN and is_buyer(user)


def receipt_can_change(user, obj: Receipt) -> bool:
    return obj.status == Receipt.Status.DRAFT and is_buyer(user)


def issue_can_change(user, obj: SupplierIssue) -> bool:
    return obj.status == SupplierIssue.Status.OPEN and is_buyer(user)


def files_visible(user, target: Quote | ReceiptLine | SupplierIssue) -> bool:
    """The files on a quote, a receipt line or a supplier issue: for those who read procurement data."""
    return reads(user)


access.register(Supplier, visible=readers_see, can_change=buyer_changes)
access.register(SupplierContact, visible=readers_see, can_change=buyer_changes)
access.register(SupplierCertificate, visible=readers_see, can_change=buyer_changes)
access.register(PurchasePlan, visible=readers_see, can_change=plan_can_change)
for model in (PlanLine, PlanLineSize, PlanDecision, Invitation, Quote, QuoteLine, PurchaseOrderLine, ReceiptLine):
    access.register(model, visible=readers_see, can_change=nobody_changes)
access.register(Rfq, visible=readers_see, can_change=rfq_can_change)
access.register(Award, visible=readers_see, can_change=award_can_change)
access.register(PurchaseOrder, visible=readers_see, can_change=order_can_change)
access.register(Receipt, visible=readers_see, can_change=receipt_can_change)
access.register(SupplierIssue, visible=readers_see, can_change=issue_can_change)
for with_files in (Quote, ReceiptLine, SupplierIssue):
    attachment_targets.register(with_files, files_visible)
