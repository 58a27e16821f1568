"""Forms of the dress-code spot check pages (U3.1)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.people.forms import BootstrapMixin, UnitChoiceField, date_input
from kefu.people.models import Employee, OrgUnit

YES_NO = [("1", _("Yes")), ("0", _("No"))]


class DressCheckForm(BootstrapMixin, forms.Form):
    employee = forms.CharField(label=_("Employee number"), max_length=32)
    checked_on = forms.DateField(label=_("Date"), widget=date_input())
    wearing = forms.TypedChoiceField(label=_("Wearing the uniform"), choices=YES_NO, coerce=lambda v: v == "1",
                                     widget=forms.RadioSelect, initial="1")
    clean_tidy = forms.TypedChoiceField(label=_("Clean and tidy"), choices=YES_NO, coerce=lambda v: v == "1",
                                        widget=forms.RadioSelect, initial="1")
    unaltered = forms.TypedChoiceField(label=_("Style and colour unaltered, no decorations"), choices=YES_NO,
                                       coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    badge = forms.TypedChoiceField(label=_("Work badge worn"), choices=YES_NO, coerce=lambda v: v == "1",
                                   widget=forms.RadioSelect, initial="1")
    tie_or_scarf = forms.TypedChoiceField(label=_("Tie or scarf worn"), choices=YES_NO, coerce=lambda v: v == "1",
                                          widget=forms.RadioSelect, initial="1")
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("Required when anything is wrong."))

    CHECKS = ("wearing", "clean_tidy", "unaltered", "badge", "tie_or_scarf")

    def __init__(self, *args: Any, employees: QuerySet[Employee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employees = employees
        self.initial.setdefault("checked_on", timezone.localdate())
        for name in self.CHECKS:
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def check_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.CHECKS]

    def clean_employee(self) -> Employee:
        number = self.cleaned_data["employee"].strip()
        employee = self.employees.filter(employee_no__iexact=number).select_related("org_unit").first()
        if employee is None:
            raise ValidationError(_("There is no employee with the number “%(number)s” whom you may check.")
                                  % {"number": number})
        return employee

    def clean_checked_on(self):
        value = self.cleaned_data["checked_on"]
        if value > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return value


class DressFilterForm(BootstrapMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=date_input())
    unit = UnitChoiceField(label=_("Org unit"), required=False, queryset=OrgUnit.objects.none(),
                           empty_label=_("All units"))
    q = forms.CharField(label=_("Employee"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number or name")}))
    violations = forms.BooleanField(label=_("Violations only"), required=False)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
