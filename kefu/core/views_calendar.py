"""The work calendar page: everyone reads it; system admins edit overrides, weekly hours and years."""

from __future__ import annotations

import calendar as month_tables
import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core import access, calendar, services
from kefu.core.forms_calendar import (
    CalendarDayDeleteForm,
    CalendarDayForm,
    CalendarYearConfirmForm,
    WorkingPeriodsForm,
    ranges_text,
)
from kefu.core.models import CalendarDay, CalendarYear

# One- or two-letter column heads: a month grid has to fit a phone (星期一 would not).
WEEKDAY_HEADS = [
    pgettext_lazy("weekday initial", "Mo"),
    pgettext_lazy("weekday initial", "Tu"),
    pgettext_lazy("weekday initial", "We"),
    pgettext_lazy("weekday initial", "Th"),
    pgettext_lazy("weekday initial", "Fr"),
    pgettext_lazy("weekday initial", "Sa"),
    pgettext_lazy("weekday initial", "Su"),
]


def _notable_runs(days: list[calendar.DayInfo]) -> list[dict[str, Any]]:
    """Holidays, adjusted working days and overrides; a run of days alike (e.g. a 9-day festival) is one row.

    A day with a company override always stands alone: it has its own edit and remove buttons.
    """
    runs: list[dict[str, Any]] = []
    for d in days:
        if not d.notable:
            continue
        last = runs[-1] if runs else None
        if (
            last is not None and d.override is None and last["day"].override is None
            and last["last"] + datetime.timedelta(days=1) == d.date
            and (last["day"].status, last["day"].holiday_name, last["day"].ranges) == (d.status, d.holiday_name, d.ranges)
        ):
            last["last"] = d.date
            last["count"] += 1
            continue
        runs.append({"day": d, "first": d.date, "last": d.date, "count": 1})
    return runs


def _url(year: int, day: datetime.date | None = None) -> str:
    url = f"{reverse('core:calendar')}?year={year}"
    return f"{url}&day={day.isoformat()}#day-detail" if day else url


def _int_year(raw: str | None) -> int | None:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return year if calendar.MIN_YEAR <= year <= calendar.MAX_YEAR else None


def _posted_year(request) -> int:
    return _int_year(request.POST.get("year")) or timezone.localdate().year


def _add_service_errors(form, error: ValidationError) -> None:
    """Put a service's errors on the form's visible fields of the same name, the rest on top."""
    visible = {f.name for f in form.visible_fields()}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for e in errors:
                form.add_error(name if name in visible else None, e)
    else:
        form.add_error(None, error)


def _weekly_forms(config: calendar.Config, bound: WorkingPeriodsForm | None) -> list[dict[str, Any]]:
    rows = []
    for weekday in range(7):
        if bound is not None and bound.data.get("weekday") == str(weekday):
            form = bound
        else:
            form = WorkingPeriodsForm(
                initial={"weekday": weekday, "ranges": ranges_text(config.weekly[weekday])},
                auto_id=f"id_wd{weekday}_%s",
            )
        rows.append({
            "weekday": weekday,
            "name": WEEKDAYS[weekday],
            "hours": ", ".join(calendar.format_range(s, e) for s, e in config.weekly[weekday]),
            "form": form,
        })
    return rows


def _page(
    request,
    year: int,
    *,
    selected: datetime.date | None = None,
    day_form: CalendarDayForm | None = None,
    hours_form: WorkingPeriodsForm | None = None,
    confirm_form: CalendarYearConfirmForm | None = None,
):
    """The page; a form that failed comes back bound, with its errors (status 200, as Django's FormView)."""
    cal = calendar.current()
    can_edit = calendar.can_edit(request.user)
    days = cal.year_overview(year)
    by_date = {d.date: d for d in days}
    months = [
        {
            "number": month,
            "name": MONTHS[month],
            "weeks": [
                [by_date[d] if d.month == month else None for d in week]
                for week in month_tables.Calendar(firstweekday=0).monthdatescalendar(year, month)
            ],
        }
        for month in range(1, 13)
    ]
    notable = _notable_runs(days)
    overrides = [d for d in days if d.override is not None]
    covered = calendar.package_covers(year)
    confirmed = None if covered else CalendarYear.objects.select_related("confirmed_by").filter(year=year).first()
    today = timezone.localdate()
    next_year_unknown = (
        year == today.year and not calendar.package_covers(year + 1) and (year + 1) not in cal.config.confirmed
    )
    selected_info = by_date.get(selected) if selected else None
    if can_edit and day_form is None:
        override = selected_info.override if selected_info else None
        initial: dict[str, Any] = {"date": selected, "kind": CalendarDay.Kind.OFF}
        if override is not None:
            initial.update(kind=override.kind, hours=ranges_text(override.ranges), note=override.note)
        day_form = CalendarDayForm(initial=initial)
    if can_edit and confirm_form is None and not covered and confirmed is None:
        confirm_form = CalendarYearConfirmForm(initial={"year": year})
    return render(request, "core/calendar.html", {
        "year": year,
        "calendar_url": reverse("core:calendar"),  # absolute: a failed form is shown at its POST address
        "today": today,
        "months": months,
        "weekday_heads": WEEKDAY_HEADS,
        "notable": notable,
        "covered": covered,
        "known": covered or confirmed is not None,
        "confirmed": confirmed,
        "days_off_entered": sum(1 for d in overrides if d.override and d.override.kind == CalendarDay.Kind.OFF),
        "working_entered": sum(1 for d in overrides if d.override and d.override.kind != CalendarDay.Kind.OFF),
        "next_year_unknown": next_year_unknown,
        "selected": selected_info,
        "weekly": _weekly_forms(cal.config, hours_form if can_edit else None),
        "can_edit": can_edit,
        "day_form": day_form,
        "confirm_form": confirm_form,
        "statuses": calendar.STATUS_LABELS,
    })


@require_GET
def calendar_page(request):
    """工作日曆: the year's working days, holidays, adjusted working days, overrides and weekly hours."""
    today = timezone.localdate()
    selected = None
    raw_day = request.GET.get("day")
    if raw_day:
        try:
            selected = datetime.date.fromisoformat(raw_day)
        except ValueError:
            messages.warning(request, _("“%(day)s” is not a date; showing the whole year.") % {"day": raw_day})
    raw_year = request.GET.get("year")
    year = _int_year(raw_year) if raw_year else (selected.year if selected else today.year)
    if year is None:
        messages.warning(request, _("The year must be a number from %(min)s to %(max)s; showing %(year)s.")
                         % {"min": calendar.MIN_YEAR, "max": calendar.MAX_YEAR, "year": today.year})
        year = today.year
    if selected is not None and selected.year != year:
        selected = None
    return _page(request, year, selected=selected)


def _require_editor(request) -> None:
    if not calendar.can_edit(request.user):
        raise PermissionDenied


@require_POST
def calendar_day_set(request):
    _require_editor(request)
    form = CalendarDayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = services.calendar_day_set(
                actor=request.user, date=data["date"], kind=data["kind"], hours=data["hours"], note=data["note"]
            )
        except ValidationError as e:
            _add_service_errors(form, e)
        else:
            messages.success(request, _("Saved the override of %(date)s.")
                             % {"date": date_format(row.date, "SHORT_DATE_FORMAT")})
            return redirect(_url(row.date.year, row.date))
    day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
    year = day.year if day and calendar.MIN_YEAR <= day.year <= calendar.MAX_YEAR else _posted_year(request)
    return _page(request, year, day_form=form)


@require_POST
def calendar_day_delete(request):
    _require_editor(request)
    form = CalendarDayDeleteForm(request.POST)
    year = _posted_year(request)
    if not form.is_valid():
        messages.error(request, _("Nothing was removed: the date is missing or not a date."))
        return redirect(_url(year))
    row = access.get_for_change(request.user, CalendarDay, date=form.cleaned_data["date"])
    services.calendar_day_delete(actor=request.user, date=row.date, reason=form.cleaned_data["reason"])
    messages.success(request, _("Removed the override of %(date)s.")
                     % {"date": date_format(row.date, "SHORT_DATE_FORMAT")})
    return redirect(_url(row.date.year))


@require_POST
def calendar_hours_set(request):
    _require_editor(request)
    raw_weekday = request.POST.get("weekday", "")
    auto_id = f"id_wd{raw_weekday}_%s" if raw_weekday.isdigit() else "id_wd_%s"
    form = WorkingPeriodsForm(request.POST, auto_id=auto_id)
    year = _posted_year(request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.working_periods_set(
                actor=request.user, weekday=data["weekday"], ranges=data["ranges"], reason=data["reason"]
            )
        except ValidationError as e:
            _add_service_errors(form, e)
        else:
            messages.success(request, _("Saved the working hours of %(weekday)s.")
                             % {"weekday": WEEKDAYS[data["weekday"]]})
            return redirect(f"{_url(year)}#weekly-hours")
    if "weekday" in form.errors:
        messages.error(request, _("Choose a weekday."))
    return _page(request, year, hours_form=form)


@require_POST
def calendar_year_confirm(request):
    _require_editor(request)
    form = CalendarYearConfirmForm(request.POST)
    year = _posted_year(request)
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            services.calendar_year_confirm(actor=request.user, year=year, note=form.cleaned_data["note"])
        except ValidationError as e:
            _add_service_errors(form, e)
        else:
            messages.success(request, _("Confirmed the work calendar of %(year)s.") % {"year": year})
            return redirect(_url(year))
    elif "year" in form.errors:
        form.add_error(None, _("The year must be a number from %(min)s to %(max)s.")
                       % {"min": calendar.MIN_YEAR, "max": calendar.MAX_YEAR})
    return _page(request, year, confirm_form=form)
