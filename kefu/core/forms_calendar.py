"""Forms of the work calendar page. They only parse; the services validate and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from kefu.core import calendar
from kefu.core.models import CalendarDay

_PIECES = re.compile(r"[,，;；、\n]+")
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-|–|—|~|～|至|到)\s*(\S+)\s*$")


def parse_ranges_text(text: str) -> list[list[str]]:
    """``"09:00-12:00, 13:00-18:00"`` → ``[["09:00", "12:00"], ["13:00", "18:00"]]``."""
    ranges: list[list[str]] = []
    errors: list[ValidationError] = []
    for n, piece in enumerate((p for p in _PIECES.split(text or "") if p.strip()), 1):
        match = _RANGE.match(piece)
        if not match:
            errors.append(ValidationError(
                _("Range %(n)s (“%(piece)s”): write a range as start-end, e.g. 09:00-12:00."),
                code="invalid_range", params={"n": n, "piece": piece.strip()}))
            continue
        ranges.append([match.group(1), match.group(2)])
    if errors:
        raise ValidationError(errors)
    return ranges


def ranges_text(ranges: Any) -> str:
    """Ranges (time pairs or stored ``[["09:00", "12:00"]]``) as the text the forms take."""
    return ", ".join(f"{calendar.parse_time(s):%H:%M}-{calendar.parse_time(e):%H:%M}" for s, e in ranges)


class RangesField(forms.CharField):
    def to_python(self, value: Any) -> list[list[str]]:  # type: ignore[override]
        return parse_ranges_text(super().to_python(value) or "")


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


class CalendarDayForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=CalendarDay.Kind.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    hours = RangesField(
        label=_("Hours"), required=False, widget=_text(placeholder="09:00-12:00, 13:00-17:00"),
        help_text=_("Needed for other hours. For a working day, empty means the weekday's ordinary hours "
                    "(Monday's on a weekend). Leave empty for a day off."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False, widget=_text())


class CalendarDayDeleteForm(forms.Form):
    date = forms.DateField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False, widget=_text())


class WorkingPeriodsForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Weekday"), coerce=int, choices=[(i, WEEKDAYS[i]) for i in range(7)], widget=forms.HiddenInput
    )
    # The placeholder must not look like hours: an empty weekday has none.
    ranges = RangesField(
        label=_("Working hours"), required=False, widget=_text(placeholder=_("No work on this weekday")),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False, widget=_text())


class CalendarYearConfirmForm(forms.Form):
    year = forms.IntegerField(widget=forms.HiddenInput, min_value=calendar.MIN_YEAR, max_value=calendar.MAX_YEAR)
    note = forms.CharField(label=_("Note"), max_length=200, required=False, widget=_text())
