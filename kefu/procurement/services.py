"""Procurement writes (POLICY.md U1.2). Every function is keyword-only, takes the ``actor``,
runs in a transaction, validates with full_clean() and writes an audit entry; notifications go
through ``core.services.notify`` (mail on commit). The flows are drawn in models.py.

Accepted units enter stock through ``kefu.uniforms.services.stock_receive`` with the order's unit
price and an idempotency key per receipt line. Lock order (see uniforms/stock.py): a posting
moves stock before its first ``audit.record()``, so the audit chain head is taken last.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import attachments as core_attachments
from kefu.core import audit, policy
from kefu.core.models import Attachment
from kefu.core.services import notify
from kefu.procurement import files, selectors
from kefu.procurement.access import ADMINS, APPROVERS, is_approver, is_buyer
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
from kefu.procurement.numbering import next_number
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import Location, Sku, Style

CENT = Decimal("0.01")
MAX_ROUNDS = 10
MAX_LEAD_DAYS = 365


# =============================================================================================
# Helpers
# =============================================================================================


def _require_buyer(actor) -> None:
    if not is_buyer(actor):
        raise PermissionDenied


def _require_approver(actor) -> None:
    if not is_approver(actor):
        raise PermissionDenied


def _locked(model, obj, *expected: str):
    """The row locked for update, or a clear error when it is not in one of the ``expected`` states."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected and locked.status not in expected:
        raise ValidationError(_("%(record)s is %(status)s; this step is not possible now.") % {
            "record": f"{model._meta.verbose_name} {getattr(locked, 'number', locked.pk)}",
            "status": locked.get_status_display()})
    return locked


def _money(value: Any, *, field: str, positive: bool = False) -> Decimal:
    """An amount of at most 2 decimal places (zero or more; more than zero with ``positive``)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as e:
        raise ValidationError({field: _("Enter an amount such as 12.50.")}) from e
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ValidationError({field: _("Enter an amount greater than zero.") if positive
                               else _("Enter an amount of zero or more.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Enter an amount with at most 2 decimal places.")})
    return amount.quantize(CENT)


def _count(value: Any, *, field: str, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter a whole number.")})
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as e:
        raise ValidationError({field: _("Enter a whole number.")}) from e
    if number < minimum:
        raise ValidationError({field: _("Must be at least %(min)s.") % {"min": minimum}})
    if maximum is not None and number > maximum:
        raise ValidationError({field: _("Must be at most %(max)s.") % {"max": maximum}})
    return number


def _text(value: Any) -> str:
    return str(value if value is not None else "").strip()


def _key(actor, key: str | None) -> str | None:
    """An idempotency key is the caller's own: two people's keys never collide."""
    key = (key or "").strip()
    return f"{getattr(actor, 'pk', 0)}:{key}"[:100] if key else None


def _users_with(roles: Iterable[str]) -> list[Any]:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    today = timezone.localdate()
    return list(get_user_model().objects.filter(
        is_active=True, role_assignments__role__in=list(roles), role_assignments__start_date__lte=today,
    ).filter(Q(role_assignments__end_date__isnull=True) | Q(role_assignments__end_date__gte=today)).distinct())


def buyers() -> list[Any]:
    return _users_with(ADMINS)


def approvers() -> list[Any]:
    return _users_with(APPROVERS)


def _attach(*, actor, target, uploads: Iterable[UploadedFile], field: str = "attachments") -> list[Attachment]:
    """Documents and photos: JPEG, PNG or PDF, at most 5 MB each and 10 per record (files.py's rule)."""
    return core_attachments.attachments_add(actor=actor, target=target, uploads=uploads, kinds=files.KINDS,
                                            max_bytes=files.MAX_BYTES, max_count=files.MAX_PER_RECORD, field=field)


# =============================================================================================
# Suppliers and their qualifications
# =============================================================================================

SUPPLIER_FIELDS = ["code", "name", "credit_code", "address", "status", "status_reason", "notes"]
SUPPLIER_EDITABLE = {"code", "name", "credit_code", "address", "notes"}
CERTIFICATE_FIELDS = ["supplier_id", "kind", "name", "number", "issued_on", "expires_on", "scan_name", "scan_type",
                      "scan_size", "withdrawn_at", "withdrawn_reason"]
CONTACT_FIELDS = ["name", "title", "phone", "email", "is_primary"]


def _clean_credit_code(value: str) -> str:
    code = _text(value).upper()
    if code and (len(code) != 18 or not code.isalnum()):
        raise ValidationError({"credit_code": _("A unified social credit code has 18 letters and digits.")})
    return code


@transaction.atomic
def supplier_create(*, actor, code: str, name: str, credit_code: str = "", address: str = "", notes: str = "",
                    contact: dict[str, Any] | None = None) -> Supplier:
    """A new supplier; it starts not yet qualified (qualify it once its licence is on file)."""
    _require_buyer(actor)
    supplier = Supplier(code=_text(code).upper(), name=_text(name), credit_code=_clean_credit_code(credit_code),
                        address=_text(address), notes=_text(notes), created_by=actor)
    supplier.full_clean(exclude=["created_by"])
    supplier.save()
    audit.record(actor=actor, action="supplier.create", obj=supplier,
                 changes=audit.diff(None, audit.snapshot(supplier, SUPPLIER_FIELDS)))
    if contact and _text(contact.get("name")):
        contact_add(actor=actor, supplier=supplier, **{**contact, "is_primary": True})
    return supplier


@transaction.atomic
def supplier_update(*, actor, supplier: Supplier, reason: str = "", **data: Any) -> Supplier:
    _require_buyer(actor)
    current = Supplier.objects.select_for_update().get(pk=supplier.pk)
    before = audit.snapshot(current, SUPPLIER_FIELDS)
    for key, value in data.items():
        if key not in SUPPLIER_EDITABLE:
            raise TypeError(f"unexpected field {key!r}")
        if key == "credit_code":
            value = _clean_credit_code(value)
        elif key == "code":
            value = _text(value).upper()
        setattr(current, key, _text(value))
    current.full_clean(exclude=["created_by"])
    current.save()
    changes = audit.diff(before, audit.snapshot(current, SUPPLIER_FIELDS))
    if changes:
        audit.record(actor=actor, action="supplier.update", obj=current, changes=changes, reason=_text(reason))
    return current


def _set_supplier_status(*, actor, supplier: Supplier, status: str, reason: str, action: str,
                         expected: tuple[str, ...], reason_required: bool = True) -> Supplier:
    _require_buyer(actor)
    current = _locked(Supplier, supplier, *expected)
    reason = _text(reason)
    if reason_required and not reason:
        raise ValidationError({"reason": _("Say why the supplier's status changes.")})
    before = audit.snapshot(current, SUPPLIER_FIELDS)
    current.status = status
    current.status_reason = reason
    current.status_changed_at = timezone.now()
    current.full_clean(exclude=["created_by"])
    current.save()
    audit.record(actor=actor, action=action, obj=current,
                 changes=audit.diff(before, audit.snapshot(current, SUPPLIER_FIELDS)), reason=reason)
    return current


@transaction.atomic
def supplier_qualify(*, actor, supplier: Supplier, reason: str = "") -> Supplier:
    """Not yet qualified or suspended → qualified: its business licence is on file and nothing has expired."""
    _require_buyer(actor)
    S = Supplier.Status
    current = Supplier.objects.get(pk=supplier.pk)
    problems = selectors.certificate_problems(current, on=timezone.localdate())
    if problems:
        raise ValidationError({"status": problems})
    return _set_supplier_status(actor=actor, supplier=current, status=S.QUALIFIED, reason=reason,
                                action="supplier.qualify", expected=(S.PENDING, S.SUSPENDED),
                                reason_required=current.status == S.SUSPENDED)


@transaction.atomic
def supplier_suspend(*, actor, supplier: Supplier, reason: str) -> Supplier:
    S = Supplier.Status
    return _set_supplier_status(actor=actor, supplier=supplier, status=S.SUSPENDED, reason=reason,
                                action="supplier.suspend", expected=(S.QUALIFIED,))


@transaction.atomic
def supplier_blacklist(*, actor, supplier: Supplier, reason: str) -> Supplier:
    S = Supplier.Status
    return _set_supplier_status(actor=actor, supplier=supplier, status=S.BLACKLISTED, reason=reason,
                                action="supplier.blacklist", expected=(S.PENDING, S.QUALIFIED, S.SUSPENDED))


@transaction.atomic
def supplier_blacklist_lift(*, actor, supplier: Supplier, reason: str) -> Supplier:
    """A recorded correction: blacklisted → not yet qualified (it must be qualified again)."""
    S = Supplier.Status
    return _set_supplier_status(actor=actor, supplier=supplier, status=S.PENDING, reason=reason,
                                action="supplier.blacklist_lift", expected=(S.BLACKLISTED,))


@transaction.atomic
def contact_add(*, actor, supplier: Supplier, name: str, title: str = "", phone: str = "", email: str = "",
                is_primary: bool = False) -> SupplierContact:
    _require_buyer(actor)
    contact = SupplierContact(supplier=supplier, name=_text(name), title=_text(title), phone=_text(phone),
                              email=_text(email), is_primary=bool(is_primary))
    contact.full_clean(exclude=["supplier"])
    if contact.is_primary:
        SupplierContact.objects.filter(supplier=supplier, is_primary=True).update(is_primary=False)
    contact.save()
    audit.record(actor=actor, action="supplier_contact.add", obj=contact,
                 changes=audit.diff(None, audit.snapshot(contact, CONTACT_FIELDS)), object_repr=f"{supplier.code}: {contact.name}")
    return contact


@transaction.atomic
def contact_remove(*, actor, contact: SupplierContact, reason: str = "") -> None:
    _require_buyer(actor)
    current = SupplierContact.objects.select_for_update().select_related("supplier").get(pk=contact.pk)
    audit.record(actor=actor, action="supplier_contact.remove", obj=current,
                 changes=audit.diff(audit.snapshot(current, CONTACT_FIELDS), None), reason=_text(reason),
                 object_repr=f"{current.supplier.code}: {current.name}")
    current.delete()


@transaction.atomic
def certificate_add(*, actor, supplier: Supplier, kind: str, name: str, number: str = "",
                    issued_on: datetime.date | None = None, expires_on: datetime.date | None = None,
                    scan: UploadedFile | None = None, idempotency_key: str | None = None) -> SupplierCertificate:
    """A qualification document with its scan (JPEG, PNG or PDF, at most 5 MB). The same
    idempotency key (a form submitted twice) gives back the first certificate."""
    _require_buyer(actor)
    key = _key(actor, idempotency_key)
    if key is not None:
        existing = SupplierCertificate.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    cert = SupplierCertificate(supplier=supplier, kind=kind, name=_text(name), number=_text(number),
                               issued_on=issued_on, expires_on=expires_on, uploaded_by=actor, idempotency_key=key)
    if expires_on is not None and issued_on is not None and expires_on < issued_on:
        raise ValidationError({"expires_on": _("The expiry date is before the issue date.")})
    if scan:
        mime, ext = files.file_type(scan, field="scan")
        cert.scan_name = (scan.name or "scan")[:200]
        cert.scan_type = mime
        cert.scan_size = scan.size or 0
        cert.scan.save(files.stored_name(ext), scan, save=False)
    cert.full_clean(exclude=["supplier", "uploaded_by"])
    cert.save()
    audit.record(actor=actor, action="certificate.add", obj=cert,
                 changes=audit.diff(None, audit.snapshot(cert, CERTIFICATE_FIELDS)),
                 object_repr=f"{supplier.code}: {cert.name}")
    return cert


@transaction.atomic
def certificate_withdraw(*, actor, certificate: SupplierCertificate, reason: str) -> SupplierCertificate:
    """Take a certificate out of consideration (replaced by a renewed one, or wrong); kept on file."""
    _require_buyer(actor)
    current = SupplierCertificate.objects.select_for_update().select_related("supplier").get(pk=certificate.pk)
    if current.withdrawn_at is not None:
        return current
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the certificate is withdrawn.")})
    before = audit.snapshot(current, CERTIFICATE_FIELDS)
    current.withdrawn_at = timezone.now()
    current.withdrawn_by = actor
    current.withdrawn_reason = reason
    current.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
    audit.record(actor=actor, action="certificate.withdraw", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, CERTIFICATE_FIELDS)), reason=reason,
                 object_repr=f"{current.supplier.code}: {current.name}")
    return current


def require_eligible(supplier: Supplier, *, on: datetime.date, field: str = "supplier") -> None:
    """U1.2: only qualified suppliers with valid certificates are invited or awarded (as stored now)."""
    problems = selectors.supplier_problems(Supplier.objects.get(pk=supplier.pk), on=on)
    if problems:
        raise ValidationError({field: problems})


# =============================================================================================
# Purchase plans (U1.2)
# =============================================================================================

PLAN_FIELDS = ["number", "title", "season", "year", "horizon_start", "horizon_end", "expected_new_hires", "notes",
               "status", "total_budget", "round", "second_approval_amount", "needs_second_approval",
               "submitted_at", "submitted_by_id", "approved_at"]
PLAN_EDITABLE = {"title", "season", "year", "horizon_start", "horizon_end", "expected_new_hires", "notes"}


def _notify_plan(plan: PurchasePlan, recipients: Iterable[Any], title: str, body: str = "") -> None:
    notify(recipients=list(recipients), title=title, body=body,
           url=reverse("procurement:plan_detail", args=[plan.number]))


def _recount(plan: PurchasePlan) -> None:
    """Line quantities and budgets from their sizes, and the plan's total from its lines (in SQL)."""
    for line in PlanLine.objects.filter(plan=plan):
        quantity = PlanLineSize.objects.filter(line=line).aggregate(n=Sum("quantity"))["n"] or 0
        line.quantity = quantity
        line.budget = (Decimal(quantity) * line.target_unit_price).quantize(CENT, ROUND_HALF_UP)
        line.save(update_fields=["quantity", "budget"])
    total = PlanLine.objects.filter(plan=plan).aggregate(t=Sum("budget"))["t"] or Decimal("0.00")
    plan.total_budget = Decimal(total).quantize(CENT, ROUND_HALF_UP)
    plan.save(update_fields=["total_budget", "updated_at"])


def _editable_plan(actor, plan: PurchasePlan) -> PurchasePlan:
    _require_buyer(actor)
    return _locked(PurchasePlan, plan, *PurchasePlan.EDITABLE)


@transaction.atomic
def plan_create(*, actor, title: str, season: str, year: int, horizon_start: datetime.date,
                horizon_end: datetime.date, expected_new_hires: int = 0, notes: str = "", propose: bool = True,
                idempotency_key: str | None = None) -> PurchasePlan:
    """Admin drafts a plan for a season; Kefu proposes a line for each of the season's styles."""
    _require_buyer(actor)
    key = _key(actor, idempotency_key)
    if key is not None:
        existing = PurchasePlan.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    plan = PurchasePlan(number=next_number("PP"), title=_text(title), season=season, year=year,
                        horizon_start=horizon_start, horizon_end=horizon_end,
                        expected_new_hires=_count(expected_new_hires, field="expected_new_hires"),
                        notes=_text(notes), created_by=actor, idempotency_key=key)
    if horizon_end and horizon_start and horizon_end < horizon_start:
        raise ValidationError({"horizon_end": _("The plan must end on or after the day it starts.")})
    plan.full_clean(exclude=["created_by", "submitted_by"])
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        if key is not None:
            return PurchasePlan.objects.get(idempotency_key=key)
        raise
    audit.record(actor=actor, action="plan.create", obj=plan,
                 changes=audit.diff(None, audit.snapshot(plan, PLAN_FIELDS)))
    if propose:
        plan_propose(actor=actor, plan=plan, add_styles=list(selectors.plan_styles(plan)))
    return plan


@transaction.atomic
def plan_update(*, actor, plan: PurchasePlan, reason: str = "", **data: Any) -> PurchasePlan:
    current = _editable_plan(actor, plan)
    before = audit.snapshot(current, PLAN_FIELDS)
    for key, value in data.items():
        if key not in PLAN_EDITABLE:
            raise TypeError(f"unexpected field {key!r}")
        if key == "expected_new_hires":
            value = _count(value, field=key)
        setattr(current, key, _text(value) if isinstance(value, str) else value)
    if current.horizon_end < current.horizon_start:
        raise ValidationError({"horizon_end": _("The plan must end on or after the day it starts.")})
    current.full_clean(exclude=["created_by", "submitted_by"])
    current.save()
    changes = audit.diff(before, audit.snapshot(current, PLAN_FIELDS))
    if changes:
        audit.record(actor=actor, action="plan.update", obj=current, changes=changes, reason=_text(reason))
    return current


@transaction.atomic
def plan_propose(*, actor, plan: PurchasePlan, add_styles: Iterable[Style] = (), apply: bool = False) -> PurchasePlan:
    """Add lines for ``add_styles`` and recompute Kefu's proposal for every line (see
    selectors.propose). New lines and sizes take the proposed quantities; existing ones keep
    what admin entered unless ``apply`` (then every quantity becomes the proposal)."""
    current = _editable_plan(actor, plan)
    seasons = selectors.UNIFORM_SEASONS[current.season]
    existing = {line.style_id: line for line in PlanLine.objects.filter(plan=current)}
    new_styles = [s for s in add_styles if s.pk not in existing]
    for style in new_styles:
        if not style.active:
            raise ValidationError({"styles": _("%(style)s is not active.") % {"style": style.name}})
        if style.season not in seasons:
            raise ValidationError({"styles": _("%(style)s is a %(season)s style; this plan is for %(plan)s.") % {
                "style": style.name, "season": style.get_season_display(), "plan": current.get_season_display()}})
    styles = selectors.in_catalogue_order(Style.objects.filter(pk__in=[*existing, *(s.pk for s in new_styles)]))
    proposals = selectors.propose(current, styles)
    position = max((line.position for line in existing.values()), default=0)
    changed: dict[str, list[Any]] = {}
    for proposal in proposals:
        style = proposal.style
        line = existing.get(style.pk)
        is_new = line is None
        if line is None:
            position += 1
            line = PlanLine(plan=current, style=style, position=position, colour=style.colour,
                            material=style.material, target_unit_price=proposal.default_price)
            line.full_clean(exclude=["plan", "style"])
            line.save()
        sizes = {s.sku_id: s for s in PlanLineSize.objects.filter(line=line)}
        for sp in proposal.sizes:
            row = sizes.get(sp.sku.pk)
            if row is None:
                PlanLineSize.objects.create(line=line, sku=sp.sku, quantity=sp.proposed, proposed=sp.proposed,
                                            derivation=sp.derivation)
                changed[sp.sku.code] = [None, sp.proposed]
            else:
                old = row.quantity
                row.proposed = sp.proposed
                row.derivation = sp.derivation
                if apply or is_new:
                    row.quantity = sp.proposed
                row.save(update_fields=["proposed", "derivation", "quantity"])
                if row.quantity != old:
                    changed[sp.sku.code] = [old, row.quantity]
    _recount(current)
    audit.record(actor=actor, action="plan.propose", obj=current,
                 changes={"styles_added": [None, [s.code for s in new_styles]], "quantities": [None, changed],
                          "applied": [None, apply]})
    return current


def _line_of(plan: PurchasePlan, line: PlanLine) -> PlanLine:
    if line.plan_id != plan.pk:
        raise ValidationError(_("That line belongs to another plan."))
    return PlanLine.objects.select_related("style").get(pk=line.pk)


@transaction.atomic
def plan_line_update(*, actor, line: PlanLine, quantities: dict[int, Any] | None = None,
                     target_unit_price: Any = None, colour: str | None = None, material: str | None = None,
                     note: str | None = None) -> PlanLine:
    """Admin sets a line's sizes and quantities (SKU id → quantity), target unit price and specification."""
    plan = _editable_plan(actor, line.plan)
    current = _line_of(plan, line)
    sizes = {s.sku_id: s for s in PlanLineSize.objects.filter(line=current).select_related("sku")}
    before = {"quantities": {s.sku.code: s.quantity for s in sizes.values()},
              **audit.snapshot(current, ["colour", "material", "target_unit_price", "note"])}
    if target_unit_price is not None:
        current.target_unit_price = _money(target_unit_price, field="target_unit_price")
    if colour is not None:
        current.colour = _text(colour)
    if material is not None:
        current.material = _text(material)
    if note is not None:
        current.note = _text(note)
    current.full_clean(exclude=["plan", "style"])
    current.save()
    for sku_id, raw in (quantities or {}).items():
        row = sizes.get(int(sku_id))
        if row is None:
            sku = Sku.objects.filter(pk=sku_id, style=current.style).first()
            if sku is None:
                raise ValidationError({"quantities": _("That size is not a size of %(style)s.") % {
                    "style": current.style.name}})
            row = PlanLineSize(line=current, sku=sku)
            sizes[sku.pk] = row
        row.quantity = _count(raw, field=f"qty_{row.sku_id}", maximum=1_000_000)
        row.save()
    _recount(plan)
    current.refresh_from_db()
    after = {"quantities": {s.sku.code: s.quantity for s in sizes.values()},
             **audit.snapshot(current, ["colour", "material", "target_unit_price", "note"])}
    changes = audit.diff(before, after)
    if changes:
        audit.record(actor=actor, action="plan_line.update", obj=plan, changes=changes,
                     reason=_("Line %(style)s") % {"style": current.style.code})
    return current


@transaction.atomic
def plan_line_remove(*, actor, line: PlanLine) -> None:
    plan = _editable_plan(actor, line.plan)
    current = _line_of(plan, line)
    code = current.style.code
    current.delete()
    _recount(plan)
    audit.record(actor=actor, action="plan_line.remove", obj=plan, changes={"line": [code, None]})


def _decisions_this_round(plan: PurchasePlan):
    return PlanDecision.objects.filter(plan=plan, round=plan.round)


@transaction.atomic
def plan_submit(*, actor, plan: PurchasePlan) -> PurchasePlan:
    """Draft or returned → submitted to leadership. The second-approval amount in force today is kept
    with the plan (U1.2: a second leader approves a plan whose total exceeds it)."""
    current = _editable_plan(actor, plan)
    lines = list(PlanLine.objects.filter(plan=current).select_related("style").order_by("position", "id"))
    if not lines:
        raise ValidationError(_("The plan has no lines: add the styles to buy."))
    errors = []
    for line in lines:
        if line.quantity <= 0:
            errors.append(_("%(style)s: no quantity; enter one or remove the line.") % {"style": line.style.name})
        elif line.target_unit_price <= 0:
            errors.append(_("%(style)s: enter a target unit price.") % {"style": line.style.name})
    if errors:
        raise ValidationError({"lines": errors})
    _recount(current)
    today = timezone.localdate()
    before = audit.snapshot(current, PLAN_FIELDS)
    threshold = Decimal(str(policy.get("procurement.second_approval_amount", on=today))).quantize(CENT)
    current.status = PurchasePlan.Status.SUBMITTED
    current.round += 1
    current.second_approval_amount = threshold
    current.needs_second_approval = current.total_budget > threshold
    current.submitted_at = timezone.now()
    current.submitted_by = actor
    current.save()
    audit.record(actor=actor, action="plan.submit", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, PLAN_FIELDS)))
    _notify_plan(current, [u for u in approvers() if u.pk != actor.pk],
                 _("Purchase plan %(number)s to approve") % {"number": current.number},
                 _("%(title)s: budget ¥%(total)s.") % {"title": current.title, "total": current.total_budget})
    return current


def _decide(*, actor, plan: PurchasePlan, decision: str, comment: str) -> tuple[PurchasePlan, bool]:
    """Record one leader's decision on the current submission; (plan, False) for a repeated click."""
    _require_approver(actor)
    current = PurchasePlan.objects.select_for_update().get(pk=plan.pk)
    mine = _decisions_this_round(current).filter(decided_by=actor).first() if current.round else None
    if mine is not None and mine.decision == decision:
        return current, False  # a double-submitted decision form: decided once
    current = _locked(PurchasePlan, current, *PurchasePlan.PENDING)
    if current.submitted_by_id == actor.pk:
        raise ValidationError(_("You submitted this plan; another leader decides on it."))
    if mine is not None:
        raise ValidationError(_("You have already approved this submission; the second approval is another "
                                "leader's."))
    comment = _text(comment)
    if decision != PlanDecision.Decision.APPROVE and not comment:
        raise ValidationError({"comment": _("Write a comment saying why.")})
    step = 2 if current.status == PurchasePlan.Status.AWAITING_SECOND else 1
    row = PlanDecision(plan=current, round=current.round, step=step, decision=decision, decided_by=actor,
                       decided_at=timezone.now(), comment=comment)
    row.full_clean(exclude=["plan", "decided_by"])
    row.save()
    return current, True


@transaction.atomic
def plan_approve(*, actor, plan: PurchasePlan, comment: str = "") -> PurchasePlan:
    """Submitted → approved (or → awaiting a second leader's approval above the amount); then locked."""
    current, new = _decide(actor=actor, plan=plan, decision=PlanDecision.Decision.APPROVE, comment=comment)
    if not new:
        return current
    before = audit.snapshot(current, PLAN_FIELDS)
    S = PurchasePlan.Status
    if current.status == S.SUBMITTED and current.needs_second_approval:
        current.status = S.AWAITING_SECOND
    else:
        current.status = S.APPROVED
        current.approved_at = timezone.now()
    current.save()
    audit.record(actor=actor, action="plan.approve", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, PLAN_FIELDS)), reason=_text(comment))
    if current.status == S.AWAITING_SECOND:
        decided = set(_decisions_this_round(current).values_list("decided_by_id", flat=True))
        _notify_plan(current, [u for u in approvers() if u.pk not in decided and u.pk != current.submitted_by_id],
                     _("Purchase plan %(number)s needs a second approval") % {"number": current.number},
                     _("Its budget of ¥%(total)s is above ¥%(amount)s; one leader has approved it.") % {
                         "total": current.total_budget, "amount": current.second_approval_amount})
    else:
        _notify_plan(current, buyers(), _("Purchase plan %(number)s approved") % {"number": current.number},
                     _("Invite suppliers to quote."))
    return current


@transaction.atomic
def plan_reject(*, actor, plan: PurchasePlan, comment: str) -> PurchasePlan:
    current, new = _decide(actor=actor, plan=plan, decision=PlanDecision.Decision.REJECT, comment=comment)
    if not new:
        return current
    before = audit.snapshot(current, PLAN_FIELDS)
    current.status = PurchasePlan.Status.REJECTED
    current.save()
    audit.record(actor=actor, action="plan.reject", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, PLAN_FIELDS)), reason=_text(comment))
    _notify_plan(current, buyers(), _("Purchase plan %(number)s rejected") % {"number": current.number}, _text(comment))
    return current


@transaction.atomic
def plan_return(*, actor, plan: PurchasePlan, comment: str) -> PurchasePlan:
    """Back to admin for changes with leadership's comments; resubmitting starts a new round."""
    current, new = _decide(actor=actor, plan=plan, decision=PlanDecision.Decision.RETURN, comment=comment)
    if not new:
        return current
    before = audit.snapshot(current, PLAN_FIELDS)
    current.status = PurchasePlan.Status.RETURNED
    current.save()
    audit.record(actor=actor, action="plan.return", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, PLAN_FIELDS)), reason=_text(comment))
    _notify_plan(current, buyers(), _("Purchase plan %(number)s returned for changes") % {"number": current.number},
                 _text(comment))
    return current


# =============================================================================================
# Requests for quotation, quotes and negotiation rounds, the award
# =============================================================================================

RFQ_FIELDS = ["number", "plan_id", "status", "round", "quote_due_on", "few_suppliers_reason", "notes"]
AWARD_FIELDS = ["rfq_id", "supplier_id", "quote_id", "total", "budget", "lowest_total", "quotes_count", "min_quotes",
                "is_lowest", "over_budget", "reason", "status", "decided_by_id", "decided_at", "decision_comment"]


def _notify_rfq(rfq: Rfq, recipients: Iterable[Any], title: str, body: str = "") -> None:
    notify(recipients=list(recipients), title=title, body=body,
           url=reverse("procurement:rfq_detail", args=[rfq.number]))


def _invite(*, actor, rfq: Rfq, supplier: Supplier, on: datetime.date) -> Invitation:
    require_eligible(supplier, on=on, field="suppliers")
    invitation = Invitation(rfq=rfq, supplier=supplier, invited_at=timezone.now(), invited_by=actor)
    invitation.full_clean(exclude=["rfq", "supplier", "invited_by"])
    invitation.save()
    audit.record(actor=actor, action="rfq.invite", obj=rfq, changes={"supplier": [None, supplier.code]})
    return invitation


@transaction.atomic
def rfq_create(*, actor, plan: PurchasePlan, suppliers: Iterable[Supplier], quote_due_on: datetime.date | None = None,
               reason: str = "", notes: str = "") -> Rfq:
    """Invite qualified suppliers to quote on an approved plan (U1.2: 詢價). At least the
    parameter's number of quotes is sought; inviting fewer needs a written reason."""
    _require_buyer(actor)
    current = _locked(PurchasePlan, plan, PurchasePlan.Status.APPROVED)
    if Rfq.objects.filter(plan=current).exists():
        return Rfq.objects.get(plan=current)  # a double-submitted form: the first request stands
    chosen = list(Supplier.objects.filter(pk__in=[s.pk for s in suppliers]))
    if not chosen:
        raise ValidationError({"suppliers": _("Choose the suppliers to invite.")})
    today = timezone.localdate()
    minimum = int(policy.get("procurement.min_quotes", on=today))
    reason = _text(reason)
    if len(chosen) < minimum and not reason:
        raise ValidationError({"reason": _(
            "Quotes from at least %(min)s suppliers are sought (U1.2); you invite %(n)s. Say why fewer.") % {
            "min": minimum, "n": len(chosen)}})
    problems = [p for s in chosen for p in selectors.supplier_problems(s, on=today)]
    if problems:
        raise ValidationError({"suppliers": problems})
    if quote_due_on is not None and quote_due_on < today:
        raise ValidationError({"quote_due_on": _("The due date is in the past.")})
    rfq = Rfq(number=next_number("RFQ"), plan=current, quote_due_on=quote_due_on, few_suppliers_reason=reason,
              notes=_text(notes), created_by=actor)
    rfq.full_clean(exclude=["plan", "created_by"])
    rfq.save()
    audit.record(actor=actor, action="rfq.create", obj=rfq, changes=audit.diff(None, audit.snapshot(rfq, RFQ_FIELDS)),
                 reason=reason)
    for supplier in sorted(chosen, key=lambda s: s.code):
        _invite(actor=actor, rfq=rfq, supplier=supplier, on=today)
    return rfq


@transaction.atomic
def rfq_invite(*, actor, rfq: Rfq, supplier: Supplier) -> Invitation:
    _require_buyer(actor)
    current = _locked(Rfq, rfq, Rfq.Status.OPEN)
    existing = Invitation.objects.filter(rfq=current, supplier=supplier).first()
    if existing is not None:
        return existing
    return _invite(actor=actor, rfq=current, supplier=supplier, on=timezone.localdate())


@transaction.atomic
def quote_record(*, actor, rfq: Rfq, supplier: Supplier, received_on: datetime.date, valid_until: datetime.date,
                 lines: dict[int, tuple[Any, Any]], note: str = "",
                 attachments: Iterable[UploadedFile] = ()) -> Quote:
    """Record a supplier's quote for the current negotiation round: plan line id → (unit price,
    lead time in days). Lines left out are not quoted. Recording again in the same round replaces it."""
    _require_buyer(actor)
    current = _locked(Rfq, rfq, Rfq.Status.OPEN)
    invitation = Invitation.objects.filter(rfq=current, supplier=supplier).first()
    if invitation is None:
        raise ValidationError({"supplier": _("%(supplier)s is not invited to quote.") % {"supplier": supplier.name}})
    today = timezone.localdate()
    if received_on > today:
        raise ValidationError({"received_on": _("The date cannot be in the future.")})
    if valid_until < received_on:
        raise ValidationError({"valid_until": _("A quote cannot expire before it was received.")})
    plan_lines = {line.pk: line for line in PlanLine.objects.filter(plan_id=current.plan_id, quantity__gt=0)
                  .select_related("style")}
    parsed: dict[int, tuple[Decimal, int]] = {}
    for line_id, (price, lead) in lines.items():
        line = plan_lines.get(int(line_id))
        if line is None:
            raise ValidationError({"lines": _("A quoted line is not a line of this plan.")})
        if price in (None, "") and lead in (None, ""):
            continue
        parsed[line.pk] = (_money(price, field=f"price_{line.pk}", positive=True),
                           _count(lead, field=f"lead_{line.pk}", maximum=MAX_LEAD_DAYS))
    if not parsed:
        raise ValidationError({"lines": _("Enter a unit price and lead time for at least one line.")})
    quote = Quote.objects.select_for_update().filter(invitation=invitation, round=current.round).first()
    before: dict[str, Any] | None = None
    if quote is not None:
        before = {"lines": {str(ql.plan_line_id): [str(ql.unit_price), ql.lead_time_days] for ql in quote.lines.all()},
                  **audit.snapshot(quote, ["received_on", "valid_until", "total", "note"])}
        quote.lines.all().delete()
    else:
        quote = Quote(rfq=current, invitation=invitation, supplier=supplier, round=current.round)
    quote.received_on = received_on
    quote.valid_until = valid_until
    quote.note = _text(note)
    quote.recorded_by = actor
    quote.recorded_at = timezone.now()
    total = Decimal("0.00")
    rows = []
    for line_id, (price, lead) in parsed.items():
        amount = (Decimal(plan_lines[line_id].quantity) * price).quantize(CENT)
        total += amount
        rows.append((line_id, price, lead, amount))
    quote.total = total
    quote.complete = set(parsed) == set(plan_lines)
    quote.full_clean(exclude=["rfq", "invitation", "supplier", "recorded_by"])
    quote.save()
    QuoteLine.objects.bulk_create([QuoteLine(quote=quote, plan_line_id=line_id, unit_price=price, lead_time_days=lead,
                                             amount=amount) for line_id, price, lead, amount in rows])
    after = {"lines": {str(line_id): [str(price), lead] for line_id, price, lead, _a in rows},
             **audit.snapshot(quote, ["received_on", "valid_until", "total", "note"])}
    audit.record(actor=actor, action="quote.record", obj=quote, changes=audit.diff(before, after),
                 object_repr=f"{current.number} {supplier.code} R{quote.round}")
    _attach(actor=actor, target=quote, uploads=attachments)
    return quote


@transaction.atomic
def rfq_next_round(*, actor, rfq: Rfq, note: str = "") -> Rfq:
    """Start another negotiation round (議價): suppliers send revised quotes; each one's latest counts."""
    _require_buyer(actor)
    current = _locked(Rfq, rfq, Rfq.Status.OPEN)
    if not Quote.objects.filter(rfq=current, round=current.round).exists():
        raise ValidationError(_("No quote is recorded in round %(round)s yet: nothing to negotiate on.") % {
            "round": current.round})
    if current.round >= MAX_ROUNDS:
        raise ValidationError(_("At most %(n)s rounds.") % {"n": MAX_ROUNDS})
    before = audit.snapshot(current, RFQ_FIELDS)
    current.round += 1
    current.save()
    audit.record(actor=actor, action="rfq.next_round", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, RFQ_FIELDS)), reason=_text(note))
    return current


@transaction.atomic
def rfq_award(*, actor, rfq: Rfq, supplier: Supplier, reason: str = "") -> Award:
    """Award the plan to one supplier on its latest quote (U1.2).

    - the supplier must be qualified, with valid certificates, and its quote complete and valid today;
    - a written reason is needed when its total is not the lowest complete quote, or when fewer
      complete quotes than ``procurement.min_quotes`` (in force today) came in;
    - an award above the plan's budget goes back to leadership; within it, it takes effect and the
      purchase order is drafted.
    """
    _require_buyer(actor)
    current = _locked(Rfq, rfq, Rfq.Status.OPEN)
    today = timezone.localdate()
    require_eligible(supplier, on=today)
    comparison = selectors.comparison(current, on=today)
    column = next((c for c in comparison.columns if c.supplier.pk == supplier.pk), None)
    if column is None:
        raise ValidationError({"supplier": _("%(supplier)s was not invited to quote.") % {"supplier": supplier.name}})
    quote = column.quote
    if quote is None:
        raise ValidationError({"supplier": _("%(supplier)s has not quoted.") % {"supplier": supplier.name}})
    if not quote.complete:
        raise ValidationError({"supplier": _("%(supplier)s's quote does not cover every line.") % {
            "supplier": supplier.name}})
    if quote.valid_until < today:
        raise ValidationError({"supplier": _("%(supplier)s's quote expired on %(date)s; record a renewed one.") % {
            "supplier": supplier.name, "date": quote.valid_until.isoformat()}})
    assert comparison.lowest_total is not None
    is_lowest = quote.total <= comparison.lowest_total
    too_few = comparison.complete_quotes < comparison.min_quotes
    reason = _text(reason)
    needed = []
    if not is_lowest:
        needed.append(_("the quote is not the lowest total (¥%(total)s against the lowest ¥%(lowest)s)") % {
            "total": quote.total, "lowest": comparison.lowest_total})
    if too_few:
        needed.append(_("only %(n)s complete quotes came in; %(min)s are needed") % {
            "n": comparison.complete_quotes, "min": comparison.min_quotes})
    if needed and not reason:
        raise ValidationError({"reason": _("Write the reason for this award: %(why)s.") % {"why": "; ".join(needed)}})
    plan = current.plan
    over_budget = quote.total > plan.total_budget
    award = Award(rfq=current, supplier=supplier, quote=quote, total=quote.total, budget=plan.total_budget,
                  lowest_total=comparison.lowest_total, quotes_count=comparison.complete_quotes,
                  min_quotes=comparison.min_quotes, is_lowest=is_lowest, over_budget=over_budget, reason=reason,
                  status=Award.Status.PENDING if over_budget else Award.Status.EFFECTIVE, awarded_by=actor,
                  awarded_at=timezone.now())
    award.full_clean(exclude=["rfq", "supplier", "quote", "awarded_by", "decided_by"])
    award.save()
    before = audit.snapshot(current, RFQ_FIELDS)
    current.status = Rfq.Status.AWARD_PENDING if over_budget else Rfq.Status.AWARDED
    current.save()
    audit.record(actor=actor, action="award.create", obj=award,
                 changes=audit.diff(None, audit.snapshot(award, AWARD_FIELDS)), reason=reason,
                 object_repr=f"{current.number} → {supplier.code}")
    audit.record(actor=actor, action="rfq.award", obj=current, changes=audit.diff(before, audit.snapshot(current, RFQ_FIELDS)))
    if over_budget:
        _notify_rfq(current, approvers(), _("Award over budget to approve: %(number)s") % {"number": plan.number},
                    _("%(supplier)s at ¥%(total)s against a budget of ¥%(budget)s.") % {
                        "supplier": supplier.name, "total": award.total, "budget": award.budget})
    else:
        _order_create(actor=actor, award=award)
    return award


@transaction.atomic
def award_approve(*, actor, award: Award, comment: str = "") -> Award:
    """Leadership approves an over-budget award; the purchase order is drafted."""
    _require_approver(actor)
    current = Award.objects.select_for_update().select_related("rfq", "supplier").get(pk=award.pk)
    if current.status == Award.Status.EFFECTIVE and current.decided_by_id == actor.pk:
        return current
    current = _locked(Award, current, Award.Status.PENDING)
    if current.awarded_by_id == actor.pk:
        raise ValidationError(_("You made this award; another leader approves it."))
    require_eligible(current.supplier, on=timezone.localdate())
    before = audit.snapshot(current, AWARD_FIELDS)
    current.status = Award.Status.EFFECTIVE
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.decision_comment = _text(comment)
    current.save()
    rfq = Rfq.objects.select_for_update().get(pk=current.rfq_id)
    rfq.status = Rfq.Status.AWARDED
    rfq.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="award.approve", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, AWARD_FIELDS)), reason=current.decision_comment,
                 object_repr=f"{rfq.number} → {current.supplier.code}")
    _order_create(actor=actor, award=current)
    _notify_rfq(rfq, buyers(), _("Award approved: %(number)s") % {"number": rfq.number}, current.decision_comment)
    return current


@transaction.atomic
def award_reject(*, actor, award: Award, comment: str) -> Award:
    """Leadership rejects an over-budget award; quoting reopens (negotiate, or award another)."""
    _require_approver(actor)
    current = _locked(Award, award, Award.Status.PENDING)
    comment = _text(comment)
    if not comment:
        raise ValidationError({"comment": _("Write a comment saying why.")})
    before = audit.snapshot(current, AWARD_FIELDS)
    current.status = Award.Status.REJECTED
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.decision_comment = comment
    current.save()
    rfq = Rfq.objects.select_for_update().get(pk=current.rfq_id)
    rfq.status = Rfq.Status.OPEN
    rfq.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="award.reject", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, AWARD_FIELDS)), reason=comment)
    _notify_rfq(rfq, buyers(), _("Award rejected: %(number)s") % {"number": rfq.number}, comment)
    return current


# =============================================================================================
# Purchase orders (the contract)
# =============================================================================================

ORDER_FIELDS = ["number", "status", "order_date", "delivery_address", "quality_standard", "terms", "total",
                "issued_at", "issued_by_id", "closed_at"]


def _order_create(*, actor, award: Award) -> PurchaseOrder:
    rfq = award.rfq
    plan = rfq.plan
    today = timezone.localdate()
    prices = {ql.plan_line_id: ql for ql in QuoteLine.objects.filter(quote=award.quote)}
    order = PurchaseOrder(number=next_number("PO"), award=award, plan=plan, supplier=award.supplier,
                          created_by=actor)
    order.full_clean(exclude=["award", "plan", "supplier", "created_by", "issued_by"])
    order.save()
    rows = []
    sizes = (PlanLineSize.objects.filter(line__plan=plan, quantity__gt=0)
             .select_related("line__style", "sku__size").order_by("line__position", "line_id", "sku__size__order"))
    for size in sizes:
        ql = prices[size.line_id]
        rows.append(PurchaseOrderLine(
            order=order, plan_line=size.line, sku=size.sku, style_name=size.line.style.name[:100],
            size_code=size.sku.size.code, colour=size.line.colour, material=size.line.material,
            quantity=size.quantity, unit_price=ql.unit_price,
            amount=(Decimal(size.quantity) * ql.unit_price).quantize(CENT),
            delivery_date=today + datetime.timedelta(days=ql.lead_time_days)))
    PurchaseOrderLine.objects.bulk_create(rows)
    order.total = sum((r.amount for r in rows), Decimal("0.00"))
    order.save(update_fields=["total"])
    audit.record(actor=actor, action="order.create", obj=order,
                 changes=audit.diff(None, audit.snapshot(order, ORDER_FIELDS))
                 | {"lines": [None, [[r.sku.code, r.quantity, str(r.unit_price)] for r in rows]]})
    return order


@transaction.atomic
def order_update(*, actor, order: PurchaseOrder, delivery_address: str | None = None,
                 quality_standard: str | None = None, terms: str | None = None,
                 lines: dict[int, dict[str, Any]] | None = None) -> PurchaseOrder:
    """While a draft: the delivery address, quality standard, terms, and per line its delivery
    date and quality standard. Quantities and prices come from the plan and the award."""
    _require_buyer(actor)
    current = _locked(PurchaseOrder, order, PurchaseOrder.Status.DRAFT)
    before = audit.snapshot(current, ORDER_FIELDS)
    if delivery_address is not None:
        current.delivery_address = _text(delivery_address)
    if quality_standard is not None:
        current.quality_standard = _text(quality_standard)
    if terms is not None:
        current.terms = _text(terms)
    current.full_clean(exclude=["award", "plan", "supplier", "created_by", "issued_by"])
    current.save()
    line_changes = {}
    today = timezone.localdate()
    rows = {line.pk: line for line in PurchaseOrderLine.objects.filter(order=current).select_related("sku")}
    for line_id, data in (lines or {}).items():
        line = rows.get(int(line_id))
        if line is None:
            raise ValidationError({"lines": _("That line is not on this order.")})
        old = [str(line.delivery_date), line.quality_standard]
        if "delivery_date" in data and data["delivery_date"] is not None:
            if data["delivery_date"] < today:
                raise ValidationError({f"date_{line.pk}": _("%(sku)s: the delivery date is in the past.") % {
                    "sku": line.sku.code}})
            line.delivery_date = data["delivery_date"]
        if "quality_standard" in data and data["quality_standard"] is not None:
            line.quality_standard = _text(data["quality_standard"])
        line.full_clean(exclude=["order", "plan_line", "sku"])
        line.save(update_fields=["delivery_date", "quality_standard"])
        new = [str(line.delivery_date), line.quality_standard]
        if new != old:
            line_changes[line.sku.code] = [old, new]
    changes = audit.diff(before, audit.snapshot(current, ORDER_FIELDS))
    if line_changes:
        changes["lines"] = [None, line_changes]
    if changes:
        audit.record(actor=actor, action="order.update", obj=current, changes=changes)
    return current


@transaction.atomic
def order_issue(*, actor, order: PurchaseOrder) -> PurchaseOrder:
    """Draft → issued: the contract goes to the supplier; its lines no longer change."""
    _require_buyer(actor)
    current = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if current.status == PurchaseOrder.Status.ISSUED and current.issued_by_id == actor.pk:
        return current
    current = _locked(PurchaseOrder, current, PurchaseOrder.Status.DRAFT)
    missing = list(PurchaseOrderLine.objects.filter(order=current, quality_standard="").values_list("sku__code", flat=True))
    if not current.quality_standard and missing:
        raise ValidationError({"quality_standard": _(
            "Enter the quality standard the goods are checked against on arrival (for the order, or for "
            "each line: %(skus)s).") % {"skus": ", ".join(missing)}})
    if not current.delivery_address:
        raise ValidationError({"delivery_address": _("Enter the delivery address.")})
    before = audit.snapshot(current, ORDER_FIELDS)
    current.status = PurchaseOrder.Status.ISSUED
    current.order_date = timezone.localdate()
    current.issued_at = timezone.now()
    current.issued_by = actor
    current.save()
    audit.record(actor=actor, action="order.issue", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, ORDER_FIELDS)))
    return current


def _maybe_close(*, actor, order: PurchaseOrder) -> None:
    """An order closes when every unit is received or settled and no supplier issue is open."""
    lines = PurchaseOrderLine.objects.filter(order=order)
    outstanding = sum(line.outstanding for line in lines)
    open_issues = SupplierIssue.objects.filter(order=order, status=SupplierIssue.Status.OPEN).exists()
    before = audit.snapshot(order, ORDER_FIELDS)
    if outstanding == 0 and not open_issues:
        order.status = PurchaseOrder.Status.CLOSED
        order.closed_at = timezone.now()
    elif order.status == PurchaseOrder.Status.ISSUED:
        order.status = PurchaseOrder.Status.PARTIALLY_RECEIVED
    else:
        return
    order.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(actor=actor, action="order.close" if order.status == PurchaseOrder.Status.CLOSED else "order.receive",
                 obj=order, changes=audit.diff(before, audit.snapshot(order, ORDER_FIELDS)))


# =============================================================================================
# Receipt and acceptance (到貨驗收), supplier issues
# =============================================================================================

RECEIPT_FIELDS = ["number", "order_id", "delivered_on", "delivery_note_no", "location_id", "status", "note",
                  "posted_by_id", "posted_at"]
ISSUE_FIELDS = ["number", "quantity", "kind", "status", "description", "replacement_received", "credit_amount",
                "resolution", "closed_by_id", "closed_at"]
CHECKS = ("quantity_ok", "style_ok", "colour_ok", "quality_ok")


def _lock_skus(sku_ids: Iterable[int]) -> None:
    list(Sku.objects.select_for_update().filter(pk__in=sorted(set(sku_ids))).order_by("pk").values_list("pk"))


def receipt_key(line: ReceiptLine) -> str:
    """The stock move's idempotency key: one receipt line enters stock once, however often it is posted."""
    return f"procurement:receipt-line:{line.pk}"


def _clean_receipt_lines(order: PurchaseOrder, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    order_lines = {line.pk: line for line in PurchaseOrderLine.objects.filter(order=order).select_related("sku")}
    out = []
    errors: dict[str, list[str]] = {}
    seen = set()
    for data in lines:
        given = data.get("order_line")
        line = order_lines.get(int(getattr(given, "pk", given) or 0))
        if line is None:
            raise ValidationError({"lines": _("A delivered line is not on order %(number)s.") % {"number": order.number}})
        if data.get("delivered") in (None, "", 0, "0"):
            continue
        if line.pk in seen:
            raise ValidationError({"lines": _("%(sku)s is entered twice.") % {"sku": line.sku.code}})
        seen.add(line.pk)
        label = line.sku.code
        try:
            delivered = _count(data.get("delivered"), field=f"delivered_{line.pk}", minimum=1, maximum=1_000_000)
            accepted = _count(data.get("accepted", delivered), field=f"accepted_{line.pk}", maximum=delivered)
        except ValidationError as e:
            for key, messages in e.message_dict.items():
                errors.setdefault(key, []).extend(f"{label}: {m}" for m in messages)
            continue
        checks = {c: bool(data.get(c, True)) for c in CHECKS}
        notes = _text(data.get("notes"))
        if accepted > line.outstanding:
            errors.setdefault(f"accepted_{line.pk}", []).append(_(
                "%(sku)s: %(n)s accepted, but only %(left)s are still owed on the order.") % {
                "sku": label, "n": accepted, "left": line.outstanding})
        if not (checks["style_ok"] and checks["colour_ok"] and checks["quality_ok"]) and accepted == delivered:
            errors.setdefault(f"accepted_{line.pk}", []).append(_(
                "%(sku)s: a style, colour or quality check failed; reject the units that fail it.") % {"sku": label})
        if (accepted < delivered or not all(checks.values())) and not notes:
            errors.setdefault(f"notes_{line.pk}", []).append(_(
                "%(sku)s: say what was found (the line fails its check).") % {"sku": label})
        out.append({"order_line": line, "delivered": delivered, "accepted": accepted, "notes": notes, **checks,
                    "photos": list(data.get("photos") or [])})
    if errors:
        raise ValidationError(errors)
    if not out:
        raise ValidationError({"lines": _("Enter the delivered quantity of at least one line.")})
    return out


@transaction.atomic
def receipt_create(*, actor, order: PurchaseOrder, delivered_on: datetime.date, lines: Iterable[dict[str, Any]],
                   delivery_note_no: str = "", location: Location | None = None, note: str = "",
                   post: bool = False, idempotency_key: str | None = None) -> Receipt:
    """Record a delivery against an order (a partial one too) and the acceptance check of each
    line (U1.2: quantity, style, colour and quality against the contract). Each line is a dict:
    ``order_line``, ``delivered``, ``accepted``, the four checks (``quantity_ok``, ``style_ok``,
    ``colour_ok``, ``quality_ok``), ``notes`` and ``photos``. With ``post`` it is posted at once."""
    _require_buyer(actor)
    key = _key(actor, idempotency_key)
    if key is not None:
        existing = Receipt.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    current = _locked(PurchaseOrder, order, PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED)
    if delivered_on > timezone.localdate():
        raise ValidationError({"delivered_on": _("The delivery date cannot be in the future.")})
    if current.order_date and delivered_on < current.order_date:
        raise ValidationError({"delivered_on": _("The delivery date is before the order date.")})
    location = location or uniforms.default_location()
    if location is None or not location.active or location.kind != Location.Kind.NEW:
        raise ValidationError({"location": _("Choose an active new-stock location for the accepted units.")})
    clean = _clean_receipt_lines(current, lines)
    if post:
        # Posting moves stock: take the SKU locks now, before this transaction's first audit entry
        # (lock order SKU, level, audit head — see uniforms/stock.py), so a concurrent issue of the
        # same SKU can never wait for us while we wait for it.
        _lock_skus([data["order_line"].sku_id for data in clean])
    receipt = Receipt(number=next_number("GR"), order=current, delivered_on=delivered_on,
                      delivery_note_no=_text(delivery_note_no), location=location, note=_text(note),
                      created_by=actor, idempotency_key=key)
    receipt.full_clean(exclude=["order", "location", "created_by", "posted_by"])
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        if key is not None:
            return Receipt.objects.get(idempotency_key=key)
        raise
    rows = []
    for data in clean:
        row = ReceiptLine(receipt=receipt, order_line=data["order_line"], delivered=data["delivered"],
                          accepted=data["accepted"], rejected=data["delivered"] - data["accepted"],
                          notes=data["notes"], **{c: data[c] for c in CHECKS})
        row.full_clean(exclude=["receipt", "order_line", "stock_move"])
        row.save()
        rows.append((row, data["photos"]))
    audit.record(actor=actor, action="receipt.create", obj=receipt,
                 changes=audit.diff(None, audit.snapshot(receipt, RECEIPT_FIELDS))
                 | {"lines": [None, [[r.order_line.sku.code, r.delivered, r.accepted] for r, _p in rows]]})
    for row, photos in rows:
        _attach(actor=actor, target=row, uploads=photos, field=f"photos_{row.order_line_id}")
    if post:
        receipt = receipt_post(actor=actor, receipt=receipt)
    return receipt


@transaction.atomic
def receipt_discard(*, actor, receipt: Receipt, reason: str = "") -> None:
    """Throw away a receipt not yet posted (entered by mistake); the audit log keeps it."""
    _require_buyer(actor)
    current = _locked(Receipt, receipt, Receipt.Status.DRAFT)
    audit.record(actor=actor, action="receipt.discard", obj=current,
                 changes=audit.diff(audit.snapshot(current, RECEIPT_FIELDS), None), reason=_text(reason))
    current.lines.all().delete()  # with the lines' photos (GenericRelation), whose files go once committed
    current.delete()


@transaction.atomic
def receipt_post(*, actor, receipt: Receipt) -> Receipt:
    """Post a checked delivery: accepted units enter stock at the order's unit price (moving
    average, U1.1), rejected units open a supplier issue, replacements close the issues they
    answer, and the order closes once everything is received or settled.

    Posting an already posted receipt changes nothing (a double click, a retried call); each
    line's stock move also carries an idempotency key, so stock moves once whatever happens.
    """
    _require_buyer(actor)
    current = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if current.status == Receipt.Status.POSTED:
        return current
    order = _locked(PurchaseOrder, current.order, PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED)
    lines = list(ReceiptLine.objects.select_for_update().filter(receipt=current)
                 .select_related("order_line__sku__style", "order_line__sku__size").order_by("order_line__sku_id"))
    order_lines = {ol.pk: ol for ol in PurchaseOrderLine.objects.select_for_update().filter(order=order)}
    for line in lines:
        ol = order_lines[line.order_line_id]
        if line.accepted > ol.outstanding:
            raise ValidationError({"lines": _(
                "%(sku)s: %(n)s accepted, but only %(left)s are still owed on the order (another receipt was "
                "posted first). Discard this receipt and enter it again.") % {
                "sku": line.order_line.sku.code, "n": line.accepted,
                "left": ol.outstanding}})
    now = timezone.now()
    _lock_skus([line.order_line.sku_id for line in lines if line.accepted])
    # Stock first (SKUs in id order), before this transaction's first audit entry (see module doc).
    for line in lines:
        if line.accepted:
            move = uniforms.stock_receive(
                actor=actor, sku=line.order_line.sku, location=current.location, quantity=line.accepted,
                unit_cost=line.order_line.unit_price, reference=current, idempotency_key=receipt_key(line), at=now,
                reason=_("Receipt %(receipt)s on order %(order)s") % {"receipt": current.number, "order": order.number})
            line.stock_move = move
            line.save(update_fields=["stock_move"])
    issues = []
    for line in lines:
        ol = order_lines[line.order_line_id]
        # Replacements for earlier rejections: accepted units beyond what is still owed apart from
        # the open replacements count towards those (the original quantity is delivered first).
        open_replace = list(SupplierIssue.objects.select_for_update().filter(
            order_line=ol, status=SupplierIssue.Status.OPEN, kind=SupplierIssue.Kind.REPLACE).order_by("id"))
        awaited = sum(i.quantity - i.replacement_received for i in open_replace)
        regular = ol.outstanding - awaited
        spare = max(0, line.accepted - max(0, regular))
        ol.accepted_quantity += line.accepted
        ol.save(update_fields=["accepted_quantity"])
        for issue in open_replace:
            if spare <= 0:
                break
            take = min(spare, issue.quantity - issue.replacement_received)
            spare -= take
            before = audit.snapshot(issue, ISSUE_FIELDS)
            issue.replacement_received += take
            if issue.replacement_received >= issue.quantity:
                issue.status = SupplierIssue.Status.CLOSED
                issue.closed_at = now
                issue.closed_by = actor
                issue.resolution = _("Replacement accepted on receipt %(receipt)s.") % {"receipt": current.number}
            issue.save()
            audit.record(actor=actor, action="supplier_issue.replacement", obj=issue,
                         changes=audit.diff(before, audit.snapshot(issue, ISSUE_FIELDS)))
        if line.rejected:
            issue = SupplierIssue(number=next_number("SI"), order=order, order_line=ol, receipt_line=line,
                                  supplier_id=order.supplier_id, quantity=line.rejected, kind=SupplierIssue.Kind.REPLACE,
                                  description=line.notes, opened_by=actor, opened_at=now)
            issue.full_clean(exclude=["order", "order_line", "receipt_line", "supplier", "opened_by", "closed_by"])
            issue.save()
            issues.append(issue)
            audit.record(actor=actor, action="supplier_issue.open", obj=issue,
                         changes=audit.diff(None, audit.snapshot(issue, ISSUE_FIELDS)), reason=line.notes)
    before = audit.snapshot(current, RECEIPT_FIELDS)
    current.status = Receipt.Status.POSTED
    current.posted_by = actor
    current.posted_at = now
    current.save()
    audit.record(actor=actor, action="receipt.post", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, RECEIPT_FIELDS))
                 | {"stock": [None, [[line.order_line.sku.code, line.accepted, str(line.order_line.unit_price)]
                                     for line in lines if line.accepted]]})
    _maybe_close(actor=actor, order=order)
    for issue in issues:
        notify(recipients=buyers(), title=_("Supplier issue %(number)s: %(n)s units rejected on %(order)s") % {
            "number": issue.number, "n": issue.quantity, "order": order.number}, body=issue.description,
            url=reverse("procurement:issue_detail", args=[issue.number]))
    return current


@transaction.atomic
def issue_set_kind(*, actor, issue: SupplierIssue, kind: str, reason: str = "") -> SupplierIssue:
    """Change the remedy agreed with the supplier: replace, return (refund) or credit."""
    _require_buyer(actor)
    current = _locked(SupplierIssue, issue, SupplierIssue.Status.OPEN)
    if kind not in SupplierIssue.Kind.values:
        raise ValidationError({"kind": _("Choose replace, return or credit.")})
    if kind != SupplierIssue.Kind.REPLACE and current.replacement_received:
        raise ValidationError({"kind": _("Replacements have already arrived for this issue; close it instead.")})
    before = audit.snapshot(current, ISSUE_FIELDS)
    current.kind = kind
    current.save(update_fields=["kind"])
    changes = audit.diff(before, audit.snapshot(current, ISSUE_FIELDS))
    if changes:
        audit.record(actor=actor, action="supplier_issue.update", obj=current, changes=changes, reason=_text(reason))
    return current


@transaction.atomic
def issue_close(*, actor, issue: SupplierIssue, resolution: str, credit_amount: Any = None,
                attachments: Iterable[UploadedFile] = ()) -> SupplierIssue:
    """Close a supplier issue. Returned or credited units are settled (no longer expected on the
    order); a replacement issue closes by itself when the replacements are accepted."""
    _require_buyer(actor)
    current = SupplierIssue.objects.select_for_update().get(pk=issue.pk)
    if current.status == SupplierIssue.Status.CLOSED:
        return current
    resolution = _text(resolution)
    if not resolution:
        raise ValidationError({"resolution": _("Say how it was resolved.")})
    K = SupplierIssue.Kind
    if current.kind == K.REPLACE and current.replacement_received < current.quantity:
        raise ValidationError({"kind": _(
            "%(n)s replacement units are still awaited: they close the issue when accepted on a receipt, or "
            "change the remedy to return or credit.") % {"n": current.quantity - current.replacement_received}})
    credit = None
    if current.kind == K.CREDIT:
        if credit_amount in (None, ""):
            raise ValidationError({"credit_amount": _("Enter the amount credited.")})
        credit = _money(credit_amount, field="credit_amount")
    before = audit.snapshot(current, ISSUE_FIELDS)
    order = PurchaseOrder.objects.select_for_update().get(pk=current.order_id)
    if current.kind in (K.RETURN, K.CREDIT):
        line = PurchaseOrderLine.objects.select_for_update().get(pk=current.order_line_id)
        unsettled = current.quantity - current.replacement_received
        line.settled_quantity += min(unsettled, line.outstanding)
        line.save(update_fields=["settled_quantity"])
    current.status = SupplierIssue.Status.CLOSED
    current.resolution = resolution
    current.credit_amount = credit
    current.closed_by = actor
    current.closed_at = timezone.now()
    current.save()
    audit.record(actor=actor, action="supplier_issue.close", obj=current,
                 changes=audit.diff(before, audit.snapshot(current, ISSUE_FIELDS)), reason=resolution)
    _attach(actor=actor, target=current, uploads=attachments)
    if order.status in (PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED):
        _maybe_close(actor=actor, order=order)
    return current


@transaction.atomic
def attachments_add(*, actor, target: Quote | ReceiptLine | SupplierIssue,
                    uploads: Iterable[UploadedFile]) -> list[Attachment]:
    """More documents or photos on a quote, a receipt line or a supplier issue."""
    _require_buyer(actor)
    return _attach(actor=actor, target=target, uploads=uploads)


def latest_round(rfq: Rfq) -> int:
    return Quote.objects.filter(rfq=rfq).aggregate(r=Max("round"))["r"] or 0
