"""Hand-built weekly evaluations and interactions of March 2026 for the monthly tests.

March 2026's weeks (ISO weeks whose Thursday falls in March): W10 (Thu 5 March), W11, W12, W13
(Thu 26 March). 王小美 (the agent) has:

- W10 submitted: attitude 80 %, ability 70 %, efficiency 60 %
- W11 acknowledged: attitude 90 %, ability 80 %, efficiency 60 %
- W12 nothing → missing
- W13 a draft (attitude 10 %) → does not count, missing
- ten interactions in March: first reply 7 met / 3 breached (70 %), resolution 7 met / 3 breached
  (70 %) → SLA rate 70 %; one of them a complaint; two survey answers (5 and 3 stars).

So the suggestions are: attitude mean 85 % × 30 = 25.5; ability 75 % × 30 = 22.5; efficiency
(60 × 50 + 70 × 50) / 100 = 65 % × 20 = 13.0; teamwork none.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from kefu.evaluations.models import MonthlyEvaluation, WeeklyEvaluation
from kefu.evaluations.services import scorecard_ensure_default
from kefu.service.models import SlaStored
from kefu.service.tests.builders import answer, interaction, local

YEAR, MONTH = 2026, 3
AFTER_MARCH = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)


def weekly(agent, evaluator, iso_week: int, status: str, attitude=None, ability=None, efficiency=None,
           iso_year: int = 2026) -> WeeklyEvaluation:
    card = scorecard_ensure_default()
    return WeeklyEvaluation.objects.create(
        agent=agent, iso_year=iso_year, iso_week=iso_week,
        week_start=datetime.date.fromisocalendar(iso_year, iso_week, 1), evaluator=evaluator, scorecard=card,
        method_onsite=True, status=status,
        attitude_pct=None if attitude is None else Decimal(attitude),
        ability_pct=None if ability is None else Decimal(ability),
        efficiency_pct=None if efficiency is None else Decimal(efficiency),
    )


def build_march(case) -> None:
    """The data above for ``case.agent`` (a KefuTestCase's named people)."""
    agent = case.agent.employee
    lead = case.team_lead.employee
    weekly(agent, lead, 10, WeeklyEvaluation.Status.SUBMITTED, 80, 70, 60)
    weekly(agent, lead, 11, WeeklyEvaluation.Status.ACKNOWLEDGED, 90, 80, 60)
    weekly(agent, lead, 13, WeeklyEvaluation.Status.DRAFT, 10, 10, 10)
    # A week of February (W09, Thursday 26 February) must not count in March.
    weekly(agent, lead, 9, WeeklyEvaluation.Status.SUBMITTED, 0, 0, 0)
    rows = []
    for i in range(10):
        fr = SlaStored.MET if i < 7 else SlaStored.BREACHED
        res = SlaStored.MET if i < 7 else SlaStored.BREACHED
        rows.append(interaction(agent, local(2026, 3, 2 + i, 10), fr=fr, res=res,
                                kind="complaint" if i == 0 else "inquiry",
                                first_response_at=local(2026, 3, 2 + i, 10, 5),
                                resolved_at=local(2026, 3, 2 + i, 15)))
    # Outside March: ignored.
    interaction(agent, local(2026, 2, 27, 10), fr=SlaStored.BREACHED, res=SlaStored.BREACHED)
    answer(rows[0], 5, local(2026, 3, 20, 12))
    answer(rows[1], 3, local(2026, 3, 21, 12))


def draft_of(employee) -> MonthlyEvaluation:
    return MonthlyEvaluation.objects.get(agent=employee, year=YEAR, month=MONTH)
