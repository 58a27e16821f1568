"""The form that sets a policy parameter from a date; its inputs follow the parameter's kind."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import policy


def _number_input(kind: str) -> forms.TextInput:
    # Text, not type=number: the browser would drop what it cannot parse, and people
    # should see our message naming the field instead.
    mode = "numeric" if kind == "int" else "decimal"
    return forms.TextInput(attrs={"class": "form-control", "inputmode": mode, "autocomplete": "off"})


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class PolicyValueForm(forms.Form):
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("Why the value changes. Required when the date is in the past."),
    )

    def __init__(self, param: policy.Parameter, *args: Any, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.param = param
        self.fields["effective_from"].initial = timezone.localdate()
        current = param.default if current is None else current
        if param.kind in ("int", "decimal"):
            self.fields["value"] = forms.CharField(
                label=_("Value"), max_length=40, widget=_number_input(param.kind), initial=_text(current)
            )
        elif param.kind == "choice":
            self.fields["value"] = forms.ChoiceField(
                label=_("Value"), choices=param.choices, initial=current,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        elif param.kind == "parts":
            for name, label in param.parts:
                widget = _number_input("decimal")
                widget.attrs["class"] += " js-policy-part"
                self.fields[self.part_field(name)] = forms.CharField(
                    label=label, max_length=40, widget=widget,
                    initial=_text(current.get(name) if isinstance(current, dict) else None),
                )
        self.order_fields(["effective_from", "value", *(self.part_field(n) for n, _label in param.parts), "note"])

    @staticmethod
    def part_field(name: str) -> str:
        return f"part_{name}"

    @property
    def part_fields(self) -> list[forms.BoundField]:
        return [self[self.part_field(name)] for name, _label in self.param.parts]

    @property
    def value_field(self) -> forms.BoundField | None:
        return self["value"] if "value" in self.fields else None

    def raw_value(self) -> Any:
        if self.param.kind == "parts":
            return {name: self.cleaned_data.get(self.part_field(name), "").strip() for name, _label in self.param.parts}
        value = self.cleaned_data.get("value", "")
        return value.strip() if isinstance(value, str) else value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value_fields = [self.part_field(n) for n, _label in self.param.parts] or ["value"]
        if any(name in self.errors for name in value_fields):
            return data
        try:
            policy.validate(self.param.key, self.raw_value())
        except ValidationError as e:
            self.add_value_errors(e)
        return data

    def add_value_errors(self, error: ValidationError) -> None:
        """Put a value's errors by the input they concern; errors about all parts (total, order) above them."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                field = self.part_field(name)
                self.add_error(field if field in self.fields else None, errors)
        elif "value" in self.fields:
            self.add_error("value", error)
        else:
            self.add_error(None, error)

    def add_service_errors(self, error: ValidationError) -> None:
        """Errors from services.policy_set, by field where the form has one."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            if name == "value":
                self.add_value_errors(ValidationError(errors))
            else:
                self.add_error(name if name in self.fields else None, errors)
