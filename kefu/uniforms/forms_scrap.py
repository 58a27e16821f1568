"""Forms of the scrap and disposal pages (U4.2)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin, date_input
from kefu.uniforms.forms_requisitions import IdempotentForm
from kefu.uniforms.models import DisposalBatch, Holding, ScrapRequest


class ScrapForm(BootstrapMixin, IdempotentForm):
    """《制服報廢申請表》: which of her items, in what condition, and why."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Why the items are worn out or cannot be repaired."))

    def __init__(self, *args: Any, holdings: list[Holding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holdings = holdings
        for h in holdings:
            self.fields[f"pick_{h.pk}"] = forms.BooleanField(required=False, label=f"{h.sku.style.name} {h.sku.size.code}")
            self.fields[f"condition_{h.pk}"] = forms.CharField(
                required=False, max_length=200, label=_("Condition"),
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                              "placeholder": _("e.g. faded, torn seam")}))

    def rows(self) -> list[tuple[Holding, forms.BoundField, forms.BoundField]]:
        return [(h, self[f"pick_{h.pk}"], self[f"condition_{h.pk}"]) for h in self.holdings]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        items = [(h, data.get(f"condition_{h.pk}") or "") for h in self.holdings if data.get(f"pick_{h.pk}")]
        if not items:
            raise ValidationError(_("Tick at least one item."))
        data["items"] = items
        return data


class ScrapDecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ScrapFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Number, name or employee number")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *ScrapRequest.Status.choices])


class ScrappedItemsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Holding) -> str:  # type: ignore[override]
        return f"{obj.employee.name} · {obj.sku.style.name} {obj.sku.size.code} · {obj.end_note}"


class DisposalForm(BootstrapMixin, forms.Form):
    disposed_on = forms.DateField(label=_("Date"), widget=date_input())
    method = forms.ChoiceField(label=_("Method"), choices=DisposalBatch.Method.choices)
    performed_by = forms.CharField(label=_("Carried out by"), max_length=200,
                                   help_text=_("Who disposed of them: staff names or the contractor."))
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    holdings = ScrappedItemsField(label=_("Items"), queryset=Holding.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, holdings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holdings"].queryset = holdings  # type: ignore[attr-defined]
        self.fields["holdings"].widget.attrs["class"] = "form-check-input"
        self.initial.setdefault("disposed_on", timezone.localdate())

    def clean_disposed_on(self):
        value = self.cleaned_data["disposed_on"]
        if value > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return value
