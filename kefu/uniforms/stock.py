"""The stock ledger (DESIGN.md "Stock"): every change is one append-only ``StockMove``.

``StockLevel`` (SKU x location) is the derived on-hand, updated in the same
transaction as the move. Every move locks the SKU row and then the level row
(``select_for_update``), so concurrent issues of the same SKU run one after the
other on PostgreSQL and the second sees what the first left: on-hand never goes
negative (the CHECK constraints on both tables are the last line of defence).

Lock order, to stay deadlock-free: SKU, then level, then the audit chain head.
Each move writes an audit entry, and the audit head stays locked until commit, so a
transaction that moves more than one SKU must take all its SKU locks first, in primary-key
order, with ``lock_skus()`` -- before its first ``audit.record()`` or stock move. Otherwise
two such transactions can each hold a SKU the other wants while one of them holds the head.

Unit cost is a moving average over receipts (U1.1): on a receipt of ``q`` at
``c`` with ``Q`` on hand (all locations) at average ``a``, the new average is
``(Q*a + q*c) / (Q + q)``, rounded half-up to 2 places. Other moves carry the
average in force when they happen and do not change it.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.services import notify
from kefu.people.models import Role
from kefu.uniforms.models import Location, Sku, StockLevel, StockMove

CENT = Decimal("0.01")
Reference = models.Model | tuple[str, Any] | None


def money(value: Any, *, field: str = "unit_cost") -> Decimal:
    """A non-negative amount with at most 2 decimal places, or a ValidationError naming ``field``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as e:
        raise ValidationError({field: _("Enter an amount such as 12.50.")}) from e
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: _("Enter an amount of zero or more.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Enter an amount with at most 2 decimal places.")})
    return amount.quantize(CENT)


def moving_average(on_hand: int, average: Decimal, quantity: int, unit_cost: Decimal) -> Decimal:
    if on_hand <= 0:
        return unit_cost.quantize(CENT, ROUND_HALF_UP)
    total = Decimal(on_hand) * average + Decimal(quantity) * unit_cost
    return (total / Decimal(on_hand + quantity)).quantize(CENT, ROUND_HALF_UP)


def _reference(reference: Reference) -> tuple[str, str]:
    if reference is None:
        return "", ""
    if isinstance(reference, models.Model):
        return reference._meta.label_lower, str(reference.pk)
    kind, ident = reference
    return str(kind)[:40], str(ident)[:64]


def _positive(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        try:
            quantity = int(str(quantity).strip())
        except ValueError as e:
            raise ValidationError({"quantity": _("Enter a whole number.")}) from e
    if quantity <= 0:
        raise ValidationError({"quantity": _("Enter a quantity of at least 1.")})
    return quantity


def lock_skus(skus: Any) -> None:
    """Lock the SKU rows (objects or ids) a multi-move transaction will touch, in primary-key order."""
    ids = sorted({getattr(s, "pk", s) for s in skus})
    if ids:
        list(Sku.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _locked_level(sku: Sku, location: Location) -> StockLevel:
    # get_or_create survives a concurrent insert of the same row (it re-reads after the
    # unique violation); the lock is then taken on the one row both see.
    level, _created = StockLevel.objects.get_or_create(sku=sku, location=location)
    return StockLevel.objects.select_for_update().get(pk=level.pk)


def admin_staff_users() -> models.QuerySet:
    today = timezone.localdate()
    return get_user_model().objects.filter(
        is_active=True,
        role_assignments__role=Role.ADMIN_STAFF,
        role_assignments__start_date__lte=today,
    ).filter(
        Q(role_assignments__end_date__isnull=True) | Q(role_assignments__end_date__gte=today)
    ).distinct()


def new_stock_on_hand(sku: Sku) -> int:
    return StockLevel.objects.filter(sku=sku, location__kind=Location.Kind.NEW).aggregate(
        n=Coalesce(Sum("on_hand"), 0))["n"]


def _check_reorder(sku: Sku) -> None:
    """Alert admin staff once when new stock falls to or below the reorder point (the SKU row is locked)."""
    if sku.reorder_point <= 0:
        if sku.low_stock_since is not None:
            sku.low_stock_since = None
            sku.save(update_fields=["low_stock_since"])
        return
    on_hand = new_stock_on_hand(sku)
    if on_hand <= sku.reorder_point and sku.low_stock_since is None:
        sku.low_stock_since = timezone.now()
        sku.save(update_fields=["low_stock_since"])
        style = sku.style
        notify(
            recipients=list(admin_staff_users()),
            title=_("Low stock: %(sku)s") % {"sku": sku.code},
            body=_("%(style)s, size %(size)s: %(n)s left in new stock; the reorder point is %(point)s.") % {
                "style": style.name, "size": sku.size.code, "n": on_hand, "point": sku.reorder_point,
            },
            url=reverse("uniforms:stock_levels") + "?low=1",
        )
    elif on_hand > sku.reorder_point and sku.low_stock_since is not None:
        sku.low_stock_since = None
        sku.save(update_fields=["low_stock_since"])


@transaction.atomic
def _move(
    *,
    actor,
    sku: Sku,
    location: Location,
    kind: str,
    quantity: int,
    unit_cost: Decimal | None = None,
    reference: Reference = None,
    reason: str = "",
    idempotency_key: str | None = None,
    at: datetime.datetime | None = None,
) -> StockMove:
    locked = Sku.objects.select_for_update().select_related("style", "size").get(pk=sku.pk)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        existing = StockMove.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if (existing.sku_id, existing.location_id, existing.kind, existing.quantity) != (
                    sku.pk, location.pk, kind, quantity):
                raise ValidationError({"idempotency_key": _(
                    "This idempotency key was already used for a different stock move.")})
            return existing
    if kind in (StockMove.Kind.RECEIVE, StockMove.Kind.RETURN) and not (location.active and locked.active):
        raise ValidationError(_("%(sku)s or %(location)s is inactive: it cannot take stock in.") % {
            "sku": locked.code, "location": location.name})
    level = _locked_level(locked, location)
    before = level.on_hand
    after = before + quantity
    if after < 0:
        raise ValidationError({"quantity": _(
            "Not enough stock of %(sku)s at %(location)s: %(on_hand)s on hand, %(wanted)s wanted."
        ) % {"sku": locked.code, "location": location.name, "on_hand": before, "wanted": -quantity}})
    old_average = locked.unit_cost
    if kind == StockMove.Kind.RECEIVE:
        assert unit_cost is not None
        total = StockLevel.objects.filter(sku=locked).aggregate(n=Coalesce(Sum("on_hand"), 0))["n"]
        locked.unit_cost = moving_average(total, old_average, quantity, unit_cost)
        move_cost = unit_cost
    else:
        move_cost = old_average
    ref_type, ref_id = _reference(reference)
    move = StockMove(
        sku=locked, location=location, kind=kind, quantity=quantity, unit_cost=move_cost,
        value=(Decimal(quantity) * move_cost).quantize(CENT, ROUND_HALF_UP), on_hand_after=after,
        reference_type=ref_type, reference_id=ref_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=at or timezone.now(), reason=(reason or "").strip(), idempotency_key=key,
    )
    move.full_clean(exclude=["sku", "location", "actor"])
    move.save()
    level.on_hand = after
    level.save(update_fields=["on_hand", "updated_at"])
    if locked.unit_cost != old_average:
        locked.save(update_fields=["unit_cost", "updated_at"])
    sku.unit_cost = locked.unit_cost
    changes: dict[str, Any] = {
        "sku": [None, locked.code],
        "location": [None, location.code],
        "quantity": [None, quantity],
        "unit_cost": [None, str(move_cost)],
        "on_hand": [before, after],
    }
    if ref_type:
        changes["reference"] = [None, f"{ref_type}:{ref_id}"]
    if locked.unit_cost != old_average:
        changes["average_unit_cost"] = [str(old_average), str(locked.unit_cost)]
    audit.record(actor=actor, action=f"stock.{kind}", obj=move, changes=changes, reason=move.reason,
                 object_repr=f"{locked.code} {quantity:+d} @ {location.code}")
    _check_reorder(locked)
    return move


def stock_receive(*, actor, sku: Sku, location: Location, quantity: int, unit_cost: Any,
                  reference: Reference = None, reason: str = "", idempotency_key: str | None = None,
                  at: datetime.datetime | None = None) -> StockMove:
    """Goods in (a receipt, U1.2); updates the SKU's moving-average cost."""
    return _move(actor=actor, sku=sku, location=location, kind=StockMove.Kind.RECEIVE,
                 quantity=_positive(quantity), unit_cost=money(unit_cost), reference=reference, reason=reason,
                 idempotency_key=idempotency_key, at=at)


def stock_issue(*, actor, sku: Sku, location: Location, quantity: int, reference: Reference = None,
                reason: str = "", idempotency_key: str | None = None,
                at: datetime.datetime | None = None) -> StockMove:
    """Goods out to a person (U2.2). Refused, changing nothing, when on-hand is short."""
    return _move(actor=actor, sku=sku, location=location, kind=StockMove.Kind.ISSUE,
                 quantity=-_positive(quantity), reference=reference, reason=reason,
                 idempotency_key=idempotency_key, at=at)


def stock_return(*, actor, sku: Sku, location: Location, quantity: int, reference: Reference = None,
                 reason: str = "", idempotency_key: str | None = None,
                 at: datetime.datetime | None = None) -> StockMove:
    """Items handed back into stock (e.g. reusable items of a leaver, into a used-stock location)."""
    return _move(actor=actor, sku=sku, location=location, kind=StockMove.Kind.RETURN,
                 quantity=_positive(quantity), reference=reference, reason=reason,
                 idempotency_key=idempotency_key, at=at)


def stock_scrap(*, actor, sku: Sku, location: Location, quantity: int, reason: str, reference: Reference = None,
                idempotency_key: str | None = None, at: datetime.datetime | None = None) -> StockMove:
    """Stock written off as unusable (U4.2); needs a reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the stock is scrapped.")})
    return _move(actor=actor, sku=sku, location=location, kind=StockMove.Kind.SCRAP,
                 quantity=-_positive(quantity), reference=reference, reason=reason,
                 idempotency_key=idempotency_key, at=at)


def stock_adjust(*, actor, sku: Sku, location: Location, quantity: int, reason: str, reference: Reference = None,
                 idempotency_key: str | None = None, at: datetime.datetime | None = None,
                 kind: str = StockMove.Kind.ADJUST) -> StockMove:
    """A signed correction with a reason (stock-count variances use kind=count)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the stock is adjusted.")})
    try:
        signed = int(str(quantity).strip())
    except ValueError as e:
        raise ValidationError({"quantity": _("Enter a whole number.")}) from e
    if signed == 0:
        raise ValidationError({"quantity": _("An adjustment cannot be zero.")})
    if kind not in (StockMove.Kind.ADJUST, StockMove.Kind.COUNT):
        raise ValueError(kind)
    return _move(actor=actor, sku=sku, location=location, kind=kind, quantity=signed, reference=reference,
                 reason=reason, idempotency_key=idempotency_key, at=at)


def stock_level_mismatches() -> list[dict[str, Any]]:
    """Every (SKU, location) whose stored on-hand differs from the sum of its moves (should be none)."""
    move_sum = (StockMove.objects.filter(sku=OuterRef("sku"), location=OuterRef("location"))
                .values("sku", "location").annotate(t=Sum("quantity")).values("t"))
    bad_levels = (StockLevel.objects.annotate(moved=Coalesce(Subquery(move_sum), Value(0)))
                  .exclude(on_hand=F("moved")).values("sku__code", "location__code", "on_hand", "moved"))
    has_level = StockLevel.objects.filter(sku=OuterRef("sku"), location=OuterRef("location"))
    orphans = (StockMove.objects.filter(~Exists(has_level)).values("sku__code", "location__code")
               .annotate(moved=Sum("quantity")))
    out = [dict(row) for row in bad_levels]
    out += [dict(row, on_hand=None) for row in orphans]
    return out
