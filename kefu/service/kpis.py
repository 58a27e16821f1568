"""Agent KPIs per ISO week and per month (issue 3 item 5; policy E1.1 satisfaction, E1.3 efficiency).

    period = kpis.parse_period("2026-03")            # or "2026-W10"
    figures = kpis.agent_kpis([employee.pk], [period])[(employee.pk, period.key)]

Every figure comes from aggregate queries grouped by (agent, period) — a fixed number
of queries whatever the number of agents, periods or interactions, never a loop over rows.

Who a figure belongs to (the roles an interaction names may differ, issue 3 item 1):

- handled, complaints: the handling agent, by the local date the interaction came in;
- first-reply SLA rate and median: the first responder (the handling agent when none is named);
- resolution SLA rate and median: the resolver (likewise) — as the rating (E1.1);
- backlog: interactions whose resolution was past due and not done at the end of the
  period (or now, for the current period), attributed like the resolution;
- satisfaction: survey answers given in the period, to the agent who resolved (E1.1).

SLA rate = met ÷ (met + breached + overdue) (issue 3 item 5); an open deadline (not done,
not yet due) and an unknown one (calendar year not entered) count in neither part. Overdue
is judged against *now*, as the interaction rows store "pending" (see models.py).
Medians are of the stored working time (E1.3's clock), in minutes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kefu.service.models import Interaction, Kind, SlaStored, SurveyAnswer

MONTH = "month"
WEEK = "week"
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK_RE = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month or an ISO week, as company-local dates ``[start, end)``."""

    start: datetime.date
    end: datetime.date  # exclusive
    kind: str
    year: int
    number: int  # the month (1–12) or the ISO week (1–53)

    @property
    def key(self) -> str:
        return f"{self.year}-{self.number:02d}" if self.kind == MONTH else f"{self.year}-W{self.number:02d}"

    def __str__(self) -> str:
        return self.key

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return formats.date_format(self.start, "YEAR_MONTH_FORMAT")
        return _("%(week)s (%(first)s – %(last)s)") % {
            "week": self.key,
            "first": formats.date_format(self.start, "MONTH_DAY_FORMAT"),
            "last": formats.date_format(self.last_day, "MONTH_DAY_FORMAT"),
        }

    @property
    def start_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.start, datetime.time(), tzinfo=_tz())

    @property
    def end_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.end, datetime.time(), tzinfo=_tz())

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` before (negative) or after this one, of the same kind."""
        if self.kind == MONTH:
            index = self.year * 12 + self.number - 1 + steps
            return month(index // 12, index % 12 + 1)
        return period_of(self.start + datetime.timedelta(weeks=steps), WEEK)


def month(year: int, number: int) -> Period:
    start = datetime.date(year, number, 1)
    end = datetime.date(year + (number == 12), number % 12 + 1, 1)
    return Period(start=start, end=end, kind=MONTH, year=year, number=number)


def week(iso_year: int, iso_week: int) -> Period:
    start = datetime.date.fromisocalendar(iso_year, iso_week, 1)
    return Period(start=start, end=start + datetime.timedelta(days=7), kind=WEEK, year=iso_year, number=iso_week)


def period_of(day: datetime.date, kind: str) -> Period:
    """The month or ISO week that ``day`` lies in."""
    if kind == MONTH:
        return month(day.year, day.month)
    iso = day.isocalendar()
    return week(iso.year, iso.week)


class PeriodError(ValueError):
    """A period text that is neither YYYY-MM nor YYYY-Www; the message is for the user."""


def parse_period(text: Any) -> Period:
    """``2026-03`` is March 2026; ``2026-W10`` is ISO week 10 of 2026 (Monday to Sunday)."""
    value = str(text or "").strip()
    hint = _("Write a month as YYYY-MM (e.g. 2026-03) or an ISO week as YYYY-Www (e.g. 2026-W10).")
    match = _MONTH_RE.match(value)
    if match:
        year, number = int(match[1]), int(match[2])
        if not 1 <= number <= 12:
            raise PeriodError(_("“%(value)s” has no month %(n)s. %(hint)s") % {"value": value, "n": number, "hint": hint})
        if year < 1900:
            raise PeriodError(_("“%(value)s” is not a period. %(hint)s") % {"value": value, "hint": hint})
        return month(year, number)
    match = _WEEK_RE.match(value)
    if match:
        year, number = int(match[1]), int(match[2])
        try:
            if year < 1900:
                raise ValueError
            return week(year, number)
        except ValueError:
            raise PeriodError(
                _("%(year)s has no ISO week %(n)s. %(hint)s") % {"year": year, "n": number, "hint": hint}
            ) from None
    raise PeriodError(_("“%(value)s” is not a period. %(hint)s") % {"value": value, "hint": hint})


def recent_periods(last: Period, count: int) -> list[Period]:
    """``count`` periods of ``last``'s kind ending with ``last``, oldest first."""
    return [last.shifted(-i) for i in range(count - 1, -1, -1)]


# ---- the figures ---------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Kpis:
    """One agent's figures for one period."""

    handled: int = 0
    complaints: int = 0
    first_reply_met: int = 0
    first_reply_breached: int = 0
    first_reply_overdue: int = 0
    resolution_met: int = 0
    resolution_breached: int = 0
    resolution_overdue: int = 0
    first_reply_median_minutes: float | None = None
    resolution_median_minutes: float | None = None
    backlog: int = 0
    answers: int = 0
    rating_mean: float | None = None
    rating_high: int = 0  # answers rated 4 or 5

    @property
    def first_reply_rate(self) -> float | None:
        return _rate(self.first_reply_met,
                     self.first_reply_met + self.first_reply_breached + self.first_reply_overdue)

    @property
    def resolution_rate(self) -> float | None:
        return _rate(self.resolution_met,
                     self.resolution_met + self.resolution_breached + self.resolution_overdue)

    @property
    def satisfied_share(self) -> float | None:
        return _rate(self.rating_high, self.answers)

    def as_dict(self) -> dict[str, Any]:
        def r(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "handled": self.handled,
            "complaints": self.complaints,
            "first_reply": {
                "met": self.first_reply_met, "breached": self.first_reply_breached,
                "overdue": self.first_reply_overdue, "rate": r(self.first_reply_rate, 4),
                "median_working_minutes": r(self.first_reply_median_minutes, 1),
            },
            "resolution": {
                "met": self.resolution_met, "breached": self.resolution_breached,
                "overdue": self.resolution_overdue, "rate": r(self.resolution_rate, 4),
                "median_working_minutes": r(self.resolution_median_minutes, 1),
            },
            "backlog": self.backlog,
            "satisfaction": {
                "answers": self.answers, "mean_rating": r(self.rating_mean, 2),
                "share_4_5": r(self.satisfied_share, 4),
            },
        }


class Median(Aggregate):
    """PostgreSQL's exact median: the mean of the two middle values for an even count."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


AgentSet = QuerySet | Iterable[int]


# Above this many ids, PostgreSQL gets them as one array parameter (``IN (SELECT unnest(%s))``)
# instead of one placeholder each: the SQL of thousands of placeholders, built and parsed
# four times, cost about as much as the aggregates themselves (issue 9, docs/performance.md).
ARRAY_ABOVE = 50


def _agents_filter(agents: AgentSet) -> Any:
    if isinstance(agents, QuerySet):
        return agents.values("pk")
    ids = list(agents)
    if connection.vendor == "postgresql" and len(ids) > ARRAY_ABOVE:
        return RawSQL("SELECT unnest(%s::bigint[])", ([int(i) for i in ids],))
    return ids


def _attributed_to(field_name: str, agents: Any) -> Q:
    """Rows whose ``field_name`` names one of ``agents``, or that name nobody and whose handling agent is one."""
    return Q(**{f"{field_name}__in": agents}) | Q(**{f"{field_name}__isnull": True, "agent__in": agents})


def _who(field_name: str) -> Coalesce:
    return Coalesce(F(f"{field_name}_id"), F("agent_id"), output_field=BigIntegerField())


def _bucket(periods: list[Period], field_name: str, *, instants: bool) -> Case:
    whens = []
    for p in periods:
        low, high = (p.start_at, p.end_at) if instants else (p.start, p.end)
        whens.append(When(Q(**{f"{field_name}__gte": low, f"{field_name}__lt": high}), then=Value(p.key)))
    return Case(*whens, default=Value(""), output_field=CharField())


def _span(periods: list[Period]) -> tuple[datetime.date, datetime.date]:
    return min(p.start for p in periods), max(p.end for p in periods)


def _medians(qs: QuerySet, who: Any, bucket: Case, value_field: str) -> dict[tuple[int, str], float]:
    """The median of ``value_field`` per (who, period), in one query, ignoring empty values."""
    qs = qs.filter(**{f"{value_field}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        rows = qs.values(who=who, p=bucket).annotate(m=Median(value_field)).values_list("who", "p", "m")
        return {(w, p): float(m) for w, p, m in rows if m is not None}
    # SQLite has no percentile: rank each group's values with window functions and average the
    # middle one or two — still one query, and still the database's work, not a loop over rows here.
    inner = qs.values(who=who, p=bucket, v=F(value_field))
    sql, params = inner.query.sql_with_params()
    ranked = (
        "SELECT who, p, AVG(v) FROM ("
        " SELECT who, p, v, ROW_NUMBER() OVER (PARTITION BY who, p ORDER BY v) AS rn,"
        " COUNT(*) OVER (PARTITION BY who, p) AS cnt FROM (" + sql + ") AS base"
        ") AS ranked WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2) GROUP BY who, p"
    )
    with connection.cursor() as cursor:
        cursor.execute(ranked, params)
        return {(w, p): float(m) for w, p, m in cursor.fetchall() if m is not None}


@dataclass
class KpiTable:
    """The figures of several agents over several periods: ``table[agent_id, period_key]``."""

    periods: list[Period]
    rows: dict[tuple[int, str], Kpis] = field(default_factory=dict)

    def __getitem__(self, key: tuple[int, str]) -> Kpis:
        return self.rows.get(key) or Kpis()

    def get(self, agent_id: int, period: Period | str) -> Kpis:
        return self[agent_id, period if isinstance(period, str) else period.key]

    def _row(self, who: int, key: str) -> Kpis:
        return self.rows.setdefault((who, key), Kpis())


def agent_kpis(agents: AgentSet, periods: list[Period], *, now: datetime.datetime | None = None) -> KpiTable:
    """The KPIs of ``agents`` (employee ids, or a queryset of employees) for each of ``periods``.

    Seven queries on SQLite, five on PostgreSQL, whatever the number of agents, periods and rows.
    """
    now = now or timezone.now()
    table = KpiTable(periods=list(periods))
    if not periods:
        return table
    who_in = _agents_filter(agents)
    first, last = _span(periods)
    in_span = Q(local_date__gte=first, local_date__lt=last)
    received = _bucket(periods, "local_date", instants=False)
    base = Interaction.objects.order_by()

    # Handled and complaints: the handling agent.
    for who, key, handled, complaints in (
        base.filter(in_span, agent__in=who_in)
        .values(who=F("agent_id"), p=received)
        .annotate(handled=Count("pk"), complaints=Count("pk", filter=Q(kind=Kind.COMPLAINT)))
        .values_list("who", "p", "handled", "complaints")
    ):
        row = table._row(who, key)
        row.handled, row.complaints = handled, complaints

    # The two deadlines: counts of met / breached / overdue, and the median working time.
    for prefix, person in (("first_reply", "first_responder"), ("resolution", "resolver")):
        status, due, seconds = f"{prefix}_status", f"{prefix}_due_at", f"{prefix}_working_seconds"
        who = _who(person)
        qs = base.filter(in_span, _attributed_to(person, who_in))
        aggregates: dict[str, Any] = {
            "met": Count("pk", filter=Q(**{status: SlaStored.MET})),
            "breached": Count("pk", filter=Q(**{status: SlaStored.BREACHED})),
            "overdue": Count("pk", filter=Q(**{status: SlaStored.PENDING, f"{due}__lt": now})),
        }
        postgres = connection.vendor == "postgresql"
        if postgres:
            aggregates["m"] = Median(seconds)  # PERCENTILE_CONT skips the NULLs of deadlines not done
        for w, key, met, breached, overdue, *median in (
            qs.values(who=who, p=received).annotate(**aggregates).values_list("who", "p", *aggregates)
        ):
            row = table._row(w, key)
            setattr(row, f"{prefix}_met", met)
            setattr(row, f"{prefix}_breached", breached)
            setattr(row, f"{prefix}_overdue", overdue)
            if median and median[0] is not None:
                setattr(row, f"{prefix}_median_minutes", float(median[0]) / 60)
        if not postgres:
            for (w, key), median_seconds in _medians(qs, who, received, seconds).items():
                setattr(table._row(w, key), f"{prefix}_median_minutes", median_seconds / 60)

    # Backlog: past due and not resolved at the end of each period (now, for a period not over yet).
    cutoffs = {p.key: min(now, p.end_at) for p in periods}
    latest, earliest = max(cutoffs.values()), min(cutoffs.values())
    names = [f"b{i}" for i in range(len(cutoffs))]

    def counts(still_open: Any) -> dict[str, Count]:
        # Counts a column of the index below, never NULL where counted: Count("pk") would read the table.
        return {
            name: Count("resolution_due_at", filter=Q(resolution_due_at__lt=at) & still_open(at))
            for name, at in zip(names, cutoffs.values(), strict=True)
        }

    unresolved_or_later = lambda at: Q(resolved_at__isnull=True) | Q(resolved_at__gt=at)  # noqa: E731
    if isinstance(who_in, list):
        # A short list of agents: the (resolver, …) and (agent, …) indexes bound the one query (a BitmapOr).
        row_sets = [(Q(resolved_at__isnull=True) | Q(resolved_at__gt=earliest)) & _attributed_to("resolver", who_in)]
        tests = [unresolved_or_later]
    else:
        # Every agent of a team (issue 9): with the agents as a subquery, that one OR read the whole
        # table (no index bounds it). The rows that can count are of two disjoint kinds, each
        # reached through an index, in one UNION ALL:
        # - never resolved: given a due time, resolved_at is NULL exactly when the stored status is
        #   pending (sla._status_us) — the partial index of pending due times, which carries the two
        #   columns that attribute them, so PostgreSQL counts them from the index alone;
        # - resolved after the earliest cutoff, through (resolver, resolved_at): the named resolver's
        #   rows, then (resolver NULL) the handling agent's.
        late = Q(resolved_at__gt=earliest) & ~Q(resolution_status=SlaStored.PENDING)
        row_sets = [
            Q(resolution_status=SlaStored.PENDING) & _attributed_to("resolver", who_in),
            late & Q(resolver__in=who_in),
            late & Q(resolver__isnull=True, agent__in=who_in),
        ]
        tests = [lambda at: Q(), lambda at: Q(resolved_at__gt=at), lambda at: Q(resolved_at__gt=at)]
    parts = [
        base.filter(rows, resolution_due_at__lt=latest)
        .values(who=_who("resolver"))
        .annotate(**counts(still_open))
        .values_list("who", *names)
        for rows, still_open in zip(row_sets, tests, strict=True)
    ]
    for values in parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]:
        for key, count in zip(cutoffs, values[1:], strict=True):
            if count:
                table._row(values[0], key).backlog += count

    # Satisfaction (E1.1): answers given in the period, to the resolving agent.
    answered = _bucket(periods, "answered_at", instants=True)
    for who, key, answers, mean, high in (
        SurveyAnswer.objects.order_by()
        .filter(agent__in=who_in, answered_at__gte=min(p.start_at for p in periods),
                answered_at__lt=max(p.end_at for p in periods))
        .values(who=F("agent_id"), p=answered)
        .annotate(n=Count("pk"), mean=Avg("rating"), high=Count("pk", filter=Q(rating__gte=4)))
        .values_list("who", "p", "n", "mean", "high")
    ):
        row = table._row(who, key)
        row.answers, row.rating_mean, row.rating_high = answers, float(mean), high

    table.rows = {k: v for k, v in table.rows.items() if k[1]}  # rows outside every period (gaps in the span)
    return table
