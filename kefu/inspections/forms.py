"""Forms of the inspection pages. They parse input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.inspections.models import (
    ChecklistTemplate,
    Inspection,
    InspectionItem,
    InspectionPlan,
    Method,
    Recurrence,
    SampleKind,
    Topic,
)
from kefu.people.forms import BootstrapMixin, UnitChoiceField, date_input
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

ITEMS_HELP = _("One item per line; the policy clause after a bar, e.g. “Weekly evaluations done on time | E2.1”.")


def inspectors_queryset() -> QuerySet:
    """Users holding the inspector role today (the supervision group, S1)."""
    today = timezone.localdate()
    ids = RoleAssignment.objects.filter(role=Role.INSPECTOR, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)).values("user_id")
    return get_user_model().objects.filter(pk__in=ids, is_active=True).select_related("employee").order_by("username")


class InspectorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:  # type: ignore[override]
        employee = getattr(obj, "employee", None)
        return f"{employee.name} ({obj.username})" if employee is not None else obj.username


def scope_units() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(active=True).exclude(kind=OrgUnit.Kind.TEAM).order_by("path")


def items_text(rows: Any) -> str:
    return "\n".join(f"{r.text} | {r.clause}" if r.clause else r.text for r in rows)


def parse_items(text: str) -> list[tuple[str, str]]:
    rows = []
    for line in (text or "").splitlines():
        body, _sep, clause = line.partition("|")
        if body.strip():
            rows.append((body.strip(), clause.strip()))
    return rows


class SampleSizesMixin:
    """One number field per kind of record, ``size_<kind>``."""

    def add_size_fields(self, initial: dict[str, int] | None = None) -> None:
        initial = initial or {}
        for kind, label in SampleKind.choices:
            self.fields[f"size_{kind}"] = forms.IntegerField(  # type: ignore[attr-defined]
                label=label, required=False, min_value=0, max_value=200, initial=initial.get(kind),
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric"}))

    @property
    def size_fields(self) -> list:
        return [self[f"size_{kind}"] for kind in SampleKind.values]  # type: ignore[index]

    def sizes(self) -> dict[str, int]:
        data = self.cleaned_data  # type: ignore[attr-defined]
        return {kind: data[f"size_{kind}"] for kind in SampleKind.values if data.get(f"size_{kind}")}


class PlanForm(SampleSizesMixin, BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    topic = forms.ChoiceField(label=_("What is checked"), choices=Topic.choices)
    methods = forms.MultipleChoiceField(label=_("How"), choices=Method.choices, widget=forms.CheckboxSelectMultiple)
    recurrence = forms.ChoiceField(label=_("When"), choices=Recurrence.choices)
    org_unit = UnitChoiceField(label=_("Scope"), queryset=OrgUnit.objects.none(), required=False,
                               empty_label=_("The whole company"))
    inspectors = InspectorChoiceField(label=_("By whom"), queryset=get_user_model().objects.none(), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    template = forms.ModelChoiceField(label=_("Checklist template"), queryset=ChecklistTemplate.objects.none(),
                                      required=False, empty_label=_("— the topic's template —"),
                                      help_text=_("Used when the items below are left empty."))
    items = forms.CharField(label=_("Checklist items"), required=False, help_text=ITEMS_HELP,
                            widget=forms.Textarea(attrs={"rows": 8}))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)

    def __init__(self, *args: Any, plan: InspectionPlan | None = None, **kwargs: Any) -> None:
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": plan.title, "topic": plan.topic, "methods": plan.methods, "recurrence": plan.recurrence,
                "org_unit": plan.org_unit_id, "inspectors": list(plan.inspectors.all()),
                "items": items_text(plan.items.all()), "active": plan.active,
            }
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = scope_units()  # type: ignore[attr-defined]
        self.fields["inspectors"].queryset = inspectors_queryset()  # type: ignore[attr-defined]
        self.fields["template"].queryset = ChecklistTemplate.objects.filter(active=True)  # type: ignore[attr-defined]
        for name in ("methods", "inspectors"):
            self.fields[name].widget.attrs["class"] = "list-unstyled mb-0"
        if plan is None:
            del self.fields["reason"]
        self.add_size_fields(plan.sample_sizes if plan is not None else {})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["item_rows"] = parse_items(data.get("items", ""))
        return data


class InspectionForm(SampleSizesMixin, BootstrapMixin, forms.Form):
    """An inspection from a plan (``plan`` given: scope and checklist come from it) or an unannounced one."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    topic = forms.ChoiceField(label=_("What is checked"), choices=Topic.choices)
    methods = forms.MultipleChoiceField(label=_("How"), choices=Method.choices, widget=forms.CheckboxSelectMultiple)
    org_unit = UnitChoiceField(label=_("Scope"), queryset=OrgUnit.objects.none(), required=False,
                               empty_label=_("The whole company"))
    period_start = forms.DateField(label=_("Period from"), widget=date_input())
    period_end = forms.DateField(label=_("Period to"), widget=date_input())
    template = forms.ModelChoiceField(label=_("Checklist template"), queryset=ChecklistTemplate.objects.none(),
                                      required=False, empty_label=_("— the topic's template —"),
                                      help_text=_("Used when the items below are left empty."))
    items = forms.CharField(label=_("Checklist items"), required=False, help_text=ITEMS_HELP,
                            widget=forms.Textarea(attrs={"rows": 6}))
    start = forms.BooleanField(label=_("Start it now"), required=False, initial=True)

    def __init__(self, *args: Any, plan: InspectionPlan | None = None, **kwargs: Any) -> None:
        self.plan = plan
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {"title": plan.title, "topic": plan.topic, "methods": plan.methods,
                                 "org_unit": plan.org_unit_id, "items": items_text(plan.items.all()),
                                 "start": True}
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = scope_units()  # type: ignore[attr-defined]
        self.fields["template"].queryset = ChecklistTemplate.objects.filter(active=True)  # type: ignore[attr-defined]
        self.fields["methods"].widget.attrs["class"] = "list-unstyled mb-0"
        if plan is None:
            self.fields["title"].required = True
        self.add_size_fields(plan.sample_sizes if plan is not None else {})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        data["item_rows"] = parse_items(data.get("items", ""))
        return data


class SampleForm(SampleSizesMixin, BootstrapMixin, forms.Form):
    seed = forms.IntegerField(label=_("Seed"), required=False, min_value=0, max_value=2 ** 63 - 1,
                              help_text=_("Empty: the stored seed (the same draw again), or a new one for a "
                                          "first draw."))
    reason = forms.CharField(label=_("Reason for a new draw"), required=False, max_length=500)

    def __init__(self, *args: Any, inspection: Inspection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_size_fields(inspection.sample_sizes)


class ItemRecordForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=[c for c in InspectionItem.Result.choices if c[0]])
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FindingForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Finding"), max_length=300)
    detail = forms.CharField(label=_("Detail"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    org_unit = UnitChoiceField(label=_("Department concerned"), queryset=OrgUnit.objects.none())
    employee = forms.ModelChoiceField(label=_("Person concerned"), queryset=Employee.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = OrgUnit.objects.filter(active=True).order_by("path")  # type: ignore[attr-defined]
        self.fields["employee"].queryset = (  # type: ignore[attr-defined]
            Employee.objects.filter(status=Employee.Status.ACTIVE).order_by("employee_no"))


class CompleteForm(BootstrapMixin, forms.Form):
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
