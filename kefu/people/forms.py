"""Forms of the people pages. They parse input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.people.access import PEOPLE_EDITORS, units_in_scope
from kefu.people.models import Employee, OrgUnit, Role


class BootstrapMixin:
    """Bootstrap classes on every widget, so templates can render fields as they come."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def unit_label(unit: OrgUnit) -> str:
    return f"{unit.name} ({unit.code})"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:  # type: ignore[override]
        return unit_label(obj)


class EmployeeFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Number or name"), "type": "search"}))
    unit = UnitChoiceField(label=_("Org unit"), required=False, queryset=OrgUnit.objects.none(),
                           empty_label=_("All units"))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Employee.Status.choices])

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def filter(self, qs: QuerySet[Employee]) -> QuerySet[Employee]:
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(employee_no__icontains=term) | Q(name__icontains=term))
        if data.get("unit"):
            qs = qs.filter(org_unit__path__startswith=data["unit"].path)
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        return qs


class EmployeeForm(BootstrapMixin, forms.ModelForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             help_text=_("Kept in the change history."))

    class Meta:
        model = Employee
        fields = ["employee_no", "name", "gender", "hire_date", "org_unit", "position", "email", "phone"]
        widgets = {"hire_date": date_input()}
        field_classes = {"org_unit": UnitChoiceField}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # HR places people only in active units within her scope.
        units = units_in_scope(user, PEOPLE_EDITORS).filter(active=True)
        if self.instance.pk:
            units = units | OrgUnit.objects.filter(pk=self.instance.org_unit_id)
            self.fields["employee_no"].disabled = True
            self.fields["employee_no"].help_text = _("The employee number does not change.")
        self.fields["org_unit"].queryset = units.distinct()  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        names = [f for f in self.Meta.fields if not (self.instance.pk and f == "employee_no")]
        return {name: self.cleaned_data[name] for name in names}


class OffboardForm(BootstrapMixin, forms.Form):
    leave_date = forms.DateField(label=_("Leave date"), widget=date_input())
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_leave_date(self):
        value = self.cleaned_data["leave_date"]
        if value > timezone.localdate():
            # Offboarding disables her login at once, so it is done on or after the last day.
            raise ValidationError(_("The leave date is in the future; offboard her on or after that day."))
        return value


class OrgUnitCreateForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=[c for c in OrgUnit.Kind.choices if c[0] != OrgUnit.Kind.COMPANY])
    parent = UnitChoiceField(label=_("Parent unit"), queryset=OrgUnit.objects.none())
    is_customer_service = forms.BooleanField(label=_("Customer-service unit"), required=False,
                                             help_text=_("Staff in this unit and below are CS staff under the policy."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units_in_scope(user, PEOPLE_EDITORS).filter(active=True)  # type: ignore[attr-defined]


class OrgUnitEditForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = UnitChoiceField(label=_("Parent unit"), queryset=OrgUnit.objects.none(), required=False,
                             help_text=_("Choose another parent to move the unit with everything under it."))
    is_customer_service = forms.BooleanField(label=_("Customer-service unit"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False,
                                help_text=_("A unit closes only when nobody works in it or below any more."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, user: Any, unit: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        parents = units_in_scope(user, PEOPLE_EDITORS).filter(active=True).exclude(path__startswith=unit.path)
        if unit.parent_id:
            parents = parents | OrgUnit.objects.filter(pk=unit.parent_id)
        self.fields["parent"].queryset = parents.distinct()  # type: ignore[attr-defined]
        if unit.kind == OrgUnit.Kind.COMPANY:
            self.fields["parent"].disabled = True

    def changes(self) -> dict[str, Any]:
        """Only the fields that differ, so a rename does not also re-check the parent."""
        data = self.cleaned_data
        changed = {}
        for name in ("code", "name", "is_customer_service", "active"):
            if data[name] != getattr(self.unit, name):
                changed[name] = data[name]
        if self.unit.kind != OrgUnit.Kind.COMPANY and data.get("parent") and data["parent"].pk != self.unit.parent_id:
            changed["parent"] = data["parent"]
        return changed

    def clean(self):
        data = super().clean()
        if self.unit.kind != OrgUnit.Kind.COMPANY and not data.get("parent") and "parent" not in self.errors:
            self.add_error("parent", _("This field is required."))
        return data


class RoleFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Login, number or name"), "type": "search"}))
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("Any role")), *Role.choices])
    show = forms.ChoiceField(label=_("Show"), required=False,
                             choices=[("current", _("Current")), ("all", _("Including ended"))])


class RoleAssignForm(BootstrapMixin, forms.Form):
    person = forms.CharField(label=_("Person"), max_length=150,
                             help_text=_("Employee number or login name."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    org_unit = UnitChoiceField(label=_("Covers"), queryset=OrgUnit.objects.none(),
                               help_text=_("The role covers this unit and everything under it."))
    start_date = forms.DateField(label=_("From"), widget=date_input())
    end_date = forms.DateField(label=_("Until"), required=False, widget=date_input())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"start_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units_in_scope(user, [Role.SYSADMIN]).filter(active=True)  # type: ignore[attr-defined]

    def clean_person(self):
        text = self.cleaned_data["person"].strip()
        employee = Employee.objects.select_related("user").filter(employee_no=text, user__isnull=False).first()
        if employee is not None:
            return employee.user
        user = get_user_model().objects.filter(username=text).first()
        if user is None:
            raise ValidationError(_("No login belongs to “%(text)s”.") % {"text": text})
        return user

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return data


class RoleEndForm(forms.Form):
    end_date = forms.DateField(label=_("Until"), widget=date_input())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class ImportUploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("Excel (.xlsx) or CSV (UTF-8 or GBK)."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,text/csv"}))
