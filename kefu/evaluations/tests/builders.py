"""Helpers for the evaluation tests: the default scorecard's criteria and complete score sets."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from kefu.evaluations import services
from kefu.evaluations.models import (
    WEEKLY_DIMENSIONS,
    Criterion,
    MonthlyEvaluation,
    Scorecard,
    WeeklyEvaluation,
)
from kefu.people.models import Employee


def criteria(card: Scorecard) -> dict[str, Criterion]:
    return {c.code: c for c in card.criteria.all()}


def scores(card: Scorecard, levels: dict[str, Any] | None = None, default: Any = 4) -> dict[int, services.ScoreIn]:
    """A complete weekly score set: ``levels`` by criterion code ("na" for not applicable), else ``default``."""
    levels = levels or {}
    out = {}
    for code, c in criteria(card).items():
        if c.dimension not in WEEKLY_DIMENSIONS:
            continue
        value = levels.get(code, default)
        out[c.pk] = services.ScoreIn(na=True) if value == "na" else services.ScoreIn(level=value)
    return out


def submitted_weekly(actor, agent: Employee, iso_year: int, iso_week: int, *, levels: dict[str, Any] | None = None,
                     default: Any = 4) -> WeeklyEvaluation:
    ev = services.weekly_evaluation_start(actor=actor, agent=agent, iso_year=iso_year, iso_week=iso_week)
    services.weekly_evaluation_save(actor=actor, evaluation=ev, method_onsite=True, method_recording=False,
                                    method_chat=False, scores=scores(ev.scorecard, levels, default))
    return services.weekly_evaluation_submit(actor=actor, evaluation=ev)


def monthly_draft(agent: Employee, year: int, month: int, *, supervisor: Employee | None = None,
                  points: dict[str, str] | None = None, suggested: dict[str, str] | None = None) -> MonthlyEvaluation:
    """A draft as the supervisor left it (setup data; the draft service is tested on its own)."""
    points = points or {"attitude": "25.5", "ability": "24", "efficiency": "16", "teamwork": "17"}
    suggested = suggested or {}
    ev = MonthlyEvaluation(agent=agent, year=year, month=month, supervisor=supervisor,
                           scorecard=services.scorecard_ensure_default())
    for dim, value in points.items():
        setattr(ev, dim, Decimal(value))
    for dim, value in suggested.items():
        setattr(ev, f"{dim}_suggested", Decimal(value))
    ev.save()
    return ev


def local_dt(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    return datetime.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))
