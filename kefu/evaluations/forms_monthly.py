"""Forms of the monthly board, the monthly draft and the calibration pages (they parse; services decide)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.evaluations.models import MONTHLY_DIMENSIONS, Dimension, MonthlyEvaluation, Scorecard
from kefu.evaluations.monthly import MonthRules, number_text
from kefu.people.forms import BootstrapMixin
from kefu.people.models import Employee, OrgUnit

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_month(text: str | None) -> tuple[int, int] | None:
    """``2026-03`` → (2026, 3); None for anything else."""
    match = _MONTH.match(text or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and 2000 <= year <= 2999):
        return None
    return year, month


def previous_month(day: datetime.date) -> tuple[int, int]:
    first = day.replace(day=1) - datetime.timedelta(days=1)
    return first.year, first.month


class MonthlyDraftForm(BootstrapMixin, forms.Form):
    """The supervisor's points, reasons and comment on a monthly draft (E2.2)."""

    comment = forms.CharField(label=_("Supervisor's comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, evaluation: MonthlyEvaluation, rules: MonthRules, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"comment": evaluation.comment}
        for dim in MONTHLY_DIMENSIONS:
            value = evaluation.points(dim)
            initial[dim] = None if value is None else number_text(value)  # 25.50 shows as 25.5
            initial[f"{dim}_reason"] = getattr(evaluation, f"{dim}_reason")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        labels = dict(Dimension.choices)
        for dim in MONTHLY_DIMENSIONS:
            maximum = rules.weights[dim]
            self.fields[dim] = forms.DecimalField(
                label=labels[dim], required=False, min_value=Decimal(0), max_value=maximum, max_digits=5,
                decimal_places=2, widget=forms.NumberInput(attrs={"step": str(rules.step), "min": "0",
                                                                  "max": str(maximum), "inputmode": "decimal"}),
            )
            self.fields[f"{dim}_reason"] = forms.CharField(
                label=_("Reason"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
            )
        # Bootstrap classes on the fields added above.
        for name in self.fields:
            widget = self.fields[name].widget
            if "form-control" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} form-control".strip()
        self.order_fields([*(x for d in MONTHLY_DIMENSIONS for x in (d, f"{d}_reason")), "comment"])

    def points(self) -> dict[str, Decimal | None]:
        return {d: self.cleaned_data.get(d) for d in MONTHLY_DIMENSIONS}

    def reasons(self) -> dict[str, str]:
        return {d: self.cleaned_data.get(f"{d}_reason") or "" for d in MONTHLY_DIMENSIONS}


class InteractionRefsField(forms.CharField):
    """Interactions as ``source:external_id``, one per line (or separated by commas / spaces)."""

    def to_python(self, value: Any) -> list[tuple[str, str]]:  # type: ignore[override]
        text = super().to_python(value) or ""
        refs: list[tuple[str, str]] = []
        errors = []
        for token in re.split(r"[\s,，]+", text.strip()):
            if not token:
                continue
            source, sep, external = token.partition(":")
            if not sep or not source or not external:
                errors.append(token)
                continue
            refs.append((source, external))
        if errors:
            raise ValidationError(
                _("Write each interaction as source:external_id (e.g. DEMO-CC:CC-20260301-000123); "
                  "not understood: %(refs)s") % {"refs": ", ".join(errors[:10])}, code="invalid")
        return list(dict.fromkeys(refs))


class CalibrationCreateForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    scorecard = forms.ModelChoiceField(label=_("Scorecard"), queryset=Scorecard.objects.none())
    evaluators = forms.ModelMultipleChoiceField(
        label=_("Evaluators"), queryset=Employee.objects.none(),
        help_text=_("Team leads and CS supervisors in your scope; choose at least two."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    refs = InteractionRefsField(
        label=_("Interactions"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line as source:external_id (the evidence picker shows them). "
                    "Or leave empty and draw some at random below."),
    )
    draw = forms.IntegerField(label=_("Or draw this many at random"), required=False, min_value=1, max_value=50)
    draw_unit = forms.ModelChoiceField(label=_("from the interactions of"), required=False,
                                       queryset=OrgUnit.objects.none(), empty_label=_("All units in my scope"))
    draw_from = forms.DateField(label=_("received from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    draw_to = forms.DateField(label=_("received until"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, scorecards: QuerySet[Scorecard], evaluators: QuerySet[Employee],
                 units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scorecard"].queryset = scorecards  # type: ignore[attr-defined]
        self.fields["evaluators"].queryset = evaluators  # type: ignore[attr-defined]
        self.fields["draw_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["evaluators"].label_from_instance = (  # type: ignore[attr-defined]
            lambda e: f"{e.name} ({e.employee_no}) · {e.org_unit.name}")
        self.fields["draw_unit"].label_from_instance = lambda u: u.name  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("refs") and not data.get("draw") and not self.errors.get("refs"):
            self.add_error("refs", _("Name the interactions, or say how many to draw at random."))
        start, end = data.get("draw_from"), data.get("draw_to")
        if start and end and end < start:
            self.add_error("draw_to", _("The end comes before the start."))
        return data
