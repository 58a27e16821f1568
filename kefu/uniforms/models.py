"""Uniforms: catalogue, stock ledger, entitlements, holdings, requisitions and
issuance, damage and loss, compensation, scrapping, disposal and dress checks
(POLICY.md U1-U4).

Stock changes only through ``StockMove`` (append-only); ``StockLevel`` is the
derived on-hand per SKU and location, kept in step by the services in the same
transaction and locked with ``select_for_update()`` so concurrent issues
serialise (DESIGN.md "Stock").
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.people.models import Employee

USER = settings.AUTH_USER_MODEL


# ---------------------------------------------------------------------------
# Catalogue (U1.1)
# ---------------------------------------------------------------------------


class ItemType(models.TextChoices):
    TOP = "top", _("Top")
    TROUSERS = "trousers", _("Trousers")
    SKIRT = "skirt", _("Skirt")
    TIE = "tie", _("Tie")
    SILK_SCARF = "silk_scarf", _("Silk scarf")
    WORK_BADGE = "work_badge", _("Work badge")
    OTHER = "other", _("Other")


def item_type_order(field: str = "item_type") -> models.Case:
    """Sort key following ItemType's declaration (top, trousers, skirt, …), not the codes' alphabet."""
    return models.Case(*[models.When(**{field: value}, then=i) for i, value in enumerate(ItemType.values)],
                       default=len(ItemType.values), output_field=models.IntegerField())


class Season(models.TextChoices):
    SUMMER = "summer", _("Summer")
    WINTER = "winter", _("Winter")
    ALL = "all", _("All seasons")


class GenderVariant(models.TextChoices):
    FEMALE = "F", _("Women's")
    MALE = "M", _("Men's")
    ANY = "U", _("Unisex")


class Style(models.Model):
    code = models.CharField(_("style code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    item_type = models.CharField(_("item type"), max_length=12, choices=ItemType.choices)
    gender = models.CharField(_("cut"), max_length=1, choices=GenderVariant.choices, default=GenderVariant.ANY)
    colour = models.CharField(_("colour"), max_length=50, blank=True)
    material = models.CharField(_("material"), max_length=100, blank=True)
    season = models.CharField(_("season"), max_length=8, choices=Season.choices, default=Season.ALL)
    # Pillow is not a dependency: the photo is a FileField whose type and size
    # the service checks (image/jpeg, image/png, image/webp).
    photo = models.FileField(_("photo"), upload_to="uniforms/styles/", blank=True)
    photo_content_type = models.CharField(max_length=50, blank=True)
    design_notes = models.TextField(_("design notes"), blank=True)
    reusable = models.BooleanField(
        _("reusable when returned"), default=False,
        help_text=_("Returned items of this style may go back to stock as used."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_type", "code"]
        verbose_name = _("style")
        verbose_name_plural = _("styles")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Size(models.Model):
    code = models.CharField(_("size code"), max_length=16, unique=True)
    label = models.CharField(_("label"), max_length=50, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("size")
        verbose_name_plural = _("sizes")

    def __str__(self) -> str:
        return self.label or self.code


class Sku(models.Model):
    style = models.ForeignKey(Style, verbose_name=_("style"), on_delete=models.PROTECT, related_name="skus")
    size = models.ForeignKey(Size, verbose_name=_("size"), on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(_("SKU code"), max_length=48, unique=True)
    # Moving-average cost from receipts (U1.1); only stock_receive changes it.
    unit_cost = models.DecimalField(_("unit cost"), default=0, max_digits=12, decimal_places=2)
    reorder_point = models.PositiveIntegerField(_("reorder point"), default=0)
    # Set when new-stock on-hand falls to or below the reorder point, cleared
    # when it rises above: the alert goes out once per crossing.
    low_stock_since = models.DateTimeField(_("low since"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["style", "size"], name="uniforms_sku_style_size_unique"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="uniforms_sku_unit_cost_nonnegative"),
        ]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")

    def __str__(self) -> str:
        return self.code


class SetDefinition(models.Model):
    """What a "set" is (U2.1): e.g. top + (trousers | skirt) + (tie | silk scarf)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    gender = models.CharField(_("cut"), max_length=1, choices=GenderVariant.choices, default=GenderVariant.ANY)
    season = models.CharField(_("season"), max_length=8, choices=Season.choices, default=Season.ALL)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("set definition")
        verbose_name_plural = _("set definitions")

    def __str__(self) -> str:
        return self.name


class SetComponent(models.Model):
    """One line of a set: any one of ``item_types`` (alternatives), ``quantity`` of it."""

    set_definition = models.ForeignKey(SetDefinition, on_delete=models.CASCADE, related_name="components")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    item_types = models.JSONField(_("item types"), default=list)
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)

    class Meta:
        ordering = ["set_definition", "position"]
        constraints = [
            models.UniqueConstraint(fields=["set_definition", "position"], name="uniforms_setcomponent_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="uniforms_setcomponent_quantity_positive"),
        ]
        verbose_name = _("set component")
        verbose_name_plural = _("set components")

    def __str__(self) -> str:
        return " | ".join(self.item_types)

    @property
    def item_type_labels(self) -> list[str]:
        return [str(ItemType(t).label) if t in ItemType.values else str(t) for t in self.item_types]

    def clean(self) -> None:
        valid = set(ItemType.values)
        if not isinstance(self.item_types, list) or not self.item_types:
            raise ValidationError({"item_types": _("Choose at least one item type.")})
        bad = [t for t in self.item_types if t not in valid]
        if bad:
            raise ValidationError({"item_types": _("Unknown item type: %(types)s") % {"types": ", ".join(map(str, bad))}})


# ---------------------------------------------------------------------------
# Stock
# ---------------------------------------------------------------------------


class Location(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New stock")
        USED = "used", _("Used (returned) stock")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.NEW)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")

    def __str__(self) -> str:
        return self.name


class StockMove(models.Model):
    """One append-only ledger line. ``quantity`` is signed: + in, - out."""

    class Kind(models.TextChoices):
        RECEIVE = "receive", _("Receipt")
        ISSUE = "issue", _("Issue")
        RETURN = "return", _("Return")
        SCRAP = "scrap", _("Scrap")
        ADJUST = "adjust", _("Adjustment")
        COUNT = "count", _("Stock-count variance")

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="moves")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    on_hand_after = models.IntegerField(_("on hand after"))
    reference_type = models.CharField(_("reference type"), max_length=40, blank=True)
    reference_id = models.CharField(_("reference"), max_length=64, blank=True)
    actor = models.ForeignKey(USER, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="uniforms_stockmove_quantity_nonzero"),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0), name="uniforms_stockmove_on_hand_nonnegative"),
            models.CheckConstraint(
                condition=(Q(kind__in=["receive", "return"], quantity__gt=0)
                           | Q(kind__in=["issue", "scrap"], quantity__lt=0)
                           | Q(kind__in=["adjust", "count"])),
                name="uniforms_stockmove_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "location", "id"], name="uniforms_move_sku_loc_idx"),
            models.Index(fields=["reference_type", "reference_id"], name="uniforms_move_ref_idx"),
            models.Index(fields=["location", "id"], name="uniforms_move_location_idx"),
        ]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.sku_id}@{self.location_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Stock moves cannot be changed; record a correcting move."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Stock moves cannot be deleted; record a correcting move."))


class StockLevel(models.Model):
    """On-hand of one SKU at one location: the sum of its moves (locked on every move)."""

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="levels")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="levels")
    on_hand = models.IntegerField(_("on hand"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku", "location"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="uniforms_stocklevel_sku_location_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="uniforms_stocklevel_on_hand_nonnegative"),
        ]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.on_hand}"


class StockCount(models.Model):
    """A physical stock count (盤點); variances become moves only on approval."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    number = models.CharField(_("number"), max_length=32, unique=True)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="counts")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    counted_on = models.DateField(_("counted on"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")

    def __str__(self) -> str:
        return self.number


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    expected = models.IntegerField(_("expected"))
    counted = models.IntegerField(_("counted"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["count", "sku__code"]
        constraints = [
            models.UniqueConstraint(fields=["count", "sku"], name="uniforms_countline_sku_unique"),
            models.CheckConstraint(condition=Q(counted__isnull=True) | Q(counted__gte=0),
                                   name="uniforms_countline_counted_nonnegative"),
        ]
        verbose_name = _("stock count line")
        verbose_name_plural = _("stock count lines")

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.expected} / {self.counted}"

    @property
    def variance(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


class NumberSequence(models.Model):
    """Per-prefix, per-year running numbers for forms (RQ-2025-00001); locked while taken."""

    key = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}:{self.last}"


# ---------------------------------------------------------------------------
# People side: sizes, entitlements, holdings (U2.1, U4.1)
# ---------------------------------------------------------------------------


class SizeProfile(models.Model):
    employee = models.OneToOneField(Employee, verbose_name=_("employee"), on_delete=models.CASCADE,
                                    related_name="size_profile")
    height_cm = models.PositiveSmallIntegerField(_("height (cm)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("size profile")
        verbose_name_plural = _("size profiles")

    def __str__(self) -> str:
        return str(self.employee)


class SizeProfileEntry(models.Model):
    profile = models.ForeignKey(SizeProfile, on_delete=models.CASCADE, related_name="entries")
    item_type = models.CharField(_("item type"), max_length=12, choices=ItemType.choices)
    size = models.ForeignKey(Size, verbose_name=_("size"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["profile", "item_type"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "item_type"], name="uniforms_sizeentry_item_type_unique"),
        ]
        verbose_name = _("size")
        verbose_name_plural = _("sizes")

    def __str__(self) -> str:
        return f"{self.item_type}: {self.size_id}"


class Entitlement(models.Model):
    """Sets an employee is owed (U2.1 new hire, U4.1 renewal)."""

    class Reason(models.TextChoices):
        NEW_HIRE = "new_hire", _("New hire")
        RENEWAL = "renewal", _("Renewal")

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_entitlements")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    granted_on = models.DateField(_("granted on"))
    sets_owed = models.PositiveSmallIntegerField(_("sets owed"))
    sets_issued = models.PositiveSmallIntegerField(_("sets issued"), default=0)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-granted_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "reason", "granted_on"], name="uniforms_entitlement_unique"),
            models.CheckConstraint(condition=Q(sets_issued__lte=models.F("sets_owed")),
                                   name="uniforms_entitlement_issued_within_owed"),
        ]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.reason} {self.sets_issued}/{self.sets_owed}"

    @property
    def sets_outstanding(self) -> int:
        return self.sets_owed - self.sets_issued


class Holding(models.Model):
    """One item an employee holds (one row per piece), from its issue to its end."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        RETURNED = "returned", _("Returned")
        SCRAPPED = "scrapped", _("Scrapped")
        LOST = "lost", _("Lost")

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_holdings")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="holdings")
    issued_on = models.DateField(_("issued on"))
    renewal_due_on = models.DateField(_("due for renewal"), db_index=True)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)
    issuance_line = models.ForeignKey("IssuanceLine", verbose_name=_("issuance"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="holdings")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.HELD)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["employee", "issued_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(renewal_due_on__gte=models.F("issued_on")),
                                   name="uniforms_holding_due_after_issue"),
            models.CheckConstraint(
                condition=(Q(status="held", ended_on__isnull=True) | (~Q(status="held") & Q(ended_on__isnull=False))),
                name="uniforms_holding_ended_iff_not_held",
            ),
        ]
        indexes = [
            models.Index(fields=["employee", "status"], name="uniforms_holding_emp_st_idx"),
            models.Index(fields=["status", "renewal_due_on"], name="uniforms_holding_due_idx"),
        ]
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.sku_id} {self.issued_on}"


class ReturnCheckIn(models.Model):
    """Items a leaving employee handed back (or did not), checked in by admin staff."""

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_returns")
    checked_in_by = models.ForeignKey(USER, verbose_name=_("checked in by"), on_delete=models.PROTECT, related_name="+")
    checked_in_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("return check-in")
        verbose_name_plural = _("return check-ins")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.checked_in_on}"


class ReturnLine(models.Model):
    class Outcome(models.TextChoices):
        RESTOCK = "restock", _("Back to stock as used")
        SCRAP = "scrap", _("Returned, scrapped")
        NOT_RETURNED = "not_returned", _("Not returned")

    check_in = models.ForeignKey(ReturnCheckIn, on_delete=models.CASCADE, related_name="lines")
    holding = models.OneToOneField(Holding, verbose_name=_("item"), on_delete=models.PROTECT, related_name="return_line")
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    location = models.ForeignKey(Location, verbose_name=_("location"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["check_in", "id"]
        verbose_name = _("returned item")
        verbose_name_plural = _("returned items")

    def __str__(self) -> str:
        return f"{self.holding_id} {self.outcome}"


# ---------------------------------------------------------------------------
# Requisition and issuance (U2.2)
# ---------------------------------------------------------------------------


class Requisition(models.Model):
    """《制服領用申請表》."""

    class Reason(models.TextChoices):
        NEW_HIRE = "new_hire", _("New hire")
        RENEWAL = "renewal", _("Renewal")
        REPLACEMENT = "replacement", _("Replacement")
        EXTRA = "extra", _("Extra")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PARTIALLY_ISSUED = "partially_issued", _("Partially issued")
        ISSUED = "issued", _("Issued")
        RECEIVED = "received", _("Received")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=32, unique=True)
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_requisitions")
    filled_by = models.ForeignKey(USER, verbose_name=_("filled in by"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    extra_reason = models.TextField(_("reason for extra items"), blank=True)
    entitlement = models.ForeignKey(Entitlement, verbose_name=_("entitlement"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="requisitions")
    damage_report = models.ForeignKey("DamageReport", verbose_name=_("damage/loss report"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="replacement_requisitions")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approver = models.ForeignKey(USER, verbose_name=_("approver"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    approved_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="uniforms_req_status_idx")]
        verbose_name = _("uniform requisition")
        verbose_name_plural = _("uniform requisitions")

    def __str__(self) -> str:
        return self.number


class RequisitionLine(models.Model):
    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    issued_quantity = models.PositiveSmallIntegerField(_("issued"), default=0)
    backordered = models.PositiveSmallIntegerField(_("back-ordered"), default=0)

    class Meta:
        ordering = ["requisition", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="uniforms_reqline_quantity_positive"),
            models.CheckConstraint(condition=Q(issued_quantity__lte=models.F("quantity")),
                                   name="uniforms_reqline_issued_within_quantity"),
        ]
        verbose_name = _("requisition line")
        verbose_name_plural = _("requisition lines")

    def __str__(self) -> str:
        return f"{self.sku_id} x{self.quantity}"


class Issuance(models.Model):
    """發放記錄: what admin handed over, with name/department/style snapshots (U2.2)."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    requisition = models.ForeignKey(Requisition, verbose_name=_("requisition"), on_delete=models.PROTECT,
                                    related_name="issuances")
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_issuances")
    employee_name = models.CharField(_("name"), max_length=100)
    department_name = models.CharField(_("department"), max_length=100)
    location = models.ForeignKey(Location, verbose_name=_("issued from"), on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(USER, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    receipt_confirmed_at = models.DateTimeField(_("receipt confirmed at"), null=True, blank=True)
    receipt_confirmed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issuance record")
        verbose_name_plural = _("issuance records")

    def __str__(self) -> str:
        return self.number


class IssuanceLine(models.Model):
    issuance = models.ForeignKey(Issuance, on_delete=models.CASCADE, related_name="lines")
    requisition_line = models.ForeignKey(RequisitionLine, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="issuance_lines")
    sku = models.ForeignKey(Sku, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    style_name = models.CharField(_("style"), max_length=100)
    size_code = models.CharField(_("size"), max_length=16)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["issuance", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="uniforms_issueline_quantity_positive"),
        ]
        verbose_name = _("issuance line")
        verbose_name_plural = _("issuance lines")

    def __str__(self) -> str:
        return f"{self.style_name} {self.size_code} x{self.quantity}"


# ---------------------------------------------------------------------------
# Attachments, damage and loss, compensation (U3.2)
# ---------------------------------------------------------------------------


class DamageReport(models.Model):
    class Kind(models.TextChoices):
        DAMAGE = "damage", _("Damage")
        LOSS = "loss", _("Loss")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        ASSESSED = "assessed", _("Assessed")
        COMPENSATION_CONFIRMED = "compensation_confirmed", _("Compensation confirmed")
        CLOSED = "closed", _("Closed")

    class Cause(models.TextChoices):
        NORMAL_WEAR = "normal_wear", _("Normal wear")
        NOT_AT_FAULT = "not_at_fault", _("Not her fault")
        AT_FAULT = "at_fault", _("Her fault")

    number = models.CharField(_("number"), max_length=32, unique=True)
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_damage_reports")
    holding = models.ForeignKey(Holding, verbose_name=_("item"), on_delete=models.PROTECT, related_name="damage_reports")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    description = models.TextField(_("what happened"))
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    reported_by = models.ForeignKey(USER, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.REPORTED)
    cause = models.CharField(_("cause"), max_length=14, choices=Cause.choices, blank=True)
    assessed_by = models.ForeignKey(USER, verbose_name=_("assessed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
    notes = models.TextField(_("assessment notes"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attachments = GenericRelation("core.Attachment")  # photos and scans (core:attachment serves them)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("damage/loss report")
        verbose_name_plural = _("damage/loss reports")

    def __str__(self) -> str:
        return self.number


class Compensation(models.Model):
    """Residual value owed for an item lost or damaged by her fault, or not returned on leaving (U3.2)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting employee confirmation")
        CONFIRMED = "confirmed", _("Confirmed by employee")
        EXPORTED = "exported", _("Exported for payroll")
        WAIVED = "waived", _("Waived")

    holding = models.ForeignKey(Holding, verbose_name=_("item"), on_delete=models.PROTECT, related_name="compensations")
    damage_report = models.OneToOneField(DamageReport, verbose_name=_("damage/loss report"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="compensation")
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_compensations")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    computed_from = models.JSONField(_("computation"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    confirmed_by_employee_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    payroll_month = models.DateField(_("payroll month"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    exported_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="uniforms_compensation_amount_nonnegative"),
            models.UniqueConstraint(fields=["holding"], condition=~Q(status="waived"),
                                    name="uniforms_compensation_one_per_item"),
        ]
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.amount}"


# ---------------------------------------------------------------------------
# Scrapping and disposal (U4.2)
# ---------------------------------------------------------------------------


class ScrapRequest(models.Model):
    """《制服報廢申請表》."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        HEAD_APPROVED = "head_approved", _("Signed by department head")
        HEAD_REJECTED = "head_rejected", _("Rejected by department head")
        ADMIN_APPROVED = "admin_approved", _("Approved by admin")
        ADMIN_REJECTED = "admin_rejected", _("Rejected by admin")
        DISPOSED = "disposed", _("Disposed")

    number = models.CharField(_("number"), max_length=32, unique=True)
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="uniform_scrap_requests")
    filled_by = models.ForeignKey(USER, verbose_name=_("filled in by"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    head_signed_by = models.ForeignKey(USER, verbose_name=_("department head"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    head_signed_at = models.DateTimeField(null=True, blank=True)
    head_comment = models.TextField(_("department head's comment"), blank=True)
    admin_reviewed_by = models.ForeignKey(USER, verbose_name=_("admin reviewer"), null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    admin_reviewed_at = models.DateTimeField(null=True, blank=True)
    admin_comment = models.TextField(_("admin's comment"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("uniform scrap request")
        verbose_name_plural = _("uniform scrap requests")

    def __str__(self) -> str:
        return self.number


class DisposalBatch(models.Model):
    class Method(models.TextChoices):
        RECYCLE = "recycle", _("Recycling")
        SHRED = "shred", _("Shredding")
        DESTROY = "destroy", _("Destruction")
        OTHER = "other", _("Other")

    number = models.CharField(_("number"), max_length=32, unique=True)
    disposed_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    performed_by = models.CharField(_("carried out by"), max_length=200)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-disposed_on", "-id"]
        verbose_name = _("disposal batch")
        verbose_name_plural = _("disposal batches")

    def __str__(self) -> str:
        return self.number


class ScrapRequestLine(models.Model):
    scrap_request = models.ForeignKey(ScrapRequest, on_delete=models.CASCADE, related_name="lines")
    holding = models.ForeignKey(Holding, verbose_name=_("item"), on_delete=models.PROTECT, related_name="scrap_lines")
    condition = models.CharField(_("condition"), max_length=200, blank=True)
    disposal_batch = models.ForeignKey(DisposalBatch, verbose_name=_("disposal batch"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="scrap_lines")

    class Meta:
        ordering = ["scrap_request", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scrap_request", "holding"], name="uniforms_scrapline_holding_unique"),
        ]
        verbose_name = _("scrap request line")
        verbose_name_plural = _("scrap request lines")

    def __str__(self) -> str:
        return f"{self.scrap_request_id}:{self.holding_id}"


class DisposalLine(models.Model):
    """One item destroyed in a batch: a scrapped holding (from a scrap form or a leaving
    return) or stock written off (``sku`` + ``quantity``, with its scrap move)."""

    batch = models.ForeignKey(DisposalBatch, on_delete=models.CASCADE, related_name="lines")
    holding = models.OneToOneField(Holding, null=True, blank=True, on_delete=models.PROTECT, related_name="disposal")
    sku = models.ForeignKey(Sku, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    stock_move = models.OneToOneField(StockMove, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["batch", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="uniforms_disposalline_quantity_positive"),
        ]
        verbose_name = _("disposed item")
        verbose_name_plural = _("disposed items")

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.sku_id} x{self.quantity}"


# ---------------------------------------------------------------------------
# Dress-code spot checks (U3.1)
# ---------------------------------------------------------------------------


class DressCheck(models.Model):
    CHECK_FIELDS = ("wearing", "clean_tidy", "unaltered", "badge", "tie_or_scarf")

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="dress_checks")
    checked_by = models.ForeignKey(USER, verbose_name=_("checked by"), on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField(_("date"), db_index=True)
    wearing = models.BooleanField(_("wearing the uniform"))
    clean_tidy = models.BooleanField(_("clean and tidy"))
    unaltered = models.BooleanField(_("unaltered"))
    badge = models.BooleanField(_("work badge worn"))
    tie_or_scarf = models.BooleanField(_("tie or scarf worn"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_on", "-id"]
        indexes = [models.Index(fields=["employee", "checked_on"], name="uniforms_dress_emp_idx")]
        verbose_name = _("dress check")
        verbose_name_plural = _("dress checks")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.checked_on}"

    # A violation is any check answered "no" (U3.1); use VIOLATION_Q in queries.
    @property
    def violations(self) -> list[str]:
        return [f for f in self.CHECK_FIELDS if not getattr(self, f)]


DRESS_VIOLATION_Q = (Q(wearing=False) | Q(clean_tidy=False) | Q(unaltered=False) | Q(badge=False)
                     | Q(tie_or_scarf=False))
