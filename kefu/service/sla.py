"""The SLA clock of policy E1.3, computed with the work calendar and the parameters in force
on the company-local date an interaction came in.

- normal, first reply due = received + [sla.first_reply_hours] working hours (an arrival
  outside working hours starts counting at the next opening: ``add_working_hours``);
- normal, resolution due = close of business of the [sla.resolution_days]-th working day
  after the local date it came in (that date is not counted, as the Civil Code counts
  periods; the last day is always a working day: ``close_of_business``);
- urgent, first reply due = received + [sla.urgent_first_reply_minutes] minutes of calendar
  time, day or night ("immediately");
- urgent, resolution due = close of business of the [sla.urgent_resolution_days]-th working
  day after the local date it came in.

A deadline is **met** when its event (first reply / resolution) happened at or before it,
**breached** when after it; while the event has not happened the row stores ``pending`` and
readers see **open** or **overdue** (models.sla_state). A resolution without a recorded
first reply counts as the first reply. The working time taken (received → first reply,
received → resolution) is stored in whole seconds.

A calendar year that is not known yet (``CalendarNotCovered``: chinesecalendar covers up to
2026, later years must be entered by a system admin) never breaks an import: the deadline
that needs it is stored as NULL with status ``unknown``, the report names the year, and
``services.sla_recompute`` fills it in when the calendar or a parameter changes (the
calendar services call it for the confirmed year).

Bulk jobs build one ``SlaClock``: one calendar snapshot and the parameter rows read once,
resolved per local date (cached), so a million rows cost no query per row.
"""

from __future__ import annotations

import bisect
import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from kefu.core import calendar, policy
from kefu.core.calendar import CalendarNotCovered, WorkCalendar
from kefu.core.models import PolicyValue
from kefu.service.models import Priority, SlaStored

FIRST_REPLY_HOURS = "sla.first_reply_hours"
RESOLUTION_DAYS = "sla.resolution_days"
URGENT_MINUTES = "sla.urgent_first_reply_minutes"
URGENT_RESOLUTION_DAYS = "sla.urgent_resolution_days"
SLA_KEYS = (FIRST_REPLY_HOURS, RESOLUTION_DAYS, URGENT_MINUTES, URGENT_RESOLUTION_DAYS)

_SECOND = datetime.timedelta(seconds=1)


@dataclass(frozen=True)
class SlaParameters:
    first_reply_hours: Decimal
    resolution_days: int
    urgent_first_reply_minutes: int
    urgent_resolution_days: int

    @property
    def first_reply_us(self) -> int:
        return calendar.hours_to_us(self.first_reply_hours)

    @property
    def urgent_first_reply_us(self) -> int:
        return self.urgent_first_reply_minutes * 60_000_000


class ParametersByDate:
    """The four SLA parameters in force on each local date, from one query over their rows."""

    def __init__(self) -> None:
        rows: dict[str, list[tuple[datetime.date, Any]]] = {key: [] for key in SLA_KEYS}
        for key, effective_from, value in PolicyValue.objects.filter(key__in=SLA_KEYS).order_by(
            "key", "effective_from"
        ).values_list("key", "effective_from", "value"):
            rows[key].append((effective_from, policy.definition(key).parse(value)))
        self._rows = rows
        self._cache: dict[datetime.date, SlaParameters] = {}

    def _value(self, key: str, on: datetime.date) -> Any:
        value = policy.definition(key).default
        for effective_from, parsed in self._rows[key]:
            if effective_from > on:
                break
            value = parsed
        return value

    def on(self, day: datetime.date) -> SlaParameters:
        found = self._cache.get(day)
        if found is None:
            found = SlaParameters(
                first_reply_hours=Decimal(self._value(FIRST_REPLY_HOURS, day)),
                resolution_days=int(self._value(RESOLUTION_DAYS, day)),
                urgent_first_reply_minutes=int(self._value(URGENT_MINUTES, day)),
                urgent_resolution_days=int(self._value(URGENT_RESOLUTION_DAYS, day)),
            )
            self._cache[day] = found
        return found


class SlaResult(NamedTuple):
    first_reply_due_at: datetime.datetime | None
    resolution_due_at: datetime.datetime | None
    first_reply_status: str
    resolution_status: str
    first_reply_working_seconds: int | None
    resolution_working_seconds: int | None
    uncovered_year: int | None = None  # a year the calendar does not know, when a value could not be computed

    def as_fields(self) -> dict[str, Any]:
        return {
            "first_reply_due_at": self.first_reply_due_at,
            "resolution_due_at": self.resolution_due_at,
            "first_reply_status": self.first_reply_status,
            "resolution_status": self.resolution_status,
            "first_reply_working_seconds": self.first_reply_working_seconds,
            "resolution_working_seconds": self.resolution_working_seconds,
        }


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_US = datetime.timedelta(microseconds=1)


def _to_us(instant: datetime.datetime) -> int:
    """Exact epoch microseconds of an aware instant: whole seconds from the C ``timestamp()``
    (exact: a float is exact to well under a microsecond for these years), then the microseconds."""
    return math.floor(instant.timestamp()) * 1_000_000 + instant.microsecond


def _from_us(us: int) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(microseconds=us)


class SlaClock:
    """One calendar snapshot and the SLA parameters, for computing many interactions.

    ``compute`` works on the calendar's year tables directly (integer microseconds and a
    binary search, as ``WorkCalendar`` does), so a row costs a few microseconds; anything
    crossing into another year goes through ``WorkCalendar``'s own methods.
    """

    def __init__(self, cal: WorkCalendar | None = None, params: ParametersByDate | None = None):
        self.cal = cal or calendar.current()
        self.params = params or ParametersByDate()
        self.tz = self.cal.tz
        # (local date, urgent?) -> resolution due in µs, or the uncovered year as a negative number
        self._resolution: dict[tuple[datetime.date, bool], int] = {}
        self._first_reply_us: dict[datetime.date, tuple[int, int]] = {}
        self._year_starts: dict[int, int] = {}
        self._bounds: dict[int, tuple[int, int]] = {}
        self._tables: dict[int, Any] = {}

    def local_date(self, instant: datetime.datetime) -> datetime.date:
        return instant.astimezone(self.tz).date()

    def _year_start(self, year: int) -> int:
        found = self._year_starts.get(year)
        if found is None:
            found = _to_us(datetime.datetime(year, 1, 1, tzinfo=self.tz))
            self._year_starts[year] = found
        return found

    def _resolution_us(self, local_date: datetime.date, urgent: bool) -> int:
        key = (local_date, urgent)
        found = self._resolution.get(key)
        if found is None:
            p = self.params.on(local_date)
            try:
                found = _to_us(self.cal.close_of_business(
                    local_date, p.urgent_resolution_days if urgent else p.resolution_days))
            except CalendarNotCovered as e:
                found = -e.year
            self._resolution[key] = found
        return found

    def resolution_due(self, local_date: datetime.date, urgent: bool) -> datetime.datetime | int:
        """The resolution deadline for an arrival on ``local_date``, or the year the calendar lacks."""
        found = self._resolution_us(local_date, urgent)
        return -found if found < 0 else _from_us(found)

    def _amounts(self, local_date: datetime.date) -> tuple[int, int]:
        found = self._first_reply_us.get(local_date)
        if found is None:
            p = self.params.on(local_date)
            found = (p.first_reply_us, p.urgent_first_reply_us)
            self._first_reply_us[local_date] = found
        return found

    def compute(
        self,
        *,
        received_at: datetime.datetime,
        priority: str,
        first_response_at: datetime.datetime | None,
        resolved_at: datetime.datetime | None,
        local_date: datetime.date | None = None,
    ) -> SlaResult:
        """Deadlines, statuses and working time taken for one interaction (E1.3)."""
        day = local_date or self.local_date(received_at)
        fr_due, res_due, fr_status, res_status, fr_seconds, res_seconds, uncovered = self.compute_us(
            _to_us(received_at), day, priority == Priority.URGENT,
            None if first_response_at is None else _to_us(first_response_at),
            None if resolved_at is None else _to_us(resolved_at),
        )
        return SlaResult(
            None if fr_due is None else _from_us(fr_due),
            None if res_due is None else _from_us(res_due),
            fr_status, res_status, fr_seconds, res_seconds, uncovered,
        )

    def compute_us(self, r: int, day: datetime.date, urgent: bool, first_response: int | None,
                   resolved: int | None) -> tuple[int | None, int | None, str, str, int | None, int | None, int | None]:
        """``compute`` on epoch microseconds, for bulk work: (first reply due, resolution due, their
        statuses, working seconds to first reply and to resolution, the year the calendar lacked)."""
        replied = first_response if first_response is not None else resolved  # a resolution is a reply
        uncovered: int | None = None
        normal_us, urgent_us = self._amounts(day)
        year = day.year
        tab = self._tables.get(year)
        if tab is None:
            try:
                tab = self.cal.table(year)
                self._tables[year] = tab
            except CalendarNotCovered as e:
                uncovered = e.year
        done = tab.worked_before(r) if tab is not None else 0

        fr_due: int | None = None
        if urgent:
            fr_due = r + urgent_us
        elif tab is not None and done + normal_us <= tab.total:
            target = done + normal_us
            j = bisect.bisect_left(tab.cum_end, target)
            fr_due = tab.starts[j] + (target - tab.cum[j])
        else:
            try:
                fr_due = _to_us(self.cal.add_working_hours(_from_us(r), self.params.on(day).first_reply_hours))
            except CalendarNotCovered as e:
                uncovered = e.year
        res_due: int | None = self._resolution_us(day, urgent)
        if res_due is not None and res_due < 0:
            uncovered, res_due = -res_due, None

        fr_seconds = res_seconds = None
        if replied is not None:
            fr_seconds, missing = self._taken(tab, year, done, r, replied)
            uncovered = missing or uncovered
        if resolved is not None:
            res_seconds, missing = self._taken(tab, year, done, r, resolved)
            uncovered = missing or uncovered
        return (fr_due, res_due, _status_us(fr_due, replied), _status_us(res_due, resolved), fr_seconds,
                res_seconds, uncovered)

    def _taken(self, tab: Any, year: int, done: int, r: int, t: int) -> tuple[int | None, int | None]:
        """Working seconds from receipt (µs ``r``) to ``t``, and the year the calendar lacked if any."""
        bounds = self._bounds.get(year)
        if bounds is None:
            bounds = self._bounds[year] = (self._year_start(year), self._year_start(year + 1))
        if tab is not None and bounds[0] <= t < bounds[1]:
            return max(0, tab.worked_before(t) - done) // 1_000_000, None
        try:
            return self.cal.working_time_between(_from_us(r), _from_us(t)) // _SECOND, None
        except CalendarNotCovered as e:
            return None, e.year


def _status_us(due: int | None, done: int | None) -> str:
    if due is None:
        return SlaStored.UNKNOWN
    if done is None:
        return SlaStored.PENDING
    return SlaStored.MET if done <= due else SlaStored.BREACHED


def compute(**kwargs: Any) -> SlaResult:
    """One interaction's SLA with the current calendar and parameters (tests, single rows)."""
    return SlaClock().compute(**kwargs)
