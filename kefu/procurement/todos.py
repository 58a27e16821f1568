"""Workbench to-dos of procurement (one or two queries each, only for the roles concerned).

Leadership: plans to approve, over-budget awards to approve. Admin staff: plans returned for
changes, quotes awaited, orders to issue, orders due or late, receipts to check (not posted),
open supplier issues.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import Todo
from kefu.procurement.access import is_approver, is_buyer
from kefu.procurement.models import (
    Award,
    Invitation,
    PlanDecision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasePlan,
    Quote,
    Receipt,
    Rfq,
    SupplierIssue,
)

KIND = _("Procurement")
# Orders are listed this many days before their earliest outstanding delivery date.
DUE_SOON_DAYS = 7


def plans_awaiting(user):
    """Plans waiting for this leader: submitted, or awaiting a second approval she has not given,
    and not her own submission."""
    decided = PlanDecision.objects.filter(plan=OuterRef("pk"), round=OuterRef("round"), decided_by=user)
    return (PurchasePlan.objects.filter(status__in=PurchasePlan.PENDING).exclude(submitted_by=user)
            .exclude(Exists(decided)))


def plans_to_approve(user) -> list[Todo]:
    if not is_approver(user):
        return []
    n = plans_awaiting(user).count()
    if not n:
        return []
    return [Todo(title=_("Purchase plans to approve"), url=reverse("procurement:plans") + "?status=pending", count=n,
                 kind=KIND)]


def awards_to_approve(user) -> list[Todo]:
    if not is_approver(user):
        return []
    n = Award.objects.filter(status=Award.Status.PENDING).exclude(awarded_by=user).count()
    if not n:
        return []
    return [Todo(title=_("Awards over budget to approve"), url=reverse("procurement:rfqs") + "?status=award_pending",
                 count=n, kind=KIND)]


def quotes_awaited_q() -> Q:
    """Invitations to open RFQs without a quote in the current round."""
    answered = Quote.objects.filter(invitation=OuterRef("pk"), round=OuterRef("rfq__round"))
    return Q(rfq__status=Rfq.Status.OPEN) & ~Q(Exists(answered))


def admin_todos(user) -> list[Todo]:
    if not is_buyer(user):
        return []
    today = timezone.localdate()
    todos = []
    returned = PurchasePlan.objects.filter(status=PurchasePlan.Status.RETURNED).count()
    if returned:
        todos.append(Todo(title=_("Purchase plans returned for changes"),
                          url=reverse("procurement:plans") + "?status=returned", count=returned, kind=KIND))
    awaited = Invitation.objects.filter(quotes_awaited_q()).values("rfq").distinct().count()
    if awaited:
        todos.append(Todo(title=_("Requests for quotation with quotes awaited"),
                          url=reverse("procurement:rfqs") + "?status=open", count=awaited, kind=KIND))
    drafts = PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT).count()
    if drafts:
        todos.append(Todo(title=_("Purchase orders to issue"), url=reverse("procurement:orders") + "?status=draft",
                          count=drafts, kind=KIND))
    owed = PurchaseOrderLine.objects.filter(
        order__status__in=[PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED],
        delivery_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
    ).exclude(accepted_quantity__gte=F("quantity") - F("settled_quantity"))
    due = owed.values("order").distinct().count()
    if due:
        late = owed.filter(delivery_date__lt=today).exists()
        todos.append(Todo(title=_("Purchase orders due for delivery"), url=reverse("procurement:orders") + "?due=1",
                          count=due, due=today, late=late, kind=KIND))
    drafts_r = Receipt.objects.filter(status=Receipt.Status.DRAFT).count()
    if drafts_r:
        todos.append(Todo(title=_("Receipts to check and post"), url=reverse("procurement:receipts") + "?status=draft",
                          count=drafts_r, kind=KIND))
    issues = SupplierIssue.objects.filter(status=SupplierIssue.Status.OPEN).count()
    if issues:
        todos.append(Todo(title=_("Open supplier issues"), url=reverse("procurement:issues") + "?status=open",
                          count=issues, kind=KIND))
    return todos

