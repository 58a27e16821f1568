"""The work calendar: when the company is at work (DESIGN.md "Time"; POLICY.md E1.3, G3.1, S2).

    from kefu.core import calendar
    deadline = calendar.add_working_hours(received_at, policy.get("sla.first_reply_hours", on=day))
    due = calendar.close_of_business(decided_on, 5)

How one date is decided — the first layer that speaks wins:

1. **A company override** (``CalendarDay``): ``off`` — no work; ``hours`` — exactly the
   ranges given; ``working`` — a working day with the ranges given or, when none are
   given, the ordinary hours of that weekday, or, for a weekday without hours (a
   weekend), the *fallback hours*: those of the first weekday Monday→Friday that has
   any (normally Monday's).
2. **The statutory calendar** of the ``chinesecalendar`` package: a statutory holiday is
   off; an adjusted working day (調休上班日, e.g. Saturday 2026-02-14) works its
   weekday's ordinary hours or else the fallback hours.
3. **The ordinary weekly hours** (``WorkingPeriod``, company local time); a weekday
   without ranges (by default Saturday and Sunday) is not a working day.

A year the package does not cover is **never guessed**: anything that needs a date of
such a year raises ``CalendarNotCovered`` naming the year, until a system admin has
entered that year's holidays and adjusted working days as overrides and confirmed the
year (``CalendarYear``, ``services.calendar_year_confirm``). In a confirmed year layer 2
is absent: overrides, then weekly hours.

Instants and ranges
    Working ranges are half-open, ``[start, end)``, in the company time zone
    (``settings.TIME_ZONE``). Functions take timezone-aware datetimes (a naive one
    raises ``ValueError``) and return aware datetimes in the company time zone. All
    arithmetic runs on integer microseconds since the epoch, so there is no float
    drift; hours given as float are read through their shortest decimal form
    (``0.1`` is exactly six minutes) and rounded to the microsecond.

    ``add_working_hours(x, h)`` is the earliest instant by which ``h`` working hours have
    passed since ``x``: nights, lunch breaks, weekends and holidays are skipped, and a
    deadline that lands exactly on a closing time stays there (11:00 + 1 h = 12:00, not
    13:00). Adding 0 hours gives ``x`` itself when ``x`` lies inside a working range or
    exactly at its end, otherwise the next opening — so a deadline is never placed in
    non-working time, and ``add(add(x, a), b) == add(x, a + b)`` for all ``a, b >= 0``.
    ``next_opening(x)`` is ``x`` inside a range, otherwise the next range start (so at
    12:00 it is 13:00).

Caching (performance: SLA recomputation over millions of rows)
    Each year becomes a table of its working ranges as sorted integer arrays with
    running totals; a lookup is a binary search. The tables hang off a ``WorkCalendar``
    built from the *configuration* (all ``WorkingPeriod``, ``CalendarDay`` and
    ``CalendarYear`` rows — a few hundred small rows, three queries) and cached in the
    process. Freshness:

    - the calendar services call ``changed()``: this process drops its cache at once
      and again when the transaction commits;
    - other processes re-read the configuration at most every
      ``settings.KEFU_CALENDAR_CHECK_SECONDS`` seconds (default 5; ``None`` never) and
      rebuild only when it differs — so another app server serves a changed calendar
      at most that long, and a change made outside the services (shell, data
      migration) is seen the same way. Call ``invalidate()`` after such a change to
      see it at once in this process.

    A bulk job takes one snapshot, ``cal = calendar.current()``, and calls its methods
    (``cal.add_working_hours(...)``): no further checks, one consistent calendar.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
import threading
import time as monotonic_time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kefu.core import access, registry
from kefu.core.models import CalendarDay, CalendarYear, WorkingPeriod

TimeRange = tuple[datetime.time, datetime.time]

US_PER_HOUR = 3_600_000_000
_US = datetime.timedelta(microseconds=1)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Years the page and the services accept; a deadline never needs more.
MIN_YEAR, MAX_YEAR = 1900, 2199
# A search for working time gives up after this many years without any (a calendar with no hours).
_MAX_YEARS_AHEAD = 10
DEFAULT_CHECK_SECONDS = 5

SYSADMIN = "sysadmin"  # people.models.Role.SYSADMIN; core does not import people

# chinesecalendar names its holidays in English; these are the gettext msgids.
HOLIDAY_NAMES: dict[str, Any] = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("Anti-Fascist 70th Day"),
}


def holiday_label(name: str | None) -> Any:
    """The translated name of a chinesecalendar holiday (the package's own name if unknown)."""
    if not name:
        return ""
    return HOLIDAY_NAMES.get(name, name)


class CalendarNotCovered(ValidationError):
    """A date of a year whose statutory holidays are not known (not in chinesecalendar, not confirmed)."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _(
                "The work calendar of %(year)s is not known yet: the built-in statutory holiday table does not "
                "cover it. A system admin must enter that year's holidays and adjusted working days on the work "
                "calendar page and confirm the year."
            ),
            code="calendar_not_covered",
            params={"year": year},
        )


@functools.cache
@functools.cache  # the installed package's years do not change while the process runs
def package_covers(year: int) -> bool:
    """Whether chinesecalendar knows the statutory holidays of ``year``."""
    try:
        chinese_calendar.get_holiday_detail(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# --- ranges: parsing and validation (shared with the services and forms) -----------------------

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_time(value: Any) -> datetime.time:
    """A time of day from ``"HH:MM"`` (or a ``time``); ValidationError naming the value otherwise."""
    if isinstance(value, datetime.time):
        return value.replace(tzinfo=None)
    text = str(value).strip() if value is not None else ""
    match = _TIME_RE.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return datetime.time(hour, minute)
    raise ValidationError(
        _("“%(value)s” is not a time of day; write it as HH:MM, e.g. 09:00."), code="invalid_time",
        params={"value": text},
    )


def format_range(start: datetime.time, end: datetime.time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def clean_ranges(raw: Iterable[Any]) -> list[TimeRange]:
    """Validate working ranges given as pairs of ``"HH:MM"`` strings or times.

    Returns them sorted by start. Every problem is reported, naming the range by its
    position (1-based, as entered): an unreadable time, an end not after its start, and
    ranges that overlap (touching ranges such as 09:00–12:00 and 12:00–13:00 are allowed).
    """
    errors: list[ValidationError] = []
    ranges: list[tuple[int, TimeRange]] = []
    for n, item in enumerate(raw, 1):
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            errors.append(ValidationError(
                _("Range %(n)s: enter a start and an end."), code="invalid_range", params={"n": n}))
            continue
        try:
            start, end = parse_time(item[0]), parse_time(item[1])
        except ValidationError as e:
            errors.append(ValidationError(
                _("Range %(n)s: %(error)s"), code="invalid_range", params={"n": n, "error": " ".join(e.messages)}))
            continue
        if end <= start:
            errors.append(ValidationError(
                _("Range %(n)s: the end (%(end)s) must be after the start (%(start)s)."),
                code="end_before_start", params={"n": n, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}))
            continue
        ranges.append((n, (start, end)))
    ranges.sort(key=lambda item: item[1])
    latest: tuple[int, TimeRange] | None = None  # the range reaching furthest so far
    for n2, (s2, e2) in ranges:
        if latest is not None and s2 < latest[1][1]:
            n1, (s1, e1) = latest
            errors.append(ValidationError(
                _("Ranges %(a)s and %(b)s overlap (%(first)s and %(second)s)."), code="overlap",
                params={"a": min(n1, n2), "b": max(n1, n2), "first": format_range(s1, e1),
                        "second": format_range(s2, e2)}))
        if latest is None or e2 > latest[1][1]:
            latest = (n2, (s2, e2))
    if errors:
        raise ValidationError(errors)
    return [r for _n, r in ranges]


def ranges_to_json(ranges: Iterable[TimeRange]) -> list[list[str]]:
    """Ranges as stored in ``CalendarDay.hours``: ``[["09:00", "12:00"], ...]``."""
    return [[f"{start:%H:%M}", f"{end:%H:%M}"] for start, end in ranges]


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    kind: str  # CalendarDay.Kind
    ranges: tuple[TimeRange, ...]
    note: str

    @property
    def kind_label(self) -> Any:
        return CalendarDay.Kind(self.kind).label


@dataclass(frozen=True, eq=True)
class Config:
    """Everything the calendar is computed from; equal configs give equal answers."""

    tz_name: str
    weekly: tuple[tuple[TimeRange, ...], ...]  # index 0 = Monday
    overrides: dict[datetime.date, Override] = field(hash=False)
    confirmed: frozenset[int]

    @property
    def fallback(self) -> tuple[TimeRange, ...]:
        """Hours of an adjusted working day on a weekday that has none: the first of Mon–Fri with hours."""
        for day in range(5):
            if self.weekly[day]:
                return self.weekly[day]
        return ()


def load_config() -> Config:
    """Read the calendar's rows (three small queries)."""
    weekly: list[list[TimeRange]] = [[] for _day in range(7)]
    for weekday, start, end in WorkingPeriod.objects.order_by("weekday", "start").values_list(
        "weekday", "start", "end"
    ):
        weekly[weekday].append((start, end))
    overrides: dict[datetime.date, Override] = {}
    for day, kind, hours, note in CalendarDay.objects.values_list("date", "kind", "hours", "note"):
        try:
            ranges = clean_ranges(hours or [])
        except ValidationError as e:
            raise ValidationError(
                _("The calendar override of %(date)s has invalid hours: %(error)s"),
                code="invalid_override", params={"date": day.isoformat(), "error": " ".join(e.messages)},
            ) from e
        overrides[day] = Override(kind=kind, ranges=tuple(ranges), note=note)
    confirmed = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return Config(
        tz_name=settings.TIME_ZONE,
        weekly=tuple(tuple(day) for day in weekly),
        overrides=overrides,
        confirmed=confirmed,
    )


# --- one day ---------------------------------------------------------------------------------


class Status:
    """What decided a day, for display (CSS class ``day-<status>``)."""

    WORK = "work"  # ordinary working day
    REST = "rest"  # ordinary day without hours (weekend)
    HOLIDAY = "holiday"  # statutory holiday
    ADJUSTED = "adjusted"  # statutory adjusted working day (調休上班日)
    COMPANY_OFF = "company_off"  # company override: day off
    COMPANY_WORK = "company_work"  # company override: working day / other hours


STATUS_LABELS: dict[str, Any] = {
    Status.WORK: _("Working day"),
    Status.REST: _("Rest day"),
    Status.HOLIDAY: _("Statutory holiday"),
    Status.ADJUSTED: _("Adjusted working day"),
    Status.COMPANY_OFF: _("Company day off"),
    Status.COMPANY_WORK: _("Company working day"),
}


@dataclass(frozen=True)
class DayInfo:
    date: datetime.date
    ranges: tuple[TimeRange, ...]
    status: str
    holiday_name: str | None  # chinesecalendar's (English) name, for a holiday or adjusted working day
    override: Override | None
    known: bool  # False: an uncovered, unconfirmed year (the page shows it, nothing computes with it)

    @property
    def working(self) -> bool:
        return bool(self.ranges)

    @property
    def status_label(self) -> Any:
        return STATUS_LABELS[self.status]

    @property
    def holiday_label(self) -> Any:
        return holiday_label(self.holiday_name)

    @property
    def hours_text(self) -> str:
        return ", ".join(format_range(s, e) for s, e in self.ranges)

    @property
    def notable(self) -> bool:
        return self.status not in (Status.WORK, Status.REST) or self.override is not None


def _resolve(config: Config, day: datetime.date, *, strict: bool = True) -> DayInfo:
    covered = package_covers(day.year)
    known = covered or day.year in config.confirmed
    if strict and not known:
        raise CalendarNotCovered(day.year)
    statutory, name = None, None
    if covered:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name is not None:
            statutory = Status.HOLIDAY if is_holiday else Status.ADJUSTED
    weekday_ranges = config.weekly[day.weekday()]
    override = config.overrides.get(day)
    if override is not None:
        if override.kind == CalendarDay.Kind.OFF:
            ranges: tuple[TimeRange, ...] = ()
        elif override.kind == CalendarDay.Kind.HOURS:
            ranges = override.ranges
        else:
            ranges = override.ranges or weekday_ranges or config.fallback
        status = Status.COMPANY_WORK if ranges else Status.COMPANY_OFF
    elif statutory == Status.HOLIDAY:
        ranges, status = (), Status.HOLIDAY
    elif statutory == Status.ADJUSTED:
        ranges, status = weekday_ranges or config.fallback, Status.ADJUSTED
    else:
        ranges = weekday_ranges
        status = Status.WORK if ranges else Status.REST
    return DayInfo(date=day, ranges=ranges, status=status, holiday_name=name, override=override, known=known)


# --- year tables -----------------------------------------------------------------------------


def _to_us(instant: datetime.datetime) -> int:
    if not isinstance(instant, datetime.datetime):
        raise TypeError("expected a datetime")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the work calendar takes timezone-aware datetimes")
    return (instant - _EPOCH) // _US


@dataclass(frozen=True)
class YearTable:
    """One year's working ranges as sorted epoch microseconds, with running totals."""

    year: int
    starts: list[int]
    ends: list[int]
    cum: list[int]  # working µs before range i
    cum_end: list[int]  # working µs up to the end of range i
    days: dict[datetime.date, DayInfo]
    day_ranges: dict[datetime.date, tuple[tuple[int, int], ...]]
    working_days: list[datetime.date]
    closes: list[int]  # close of business of each working day

    @property
    def total(self) -> int:
        return self.cum_end[-1] if self.cum_end else 0

    def worked_before(self, t: int) -> int:
        """Working µs of this year before instant ``t`` (0 before the year, the total after it)."""
        i = bisect.bisect_right(self.ends, t)
        if i == len(self.starts):
            return self.total
        return self.cum[i] + max(0, t - self.starts[i])


def _build_year(config: Config, tz: ZoneInfo, year: int) -> YearTable:
    starts: list[int] = []
    ends: list[int] = []
    days: dict[datetime.date, DayInfo] = {}
    day_ranges: dict[datetime.date, tuple[tuple[int, int], ...]] = {}
    working_days: list[datetime.date] = []
    closes: list[int] = []
    day = datetime.date(year, 1, 1)
    one = datetime.timedelta(days=1)
    while day.year == year:
        info = _resolve(config, day)
        days[day] = info
        spans = []
        for start, end in info.ranges:
            s = _to_us(datetime.datetime.combine(day, start, tzinfo=tz))
            e = _to_us(datetime.datetime.combine(day, end, tzinfo=tz))
            if ends:  # keep the arrays strictly ordered even across a daylight-saving switch
                s = max(s, ends[-1])
            if e > s:
                starts.append(s)
                ends.append(e)
                spans.append((s, e))
        day_ranges[day] = tuple(spans)
        if spans:
            working_days.append(day)
            closes.append(spans[-1][1])
        day += one
    cum, cum_end, running = [], [], 0
    for s, e in zip(starts, ends, strict=True):
        cum.append(running)
        running += e - s
        cum_end.append(running)
    return YearTable(year, starts, ends, cum, cum_end, days, day_ranges, working_days, closes)


def hours_to_us(hours: Decimal | float | int | str) -> int:
    """Working hours as whole microseconds (exact for Decimal and int; float via its shortest repr)."""
    if isinstance(hours, bool):
        raise TypeError("hours must be a number")
    try:
        value = Decimal(repr(hours)) if isinstance(hours, float) else Decimal(hours)
    except (InvalidOperation, TypeError, ValueError) as e:
        raise ValueError(f"not a number of hours: {hours!r}") from e
    if not value.is_finite() or value < 0:
        raise ValueError(f"hours must be a finite number >= 0, not {hours!r}")
    return int((value * US_PER_HOUR).to_integral_value(rounding=ROUND_HALF_UP))


def _no_time_left(after: Any) -> ValidationError:
    return ValidationError(
        _("The work calendar has no working hours in the %(years)s years after %(after)s."),
        code="no_working_time", params={"years": _MAX_YEARS_AHEAD, "after": str(after)},
    )


class WorkCalendar:
    """An immutable snapshot of the calendar; year tables are built on first use."""

    def __init__(self, config: Config):
        self.config = config
        self.tz = ZoneInfo(config.tz_name)
        self._years: dict[int, YearTable] = {}
        self._lock = threading.Lock()
        self.checked_at = 0.0

    # tables
    def table(self, year: int) -> YearTable:
        """The year's table; CalendarNotCovered for a year neither the package nor an admin covers."""
        found = self._years.get(year)
        if found is None:
            with self._lock:
                found = self._years.get(year)
                if found is None:
                    found = _build_year(self.config, self.tz, year)
                    self._years[year] = found
        return found

    def _from_us(self, us: int) -> datetime.datetime:
        return (_EPOCH + us * _US).astimezone(self.tz)

    def _local_year(self, instant: datetime.datetime) -> int:
        return instant.astimezone(self.tz).year

    # days
    def day(self, day: datetime.date) -> DayInfo:
        _check_date(day)
        return self.table(day.year).days[day]

    def is_working_day(self, day: datetime.date) -> bool:
        return self.day(day).working

    def working_ranges(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        _check_date(day)
        return [(self._from_us(s), self._from_us(e)) for s, e in self.table(day.year).day_ranges[day]]

    def year_overview(self, year: int) -> list[DayInfo]:
        """Every date of ``year`` for display; an unknown year is shown (unconfirmed), not refused."""
        if package_covers(year) or year in self.config.confirmed:
            return list(self.table(year).days.values())
        day, one, days = datetime.date(year, 1, 1), datetime.timedelta(days=1), []
        while day.year == year:
            days.append(_resolve(self.config, day, strict=False))
            day += one
        return days

    # instants
    def next_opening(self, instant: datetime.datetime) -> datetime.datetime:
        t = _to_us(instant)
        first = year = self._local_year(instant)
        while year - first <= _MAX_YEARS_AHEAD:
            tab = self.table(year)
            i = bisect.bisect_right(tab.ends, t)
            if i < len(tab.starts):
                return self._from_us(max(t, tab.starts[i]))
            year += 1
        raise _no_time_left(instant)

    def add_working_hours(self, instant: datetime.datetime, hours: Decimal | float | int) -> datetime.datetime:
        amount = hours_to_us(hours)
        t = _to_us(instant)
        first = year = self._local_year(instant)
        if amount == 0:
            tab = self.table(year)
            i = bisect.bisect_left(tab.ends, t)  # the first range ending at or after t
            if i < len(tab.starts) and tab.starts[i] <= t:
                return self._from_us(t)
            return self.next_opening(instant)
        while year - first <= _MAX_YEARS_AHEAD:
            tab = self.table(year)
            done = tab.worked_before(t)
            remaining = tab.total - done
            if amount <= remaining:
                target = done + amount
                j = bisect.bisect_left(tab.cum_end, target)
                return self._from_us(tab.starts[j] + (target - tab.cum[j]))
            amount -= remaining
            year += 1
        raise _no_time_left(instant)

    def working_time_between(self, a: datetime.datetime, b: datetime.datetime) -> datetime.timedelta:
        ta, tb = _to_us(a), _to_us(b)
        if tb <= ta:
            return datetime.timedelta(0)
        ya, yb = self._local_year(a), self._local_year(b)
        if ya == yb:
            tab = self.table(ya)
            return (tab.worked_before(tb) - tab.worked_before(ta)) * _US
        first = self.table(ya)
        total = first.total - first.worked_before(ta)
        for year in range(ya + 1, yb):
            total += self.table(year).total
        total += self.table(yb).worked_before(tb)
        return total * _US

    def close_of_business(self, day: datetime.date, n: int) -> datetime.datetime:
        _check_date(day)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError("n must be a whole number of working days >= 1")
        remaining, after, year = n, day, day.year
        while year - day.year <= _MAX_YEARS_AHEAD:
            tab = self.table(year)
            i = bisect.bisect_right(tab.working_days, after)
            available = len(tab.working_days) - i
            if remaining <= available:
                return self._from_us(tab.closes[i + remaining - 1])
            remaining -= available
            year += 1
        raise _no_time_left(day)


def _check_date(day: Any) -> None:
    if isinstance(day, datetime.datetime) or not isinstance(day, datetime.date):
        raise TypeError("expected a date (convert an instant to a company-local date first)")


# --- the process-wide snapshot -------------------------------------------------------------------

_lock = threading.Lock()
_current: WorkCalendar | None = None


def current() -> WorkCalendar:
    """The calendar snapshot for this process, re-checked against the database as documented above."""
    global _current
    cal = _current
    ttl = getattr(settings, "KEFU_CALENDAR_CHECK_SECONDS", DEFAULT_CHECK_SECONDS)
    now = monotonic_time.monotonic()
    if cal is not None and (ttl is None or now - cal.checked_at < ttl):
        return cal
    config = load_config()
    with _lock:
        if _current is not None and _current.config == config:
            _current.checked_at = now
            return _current
        cal = WorkCalendar(config)
        cal.checked_at = now
        _current = cal
        return cal


def invalidate() -> None:
    """Forget this process's snapshot; the next call re-reads the configuration."""
    global _current
    with _lock:
        _current = None


def changed() -> None:
    """Called by the calendar services after a write: drop the snapshot now and after commit.

    Now, so the writing transaction's own later reads see the change; after commit, so a
    snapshot another thread built from the old rows in between is not kept.
    """
    invalidate()
    transaction.on_commit(invalidate)


# --- the functions the rest of Kefu calls --------------------------------------------------------


def is_working_day(d: datetime.date) -> bool:
    """Whether the company works on date ``d`` (at least one working range)."""
    return current().is_working_day(d)


def working_ranges(d: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The working ranges of date ``d`` as aware company-local datetimes, in order; [] on a day off."""
    return current().working_ranges(d)


def add_working_hours(instant: datetime.datetime, hours: Decimal | float | int) -> datetime.datetime:
    """``instant`` plus ``hours`` working hours (see the module docstring for 0 hours and closing times)."""
    return current().add_working_hours(instant, hours)


def close_of_business(d: datetime.date, n: int) -> datetime.datetime:
    """The end of the last working range of the n-th working day after ``d`` (``d`` not counted, n >= 1)."""
    return current().close_of_business(d, n)


def working_time_between(a: datetime.datetime, b: datetime.datetime) -> datetime.timedelta:
    """Working time from ``a`` to ``b``; zero when ``b <= a``."""
    return current().working_time_between(a, b)


def next_opening(instant: datetime.datetime) -> datetime.datetime:
    """``instant`` if it lies inside a working range, else the start of the next one."""
    return current().next_opening(instant)


# --- access: everyone signed in sees the calendar, system admins change it -----------------------


def can_edit(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return SYSADMIN in registry.roles_of(user)


def _everyone(user, qs):
    return qs


def _sysadmin(user, obj) -> bool:
    return can_edit(user)


for _model in (CalendarDay, WorkingPeriod, CalendarYear):
    access.register(_model, visible=_everyone, can_change=_sysadmin)
