"""Monthly evaluation drafts: who gets one, the facts, and the suggested points (policy E2.2).

After a month ends every CS agent who worked as an agent in it gets a draft for her CS
supervisor (``services.monthly_drafts_create``), pre-filled with a suggestion per dimension
and the facts behind it. The supervisor may set any dimension within its maximum; a change
of more than ``evaluation.reason_threshold_points`` from the suggestion needs a written reason.

Rules (every parameter is the one in force on the month's **last day**, the day the month's
result concerns):

- **Maxima**: ``evaluation.monthly_weights`` (default attitude 30, ability 30, efficiency 20,
  teamwork 20 — E2.2's 100 points).
- **The month's weeks**: the ISO weeks whose Thursday falls in the month (``scoring.weeks_of_month``;
  the rule that gives an ISO week its year, so every week counts in exactly one month).
  Weekly evaluations of those weeks that have been submitted (submitted, acknowledged or
  commented on — not drafts) count.
- **Attitude, ability** = the mean of the counted weeks' dimension percents
  (``scoring.weekly_dimension_scores``, stored on each weekly evaluation; a week where the
  dimension was all N/A is left out) × the dimension's maximum.
  Example: weekly attitude 80 % and 90 % → mean 85 % → 85 % × 30 = 25.5 points.
- **Efficiency** = the weekly efficiency mean blended with the month's **SLA rate**:
  ``(weekly % × (100 − s) + SLA % × s) / 100 × maximum``, with ``s`` =
  ``evaluation.efficiency_sla_share_pct`` (default 50). The SLA rate is the plain mean of the
  month's first-reply SLA rate and resolution SLA rate as ``service.kpis`` computes them
  (met ÷ (met + breached + overdue), by the local date the interaction came in, attributed
  to the first responder and the resolver; overdue judged when the draft is made); a rate
  with no decided deadline is left out, and with neither there is no SLA rate, so the
  suggestion is the weekly efficiency alone (the facts say so).
  Example: weekly 60 %, SLA 70 %, s = 50 → (60 × 50 + 70 × 50) / 100 = 65 % × 20 = 13.0.
- **Teamwork** (E1.4) is not scored weekly (E2.1): the supervisor enters it; no suggestion.
- **No weekly data** for attitude, ability or efficiency → no suggestion (the facts say why),
  never a made-up number.
- **Rounding**: to the nearest multiple of ``evaluation.point_step`` (default 0.5), halves up:
  25.25 → 25.5, 25.24 → 25.0. Entered points must lie on the step, between 0 and the maximum.
- **Missing weeks**: a week of the month in which the agent was employed (hired on or before
  its Sunday, not gone before its Monday) without a submitted weekly evaluation is listed as
  missing and shown as a warning on the draft.
- **Total** = the sum of the four dimensions, once all four are set.

Customer feedback (survey answers and ratings, E1.1), complaints and the handled count are
stored beside the suggestion in ``facts`` — what the supervisor weighs, not part of the arithmetic.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import policy
from kefu.evaluations.models import (
    MONTHLY_DIMENSIONS,
    WEEKLY_DIMENSIONS,
    Dimension,
    MonthlyEvaluation,
    WeeklyEvaluation,
)
from kefu.evaluations.scoring import week_start, weeks_of_month
from kefu.people.models import Employee, Role, RoleAssignment

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
COUNTED_WEEKLY = (
    WeeklyEvaluation.Status.SUBMITTED, WeeklyEvaluation.Status.ACKNOWLEDGED, WeeklyEvaluation.Status.COMMENTED,
)

# Why a dimension has no suggestion (keys stored in facts; texts translated when shown).
NO_SUGGESTION = {
    "no_weekly": gettext_lazy("No submitted weekly evaluation scored this dimension in the month."),
    "supervisor": gettext_lazy("Teamwork is not scored weekly (E2.1): the supervisor enters it."),
}
BASIS = {
    "weekly": gettext_lazy("Mean of %(n)s weekly evaluation(s): %(pct)s %% of %(max)s points."),
    "blend": gettext_lazy(
        "Weekly efficiency %(weekly)s %% blended with the SLA rate %(sla)s %% (SLA share %(share)s %%): "
        "%(pct)s %% of %(max)s points."
    ),
    "weekly_no_sla": gettext_lazy(
        "Weekly efficiency %(weekly)s %% alone: no SLA deadline was decided this month. %(pct)s %% of %(max)s points."
    ),
}


@dataclass(frozen=True)
class MonthRules:
    """The E2.2 parameters in force for one month (on its last day)."""

    on: datetime.date
    weights: dict[str, Decimal]
    sla_share_pct: Decimal
    reason_threshold: Decimal
    step: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(), "weights": {k: str(v) for k, v in self.weights.items()},
            "efficiency_sla_share_pct": str(self.sla_share_pct),
            "reason_threshold_points": str(self.reason_threshold), "point_step": str(self.step),
        }


def last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)


def rules_for(year: int, month: int) -> MonthRules:
    on = last_day(year, month)
    return MonthRules(
        on=on,
        weights={k: Decimal(v) for k, v in policy.get("evaluation.monthly_weights", on=on).items()},
        sla_share_pct=Decimal(policy.get("evaluation.efficiency_sla_share_pct", on=on)),
        reason_threshold=Decimal(policy.get("evaluation.reason_threshold_points", on=on)),
        step=Decimal(policy.get("evaluation.point_step", on=on)),
    )


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` to the nearest multiple of ``step``, halves up (E2.2 point step), to 2 places."""
    return ((value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step).quantize(CENT, rounding=ROUND_HALF_UP)


def on_step(value: Decimal, step: Decimal) -> bool:
    return (value / step) == (value / step).to_integral_value()


# ---- suggestions ----------------------------------------------------------------------------------


@dataclass
class Suggestion:
    points: Decimal | None
    pct: Decimal | None = None  # the percent of the maximum the points come from
    basis: str = ""  # a key of BASIS, or of NO_SUGGESTION when there is no suggestion
    params: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "points": None if self.points is None else str(self.points),
            "pct": None if self.pct is None else str(self.pct.quantize(CENT, rounding=ROUND_HALF_UP)),
            "basis": self.basis, "params": self.params or {},
        }


def number_text(value: Decimal | None) -> str:
    """A Decimal to at most 2 places without trailing zeros: 85.00 → "85", 62.50 → "62.5"."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def suggest(*, weekly_means: Mapping[str, Decimal | None], weeks_counted: Mapping[str, int],
            sla_pct: Decimal | None, rules: MonthRules) -> dict[str, Suggestion]:
    """The suggested points of each dimension (see the module docstring for the arithmetic)."""
    out: dict[str, Suggestion] = {}
    for dim in (Dimension.ATTITUDE, Dimension.ABILITY):
        mean = weekly_means.get(dim)
        maximum = rules.weights[dim]
        if mean is None:
            out[dim] = Suggestion(None, basis="no_weekly")
            continue
        out[dim] = Suggestion(
            round_to_step(mean / HUNDRED * maximum, rules.step), mean, "weekly",
            {"n": str(weeks_counted.get(dim, 0)), "pct": number_text(mean), "max": number_text(maximum)},
        )
    weekly = weekly_means.get(Dimension.EFFICIENCY)
    maximum = rules.weights[Dimension.EFFICIENCY]
    if weekly is None:
        out[Dimension.EFFICIENCY] = Suggestion(None, basis="no_weekly")
    elif sla_pct is None:
        out[Dimension.EFFICIENCY] = Suggestion(
            round_to_step(weekly / HUNDRED * maximum, rules.step), weekly, "weekly_no_sla",
            {"weekly": number_text(weekly), "pct": number_text(weekly), "max": number_text(maximum)},
        )
    else:
        share = rules.sla_share_pct
        blend = (weekly * (HUNDRED - share) + sla_pct * share) / HUNDRED
        out[Dimension.EFFICIENCY] = Suggestion(
            round_to_step(blend / HUNDRED * maximum, rules.step), blend, "blend",
            {"weekly": number_text(weekly), "sla": number_text(sla_pct), "share": number_text(share),
             "pct": number_text(blend), "max": number_text(maximum)},
        )
    out[Dimension.TEAMWORK] = Suggestion(None, basis="supervisor")
    return out


def suggestion_text(entry: Mapping[str, Any]) -> str:
    """The stored suggestion's basis in words (current language)."""
    basis = entry.get("basis") or ""
    if basis in NO_SUGGESTION:
        return str(NO_SUGGESTION[basis])
    if basis in BASIS:
        try:
            return str(BASIS[basis]) % (entry.get("params") or {})
        except (KeyError, TypeError):
            return ""
    return ""


def sla_rate_pct(first_met: int, first_total: int, res_met: int, res_total: int) -> Decimal | None:
    """The month's SLA rate in percent: the mean of the rates that have decided deadlines."""
    rates = [Decimal(met) / Decimal(total) * HUNDRED for met, total in ((first_met, first_total), (res_met, res_total))
             if total]
    return sum(rates, Decimal(0)) / len(rates) if rates else None


# ---- the point rules ------------------------------------------------------------------------------


def point_errors(evaluation: MonthlyEvaluation, *, require_all: bool = False,
                 rules: MonthRules | None = None) -> dict[str, list[str]]:
    """What breaks E2.2's rules in ``evaluation``'s points, by form field (empty: all is well).

    Each dimension lies within 0..its maximum and on the point step; one that moves from its
    suggestion by more than the threshold needs a reason (``<dimension>_reason``).
    ``require_all``: every dimension must be set (submitting); a draft may leave some empty.
    """
    rules = rules or rules_for(evaluation.year, evaluation.month)
    labels = dict(Dimension.choices)
    errors: dict[str, list[str]] = {}
    for dim in MONTHLY_DIMENSIONS:
        value = evaluation.points(dim)
        maximum = rules.weights[dim]
        label = labels[dim]
        if value is None:
            if require_all:
                errors[dim] = [_("Enter the points for %(dimension)s (0–%(max)s).") % {
                    "dimension": label, "max": maximum}]
            continue
        value = Decimal(value)
        if value < 0 or value > maximum:
            errors[dim] = [_("%(dimension)s must lie between 0 and %(max)s points.") % {
                "dimension": label, "max": maximum}]
            continue
        if not on_step(value, rules.step):
            errors[dim] = [_("Points go in steps of %(step)s (e.g. %(example)s).") % {
                "step": rules.step, "example": round_to_step(value, rules.step)}]
            continue
        suggested = evaluation.suggested(dim)
        reason = (getattr(evaluation, f"{dim}_reason", "") or "").strip()
        if suggested is not None and abs(value - suggested) > rules.reason_threshold and not reason:
            errors[f"{dim}_reason"] = [_(
                "%(dimension)s: %(points)s is %(diff)s points from the suggestion %(suggested)s "
                "(more than %(threshold)s): write the reason."
            ) % {"dimension": label, "points": value, "diff": abs(value - suggested), "suggested": suggested,
                 "threshold": rules.reason_threshold}]
    return errors


def total_of(evaluation: MonthlyEvaluation) -> Decimal | None:
    values = [evaluation.points(d) for d in MONTHLY_DIMENSIONS]
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0)).quantize(CENT)


# ---- who gets a draft, and her supervisor ---------------------------------------------------------


def month_agents(year: int, month: int, qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    """CS agents who worked as agents in the month: in a customer-service unit, employed in it,
    holding the agent role on some day of it."""
    return (Employee.objects.all() if qs is None else qs).filter(month_agents_q(year, month))


def month_agents_q(year: int, month: int) -> Q:
    """``month_agents`` as a condition on the employee row itself (to OR it with another, as the
    monthly board does, without a subquery over the employees)."""
    first, last = datetime.date(year, month, 1), last_day(year, month)
    agent_role = RoleAssignment.objects.filter(
        user_id=OuterRef("user_id"), role=Role.AGENT, start_date__lte=last,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
    return (
        Q(org_unit__is_customer_service=True, hire_date__lte=last)
        & (Q(leave_date__isnull=True) | Q(leave_date__gte=first))
        & ~Q(status=Employee.Status.PENDING)
        & Q(Exists(agent_role))
    )


def supervisors_by_path(on: datetime.date) -> list[tuple[str, int, int]]:
    """(unit path, supervisor employee id, user id) of every CS supervisor role in force on ``on``, deepest first."""
    rows = (
        RoleAssignment.objects.filter(role=Role.CS_SUPERVISOR, start_date__lte=on, user__employee__isnull=False)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .values_list("org_unit__path", "user__employee__pk", "user_id")
    )
    return sorted(rows, key=lambda r: (-len(r[0]), r[1]))


def supervisor_for(unit_path: str, agent_id: int, supervisors: list[tuple[str, int, int]]) -> int | None:
    """The CS supervisor of the nearest unit above (or at) the agent's that has one; never the agent."""
    for path, employee_id, _user_id in supervisors:
        if unit_path.startswith(path) and employee_id != agent_id:
            return employee_id
    return None


# ---- the facts ------------------------------------------------------------------------------------


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def month_facts(agents: Iterable[Employee], year: int, month: int, *, rules: MonthRules | None = None,
                now: datetime.datetime | None = None) -> dict[int, dict[str, Any]]:
    """The facts and suggestions for each of ``agents`` (employees with ``org_unit``), in a fixed number of queries.

    Weekly means are aggregated in SQL; the KPIs come from ``service.kpis`` (aggregate queries).
    """
    from kefu.service import kpis

    agents = list(agents)
    ids = [a.pk for a in agents]
    rules = rules or rules_for(year, month)
    now = now or timezone.now()
    weeks = weeks_of_month(year, month)
    first_monday, last_monday = week_start(*weeks[0]), week_start(*weeks[-1])
    period = kpis.month(year, month)

    # One query: every weekly evaluation of the month's weeks (status and percents), for the week list.
    rows = (
        WeeklyEvaluation.objects.filter(agent_id__in=ids, week_start__gte=first_monday, week_start__lte=last_monday)
        .order_by()
        .values_list("agent_id", "iso_year", "iso_week", "status", "pk",
                     "attitude_pct", "ability_pct", "efficiency_pct")
    )
    by_week: dict[tuple[int, int, int], tuple[Any, ...]] = {(r[0], r[1], r[2]): r for r in rows}
    # One query: the sums and counts behind the means, in SQL.
    counted = Q(status__in=COUNTED_WEEKLY)
    aggregates: dict[str, Any] = {"n": Count("pk", filter=counted)}
    for dim in WEEKLY_DIMENSIONS:
        aggregates[f"{dim}_sum"] = Sum(f"{dim}_pct", filter=counted)
        aggregates[f"{dim}_n"] = Count(f"{dim}_pct", filter=counted)
    sums = {
        row["agent_id"]: row
        for row in WeeklyEvaluation.objects.filter(
            agent_id__in=ids, week_start__gte=first_monday, week_start__lte=last_monday,
        ).order_by().values("agent_id").annotate(**aggregates)
    }
    table = kpis.agent_kpis(ids, [period], now=now)

    out: dict[int, dict[str, Any]] = {}
    for agent in agents:
        agg = sums.get(agent.pk, {})
        means: dict[str, Decimal | None] = {}
        counts: dict[str, int] = {}
        for dim in WEEKLY_DIMENSIONS:
            n = agg.get(f"{dim}_n") or 0
            counts[dim] = n
            means[dim] = Decimal(agg[f"{dim}_sum"]) / n if n else None
        k = table.get(agent.pk, period)
        first_total = k.first_reply_met + k.first_reply_breached + k.first_reply_overdue
        res_total = k.resolution_met + k.resolution_breached + k.resolution_overdue
        sla = sla_rate_pct(k.first_reply_met, first_total, k.resolution_met, res_total)
        suggestions = suggest(weekly_means=means, weeks_counted=counts, sla_pct=sla, rules=rules)

        week_list, missing = [], []
        for iso_year, iso_week in weeks:
            monday = week_start(iso_year, iso_week)
            sunday = monday + datetime.timedelta(days=6)
            employed = agent.hire_date <= sunday and (agent.leave_date is None or agent.leave_date >= monday)
            row = by_week.get((agent.pk, iso_year, iso_week))
            key = f"{iso_year}-W{iso_week:02d}"
            entry: dict[str, Any] = {"week": key, "monday": monday.isoformat(), "employed": employed}
            if row is not None:
                entry |= {"status": row[3], "id": row[4], "url": reverse_or_blank("evaluations:weekly_detail", row[4]),
                          "attitude_pct": _str(row[5]), "ability_pct": _str(row[6]), "efficiency_pct": _str(row[7])}
            else:
                entry["status"] = "missing"
            counted_week = row is not None and row[3] in COUNTED_WEEKLY
            if employed and not counted_week:
                missing.append(key)
            week_list.append(entry)

        out[agent.pk] = {
            "period": period.key,
            "rules": rules.as_json(),
            "weeks": week_list,
            "missing_weeks": missing,
            "weekly_means": {d: _str(means[d]) for d in WEEKLY_DIMENSIONS},
            "weekly_counted": counts,
            "sla": {
                "first_reply": {"met": k.first_reply_met, "breached": k.first_reply_breached,
                                "overdue": k.first_reply_overdue,
                                "rate_pct": _str(Decimal(k.first_reply_met) / first_total * HUNDRED)
                                if first_total else None},
                "resolution": {"met": k.resolution_met, "breached": k.resolution_breached,
                               "overdue": k.resolution_overdue,
                               "rate_pct": _str(Decimal(k.resolution_met) / res_total * HUNDRED)
                               if res_total else None},
                "rate_pct": _str(sla),
            },
            "handled": k.handled,
            "complaints": k.complaints,
            "backlog": k.backlog,
            "satisfaction": {
                "answers": k.answers,
                "mean_rating": None if k.rating_mean is None else round(k.rating_mean, 2),
                "share_4_5_pct": None if k.satisfied_share is None else round(k.satisfied_share * 100, 1),
            },
            "suggestions": {d: s.as_json() for d, s in suggestions.items()},
            "links": {
                "kpis": reverse_or_blank("service:kpi_agent", agent.employee_no) + f"?period={period.key}",
            },
            "computed_at": now.isoformat(),
        }
    return out


def reverse_or_blank(name: str, *args: Any) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def suggested_points(facts: Mapping[str, Any]) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for dim in MONTHLY_DIMENSIONS:
        raw = ((facts.get("suggestions") or {}).get(dim) or {}).get("points")
        out[dim] = None if raw is None or raw == "" else Decimal(str(raw))
    return out
