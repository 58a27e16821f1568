"""The evaluations API (issue 4 item 7): weekly and monthly evaluations, read, within the caller's scope.

Mounted under /api/v1/ by kefu/api/api.py. The same access rules as the pages: an agent reads
her own submitted evaluations; team leads, CS supervisors, department heads, HR, leadership and
inspectors read those of the agents in the units their role covers. Anything else is 404.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from pydantic import field_serializer

from kefu.api.common import caller
from kefu.api.pagination import BoundedPagination
from kefu.api.schemas import ErrorOut, ValidationErrorOut
from kefu.core import access
from kefu.evaluations import access as eaccess
from kefu.evaluations.models import (
    MONTHLY_DIMENSIONS,
    Appeal,
    MonthlyEvaluation,
    WeeklyEvaluation,
    WeeklyEvidence,
    WeeklyScore,
)
from kefu.evaluations.scoring import month_week_starts
from kefu.people.access import scope_q
from kefu.people.models import Employee

router = Router(tags=["evaluations"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
MAX_PAGE = 500


def _local(value: datetime.datetime | None) -> str | None:
    """Times in company local time with their offset, as the rest of the API writes them."""
    return None if value is None else timezone.localtime(value).isoformat()


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# ---- schemas -------------------------------------------------------------------------------------


class WeeklyScoreOut(Schema):
    criterion: str = Field(description="The criterion's code in its scorecard.")
    name: str
    dimension: str
    level: int | None = Field(description="The rubric level; null when not applicable.")
    not_applicable: bool
    comment: str


class EvidenceOut(Schema):
    source: str
    external_id: str


class WeeklyOut(Schema):
    id: int
    agent_no: str
    agent_name: str
    week: str = Field(description="ISO week, e.g. 2026-W10.")
    week_start: datetime.date
    evaluator_no: str
    evaluator_name: str
    scorecard: str
    methods: list[str] = Field(description="onsite, recording, chat.")
    status: str = Field(description="draft, submitted, acknowledged or commented.")
    attitude_pct: str | None = Field(description="Percent of the scale (see scoring.py); null: all N/A.")
    ability_pct: str | None
    efficiency_pct: str | None
    notes: str
    submitted_at: datetime.datetime | None
    acknowledged_at: datetime.datetime | None
    agent_comment: str

    @field_serializer("submitted_at", "acknowledged_at")
    def _times(self, value: datetime.datetime | None) -> str | None:
        return _local(value)

    # Read straight from a WeeklyEvaluation (agent, evaluator, scorecard joined), so that the
    # paginated list serialises only its page.
    @staticmethod
    def resolve_agent_no(obj: Any) -> str:
        return obj["agent_no"] if isinstance(obj, dict) else obj.agent.employee_no

    @staticmethod
    def resolve_agent_name(obj: Any) -> str:
        return obj["agent_name"] if isinstance(obj, dict) else obj.agent.name

    @staticmethod
    def resolve_week(obj: Any) -> str:
        return obj["week"] if isinstance(obj, dict) else obj.period_label

    @staticmethod
    def resolve_evaluator_no(obj: Any) -> str:
        return obj["evaluator_no"] if isinstance(obj, dict) else obj.evaluator.employee_no

    @staticmethod
    def resolve_evaluator_name(obj: Any) -> str:
        return obj["evaluator_name"] if isinstance(obj, dict) else obj.evaluator.name

    @staticmethod
    def resolve_scorecard(obj: Any) -> str:
        return obj["scorecard"] if isinstance(obj, dict) else str(obj.scorecard)

    @staticmethod
    def resolve_attitude_pct(obj: Any) -> str | None:
        return obj["attitude_pct"] if isinstance(obj, dict) else _dec(obj.attitude_pct)

    @staticmethod
    def resolve_ability_pct(obj: Any) -> str | None:
        return obj["ability_pct"] if isinstance(obj, dict) else _dec(obj.ability_pct)

    @staticmethod
    def resolve_efficiency_pct(obj: Any) -> str | None:
        return obj["efficiency_pct"] if isinstance(obj, dict) else _dec(obj.efficiency_pct)


class WeeklyDetailOut(WeeklyOut):
    scores: list[WeeklyScoreOut]
    evidence: list[EvidenceOut]


class DimensionOut(Schema):
    suggested: str | None
    points: str | None
    reason: str


class AppealOut(Schema):
    status: str
    reason: str
    filed_at: datetime.datetime
    deadline: datetime.datetime
    decision: str
    decision_reason: str
    adjusted: dict[str, str]
    decided_by_no: str | None
    decided_at: datetime.datetime | None

    @field_serializer("filed_at", "deadline", "decided_at")
    def _times(self, value: datetime.datetime | None) -> str | None:
        return _local(value)


class MonthlyOut(Schema):
    id: int
    agent_no: str
    agent_name: str
    period: str = Field(description="The month, e.g. 2026-03.")
    status: str = Field(description="draft, submitted, appealed or final.")
    final_via: str = Field(description="acknowledged, window_closed, appeal_upheld, appeal_adjusted; empty before.")
    supervisor_no: str | None
    attitude: DimensionOut
    ability: DimensionOut
    efficiency: DimensionOut
    teamwork: DimensionOut
    total: str | None
    submitted_at: datetime.datetime | None
    appeal_deadline: datetime.datetime | None
    acknowledged_at: datetime.datetime | None
    finalised_at: datetime.datetime | None
    reopen_count: int

    @field_serializer("submitted_at", "appeal_deadline", "acknowledged_at", "finalised_at")
    def _times(self, value: datetime.datetime | None) -> str | None:
        return _local(value)

    @staticmethod
    def resolve_agent_no(obj: Any) -> str:
        return obj["agent_no"] if isinstance(obj, dict) else obj.agent.employee_no

    @staticmethod
    def resolve_agent_name(obj: Any) -> str:
        return obj["agent_name"] if isinstance(obj, dict) else obj.agent.name

    @staticmethod
    def resolve_period(obj: Any) -> str:
        return obj["period"] if isinstance(obj, dict) else obj.period_label

    @staticmethod
    def resolve_supervisor_no(obj: Any) -> str | None:
        if isinstance(obj, dict):
            return obj["supervisor_no"]
        return obj.supervisor.employee_no if obj.supervisor else None

    @staticmethod
    def resolve_total(obj: Any) -> str | None:
        return obj["total"] if isinstance(obj, dict) else _dec(obj.total)

    @staticmethod
    def resolve_attitude(obj: Any) -> dict[str, Any]:
        return _dimension(obj, "attitude")

    @staticmethod
    def resolve_ability(obj: Any) -> dict[str, Any]:
        return _dimension(obj, "ability")

    @staticmethod
    def resolve_efficiency(obj: Any) -> dict[str, Any]:
        return _dimension(obj, "efficiency")

    @staticmethod
    def resolve_teamwork(obj: Any) -> dict[str, Any]:
        return _dimension(obj, "teamwork")


def _dimension(obj: Any, dim: str) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj[dim]
    return {"suggested": _dec(obj.suggested(dim)), "points": _dec(obj.points(dim)), "reason": getattr(obj, f"{dim}_reason")}


class MonthlyDetailOut(MonthlyOut):
    appeals: list[AppealOut]
    missing_weeks: list[str]


class AgentEvaluationsOut(Schema):
    employee_no: str
    name: str
    period: str
    monthly: MonthlyDetailOut | None
    weekly: list[WeeklyOut] = Field(description="The weekly evaluations of the month's ISO weeks (a week belongs "
                                                 "to the month of its Thursday).")


# ---- serialisers ---------------------------------------------------------------------------------


def _weekly(ev: WeeklyEvaluation) -> dict[str, Any]:
    return {
        "id": ev.pk, "agent_no": ev.agent.employee_no, "agent_name": ev.agent.name, "week": ev.period_label,
        "week_start": ev.week_start, "evaluator_no": ev.evaluator.employee_no, "evaluator_name": ev.evaluator.name,
        "scorecard": str(ev.scorecard), "methods": ev.methods, "status": ev.status,
        "attitude_pct": _dec(ev.attitude_pct), "ability_pct": _dec(ev.ability_pct),
        "efficiency_pct": _dec(ev.efficiency_pct), "notes": ev.notes, "submitted_at": ev.submitted_at,
        "acknowledged_at": ev.acknowledged_at, "agent_comment": ev.agent_comment,
    }


def _weekly_detail(ev: WeeklyEvaluation) -> dict[str, Any]:
    return _weekly(ev) | {
        "scores": [
            {"criterion": s.criterion.code, "name": s.criterion.display_name, "dimension": s.criterion.dimension,
             "level": s.level, "not_applicable": s.level is None, "comment": s.comment}
            for s in ev.scores.all()
        ],
        "evidence": [{"source": e.interaction.source, "external_id": e.interaction.external_id}
                     for e in ev.evidence.all()],
    }


def _monthly(ev: MonthlyEvaluation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ev.pk, "agent_no": ev.agent.employee_no, "agent_name": ev.agent.name, "period": ev.period_label,
        "status": ev.status, "final_via": ev.final_via,
        "supervisor_no": ev.supervisor.employee_no if ev.supervisor else None,
        "total": _dec(ev.total), "submitted_at": ev.submitted_at, "appeal_deadline": ev.appeal_deadline,
        "acknowledged_at": ev.acknowledged_at, "finalised_at": ev.finalised_at, "reopen_count": ev.reopen_count,
    }
    for dim in MONTHLY_DIMENSIONS:
        out[dim] = {"suggested": _dec(ev.suggested(dim)), "points": _dec(ev.points(dim)),
                    "reason": getattr(ev, f"{dim}_reason")}
    return out


def _monthly_detail(ev: MonthlyEvaluation) -> dict[str, Any]:
    return _monthly(ev) | {
        "appeals": [
            {"status": a.status, "reason": a.reason, "filed_at": a.filed_at, "deadline": a.deadline,
             "decision": a.decision, "decision_reason": a.decision_reason, "adjusted": a.adjusted,
             "decided_by_no": a.decided_by.employee_no if a.decided_by else None, "decided_at": a.decided_at}
            for a in ev.appeals.all()
        ],
        "missing_weeks": list((ev.facts or {}).get("missing_weeks") or []),
    }


def _weekly_qs(user):
    return access.visible(user, WeeklyEvaluation).select_related("agent", "evaluator", "scorecard")


def _weekly_detail_qs(user):
    return _weekly_qs(user).prefetch_related(
        Prefetch("scores", queryset=WeeklyScore.objects.select_related("criterion").order_by(
            "criterion__order", "criterion_id")),
        Prefetch("evidence", queryset=WeeklyEvidence.objects.select_related("interaction").order_by("interaction_id")),
    )


def _monthly_qs(user):
    return access.visible(user, MonthlyEvaluation).select_related("agent", "supervisor")


def _monthly_detail_qs(user):
    return _monthly_qs(user).prefetch_related(
        Prefetch("appeals", queryset=Appeal.objects.select_related("decided_by").order_by("filed_at", "pk")))


def _agent_filter(qs, agent: str | None):
    return qs.filter(agent__employee_no=agent.strip()) if agent and agent.strip() else qs


# ---- endpoints -----------------------------------------------------------------------------------


@router.get("/evaluations/weekly", response={200: list[WeeklyOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="Weekly evaluations you can see")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def weekly_list(request: HttpRequest, agent: str | None = None, week: str | None = None, status: str | None = None):
    """Filters: ``agent`` (employee number), ``week`` (``2026-W10``), ``status``. Newest week first;
    ``limit`` is capped at 500."""
    from kefu.service.kpis import WEEK, PeriodError, parse_period

    qs = _agent_filter(_weekly_qs(caller(request)), agent)
    if week and week.strip():
        try:
            period = parse_period(week)
        except PeriodError as e:
            raise ValidationError({"week": str(e)}) from None
        if period.kind != WEEK:
            raise ValidationError({"week": _("Write a week as YYYY-Www, e.g. 2026-W10.")})
        qs = qs.filter(week_start=period.start)
    if status:
        if status not in WeeklyEvaluation.Status.values:
            raise ValidationError({"status": _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(WeeklyEvaluation.Status.values)}})
        qs = qs.filter(status=status)
    return qs.order_by("-week_start", "agent__employee_no")


@router.get("/evaluations/weekly/{int:evaluation_id}", response={200: WeeklyDetailOut} | ERRORS,
            summary="One weekly evaluation with its scores and evidence")
def weekly_detail(request: HttpRequest, evaluation_id: int):
    return _weekly_detail(access.get_for_view(caller(request), _weekly_detail_qs(caller(request)), pk=evaluation_id))


@router.get("/evaluations/monthly", response={200: list[MonthlyOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="Monthly evaluations you can see")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def monthly_list(request: HttpRequest, agent: str | None = None, month: str | None = None, status: str | None = None):
    """Filters: ``agent`` (employee number), ``month`` (``2026-03``), ``status``. Newest month first."""
    qs = _agent_filter(_monthly_qs(caller(request)), agent)
    if month and month.strip():
        period = _month(month, "month")
        qs = qs.filter(year=period.year, month=period.number)
    if status:
        if status not in MonthlyEvaluation.Status.values:
            raise ValidationError({"status": _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(MonthlyEvaluation.Status.values)}})
        qs = qs.filter(status=status)
    return qs.order_by("-year", "-month", "agent__employee_no")


@router.get("/evaluations/monthly/{int:evaluation_id}", response={200: MonthlyDetailOut} | ERRORS,
            summary="One monthly evaluation with its appeals")
def monthly_detail(request: HttpRequest, evaluation_id: int):
    return _monthly_detail(access.get_for_view(caller(request), _monthly_detail_qs(caller(request)), pk=evaluation_id))


def _month(text: str, field: str):
    from kefu.service.kpis import MONTH, PeriodError, parse_period

    try:
        period = parse_period(text)
    except PeriodError as e:
        raise ValidationError({field: str(e)}) from None
    if period.kind != MONTH:
        raise ValidationError({field: _("Write a month as YYYY-MM, e.g. 2026-03.")})
    return period


@router.get("/agents/{employee_no}/evaluations", response={200: AgentEvaluationsOut} | ERRORS,
            summary="An agent's monthly evaluation and the weekly ones of a month")
def agent_evaluations(request: HttpRequest, employee_no: str, period: str):
    """``period`` is a month, ``2026-03``; anything else is 422. The agent reads her own (submitted ones);
    her team lead, supervisor, department head, HR, leadership and inspectors those in their scope."""
    user = caller(request)
    chosen = _month(period, "period")
    agent = Employee.objects.filter(
        (scope_q(user, eaccess.READERS) & ~Q(user=user)) | Q(user=user), employee_no=employee_no,
    ).first()
    if agent is None:
        raise Http404
    first_monday, last_monday = month_week_starts(chosen.year, chosen.number)
    weekly = _weekly_qs(user).filter(agent=agent, week_start__gte=first_monday, week_start__lte=last_monday)
    monthly = _monthly_detail_qs(user).filter(agent=agent, year=chosen.year, month=chosen.number).first()
    return {
        "employee_no": agent.employee_no, "name": agent.name, "period": chosen.key,
        "monthly": _monthly_detail(monthly) if monthly else None,
        "weekly": [_weekly(ev) for ev in weekly.order_by("week_start")],
    }
