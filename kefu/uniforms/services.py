"""Uniform writes (POLICY.md U1-U4). Every function is keyword-only, takes the ``actor``,
runs in a transaction, validates with full_clean() and writes an audit entry; notifications
go through ``core.services.notify`` (mail on commit).

Top half: catalogue, stock (primitives in ``stock.py``, re-exported here), stock counts,
entitlements, holdings and renewal, size profiles, leaving. Bottom half: requisitions and
issuance, damage and loss, compensation, scrapping and disposal, dress checks.

Lock order: a service that moves stock calls the ``stock_*`` functions before its first
``audit.record()`` (see stock.py).
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import attachments as core_attachments
from kefu.core import audit, policy
from kefu.core import uploads as file_kinds
from kefu.core.models import Attachment
from kefu.core.services import notify
from kefu.people import services as people
from kefu.people.access import has_role
from kefu.people.models import Employee, OrgUnit, Role
from kefu.uniforms.access import COUNT_APPROVERS, UNIFORM_ADMINS
from kefu.uniforms.models import (
    Entitlement,
    Holding,
    IssuanceLine,
    ItemType,
    Location,
    ReturnCheckIn,
    ReturnLine,
    SetComponent,
    SetDefinition,
    Size,
    SizeProfile,
    SizeProfileEntry,
    Sku,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMove,
    Style,
)
from kefu.uniforms.numbering import next_number
from kefu.uniforms.stock import (  # noqa: F401  (re-exported: other apps call services.stock_*)
    admin_staff_users,
    lock_skus,
    money,
    moving_average,
    new_stock_on_hand,
    stock_adjust,
    stock_issue,
    stock_level_mismatches,
    stock_receive,
    stock_return,
    stock_scrap,
)

# ===========================================================================================
# Catalogue (U1.1)
# ===========================================================================================

STYLE_FIELDS = ["code", "name", "item_type", "gender", "colour", "material", "season", "photo",
                "photo_content_type", "design_notes", "reusable", "active"]
SKU_FIELDS = ["code", "style_id", "size_id", "unit_cost", "reorder_point", "active"]
PHOTO_MAX_BYTES = 5 * 1024 * 1024
# Magic bytes, not the browser's claim: what the file really is decides its type.
PHOTO_KINDS = ("jpeg", "png", "webp")


def _require(actor, roles: Iterable[str]) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied


def photo_type(upload: UploadedFile) -> str:
    """The photo's real type (JPEG, PNG or WebP), or a ValidationError on ``photo``."""
    if upload.size is not None and upload.size > PHOTO_MAX_BYTES:
        raise ValidationError({"photo": _("The photo is larger than 5 MB.")})
    kind = file_kinds.sniff(upload, PHOTO_KINDS)
    if kind is not None:
        return kind.mime
    raise ValidationError({"photo": _("The photo must be a JPEG, PNG or WebP image.")})


def _apply(obj, data: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key, value in data.items():
        if key not in allowed:
            raise TypeError(f"unexpected field {key!r}")
        setattr(obj, key, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def style_save(*, actor, style: Style | None = None, photo: UploadedFile | None = None, remove_photo: bool = False,
               reason: str = "", **data: Any) -> Style:
    """Create (``style`` None) or change a style; ``photo`` replaces its picture."""
    _require(actor, UNIFORM_ADMINS)
    editable = ["code", "name", "item_type", "gender", "colour", "material", "season", "design_notes", "reusable",
                "active"]
    if style is None:
        obj, before = Style(), None
    else:
        obj = Style.objects.select_for_update().get(pk=style.pk)
        before = audit.snapshot(obj, STYLE_FIELDS)
    _apply(obj, data, editable)
    if remove_photo and obj.photo:
        obj.photo = ""
        obj.photo_content_type = ""
    if photo is not None:
        obj.photo_content_type = photo_type(photo)
        obj.photo.save(photo.name or "photo", photo, save=False)
    obj.full_clean()
    obj.save()
    audit.record(actor=actor, action="style.create" if before is None else "style.update", obj=obj,
                 changes=audit.diff(before, audit.snapshot(obj, STYLE_FIELDS)), reason=reason)
    return obj


@transaction.atomic
def size_save(*, actor, size: Size | None = None, reason: str = "", **data: Any) -> Size:
    _require(actor, UNIFORM_ADMINS)
    fields = ["code", "label", "order"]
    obj = Size() if size is None else Size.objects.select_for_update().get(pk=size.pk)
    before = None if size is None else audit.snapshot(obj, fields)
    _apply(obj, data, fields)
    obj.full_clean()
    obj.save()
    audit.record(actor=actor, action="size.create" if before is None else "size.update", obj=obj,
                 changes=audit.diff(before, audit.snapshot(obj, fields)), reason=reason)
    return obj


def default_sku_code(style: Style, size: Size) -> str:
    return f"{style.code}-{size.code}"[:48]


@transaction.atomic
def skus_create(*, actor, style: Style, sizes: Iterable[Size], reorder_point: int = 0) -> list[Sku]:
    """One SKU per size that the style does not have yet; the code is STYLE-SIZE."""
    _require(actor, UNIFORM_ADMINS)
    have = set(Sku.objects.filter(style=style).values_list("size_id", flat=True))
    created = []
    for size in sizes:
        if size.pk in have:
            continue
        sku = Sku(style=style, size=size, code=default_sku_code(style, size), reorder_point=reorder_point)
        sku.full_clean()
        sku.save()
        audit.record(actor=actor, action="sku.create", obj=sku, changes=audit.diff(None, audit.snapshot(sku, SKU_FIELDS)))
        created.append(sku)
    return created


@transaction.atomic
def sku_update(*, actor, sku: Sku, reason: str = "", **data: Any) -> Sku:
    """Code, reorder point, active. The unit cost comes only from receipts (moving average)."""
    _require(actor, UNIFORM_ADMINS)
    obj = Sku.objects.select_for_update().get(pk=sku.pk)
    before = audit.snapshot(obj, SKU_FIELDS)
    _apply(obj, data, ["code", "reorder_point", "active"])
    obj.full_clean()
    obj.save()
    audit.record(actor=actor, action="sku.update", obj=obj, changes=audit.diff(before, audit.snapshot(obj, SKU_FIELDS)),
                 reason=reason)
    # A changed reorder point may start or end a low-stock alert.
    from kefu.uniforms.stock import _check_reorder

    _check_reorder(Sku.objects.select_related("style", "size").get(pk=obj.pk))
    return obj


def _clean_components(components: Iterable[Iterable[str]]) -> list[list[str]]:
    lines = []
    for i, alternatives in enumerate(components, start=1):
        types = [t for t in dict.fromkeys(alternatives) if t]
        if not types:
            continue
        bad = [t for t in types if t not in ItemType.values]
        if bad:
            raise ValidationError({"components": _("Line %(n)s: unknown item type %(types)s.") % {
                "n": i, "types": ", ".join(bad)}})
        lines.append(types)
    if not lines:
        raise ValidationError({"components": _("A set needs at least one line.")})
    return lines


@transaction.atomic
def set_definition_save(*, actor, set_definition: SetDefinition | None = None, components: Iterable[Iterable[str]],
                        reason: str = "", **data: Any) -> SetDefinition:
    """A set (U2.1) and its lines; each line lists alternative item types, e.g. ["trousers", "skirt"]."""
    _require(actor, UNIFORM_ADMINS)
    fields = ["name", "gender", "season", "notes", "active"]
    obj = SetDefinition() if set_definition is None else SetDefinition.objects.select_for_update().get(
        pk=set_definition.pk)
    before = None
    if set_definition is not None:
        before = audit.snapshot(obj, fields) | {"components": list(obj.components.values_list("item_types", flat=True))}
    _apply(obj, data, fields)
    lines = _clean_components(components)
    obj.full_clean()
    obj.save()
    obj.components.all().delete()
    SetComponent.objects.bulk_create(
        [SetComponent(set_definition=obj, position=i, item_types=types) for i, types in enumerate(lines)])
    audit.record(actor=actor, action="set.create" if before is None else "set.update", obj=obj,
                 changes=audit.diff(before, audit.snapshot(obj, fields) | {"components": lines}), reason=reason)
    return obj


@transaction.atomic
def location_save(*, actor, location: Location | None = None, reason: str = "", **data: Any) -> Location:
    _require(actor, UNIFORM_ADMINS)
    fields = ["code", "name", "kind", "active"]
    obj = Location() if location is None else Location.objects.select_for_update().get(pk=location.pk)
    before = None if location is None else audit.snapshot(obj, fields)
    _apply(obj, data, fields)
    obj.full_clean()
    obj.save()
    audit.record(actor=actor, action="location.create" if before is None else "location.update", obj=obj,
                 changes=audit.diff(before, audit.snapshot(obj, fields)), reason=reason)
    return obj


def default_location() -> Location | None:
    """Where issues come from unless admin picks another: the first active new-stock location."""
    return Location.objects.filter(active=True, kind=Location.Kind.NEW).order_by("code").first()


def used_location() -> Location | None:
    """Where reusable returned items go: the first active used-stock location."""
    return Location.objects.filter(active=True, kind=Location.Kind.USED).order_by("code").first()


# ===========================================================================================
# Stock counts (盤點): variances become moves only on approval
# ===========================================================================================

COUNT_FIELDS = ["status", "submitted_by_id", "submitted_at", "decided_by_id", "decided_at", "decision_comment"]


def _count_locked(count: StockCount, *expected: str) -> StockCount:
    locked = StockCount.objects.select_for_update().select_related("location").get(pk=count.pk)
    if locked.status not in expected:
        raise ValidationError(_("Stock count %(number)s is %(status)s; this step is not possible now.") % {
            "number": locked.number, "status": locked.get_status_display()})
    return locked


@transaction.atomic
def stock_count_create(*, actor, location: Location, counted_on: datetime.date | None = None,
                       note: str = "") -> StockCount:
    """A count sheet for one location: every active SKU, expected = on-hand now."""
    _require(actor, UNIFORM_ADMINS)
    counted_on = counted_on or timezone.localdate()
    count = StockCount(number=next_number("SC", on=counted_on), location=location, counted_on=counted_on,
                       note=(note or "").strip(), created_by=actor)
    count.full_clean()
    count.save()
    on_hand = dict(StockLevel.objects.filter(location=location).values_list("sku_id", "on_hand"))
    sku_ids = set(Sku.objects.filter(active=True).values_list("pk", flat=True)) | {k for k, v in on_hand.items() if v}
    StockCountLine.objects.bulk_create(
        [StockCountLine(count=count, sku_id=sku_id, expected=on_hand.get(sku_id, 0)) for sku_id in sorted(sku_ids)])
    audit.record(actor=actor, action="stock_count.create", obj=count,
                 changes={"location": [None, location.code], "lines": [None, len(sku_ids)]}, reason=note)
    return count


@transaction.atomic
def stock_count_enter(*, actor, count: StockCount, counted: dict[int, int | None]) -> StockCount:
    """Counted quantities by line id (None clears one). Only while the count is a draft."""
    _require(actor, UNIFORM_ADMINS)
    count = _count_locked(count, StockCount.Status.DRAFT)
    lines = {line.pk: line for line in count.lines.select_for_update().select_related("sku")}
    errors: dict[str, list[str]] = {}
    changed = {}
    for line_id, value in counted.items():
        line = lines.get(int(line_id))
        if line is None:
            raise ValidationError(_("Line %(id)s is not part of this count.") % {"id": line_id})
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            errors.setdefault(f"line_{line.pk}", []).append(
                _("%(sku)s: enter a whole number of zero or more.") % {"sku": line.sku.code})
            continue
        if line.counted != value:
            changed[line.sku.code] = [line.counted, value]
            line.counted = value
    if errors:
        raise ValidationError(errors)
    StockCountLine.objects.bulk_update([lines[int(i)] for i in counted], ["counted"])
    if changed:
        audit.record(actor=actor, action="stock_count.enter", obj=count, changes=changed)
    return count


@transaction.atomic
def stock_count_submit(*, actor, count: StockCount) -> StockCount:
    _require(actor, UNIFORM_ADMINS)
    count = _count_locked(count, StockCount.Status.DRAFT)
    missing = list(count.lines.filter(counted__isnull=True).values_list("sku__code", flat=True)[:20])
    if missing:
        raise ValidationError(_("Enter a counted quantity for every line first; missing: %(skus)s.") % {
            "skus": ", ".join(missing)})
    before = audit.snapshot(count, COUNT_FIELDS)
    count.status = StockCount.Status.SUBMITTED
    count.submitted_by = actor
    count.submitted_at = timezone.now()
    count.save()
    audit.record(actor=actor, action="stock_count.submit", obj=count,
                 changes=audit.diff(before, audit.snapshot(count, COUNT_FIELDS)))
    return count


def _check_count_approver(actor, count: StockCount) -> None:
    _require(actor, COUNT_APPROVERS)
    # Four eyes: the clerk who submitted the sheet does not approve its write-offs herself.
    if count.submitted_by_id == actor.pk and not has_role(actor, Role.LEADERSHIP):
        raise ValidationError(_("Someone other than the person who submitted the count must decide on it."))


@transaction.atomic
def stock_count_approve(*, actor, count: StockCount, comment: str = "") -> StockCount:
    """Submitted → approved: each line's variance (counted − expected) becomes a count move.

    The variance is applied to the on-hand of now, so moves made between the count and its
    approval are kept. A variance that would take on-hand below zero refuses the approval.
    """
    count = _count_locked(count, StockCount.Status.SUBMITTED)
    _check_count_approver(actor, count)
    lines = list(count.lines.select_related("sku").order_by("sku__code"))
    lock_skus(line.sku_id for line in lines if line.variance)
    for line in lines:
        variance = line.variance
        if variance:
            stock_adjust(actor=actor, sku=line.sku, location=count.location, quantity=variance,
                         kind=StockMove.Kind.COUNT, reference=count,
                         reason=_("Stock count %(number)s") % {"number": count.number})
    before = audit.snapshot(count, COUNT_FIELDS)
    count.status = StockCount.Status.APPROVED
    count.decided_by = actor
    count.decided_at = timezone.now()
    count.decision_comment = (comment or "").strip()
    count.save()
    audit.record(actor=actor, action="stock_count.approve", obj=count,
                 changes=audit.diff(before, audit.snapshot(count, COUNT_FIELDS)), reason=count.decision_comment)
    return count


@transaction.atomic
def stock_count_reject(*, actor, count: StockCount, comment: str) -> StockCount:
    """Submitted → rejected (final; recount on a new sheet). Nothing moves."""
    count = _count_locked(count, StockCount.Status.SUBMITTED)
    _check_count_approver(actor, count)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the count is rejected.")})
    before = audit.snapshot(count, COUNT_FIELDS)
    count.status = StockCount.Status.REJECTED
    count.decided_by = actor
    count.decided_at = timezone.now()
    count.decision_comment = comment.strip()
    count.save()
    audit.record(actor=actor, action="stock_count.reject", obj=count,
                 changes=audit.diff(before, audit.snapshot(count, COUNT_FIELDS)), reason=count.decision_comment)
    return count


# ===========================================================================================
# Entitlement (U2.1), renewal (U4.1), holdings
# ===========================================================================================


def is_customer_service(employee: Employee) -> bool:
    """CS staff: her unit, or one above it, is a customer-service unit (G2)."""
    ids = [int(p) for p in employee.org_unit.path.strip("/").split("/") if p]
    return OrgUnit.objects.filter(pk__in=ids, is_customer_service=True).exists()


def add_months(day: datetime.date, months: int) -> datetime.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return day.replace(year=year, month=month, day=min(day.day, pycalendar.monthrange(year, month)[1]))


def renewal_due_on(issued_on: datetime.date) -> datetime.date:
    """Issue date + the renewal cycle in force on the issue date (U4.1).

    The cycle may be fractional years: it is applied as whole months, years × 12 rounded half up
    (1.5 years = 18 months; 31 March + 1 year and 11 months clamps to 28/29 February).
    """
    years = Decimal(str(policy.get("uniforms.renewal_years", on=issued_on)))
    months = int((years * 12).quantize(Decimal(1), ROUND_HALF_UP))
    return add_months(issued_on, months)


@transaction.atomic
def entitlement_grant(*, actor, employee: Employee, reason: str, granted_on: datetime.date, sets: int,
                      note: str = "") -> Entitlement:
    """Sets owed to an employee; the same employee, reason and date give back the same row."""
    existing = Entitlement.objects.filter(employee=employee, reason=reason, granted_on=granted_on).first()
    if existing is not None:
        return existing
    ent = Entitlement(employee=employee, reason=reason, granted_on=granted_on, sets_owed=sets, note=note)
    ent.full_clean()
    try:
        with transaction.atomic():
            ent.save()
    except IntegrityError:
        return Entitlement.objects.get(employee=employee, reason=reason, granted_on=granted_on)
    audit.record(actor=actor, action="entitlement.grant", obj=ent,
                 changes={"reason": [None, reason], "sets_owed": [None, sets], "granted_on": [None, str(granted_on)]},
                 reason=note)
    return ent


def onboarding_entitlement_step(*, employee: Employee, actor, on: datetime.date) -> None:
    """Onboarding step (U2.1): a CS new hire is owed [sets per new hire] sets, as in force on her start."""
    if not is_customer_service(employee):
        return
    sets = int(policy.get("uniforms.sets_per_new_hire", on=on))
    if sets <= 0:
        return
    entitlement_grant(actor=actor, employee=employee, reason=Entitlement.Reason.NEW_HIRE, granted_on=on, sets=sets,
                      note=_("Onboarding (U2.1)"))


HOLDING_FIELDS = ["employee_id", "sku_id", "issued_on", "renewal_due_on", "unit_cost", "issuance_line_id", "status",
                  "ended_on", "end_note"]


def _holdings_create(*, actor, employee: Employee, sku: Sku, quantity: int, issued_on: datetime.date,
                     unit_cost: Decimal, issuance_line: IssuanceLine | None, note: str = "") -> list[Holding]:
    due = renewal_due_on(issued_on)
    rows = []
    for _i in range(quantity):
        holding = Holding(employee=employee, sku=sku, issued_on=issued_on, renewal_due_on=due, unit_cost=unit_cost,
                          issuance_line=issuance_line)
        holding.full_clean(exclude=["employee", "sku", "issuance_line"])
        rows.append(holding)
    Holding.objects.bulk_create(rows)
    for holding in rows:
        audit.record(actor=actor, action="holding.create", obj=holding,
                     changes=audit.diff(None, audit.snapshot(holding, HOLDING_FIELDS)), reason=note,
                     object_repr=f"{employee.name} {sku.code}")
    return rows


@transaction.atomic
def holding_create_from_issue(*, actor, issuance_line: IssuanceLine, issued_on: datetime.date) -> list[Holding]:
    """One holding per piece of an issuance line, due for renewal per U4.1 (6b's issuance calls this)."""
    if issuance_line.holdings.exists():
        raise ValidationError(_("Holdings for this issuance line already exist."))
    return _holdings_create(actor=actor, employee=issuance_line.issuance.employee, sku=issuance_line.sku,
                            quantity=issuance_line.quantity, issued_on=issued_on, unit_cost=issuance_line.unit_cost,
                            issuance_line=issuance_line)


@transaction.atomic
def holding_register(*, actor, employee: Employee, sku: Sku, quantity: int, issued_on: datetime.date,
                     note: str = "") -> list[Holding]:
    """Items a person already had before Kefu (opening balance); valued at today's average cost."""
    _require(actor, UNIFORM_ADMINS)
    if quantity < 1:
        raise ValidationError({"quantity": _("Enter a quantity of at least 1.")})
    return _holdings_create(actor=actor, employee=employee, sku=sku, quantity=quantity, issued_on=issued_on,
                            unit_cost=sku.unit_cost, issuance_line=None, note=note or _("Opening balance"))


# ===========================================================================================
# Size profiles
# ===========================================================================================


@transaction.atomic
def size_profile_set(*, actor, employee: Employee, sizes: dict[str, Size | None], height_cm: int | None = None,
                     notes: str = "") -> SizeProfile:
    """Her size for each item type (None clears one). She keeps her own; admin staff anyone's."""
    profile, _created = SizeProfile.objects.get_or_create(employee=employee)
    profile = SizeProfile.objects.select_for_update().get(pk=profile.pk)
    before = {e.item_type: e.size.code for e in profile.entries.select_related("size")}
    before_fields = audit.snapshot(profile, ["height_cm", "notes"])
    for item_type in sizes:
        if item_type not in ItemType.values:
            raise ValidationError({"sizes": _("Unknown item type: %(types)s") % {"types": item_type}})
    profile.height_cm = height_cm
    profile.notes = (notes or "").strip()
    profile.full_clean()
    profile.save()
    for item_type, size in sizes.items():
        if size is None:
            profile.entries.filter(item_type=item_type).delete()
        else:
            SizeProfileEntry.objects.update_or_create(profile=profile, item_type=item_type, defaults={"size": size})
    after = {e.item_type: e.size.code for e in profile.entries.select_related("size")}
    changes = audit.diff(before, after) | audit.diff(before_fields, audit.snapshot(profile, ["height_cm", "notes"]))
    if changes:
        audit.record(actor=actor, action="size_profile.set", obj=profile, changes=changes,
                     object_repr=employee.name)
    return profile


# ===========================================================================================
# Leaving (item 8): what she holds is listed; returns are checked in
# ===========================================================================================


def offboarding_holdings_step(*, employee: Employee, actor, on: datetime.date) -> None:
    """Offboarding step: tell admin staff what she still holds (the to-do stays until checked in)."""
    held = list(Holding.objects.filter(employee=employee, status=Holding.Status.HELD)
                .select_related("sku__style", "sku__size").order_by("sku__code"))
    if not held:
        return
    lines = ["- " + _("%(style)s, size %(size)s (%(sku)s), issued %(date)s") % {
        "style": h.sku.style.name, "size": h.sku.size.code, "sku": h.sku.code, "date": h.issued_on.isoformat()}
        for h in held]
    notify(
        recipients=list(admin_staff_users()),
        title=_("%(name)s leaves on %(date)s: %(n)s uniform items to check in") % {
            "name": employee.name, "date": on.isoformat(), "n": len(held)},
        body="\n".join(lines),
        url=reverse("uniforms:return_check_in", args=[employee.employee_no]),
    )


RETURN_OUTCOME_STATUS = {
    ReturnLine.Outcome.RESTOCK: Holding.Status.RETURNED,
    ReturnLine.Outcome.SCRAP: Holding.Status.SCRAPPED,
    ReturnLine.Outcome.NOT_RETURNED: Holding.Status.LOST,
}


@transaction.atomic
def return_check_in(*, actor, employee: Employee, lines: Iterable[dict[str, Any]], on: datetime.date | None = None,
                    note: str = "") -> ReturnCheckIn:
    """Check in what a (leaving) employee hands back.

    ``lines``: ``{"holding": Holding, "outcome": ReturnLine.Outcome, "location": Location | None, "note": str}``.
    Reusable items go back to stock as used (a return move into a used-stock location), the rest
    are scrapped (they await a disposal batch), and items not returned are marked lost and go to
    the compensation rule (U3.2) when that rule is in place.
    """
    _require(actor, UNIFORM_ADMINS)
    on = on or timezone.localdate()
    lines = list(lines)
    if not lines:
        raise ValidationError(_("Choose what happens to at least one item."))
    ids = [line["holding"].pk for line in lines]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("An item is listed twice."))
    held = {h.pk: h for h in Holding.objects.select_for_update().filter(pk__in=ids).select_related("sku")}
    errors = []
    fallback_used = used_location()
    plan = []
    for line in lines:
        holding = held.get(line["holding"].pk)
        outcome = line.get("outcome")
        if holding is None or holding.employee_id != employee.pk:
            errors.append(_("Item %(id)s is not one of %(name)s's.") % {"id": line["holding"].pk, "name": employee.name})
            continue
        if holding.status != Holding.Status.HELD:
            errors.append(_("%(sku)s (item %(id)s) is already %(status)s.") % {
                "sku": holding.sku.code, "id": holding.pk, "status": holding.get_status_display()})
            continue
        if outcome not in ReturnLine.Outcome.values:
            errors.append(_("%(sku)s (item %(id)s): choose what happens to it.") % {
                "sku": holding.sku.code, "id": holding.pk})
            continue
        location = line.get("location") or (fallback_used if outcome == ReturnLine.Outcome.RESTOCK else None)
        if outcome == ReturnLine.Outcome.RESTOCK and location is None:
            errors.append(_("%(sku)s (item %(id)s): there is no used-stock location to put it in; create one first.")
                          % {"sku": holding.sku.code, "id": holding.pk})
            continue
        if outcome != ReturnLine.Outcome.RESTOCK:
            location = None
        plan.append((holding, outcome, location, (line.get("note") or "").strip()[:200]))
    if errors:
        raise ValidationError(errors)
    check_in = ReturnCheckIn(employee=employee, checked_in_by=actor, checked_in_on=on, note=(note or "").strip())
    check_in.full_clean(exclude=["employee", "checked_in_by"])
    check_in.save()
    # Stock first (lock order: every SKU up front), then the records and their audit entries.
    lock_skus(h.sku_id for h, outcome, _loc, _n in plan if outcome == ReturnLine.Outcome.RESTOCK)
    for holding, outcome, location, _note in plan:
        if outcome == ReturnLine.Outcome.RESTOCK:
            assert location is not None
            stock_return(actor=actor, sku=holding.sku, location=location, quantity=1, reference=check_in,
                         reason=_("Returned by %(name)s") % {"name": employee.name})
    compensate = globals().get("compensation_for_unreturned")
    for holding, outcome, location, line_note in plan:
        before = audit.snapshot(holding, HOLDING_FIELDS)
        holding.status = RETURN_OUTCOME_STATUS[outcome]
        holding.ended_on = max(on, holding.issued_on)
        holding.end_note = line_note or str(ReturnLine.Outcome(outcome).label)
        holding.save(update_fields=["status", "ended_on", "end_note"])
        ReturnLine.objects.create(check_in=check_in, holding=holding, outcome=outcome, location=location,
                                  note=line_note)
        audit.record(actor=actor, action="holding.return", obj=holding,
                     changes=audit.diff(before, audit.snapshot(holding, HOLDING_FIELDS)), reason=line_note,
                     object_repr=f"{employee.name} {holding.sku.code}")
    audit.record(actor=actor, action="return_check_in.create", obj=check_in,
                 changes={"lines": [None, [[h.pk, o] for h, o, _loc, _n in plan]]}, reason=check_in.note,
                 object_repr=employee.name)
    if compensate is not None:
        for holding, outcome, _loc, _n in plan:
            if outcome == ReturnLine.Outcome.NOT_RETURNED:
                compensate(actor=actor, holding=holding, on=on)
    return check_in


def register_people_steps() -> None:
    people.onboarding_steps.register("uniforms.entitlement", onboarding_entitlement_step)
    people.offboarding_steps.register("uniforms.holdings", offboarding_holdings_step)


# ===========================================================================================
# Requisitions, issuance, damage/loss, compensation, scrapping, dress checks (6b) — below
# ===========================================================================================

import dataclasses  # noqa: E402
from collections import defaultdict  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count, Q, Sum  # noqa: E402

from kefu.people.access import scope_q  # noqa: E402
from kefu.people.models import RoleAssignment  # noqa: E402
from kefu.uniforms import access as uaccess  # noqa: E402
from kefu.uniforms.models import (  # noqa: E402
    Compensation,
    DamageReport,
    DisposalBatch,
    DisposalLine,
    DressCheck,
    Issuance,
    Requisition,
    RequisitionLine,
    ScrapRequest,
    ScrapRequestLine,
)

# --- people around a form -------------------------------------------------------------------


def _ancestor_ids(unit: OrgUnit) -> list[int]:
    return [int(p) for p in unit.path.strip("/").split("/") if p]


def department_of(employee: Employee) -> OrgUnit | None:
    """Her department: the nearest unit of kind department at or above her unit (one query)."""
    ids = _ancestor_ids(employee.org_unit)
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.DEPARTMENT)}
    for pk in reversed(ids):
        if pk in units:
            return units[pk]
    return None


def department_name(employee: Employee) -> str:
    """What the forms print as her department: "客服一部 / 一部一組" (department / team)."""
    department = department_of(employee)
    if department is None or department.pk == employee.org_unit_id:
        return employee.org_unit.name
    return f"{department.name} / {employee.org_unit.name}"


def department_names(employees: Iterable[Employee]) -> dict[int, str]:
    """department_name() of many employees (org units preloaded) in one query."""
    employees = list(employees)
    ids = {pk for e in employees for pk in _ancestor_ids(e.org_unit)}
    departments = dict(OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.DEPARTMENT).values_list("pk", "name"))
    out = {}
    for e in employees:
        path = _ancestor_ids(e.org_unit)
        dept = next((pk for pk in reversed(path) if pk in departments), None)
        if dept is None or dept == e.org_unit_id:
            out[e.pk] = e.org_unit.name
        else:
            out[e.pk] = f"{departments[dept]} / {e.org_unit.name}"
    return out


def _role_holders_for(employee: Employee, roles: Iterable[str]) -> list[Any]:
    """Active users holding one of ``roles`` on a unit at or above hers."""
    today = timezone.localdate()
    paths = []
    acc = "/"
    for pk in _ancestor_ids(employee.org_unit):
        acc += f"{pk}/"
        paths.append(acc)
    user_ids = (RoleAssignment.objects.filter(role__in=list(roles), org_unit__path__in=paths, start_date__lte=today)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).values("user_id"))
    return list(get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(pk=employee.user_id or 0))


def department_heads_of(employee: Employee) -> list[Any]:
    return _role_holders_for(employee, uaccess.SIGNERS)


def uniform_admins_of(employee: Employee) -> list[Any]:
    return _role_holders_for(employee, UNIFORM_ADMINS)


def _employee_user(employee: Employee) -> list[Any]:
    user = employee.user if employee.user_id else None
    return [user] if user is not None and user.is_active else []


def _require_signer(actor, employee: Employee) -> None:
    if uaccess.is_self(actor, employee):
        raise PermissionDenied(_("Nobody signs her own form."))
    if not uaccess.covers(actor, uaccess.SIGNERS, employee):
        raise PermissionDenied


def _require_admin_for(actor, employee: Employee) -> None:
    if not uaccess.is_admin_for(actor, employee):
        raise PermissionDenied


def _require_self_or_admin(actor, employee: Employee) -> None:
    """She files her own forms; admin staff file them on her behalf (U2.2: "filled in by the staff member")."""
    if not (uaccess.is_self(actor, employee) or uaccess.is_admin_for(actor, employee)):
        raise PermissionDenied


def scoped_key(actor, key: str | None) -> str | None:
    """An idempotency key is the caller's own: two people's keys never collide."""
    key = (key or "").strip()
    return f"{getattr(actor, 'pk', 0)}:{key}"[:100] if key else None


def _when(at: datetime.datetime | None) -> datetime.datetime:
    """When a step happened: now, or earlier for a paper form entered afterwards (never later)."""
    now = timezone.now()
    if at is None:
        return now
    if at > now + datetime.timedelta(minutes=5):
        raise ValidationError({"at": _("The time cannot be in the future.")})
    return at


def _created(obj, fields: list[str]) -> dict[str, list[Any]]:
    """Audit changes of a new record: the fields it was created with, people and items by name
    rather than by id (the history page shows them to people), empty ones left out."""
    changes: dict[str, list[Any]] = {}
    for name, value in audit.snapshot(obj, fields).items():
        if value in (None, ""):
            continue
        if name.endswith("_id"):
            related = getattr(obj, name[:-3], None)
            if isinstance(related, get_user_model()):
                employee = getattr(related, "employee", None)  # None when the login has no employee
                changes[name[:-3]] = [None, employee.name if employee is not None else related.get_username()]
            elif isinstance(related, Holding):
                changes[name[:-3]] = [None, f"{related.sku.code} ({related.issued_on.isoformat()})"]
            else:
                changes[name[:-3]] = [None, str(related)]
        else:
            changes[name] = [None, value]
    return changes


def _locked(model, obj, *expected: str, label: Any = ""):
    """The row locked for update, or a clear error when it is not in one of the ``expected`` states."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected and locked.status not in expected:
        raise ValidationError(_("%(record)s is %(status)s; this step is not possible now.") % {
            "record": f"{label or model._meta.verbose_name} {getattr(locked, 'number', locked.pk)}",
            "status": locked.get_status_display()})
    return locked


# ===========================================================================================
# Requisition and issuance (U2.2): 《制服領用申請表》, 發放記錄
#
#   draft ──submit──▶ submitted ──approve──▶ approved ──issue──▶ issued ──confirm receipt──▶ received
#     │                  │ └──reject──▶ rejected      └─issue (stock short)─▶ partially issued ─issue─▶ issued
#     └──close──▶ closed ◀┘ (withdrawn)                                      └──close (cancel back-order)──▶ closed
# ===========================================================================================

# A renewal may be requested for items due within this many days (and for overdue ones), U4.1.
RENEWAL_REQUEST_WINDOW_DAYS = 60
MAX_REQUISITION_LINES = 30
MAX_LINE_QUANTITY = 20
REQUISITION_FIELDS = ["number", "employee_id", "filled_by_id", "reason", "extra_reason", "entitlement_id",
                      "damage_report_id", "status", "submitted_at", "approver_id", "approved_at", "decision_comment"]
# Requisitions whose lines still claim part of an entitlement (drafts and rejected ones do not).
OPEN_STATUSES = (Requisition.Status.SUBMITTED, Requisition.Status.APPROVED, Requisition.Status.PARTIALLY_ISSUED)
CLAIMING_STATUSES = (*OPEN_STATUSES, Requisition.Status.ISSUED, Requisition.Status.RECEIVED)
# The default set (U2.1) when admin staff have defined none: top, trousers or skirt, tie or silk scarf.
DEFAULT_SET = [frozenset({ItemType.TOP}), frozenset({ItemType.TROUSERS, ItemType.SKIRT}),
               frozenset({ItemType.TIE, ItemType.SILK_SCARF})]


@dataclasses.dataclass(frozen=True)
class Slot:
    """One line of a set: any of ``item_types``, ``quantity`` per set."""

    item_types: frozenset[str]
    quantity: int = 1

    def label(self) -> str:
        return " / ".join(str(ItemType(t).label) for t in sorted(self.item_types))


def set_slots(employee: Employee) -> list[Slot]:
    """The lines of "a set" for her (U2.1): the active set definitions for her cut, merged by line."""
    components = (SetComponent.objects.filter(set_definition__active=True,
                                              set_definition__gender__in=[employee.gender, "U"])
                  .values_list("item_types", "quantity"))
    slots: dict[frozenset[str], int] = {}
    for types, quantity in components:
        key = frozenset(types)
        slots[key] = max(slots.get(key, 0), quantity)
    if not slots:
        return [Slot(t) for t in DEFAULT_SET]
    return [Slot(types, quantity) for types, quantity in slots.items()]


def _claimed_by_type(qs, *, outstanding: bool = False) -> dict[str, int]:
    """Items of each type claimed by requisition lines ``qs``: what they ask for (only what was
    issued, for closed ones), or with ``outstanding`` only what is not issued yet."""
    out: dict[str, int] = defaultdict(int)
    rows = (qs.values("sku__style__item_type", "requisition__status")
            .annotate(quantity=Sum("quantity"), issued=Sum("issued_quantity")))
    for row in rows:
        quantity, issued = row["quantity"] or 0, row["issued"] or 0
        if outstanding:
            n = quantity - issued
        elif row["requisition__status"] == Requisition.Status.CLOSED:
            n = issued
        else:
            n = quantity
        out[row["sku__style__item_type"]] += n
    return out


def new_hire_entitlement(employee: Employee) -> Entitlement | None:
    return (Entitlement.objects.filter(employee=employee, reason=Entitlement.Reason.NEW_HIRE)
            .order_by("-granted_on", "-id").first())


@dataclasses.dataclass
class Allowance:
    """What a requisition of one reason may ask for: per slot (new hire) or per item type (renewal,
    replacement); ``None`` limits means no limit by entitlement (extra: a written reason instead)."""

    reason: str
    limits: list[tuple[frozenset[str], int, str]] | None  # (item types, most items, label)
    entitlement: Entitlement | None = None
    problem: str = ""  # why nothing may be asked for, if so


def requisition_allowance(*, employee: Employee, reason: str, damage_report: DamageReport | None = None,
                          exclude: Requisition | None = None, on: datetime.date | None = None) -> Allowance:
    """Her entitlement for a requisition of ``reason`` (U2.1, U4.1, U3.2), minus open claims."""
    on = on or timezone.localdate()
    lines = RequisitionLine.objects.filter(requisition__employee=employee)
    if exclude is not None:
        lines = lines.exclude(requisition=exclude)
    R = Requisition.Reason
    if reason == R.NEW_HIRE:
        entitlement = new_hire_entitlement(employee)
        if entitlement is None:
            return Allowance(reason, [], None, _("She has no new-hire entitlement: she is onboarded as a "
                                                 "customer-service new hire first (U2.1)."))
        claimed = _claimed_by_type(lines.filter(
            requisition__entitlement=entitlement,
            requisition__status__in=[*CLAIMING_STATUSES, Requisition.Status.CLOSED]))
        limits = []
        for slot in set_slots(employee):
            used = sum(claimed.get(t, 0) for t in slot.item_types)
            limits.append((slot.item_types, max(0, entitlement.sets_owed * slot.quantity - used), slot.label()))
        return Allowance(reason, limits, entitlement)
    if reason == R.RENEWAL:
        due = (Holding.objects.filter(employee=employee, status=Holding.Status.HELD,
                                      renewal_due_on__lte=on + datetime.timedelta(days=RENEWAL_REQUEST_WINDOW_DAYS))
               .values("sku__style__item_type").annotate(n=Count("id")))
        # Issued renewal pieces have ended the items they renewed; open ones claim what is not issued yet.
        claimed = _claimed_by_type(lines.filter(requisition__reason=R.RENEWAL, requisition__status__in=OPEN_STATUSES),
                                   outstanding=True)
        limits = [(frozenset({row["sku__style__item_type"]}), max(0, row["n"] - claimed.get(row["sku__style__item_type"], 0)),
                   str(ItemType(row["sku__style__item_type"]).label)) for row in due]
        problem = "" if limits else _("None of her items is due for renewal within %(days)s days (U4.1).") % {
            "days": RENEWAL_REQUEST_WINDOW_DAYS}
        return Allowance(reason, limits, None, problem)
    if reason == R.REPLACEMENT:
        if damage_report is None:
            return Allowance(reason, [], None, _("A replacement follows a damage/loss report: choose the report."))
        if damage_report.employee_id != employee.pk:
            return Allowance(reason, [], None, _("That damage/loss report is not hers."))
        if damage_report.status == DamageReport.Status.REPORTED:
            return Allowance(reason, [], None, _("Damage/loss report %(number)s is not assessed yet; admin staff "
                                                 "assess it first.") % {"number": damage_report.number})
        taken = Requisition.objects.filter(damage_report=damage_report, status__in=CLAIMING_STATUSES)
        if exclude is not None:
            taken = taken.exclude(pk=exclude.pk)
        if taken.exists():
            return Allowance(reason, [], None, _("Damage/loss report %(number)s already has a replacement "
                                                 "requisition.") % {"number": damage_report.number})
        item_type = damage_report.holding.sku.style.item_type
        return Allowance(reason, [(frozenset({item_type}), 1, str(ItemType(item_type).label))])
    if reason == R.EXTRA:
        return Allowance(reason, None)
    raise ValidationError({"reason": _("Choose a reason: new hire, renewal, replacement or extra.")})


def _clean_lines(lines: Iterable[tuple[Sku, int]]) -> list[tuple[Sku, int]]:
    merged: dict[int, list[Any]] = {}
    for sku, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValidationError({"lines": _("%(sku)s: enter a whole number.") % {"sku": sku.code}})
        if quantity == 0:
            continue
        if quantity < 0 or quantity > MAX_LINE_QUANTITY:
            raise ValidationError({"lines": _("%(sku)s: enter a quantity from 1 to %(max)s.") % {
                "sku": sku.code, "max": MAX_LINE_QUANTITY}})
        if sku.pk in merged:
            merged[sku.pk][1] += quantity
        else:
            merged[sku.pk] = [sku, quantity]
    if not merged:
        raise ValidationError({"lines": _("Ask for at least one item.")})
    if len(merged) > MAX_REQUISITION_LINES:
        raise ValidationError({"lines": _("At most %(n)s different items per requisition.") % {
            "n": MAX_REQUISITION_LINES}})
    return [(sku, quantity) for sku, quantity in merged.values()]


def check_requisition(*, employee: Employee, reason: str, lines: list[tuple[Sku, int]], extra_reason: str = "",
                      damage_report: DamageReport | None = None, exclude: Requisition | None = None,
                      on: datetime.date | None = None) -> Allowance:
    """The entitlement check of U2.1/U2.2/U4.1/U3.2; a ValidationError names what is over."""
    skus = {s.pk: s for s in Sku.objects.filter(pk__in=[s.pk for s, _q in lines]).select_related("style", "size")}
    errors = []
    for sku, _q in lines:
        real = skus.get(sku.pk)
        if real is None or not real.active or not real.style.active:
            errors.append(_("%(sku)s is not an item that can be requested.") % {"sku": sku.code})
    if errors:
        raise ValidationError({"lines": errors})
    if reason == Requisition.Reason.EXTRA and not (extra_reason or "").strip():
        raise ValidationError({"extra_reason": _("Extra items need a written reason.")})
    allowance = requisition_allowance(employee=employee, reason=reason, damage_report=damage_report,
                                      exclude=exclude, on=on)
    if allowance.problem:
        field = "damage_report" if reason == Requisition.Reason.REPLACEMENT else "reason"
        raise ValidationError({field: allowance.problem})
    if allowance.limits is None:
        return allowance
    wanted: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        wanted[skus[sku.pk].style.item_type] += quantity
    covered: set[str] = set()
    for types, most, label in allowance.limits:
        asked = sum(wanted.get(t, 0) for t in types)
        covered |= types
        if asked > most:
            errors.append(_("%(what)s: %(asked)s asked for, at most %(most)s allowed (%(reason)s).") % {
                "what": label, "asked": asked, "most": most,
                "reason": Requisition.Reason(reason).label})
    outside = sorted(t for t in wanted if t not in covered)
    if outside:
        errors.append(_("%(types)s: not part of this entitlement; ask for them as extra items, with a reason.") % {
            "types": ", ".join(str(ItemType(t).label) for t in outside)})
    if errors:
        raise ValidationError({"lines": errors})
    return allowance


def _notify_requisition(requisition: Requisition, recipients: list[Any], title: str, body: str = "") -> None:
    notify(recipients=recipients, title=title, body=body,
           url=reverse("uniforms:requisition_detail", args=[requisition.number]))


@transaction.atomic
def requisition_create(*, actor, employee: Employee, reason: str, lines: Iterable[tuple[Sku, int]],
                       extra_reason: str = "", damage_report: DamageReport | None = None, submit: bool = True,
                       idempotency_key: str | None = None, at: datetime.datetime | None = None) -> Requisition:
    """Fill in a 《制服領用申請表》 for her (herself, or admin staff on her behalf), checked against her
    entitlement, and submit it to her department head unless ``submit`` is false (a draft).

    The same idempotency key from the same caller gives back the same requisition. ``at``: when a
    paper form was filled in, if it is entered afterwards.
    """
    key = scoped_key(actor, idempotency_key)
    if key is not None:
        existing = Requisition.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.employee_id != employee.pk or existing.reason != reason:
                raise ValidationError({"idempotency_key": _(
                    "This idempotency key was already used for a different requisition.")})
            return existing
    _require_self_or_admin(actor, employee)
    when = _when(at)
    if not Employee.objects.filter(pk=employee.pk, status=Employee.Status.ACTIVE).exists():
        raise ValidationError({"employee": _("%(name)s is not an active employee.") % {"name": employee.name}})
    clean = _clean_lines(lines)
    extra_reason = (extra_reason or "").strip()
    if damage_report is not None:  # as it is now, not as the caller last read it
        damage_report = DamageReport.objects.select_related("holding__sku__style").get(pk=damage_report.pk)
    allowance = check_requisition(employee=employee, reason=reason, lines=clean, extra_reason=extra_reason,
                                  damage_report=damage_report, on=timezone.localdate(when))
    requisition = Requisition(
        number=next_number("RQ", on=timezone.localdate(when)), employee=employee, filled_by=actor, reason=reason,
        extra_reason=extra_reason,
        entitlement=allowance.entitlement, damage_report=damage_report if reason == Requisition.Reason.REPLACEMENT
        else None, idempotency_key=key,
    )
    # The key's uniqueness is the database's to judge: a retry racing the first call (another app
    # process) lands in the IntegrityError branch below and gets the first requisition back, where
    # full_clean's look-up would have answered it with a "key already exists" error.
    requisition.full_clean(exclude=["employee", "filled_by", "entitlement", "damage_report", "idempotency_key"])
    try:
        with transaction.atomic():
            requisition.save()
    except IntegrityError:
        if key is not None:
            return Requisition.objects.get(idempotency_key=key)
        raise
    RequisitionLine.objects.bulk_create(
        [RequisitionLine(requisition=requisition, sku=sku, quantity=quantity) for sku, quantity in clean])
    audit.record(actor=actor, action="requisition.create", obj=requisition,
                 changes=_created(requisition, REQUISITION_FIELDS)
                 | {"lines": [None, [[sku.code, q] for sku, q in clean]]})
    if submit:
        requisition = _submit(actor=actor, requisition=requisition, at=when)
    return requisition


def _submit(*, actor, requisition: Requisition, at: datetime.datetime | None = None) -> Requisition:
    before = audit.snapshot(requisition, REQUISITION_FIELDS)
    requisition.status = Requisition.Status.SUBMITTED
    requisition.submitted_at = _when(at)
    requisition.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor=actor, action="requisition.submit", obj=requisition,
                 changes=audit.diff(before, audit.snapshot(requisition, REQUISITION_FIELDS)))
    employee = requisition.employee
    heads = department_heads_of(employee)
    _notify_requisition(requisition, heads, _("Uniform requisition %(number)s to approve: %(name)s") % {
        "number": requisition.number, "name": employee.name},
        _("%(name)s asks for uniforms (%(reason)s). As her department head, approve or reject it.") % {
            "name": employee.name, "reason": requisition.get_reason_display()})
    return requisition


@transaction.atomic
def requisition_submit(*, actor, requisition: Requisition) -> Requisition:
    """Draft → submitted: to her department head (the entitlement is checked again)."""
    requisition = _locked(Requisition, requisition, Requisition.Status.DRAFT)
    if not (uaccess.is_self(actor, requisition.employee) or requisition.filled_by_id == actor.pk):
        raise PermissionDenied
    lines = [(line.sku, line.quantity) for line in requisition.lines.select_related("sku")]
    check_requisition(employee=requisition.employee, reason=requisition.reason, lines=lines,
                      extra_reason=requisition.extra_reason, damage_report=requisition.damage_report,
                      exclude=requisition)
    return _submit(actor=actor, requisition=requisition)


@transaction.atomic
def requisition_approve(*, actor, requisition: Requisition, comment: str = "",
                        at: datetime.datetime | None = None) -> Requisition:
    """Submitted → approved, by her department head (U2.2). A double click approves once."""
    current = Requisition.objects.select_for_update().get(pk=requisition.pk)
    _require_signer(actor, current.employee)
    if current.status == Requisition.Status.APPROVED and current.approver_id == actor.pk:
        return current
    current = _locked(Requisition, current, Requisition.Status.SUBMITTED)
    before = audit.snapshot(current, REQUISITION_FIELDS)
    current.status = Requisition.Status.APPROVED
    current.approver = actor
    current.approved_at = _when(at)
    current.decision_comment = (comment or "").strip()
    current.full_clean(exclude=["employee", "filled_by", "entitlement", "damage_report", "approver"])
    current.save()
    audit.record(actor=actor, action="requisition.approve", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, REQUISITION_FIELDS)), reason=current.decision_comment)
    employee = current.employee
    people_to_tell = _employee_user(employee) + ([current.filled_by] if current.filled_by_id != employee.user_id else [])
    _notify_requisition(current, people_to_tell, _("Uniform requisition %(number)s approved") % {
        "number": current.number}, _("Admin staff will issue the uniforms; you will be asked to confirm receipt."))
    _notify_requisition(current, uniform_admins_of(employee), _("Uniform requisition %(number)s to issue: %(name)s") % {
        "number": current.number, "name": employee.name})
    return current


@transaction.atomic
def requisition_reject(*, actor, requisition: Requisition, comment: str,
                       at: datetime.datetime | None = None) -> Requisition:
    """Submitted → rejected, by her department head, with a comment saying why."""
    current = Requisition.objects.select_for_update().get(pk=requisition.pk)
    _require_signer(actor, current.employee)
    if current.status == Requisition.Status.REJECTED and current.approver_id == actor.pk:
        return current
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say why the requisition is rejected.")})
    current = _locked(Requisition, current, Requisition.Status.SUBMITTED)
    before = audit.snapshot(current, REQUISITION_FIELDS)
    current.status = Requisition.Status.REJECTED
    current.approver = actor
    current.approved_at = _when(at)
    current.decision_comment = comment
    current.save()
    audit.record(actor=actor, action="requisition.reject", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, REQUISITION_FIELDS)), reason=comment)
    employee = current.employee
    recipients = _employee_user(employee) + ([current.filled_by] if current.filled_by_id != employee.user_id else [])
    _notify_requisition(current, recipients, _("Uniform requisition %(number)s rejected") % {
        "number": current.number}, comment)
    return current


@transaction.atomic
def requisition_close(*, actor, requisition: Requisition, reason: str) -> Requisition:
    """Close it: she (or who filled it in) withdraws a draft or submitted one; admin staff cancel the
    back-order of a partly issued one (what was issued stays issued)."""
    current = Requisition.objects.select_for_update(of=("self",)).select_related("employee__org_unit").get(pk=requisition.pk)
    reason = (reason or "").strip()
    S = Requisition.Status
    if current.status in (S.DRAFT, S.SUBMITTED):
        if not (uaccess.is_self(actor, current.employee) or current.filled_by_id == actor.pk):
            raise PermissionDenied
    elif current.status == S.PARTIALLY_ISSUED:
        _require_admin_for(actor, current.employee)
        if not reason:
            raise ValidationError({"reason": _("Say why the back-order is cancelled.")})
    else:
        raise ValidationError(_("%(record)s is %(status)s; this step is not possible now.") % {
            "record": current.number, "status": current.get_status_display()})
    before = audit.snapshot(current, REQUISITION_FIELDS)
    current.status = S.CLOSED
    current.save(update_fields=["status", "updated_at"])
    RequisitionLine.objects.filter(requisition=current).update(backordered=0)
    audit.record(actor=actor, action="requisition.close", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, REQUISITION_FIELDS)), reason=reason)
    return current


ISSUANCE_FIELDS = ["number", "requisition_id", "employee_id", "employee_name", "department_name", "location_id",
                   "issued_by_id", "issued_at", "receipt_confirmed_at", "receipt_confirmed_by_id", "note"]


@transaction.atomic
def requisition_issue(*, actor, requisition: Requisition, location: Location | None = None, note: str = "",
                      idempotency_key: str | None = None, at: datetime.datetime | None = None) -> Issuance:
    """Admin staff issue an approved requisition from stock (U2.2), as much as is on hand at
    ``location``; the rest is back-ordered and issued by a later call. Each call is one
    issuance record (發放記錄) with her name, department, styles and quantities as of today,
    and one holding per piece (renewal date per U4.1). A double-submitted issue form (same
    key) gives back the first issuance; the requisition row lock and the status check stop
    any other repeat.
    """
    key = scoped_key(actor, idempotency_key)
    current = (Requisition.objects.select_for_update(of=("self",))
               .select_related("employee__org_unit", "employee__user").get(pk=requisition.pk))
    if key is not None:
        existing = Issuance.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    _require_admin_for(actor, current.employee)
    S = Requisition.Status
    current = _locked(Requisition, current, S.APPROVED, S.PARTIALLY_ISSUED)
    employee = current.employee
    location = location or default_location()
    if location is None or not location.active:
        raise ValidationError({"location": _("Choose an active stock location to issue from.")})
    lines = list(current.lines.select_for_update(of=("self",)).select_related("sku__style", "sku__size").order_by("sku_id"))
    open_lines = [line for line in lines if line.issued_quantity < line.quantity]
    # Lock every SKU first, in id order, before the first stock move writes to the audit chain
    # (stock.py: SKU, then level, then the audit head), so two issues never wait on each other.
    list(Sku.objects.select_for_update().filter(pk__in=[line.sku_id for line in open_lines]).order_by("pk"))
    on_hand = dict(StockLevel.objects.filter(location=location, sku__in=[line.sku_id for line in open_lines])
                   .values_list("sku_id", "on_hand"))
    plan = [(line, min(line.quantity - line.issued_quantity, on_hand.get(line.sku_id, 0))) for line in open_lines]
    plan = [(line, n) for line, n in plan if n > 0]
    if not plan:
        raise ValidationError({"location": _(
            "None of the items still owed on %(number)s is in stock at %(location)s; it stays on the list "
            "until stock arrives.") % {"number": current.number, "location": location.name}})
    now = _when(at)
    issuance = Issuance(number=next_number("IS", on=timezone.localdate(now)), requisition=current, employee=employee,
                        employee_name=employee.name, department_name=department_name(employee)[:100],
                        location=location, issued_by=actor, issued_at=now, note=(note or "").strip(),
                        idempotency_key=key)
    issuance.full_clean(exclude=["requisition", "employee", "location", "issued_by"])
    issuance.save()
    moves = {}
    for line, n in plan:
        moves[line.pk] = stock_issue(actor=actor, sku=line.sku, location=location, quantity=n, reference=issuance, at=now,
                                     reason=_("Requisition %(number)s for %(name)s") % {
                                         "number": current.number, "name": employee.name})
    issued_on = timezone.localdate(now)
    issued_lines = []
    for line, n in plan:
        issuance_line = IssuanceLine.objects.create(
            issuance=issuance, requisition_line=line, sku=line.sku, quantity=n, style_name=line.sku.style.name[:100],
            size_code=line.sku.size.code, unit_cost=moves[line.pk].unit_cost)
        line.issued_quantity += n
        line.backordered = line.quantity - line.issued_quantity
        line.save(update_fields=["issued_quantity", "backordered"])
        holding_create_from_issue(actor=actor, issuance_line=issuance_line, issued_on=issued_on)
        issued_lines.append([line.sku.code, n])
    for line in lines:
        if line not in [p[0] for p in plan] and line.issued_quantity < line.quantity:
            line.backordered = line.quantity - line.issued_quantity
            line.save(update_fields=["backordered"])
    before = audit.snapshot(current, REQUISITION_FIELDS)
    complete = all(line.issued_quantity >= line.quantity for line in lines)
    current.status = S.ISSUED if complete else S.PARTIALLY_ISSUED
    current.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="issuance.create", obj=issuance,
                 changes=_created(issuance, ISSUANCE_FIELDS) | {"lines": [None, issued_lines]},
                 reason=issuance.note)
    audit.record(actor=actor, action="requisition.issue", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, REQUISITION_FIELDS))
                 | {"backordered": [None, [[line.sku.code, line.backordered] for line in lines if line.backordered]]})
    if current.entitlement_id:
        _entitlement_recount(actor=actor, entitlement=current.entitlement, employee=employee)
    if current.reason == Requisition.Reason.RENEWAL:
        _end_renewed_holdings(actor=actor, requisition=current, issued=plan, on=issued_on)
    notify(recipients=_employee_user(employee),
           title=_("Uniforms issued to you: please confirm receipt (%(number)s)") % {"number": issuance.number},
           body=_("%(items)s. Confirm that you received them.") % {
               "items": ", ".join(f"{line.sku.style.name} {line.sku.size.code} × {n}" for line, n in plan)},
           url=reverse("uniforms:issuance_detail", args=[issuance.number]))
    return issuance


def _entitlement_recount(*, actor, entitlement: Entitlement, employee: Employee) -> None:
    """Sets issued on an entitlement = complete sets among everything issued against it (U2.1)."""
    ent = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    issued: dict[str, int] = defaultdict(int)
    rows = (RequisitionLine.objects.filter(requisition__entitlement=ent).values("sku__style__item_type")
            .annotate(n=Sum("issued_quantity")))
    for row in rows:
        issued[row["sku__style__item_type"]] += row["n"] or 0
    slots = set_slots(employee)
    complete = min((sum(issued[t] for t in slot.item_types) // slot.quantity for slot in slots), default=0)
    complete = min(complete, ent.sets_owed)
    if complete != ent.sets_issued:
        before = ent.sets_issued
        ent.sets_issued = complete
        ent.save(update_fields=["sets_issued"])
        audit.record(actor=actor, action="entitlement.issue", obj=ent, changes={"sets_issued": [before, complete]})


def _end_renewed_holdings(*, actor, requisition: Requisition, issued, on: datetime.date) -> None:
    """A renewal replaces the items that were due (U4.1): for each piece issued, her oldest due item
    of that type ends, handed in and scrapped (it then waits for a disposal batch, U4.2)."""
    window = on + datetime.timedelta(days=RENEWAL_REQUEST_WINDOW_DAYS)
    for line, n in issued:
        item_type = line.sku.style.item_type
        old = list(Holding.objects.select_for_update(of=("self",))
                   .filter(employee=requisition.employee, status=Holding.Status.HELD,
                           sku__style__item_type=item_type, renewal_due_on__lte=window)
                   .exclude(issuance_line__issuance__requisition=requisition)
                   .order_by("renewal_due_on", "id")[:n])
        for holding in old:
            before = audit.snapshot(holding, HOLDING_FIELDS)
            holding.status = Holding.Status.SCRAPPED
            holding.ended_on = max(on, holding.issued_on)
            holding.end_note = (_("Renewed by %(number)s") % {"number": requisition.number})[:200]
            holding.save(update_fields=["status", "ended_on", "end_note"])
            audit.record(actor=actor, action="holding.renew", obj=holding,
                         changes=audit.diff(before, audit.snapshot(holding, HOLDING_FIELDS)),
                         object_repr=f"{requisition.employee.name} {line.sku.code}")


@transaction.atomic
def issuance_confirm_receipt(*, actor, issuance: Issuance, at: datetime.datetime | None = None) -> Issuance:
    """She confirms she received what was issued (U2.2). Confirming twice changes nothing."""
    current = Issuance.objects.select_for_update(of=("self",)).select_related("employee").get(pk=issuance.pk)
    if not uaccess.is_self(actor, current.employee):
        raise PermissionDenied
    if current.receipt_confirmed_at is not None:
        return current
    before = audit.snapshot(current, ISSUANCE_FIELDS)
    current.receipt_confirmed_at = _when(at)
    current.receipt_confirmed_by = actor
    current.save(update_fields=["receipt_confirmed_at", "receipt_confirmed_by"])
    audit.record(actor=actor, action="issuance.confirm_receipt", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, ISSUANCE_FIELDS)))
    requisition = Requisition.objects.select_for_update().get(pk=current.requisition_id)
    if (requisition.status == Requisition.Status.ISSUED
            and not requisition.issuances.filter(receipt_confirmed_at__isnull=True).exists()):
        before = audit.snapshot(requisition, REQUISITION_FIELDS)
        requisition.status = Requisition.Status.RECEIVED
        requisition.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="requisition.receive", obj=requisition,
                     changes=audit.diff(before, audit.snapshot(requisition, REQUISITION_FIELDS)))
    return current


# ===========================================================================================
# Damage and loss (U3.2), compensation
#
#   reported ──assess (no compensation)──▶ closed
#       └──assess (her fault)──▶ assessed ──she confirms──▶ compensation confirmed ──payroll export──▶ closed
#                                    └──────── admin waives ────────────────────────────────────────▶ closed
# ===========================================================================================

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_KINDS = ("jpeg", "png", "pdf")
MAX_ATTACHMENTS = 10
DAMAGE_FIELDS = ["number", "employee_id", "holding_id", "kind", "description", "occurred_on", "reported_by_id",
                 "reported_at", "status", "cause", "assessed_by_id", "assessed_at", "notes"]
COMPENSATION_FIELDS = ["holding_id", "damage_report_id", "employee_id", "amount", "status",
                       "confirmed_by_employee_at", "payroll_month", "exported_at", "exported_by_id"]
CENTS = Decimal("0.01")


def _attach(*, actor, target: DamageReport, uploads: Iterable[UploadedFile]) -> list[Attachment]:
    """U3.2: JPEG, PNG or PDF, at most 5 MB each and 10 per report (checked by the one core service)."""
    return core_attachments.attachments_add(actor=actor, target=target, uploads=uploads, kinds=ATTACHMENT_KINDS,
                                            max_bytes=ATTACHMENT_MAX_BYTES, max_count=MAX_ATTACHMENTS)


@transaction.atomic
def attachments_add(*, actor, report: DamageReport, uploads: Iterable[UploadedFile]) -> list[Attachment]:
    """Photos or scans on a damage/loss report: she adds them while it is open, admin staff any time."""
    current = DamageReport.objects.select_for_update(of=("self",)).select_related("employee__org_unit").get(pk=report.pk)
    admin = uaccess.is_admin_for(actor, current.employee)
    if not admin and not (uaccess.is_self(actor, current.employee) and current.status == DamageReport.Status.REPORTED):
        raise PermissionDenied
    return _attach(actor=actor, target=current, uploads=uploads)


@transaction.atomic
def damage_report_create(*, actor, holding: Holding, kind: str, description: str,
                         occurred_on: datetime.date | None = None, attachments: Iterable[UploadedFile] = (),
                         idempotency_key: str | None = None, at: datetime.datetime | None = None) -> DamageReport:
    """She reports an item of hers damaged or lost (U3.2: "reported to admin"); admin staff may
    report it for her."""
    key = scoped_key(actor, idempotency_key)
    if key is not None:
        existing = DamageReport.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    current = Holding.objects.select_for_update(of=("self",)).select_related("employee__org_unit", "sku__style").get(pk=holding.pk)
    employee = current.employee
    _require_self_or_admin(actor, employee)
    if current.status != Holding.Status.HELD:
        raise ValidationError({"holding": _("This item is %(status)s, not held.") % {
            "status": current.get_status_display()}})
    if DamageReport.objects.filter(holding=current, status=DamageReport.Status.REPORTED).exists():
        raise ValidationError({"holding": _("This item already has an open damage/loss report.")})
    when = _when(at)
    today = timezone.localdate(when)
    if occurred_on is not None and occurred_on > today:
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})
    if occurred_on is not None and occurred_on < current.issued_on:
        raise ValidationError({"occurred_on": _("The date is before the item was issued (%(date)s).") % {
            "date": current.issued_on.isoformat()}})
    report = DamageReport(number=next_number("DR", on=today), employee=employee, holding=current, kind=kind,
                          description=(description or "").strip(), occurred_on=occurred_on, reported_by=actor,
                          reported_at=when, idempotency_key=key)
    report.full_clean(exclude=["employee", "holding", "reported_by"])
    report.save()
    audit.record(actor=actor, action="damage_report.create", obj=report,
                 changes=_created(report, DAMAGE_FIELDS))
    uploads = list(attachments)
    if uploads:
        _attach(actor=actor, target=report, uploads=uploads)
    notify(recipients=uniform_admins_of(employee),
           title=_("Uniform %(kind)s reported by %(name)s (%(number)s)") % {
               "kind": report.get_kind_display(), "name": employee.name, "number": report.number},
           body=report.description, url=reverse("uniforms:damage_detail", args=[report.number]))
    return report


def residual_value(*, unit_cost: Decimal, issued_on: datetime.date, renewal_due_on: datetime.date,
                   on: datetime.date, min_pct: Decimal, max_pct: Decimal) -> tuple[Decimal, dict[str, Any]]:
    """Compensation for an item (U3.2): its residual value, straight line over its renewal cycle —
    unit cost × days remaining ÷ days in the cycle — clamped to [min %, max %] of the unit cost,
    rounded half up to the cent. Returns (amount, the figures it came from)."""
    cycle = (renewal_due_on - issued_on).days
    remaining = min(cycle, max(0, (renewal_due_on - on).days))
    raw = unit_cost * Decimal(remaining) / Decimal(cycle) if cycle > 0 else Decimal(0)
    low = unit_cost * Decimal(min_pct) / Decimal(100)
    high = unit_cost * Decimal(max_pct) / Decimal(100)
    amount = min(high, max(low, raw))
    rounded = amount.quantize(CENTS, ROUND_HALF_UP)
    return rounded, {
        "unit_cost": str(unit_cost), "issued_on": issued_on.isoformat(), "renewal_due_on": renewal_due_on.isoformat(),
        "on": on.isoformat(), "cycle_days": cycle, "remaining_days": remaining,
        "residual": str(raw.quantize(CENTS, ROUND_HALF_UP)), "min_pct": str(min_pct), "max_pct": str(max_pct),
        "clamped": "min" if raw < low else ("max" if raw > high else ""),
    }


def compensation_amount(*, holding: Holding, on: datetime.date, assessed_on: datetime.date
                        ) -> tuple[Decimal, dict[str, Any]]:
    """residual_value() of a holding lost or damaged ``on``, under the parameters in force on ``assessed_on``."""
    return residual_value(
        unit_cost=holding.unit_cost, issued_on=holding.issued_on, renewal_due_on=holding.renewal_due_on, on=on,
        min_pct=Decimal(str(policy.get("uniforms.compensation_min_pct", on=assessed_on))),
        max_pct=Decimal(str(policy.get("uniforms.compensation_max_pct", on=assessed_on))))


def _compensation_create(*, actor, holding: Holding, employee: Employee, on: datetime.date,
                         damage_report: DamageReport | None, why: str,
                         assessed_on: datetime.date | None = None) -> Compensation:
    existing = Compensation.objects.filter(holding=holding).exclude(status=Compensation.Status.WAIVED).first()
    if existing is not None:
        return existing
    assessed_on = assessed_on or timezone.localdate()
    amount, figures = compensation_amount(holding=holding, on=on, assessed_on=assessed_on)
    compensation = Compensation(holding=holding, damage_report=damage_report, employee=employee, amount=amount,
                                computed_from=figures | {"why": why})
    compensation.full_clean(exclude=["holding", "damage_report", "employee"])
    compensation.save()
    audit.record(actor=actor, action="compensation.create", obj=compensation,
                 changes=_created(compensation, COMPENSATION_FIELDS) | {"figures": [None, figures]},
                 reason=why, object_repr=f"{employee.name} {amount}")
    notify(recipients=_employee_user(employee),
           title=_("Uniform compensation of ¥%(amount)s to confirm") % {"amount": amount},
           body=_("%(why)s. The amount is the item's residual value; confirm it to have it deducted from "
                  "your pay.") % {"why": why},
           url=reverse("uniforms:compensation_list"))
    return compensation


@transaction.atomic
def damage_assess(*, actor, report: DamageReport, cause: str, notes: str = "",
                  attachments: Iterable[UploadedFile] = (), at: datetime.datetime | None = None) -> DamageReport:
    """Admin staff assess a report (U3.2): the cause, notes and photos. The item ends (lost, or
    damaged and scrapped); if it was her fault she owes its residual value (residual_value()),
    which she then confirms. Without compensation the report closes at once. Either way a
    replacement may be requested against the report."""
    current = DamageReport.objects.select_for_update(of=("self",)).select_related("employee__org_unit", "holding__sku__style").get(
        pk=report.pk)
    _require_admin_for(actor, current.employee)
    if current.status != DamageReport.Status.REPORTED:
        if current.assessed_by_id == actor.pk and current.cause == cause:
            return current  # the same assessment submitted twice
        raise ValidationError(_("%(record)s is %(status)s; this step is not possible now.") % {
            "record": current.number, "status": current.get_status_display()})
    if cause not in DamageReport.Cause.values:
        raise ValidationError({"cause": _("Choose the cause: normal wear, not her fault, or her fault.")})
    notes = (notes or "").strip()
    if cause == DamageReport.Cause.AT_FAULT and not notes:
        raise ValidationError({"notes": _("Say why it is her fault: she pays for it.")})
    uploads = list(attachments)
    if uploads:
        _attach(actor=actor, target=current, uploads=uploads)
    before = audit.snapshot(current, DAMAGE_FIELDS)
    when = _when(at)
    today = timezone.localdate(when)
    holding = Holding.objects.select_for_update().get(pk=current.holding_id)
    if holding.status == Holding.Status.HELD:
        hold_before = audit.snapshot(holding, HOLDING_FIELDS)
        holding.status = Holding.Status.LOST if current.kind == DamageReport.Kind.LOSS else Holding.Status.SCRAPPED
        holding.ended_on = max(today, holding.issued_on)
        holding.end_note = (_("Damage/loss report %(number)s") % {"number": current.number})[:200]
        holding.save(update_fields=["status", "ended_on", "end_note"])
        audit.record(actor=actor, action="holding.end", obj=holding,
                     changes=audit.diff(hold_before, audit.snapshot(holding, HOLDING_FIELDS)),
                     object_repr=f"{current.employee.name} {current.holding.sku.code}")
    current.cause = cause
    current.notes = notes
    current.assessed_by = actor
    current.assessed_at = when
    at_fault = cause == DamageReport.Cause.AT_FAULT
    current.status = DamageReport.Status.ASSESSED if at_fault else DamageReport.Status.CLOSED
    current.save()
    audit.record(actor=actor, action="damage_report.assess", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, DAMAGE_FIELDS)), reason=notes)
    employee = current.employee
    if at_fault:
        event = current.occurred_on or timezone.localdate(current.reported_at)
        _compensation_create(actor=actor, holding=holding, employee=employee, on=event, damage_report=current,
                             assessed_on=today, why=_("%(kind)s of %(style)s (%(number)s)") % {
                                 "kind": current.get_kind_display(), "style": current.holding.sku.style.name,
                                 "number": current.number})
    notify(recipients=_employee_user(employee),
           title=_("Your damage/loss report %(number)s is assessed: %(cause)s") % {
               "number": current.number, "cause": current.get_cause_display()},
           body=_("You can now request a replacement."),
           url=reverse("uniforms:damage_detail", args=[current.number]))
    return current


@transaction.atomic
def compensation_for_unreturned(*, actor, holding: Holding, on: datetime.date) -> Compensation:
    """A leaver did not return an item (item 8): she owes its residual value on ``on`` (U3.2)."""
    current = Holding.objects.select_related("employee", "sku__style").get(pk=holding.pk)
    return _compensation_create(actor=actor, holding=current, employee=current.employee, on=on, damage_report=None,
                                why=_("%(style)s not returned on leaving") % {"style": current.sku.style.name})


def _set_report_status(*, actor, compensation: Compensation, status: str) -> None:
    if compensation.damage_report_id is None:
        return
    report = DamageReport.objects.select_for_update().get(pk=compensation.damage_report_id)
    if report.status != status:
        before = audit.snapshot(report, DAMAGE_FIELDS)
        report.status = status
        report.save(update_fields=["status"])
        audit.record(actor=actor, action="damage_report.status", obj=report,
                     changes=audit.diff(before, audit.snapshot(report, DAMAGE_FIELDS)))


@transaction.atomic
def compensation_confirm(*, actor, compensation: Compensation, note: str = "",
                         at: datetime.datetime | None = None) -> Compensation:
    """She confirms the amount (U3.2). Admin staff confirm for someone who has left, with a note."""
    current = Compensation.objects.select_for_update(of=("self",)).select_related("employee__org_unit").get(pk=compensation.pk)
    employee = current.employee
    if uaccess.is_self(actor, employee):
        pass
    elif uaccess.is_admin_for(actor, employee) and employee.status == Employee.Status.LEFT:
        if not (note or "").strip():
            raise ValidationError({"note": _("Say how the amount was agreed with her.")})
    else:
        raise PermissionDenied
    if current.status == Compensation.Status.CONFIRMED:
        return current
    current = _locked(Compensation, current, Compensation.Status.PENDING, label=_("Compensation"))
    before = audit.snapshot(current, COMPENSATION_FIELDS)
    current.status = Compensation.Status.CONFIRMED
    current.confirmed_by_employee_at = _when(at)
    current.save(update_fields=["status", "confirmed_by_employee_at"])
    audit.record(actor=actor, action="compensation.confirm", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, COMPENSATION_FIELDS)), reason=note)
    _set_report_status(actor=actor, compensation=current, status=DamageReport.Status.COMPENSATION_CONFIRMED)
    return current


@transaction.atomic
def compensation_waive(*, actor, compensation: Compensation, reason: str) -> Compensation:
    """Admin staff waive a compensation not yet exported, saying why."""
    current = Compensation.objects.select_for_update(of=("self",)).select_related("employee__org_unit").get(pk=compensation.pk)
    _require_admin_for(actor, current.employee)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the compensation is waived.")})
    current = _locked(Compensation, current, Compensation.Status.PENDING, Compensation.Status.CONFIRMED,
                      label=_("Compensation"))
    before = audit.snapshot(current, COMPENSATION_FIELDS)
    current.status = Compensation.Status.WAIVED
    current.save(update_fields=["status"])
    audit.record(actor=actor, action="compensation.waive", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, COMPENSATION_FIELDS)), reason=reason)
    _set_report_status(actor=actor, compensation=current, status=DamageReport.Status.CLOSED)
    return current


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


@transaction.atomic
def compensations_export(*, actor, month: datetime.date) -> int:
    """Put every confirmed, not yet exported compensation on the payroll deduction of ``month``
    (U3.2); returns how many. Running it again adds only those confirmed since."""
    _require(actor, UNIFORM_ADMINS)
    month = month_start(month)
    scope = scope_q(actor, UNIFORM_ADMINS, field="employee__org_unit")
    rows = list(Compensation.objects.select_for_update(of=("self",)).filter(scope, status=Compensation.Status.CONFIRMED)
                .order_by("pk"))
    now = timezone.now()
    for row in rows:
        before = audit.snapshot(row, COMPENSATION_FIELDS)
        row.status = Compensation.Status.EXPORTED
        row.payroll_month = month
        row.exported_at = now
        row.exported_by = actor
        row.save(update_fields=["status", "payroll_month", "exported_at", "exported_by"])
        audit.record(actor=actor, action="compensation.export", obj=row,
                     changes=audit.diff(before, audit.snapshot(row, COMPENSATION_FIELDS)))
        _set_report_status(actor=actor, compensation=row, status=DamageReport.Status.CLOSED)
    return len(rows)


# ===========================================================================================
# Scrapping (U4.2): 《制服報廢申請表》 and centralised disposal
#
#   draft ──submit──▶ submitted ──head signs──▶ head approved ──admin approves──▶ admin approved ──disposal──▶ disposed
#     │                   └──head rejects──▶ head rejected        └──admin rejects──▶ admin rejected
# ===========================================================================================

SCRAP_FIELDS = ["number", "employee_id", "filled_by_id", "reason", "status", "submitted_at", "head_signed_by_id",
                "head_signed_at", "head_comment", "admin_reviewed_by_id", "admin_reviewed_at", "admin_comment"]
OPEN_SCRAP_STATUSES = (ScrapRequest.Status.DRAFT, ScrapRequest.Status.SUBMITTED, ScrapRequest.Status.HEAD_APPROVED)


def _notify_scrap(scrap: ScrapRequest, recipients: list[Any], title: str, body: str = "") -> None:
    notify(recipients=recipients, title=title, body=body, url=reverse("uniforms:scrap_detail", args=[scrap.number]))


@transaction.atomic
def scrap_request_create(*, actor, employee: Employee, items: Iterable[tuple[Holding, str]], reason: str,
                         submit: bool = True, idempotency_key: str | None = None,
                         at: datetime.datetime | None = None) -> ScrapRequest:
    """She fills in a 《制服報廢申請表》 for worn-out or irreparable items she holds (U4.2); admin
    staff may fill it in for her. ``items``: (holding, its condition)."""
    key = scoped_key(actor, idempotency_key)
    if key is not None:
        existing = ScrapRequest.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    _require_self_or_admin(actor, employee)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the items are to be scrapped.")})
    items = list(items)
    if not items:
        raise ValidationError({"items": _("Choose at least one item.")})
    ids = [h.pk for h, _c in items]
    if len(set(ids)) != len(ids):
        raise ValidationError({"items": _("An item is listed twice.")})
    held = {h.pk: h for h in Holding.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("sku")}
    busy = set(ScrapRequestLine.objects.filter(holding__in=ids, scrap_request__status__in=OPEN_SCRAP_STATUSES)
               .values_list("holding_id", flat=True))
    errors = []
    for holding, _condition in items:
        h = held.get(holding.pk)
        if h is None or h.employee_id != employee.pk:
            errors.append(_("Item %(id)s is not one of %(name)s's.") % {"id": holding.pk, "name": employee.name})
        elif h.status != Holding.Status.HELD:
            errors.append(_("%(sku)s (item %(id)s) is %(status)s, not held.") % {
                "sku": h.sku.code, "id": h.pk, "status": h.get_status_display()})
        elif h.pk in busy:
            errors.append(_("%(sku)s (item %(id)s) is already on an open scrap form.") % {"sku": h.sku.code, "id": h.pk})
    if errors:
        raise ValidationError({"items": errors})
    when = _when(at)
    scrap = ScrapRequest(number=next_number("SR", on=timezone.localdate(when)), employee=employee, filled_by=actor, reason=reason,
                         idempotency_key=key)
    scrap.full_clean(exclude=["employee", "filled_by"])
    scrap.save()
    ScrapRequestLine.objects.bulk_create([
        ScrapRequestLine(scrap_request=scrap, holding=held[h.pk], condition=(condition or "").strip()[:200])
        for h, condition in items])
    audit.record(actor=actor, action="scrap_request.create", obj=scrap,
                 changes=_created(scrap, SCRAP_FIELDS) | {"items": [None, ids]}, reason=reason)
    if submit:
        scrap = _scrap_submit(actor=actor, scrap=scrap, at=when)
    return scrap


def _scrap_submit(*, actor, scrap: ScrapRequest, at: datetime.datetime | None = None) -> ScrapRequest:
    before = audit.snapshot(scrap, SCRAP_FIELDS)
    scrap.status = ScrapRequest.Status.SUBMITTED
    scrap.submitted_at = _when(at)
    scrap.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor=actor, action="scrap_request.submit", obj=scrap,
                 changes=audit.diff(before, audit.snapshot(scrap, SCRAP_FIELDS)))
    _notify_scrap(scrap, department_heads_of(scrap.employee),
                  _("Uniform scrap form %(number)s to sign: %(name)s") % {
                      "number": scrap.number, "name": scrap.employee.name}, scrap.reason)
    return scrap


@transaction.atomic
def scrap_request_submit(*, actor, scrap: ScrapRequest) -> ScrapRequest:
    if not (uaccess.is_self(actor, scrap.employee) or scrap.filled_by_id == actor.pk):
        raise PermissionDenied  # before the status: a stranger learns nothing from the answer
    current = _locked(ScrapRequest, scrap, ScrapRequest.Status.DRAFT)
    return _scrap_submit(actor=actor, scrap=current)


def _scrap_decide(*, actor, scrap: ScrapRequest, step: str, approve: bool, comment: str,
                  at: datetime.datetime | None = None) -> ScrapRequest:
    S = ScrapRequest.Status
    current = ScrapRequest.objects.select_for_update(of=("self",)).select_related("employee__org_unit", "employee__user").get(
        pk=scrap.pk)
    employee = current.employee
    if step == "head":
        _require_signer(actor, employee)
        target, expected, who = (S.HEAD_APPROVED if approve else S.HEAD_REJECTED), S.SUBMITTED, "head_signed_by_id"
    else:
        if uaccess.is_self(actor, employee):
            raise PermissionDenied(_("Nobody signs her own form."))
        _require_admin_for(actor, employee)
        target, expected, who = (S.ADMIN_APPROVED if approve else S.ADMIN_REJECTED), S.HEAD_APPROVED, "admin_reviewed_by_id"
    if current.status == target and getattr(current, who) == actor.pk:
        return current  # a double click
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("Say why the scrap form is rejected.")})
    current = _locked(ScrapRequest, current, expected)
    before = audit.snapshot(current, SCRAP_FIELDS)
    now = _when(at)
    current.status = target
    if step == "head":
        current.head_signed_by, current.head_signed_at, current.head_comment = actor, now, comment
    else:
        current.admin_reviewed_by, current.admin_reviewed_at, current.admin_comment = actor, now, comment
    current.save()
    audit.record(actor=actor, action=f"scrap_request.{step}_{'approve' if approve else 'reject'}", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, SCRAP_FIELDS)), reason=comment)
    if target == S.ADMIN_APPROVED:
        today = timezone.localdate(now)
        for line in current.lines.select_related("holding__sku"):
            holding = Holding.objects.select_for_update().get(pk=line.holding_id)
            if holding.status != Holding.Status.HELD:
                continue
            hold_before = audit.snapshot(holding, HOLDING_FIELDS)
            holding.status = Holding.Status.SCRAPPED
            holding.ended_on = max(today, holding.issued_on)
            holding.end_note = (_("Scrap form %(number)s") % {"number": current.number})[:200]
            holding.save(update_fields=["status", "ended_on", "end_note"])
            audit.record(actor=actor, action="holding.scrap", obj=holding,
                         changes=audit.diff(hold_before, audit.snapshot(holding, HOLDING_FIELDS)),
                         object_repr=f"{employee.name} {line.holding.sku.code}")
    if target == S.HEAD_APPROVED:
        _notify_scrap(current, uniform_admins_of(employee), _("Uniform scrap form %(number)s to review: %(name)s") % {
            "number": current.number, "name": employee.name})
    else:
        recipients = _employee_user(employee) + ([current.filled_by] if current.filled_by_id != employee.user_id else [])
        _notify_scrap(current, recipients, _("Uniform scrap form %(number)s: %(status)s") % {
            "number": current.number, "status": current.get_status_display()}, comment)
    return current


@transaction.atomic
def scrap_request_head_approve(*, actor, scrap: ScrapRequest, comment: str = "",
                               at: datetime.datetime | None = None) -> ScrapRequest:
    """Submitted → signed by her department head (U4.2)."""
    return _scrap_decide(actor=actor, scrap=scrap, step="head", approve=True, comment=comment, at=at)


@transaction.atomic
def scrap_request_head_reject(*, actor, scrap: ScrapRequest, comment: str,
                              at: datetime.datetime | None = None) -> ScrapRequest:
    return _scrap_decide(actor=actor, scrap=scrap, step="head", approve=False, comment=comment, at=at)


@transaction.atomic
def scrap_request_admin_approve(*, actor, scrap: ScrapRequest, comment: str = "",
                                at: datetime.datetime | None = None) -> ScrapRequest:
    """Signed → approved by admin staff (U4.2): the items leave her holdings (scrapped) and wait
    for a disposal batch."""
    return _scrap_decide(actor=actor, scrap=scrap, step="admin", approve=True, comment=comment, at=at)


@transaction.atomic
def scrap_request_admin_reject(*, actor, scrap: ScrapRequest, comment: str,
                               at: datetime.datetime | None = None) -> ScrapRequest:
    return _scrap_decide(actor=actor, scrap=scrap, step="admin", approve=False, comment=comment, at=at)


DISPOSAL_FIELDS = ["number", "disposed_on", "method", "performed_by", "recorded_by_id", "note"]


def holdings_awaiting_disposal():
    """Scrapped items (scrap forms, leavers' returns, damaged items) not yet in a disposal batch."""
    return Holding.objects.filter(status=Holding.Status.SCRAPPED, disposal__isnull=True)


@transaction.atomic
def disposal_batch_create(*, actor, holdings: Iterable[Holding], disposed_on: datetime.date, method: str,
                          performed_by: str, note: str = "") -> DisposalBatch:
    """Admin staff record a centralised disposal (U4.2: "disposes of them centrally"): date, method,
    the items, and who carried it out. Scrap forms whose every item is disposed become disposed."""
    _require(actor, UNIFORM_ADMINS)
    ids = sorted({h.pk for h in holdings})
    if not ids:
        raise ValidationError({"holdings": _("Choose at least one scrapped item.")})
    if disposed_on > timezone.localdate():
        raise ValidationError({"disposed_on": _("The date cannot be in the future.")})
    rows = list(Holding.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("sku"))
    waiting = set(holdings_awaiting_disposal().filter(pk__in=ids).values_list("pk", flat=True))
    bad = [h.sku.code for h in rows if h.pk not in waiting] + [str(i) for i in set(ids) - {h.pk for h in rows}]
    if bad:
        raise ValidationError({"holdings": _("Not scrapped or already disposed: %(items)s.") % {"items": ", ".join(bad)}})
    batch = DisposalBatch(number=next_number("DB", on=disposed_on), disposed_on=disposed_on, method=method,
                          performed_by=(performed_by or "").strip(), recorded_by=actor, note=(note or "").strip())
    batch.full_clean(exclude=["recorded_by"])
    batch.save()
    DisposalLine.objects.bulk_create([DisposalLine(batch=batch, holding=h, sku=h.sku, quantity=1) for h in rows])
    ScrapRequestLine.objects.filter(holding__in=ids, scrap_request__status=ScrapRequest.Status.ADMIN_APPROVED,
                                    disposal_batch__isnull=True).update(disposal_batch=batch)
    audit.record(actor=actor, action="disposal_batch.create", obj=batch,
                 changes=_created(batch, DISPOSAL_FIELDS) | {"items": [None, ids]},
                 reason=batch.note)
    touched = set(ScrapRequestLine.objects.filter(disposal_batch=batch).values_list("scrap_request_id", flat=True))
    done = ScrapRequest.objects.select_for_update().filter(status=ScrapRequest.Status.ADMIN_APPROVED,
                                                           pk__in=touched).order_by("pk")
    for scrap in done:
        if not scrap.lines.filter(disposal_batch__isnull=True).exists():
            before = audit.snapshot(scrap, SCRAP_FIELDS)
            scrap.status = ScrapRequest.Status.DISPOSED
            scrap.save(update_fields=["status", "updated_at"])
            audit.record(actor=actor, action="scrap_request.dispose", obj=scrap,
                         changes=audit.diff(before, audit.snapshot(scrap, SCRAP_FIELDS)))
    return batch


# ===========================================================================================
# Dress-code spot checks (U3.1)
# ===========================================================================================

DRESS_FIELDS = ["employee_id", "checked_by_id", "checked_on", "wearing", "clean_tidy", "unaltered", "badge",
                "tie_or_scarf", "notes"]


@transaction.atomic
def dress_check_record(*, actor, employee: Employee, checked_on: datetime.date, wearing: bool, clean_tidy: bool,
                       unaltered: bool, badge: bool, tie_or_scarf: bool, notes: str = "") -> DressCheck:
    """A spot check of her dress (U3.1) by a team lead or CS supervisor covering her, or an inspector
    (S1). A violation tells her what was found."""
    if not uaccess.may_check_dress_of(actor, employee):
        raise PermissionDenied
    if checked_on > timezone.localdate():
        raise ValidationError({"checked_on": _("The date cannot be in the future.")})
    check = DressCheck(employee=employee, checked_by=actor, checked_on=checked_on, wearing=wearing,
                       clean_tidy=clean_tidy, unaltered=unaltered, badge=badge, tie_or_scarf=tie_or_scarf,
                       notes=(notes or "").strip())
    check.full_clean(exclude=["employee", "checked_by"])
    if check.violations and not check.notes:
        raise ValidationError({"notes": _("Describe what was wrong.")})
    check.save()
    audit.record(actor=actor, action="dress_check.record", obj=check,
                 changes=_created(check, DRESS_FIELDS), reason=check.notes,
                 object_repr=f"{employee.name} {checked_on.isoformat()}")
    if check.violations:
        labels = ", ".join(str(DressCheck._meta.get_field(f).verbose_name)  # type: ignore[union-attr]
                           for f in check.violations)
        notify(recipients=_employee_user(employee),
               title=_("Dress-code check on %(date)s: %(what)s") % {"date": checked_on.isoformat(), "what": labels},
               body=check.notes, url=reverse("uniforms:dress_list"))
    return check
