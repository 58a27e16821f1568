"""Forms of the uniforms pages. They parse input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin, UnitChoiceField, add_service_errors, date_input  # noqa: F401
from kefu.people.models import OrgUnit
from kefu.uniforms.models import (
    GenderVariant,
    ItemType,
    Location,
    ReturnLine,
    Season,
    SetDefinition,
    Size,
    Sku,
    StockCount,
    StockMove,
    Style,
)

REASON_HELP = _("Recorded in the change history.")


class StyleForm(BootstrapMixin, forms.ModelForm):
    photo_file = forms.FileField(label=_("Photo"), required=False,
                                 help_text=_("JPEG, PNG or WebP, at most 5 MB."),
                                 widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Style
        fields = ["code", "name", "item_type", "gender", "season", "colour", "material", "design_notes", "reusable",
                  "active"]
        widgets = {"design_notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            del self.fields["reason"]
            del self.fields["remove_photo"]
        elif not self.instance.photo:
            del self.fields["remove_photo"]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SkusAddForm(BootstrapMixin, forms.Form):
    sizes = forms.ModelMultipleChoiceField(label=_("Sizes"), queryset=Size.objects.none(),
                                           widget=forms.CheckboxSelectMultiple)
    reorder_point = forms.IntegerField(label=_("Reorder point"), min_value=0, initial=0)

    def __init__(self, *args: Any, style: Style, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sizes"].queryset = Size.objects.exclude(skus__style=style).order_by("order", "code")  # type: ignore[attr-defined]
        self.fields["sizes"].widget.attrs["class"] = ""


class SkuForm(BootstrapMixin, forms.ModelForm):
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Sku
        fields = ["code", "reorder_point", "active"]


class SizeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Size
        fields = ["code", "label", "order"]


SET_LINES = 5


class SetForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = SetDefinition
        fields = ["name", "gender", "season", "notes", "active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = list(self.instance.components.values_list("item_types", flat=True)) if self.instance.pk else []
        for i in range(SET_LINES):
            name = f"line_{i}"
            self.fields[name] = forms.MultipleChoiceField(
                label=_("Line %(n)s: any one of") % {"n": i + 1}, required=False, choices=ItemType.choices,
                widget=forms.CheckboxSelectMultiple, initial=current[i] if i < len(current) else [],
            )

    def line_fields(self) -> list[forms.BoundField]:
        return [self[f"line_{i}"] for i in range(SET_LINES)]

    def components(self) -> list[list[str]]:
        return [self.cleaned_data.get(f"line_{i}") or [] for i in range(SET_LINES)]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LocationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Location
        fields = ["code", "name", "kind", "active"]


class SkuChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Sku) -> str:  # type: ignore[override]
        return f"{obj.code} · {obj.style.name} · {obj.size.code}"


class StockMoveForm(BootstrapMixin, forms.Form):
    KINDS = [
        (StockMove.Kind.RECEIVE, _("Receipt (goods in)")),
        (StockMove.Kind.ADJUST, _("Adjustment (+/−)")),
        (StockMove.Kind.SCRAP, _("Scrap (write off)")),
    ]
    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS)
    sku = SkuChoiceField(label=_("SKU"), queryset=Sku.objects.none())
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), help_text=_("For an adjustment, negative takes stock out."))
    unit_cost = forms.DecimalField(label=_("Unit cost"), required=False, min_value=0, decimal_places=2,
                                   max_digits=12, help_text=_("Receipts only: the price paid per piece."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = Sku.objects.filter(active=True).select_related("style", "size").order_by("code")  # type: ignore[attr-defined]
        self.fields["location"].queryset = Location.objects.filter(active=True).order_by("code")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == StockMove.Kind.RECEIVE and data.get("unit_cost") is None:
            self.add_error("unit_cost", _("Enter the unit cost of the receipt."))
        return data


class CountCreateForm(BootstrapMixin, forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    counted_on = forms.DateField(label=_("Counted on"), widget=date_input())
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(active=True).order_by("code")  # type: ignore[attr-defined]


class CountDecisionForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class CountFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *StockCount.Status.choices])


class StockFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("SKU or style"), "type": "search"}))
    item_type = forms.ChoiceField(label=_("Item type"), required=False, choices=[("", _("All types")), *ItemType.choices])
    low = forms.BooleanField(label=_("Low stock only"), required=False)


class LedgerFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("SKU"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("SKU code"), "type": "search"}))
    location = forms.ModelChoiceField(label=_("Location"), required=False, queryset=Location.objects.none(),
                                      empty_label=_("All locations"))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *StockMove.Kind.choices])
    date_from = forms.DateField(label=_("From"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("Until"), required=False, widget=date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.order_by("code")  # type: ignore[attr-defined]


class CatalogueFilterForm(BootstrapMixin, forms.Form):
    item_type = forms.ChoiceField(label=_("Item type"), required=False, choices=[("", _("All types")), *ItemType.choices])
    season = forms.ChoiceField(label=_("Season"), required=False, choices=[("", _("All seasons")), *Season.choices])
    gender = forms.ChoiceField(label=_("Cut"), required=False, choices=[("", _("All cuts")), *GenderVariant.choices])


class RenewalFilterForm(BootstrapMixin, forms.Form):
    days = forms.IntegerField(label=_("Due within (days)"), min_value=0, max_value=3660, required=False, initial=60)
    unit = UnitChoiceField(label=_("Org unit"), required=False, queryset=OrgUnit.objects.none(),
                           empty_label=_("All units"))

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class HoldingFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Number or name"), "type": "search"}))
    unit = UnitChoiceField(label=_("Org unit"), required=False, queryset=OrgUnit.objects.none(),
                           empty_label=_("All units"))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("held", _("Held now")), ("ended", _("Ended")), ("all", _("All"))])

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class SizeProfileForm(BootstrapMixin, forms.Form):
    height_cm = forms.IntegerField(label=_("Height (cm)"), required=False, min_value=50, max_value=250)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, current: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sizes = Size.objects.order_by("order", "code")
        for value, label in ItemType.choices:
            self.fields[f"size_{value}"] = forms.ModelChoiceField(
                label=label, required=False, queryset=sizes, empty_label="—", initial=current.get(value))
            self.fields[f"size_{value}"].widget.attrs["class"] = "form-select"

    def sizes(self) -> dict[str, Size | None]:
        return {value: self.cleaned_data.get(f"size_{value}") for value in ItemType.values}


class ReturnCheckInForm(BootstrapMixin, forms.Form):
    """One outcome per held item (field ``outcome_<holding id>``), plus the used-stock location."""

    checked_in_on = forms.DateField(label=_("Date"), widget=date_input())
    location = forms.ModelChoiceField(label=_("Used-stock location"), required=False, queryset=Location.objects.none(),
                                      help_text=_("Where reusable items go back to stock."))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    OUTCOMES = [("", _("Not yet")), *ReturnLine.Outcome.choices]

    def __init__(self, *args: Any, holdings: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holdings = holdings
        self.fields["location"].queryset = Location.objects.filter(active=True, kind=Location.Kind.USED).order_by("code")  # type: ignore[attr-defined]
        for h in holdings:
            field = forms.ChoiceField(label=h.sku.code, required=False, choices=self.OUTCOMES,
                                      initial=ReturnLine.Outcome.RESTOCK if h.sku.style.reusable else ReturnLine.Outcome.SCRAP)
            field.widget.attrs["class"] = "form-select form-select-sm"
            self.fields[f"outcome_{h.pk}"] = field

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(h, self[f"outcome_{h.pk}"]) for h in self.holdings]

    def lines(self) -> list[dict[str, Any]]:
        location = self.cleaned_data.get("location")
        return [
            {"holding": h, "outcome": self.cleaned_data[f"outcome_{h.pk}"], "location": location}
            for h in self.holdings if self.cleaned_data.get(f"outcome_{h.pk}")
        ]
