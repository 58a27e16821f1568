"""Forms of the requisition and issuance pages (U2.2). They parse input; the services decide."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin
from kefu.people.models import Employee
from kefu.uniforms.models import DamageReport, GenderVariant, Location, Requisition, Season, Sku, Style

MAX_QUANTITY = 20


class IdempotentForm(forms.Form):
    """A hidden token made when the form is shown: the same submission twice is one record."""

    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)

    def idempotency_key(self, prefix: str) -> str | None:
        token = self.cleaned_data.get("token") or ""
        return f"{prefix}:{token}" if token else None


class EmployeePickForm(BootstrapMixin, forms.Form):
    """Admin staff fill in a form on someone's behalf: whose (by employee number)."""

    employee = forms.CharField(label=_("Employee number"), max_length=32)

    def __init__(self, *args: Any, employees: QuerySet[Employee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employees = employees

    def clean_employee(self) -> Employee:
        number = self.cleaned_data["employee"].strip()
        employee = self.employees.filter(employee_no__iexact=number).select_related("org_unit").first()
        if employee is None:
            raise ValidationError(_("There is no employee with the number “%(number)s” among those you manage.")
                                  % {"number": number})
        return employee


class StyleRow:
    """One line of the requisition form: a style, its size choice and a quantity."""

    def __init__(self, form: RequisitionForm, style: Style) -> None:
        self.style = style
        self.size = form[f"size_{style.pk}"]
        self.quantity = form[f"qty_{style.pk}"]


class RequisitionForm(BootstrapMixin, IdempotentForm):
    """《制服領用申請表》: the reason, and for each style she may wear a size and a quantity.

    Sizes default to her size profile (by item type); a replacement starts from the item
    reported damaged or lost.
    """

    reason = forms.ChoiceField(label=_("Reason"), choices=Requisition.Reason.choices, widget=forms.RadioSelect)
    extra_reason = forms.CharField(
        label=_("Reason for extra items / notes"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Required for extra items."))
    damage_report = forms.ModelChoiceField(
        label=_("Damage/loss report"), required=False, queryset=DamageReport.objects.none(),
        help_text=_("A replacement follows an assessed damage/loss report."))

    def __init__(self, *args: Any, employee: Employee, styles: list[Style], skus: list[Sku],
                 profile_sizes: dict[str, int], damage_reports: QuerySet[DamageReport],
                 prefill: dict[int, tuple[int, int]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employee = employee
        self.fields["reason"].widget.attrs["class"] = "form-check-input"
        self.fields["damage_report"].queryset = damage_reports  # type: ignore[attr-defined]
        self.fields["damage_report"].label_from_instance = (  # type: ignore[attr-defined]
            lambda r: f"{r.number} · {r.get_kind_display()} · {r.holding.sku.style.name} {r.holding.sku.size.code}")
        by_style: dict[int, list[Sku]] = defaultdict(list)
        for sku in skus:
            by_style[sku.style_id].append(sku)
        self.skus = {sku.pk: sku for sku in skus}
        self.styles = [s for s in styles if by_style.get(s.pk)]
        prefill = prefill or {}
        for style in self.styles:
            options = by_style[style.pk]
            default_size = profile_sizes.get(style.item_type)
            default_sku = next((s.pk for s in options if s.size_id == default_size), None)
            if style.pk in prefill:
                default_sku, quantity = prefill[style.pk]
            else:
                quantity = 0
            self.fields[f"size_{style.pk}"] = forms.TypedChoiceField(
                label=_("Size of %(style)s") % {"style": style.name}, coerce=int, required=False,
                choices=[("", "—"), *[(s.pk, s.size.label or s.size.code) for s in options]],
                initial=default_sku, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
            self.fields[f"qty_{style.pk}"] = forms.IntegerField(
                label=_("Quantity of %(style)s") % {"style": style.name}, min_value=0, max_value=MAX_QUANTITY,
                required=False, initial=quantity,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric"}))

    def rows_by_season(self) -> list[tuple[Any, list[StyleRow]]]:
        order = [Season.SUMMER, Season.WINTER, Season.ALL]
        groups: dict[str, list[StyleRow]] = defaultdict(list)
        for style in self.styles:
            groups[style.season].append(StyleRow(self, style))
        return [(Season(season).label, groups[season]) for season in order if groups.get(season)]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        lines = []
        for style in self.styles:
            quantity = data.get(f"qty_{style.pk}") or 0
            sku_id = data.get(f"size_{style.pk}")
            if not quantity:
                continue
            if not sku_id or sku_id not in self.skus or self.skus[sku_id].style_id != style.pk:
                self.add_error(f"size_{style.pk}", _("Choose a size for %(style)s.") % {"style": style.name})
                continue
            lines.append((self.skus[sku_id], quantity))
        if not lines and not self.errors:
            raise ValidationError(_("Ask for at least one item: enter a quantity."))
        data["lines"] = lines
        if data.get("reason") != Requisition.Reason.REPLACEMENT:
            data["damage_report"] = None
        return data


def styles_for(employee: Employee) -> list[Style]:
    """Active styles she may wear (her cut or unisex), summer first."""
    return list(Style.objects.filter(active=True, gender__in=[employee.gender, GenderVariant.ANY])
                .order_by("season", "item_type", "code"))


class DecisionForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class IssueForm(BootstrapMixin, IdempotentForm):
    location = forms.ModelChoiceField(label=_("Issue from"), queryset=Location.objects.none(), empty_label=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(active=True).order_by(  # type: ignore[attr-defined]
            "kind", "code")


class RequisitionFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Number, name or employee number"),
                                                      "type": "search"}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Requisition.Status.choices])
    reason = forms.ChoiceField(label=_("Reason"), required=False,
                               choices=[("", _("Any reason")), *Requisition.Reason.choices])
