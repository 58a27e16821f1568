"""Forms of the damage/loss and compensation pages (U3.2)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin, date_input
from kefu.uniforms.forms_requisitions import IdempotentForm
from kefu.uniforms.models import Compensation, DamageReport, Holding

MAX_FILES = 5


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (type and size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most %(n)s files at a time.") % {"n": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class HoldingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Holding) -> str:  # type: ignore[override]
        return f"{obj.sku.style.name} · {obj.sku.size.code} · {obj.issued_on.isoformat()}"


class DamageReportForm(BootstrapMixin, IdempotentForm):
    holding = HoldingChoiceField(label=_("Item"), queryset=Holding.objects.none())
    kind = forms.ChoiceField(label=_("What happened"), choices=DamageReport.Kind.choices, widget=forms.RadioSelect)
    occurred_on = forms.DateField(label=_("When"), required=False, widget=date_input())
    description = forms.CharField(label=_("Description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("How it was damaged or lost."))
    attachments = MultipleFileField(label=_("Photos"), required=False,
                                    help_text=_("JPEG, PNG or PDF, at most 5 MB each."))

    def __init__(self, *args: Any, holdings: QuerySet[Holding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holding"].queryset = holdings  # type: ignore[attr-defined]
        self.fields["kind"].widget.attrs["class"] = "form-check-input"

    def clean_occurred_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("occurred_on")
        if value and value > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return value


class AssessForm(BootstrapMixin, forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=DamageReport.Cause.choices, widget=forms.RadioSelect)
    notes = forms.CharField(label=_("Assessment notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("Required when it is her fault: she pays for it."))
    attachments = MultipleFileField(label=_("Photos"), required=False,
                                    help_text=_("JPEG, PNG or PDF, at most 5 MB each."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cause"].widget.attrs["class"] = "form-check-input"


class AttachForm(BootstrapMixin, forms.Form):
    attachments = MultipleFileField(label=_("Add photos or scans"), help_text=_("JPEG, PNG or PDF, at most 5 MB each."))


class DamageFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Number, name or employee number")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *DamageReport.Status.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Damage or loss")),
                                                                          *DamageReport.Kind.choices])


class CompensationFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Compensation.Status.choices])
    month = forms.DateField(label=_("Payroll month"), required=False, input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ExportForm(BootstrapMixin, forms.Form):
    month = forms.DateField(label=_("Payroll month"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
