"""Forms of the coaching pages (policy E3.3): they parse; the rules live in kefu/annual/coaching.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kefu.annual.models import CoachingPlan, HrCase
from kefu.people.forms import BootstrapMixin, date_input
from kefu.people.models import OrgUnit


class CoachChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:  # type: ignore[override]
        employee = getattr(obj, "employee", None)
        return employee.name if employee is not None else obj.get_username()


class ActivateForm(BootstrapMixin, forms.Form):
    goals = forms.CharField(label=_("Goals"), max_length=4000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("What she should reach by the due date, e.g. a monthly total of at least 70."))
    coach = CoachChoiceField(label=_("Coach"), queryset=get_user_model().objects.none(), required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=date_input())

    def __init__(self, *args: Any, coaches=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if coaches is not None:
            self.fields["coach"].queryset = coaches  # type: ignore[attr-defined]


class SessionForm(BootstrapMixin, forms.Form):
    held_on = forms.DateField(label=_("Held on"), required=False, widget=date_input())
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(BootstrapMixin, forms.Form):
    OUTCOMES = (("met", _("Goal met")), ("unmet", _("Goal not met: open an HR case")))
    outcome = forms.ChoiceField(label=_("Follow-up evaluation"), choices=OUTCOMES, widget=forms.RadioSelect)
    follow_up_note = forms.CharField(label=_("Follow-up note"), max_length=4000, required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    follow_up_total = forms.CharField(label=_("Follow-up monthly total (optional)"), required=False, max_length=12,
                                      widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].widget.attrs["class"] = "form-check-input"


class CancelForm(BootstrapMixin, forms.Form):
    cancel_reason = forms.CharField(label=_("Reason for cancelling"), max_length=2000, required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(BootstrapMixin, forms.Form):
    decision = forms.CharField(label=_("Decision under the company's rules"), max_length=4000, required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))


class PlanFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All")), *CoachingPlan.Status.choices])
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", _("All")), *CoachingPlan.Source.choices])
    department = forms.ModelChoiceField(label=_("Department"), required=False, queryset=OrgUnit.objects.none(),
                                        empty_label=_("All"))
    overdue = forms.BooleanField(label=_("Past due without follow-up"), required=False)

    def __init__(self, *args: Any, departments=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class CaseFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *HrCase.Status.choices])
