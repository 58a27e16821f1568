"""Uniforms API, read side of 6a: the catalogue and stock levels (issue 6 item 10).

Everyone signed in reads the catalogue (unit costs only for stock readers); stock levels are for
admin staff, leadership and inspectors (403 for other roles). 6b's requisition and issuance
endpoints live in this router too, below the marker.
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from kefu.api.common import caller
from kefu.api.pagination import BoundedPagination
from kefu.api.schemas import ErrorOut, ValidationErrorOut, named_enum
from kefu.core import access
from kefu.people.access import has_role
from kefu.uniforms.access import READ_ALL, is_uniform_admin
from kefu.uniforms.models import (
    GenderVariant,
    ItemType,
    Location,
    Season,
    SetDefinition,
    Sku,
    StockLevel,
    Style,
    item_type_order,
)

# Choices under names of their own in the OpenAPI document (see kefu.api.schemas.named_enum).
LocationKind = Annotated[Location.Kind, named_enum(Location.Kind, "LocationKind")]

router = Router(tags=["uniforms"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
MAX_PAGE = 500


def _reads_costs(context) -> bool:
    request = (context or {}).get("request")
    return request is not None and has_role(caller(request), *READ_ALL)


class SkuOut(Schema):
    code: str
    size: str
    size_label: str
    active: bool
    reorder_point: int
    unit_cost: Decimal | None = Field(None, description="Moving-average cost; null unless you read stock.")

    @staticmethod
    def resolve_size(obj: Sku) -> str:
        return obj.size.code

    @staticmethod
    def resolve_size_label(obj: Sku) -> str:
        return obj.size.label

    @staticmethod
    def resolve_unit_cost(obj: Sku, context) -> Decimal | None:
        return obj.unit_cost if _reads_costs(context) else None


class StyleOut(Schema):
    code: str
    name: str
    item_type: ItemType
    gender: GenderVariant
    season: Season
    colour: str
    material: str
    design_notes: str
    reusable: bool
    active: bool
    has_photo: bool
    skus: list[SkuOut]

    @staticmethod
    def resolve_has_photo(obj: Style) -> bool:
        return bool(obj.photo)

    @staticmethod
    def resolve_skus(obj: Style) -> list[Sku]:
        return list(obj.skus.all())


class SetComponentOut(Schema):
    item_types: list[ItemType] = Field(description="Any one of these fills the line.")
    quantity: int


class SetOut(Schema):
    name: str
    gender: GenderVariant
    season: Season
    active: bool
    components: list[SetComponentOut]

    @staticmethod
    def resolve_components(obj: SetDefinition) -> list:
        return list(obj.components.all())


class StockLevelOut(Schema):
    sku: str
    style: str
    size: str
    location: str
    location_kind: LocationKind
    on_hand: int
    reorder_point: int
    low_stock: bool = Field(description="New stock of this SKU is at or below its reorder point.")
    updated_at: datetime.datetime

    @staticmethod
    def resolve_sku(obj: StockLevel) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_style(obj: StockLevel) -> str:
        return obj.sku.style.code

    @staticmethod
    def resolve_size(obj: StockLevel) -> str:
        return obj.sku.size.code

    @staticmethod
    def resolve_location(obj: StockLevel) -> str:
        return obj.location.code

    @staticmethod
    def resolve_location_kind(obj: StockLevel) -> str:
        return obj.location.kind

    @staticmethod
    def resolve_reorder_point(obj: StockLevel) -> int:
        return obj.sku.reorder_point

    @staticmethod
    def resolve_low_stock(obj: StockLevel) -> bool:
        return obj.sku.low_stock_since is not None


def _styles(user):
    qs = access.visible(user, Style).prefetch_related(
        Prefetch("skus", queryset=Sku.objects.select_related("size").order_by("size__order", "size__code")))
    return qs if is_uniform_admin(user) else qs.filter(active=True)


@router.get("/uniforms/styles", response={200: list[StyleOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="The uniform catalogue: styles with their sizes (SKUs)")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def style_list(request: HttpRequest, item_type: ItemType | None = None, season: Season | None = None):
    """Inactive styles are listed for admin staff only. ``limit`` is capped at 500."""
    qs = _styles(caller(request))
    if item_type:
        qs = qs.filter(item_type=item_type)
    if season:
        qs = qs.filter(season=season)
    return qs.order_by(item_type_order(), "code")


@router.get("/uniforms/styles/{code}", response={200: StyleOut} | ERRORS, summary="One style")
def style_detail(request: HttpRequest, code: str):
    user = caller(request)
    return access.get_for_view(user, _styles(user), code=code)


@router.get("/uniforms/sets", response={200: list[SetOut], 401: ErrorOut}, summary="What a uniform set is (U2.1)")
def set_list(request: HttpRequest):
    return (access.visible(caller(request), SetDefinition).filter(active=True).prefetch_related("components")
            .order_by("name"))


@router.get("/uniforms/stock-levels", response={200: list[StockLevelOut]} | ERRORS,
            summary="On-hand per SKU and location (admin staff, leadership, inspectors)")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def stock_level_list(request: HttpRequest, sku: str | None = None, location: str | None = None,
                     low: bool | None = None):
    """Filters: ``sku`` (a SKU code), ``location`` (a location code), ``low`` (only SKUs at or below
    their reorder point when true). ``limit`` is capped at 500."""
    user = caller(request)
    if not has_role(user, *READ_ALL):
        raise PermissionDenied
    qs = access.visible(user, StockLevel).select_related("sku__style", "sku__size", "location")
    if sku:
        qs = qs.filter(sku__code=sku)
    if location:
        qs = qs.filter(location__code=location)
    if low is not None:
        qs = qs.filter(sku__low_stock_since__isnull=not low)
    return qs.order_by("sku__code", "location__code")


# ---- 6b's endpoints (requisitions: create and read within scope; issuance records: read) below ----

from django.core.exceptions import ValidationError  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from ninja import Status  # noqa: E402

from kefu.people.access import employee_of  # noqa: E402
from kefu.people.models import Employee  # noqa: E402
from kefu.uniforms import services  # noqa: E402
from kefu.uniforms.models import DamageReport, Issuance, Requisition, RequisitionLine  # noqa: E402

RequisitionReason = Annotated[Requisition.Reason, named_enum(Requisition.Reason, "RequisitionReason")]
RequisitionStatus = Annotated[Requisition.Status, named_enum(Requisition.Status, "RequisitionStatus")]


class RequisitionLineIn(Schema):
    sku: str = Field(description="SKU code, e.g. TOP-S-M (style and size).")
    quantity: int = Field(ge=1, le=services.MAX_LINE_QUANTITY)


class RequisitionIn(Schema):
    employee_no: str | None = Field(None, description="Whose requisition; your own when left out. Admin staff "
                                                      "may file one for anyone they manage.")
    reason: RequisitionReason
    lines: list[RequisitionLineIn] = Field(min_length=1, max_length=services.MAX_REQUISITION_LINES)
    extra_reason: str = Field("", description="Required for reason=extra.")
    damage_report: str | None = Field(None, description="Number of the damage/loss report a replacement follows.")


class RequisitionLineOut(Schema):
    sku: str
    style: str
    size: str
    quantity: int
    issued: int
    backordered: int

    @staticmethod
    def resolve_sku(obj: RequisitionLine) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_style(obj: RequisitionLine) -> str:
        return obj.sku.style.name

    @staticmethod
    def resolve_size(obj: RequisitionLine) -> str:
        return obj.sku.size.code

    @staticmethod
    def resolve_issued(obj: RequisitionLine) -> int:
        return obj.issued_quantity


class RequisitionOut(Schema):
    number: str
    employee_no: str
    employee_name: str
    reason: RequisitionReason
    status: RequisitionStatus
    extra_reason: str
    damage_report: str | None
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None = Field(description="When her department head decided (approved or rejected).")
    decision_comment: str
    lines: list[RequisitionLineOut]

    @staticmethod
    def resolve_employee_no(obj: Requisition) -> str:
        return obj.employee.employee_no

    @staticmethod
    def resolve_employee_name(obj: Requisition) -> str:
        return obj.employee.name

    @staticmethod
    def resolve_damage_report(obj: Requisition) -> str | None:
        return obj.damage_report.number if obj.damage_report is not None else None

    @staticmethod
    def resolve_lines(obj: Requisition) -> list:
        return list(obj.lines.all())


class IssuanceLineOut(Schema):
    sku: str
    style: str = Field(description="The style's name when issued.")
    size: str
    quantity: int

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_style(obj) -> str:
        return obj.style_name

    @staticmethod
    def resolve_size(obj) -> str:
        return obj.size_code


class IssuanceOut(Schema):
    number: str
    requisition: str
    employee_no: str
    employee_name: str = Field(description="Her name when issued (U2.2).")
    department: str = Field(description="Her department when issued (U2.2).")
    issued_at: datetime.datetime
    issued_by: str
    location: str
    receipt_confirmed_at: datetime.datetime | None
    lines: list[IssuanceLineOut]

    @staticmethod
    def resolve_requisition(obj: Issuance) -> str:
        return obj.requisition.number

    @staticmethod
    def resolve_employee_no(obj: Issuance) -> str:
        return obj.employee.employee_no

    @staticmethod
    def resolve_department(obj: Issuance) -> str:
        return obj.department_name

    @staticmethod
    def resolve_issued_by(obj: Issuance) -> str:
        return obj.issued_by.get_username()

    @staticmethod
    def resolve_location(obj: Issuance) -> str:
        return obj.location.code

    @staticmethod
    def resolve_lines(obj: Issuance) -> list:
        return list(obj.lines.all())


def _requisitions(user):
    return (access.visible(user, Requisition).select_related("employee", "damage_report")
            .prefetch_related(Prefetch("lines", queryset=RequisitionLine.objects.select_related(
                "sku__style", "sku__size").order_by("id"))))


def _issuances(user):
    return (access.visible(user, Issuance).select_related("employee", "requisition", "issued_by", "location")
            .prefetch_related("lines__sku"))


@router.get("/uniforms/requisitions", response={200: list[RequisitionOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="Uniform requisitions you can see (yours, or those of the people in your scope)")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def requisition_list(request: HttpRequest, status: RequisitionStatus | None = None,
                     reason: RequisitionReason | None = None, employee_no: str | None = None):
    """Newest first. ``limit`` is capped at 500."""
    qs = _requisitions(caller(request))
    if status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(reason=reason)
    if employee_no:
        qs = qs.filter(employee__employee_no=employee_no)
    return qs.order_by("-id")


@router.get("/uniforms/requisitions/{number}", response={200: RequisitionOut} | ERRORS, summary="One requisition")
def requisition_detail(request: HttpRequest, number: str):
    return access.get_for_view(caller(request), _requisitions(caller(request)), number=number)


@router.post("/uniforms/requisitions", response={200: RequisitionOut, 201: RequisitionOut} | ERRORS,
             summary="Fill in and submit a 制服領用申請表 (U2.2)")
def requisition_create(request: HttpRequest, payload: RequisitionIn):
    """Checked against her entitlement like the form; it goes to her department head.

    Send an ``Idempotency-Key`` header to retry safely: the same key from the same caller gives
    back the requisition it created (200) instead of a second one (201 the first time).
    """
    user = caller(request)
    raw_key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(raw_key) > 80:
        raise ValidationError({"Idempotency-Key": _("The idempotency key is at most 80 characters.")})
    key = f"api:{raw_key}" if raw_key else None
    scoped = services.scoped_key(user, key)
    if scoped is not None:
        existing = Requisition.objects.filter(idempotency_key=scoped).first()
        if existing is not None:
            _require_same_request(existing, payload)
            return Status(200, _requisitions(user).get(pk=existing.pk))
    if payload.employee_no:
        employee = access.visible(user, Employee).filter(employee_no=payload.employee_no).select_related(
            "org_unit").first()
        if employee is None:
            raise ValidationError({"employee_no": _("There is no employee with the number “%(number)s”.")
                                   % {"number": payload.employee_no}})
    else:
        employee = employee_of(user)
        if employee is None:
            raise ValidationError({"employee_no": _("You have no employee record; name the employee.")})
    codes = [line.sku for line in payload.lines]
    skus = {s.code: s for s in Sku.objects.filter(code__in=codes)}
    errors = {f"lines.{i}.sku": [_("There is no SKU with the code “%(code)s”.") % {"code": code}]
              for i, code in enumerate(codes) if code not in skus}
    if errors:
        raise ValidationError(errors)
    report = None
    if payload.damage_report:
        report = (DamageReport.objects.filter(employee=employee, number=payload.damage_report)
                  .select_related("holding__sku__style").first())
        if report is None:
            raise ValidationError({"damage_report": _("She has no damage/loss report numbered “%(number)s”.")
                                   % {"number": payload.damage_report}})
    requisition = services.requisition_create(
        actor=user, employee=employee, reason=payload.reason,
        lines=[(skus[line.sku], line.quantity) for line in payload.lines], extra_reason=payload.extra_reason,
        damage_report=report, idempotency_key=key)
    if key is not None:  # a retry that raced the first call got the first call's requisition back
        _require_same_request(requisition, payload)
    return Status(201, _requisitions(user).get(pk=requisition.pk))


def _require_same_request(requisition: Requisition, payload: RequisitionIn) -> None:
    """A key names one request: sent again with another body it is a client error (422), not a replay."""
    def per_sku(lines: list[tuple[str, int]]) -> dict[str, int]:  # the service merges a SKU's lines
        out: dict[str, int] = {}
        for code, quantity in lines:
            out[code] = out.get(code, 0) + quantity
        return out

    sent = (payload.employee_no or requisition.employee.employee_no, payload.reason, payload.extra_reason.strip(),
            payload.damage_report or None, per_sku([(line.sku, line.quantity) for line in payload.lines]))
    kept = (requisition.employee.employee_no, requisition.reason, requisition.extra_reason,
            requisition.damage_report.number if requisition.damage_report is not None else None,
            per_sku([(line.sku.code, line.quantity) for line in requisition.lines.select_related("sku")]))
    if sent != kept:
        raise ValidationError({"Idempotency-Key": _(
            "This idempotency key was already used for a different request.")})


@router.get("/uniforms/issuances", response={200: list[IssuanceOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="Issuance records (發放記錄) you can see")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def issuance_list(request: HttpRequest, employee_no: str | None = None, requisition: str | None = None,
                  issued_from: datetime.date | None = None, issued_to: datetime.date | None = None):
    """Newest first. Filters: ``employee_no``, ``requisition`` (its number), ``issued_from`` /
    ``issued_to`` (dates, company time). ``limit`` is capped at 500."""
    qs = _issuances(caller(request))
    if employee_no:
        qs = qs.filter(employee__employee_no=employee_no)
    if requisition:
        qs = qs.filter(requisition__number=requisition)
    if issued_from:
        qs = qs.filter(Q(issued_at__date__gte=issued_from))
    if issued_to:
        qs = qs.filter(Q(issued_at__date__lte=issued_to))
    return qs.order_by("-issued_at", "-id")


@router.get("/uniforms/issuances/{number}", response={200: IssuanceOut} | ERRORS, summary="One issuance record")
def issuance_detail(request: HttpRequest, number: str):
    return access.get_for_view(caller(request), _issuances(caller(request)), number=number)
