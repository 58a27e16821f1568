"""Demo data for customer service (issue 3 item 8): six months of interactions and survey answers.

``manage.py seed_demo`` runs ``build_service_demo`` after the demo company (registered in
``ServiceConfig.ready`` through ``core.registry.demo_steps``). The data are drawn from a fixed
seed, over the six months before the day the demo company was first seeded, so a second run
finds every interaction already there and adds nothing. Patterns an evaluator would recognise:

- **some agents are slower**: every agent has a speed factor; a few are markedly slow, and
  their SLA rates and medians show it;
- **complaints come in clusters**: a billing incident in August floods the complaint team
  (投訴處理組) and, less, everyone else; complaints also take longer and are rated lower;
- **a holiday backlog**: chat and e-mail keep arriving over National Day (1–8 October 2026)
  while nobody works, and the days after it are busier — resolution deadlines slip;
- the last days before "today" still have open interactions, some past due (backlog, alerts).

Interactions go in through the real import (``services.records_import``: set-based, the SLA
clock computed by ``service.sla`` (E1.3), one audit entry), and answers through
``surveys.survey_answers_import``, as an outside survey tool would send them.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import calendar
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.service.models import Channel, ImportBatch, Interaction, Kind, Priority, SurveyAnswer

SEED = 20260601
MONTHS = 6
SOURCES = {Channel.PHONE: "DEMO-CC", Channel.ONSITE: "DEMO-CC", Channel.CHAT: "DEMO-HD", Channel.EMAIL: "DEMO-HD",
           Channel.OTHER: "DEMO-HD"}
DEMO_SOURCES = sorted(set(SOURCES.values()))
PER_AGENT_DAY = 5.0  # interactions per agent per working day, on average
SLOW_AGENTS = 5
ANSWER_RATE = 0.22  # share of resolved interactions whose customer answers the survey
# The billing incident: complaints cluster in these weeks, above all in the complaint team.
INCIDENT = (datetime.date(2026, 8, 10), datetime.date(2026, 8, 22))
INCIDENT_TEAM = "CSD2-T1"
NATIONAL_DAY = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 8))

INQUIRIES = [
    "查詢訂單物流進度", "修改收貨地址", "會員積分兌換", "發票開具申請", "產品使用方法諮詢", "退換貨政策諮詢",
    "帳戶密碼重設", "優惠券無法使用", "預約上門安裝", "查詢保固期限", "變更套餐方案", "查詢帳單明細",
]
COMPLAINTS = [
    "重複扣款", "配送延誤", "商品破損", "客服態度不佳", "退款遲遲未到帳", "安裝人員爽約", "帳單金額有誤",
    "產品品質問題",
]
INCIDENT_COMPLAINTS = ["八月帳單重複扣款", "自動續費金額錯誤", "扣款後訂單未生效"]
COMMENTS_GOOD = ["服務很好，謝謝", "回覆很快", "解釋得很清楚", "很有耐心", ""]
COMMENTS_BAD = ["等太久了", "問題還沒解決", "轉了好幾次", "希望能更快處理", "態度一般"]


@dataclass(frozen=True)
class DemoAgent:
    employee_no: str
    team: str
    hired: datetime.date
    left: datetime.date | None
    speed: float  # 1.0 is typical; larger is slower
    teammates: tuple[str, ...] = ()


def _first_run_date() -> datetime.date:
    from kefu.people.demo import _first_run_date as people_first_run

    return people_first_run()


def _agents(rng: random.Random) -> list[DemoAgent]:
    """Everybody who has held the agent role in a demo CS team, in a fixed order."""
    rows = list(
        RoleAssignment.objects.filter(role=Role.AGENT, user__employee__isnull=False,
                                      org_unit__is_customer_service=True)
        .exclude(user__employee__status=Employee.Status.PENDING)
        .values_list("user__employee__pk", "org_unit__code", "user__employee__hire_date",
                     "user__employee__leave_date", "user__employee__employee_no")
        .order_by("user__employee__employee_no")
    )
    slow = set(rng.sample(range(len(rows)), min(SLOW_AGENTS, len(rows))))
    by_team: dict[str, list[str]] = {}
    for _pk, team, _hired, _left, number in rows:
        by_team.setdefault(team, []).append(number)
    agents = []
    for i, (_pk, team, hired, left, number) in enumerate(rows):
        speed = rng.uniform(2.2, 3.0) if i in slow else math.exp(rng.gauss(0, 0.25))
        mates = tuple(m for m in by_team[team] if m != number)
        agents.append(DemoAgent(number, team, hired, left, speed, mates))
    return agents


def _days(start: datetime.date, end: datetime.date):
    day = start
    while day < end:
        yield day
        day += datetime.timedelta(days=1)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: small means only.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _local(day: datetime.date, minutes: float, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=tz) + datetime.timedelta(minutes=minutes)


def _generate(today: datetime.date, now: datetime.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo's interactions (as field dicts) and survey answers (as import rows), in a fixed order."""
    rng = random.Random(SEED)
    tz = ZoneInfo(settings.TIME_ZONE)
    cal = calendar.current()
    start = today - datetime.timedelta(days=round(MONTHS * 30.5))
    agents = _agents(rng)
    interactions: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    customers = [f"C{rng.randint(1_000_000, 9_999_999)}" for _n in range(4000)]
    serial = 0
    for day in _days(start, today):
        if not (calendar.package_covers(day.year) or day.year in cal.config.confirmed):
            break  # a year whose holidays nobody has entered: no deadlines can be computed in it
        working = cal.is_working_day(day)
        in_incident = INCIDENT[0] <= day <= INCIDENT[1]
        after_holiday = NATIONAL_DAY[1] < day <= NATIONAL_DAY[1] + datetime.timedelta(days=4)
        before_holiday = NATIONAL_DAY[0] - datetime.timedelta(days=3) <= day < NATIONAL_DAY[0]
        for agent in agents:
            if day < agent.hired or (agent.left and day > agent.left):
                continue
            if working:
                mean = PER_AGENT_DAY * (1.5 if after_holiday else 1.25 if before_holiday else 1.0)
                mean *= 1.3 if in_incident and agent.team == INCIDENT_TEAM else 1.0
            else:
                # Nobody works, but chat and e-mail keep coming — more over a long holiday.
                holiday = NATIONAL_DAY[0] <= day < NATIONAL_DAY[1]
                mean = 1.2 if holiday else 0.4
            for _n in range(_poisson(rng, mean)):
                serial += 1
                # The holiday's arrivals all wait for the same morning: everything takes longer then.
                load = 3.0 if NATIONAL_DAY[0] <= day < NATIONAL_DAY[1] else 2.0 if after_holiday else 1.0
                row, answer = _one(rng, cal, tz, day, working, agent, serial, customers, in_incident, now, load)
                interactions.append(row)
                if answer is not None:
                    answers.append(answer)
    return interactions, answers


def _one(rng, cal, tz, day, working, agent: DemoAgent, serial, customers, in_incident, now, load=1.0):
    if working:
        channel = rng.choices([Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.ONSITE, Channel.OTHER],
                              weights=[45, 35, 14, 4, 2])[0]
        # Calls come in office hours; chat and e-mail from early morning to late evening.
        minutes = rng.uniform(8.75 * 60, 18.25 * 60) if channel in (Channel.PHONE, Channel.ONSITE) \
            else rng.uniform(7 * 60, 22.5 * 60)
    else:
        channel = rng.choices([Channel.CHAT, Channel.EMAIL], weights=[70, 30])[0]
        minutes = rng.uniform(8 * 60, 23 * 60)
    received = _local(day, minutes, tz)
    complaint_rate = 0.08
    if in_incident:
        complaint_rate = 0.45 if agent.team == INCIDENT_TEAM else 0.2
    elif agent.team == INCIDENT_TEAM:
        complaint_rate = 0.25
    kind = Kind.COMPLAINT if rng.random() < complaint_rate else Kind.INQUIRY
    urgent = rng.random() < (0.25 if kind == Kind.COMPLAINT else 0.05)
    if kind == Kind.COMPLAINT:
        subject = rng.choice(INCIDENT_COMPLAINTS if in_incident and rng.random() < 0.7 else COMPLAINTS)
    else:
        subject = rng.choice(INQUIRIES)
    try:
        first, resolved = _times(rng, cal, received, channel, kind, urgent, working, agent.speed * load)
    except calendar.CalendarNotCovered:
        first = resolved = None  # runs into a year not entered yet: still open
    first_responder = agent.employee_no
    resolver = agent.employee_no
    if agent.teammates and rng.random() < 0.05:
        first_responder = rng.choice(agent.teammates)
    if agent.teammates and rng.random() < (0.2 if kind == Kind.COMPLAINT else 0.06):
        resolver = rng.choice(agent.teammates)  # escalated to a colleague, who resolves it
    if first is None or first > now:
        first = None
    if first is None or resolved is None or resolved > now:
        resolved = None
    source = SOURCES[channel]
    external_id = f"{'CC' if source == 'DEMO-CC' else 'HD'}-{day:%Y%m%d}-{serial:06d}"
    row = {
        "source": source, "external_id": external_id, "channel": channel,
        "priority": Priority.URGENT if urgent else Priority.NORMAL, "kind": kind,
        "customer_ref": rng.choice(customers), "subject": subject, "received_at": received,
        "first_response_at": first, "resolved_at": resolved, "agent_no": agent.employee_no,
        "first_responder_no": first_responder, "resolver_no": resolver,
        "recording_url": (f"https://callcenter.demo.kefu.example/recordings/{external_id}" if source == "DEMO-CC"
                          else f"https://helpdesk.demo.kefu.example/tickets/{external_id}"),
    }
    answer = None
    if resolved is not None and rng.random() < ANSWER_RATE:
        answered = resolved + datetime.timedelta(minutes=rng.uniform(20, 3 * 24 * 60))
        if answered <= now:
            late_hours = (resolved - received).total_seconds() / 3600
            score = 4.5 - (1.3 if kind == Kind.COMPLAINT else 0) - 0.5 * (agent.speed - 1) - (0.6 if late_hours > 72 else 0)
            rating = max(1, min(5, round(rng.gauss(score, 0.8))))
            answer = {
                "source": source, "external_id": external_id, "rating": rating,
                "comment": rng.choice(COMMENTS_GOOD if rating >= 4 else COMMENTS_BAD),
                "answered_at": answered.isoformat(),
            }
    return row, answer


def _times(rng, cal, received, channel, kind, urgent, working, speed):
    """When the first reply and the resolution happen (before clipping to "now")."""
    # First reply: a call is answered live; chat within minutes; e-mail within working hours.
    if channel in (Channel.PHONE, Channel.ONSITE) and working:
        first = received + datetime.timedelta(seconds=rng.uniform(5, 90))
    elif urgent:
        first = cal.next_opening(received) + datetime.timedelta(minutes=rng.expovariate(1 / (6 * speed)))
    elif channel == Channel.CHAT:
        first = cal.add_working_hours(received, rng.expovariate(1 / (0.15 * speed)))
    else:
        first = cal.add_working_hours(received, rng.expovariate(1 / (0.9 * speed)))
    # Resolution: many calls end resolved; complaints take days.
    if kind == Kind.INQUIRY and channel == Channel.PHONE and rng.random() < 0.6:
        resolved = first + datetime.timedelta(minutes=rng.uniform(2, 12))
    else:
        hours = rng.expovariate(1 / ((14 if kind == Kind.COMPLAINT else 5) * speed))
        resolved = cal.add_working_hours(first, hours)
    return first, resolved


@transaction.atomic
def build_service_demo(*, log: Callable[[str], None] | None = None, now: datetime.datetime | None = None) -> dict[str, int]:
    """Create the demo interactions and answers that are missing; returns {label: count created}."""
    from kefu.service.services import records_import
    from kefu.service.surveys import survey_answers_import

    if not Employee.objects.filter(employee_no="GM10001").exists():
        return {}  # no demo company: nothing to attach interactions to
    say = log or (lambda message: None)
    today = _first_run_date()
    now = now or timezone.now()
    # The demo is a snapshot taken at the start of the day it was first seeded: whatever was not
    # answered or resolved by then stays open (and, as days pass, overdue — backlog and alerts to see).
    # A later run computes exactly the same rows.
    now = min(now, datetime.datetime.combine(today, datetime.time(), tzinfo=ZoneInfo(settings.TIME_ZONE)))
    rows, answers = _generate(today, now)
    have = set(
        Interaction.objects.filter(source__in=DEMO_SOURCES).values_list("source", "external_id")
    )
    new = [row for row in rows if (row["source"], row["external_id"]) not in have]
    created: dict[str, int] = {}
    if new:
        # The real import path (set-based, SLA computed by service.sla, one audit entry).
        report = records_import(actor=None, records=new, via=ImportBatch.Via.COMMAND, name="demo")
        say(f"{report.created} interactions")
        created[_("interactions")] = report.created
    answered = set(
        SurveyAnswer.objects.filter(interaction__source__in=DEMO_SOURCES)
        .values_list("interaction__source", "interaction__external_id")
    )
    missing = [a for a in answers if (a["source"], a["external_id"]) not in answered]
    if missing:
        report = survey_answers_import(actor=None, rows=missing, via=ImportBatch.Via.COMMAND, now=now)
        say(f"{report.created} survey answers")
        created[_("survey answers")] = report.created
    return created


def register() -> None:
    from kefu.core.registry import demo_steps

    demo_steps.register("service.interactions", build_service_demo)

