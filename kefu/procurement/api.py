"""The procurement API (issue 7 item 7): suppliers, purchase plans, purchase orders and receipts, read only.

Mounted under /api/v1/ by kefu/api/api.py. The same rules as the pages: the readers of purchase
data (admin staff, leadership, inspectors) read it; every other role gets 403, an unknown
number 404.
"""


import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Sum
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from kefu.api.common import caller
from kefu.api.pagination import BoundedPagination
from kefu.api.schemas import ErrorOut, ValidationErrorOut, named_enum
from kefu.core import access
from kefu.procurement import selectors
from kefu.procurement.access import reads
from kefu.procurement.models import (
    PlanLine,
    PlanLineSize,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasePlan,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierCertificate,
)

# Choices under names of their own in the OpenAPI document (see kefu.api.schemas.named_enum).
CertificateKind = Annotated[SupplierCertificate.Kind, named_enum(SupplierCertificate.Kind, "CertificateKind")]
SupplierStatus = Annotated[Supplier.Status, named_enum(Supplier.Status, "SupplierStatus")]
PlanStatus = Annotated[PurchasePlan.Status, named_enum(PurchasePlan.Status, "PlanStatus")]
OrderStatus = Annotated[PurchaseOrder.Status, named_enum(PurchaseOrder.Status, "OrderStatus")]
ReceiptStatus = Annotated[Receipt.Status, named_enum(Receipt.Status, "ReceiptStatus")]

router = Router(tags=["procurement"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
LIST_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}
MAX_PAGE = 500


def _reader(request: HttpRequest):
    user = caller(request)
    if not reads(user):
        raise PermissionDenied
    return user


# ---- schemas -------------------------------------------------------------------------------------------


class CertificateOut(Schema):
    kind: CertificateKind
    name: str
    number: str
    issued_on: datetime.date | None
    expires_on: datetime.date | None
    withdrawn: bool = Field(description="Withdrawn certificates no longer count.")

    @staticmethod
    def resolve_withdrawn(obj: SupplierCertificate) -> bool:
        return obj.withdrawn_at is not None


class SupplierOut(Schema):
    code: str
    name: str
    credit_code: str
    status: SupplierStatus
    eligible: bool = Field(description="May be invited and awarded today: qualified, licence on file, nothing expired.")
    on_time_rate: Decimal | None = Field(description="Share of delivered units that came by their delivery date.")
    pass_rate: Decimal | None = Field(description="Share of delivered units accepted on arrival.")
    price_index: Decimal | None = Field(description="Quoted prices over the average of the competing quotes (1.00).")
    score: Decimal | None = Field(description="0-100 from the three above (40/40/20); null without history.")


class SupplierDetailOut(SupplierOut):
    address: str
    certificates: list[CertificateOut]


class PlanSizeOut(Schema):
    sku: str
    size: str
    quantity: int
    proposed: int
    derivation: dict = Field(description="How Kefu derived the proposed quantity.")

    @staticmethod
    def resolve_sku(obj: PlanLineSize) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_size(obj: PlanLineSize) -> str:
        return obj.sku.size.code


class PlanLineOut(Schema):
    style: str
    style_name: str
    colour: str
    material: str
    quantity: int
    target_unit_price: Decimal
    budget: Decimal
    sizes: list[PlanSizeOut]

    @staticmethod
    def resolve_style(obj: PlanLine) -> str:
        return obj.style.code

    @staticmethod
    def resolve_style_name(obj: PlanLine) -> str:
        return obj.style.name

    @staticmethod
    def resolve_sizes(obj: PlanLine) -> list[PlanLineSize]:
        return list(obj.sizes.all())


class PlanOut(Schema):
    number: str
    title: str
    season: str
    year: int
    horizon_start: datetime.date
    horizon_end: datetime.date
    expected_new_hires: int
    status: PlanStatus
    total_budget: Decimal
    awarded: Decimal | None = None
    received: Decimal = Decimal("0.00")


class PlanDetailOut(PlanOut):
    needs_second_approval: bool
    second_approval_amount: Decimal | None
    lines: list[PlanLineOut]

    @staticmethod
    def resolve_lines(obj: PurchasePlan) -> list[PlanLine]:
        return list(obj.lines.all())


class OrderLineOut(Schema):
    sku: str
    style: str = Field(alias="style_name")
    size: str = Field(alias="size_code")
    colour: str
    material: str
    quality_standard: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    delivery_date: datetime.date
    accepted: int = Field(alias="accepted_quantity")
    settled: int = Field(alias="settled_quantity")

    @staticmethod
    def resolve_sku(obj: PurchaseOrderLine) -> str:
        return obj.sku.code


class OrderOut(Schema):
    number: str
    plan: str
    supplier: str
    status: OrderStatus
    order_date: datetime.date | None
    total: Decimal

    @staticmethod
    def resolve_plan(obj: PurchaseOrder) -> str:
        return obj.plan.number

    @staticmethod
    def resolve_supplier(obj: PurchaseOrder) -> str:
        return obj.supplier.code


class OrderDetailOut(OrderOut):
    delivery_address: str
    quality_standard: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: PurchaseOrder) -> list[PurchaseOrderLine]:
        return list(obj.lines.all())


class ReceiptLineOut(Schema):
    sku: str
    delivered: int
    accepted: int
    rejected: int
    quantity_ok: bool
    style_ok: bool
    colour_ok: bool
    quality_ok: bool
    passed: bool
    notes: str

    @staticmethod
    def resolve_sku(obj: ReceiptLine) -> str:
        return obj.order_line.sku.code


class ReceiptOut(Schema):
    number: str
    order: str
    delivered_on: datetime.date
    delivery_note_no: str
    status: ReceiptStatus
    delivered: int = 0
    accepted: int = 0
    rejected: int = 0

    @staticmethod
    def resolve_order(obj: Receipt) -> str:
        return obj.order.number


class ReceiptDetailOut(ReceiptOut):
    lines: list[ReceiptLineOut]

    @staticmethod
    def resolve_lines(obj: Receipt) -> list[ReceiptLine]:
        return list(obj.lines.all())


def _with_scores(suppliers: list[Supplier]) -> list[Supplier]:
    today = timezone.localdate()
    eligible = set(selectors.eligible_suppliers(on=today).filter(pk__in=[s.pk for s in suppliers])
                   .values_list("pk", flat=True))
    for supplier in suppliers:
        score = selectors.score_of(supplier)
        supplier.on_time_rate, supplier.pass_rate = score.on_time_rate, score.pass_rate  # type: ignore[attr-defined]
        supplier.price_index, supplier.score = score.price_index, score.score  # type: ignore[attr-defined]
        supplier.eligible = supplier.pk in eligible  # type: ignore[attr-defined]
    return suppliers


class ScoredPagination(BoundedPagination):
    """Limit/offset, then the scores of the page's suppliers (aggregated in SQL with the page)."""

    def paginate_queryset(self, queryset, pagination, request, **params):  # type: ignore[no-untyped-def]
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["items"] = _with_scores(list(page["items"]))
        return page


# ---- endpoints -----------------------------------------------------------------------------------------


@router.get("/procurement/suppliers", response={200: list[SupplierOut]} | LIST_ERRORS, summary="List suppliers")
@paginate(ScoredPagination, max_limit=MAX_PAGE)
def supplier_list(request: HttpRequest, status: SupplierStatus | None = None):
    """With each supplier's eligibility today and its score from history. ``status`` filters."""
    user = _reader(request)
    qs = access.visible(user, Supplier)
    if status:
        qs = qs.filter(status=status)
    return selectors.suppliers_with_history(qs).order_by("code")


@router.get("/procurement/suppliers/{code}", response={200: SupplierDetailOut} | ERRORS, summary="One supplier")
def supplier_detail(request: HttpRequest, code: str):
    user = _reader(request)
    qs = selectors.suppliers_with_history(access.visible(user, Supplier)).prefetch_related("certificates")
    supplier = access.get_for_view(user, qs, code=code)
    return _with_scores([supplier])[0]


@router.get("/procurement/plans", response={200: list[PlanOut]} | LIST_ERRORS, summary="List purchase plans")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def plan_list(request: HttpRequest, status: PlanStatus | None = None, year: int | None = None):
    """Each with its budget, the awarded total and the value received so far."""
    user = _reader(request)
    qs = selectors.plans_with_money(access.visible(user, PurchasePlan))
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "-id")


@router.get("/procurement/plans/{number}", response={200: PlanDetailOut} | ERRORS,
            summary="One purchase plan with its lines, sizes and how each proposal was derived")
def plan_detail(request: HttpRequest, number: str):
    user = _reader(request)
    sizes = PlanLineSize.objects.select_related("sku__size").order_by("sku__size__order", "sku__code")
    lines = PlanLine.objects.select_related("style").prefetch_related(Prefetch("sizes", queryset=sizes))
    qs = selectors.plans_with_money(access.visible(user, PurchasePlan)).prefetch_related(
        Prefetch("lines", queryset=lines.order_by("position", "id")))
    return access.get_for_view(user, qs, number=number)


@router.get("/procurement/orders", response={200: list[OrderOut]} | LIST_ERRORS, summary="List purchase orders")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def order_list(request: HttpRequest, status: OrderStatus | None = None, supplier: str | None = None):
    user = _reader(request)
    qs = access.visible(user, PurchaseOrder).select_related("plan", "supplier")
    if status:
        qs = qs.filter(status=status)
    if supplier:
        qs = qs.filter(supplier__code=supplier)
    return qs.order_by("-id")


@router.get("/procurement/orders/{number}", response={200: OrderDetailOut} | ERRORS,
            summary="One purchase order with its lines")
def order_detail(request: HttpRequest, number: str):
    user = _reader(request)
    qs = access.visible(user, PurchaseOrder).select_related("plan", "supplier").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("sku").order_by("id")))
    return access.get_for_view(user, qs, number=number)


def _receipts(user):
    return access.visible(user, Receipt).select_related("order").annotate(
        delivered=Sum("lines__delivered"), accepted=Sum("lines__accepted"), rejected=Sum("lines__rejected"))


@router.get("/procurement/receipts", response={200: list[ReceiptOut]} | LIST_ERRORS, summary="List receipts")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def receipt_list(request: HttpRequest, order: str | None = None, status: ReceiptStatus | None = None):
    user = _reader(request)
    qs = _receipts(user)
    if order:
        qs = qs.filter(order__number=order)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-delivered_on", "-id")


@router.get("/procurement/receipts/{number}", response={200: ReceiptDetailOut} | ERRORS,
            summary="One receipt with the acceptance check of each line")
def receipt_detail(request: HttpRequest, number: str):
    user = _reader(request)
    qs = _receipts(user).prefetch_related(
        Prefetch("lines", queryset=ReceiptLine.objects.select_related("order_line__sku").order_by("id")))
    return access.get_for_view(user, qs, number=number)
