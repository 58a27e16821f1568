"""Demo evaluations (issue 4 item 8): six months of weekly and monthly evaluations.

``manage.py seed_demo`` runs ``build_evaluations_demo`` after the demo interactions (registered in
``EvaluationsConfig.ready`` through ``core.registry.demo_steps``). Everything is drawn from a fixed
seed and from the demo's own data, so a second run finds every evaluation there and adds nothing.

Consistent with the interactions (kefu/service/demo.py):

- **Weekly evaluations** (E2.1) for every agent and every ISO week from the first week of the
  six months up to last week, by her team lead. The efficiency criteria follow the agent's SLA
  rates of that week — the slow agents score lower; the customer-satisfaction criterion follows
  her ratings (not applicable in a week without answers); complaints pull attitude down. Evidence
  is drawn from her own interactions of the week. Old weeks are acknowledged (a few commented on);
  last week is partly still to do, so the team leads' workbench shows late tasks; a few older
  weeks were missed, so some monthly drafts carry the missing-week warning.
- **Monthly evaluations** (E2.2) for the six months that have ended: the older five are final
  (acknowledged, window closed, a few appealed and decided), with the suggested points the rules
  give and the supervisor's teamwork; the last one goes through the real services — drafts made,
  most submitted, acknowledged or appealed, some still drafts on the supervisors' workbench. The
  named demo agent's last evaluation waits for her to acknowledge or appeal.

The history is written in bulk (one audit entry per batch: per week, per month); the last month
through the services, with their audit entries and notifications.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit, calendar
from kefu.evaluations import monthly, scoring, services
from kefu.evaluations.models import (
    MONTHLY_DIMENSIONS,
    WEEKLY_DIMENSIONS,
    Appeal,
    Criterion,
    Dimension,
    MonthlyEvaluation,
    WeeklyEvaluation,
    WeeklyEvidence,
    WeeklyScore,
)
from kefu.people.models import Employee, Role, RoleAssignment

SEED = 20260415
MONTHS = 6
D = Decimal
REASONS_DOWN = ["本月兩次被投訴服務態度", "多次未按流程升級問題", "月中出現積壓，未及時處理", "知識庫更新後答錯價格"]
REASONS_UP = ["主動協助新人熟悉系統", "處理八月帳單事件表現突出", "客戶來信表揚", "完成產品知識認證"]
AGENT_COMMENTS = ["已了解，會改進", "謝謝組長的建議", "那週系統故障，回覆較慢，請參考", "會多注意禮貌用語"]
APPEAL_REASONS = ["本月的投訴已查明並非本人責任，請重新評估服務態度分數。",
                  "效率分數未考慮國慶期間的系統停機，請複核。"]


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=_tz())


def _shift_month(year: int, month: int, steps: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + steps
    return index // 12, index % 12 + 1


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _working_day_on_or_after(day: datetime.date, cal) -> datetime.date:
    for _n in range(20):
        if cal.is_working_day(day):
            return day
        day += datetime.timedelta(days=1)
    return day


class _Roster:
    """The demo's CS agents, their team leads and latent traits, in a fixed order."""

    def __init__(self, rng: random.Random):
        self.agents = list(
            Employee.objects.filter(org_unit__is_customer_service=True)
            .exclude(status=Employee.Status.PENDING)
            .filter(user__role_assignments__role=Role.AGENT)
            .select_related("org_unit", "user").distinct().order_by("employee_no")
        )
        today = timezone.localdate()
        leads = (
            RoleAssignment.objects.filter(role=Role.TEAM_LEAD, start_date__lte=today, user__employee__isnull=False)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values_list("org_unit_id", "user__employee__pk")
        )
        self.lead_of_unit = dict(leads)
        self.supervisors = monthly.supervisors_by_path(today)
        self.skill = {a.pk: rng.gauss(0, 0.45) for a in self.agents}
        self.teamwork = {a.pk: rng.gauss(16.5, 1.8) for a in self.agents}

    def evaluator(self, agent: Employee) -> int | None:
        lead = self.lead_of_unit.get(agent.org_unit_id)
        if lead is not None and lead != agent.pk:
            return lead
        return monthly.supervisor_for(agent.org_unit.path, agent.pk, self.supervisors)


def build_evaluations_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Create the demo evaluations that are missing; returns {label: count created}."""
    from kefu.service.demo import DEMO_SOURCES
    from kefu.service.models import Interaction

    if not Employee.objects.filter(employee_no="GM10001").exists():
        return {}  # no demo company
    if not Interaction.objects.filter(source__in=DEMO_SOURCES).exists():
        return {}  # the evaluations rest on the demo interactions
    # The services mail the agents and supervisors; the demo's addresses are fictitious, so no mail
    # is sent (the in-app notifications are kept). The setting is restored afterwards.
    from django.test.utils import override_settings

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _build(log or (lambda message: None))


@transaction.atomic
def _build(say: Callable[[str], None]) -> dict[str, int]:
    from kefu.people.demo import DEMO_LOGINS, _first_run_date

    today = _first_run_date()
    end_of_today = _at(today + datetime.timedelta(days=1), 0)
    now = min(timezone.now(), end_of_today)
    User = get_user_model()
    hr = User.objects.get(username=DEMO_LOGINS[Role.HR])
    card = services.scorecard_ensure_default(actor=hr)
    criteria = list(card.criteria.filter(dimension__in=WEEKLY_DIMENSIONS).order_by("order", "id"))
    rng = random.Random(SEED)
    roster = _Roster(rng)
    last = _shift_month(today.year, today.month, -1)
    months = [_shift_month(*last, -i) for i in range(MONTHS - 1, -1, -1)]
    created: dict[str, int] = {}

    n = _weekly(roster, card, criteria, months, today, now, say)
    if n:
        created[_("weekly evaluations")] = n
    n = 0
    for year, month in months[:-1]:
        n += _monthly_history(roster, card, year, month, say)
    n += _last_month(roster, *months[-1], now, random.Random(f"{SEED}-last"), say,
                     named_agent=DEMO_LOGINS[Role.AGENT])
    if n:
        created[_("monthly evaluations")] = n
    return created


# ---- weekly ---------------------------------------------------------------------------------------


def _weeks(months: list[tuple[int, int]], today: datetime.date) -> list[tuple[int, int]]:
    """Every ISO week of the months (by its Thursday) up to the last week that ended before today."""
    first = scoring.week_start(*scoring.weeks_of_month(*months[0])[0])
    weeks = []
    monday = first
    while monday + datetime.timedelta(days=6) < today:
        iso = monday.isocalendar()
        weeks.append((iso.year, iso.week))
        monday += datetime.timedelta(days=7)
    return weeks


def _levels(criteria: list[Criterion], k, skill: float, rng: random.Random) -> dict[int, int | None]:
    """The week's levels, following her KPIs of the week (E1.1, E1.3) and her latent skill."""
    rates = [r for r in (k.first_reply_rate, k.resolution_rate) if r is not None]
    sla = sum(rates) / len(rates) if rates else 0.85
    complaint_share = k.complaints / k.handled if k.handled else 0.0
    out: dict[int, int | None] = {}
    for c in criteria:
        if c.dimension == Dimension.EFFICIENCY:
            mu = 0.6 + 4.4 * sla - (0.4 if k.backlog > 2 else 0.0)
        elif c.dimension == Dimension.ATTITUDE:
            if c.code == "customer_satisfaction":
                if not k.answers:
                    out[c.pk] = None  # no customer answered this week: not applicable
                    continue
                mu = (k.rating_mean or 4.0) + 0.2 * skill
            else:
                mu = 3.9 + 0.35 * skill - 1.5 * max(0.0, complaint_share - 0.1)
                if c.critical and rng.random() < 0.004:
                    out[c.pk] = c.fail_at_or_below or c.scale_min  # a shirked customer: fails the criterion
                    continue
        else:
            mu = 3.7 + 0.6 * skill
        low = (c.fail_at_or_below or c.scale_min) + 1 if c.critical else c.scale_min
        out[c.pk] = _clamp(rng.gauss(mu, 0.55), low, c.scale_max)
    return out


def _weekly(roster: _Roster, card, criteria: list[Criterion], months, today: datetime.date,
            now: datetime.datetime, say: Callable[[str], None]) -> int:
    from kefu.service import kpis
    from kefu.service.models import Interaction

    weeks = _weeks(months, today)
    if not weeks or not roster.agents:
        return 0
    periods = [kpis.week(y, w) for y, w in weeks]
    ids = [a.pk for a in roster.agents]
    table = kpis.agent_kpis(ids, periods, now=now)
    have = set(
        WeeklyEvaluation.objects.filter(agent_id__in=ids, week_start__gte=periods[0].start)
        .values_list("agent_id", "iso_year", "iso_week")
    )
    pool: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    for pk, agent_id, day, channel in (
        Interaction.objects.filter(agent_id__in=ids, local_date__gte=periods[0].start, local_date__lt=periods[-1].end)
        .order_by("pk").values_list("pk", "agent_id", "local_date", "channel")
    ):
        pool[(agent_id, kpis.period_of(day, kpis.WEEK).key)].append((pk, channel))
    users = dict(Employee.objects.filter(pk__in=set(roster.lead_of_unit.values())).values_list("pk", "user_id"))
    by_pk = {c.pk: c for c in criteria}
    total = 0
    for period in periods:
        rng = random.Random(f"{SEED}-{period.key}")  # one stream per week: a week's draws never shift
        age_days = (today - period.last_day).days
        batch: list[tuple[WeeklyEvaluation, dict[int, int | None], list[int]]] = []
        for agent in roster.agents:
            employed = agent.hire_date <= period.last_day and (agent.leave_date is None
                                                               or agent.leave_date >= period.start)
            evaluator = roster.evaluator(agent)
            # Everything is drawn for every agent-week, so the draws do not depend on what exists already.
            draw, minute, comment = rng.random(), rng.randint(0, 59), rng.choice(AGENT_COMMENTS)
            k = table.get(agent.pk, period)
            levels = _levels(criteria, k, roster.skill[agent.pk], rng)
            candidates = pool.get((agent.pk, period.key), [])
            evidence = [pk for pk, _channel in rng.sample(candidates, min(2, len(candidates)))]
            if not employed or evaluator is None or (agent.pk, period.year, period.number) in have:
                continue
            if age_days < 7:  # last week: partly still to do
                if draw < 0.25:
                    continue
                status = WeeklyEvaluation.Status.DRAFT if draw < 0.4 else WeeklyEvaluation.Status.SUBMITTED
            elif age_days < 14:
                status = WeeklyEvaluation.Status.SUBMITTED if draw < 0.5 else WeeklyEvaluation.Status.ACKNOWLEDGED
            else:
                if draw < 0.02:
                    continue  # a missed week: the monthly draft will warn about it
                status = (WeeklyEvaluation.Status.COMMENTED if draw < 0.06 else WeeklyEvaluation.Status.SUBMITTED
                          if draw < 0.12 else WeeklyEvaluation.Status.ACKNOWLEDGED)
            pct = scoring.dimension_scores((by_pk[cid], level) for cid, level in levels.items())
            friday = period.start + datetime.timedelta(days=4)
            draft = status == WeeklyEvaluation.Status.DRAFT
            submitted = None if draft else _at(friday, 16, minute)
            answered = submitted + datetime.timedelta(days=3) if submitted is not None else None
            chats = [pk for pk in evidence if dict(candidates).get(pk) in ("chat", "email")]
            ev = WeeklyEvaluation(
                agent=agent, iso_year=period.year, iso_week=period.number, week_start=period.start,
                evaluator_id=evaluator, scorecard=card, status=status,
                method_onsite=not evidence, method_recording=len(chats) < len(evidence), method_chat=bool(chats),
                notes="" if evidence else "現場觀察",
                attitude_pct=None if draft else pct[Dimension.ATTITUDE],
                ability_pct=None if draft else pct[Dimension.ABILITY],
                efficiency_pct=None if draft else pct[Dimension.EFFICIENCY],
                submitted_at=submitted,
                acknowledged_at=answered
                if status in (WeeklyEvaluation.Status.ACKNOWLEDGED, WeeklyEvaluation.Status.COMMENTED) else None,
                agent_comment=comment if status == WeeklyEvaluation.Status.COMMENTED else "",
                commented_at=answered if status == WeeklyEvaluation.Status.COMMENTED else None,
                created_by_id=users.get(evaluator),
            )
            batch.append((ev, levels, evidence))
        if not batch:
            continue
        rows = WeeklyEvaluation.objects.bulk_create([b[0] for b in batch])
        WeeklyScore.objects.bulk_create([
            WeeklyScore(evaluation=ev, criterion_id=cid, level=level)
            for ev, (_e, levels, _x) in zip(rows, batch, strict=True) for cid, level in levels.items()
        ])
        WeeklyEvidence.objects.bulk_create([
            WeeklyEvidence(evaluation=ev, interaction_id=pk)
            for ev, (_e, _l, evidence) in zip(rows, batch, strict=True) for pk in evidence
        ])
        audit.record(actor=None, action="weekly_evaluation.demo_batch", obj=rows[0],
                     object_repr=f"demo {period.key}",
                     changes={"week": [None, period.key], "created": [None, len(rows)]},
                     reason="demo data (bulk): the weekly evaluations of one week")
        total += len(rows)
        say(f"{period.key}: {len(rows)} weekly evaluations")
    if total:
        services._freeze(card, None)
    return total


# ---- monthly --------------------------------------------------------------------------------------


def _points(ev: MonthlyEvaluation, roster: _Roster, rules: monthly.MonthRules, facts: dict[str, Any],
            rng: random.Random) -> None:
    """The supervisor's points: the suggestion as a rule, her own reading now and then (with a reason)."""
    for dim in MONTHLY_DIMENSIONS:
        suggested = ev.suggested(dim)
        maximum = rules.weights[dim]
        if dim == Dimension.TEAMWORK:
            value = D(str(roster.teamwork[ev.agent_id] + rng.gauss(0, 0.8)))
        elif suggested is None:
            # No weekly evaluation scored it: she reads the month's facts herself.
            sla = (facts.get("sla") or {}).get("rate_pct")
            share = D(sla) / 100 if sla and dim == Dimension.EFFICIENCY else D("0.8")
            value = share * maximum
        else:
            value = suggested
            if rng.random() < 0.1:
                value = suggested + D(str(rng.choice([-5, -4, -2, 1.5, 2, 4])))
                reasons = REASONS_DOWN if value < suggested else REASONS_UP
                if abs(value - suggested) > rules.reason_threshold:
                    setattr(ev, f"{dim}_reason", rng.choice(reasons))
        value = min(maximum, max(D(0), monthly.round_to_step(D(value), rules.step)))
        setattr(ev, dim, value)
    ev.total = monthly.total_of(ev)


def _monthly_history(roster: _Roster, card, year: int, month: int, say: Callable[[str], None]) -> int:
    """An older month: every agent's evaluation final, in bulk (one audit entry for the month)."""
    agents = list(monthly.month_agents(year, month).select_related("org_unit").order_by("employee_no"))
    have = set(MonthlyEvaluation.objects.filter(year=year, month=month).values_list("agent_id", flat=True))
    cal = calendar.current()
    next_first = datetime.date(*_shift_month(year, month, 1), 1)
    draft_time = _at(next_first, 6)
    rules = monthly.rules_for(year, month)
    facts = monthly.month_facts(agents, year, month, rules=rules, now=draft_time)
    heads = _heads()
    rows: list[MonthlyEvaluation] = []
    appeals: list[tuple[int, dict[str, Any]]] = []
    rng = random.Random(f"{SEED}-{year}-{month:02d}")
    for i, agent in enumerate(agents):
        f = facts[agent.pk]
        draw, minute, hours, reason = rng.random(), rng.randint(0, 59), rng.randint(3, 40), rng.choice(APPEAL_REASONS)
        ev = MonthlyEvaluation(agent=agent, year=year, month=month, scorecard=card, facts=f,
                               supervisor_id=monthly.supervisor_for(agent.org_unit.path, agent.pk, roster.supervisors))
        for dim, value in monthly.suggested_points(f).items():
            setattr(ev, f"{dim}_suggested", value)
        _points(ev, roster, rules, f, rng)
        if agent.pk in have or ev.supervisor_id is None:
            continue
        day = _working_day_on_or_after(next_first + datetime.timedelta(days=1 + i % 4), cal)
        ev.submitted_at = _at(day, 10, minute)
        ev.appeal_deadline = services.appeal_deadline_for(ev.submitted_at)
        ev.status = MonthlyEvaluation.Status.FINAL
        if draw < 0.04:
            head = next((h for path, h in heads if agent.org_unit.path.startswith(path) and h != ev.supervisor_id),
                        None)
            adjust = draw < 0.02 and ev.attitude is not None and ev.attitude <= rules.weights["attitude"] - 1
            ev.final_via = (MonthlyEvaluation.FinalVia.APPEAL_ADJUSTED if adjust
                            else MonthlyEvaluation.FinalVia.APPEAL_UPHELD)
            filed = ev.submitted_at + datetime.timedelta(days=1)
            decided = filed + datetime.timedelta(days=2)
            adjusted: dict[str, str] = {}
            if adjust and ev.attitude is not None:
                ev.attitude = ev.attitude + 1
                adjusted = {"attitude": str(ev.attitude)}
                ev.total = monthly.total_of(ev)
            ev.finalised_at = decided
            appeals.append((len(rows), {"reason": reason, "filed_at": filed,
                                        "deadline": ev.appeal_deadline, "decided_at": decided, "head": head,
                                        "decision": Appeal.Decision.ADJUST if adjust else Appeal.Decision.UPHOLD,
                                        "adjusted": adjusted}))
        elif draw < 0.14:
            ev.final_via = MonthlyEvaluation.FinalVia.WINDOW_CLOSED
            ev.finalised_at = ev.appeal_deadline
        else:
            ev.final_via = MonthlyEvaluation.FinalVia.ACKNOWLEDGED
            ev.acknowledged_at = ev.finalised_at = ev.submitted_at + datetime.timedelta(hours=hours)
        rows.append(ev)
    if not rows:
        return 0
    rows = MonthlyEvaluation.objects.bulk_create(rows)
    Appeal.objects.bulk_create([
        Appeal(evaluation=rows[i], filed_by=rows[i].agent, reason=a["reason"], filed_at=a["filed_at"],
               deadline=a["deadline"], status=Appeal.Status.DECIDED, decided_by_id=a["head"], decision=a["decision"],
               decision_reason="已與客服主管核實。" if a["decision"] == Appeal.Decision.UPHOLD else "投訴經查非本人責任，調整服務態度分數。",
               adjusted=a["adjusted"], decided_at=a["decided_at"])
        for i, a in appeals
    ])
    period = f"{year}-{month:02d}"
    audit.record(actor=None, action="monthly_evaluation.demo_batch", obj=rows[0], object_repr=f"demo {period}",
                 changes={"month": [None, period], "created": [None, len(rows)], "appeals": [None, len(appeals)]},
                 reason="demo data (bulk): the final monthly evaluations of one month")
    say(f"{period}: {len(rows)} monthly evaluations")
    return len(rows)


def _heads() -> list[tuple[str, int]]:
    """(unit path, employee id) of every department head role in force today."""
    today = timezone.localdate()
    return list(
        RoleAssignment.objects.filter(role=Role.DEPT_HEAD, start_date__lte=today, user__employee__isnull=False)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("org_unit__path", "user__employee__pk")
    )


def _last_month(roster: _Roster, year: int, month: int, now: datetime.datetime, rng: random.Random,
                say: Callable[[str], None], *, named_agent: str) -> int:
    """The month that ended last, through the real services: drafts, submissions, answers."""
    if MonthlyEvaluation.objects.filter(year=year, month=month).exists():
        return 0
    cal = calendar.current()
    next_first = datetime.date(*_shift_month(year, month, 1), 1)
    draft_time = _at(next_first, 6)
    if draft_time > now:
        return 0
    run = services.monthly_drafts_create(actor=None, year=year, month=month, now=draft_time)
    drafts = list(
        MonthlyEvaluation.objects.filter(year=year, month=month).select_related("agent__user", "supervisor__user")
        .order_by("agent__employee_no")
    )
    rules = monthly.rules_for(year, month)
    open_appeal_left = True
    for i, ev in enumerate(drafts):
        draw = rng.random()
        supervisor = ev.supervisor.user if ev.supervisor is not None and ev.supervisor.user_id else None
        named = ev.agent.user is not None and ev.agent.user.username == named_agent
        if supervisor is None or (draw < 0.15 and not named):
            continue  # still a draft: on the supervisor's workbench
        trial = MonthlyEvaluation(agent=ev.agent, year=year, month=month)
        for dim in MONTHLY_DIMENSIONS:
            setattr(trial, f"{dim}_suggested", ev.suggested(dim))
        _points(trial, roster, rules, ev.facts, rng)
        ev = services.monthly_draft_update(
            actor=supervisor, evaluation=ev, points={d: trial.points(d) for d in MONTHLY_DIMENSIONS},
            reasons={d: getattr(trial, f"{d}_reason") for d in MONTHLY_DIMENSIONS}, require_all=True)
        day = _working_day_on_or_after(next_first + datetime.timedelta(days=1 + i % 4), cal)
        submitted = _at(day, 10, rng.randint(0, 59))
        if named:
            submitted = max(submitted, now - datetime.timedelta(hours=2))
        if submitted > now:
            continue
        ev = services.monthly_submit(actor=supervisor, evaluation=ev, now=submitted)
        if named or ev.agent.user is None:
            continue  # the demo agent answers it herself
        answered = submitted + datetime.timedelta(hours=rng.randint(2, 30))
        if answered > now or (ev.appeal_deadline and answered > ev.appeal_deadline):
            continue
        if draw < 0.23:
            appeal = services.monthly_appeal(actor=ev.agent.user, evaluation=ev, reason=rng.choice(APPEAL_REASONS),
                                             now=answered)
            if open_appeal_left:
                open_appeal_left = False  # one waits on the department head's workbench
                continue
            head = _head_user(ev.agent)
            decided = answered + datetime.timedelta(days=1)
            if head is not None and decided <= now and head.employee.pk != ev.supervisor_id:
                adjust = draw < 0.19 and ev.attitude is not None and ev.attitude <= rules.weights["attitude"] - 1
                services.appeal_decide(
                    actor=head, appeal=appeal, decision=Appeal.Decision.ADJUST if adjust else Appeal.Decision.UPHOLD,
                    reason="已與客服主管核實。",
                    adjusted={"attitude": str((ev.attitude or D(0)) + 1)} if adjust else None, now=decided)
        elif draw < 0.85:
            services.monthly_acknowledge(actor=ev.agent.user, evaluation=ev, now=answered)
    services.monthly_close_appeal_windows(now=now)
    say(f"{year}-{month:02d}: {run.created} monthly evaluations")
    return run.created


def _head_user(agent: Employee):
    users = services.users_over(agent, [Role.DEPT_HEAD])
    return users[0] if users else None


def register() -> None:
    from kefu.core.registry import demo_steps

    demo_steps.register("evaluations.history", build_evaluations_demo)
