"""Forms of the rectification pages (policy S3). They parse input; ``rectification.py`` decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.inspections.models import Rectification
from kefu.people.forms import BootstrapMixin, date_input
from kefu.people.models import Employee, OrgUnit


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Employee) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.employee_no}) · {obj.org_unit.name}"


class RectificationRequestForm(BootstrapMixin, forms.Form):
    responsible = PersonChoiceField(label=_("Person responsible"), queryset=Employee.objects.none())
    requirement = forms.CharField(label=_("What must change"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=date_input(),
                               help_text=_("Leave empty for the default deadline."))

    def __init__(self, *args: Any, candidates: QuerySet[Employee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = candidates  # type: ignore[attr-defined]


class EvidenceForm(BootstrapMixin, forms.Form):
    evidence = forms.CharField(label=_("Evidence: what was done"), max_length=8000,
                               widget=forms.Textarea(attrs={"rows": 5}))


class SendBackForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why it goes back"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class VerifyForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


LEVELS = [("", _("Any escalation")), ("0", _("Not escalated")), ("1", _("Department head told")),
          ("2", _("Leadership told"))]


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.code})"


class DashboardFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Rectification.Status.choices])
    unit = UnitField(label=_("Department"), required=False, queryset=OrgUnit.objects.none(),
                     empty_label=_("All departments"))
    level = forms.ChoiceField(label=_("Escalation"), required=False, choices=LEVELS)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Finding or person")}))

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
