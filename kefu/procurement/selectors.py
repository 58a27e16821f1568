"""Procurement reads: the purchase-plan proposal, supplier eligibility and scores, the quote
comparison, budget figures and on-order quantities. Aggregates run in SQL; Python only
combines aggregated rows (a bounded number of queries whatever the data size).

Reads of the uniforms app's data (size profiles, holdings, back-orders, stock, set
definitions) are read-only selectors over its models; writes go through its services.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from kefu.core import policy
from kefu.people.models import Employee, OrgUnit
from kefu.procurement.models import (
    Award,
    Invitation,
    PlanLine,
    PlanSeason,
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
    SupplierIssue,
)
from kefu.uniforms.models import (
    GenderVariant,
    Holding,
    ItemType,
    Requisition,
    RequisitionLine,
    Season,
    SetComponent,
    SizeProfile,
    SizeProfileEntry,
    Sku,
    Style,
)
from kefu.uniforms.selectors import skus_with_stock

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# A plan for a season buys the styles worn in it: spring and summer plans buy summer styles,
# autumn and winter plans winter styles; all-season styles (trousers, ties…) belong to every plan.
UNIFORM_SEASONS: dict[str, tuple[str, ...]] = {
    PlanSeason.SPRING: (Season.SUMMER, Season.ALL),
    PlanSeason.SUMMER: (Season.SUMMER, Season.ALL),
    PlanSeason.AUTUMN: (Season.WINTER, Season.ALL),
    PlanSeason.WINTER: (Season.WINTER, Season.ALL),
}
# U2.1 when admin staff have defined no set: top, trousers or skirt, tie or silk scarf (one of each).
DEFAULT_SET_TYPES = {ItemType.TOP, ItemType.TROUSERS, ItemType.SKIRT, ItemType.TIE, ItemType.SILK_SCARF}
# Back-ordered requisition lines still waiting for stock (U2.2: a partial issue back-orders the rest).
BACKORDER_STATUSES = (Requisition.Status.APPROVED, Requisition.Status.PARTIALLY_ISSUED)


def money(value: Fraction | Decimal | int) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


# ---------------------------------------------------------------------------------------------
# Supplier eligibility (U1.2: reputable, qualified suppliers only)
# ---------------------------------------------------------------------------------------------


def current_certificates(supplier: Supplier) -> QuerySet[SupplierCertificate]:
    return SupplierCertificate.objects.filter(supplier=supplier, withdrawn_at__isnull=True)


def supplier_problems(supplier: Supplier, *, on: datetime.date) -> list[str]:
    """Why the supplier may not be invited or awarded on ``on``; empty when it may."""
    problems = []
    if supplier.status != Supplier.Status.QUALIFIED:
        problems.append(_("%(supplier)s is %(status)s, not qualified.") % {
            "supplier": supplier.name, "status": supplier.get_status_display()})
    return problems + certificate_problems(supplier, on=on)


def certificate_problems(supplier: Supplier, *, on: datetime.date) -> list[str]:
    """A missing business licence, or current certificates expired before ``on``."""
    problems = []
    certificates = list(current_certificates(supplier).values("kind", "name", "expires_on"))
    if not any(c["kind"] == SupplierCertificate.Kind.BUSINESS_LICENCE for c in certificates):
        problems.append(_("%(supplier)s has no business licence on file.") % {"supplier": supplier.name})
    for c in certificates:
        if c["expires_on"] is not None and c["expires_on"] < on:
            problems.append(_("%(supplier)s: the certificate “%(name)s” expired on %(date)s.") % {
                "supplier": supplier.name, "name": c["name"], "date": c["expires_on"].isoformat()})
    return problems


def eligible_suppliers(*, on: datetime.date) -> QuerySet[Supplier]:
    """Qualified suppliers with a current business licence and no expired current certificate."""
    current = SupplierCertificate.objects.filter(supplier=OuterRef("pk"), withdrawn_at__isnull=True)
    return (Supplier.objects.filter(status=Supplier.Status.QUALIFIED)
            .filter(Exists(current.filter(kind=SupplierCertificate.Kind.BUSINESS_LICENCE)))
            .exclude(Exists(current.filter(expires_on__lt=on))))


# ---------------------------------------------------------------------------------------------
# Supplier scores from history: on-time delivery, acceptance pass rate, price against other quotes
# ---------------------------------------------------------------------------------------------

# Weights of the score (the policy leaves the formula to Kefu); a missing part is left out and
# the others are scaled up, so a supplier is never marked down for what it has not done yet.
SCORE_WEIGHTS = {"on_time": Decimal("0.4"), "pass": Decimal("0.4"), "price": Decimal("0.2")}


def _sum_by_supplier(qs: QuerySet, supplier_path: str, amount: str) -> Subquery:
    return Subquery(
        qs.values(supplier_path).annotate(n=Sum(amount)).values("n")[:1], output_field=IntegerField())


def suppliers_with_history(qs: QuerySet[Supplier]) -> QuerySet[Supplier]:
    """Suppliers annotated with ``delivered``, ``on_time``, ``accepted`` (units over posted receipts),
    ``price_index`` (their quoted unit prices over the average quote of the same line and round,
    lines with at least two quotes only; 1.0 = average) and ``quoted_lines``."""
    posted = ReceiptLine.objects.filter(receipt__status=Receipt.Status.POSTED,
                                        receipt__order__supplier=OuterRef("pk"))
    peers = QuoteLine.objects.filter(plan_line=OuterRef("plan_line"), quote__round=OuterRef("quote__round"))
    peer_avg = Subquery(peers.values("plan_line").annotate(a=Avg("unit_price")).values("a")[:1],
                        output_field=DecimalField(max_digits=14, decimal_places=4))
    peer_count = Subquery(peers.values("plan_line").annotate(n=Count("id")).values("n")[:1],
                          output_field=IntegerField())
    own = (QuoteLine.objects.filter(quote__supplier=OuterRef("pk"))
           .annotate(peer_avg=peer_avg, peer_n=peer_count).filter(peer_n__gte=2)
           .annotate(ratio=ExpressionWrapper(Cast("unit_price", FloatField()) / Cast("peer_avg", FloatField()),
                                             output_field=FloatField())))
    return qs.annotate(
        delivered=Coalesce(_sum_by_supplier(posted, "receipt__order__supplier", "delivered"), Value(0)),
        on_time=Coalesce(_sum_by_supplier(
            posted.filter(receipt__delivered_on__lte=F("order_line__delivery_date")),
            "receipt__order__supplier", "delivered"), Value(0)),
        accepted=Coalesce(_sum_by_supplier(posted, "receipt__order__supplier", "accepted"), Value(0)),
        price_index=Subquery(own.values("quote__supplier").annotate(x=Avg("ratio")).values("x")[:1],
                             output_field=FloatField()),
        quoted_lines=Coalesce(Subquery(own.values("quote__supplier").annotate(n=Count("id")).values("n")[:1],
                                       output_field=IntegerField()), Value(0)),
    )


@dataclass(frozen=True)
class Score:
    on_time_rate: Decimal | None  # share of delivered units that came by the line's delivery date
    pass_rate: Decimal | None  # share of delivered units accepted
    price_index: Decimal | None  # 1.00 = the average of the quotes it competed with
    score: Decimal | None  # 0-100


def score_of(supplier: Any) -> Score:
    """The score of a supplier annotated by ``suppliers_with_history`` (arithmetic on its aggregates)."""
    delivered = supplier.delivered or 0
    on_time = Decimal(supplier.on_time) / delivered if delivered else None
    passed = Decimal(supplier.accepted) / delivered if delivered else None
    index = Decimal(str(round(supplier.price_index, 4))) if supplier.price_index is not None else None
    parts: dict[str, Decimal] = {}
    if on_time is not None:
        parts["on_time"] = on_time
    if passed is not None:
        parts["pass"] = passed
    if index is not None:
        # At or below the average: full marks; each per cent above it costs one per cent of this part.
        parts["price"] = max(Decimal(0), min(Decimal(1), 2 - index))
    score = None
    if parts:
        weight = sum((SCORE_WEIGHTS[k] for k in parts), Decimal(0))
        total = sum((SCORE_WEIGHTS[k] * v for k, v in parts.items()), Decimal(0))
        score = (total / weight * 100).quantize(
            Decimal("0.1"), ROUND_HALF_UP)
    q = Decimal("0.001")
    return Score(
        on_time_rate=on_time.quantize(q, ROUND_HALF_UP) if on_time is not None else None,
        pass_rate=passed.quantize(q, ROUND_HALF_UP) if passed is not None else None,
        price_index=index.quantize(CENT, ROUND_HALF_UP) if index is not None else None,
        score=score,
    )


# ---------------------------------------------------------------------------------------------
# The purchase-plan proposal (U1.2: quantities from the number of staff and the season)
# ---------------------------------------------------------------------------------------------


def plan_styles(plan: PurchasePlan) -> QuerySet[Style]:
    """The active styles a plan for its season buys (see UNIFORM_SEASONS)."""
    return Style.objects.filter(active=True, season__in=UNIFORM_SEASONS[plan.season]).order_by("item_type", "code")


ITEM_TYPE_ORDER = {value: i for i, value in enumerate(ItemType.values)}


def in_catalogue_order(styles: Iterable[Style]) -> list[Style]:
    """Styles as a set is read: top, trousers, skirt, tie, silk scarf, badge, other; then by code."""
    return sorted(styles, key=lambda s: (ITEM_TYPE_ORDER.get(s.item_type, 99), s.code))


def _fits(gender: str, cut: str) -> bool:
    return cut == GenderVariant.ANY or gender == cut


def cs_unit_q(field: str = "org_unit") -> Q:
    """Rows whose unit is a customer-service unit or lies under one (G2: CS staff)."""
    paths = list(OrgUnit.objects.filter(is_customer_service=True).values_list("path", flat=True))
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__path__startswith": path})
    return q


@dataclass
class SkuProposal:
    sku: Sku
    proposed: int
    derivation: dict[str, Any]


@dataclass
class StyleProposal:
    style: Style
    pieces_per_set: int
    wearers: Fraction
    sizes: list[SkuProposal] = field(default_factory=list)
    default_price: Decimal = ZERO


def alternatives(components: list[tuple[list[str], int, str, str]]) -> dict[str, set[str]]:
    """Item type → the item types worn instead of it in a set (itself included), from the set
    definitions (or the policy's default set: trousers or skirt, tie or silk scarf)."""
    slots = [types for types, _q, _g, _s in components] or [
        [ItemType.TOP], [ItemType.TROUSERS, ItemType.SKIRT], [ItemType.TIE, ItemType.SILK_SCARF]]
    out: dict[str, set[str]] = {}
    for types in slots:
        for t in types:
            out.setdefault(t, {t}).update(types)
    return out


def pieces_per_set(style: Style, components: list[tuple[list[str], int, str, str]]) -> int:
    """Pieces of the style's item type in one set for its cut and season (U2.1); the uniforms
    app's active set definitions, or the policy's default set when none are defined."""
    if not components:
        return 1 if style.item_type in DEFAULT_SET_TYPES else 0
    best = 0
    for types, quantity, gender, season in components:
        if style.item_type not in types:
            continue
        if style.gender != GenderVariant.ANY and gender not in (style.gender, GenderVariant.ANY):
            continue
        if style.season != Season.ALL and season not in (style.season, Season.ALL):
            continue
        best = max(best, quantity)
    return best


def propose(plan: PurchasePlan, styles: list[Style]) -> list[StyleProposal]:
    """Kefu's proposed quantity per SKU of ``styles`` for ``plan``, with how each was derived.

    For each SKU (style × size)::

        new hires   = expected new hires × sets per new hire (U2.1, in force when the plan starts)
                      × pieces of the item type per set × staff wearing it in this size / staff with a size profile
        need        = new hires + renewals + back-orders + reorder point − on hand − on order
        proposed    = need rounded up, never below 0

    - *staff wearing it in this size*: active CS staff whose size profile names this size for the
      style's item type and whose gender fits the style's cut (for a one-size style: everyone with
      a size profile whose gender fits). A set slot is bought once per person: someone with sizes
      for both alternatives of a slot (trousers and skirt) counts ½ towards each, and someone
      fitting several of the plan's styles of one item type (or, one-size, of one slot) counts an
      equal share towards each.
    - *renewals*: held items of the item type, in the plan's seasons, due for renewal (U4.1) on
      or before the plan's last day, in that size, shared the same way by the holder's gender.
    - *back-orders*: requisition lines for this SKU still waiting for stock.
    - *on hand*: new stock; *on order*: open purchase orders of other plans not yet received.

    Without any size profile the new-hire units are spread evenly over the style's sizes and
    over the plan's styles of the same item type. The arithmetic is exact (fractions); only the
    final need is rounded up.
    """
    styles = list(styles)
    if not styles:
        return []
    hires = plan.expected_new_hires
    sets = int(policy.get("uniforms.sets_per_new_hire", on=plan.horizon_start))
    skus = list(skus_with_stock(Sku.objects.filter(style__in=styles, active=True))
                .select_related("size").order_by("size__order", "size__code"))
    by_style: dict[int, list[Any]] = defaultdict(list)
    for sku in skus:
        by_style[sku.style_id].append(sku)
    components = [
        (list(types), quantity, gender, season) for types, quantity, gender, season in
        SetComponent.objects.filter(set_definition__active=True)
        .values_list("item_types", "quantity", "set_definition__gender", "set_definition__season")
    ]

    # Size profiles of active CS staff: how many people, and how many per (gender, item type, size).
    staff = Q(employee__status=Employee.Status.ACTIVE) & cs_unit_q("employee__org_unit")
    with_entries = SizeProfile.objects.filter(staff).filter(Exists(SizeProfileEntry.objects.filter(profile=OuterRef("pk"))))
    by_gender: dict[str, int] = dict(with_entries.values_list("employee__gender").annotate(n=Count("id"))
                                     .values_list("employee__gender", "n"))
    population = sum(by_gender.values())
    # A set slot with alternatives (trousers or skirt, tie or scarf, U2.1): someone with a size for
    # several of them counts a share towards each, so the slot is bought once per person.
    groups = alternatives(components)
    entries = SizeProfileEntry.objects.filter(profile__in=with_entries)
    whens = [When(item_type__in=sorted(group), then=Subquery(
        SizeProfileEntry.objects.filter(profile=OuterRef("profile"), item_type__in=sorted(group))
        .values("profile").annotate(n=Count("id")).values("n")[:1], output_field=IntegerField()))
        for group in {frozenset(g) for g in groups.values() if len(g) > 1}]
    if whens:
        entries = entries.annotate(alts=Case(*whens, default=Value(1), output_field=IntegerField()))
    else:
        entries = entries.annotate(alts=Value(1, output_field=IntegerField()))
    entry_rows = entries.values_list("profile__employee__gender", "item_type", "size_id", "alts").annotate(n=Count("id"))
    wearing: dict[tuple[str, str, int], Fraction] = defaultdict(Fraction)
    for g, t, size, alts, n in entry_rows:
        wearing[(g, t, size)] += Fraction(n, max(1, alts))

    seasons = UNIFORM_SEASONS[plan.season]
    renewal_rows = (Holding.objects.filter(status=Holding.Status.HELD, employee__status=Employee.Status.ACTIVE,
                                           renewal_due_on__lte=plan.horizon_end, sku__style__season__in=seasons)
                    .values_list("employee__gender", "sku__style__item_type", "sku__size_id").annotate(n=Count("id")))
    renewing: dict[tuple[str, str, int], int] = {(g, t, s): n for g, t, s, n in renewal_rows}

    sku_ids = [s.pk for s in skus]
    backorders = dict(RequisitionLine.objects.filter(
        sku_id__in=sku_ids, backordered__gt=0, requisition__status__in=BACKORDER_STATUSES)
        .values("sku_id").annotate(n=Sum("backordered")).values_list("sku_id", "n"))
    on_order = on_order_by_sku(sku_ids, exclude_plan=plan)
    prices = dict(Sku.objects.filter(style__in=styles, unit_cost__gt=0).values("style_id")
                  .annotate(a=Avg("unit_cost")).values_list("style_id", "a"))

    genders = set(Employee.Gender.values)

    def sharers(gender: str, item_type: str) -> int:
        """How many of the plan's styles of this item type a person of this gender may wear."""
        return sum(1 for st in styles if st.item_type == item_type and _fits(gender, st.gender))

    def slot_sharers(gender: str, item_type: str) -> int:
        """How many of the plan's styles of this item type or its alternatives she may wear."""
        slot = groups.get(item_type, {item_type})
        return sum(1 for st in styles if st.item_type in slot and _fits(gender, st.gender))

    out = []
    for style in styles:
        k = pieces_per_set(style, components)
        style_skus = by_style.get(style.pk, [])
        proposal = StyleProposal(style=style, pieces_per_set=k, wearers=Fraction(0),
                                 default_price=money(prices[style.pk]) if style.pk in prices else ZERO)
        fitting = [g for g in genders if _fits(g, style.gender) and sharers(g, style.item_type)]
        one_size = len(style_skus) == 1
        for sku in style_skus:
            size_id = sku.size_id
            if one_size:
                # A one-size item (tie, scarf, badge) is worn by everyone its cut fits, size profile or not.
                wearers = sum((Fraction(by_gender.get(g, 0), slot_sharers(g, style.item_type)) for g in fitting),
                              Fraction(0))
            else:
                wearers = sum((wearing[(g, style.item_type, size_id)] / sharers(g, style.item_type)
                               for g in fitting), Fraction(0))
            renewals = sum((Fraction(renewing.get((g, style.item_type, size_id), 0), sharers(g, style.item_type))
                            for g in fitting), Fraction(0))
            proposal.wearers += wearers
            if population:
                new_hires = Fraction(hires * sets * k) * wearers / population
                basis = "profiles"
            else:
                same_type = sum(1 for st in styles if st.item_type == style.item_type)
                new_hires = Fraction(hires * sets * k, max(1, len(style_skus)) * max(1, same_type))
                basis = "even"
            backordered = int(backorders.get(sku.pk, 0) or 0)
            ordered = int(on_order.get(sku.pk, 0) or 0)
            on_hand = int(sku.new_on_hand or 0)
            need = new_hires + renewals + backordered + sku.reorder_point - on_hand - ordered
            quantity = max(0, _ceil(need))
            proposal.sizes.append(SkuProposal(sku=sku, proposed=quantity, derivation={
                "basis": basis, "hires": hires, "sets_per_hire": sets, "pieces_per_set": k,
                "wearers": str(money(wearers)), "population": population, "new_hires": str(money(new_hires)),
                "renewals": str(money(renewals)), "backorders": backordered, "reorder_point": sku.reorder_point,
                "on_hand": on_hand, "on_order": ordered, "need": str(money(need)), "proposed": quantity,
            }))
        out.append(proposal)
    return out


def on_order_by_sku(sku_ids: list[int], *, exclude_plan: PurchasePlan | None = None) -> dict[int, int]:
    """Units on open purchase orders not yet accepted or settled, per SKU."""
    qs = PurchaseOrderLine.objects.filter(sku_id__in=sku_ids, order__status__in=PurchaseOrder.OPEN)
    if exclude_plan is not None and exclude_plan.pk is not None:
        qs = qs.exclude(order__plan=exclude_plan)
    rows = qs.values("sku_id").annotate(
        n=Sum(F("quantity") - F("accepted_quantity") - F("settled_quantity"), output_field=IntegerField()))
    return {row["sku_id"]: int(row["n"] or 0) for row in rows}


# ---------------------------------------------------------------------------------------------
# Quote comparison (比價)
# ---------------------------------------------------------------------------------------------


@dataclass
class Column:
    invitation: Invitation
    supplier: Supplier
    quote: Quote | None  # the latest quote (highest round)
    prices: dict[int, QuoteLine] = field(default_factory=dict)  # plan line id -> quote line
    lowest_total: bool = False
    over_budget: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    rfq: Rfq
    lines: list[PlanLine]
    columns: list[Column]
    lowest_price: dict[int, Decimal]  # plan line id -> lowest unit price quoted
    lowest_total: Decimal | None
    complete_quotes: int
    min_quotes: int
    budget: Decimal

    @property
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            cells = []
            for column in self.columns:
                ql = column.prices.get(line.pk)
                cells.append({"line": ql, "lowest": ql is not None and ql.unit_price == self.lowest_price.get(line.pk),
                              "over_target": ql is not None and ql.unit_price > line.target_unit_price})
            out.append({"line": line, "cells": cells})
        return out


def latest_quotes(rfq: Rfq) -> dict[int, Quote]:
    """Each invitation's latest quote (the highest round it answered), lines and files loaded."""
    latest: dict[int, Quote] = {}
    for quote in Quote.objects.filter(rfq=rfq).prefetch_related("lines").order_by("invitation_id", "round"):
        latest[quote.invitation_id] = quote
    return latest


def comparison(rfq: Rfq, *, on: datetime.date) -> Comparison:
    lines = list(PlanLine.objects.filter(plan_id=rfq.plan_id, quantity__gt=0).select_related("style")
                 .order_by("position", "id"))
    invitations = list(Invitation.objects.filter(rfq=rfq).select_related("supplier").order_by("id"))
    latest = latest_quotes(rfq)
    problems = {s.pk: supplier_problems(s, on=on) for s in {i.supplier for i in invitations}} if invitations else {}
    columns = []
    lowest_price: dict[int, Decimal] = {}
    for invitation in invitations:
        quote = latest.get(invitation.pk)
        column = Column(invitation=invitation, supplier=invitation.supplier, quote=quote,
                        problems=problems.get(invitation.supplier_id, []))
        if quote is not None:
            for ql in quote.lines.all():
                column.prices[ql.plan_line_id] = ql
                if ql.plan_line_id not in lowest_price or ql.unit_price < lowest_price[ql.plan_line_id]:
                    lowest_price[ql.plan_line_id] = ql.unit_price
        columns.append(column)
    complete = [c for c in columns if c.quote is not None and c.quote.complete]
    lowest_total = min((c.quote.total for c in complete if c.quote), default=None)
    budget = rfq.plan.total_budget
    for c in complete:
        assert c.quote is not None
        c.lowest_total = c.quote.total == lowest_total
        c.over_budget = c.quote.total > budget
    return Comparison(rfq=rfq, lines=lines, columns=columns, lowest_price=lowest_price, lowest_total=lowest_total,
                      complete_quotes=len(complete), min_quotes=int(policy.get("procurement.min_quotes", on=on)),
                      budget=budget)


# ---------------------------------------------------------------------------------------------
# Budget: per plan, budget against awarded against received value
# ---------------------------------------------------------------------------------------------

AMOUNT: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def _received_value() -> Any:
    return ExpressionWrapper(F("accepted") * F("order_line__unit_price"), output_field=AMOUNT)


def plans_with_money(qs: QuerySet[PurchasePlan]) -> QuerySet[PurchasePlan]:
    """Plans annotated with ``awarded`` (the effective award's total) and ``received`` (accepted
    units at the order price, over posted receipts)."""
    awarded = Subquery(Award.objects.filter(rfq__plan=OuterRef("pk"), status=Award.Status.EFFECTIVE)
                       .values("total")[:1], output_field=AMOUNT)
    received = Subquery(
        ReceiptLine.objects.filter(receipt__order__plan=OuterRef("pk"), receipt__status=Receipt.Status.POSTED)
        .values("receipt__order__plan").annotate(v=Sum(_received_value())).values("v")[:1], output_field=AMOUNT)
    return qs.annotate(awarded=awarded, received=Coalesce(received, Value(ZERO), output_field=AMOUNT))


@dataclass
class BudgetLine:
    line: PlanLine
    budget: Decimal
    awarded: Decimal | None
    received: Decimal


@dataclass
class Budget:
    plan: PurchasePlan
    lines: list[BudgetLine]
    budget: Decimal
    awarded: Decimal | None
    received: Decimal
    credited: Decimal
    award: Award | None

    def chart(self) -> dict[str, Any]:
        """The chart's data (rendered with json_script, drawn by procurement/budget.js)."""
        return {
            "categories": [str(b.line.style.name) for b in self.lines] + [_("Total")],
            "series": [
                {"name": _("Budget"), "data": [str(b.budget) for b in self.lines] + [str(self.budget)]},
                {"name": _("Awarded"), "data": [str(b.awarded) if b.awarded is not None else None for b in self.lines]
                 + [str(self.awarded) if self.awarded is not None else None]},
                {"name": _("Received"), "data": [str(b.received) for b in self.lines] + [str(self.received)]},
            ],
        }


def budget(plan: PurchasePlan) -> Budget:
    lines = list(PlanLine.objects.filter(plan=plan).select_related("style").order_by("position", "id"))
    award = Award.objects.filter(rfq__plan=plan, status=Award.Status.EFFECTIVE).first()
    awarded: dict[int, Decimal] = {}
    if award is not None:
        awarded = dict(PurchaseOrderLine.objects.filter(order__award=award).values("plan_line_id")
                       .annotate(v=Sum("amount")).values_list("plan_line_id", "v"))
    received = dict(ReceiptLine.objects.filter(receipt__order__plan=plan, receipt__status=Receipt.Status.POSTED)
                    .values("order_line__plan_line_id").annotate(v=Sum(_received_value()))
                    .values_list("order_line__plan_line_id", "v"))
    credited = SupplierIssue.objects.filter(order__plan=plan, status=SupplierIssue.Status.CLOSED).aggregate(
        v=Coalesce(Sum("credit_amount"), Value(ZERO), output_field=AMOUNT))["v"]
    rows = [BudgetLine(line=line, budget=line.budget,
                       awarded=money(awarded.get(line.pk, 0)) if award is not None else None,
                       received=money(received.get(line.pk, 0) or 0)) for line in lines]
    return Budget(plan=plan, lines=rows, budget=plan.total_budget,
                  awarded=award.total if award is not None else None,
                  received=money(sum((r.received for r in rows), ZERO)), credited=money(credited or 0), award=award)
