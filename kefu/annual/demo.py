"""Demo annual evaluation (issue 5): last year's cycle, published, with what it led to.

``manage.py seed_demo`` runs ``build_annual_demo`` after the demo evaluations (registered in
``AnnualConfig.ready`` through ``core.registry.demo_steps``). The demo's interactions and weekly
evaluations cover only the last six months, so last year is written here as history, in bulk:

- **Last year's facts**: for every demo agent employed then, twelve final monthly evaluations
  (points per dimension drawn around her own level, on the E2.2 point step) and a few rated
  interactions a month (through the real import path, so the SLA clock and the survey answers
  are what production would hold). Each agent has a level drawn from a fixed seed, so a few
  stand out, most are good, and a few fall short.
- **The cycle**, through the real services: HR opens it, each supervisor enters achievements
  with evidence, HR calibrates (settling any tie at a quota boundary with a written reason),
  leadership approves and HR publishes. Its dates are then set back to January, when such a
  cycle runs, so the appeal window has long closed.
- **Outcomes** (E3), through the services: base pay and the pay proposals approved; award
  nominations and their decisions; the coaching plans every fail and every low month owe, a few
  under way and one that ended unmet with its HR case decided.

A second run finds the cycle there and adds nothing.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual import services
from kefu.annual.models import AnnualCycle, AnnualResult
from kefu.core import audit, calendar
from kefu.evaluations import monthly
from kefu.evaluations.models import MonthlyEvaluation, Scorecard
from kefu.people.models import Employee, Role

SEED = 20250101
SOURCE = "DEMO-HIST"
RATED_PER_MONTH = 3
D = Decimal
ACHIEVEMENTS = [
    "全年獲客戶書面表揚 {n} 次，協助新人帶教。",
    "參與知識庫整理，撰寫常見問題 {n} 篇。",
    "全年無有效投訴，季度服務之星 {n} 次。",
    "支援大促活動加班，跨組協作 {n} 次。",
    "有效投訴 {n} 宗，已於月度考評中反映。",
]


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=_tz())


def _step(value: Decimal, maximum: Decimal, step: Decimal) -> Decimal:
    value = min(maximum, max(D(0), value))
    return ((value / step).quantize(D(1), rounding=ROUND_HALF_UP) * step).quantize(D("0.01"))


def build_annual_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Create last year's cycle and its outcomes if missing; returns {label: count created}."""
    if not Employee.objects.filter(employee_no="GM10001").exists():
        return {}  # no demo company
    if not Scorecard.objects.exists():
        return {}  # the evaluations demo has not run
    from kefu.people.demo import _first_run_date

    year = _first_run_date().year - 1
    if AnnualCycle.objects.filter(year=year).exists():
        return {}
    from django.test.utils import override_settings

    # The services mail people; the demo's addresses are fictitious (in-app notifications are kept).
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _build(year, log or (lambda message: None))


@transaction.atomic
def _build(year: int, say: Callable[[str], None]) -> dict[str, int]:
    from kefu.people.demo import DEMO_LOGINS

    User = get_user_model()
    hr = User.objects.get(username=DEMO_LOGINS[Role.HR])
    boss = User.objects.get(username=DEMO_LOGINS[Role.LEADERSHIP])
    rng = random.Random(SEED)
    created: dict[str, int] = {}
    agents = list(monthly.month_agents(year, 12).select_related("org_unit").order_by("employee_no"))
    # Her level over the year: mostly good, a few excellent, a few short of a pass.
    level = {a.pk: min(97.0, max(48.0, rng.gauss(80, 8.5))) for a in agents}
    n = _monthly_year(agents, level, year, rng)
    created[_("monthly evaluations of last year")] = n
    say(f"{year}: {n} monthly evaluations")
    n = _ratings(agents, level, year, rng)
    created[_("survey answers of last year")] = n
    say(f"{year}: {n} survey answers")

    cycle = services.cycle_open(actor=hr, year=year)
    _achievements(cycle, level, rng)
    cycle = services.cycle_calibrate(actor=hr, cycle=cycle)
    for result in cycle.results.filter(rated=True).select_related("employee"):
        if services.TIE_FLAGS & set(result.flags):
            services.grade_change(actor=hr, result=result, grade=result.proposed_grade,
                                  reason="同分者經校準會議逐一比對全年月度表現後確認。")
    cycle = services.cycle_submit(actor=hr, cycle=cycle)
    cycle = services.cycle_approve(actor=boss, cycle=cycle)
    cycle = services.cycle_publish(actor=hr, cycle=cycle)
    # Such a cycle runs in January: its dates say so (the appeal window has long closed).
    AnnualCycle.objects.filter(pk=cycle.pk).update(
        opened_at=_at(datetime.date(year + 1, 1, 5), 9), calibration_started_at=_at(datetime.date(year + 1, 1, 12), 9),
        submitted_at=_at(datetime.date(year + 1, 1, 16), 17), approved_at=_at(datetime.date(year + 1, 1, 20), 10),
        published_at=_at(datetime.date(year + 1, 1, 21), 9))
    cycle.refresh_from_db()
    created[_("annual results")] = cycle.results.count()
    say(f"{year}: annual cycle published ({cycle.results.filter(rated=True).count()} rated)")
    for label, count in _outcomes(cycle, hr=hr, boss=boss, rng=rng, say=say).items():
        created[label] = count
    return created


def _monthly_year(agents: list[Employee], level: dict[int, float], year: int, rng: random.Random) -> int:
    """Twelve final monthly evaluations per agent, in bulk (one audit entry for the year)."""
    card = Scorecard.objects.order_by("pk").first()
    supervisors = monthly.supervisors_by_path(datetime.date(year, 12, 31))
    cal = calendar.current()
    have = set(MonthlyEvaluation.objects.filter(year=year).values_list("agent_id", "month"))
    rows = []
    for month in range(1, 13):
        rules = monthly.rules_for(year, month)
        first_next = datetime.date(year + (month == 12), month % 12 + 1, 1)
        day = first_next + datetime.timedelta(days=1)
        while not cal.is_working_day(day):
            day += datetime.timedelta(days=1)
        submitted = _at(day, 10, rng.randint(0, 59))
        for agent in agents:
            if (agent.pk, month) in have or agent.hire_date > monthly.last_day(year, month):
                continue
            supervisor = monthly.supervisor_for(agent.org_unit.path, agent.pk, supervisors)
            if supervisor is None:
                continue
            share = D(str(rng.gauss(level[agent.pk], 4.0))) / 100
            ev = MonthlyEvaluation(agent=agent, year=year, month=month, scorecard=card, supervisor_id=supervisor,
                                   status=MonthlyEvaluation.Status.FINAL,
                                   final_via=MonthlyEvaluation.FinalVia.ACKNOWLEDGED, submitted_at=submitted,
                                   acknowledged_at=submitted + datetime.timedelta(hours=rng.randint(2, 30)))
            for dim, weight in rules.weights.items():
                setattr(ev, dim, _step(share * weight + D(str(rng.gauss(0, 0.6))), weight, rules.step))
            ev.total = monthly.total_of(ev)
            ev.finalised_at = ev.acknowledged_at
            ev.appeal_deadline = submitted + datetime.timedelta(days=7)
            rows.append(ev)
    if rows:
        MonthlyEvaluation.objects.bulk_create(rows, batch_size=1000)
        audit.record(actor=None, action="monthly_evaluation.demo_batch", obj=rows[0], object_repr=f"demo {year}",
                     changes={"year": [None, year], "created": [None, len(rows)]},
                     reason="demo data (bulk): last year's final monthly evaluations")
    return len(rows)


def _ratings(agents: list[Employee], level: dict[int, float], year: int, rng: random.Random) -> int:
    """A few rated interactions a month per agent, through the real import paths."""
    from kefu.service.models import ImportBatch, SurveyAnswer
    from kefu.service.services import records_import
    from kefu.service.surveys import survey_answers_import

    if SurveyAnswer.objects.filter(interaction__source=SOURCE).exists():
        return 0
    cal = calendar.current()
    rows: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for agent in agents:
        mean = 3.2 + (level[agent.pk] - 60) / 40 * 1.6
        for month in range(1, 13):
            for k in range(RATED_PER_MONTH):
                day = datetime.date(year, month, rng.randint(1, 26))
                while not cal.is_working_day(day):
                    day += datetime.timedelta(days=1)
                received = _at(day, rng.randint(9, 16), rng.randint(0, 59))
                replied = received + datetime.timedelta(minutes=rng.randint(5, 90))
                resolved = replied + datetime.timedelta(hours=rng.randint(1, 20))
                external_id = f"H-{agent.employee_no}-{year}{month:02d}-{k}"
                rows.append({
                    "source": SOURCE, "external_id": external_id, "channel": "phone", "priority": "normal",
                    "kind": "inquiry", "customer_ref": f"C{rng.randint(1_000_000, 9_999_999)}",
                    "subject": "帳戶與訂單諮詢", "received_at": received, "first_response_at": replied,
                    "resolved_at": resolved, "agent_no": agent.employee_no, "first_responder_no": agent.employee_no,
                    "resolver_no": agent.employee_no, "recording_url": "",
                })
                rating = max(1, min(5, round(rng.gauss(mean, 0.7))))
                answers.append({"source": SOURCE, "external_id": external_id, "rating": rating,
                                "comment": "", "answered_at": (resolved + datetime.timedelta(hours=3)).isoformat()})
    if not rows:
        return 0
    records_import(actor=None, records=rows, via=ImportBatch.Via.COMMAND, name="demo history")
    report = survey_answers_import(actor=None, rows=answers, via=ImportBatch.Via.COMMAND, now=timezone.now())
    return int(report.created)


def _achievements(cycle: AnnualCycle, level: dict[int, float], rng: random.Random) -> None:
    """Each CS supervisor enters her department's achievements with evidence (E2.3)."""
    from kefu.people.models import RoleAssignment

    User = get_user_model()
    supervisors = [(path, User.objects.get(pk=user_id)) for path, user_id in RoleAssignment.objects.filter(
        role=Role.CS_SUPERVISOR, end_date__isnull=True).values_list("org_unit__path", "user_id")]
    for result in cycle.results.filter(rated=True).select_related("employee__org_unit"):
        actor = next((u for path, u in supervisors
                      if result.employee.org_unit.path.startswith(path) and u.pk != result.employee.user_id), None)
        if actor is None:
            continue
        score = _step(D(str(rng.gauss(level[result.employee_id] - 2, 6))), D(100), D(1))
        evidence = rng.choice(ACHIEVEMENTS[4:] if score < 60 else ACHIEVEMENTS[:4]).format(n=rng.randint(1, 6))
        services.achievements_set(actor=actor, result=result, score=score, evidence=evidence)


def _outcomes(cycle: AnnualCycle, *, hr, boss, rng: random.Random, say: Callable[[str], None]) -> dict[str, int]:
    """Pay, awards and coaching of the published cycle (E3), through their services."""
    from kefu.annual import awards, coaching, pay
    from kefu.annual.models import AwardKind, CoachingPlan

    created: dict[str, int] = {}
    # E3.1: base pay by position (HR's import path), proposals, approval (the appeal window closed in January).
    rated = list(AnnualResult.objects.filter(cycle=cycle, rated=True).select_related("employee").order_by("pk"))
    pay.proposals_prepare(actor=hr, cycle=cycle)
    lines = ["employee_no,base_pay"] + [
        f"{r.employee.employee_no},{6000 + 100 * rng.randint(0, 30) + (1500 if '資深' in r.employee.position else 0)}.00"
        for r in rated]
    pay.base_pay_import(actor=hr, cycle=cycle, source=("\n".join(lines) + "\n").encode(), name="base_pay.csv")
    pay.pay_approve(actor=hr, cycle=cycle)
    created[_("pay proposals")] = len(rated)
    say(f"{cycle.year}: {len(rated)} pay proposals approved")
    # E3.2: HR nominates the best for each award; leadership approves within the quota, turns one down.
    n = 0
    for kind, candidates in ((AwardKind.OUTSTANDING, awards.outstanding_candidates(cycle, hr)),
                             (AwardKind.SERVICE_STAR, awards.service_star_ranking(cycle, hr))):
        for i, c in enumerate(candidates[:awards.quota(cycle, kind) + 1]):
            nomination = awards.nomination_create(
                actor=hr, cycle=cycle, kind=kind, result=c.result,
                reason="全年表現穩定，客戶評價優良，並積極協助團隊。" if i % 2 == 0 else "月度考評持續名列前茅。")
            last = i == awards.quota(cycle, kind)
            awards.nomination_decide(actor=boss, nomination=nomination, approve=not last,
                                     note="名額已滿，列入明年優先考慮。" if last else "")
            n += 1
    created[_("award nominations")] = n
    # Pay and awards were settled in February: their dates say so.
    february = _at(datetime.date(cycle.year + 1, 2, 6), 10)
    AnnualCycle.objects.filter(pk=cycle.pk).update(pay_approved_at=february)
    cycle.nominations.update(nominated_at=february - datetime.timedelta(days=3), decided_at=february)
    # E3.3: the plans every fail grade and low month owe; a few under way, one ended unmet with its HR case.
    run = coaching.coaching_sync(actor=None)
    created[_("coaching plans")] = run.created
    today = timezone.localdate()
    plans = list(CoachingPlan.objects.filter(annual_result__cycle=cycle).select_related("employee__org_unit",
                                                                                         "coach"))
    for i, plan in enumerate(plans):
        supervisor = plan.coach
        if supervisor is None:
            continue
        coaching.plan_activate(actor=supervisor, plan=plan, coach=supervisor,
                               goals="一、熟悉產品知識庫並通過測驗；二、投訴處理流程演練；三、月度考評達 70 分以上。",
                               due_date=today + datetime.timedelta(days=30 + 15 * i))
        coaching.session_add(actor=supervisor, plan=plan, held_on=today,
                             notes="回顧上月通話錄音三通，指出開場與確認需求的不足，約定每日跟聽。")
        if i == 0:
            coaching.plan_close(actor=supervisor, plan=plan, met=False,
                                note="兩個月輔導後月度考評仍低於 60 分，轉人力資源部依規定處理。")
            plan.refresh_from_db()
            coaching.hr_case_decide(actor=hr, case=plan.hr_case,
                                    decision="依公司規定調整為見習崗位三個月，期滿重新考核。")
    say(f"{cycle.year}: {run.created} coaching plans")
    return created


def register() -> None:
    from kefu.core.registry import demo_steps

    demo_steps.register("annual.last_year", build_annual_demo)
