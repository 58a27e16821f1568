"""Forms of the procurement pages. They parse input; the services decide and write."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin, date_input
from kefu.procurement import files
from kefu.procurement.models import (
    PlanLine,
    PlanSeason,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasePlan,
    Receipt,
    Rfq,
    Supplier,
    SupplierCertificate,
    SupplierIssue,
)
from kefu.uniforms.models import Location, Style

MONEY_ATTRS = {"inputmode": "decimal", "step": "0.01", "min": "0"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the services check each file's type and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": files.ACCEPT}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("JPEG, PNG or PDF, at most 5 MB each."))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class IdempotentForm(forms.Form):
    """A hidden token per rendered form: submitting the same page twice creates one record."""

    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["token"].initial = uuid.uuid4().hex


# ---- suppliers ------------------------------------------------------------------------------------------


class SupplierForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Supplier code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False,
                                  help_text=_("The number on the business licence, 18 characters."))
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    contact_name = forms.CharField(label=_("Main contact"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact's phone"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("Contact's e-mail"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)

    def __init__(self, *args: Any, supplier: Supplier | None = None, **kwargs: Any) -> None:
        if supplier is not None:
            kwargs.setdefault("initial", {f: getattr(supplier, f) for f in ("code", "name", "credit_code", "address",
                                                                            "notes")})
        super().__init__(*args, **kwargs)
        if supplier is not None:
            for name in ("contact_name", "contact_phone", "contact_email"):
                del self.fields[name]
        else:
            del self.fields["reason"]


class SupplierStatusForm(BootstrapMixin, forms.Form):
    ACTIONS = [("qualify", _("Qualify")), ("suspend", _("Suspend")), ("blacklist", _("Blacklist")),
               ("lift", _("Lift the blacklisting"))]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Position"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    is_primary = forms.BooleanField(label=_("Main contact"), required=False)


class CertificateForm(BootstrapMixin, IdempotentForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=SupplierCertificate.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    number = forms.CharField(label=_("Certificate number"), max_length=100, required=False)
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=date_input())
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=date_input(),
                                 help_text=_("Leave empty for a certificate without an expiry date."))
    scan = forms.FileField(label=_("Scan"), required=False, help_text=_("JPEG, PNG or PDF, at most 5 MB."),
                           widget=forms.ClearableFileInput(attrs={"accept": files.ACCEPT}))


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


# ---- plans ----------------------------------------------------------------------------------------------


class PlanForm(BootstrapMixin, IdempotentForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    season = forms.ChoiceField(label=_("Season"), choices=PlanSeason.choices)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    horizon_start = forms.DateField(label=_("Covers from"), widget=date_input())
    horizon_end = forms.DateField(label=_("Covers until"), widget=date_input(),
                                  help_text=_("Renewals falling due up to this day are bought for."))
    expected_new_hires = forms.IntegerField(label=_("Expected new hires"), min_value=0, max_value=100000, initial=0,
                                            help_text=_("Customer-service staff expected to join in the period."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)

    def __init__(self, *args: Any, plan: PurchasePlan | None = None, **kwargs: Any) -> None:
        if plan is not None:
            kwargs.setdefault("initial", {f: getattr(plan, f) for f in (
                "title", "season", "year", "horizon_start", "horizon_end", "expected_new_hires", "notes")})
        else:
            kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)
        if plan is None:
            del self.fields["reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("horizon_start"), data.get("horizon_end")
        if start and end and end < start:
            self.add_error("horizon_end", _("The plan must end on or after the day it starts."))
        return data


class AddStylesForm(BootstrapMixin, forms.Form):
    styles = forms.ModelMultipleChoiceField(label=_("Styles to add"), queryset=Style.objects.none(),
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, styles: QuerySet[Style], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["styles"].queryset = styles  # type: ignore[attr-defined]
        self.fields["styles"].widget.attrs["class"] = ""


class PlanLineForm(BootstrapMixin, forms.Form):
    colour = forms.CharField(label=_("Colour"), max_length=50, required=False)
    material = forms.CharField(label=_("Material"), max_length=100, required=False)
    target_unit_price = forms.DecimalField(label=_("Target unit price (¥)"), min_value=0, max_digits=12,
                                           decimal_places=2, widget=forms.NumberInput(attrs=MONEY_ATTRS))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, line: PlanLine, sizes: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"colour": line.colour, "material": line.material,
                                      "target_unit_price": line.target_unit_price, "note": line.note})
        super().__init__(*args, **kwargs)
        self.size_fields = []
        for size in sizes:
            name = f"qty_{size.sku_id}"
            self.fields[name] = forms.IntegerField(
                label=size.sku.size.code, min_value=0, max_value=1_000_000, initial=size.quantity,
                widget=forms.NumberInput(attrs={"class": "form-control text-end", "inputmode": "numeric"}))
            self.size_fields.append((size, name))

    def quantities(self) -> dict[int, int]:
        return {size.sku_id: self.cleaned_data[name] for size, name in self.size_fields}

    def size_rows(self) -> list[tuple[Any, Any]]:
        return [(size, self[name]) for size, name in self.size_fields]


class DecisionForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Required to reject or return."))


# ---- quotations -----------------------------------------------------------------------------------------


class SupplierChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Supplier) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.code})"


class RfqCreateForm(BootstrapMixin, forms.Form):
    suppliers = SupplierChoiceField(label=_("Suppliers to invite"), queryset=Supplier.objects.none(),
                                    widget=forms.CheckboxSelectMultiple)
    quote_due_on = forms.DateField(label=_("Quotes due"), required=False, widget=date_input())
    reason = forms.CharField(label=_("Why fewer suppliers"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Needed when fewer suppliers are invited than the quotes required."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, suppliers: QuerySet[Supplier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["suppliers"].queryset = suppliers  # type: ignore[attr-defined]
        self.fields["suppliers"].widget.attrs["class"] = ""


class InviteForm(BootstrapMixin, forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.none())

    def __init__(self, *args: Any, suppliers: QuerySet[Supplier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = suppliers  # type: ignore[attr-defined]


class QuoteForm(BootstrapMixin, forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=date_input())
    valid_until = forms.DateField(label=_("Valid until"), widget=date_input())
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    attachments = MultipleFileField(label=_("Quote documents"))

    def __init__(self, *args: Any, lines: list[PlanLine], existing: dict[int, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        existing = existing or {}
        self.line_fields = []
        for line in lines:
            ql = existing.get(line.pk)
            price = forms.DecimalField(label=_("Unit price (¥)"), required=False, min_value=0, max_digits=12,
                                       decimal_places=2, initial=ql.unit_price if ql else None,
                                       widget=forms.NumberInput(attrs={**MONEY_ATTRS, "class": "form-control text-end"}))
            lead = forms.IntegerField(label=_("Lead time (days)"), required=False, min_value=0, max_value=365,
                                      initial=ql.lead_time_days if ql else None,
                                      widget=forms.NumberInput(attrs={"class": "form-control text-end",
                                                                      "inputmode": "numeric"}))
            self.fields[f"price_{line.pk}"] = price
            self.fields[f"lead_{line.pk}"] = lead
            self.line_fields.append(line)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for line in self.line_fields:
            price, lead = data.get(f"price_{line.pk}"), data.get(f"lead_{line.pk}")
            if (price is None) != (lead is None):
                self.add_error(f"price_{line.pk}" if price is None else f"lead_{line.pk}",
                               _("Enter both the unit price and the lead time, or neither."))
        return data

    def lines(self) -> dict[int, tuple[Any, Any]]:
        return {line.pk: (self.cleaned_data.get(f"price_{line.pk}"), self.cleaned_data.get(f"lead_{line.pk}"))
                for line in self.line_fields
                if self.cleaned_data.get(f"price_{line.pk}") is not None}

    def line_rows(self) -> list[tuple[PlanLine, Any, Any]]:
        return [(line, self[f"price_{line.pk}"], self[f"lead_{line.pk}"]) for line in self.line_fields]


class AwardForm(BootstrapMixin, forms.Form):
    supplier = forms.ModelChoiceField(label=_("Award to"), queryset=Supplier.objects.none())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required when the quote is not the lowest total or fewer quotes than "
                                         "required came in."))

    def __init__(self, *args: Any, suppliers: QuerySet[Supplier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = suppliers  # type: ignore[attr-defined]


# ---- orders, receipts, issues ---------------------------------------------------------------------------


class OrderForm(BootstrapMixin, forms.Form):
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=300)
    quality_standard = forms.CharField(label=_("Quality standard"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text=_("What the goods are checked against on arrival, e.g. GB/T 2660."))
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, order: PurchaseOrder, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        initial: dict[str, Any] = {"delivery_address": order.delivery_address, "quality_standard": order.quality_standard,
                   "terms": order.terms}
        for line in lines:
            initial[f"date_{line.pk}"] = line.delivery_date
            initial[f"standard_{line.pk}"] = line.quality_standard
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.order_lines = lines
        for line in lines:
            self.fields[f"date_{line.pk}"] = forms.DateField(label=_("Delivery date"), widget=date_input())
            self.fields[f"standard_{line.pk}"] = forms.CharField(label=_("Quality standard"), required=False,
                                                                 max_length=300)
            for name in (f"date_{line.pk}", f"standard_{line.pk}"):
                self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def line_data(self) -> dict[int, dict[str, Any]]:
        return {line.pk: {"delivery_date": self.cleaned_data[f"date_{line.pk}"],
                          "quality_standard": self.cleaned_data.get(f"standard_{line.pk}", "")}
                for line in self.order_lines}

    def line_rows(self) -> list[tuple[PurchaseOrderLine, Any, Any]]:
        return [(line, self[f"date_{line.pk}"], self[f"standard_{line.pk}"]) for line in self.order_lines]


class ReceiptForm(BootstrapMixin, IdempotentForm):
    delivered_on = forms.DateField(label=_("Delivered on"), widget=date_input())
    delivery_note_no = forms.CharField(label=_("Delivery note number"), max_length=64, required=False)
    location = forms.ModelChoiceField(label=_("Into stock at"), queryset=Location.objects.none())
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    CHECKS = (("quantity_ok", _("Quantity")), ("style_ok", _("Style")), ("colour_ok", _("Colour")),
              ("quality_ok", _("Quality")))

    def __init__(self, *args: Any, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"delivered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        locations = Location.objects.filter(active=True, kind=Location.Kind.NEW).order_by("code")
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["location"].initial = locations.first()
        self.order_lines = lines
        number = {"class": "form-control form-control-sm text-end", "inputmode": "numeric"}
        for line in lines:
            self.fields[f"delivered_{line.pk}"] = forms.IntegerField(
                label=_("Delivered"), required=False, min_value=0, widget=forms.NumberInput(attrs=number))
            self.fields[f"accepted_{line.pk}"] = forms.IntegerField(
                label=_("Accepted"), required=False, min_value=0, widget=forms.NumberInput(attrs=number))
            for check, label in self.CHECKS:
                self.fields[f"{check}_{line.pk}"] = forms.BooleanField(label=label, required=False, initial=True)
            self.fields[f"notes_{line.pk}"] = forms.CharField(
                label=_("Notes"), required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 1, "class": "form-control form-control-sm"}))
            self.fields[f"photos_{line.pk}"] = MultipleFileField(label=_("Photos"))
            self.fields[f"photos_{line.pk}"].widget.attrs["class"] = "form-control form-control-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for line in self.order_lines:
            delivered, accepted = data.get(f"delivered_{line.pk}"), data.get(f"accepted_{line.pk}")
            if not delivered and accepted:
                self.add_error(f"delivered_{line.pk}", _("Enter how many were delivered."))
        return data

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.order_lines:
            delivered = self.cleaned_data.get(f"delivered_{line.pk}")
            if not delivered:
                continue
            accepted = self.cleaned_data.get(f"accepted_{line.pk}")
            out.append({
                "order_line": line, "delivered": delivered, "accepted": delivered if accepted is None else accepted,
                "notes": self.cleaned_data.get(f"notes_{line.pk}", ""),
                "photos": self.cleaned_data.get(f"photos_{line.pk}") or [],
                **{check: bool(self.cleaned_data.get(f"{check}_{line.pk}")) for check, _l in self.CHECKS},
            })
        return out

    def line_rows(self) -> list[dict[str, Any]]:
        return [{"line": line, "delivered": self[f"delivered_{line.pk}"], "accepted": self[f"accepted_{line.pk}"],
                 "checks": [self[f"{check}_{line.pk}"] for check, _l in self.CHECKS],
                 "notes": self[f"notes_{line.pk}"], "photos": self[f"photos_{line.pk}"]}
                for line in self.order_lines]


class IssueKindForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Remedy"), choices=SupplierIssue.Kind.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)


class IssueCloseForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(label=_("Resolution"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    credit_amount = forms.DecimalField(label=_("Credit amount (¥)"), required=False, min_value=0, max_digits=14,
                                       decimal_places=2, widget=forms.NumberInput(attrs=MONEY_ATTRS),
                                       help_text=_("For a credit: what the supplier credits (suggested: the rejected "
                                                   "units at the order price)."))
    attachments = MultipleFileField(label=_("Documents"))


# ---- filters --------------------------------------------------------------------------------------------


class StatusFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *choices]  # type: ignore[attr-defined]


def plan_status_choices() -> list[tuple[str, Any]]:
    return [("pending", _("Awaiting approval")), *PurchasePlan.Status.choices]


def rfq_status_choices() -> list[tuple[str, Any]]:
    return list(Rfq.Status.choices)


def order_status_choices() -> list[tuple[str, Any]]:
    return list(PurchaseOrder.Status.choices)


def receipt_status_choices() -> list[tuple[str, Any]]:
    return list(Receipt.Status.choices)


def supplier_status_choices() -> list[tuple[str, Any]]:
    return list(Supplier.Status.choices)


def issue_status_choices() -> list[tuple[str, Any]]:
    return list(SupplierIssue.Status.choices)
