"""The customer-service API (issue 3): interactions, survey answers, agent KPIs.

Mounted under /api/v1/ by kefu/api/api.py. Same access rules as the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from kefu.api.common import caller
from kefu.api.schemas import ErrorOut, ValidationErrorOut
from kefu.people.models import Employee

router = Router(tags=["customer service"])


# ---- survey answers (issue 3 item 4) and agent KPIs (item 5) -------------------------------------


class SurveyAnswerIn(Schema):
    source: str = Field(description="The interaction's source system.")
    external_id: str = Field(description="The interaction's id in its source system.")
    rating: Any = Field(description="1 to 5 stars (a whole number).")
    comment: str = ""
    answered_at: str | None = Field(
        None, description="ISO 8601; without a zone it is company local time. Empty: the time of the import."
    )


class SurveyAnswersBulkIn(Schema):
    answers: list[SurveyAnswerIn]
    dry_run: bool = Field(False, description="Check and report; save nothing.")


class ImportErrorOut(Schema):
    row: int | None = Field(description="Position of the answer in the list, from 1; null for the whole batch.")
    field: str
    message: str


class ImportReportOut(Schema):
    ok: bool
    dry_run: bool
    rows_read: int
    created: int
    updated: int
    unchanged: int
    errors: list[ImportErrorOut]
    warnings: list[str]


@router.post("/survey-answers/bulk", response={200: ImportReportOut, 401: ErrorOut, 403: ErrorOut,
                                               422: ImportReportOut | ValidationErrorOut},
             summary="Import survey answers from an outside survey tool (all or nothing)")
def survey_answers_bulk(request: HttpRequest, payload: SurveyAnswersBulkIn):
    """Upsert by the interaction's (source, external_id): sending the same batch again changes nothing.

    If any answer is wrong nothing is saved, and the 422 answer lists every problem with its
    position in ``answers`` (from 1). CS supervisors and system admins, for
    interactions in their scope (policy E1.1: the rating counts for the agent who resolved it).
    """
    from kefu.core.tabular import ImportRejected
    from kefu.service.access import imports_survey_answers
    from kefu.service.models import ImportBatch
    from kefu.service.surveys import survey_answers_import

    user = caller(request)
    if not imports_survey_answers(user):
        raise PermissionDenied
    rows = [a.model_dump() for a in payload.answers]
    try:
        report = survey_answers_import(actor=user, rows=rows, via=ImportBatch.Via.API, dry_run=payload.dry_run)
    except ImportRejected as e:
        e.report.dry_run = payload.dry_run
        return Status(422, e.report.as_dict())
    return Status(200, report.as_dict())


class DeadlineKpisOut(Schema):
    met: int
    breached: int
    overdue: int
    rate: float | None = Field(description="met ÷ (met + breached + overdue); null when there is none.")
    median_working_minutes: float | None


class SatisfactionOut(Schema):
    answers: int
    mean_rating: float | None
    share_4_5: float | None


class AgentKpisOut(Schema):
    employee_no: str
    name: str
    period: str = Field(description="2026-03 for a month, 2026-W10 for an ISO week.")
    start: str = Field(description="First day of the period (company local date).")
    end: str = Field(description="Last day of the period.")
    handled: int
    complaints: int
    first_reply: DeadlineKpisOut
    resolution: DeadlineKpisOut
    backlog: int = Field(description="Resolution past due and not done at the end of the period (or now).")
    satisfaction: SatisfactionOut


@router.get("/agents/{employee_no}/kpis", response={200: AgentKpisOut, 401: ErrorOut, 404: ErrorOut,
                                                     422: ValidationErrorOut},
            summary="An agent's KPIs for a month or an ISO week")
def agent_kpis(request: HttpRequest, employee_no: str, period: str | None = None):
    """``period`` is ``2026-03`` (a month) or ``2026-W10`` (an ISO week); the current month if left out.

    An agent reads her own; team leads, supervisors, department heads, HR, leadership and
    inspectors read the agents in the units their role covers. Others get 404.
    """
    from django.http import Http404
    from django.utils import timezone

    from kefu.service import kpis
    from kefu.service.access import kpi_agents

    user = caller(request)
    employee = kpi_agents(user).filter(employee_no=employee_no).first()
    if employee is None:
        raise Http404
    if period is None or not period.strip():
        chosen = kpis.period_of(timezone.localdate(), kpis.MONTH)
    else:
        try:
            chosen = kpis.parse_period(period)
        except kpis.PeriodError as e:
            raise ValidationError({"period": str(e)}) from None
    figures = kpis.agent_kpis([employee.pk], [chosen]).get(employee.pk, chosen)
    return _kpis_out(employee, chosen, figures)


def _kpis_out(employee: Employee, period: Any, figures: Any) -> dict[str, Any]:
    return {
        "employee_no": employee.employee_no,
        "name": employee.name,
        "period": period.key,
        "start": period.start.isoformat(),
        "end": period.last_day.isoformat(),
        **figures.as_dict(),
    }



# ---- interactions: bulk import and one interaction with its SLA clock (issue 3 items 1-3) -------

BULK_MAX_ROWS = 10_000
BULK_ENDPOINT = "interactions.bulk"


class InteractionIn(Schema):
    """One interaction as in the file layout; times are ISO 8601 (with an offset, or company local time)."""

    source: str | None = None
    external_id: str | int | None = None
    channel: str | None = None
    priority: str | None = None
    kind: str | None = None
    customer_ref: str | int | None = None
    subject: str | None = None
    received_at: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    agent_no: str | int | None = None
    first_responder_no: str | int | None = None
    resolver_no: str | int | None = None
    recording_url: str | None = None


class InteractionOut(Schema):
    source: str
    external_id: str
    channel: str
    priority: str
    kind: str
    customer_ref: str
    subject: str
    received_at: str = Field(description="ISO 8601 with the company's UTC offset.")
    first_response_at: str | None
    resolved_at: str | None
    agent_no: str
    first_responder_no: str | None
    resolver_no: str | None
    recording_url: str
    local_date: str = Field(description="The company-local date it came in; its parameters apply (E1.3).")
    first_reply_due_at: str | None = Field(description="Null while the calendar of the year it needs is unknown.")
    resolution_due_at: str | None
    first_reply_status: str = Field(description="met, breached, open, overdue (or unknown).")
    resolution_status: str = Field(description="met, breached, open, overdue (or unknown).")
    first_reply_working_seconds: int | None
    resolution_working_seconds: int | None


def _iso(value: Any) -> str | None:
    from django.utils import timezone

    return None if value is None else timezone.localtime(value).isoformat()


def interaction_out(interaction: Any, now: Any) -> dict[str, Any]:
    return {
        "source": interaction.source,
        "external_id": interaction.external_id,
        "channel": interaction.channel,
        "priority": interaction.priority,
        "kind": interaction.kind,
        "customer_ref": interaction.customer_ref,
        "subject": interaction.subject,
        "received_at": _iso(interaction.received_at),
        "first_response_at": _iso(interaction.first_response_at),
        "resolved_at": _iso(interaction.resolved_at),
        "agent_no": interaction.agent.employee_no,
        "first_responder_no": interaction.first_responder.employee_no if interaction.first_responder_id else None,
        "resolver_no": interaction.resolver.employee_no if interaction.resolver_id else None,
        "recording_url": interaction.recording_url,
        "local_date": interaction.local_date.isoformat(),
        "first_reply_due_at": _iso(interaction.first_reply_due_at),
        "resolution_due_at": _iso(interaction.resolution_due_at),
        "first_reply_status": interaction.first_reply_state(now),
        "resolution_status": interaction.resolution_state(now),
        "first_reply_working_seconds": interaction.first_reply_working_seconds,
        "resolution_working_seconds": interaction.resolution_working_seconds,
    }


@router.post("/interactions/bulk", response={200: ImportReportOut, 401: ErrorOut, 403: ErrorOut,
                                             422: ImportReportOut | ValidationErrorOut},
             summary="Import interactions from a call-centre or helpdesk system (all or nothing)")
def interactions_bulk(request: HttpRequest, payload: list[InteractionIn]):
    """A JSON list of interactions in the file layout (at most 10,000 per call). Upsert by
    (source, external_id): sending the same list again changes nothing.

    If any item is wrong nothing is saved, and the 422 answer lists every problem with the
    item's position in the list (from 1). Send an ``Idempotency-Key`` header to make a retry
    return the first call's answer. System admins (company-wide) and CS supervisors (their
    department's agents).
    """
    import hashlib
    import json

    from django.db import IntegrityError, transaction
    from django.utils.translation import gettext as _

    from kefu.core.tabular import ImportRejected
    from kefu.service import services
    from kefu.service.models import IdempotencyKey, ImportBatch

    user = caller(request)
    if not services.may_import(user):
        raise PermissionDenied
    if len(payload) > BULK_MAX_ROWS:
        raise ValidationError(_("Send at most %(n)s interactions per call.") % {"n": f"{BULK_MAX_ROWS:,}"})
    records = [item.model_dump() for item in payload]
    key = (request.headers.get("Idempotency-Key") or "").strip()
    digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    if key:
        if len(key) > 128:
            raise ValidationError({"Idempotency-Key": _("At most 128 characters.")})
        stored = IdempotencyKey.objects.filter(user=user, endpoint=BULK_ENDPOINT, key=key).first()
        if stored is not None:
            if stored.request_sha256 != digest:
                raise ValidationError({"Idempotency-Key": _(
                    "This key was used for a different request; use a new key for new data.")})
            return Status(stored.status_code, stored.response)
    try:
        report = services.records_import(actor=user, records=records, via=ImportBatch.Via.API)
    except ImportRejected as e:
        return Status(422, e.report.as_dict())
    body = report.as_dict()
    if key:
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(user=user, endpoint=BULK_ENDPOINT, key=key, request_sha256=digest,
                                              status_code=200, response=body)
        except IntegrityError:
            pass  # a concurrent retry stored it first; the upsert made the same rows either way
    return Status(200, body)


@router.get("/interactions/{source}/{external_id}", response={200: InteractionOut, 401: ErrorOut, 404: ErrorOut},
            summary="One interaction with its SLA deadlines and statuses (E1.3)")
def interaction_detail(request: HttpRequest, source: str, external_id: str):
    """An agent reads the interactions she handled, first answered or resolved; team leads,
    supervisors, department heads, HR, leadership, inspectors and system admins those of the
    units their role covers. Others get 404."""
    from django.utils import timezone

    from kefu.core import access
    from kefu.service.models import Interaction

    user = caller(request)
    interaction = access.get_for_view(
        user, Interaction.objects.select_related("agent", "first_responder", "resolver"),
        source=source, external_id=external_id,
    )
    return Status(200, interaction_out(interaction, timezone.now()))
