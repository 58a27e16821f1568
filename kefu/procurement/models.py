"""Uniform procurement (POLICY.md U1.2): suppliers and their qualifications, purchase plans,
requests for quotation with negotiation rounds, the award, purchase orders (the contract),
and receipt with acceptance on arrival (到貨驗收).

Accepted units enter stock only through ``kefu.uniforms`` services (``stock_receive``); this
app never writes the uniforms tables. Money is Decimal with 2 places.

Flows (one service per arrow, see services.py):

    plan:     draft ─submit─▶ submitted ─approve─▶ approved            (total ≤ second-approval amount)
                 ▲               │ └─approve─▶ awaiting second ─approve (another leader)─▶ approved
                 └──returned ◀─return─┘ (either step)    rejected ◀─reject─ (either step)
    RFQ:      open ─award─▶ awarded ─▶ purchase order     (award within budget)
                 └─award over budget─▶ award pending ─leadership approves─▶ awarded
                                              └─leadership rejects─▶ open (negotiate again)
    order:    draft ─issue─▶ issued ─receipt─▶ partially received ─…─▶ closed (all received or settled)
    receipt:  draft ─post─▶ posted (accepted units into stock once; rejected units open a supplier issue)
    issue:    open ─close─▶ closed (return / credit settle the units; a replacement closes it on arrival)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kefu.uniforms.models import Location, Sku, StockMove, Style

USER = settings.AUTH_USER_MODEL
MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
TOTAL: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class NumberSequence(models.Model):
    """The last running number per prefix and year (``PP-2026``); locked while a number is taken."""

    key = models.CharField(max_length=32, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


# ---------------------------------------------------------------------------
# Suppliers
# ---------------------------------------------------------------------------


class Supplier(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet qualified")
        QUALIFIED = "qualified", _("Qualified")
        SUSPENDED = "suspended", _("Suspended")
        BLACKLISTED = "blacklisted", _("Blacklisted")

    code = models.CharField(_("supplier code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True,
        help_text=_("The number on the business licence (統一社會信用代碼), 18 characters."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""),
                                    name="procurement_supplier_credit_code_unique"),
        ]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SupplierContact(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_primary = models.BooleanField(_("main contact"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier", "-is_primary", "id"]
        verbose_name = _("supplier contact")
        verbose_name_plural = _("supplier contacts")

    def __str__(self) -> str:
        return self.name


class SupplierCertificate(models.Model):
    """A qualification document: the business licence, a quality or production certificate.

    A current (not withdrawn) certificate past its expiry date bars the supplier from being
    invited or awarded (U1.2: qualified suppliers only) until a renewed one replaces it.
    """

    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        QUALITY = "quality", _("Quality certificate")
        PRODUCTION = "production", _("Production licence")
        OTHER = "other", _("Other certificate")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT,
                                 related_name="certificates")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    number = models.CharField(_("certificate number"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True,
                                  help_text=_("Leave empty for a certificate without an expiry date."))
    scan = models.FileField(_("scan"), upload_to="procurement/certificates/%Y/", blank=True)
    scan_name = models.CharField(_("file name"), max_length=200, blank=True)
    scan_type = models.CharField(max_length=80, blank=True)
    scan_size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(USER, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["supplier", "kind", "-expires_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__isnull=True) | Q(expires_on__gte=F("issued_on")),
                name="procurement_certificate_expires_after_issue",
            ),
        ]
        indexes = [models.Index(fields=["supplier", "withdrawn_at", "expires_on"], name="procurement_cert_current_idx")]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------
# Purchase plans (U1.2)
# ---------------------------------------------------------------------------


class PlanSeason(models.TextChoices):
    SPRING = "spring", _("Spring")
    SUMMER = "summer", _("Summer")
    AUTUMN = "autumn", _("Autumn")
    WINTER = "winter", _("Winter")


class PurchasePlan(models.Model):
    """採購計劃: what admin intends to buy for a season, with the budget (U1.2)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        AWAITING_SECOND = "awaiting_second", _("Awaiting second approval")
        RETURNED = "returned", _("Returned for changes")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved")

    number = models.CharField(_("number"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    season = models.CharField(_("season"), max_length=8, choices=PlanSeason.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    horizon_start = models.DateField(_("covers from"))
    horizon_end = models.DateField(_("covers until"))
    expected_new_hires = models.PositiveIntegerField(
        _("expected new hires"), default=0,
        help_text=_("Customer-service staff expected to join within the plan's period."),
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    total_budget = models.DecimalField(_("budget"), default=0, **TOTAL)
    round = models.PositiveSmallIntegerField(_("submission"), default=0)
    second_approval_amount = models.DecimalField(_("second approval above"), null=True, blank=True, **TOTAL)
    needs_second_approval = models.BooleanField(_("needs a second approval"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(USER, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("drafted by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    PENDING = (Status.SUBMITTED, Status.AWAITING_SECOND)

    class Meta:
        ordering = ["-year", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(horizon_end__gte=F("horizon_start")),
                                   name="procurement_plan_horizon_ordered"),
            models.CheckConstraint(condition=Q(total_budget__gte=0), name="procurement_plan_budget_nonnegative"),
        ]
        indexes = [models.Index(fields=["status", "id"], name="procurement_plan_status_idx")]
        verbose_name = _("purchase plan")
        verbose_name_plural = _("purchase plans")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class PlanLine(models.Model):
    """One style in a plan: its specification, sizes and quantities, target unit price and budget."""

    plan = models.ForeignKey(PurchasePlan, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    style = models.ForeignKey(Style, verbose_name=_("style"), on_delete=models.PROTECT, related_name="+")
    colour = models.CharField(_("colour"), max_length=50, blank=True)
    material = models.CharField(_("material"), max_length=100, blank=True)
    target_unit_price = models.DecimalField(_("target unit price"), default=0, **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    budget = models.DecimalField(_("budget"), default=0, **TOTAL)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "style"], name="procurement_planline_style_unique"),
            models.CheckConstraint(condition=Q(target_unit_price__gte=0), name="procurement_planline_price_nonnegative"),
        ]
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.style_id}"


class PlanLineSize(models.Model):
    """A size of a plan line: the quantity to buy, Kefu's proposal and how it was derived."""

    line = models.ForeignKey(PlanLine, on_delete=models.CASCADE, related_name="sizes")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    proposed = models.PositiveIntegerField(_("proposed"), default=0)
    derivation = models.JSONField(_("how the proposal was derived"), default=dict, blank=True)

    class Meta:
        ordering = ["line", "sku__size__order", "sku__code"]
        constraints = [models.UniqueConstraint(fields=["line", "sku"], name="procurement_planlinesize_sku_unique")]
        verbose_name = _("plan line size")
        verbose_name_plural = _("plan line sizes")

    def __str__(self) -> str:
        return f"{self.sku_id} x{self.quantity}"


class PlanDecision(models.Model):
    """One leadership decision on one submission of a plan."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        RETURN = "return", _("Returned for changes")

    plan = models.ForeignKey(PurchasePlan, on_delete=models.CASCADE, related_name="decisions")
    round = models.PositiveSmallIntegerField(_("submission"))
    step = models.PositiveSmallIntegerField(_("approval step"), default=1)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    decided_by = models.ForeignKey(USER, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"))
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["plan", "decided_at", "id"]
        constraints = [
            # One decision per leader and submission: a double click cannot count as two approvals.
            models.UniqueConstraint(fields=["plan", "round", "decided_by"], name="procurement_decision_once_per_round"),
        ]
        verbose_name = _("plan decision")
        verbose_name_plural = _("plan decisions")

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.round} {self.decision}"


# ---------------------------------------------------------------------------
# Requests for quotation, quotes, negotiation rounds, award (詢價 / 比價 / 議價)
# ---------------------------------------------------------------------------


class Rfq(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Collecting quotes")
        AWARD_PENDING = "award_pending", _("Award awaiting leadership (over budget)")
        AWARDED = "awarded", _("Awarded")

    number = models.CharField(_("number"), max_length=32, unique=True)
    plan = models.OneToOneField(PurchasePlan, verbose_name=_("purchase plan"), on_delete=models.PROTECT,
                                related_name="rfq")
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.OPEN)
    round = models.PositiveSmallIntegerField(_("negotiation round"), default=1)
    quote_due_on = models.DateField(_("quotes due"), null=True, blank=True)
    few_suppliers_reason = models.TextField(_("why fewer suppliers were invited"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("request for quotation")
        verbose_name_plural = _("requests for quotation")

    def __str__(self) -> str:
        return self.number


class Invitation(models.Model):
    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="invitations")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT,
                                 related_name="invitations")
    invited_at = models.DateTimeField(_("invited at"))
    invited_by = models.ForeignKey(USER, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["rfq", "id"]
        constraints = [models.UniqueConstraint(fields=["rfq", "supplier"], name="procurement_invitation_unique")]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.rfq_id}:{self.supplier_id}"


class Quote(models.Model):
    """One supplier's quote in one negotiation round (a later round supersedes an earlier one)."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="quotes")
    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="quotes")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="quotes")
    round = models.PositiveSmallIntegerField(_("round"))
    received_on = models.DateField(_("received on"))
    valid_until = models.DateField(_("valid until"))
    total = models.DecimalField(_("total"), default=0, **TOTAL)
    complete = models.BooleanField(_("covers every line"), default=False)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))
    attachments = GenericRelation("core.Attachment")  # files (core:attachment serves them)

    class Meta:
        ordering = ["rfq", "supplier", "round"]
        constraints = [
            models.UniqueConstraint(fields=["invitation", "round"], name="procurement_quote_once_per_round"),
            models.CheckConstraint(condition=Q(valid_until__gte=F("received_on")),
                                   name="procurement_quote_valid_after_received"),
        ]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self) -> str:
        return f"{self.rfq_id}:{self.supplier_id} R{self.round}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    plan_line = models.ForeignKey(PlanLine, verbose_name=_("plan line"), on_delete=models.PROTECT,
                                  related_name="quote_lines")
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    amount = models.DecimalField(_("amount"), **TOTAL)

    class Meta:
        ordering = ["quote", "plan_line__position", "plan_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "plan_line"], name="procurement_quoteline_unique"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="procurement_quoteline_price_positive"),
        ]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return f"{self.plan_line_id} @ {self.unit_price}"


class Award(models.Model):
    """The decision to buy from one supplier on its latest quote, with the facts it was taken on."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting leadership approval")
        EFFECTIVE = "effective", _("Effective")
        REJECTED = "rejected", _("Rejected by leadership")

    rfq = models.ForeignKey(Rfq, on_delete=models.PROTECT, related_name="awards")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="awards")
    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("awarded total"), **TOTAL)
    budget = models.DecimalField(_("budget"), **TOTAL)
    lowest_total = models.DecimalField(_("lowest quoted total"), **TOTAL)
    quotes_count = models.PositiveSmallIntegerField(_("complete quotes"))
    min_quotes = models.PositiveSmallIntegerField(_("quotes needed"))
    is_lowest = models.BooleanField(_("lowest total"))
    over_budget = models.BooleanField(_("over budget"))
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    awarded_by = models.ForeignKey(USER, verbose_name=_("awarded by"), on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField(_("awarded at"))
    decided_by = models.ForeignKey(USER, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("leadership's comment"), blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["rfq"], condition=~Q(status="rejected"),
                                    name="procurement_award_one_live_per_rfq"),
        ]
        verbose_name = _("award")
        verbose_name_plural = _("awards")

    def __str__(self) -> str:
        return f"{self.rfq_id} → {self.supplier_id}"


# ---------------------------------------------------------------------------
# Purchase orders (the contract)
# ---------------------------------------------------------------------------


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued to the supplier")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        CLOSED = "closed", _("Closed")

    OPEN = (Status.DRAFT, Status.ISSUED, Status.PARTIALLY_RECEIVED)

    number = models.CharField(_("number"), max_length=32, unique=True)
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="order")
    plan = models.ForeignKey(PurchasePlan, verbose_name=_("purchase plan"), on_delete=models.PROTECT,
                             related_name="orders")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    order_date = models.DateField(_("order date"), null=True, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    quality_standard = models.TextField(_("quality standard"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    total = models.DecimalField(_("total"), default=0, **TOTAL)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(USER, verbose_name=_("issued by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="procurement_po_status_idx")]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    plan_line = models.ForeignKey(PlanLine, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    style_name = models.CharField(_("style"), max_length=100)
    size_code = models.CharField(_("size"), max_length=16)
    colour = models.CharField(_("colour"), max_length=50, blank=True)
    material = models.CharField(_("material"), max_length=100, blank=True)
    quality_standard = models.CharField(_("quality standard"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **TOTAL)
    delivery_date = models.DateField(_("delivery date"))
    accepted_quantity = models.PositiveIntegerField(_("accepted"), default=0)
    settled_quantity = models.PositiveIntegerField(
        _("settled"), default=0, help_text=_("Rejected units returned or credited, not to be delivered again."))

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="procurement_poline_sku_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="procurement_poline_quantity_positive"),
            models.CheckConstraint(condition=Q(accepted_quantity__lte=F("quantity") - F("settled_quantity")),
                                   name="procurement_poline_within_quantity"),
        ]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.order_id}:{self.sku_id} x{self.quantity}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.accepted_quantity - self.settled_quantity


# ---------------------------------------------------------------------------
# Receipt and acceptance (到貨驗收), supplier issues
# ---------------------------------------------------------------------------


class Receipt(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Being checked")
        POSTED = "posted", _("Posted")

    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.PROTECT,
                              related_name="receipts")
    delivered_on = models.DateField(_("delivered on"))
    delivery_note_no = models.CharField(_("delivery note number"), max_length=64, blank=True)
    location = models.ForeignKey(Location, verbose_name=_("into stock at"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("checked by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(USER, verbose_name=_("posted by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-delivered_on", "-id"]
        indexes = [models.Index(fields=["status", "id"], name="procurement_receipt_status_idx")]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.number


class ReceiptLine(models.Model):
    """One order line in one delivery, checked against the order (U1.2: quantity, style, colour, quality)."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT,
                                   related_name="receipt_lines")
    delivered = models.PositiveIntegerField(_("delivered"))
    accepted = models.PositiveIntegerField(_("accepted"))
    rejected = models.PositiveIntegerField(_("rejected"))
    quantity_ok = models.BooleanField(_("quantity matches the delivery note"), default=True)
    style_ok = models.BooleanField(_("style as ordered"), default=True)
    colour_ok = models.BooleanField(_("colour as ordered"), default=True)
    quality_ok = models.BooleanField(_("quality to standard"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    stock_move = models.ForeignKey(StockMove, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    attachments = GenericRelation("core.Attachment")  # photos of the check (core:attachment serves them)

    class Meta:
        ordering = ["receipt", "id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "order_line"], name="procurement_receiptline_unique"),
            models.CheckConstraint(condition=Q(delivered__gte=1), name="procurement_receiptline_delivered_positive"),
            models.CheckConstraint(condition=Q(accepted__lte=F("delivered")) & Q(rejected=F("delivered") - F("accepted")),
                                   name="procurement_receiptline_accepted_plus_rejected"),
        ]
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")

    def __str__(self) -> str:
        return f"{self.receipt_id}:{self.order_line_id} {self.accepted}/{self.delivered}"

    @property
    def passed(self) -> bool:
        return self.rejected == 0 and self.quantity_ok and self.style_ok and self.colour_ok and self.quality_ok


class SupplierIssue(models.Model):
    """Rejected units taken up with the supplier until closed: returned, replaced or credited."""

    class Kind(models.TextChoices):
        REPLACE = "replace", _("Replace")
        RETURN = "return", _("Return")
        CREDIT = "credit", _("Credit")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(PurchaseOrder, verbose_name=_("purchase order"), on_delete=models.PROTECT,
                              related_name="issues")
    order_line = models.ForeignKey(PurchaseOrderLine, verbose_name=_("order line"), on_delete=models.PROTECT,
                                   related_name="issues")
    receipt_line = models.OneToOneField(ReceiptLine, on_delete=models.PROTECT, related_name="issue")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="issues")
    quantity = models.PositiveIntegerField(_("rejected units"))
    kind = models.CharField(_("remedy"), max_length=8, choices=Kind.choices, default=Kind.REPLACE)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    description = models.TextField(_("problem"))
    replacement_received = models.PositiveIntegerField(_("replacements accepted"), default=0)
    credit_amount = models.DecimalField(_("credit amount"), null=True, blank=True, **TOTAL)
    resolution = models.TextField(_("resolution"), blank=True)
    opened_by = models.ForeignKey(USER, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    closed_by = models.ForeignKey(USER, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    attachments = GenericRelation("core.Attachment")  # files (core:attachment serves them)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="procurement_issue_quantity_positive"),
            models.CheckConstraint(condition=Q(replacement_received__lte=F("quantity")),
                                   name="procurement_issue_replacements_within_quantity"),
            models.CheckConstraint(condition=Q(credit_amount__isnull=True) | Q(credit_amount__gte=0),
                                   name="procurement_issue_credit_nonnegative"),
        ]
        indexes = [models.Index(fields=["status", "id"], name="procurement_issue_status_idx")]
        verbose_name = _("supplier issue")
        verbose_name_plural = _("supplier issues")

    def __str__(self) -> str:
        return self.number
