"""Hand-built interactions for the KPI, evidence, survey and alert tests.

The SLA columns are given as the test states them (not computed), so each test's expected
figures follow from the rows it lists.
"""

from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

from django.utils import timezone

from kefu.people.models import Employee
from kefu.service.models import Interaction, SlaStored, SurveyAnswer

SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def interaction(
    agent: Employee,
    received: datetime.datetime,
    *,
    source: str = "TEST",
    external_id: str | None = None,
    channel: str = "phone",
    kind: str = "inquiry",
    priority: str = "normal",
    subject: str = "",
    first_response_at: datetime.datetime | None = None,
    resolved_at: datetime.datetime | None = None,
    first_responder: Employee | None = None,
    resolver: Employee | None = None,
    fr_due: datetime.datetime | None = None,
    res_due: datetime.datetime | None = None,
    fr: str = SlaStored.PENDING,
    res: str = SlaStored.PENDING,
    fr_seconds: int | None = None,
    res_seconds: int | None = None,
    recording_url: str = "",
) -> Interaction:
    now = timezone.now()
    return Interaction.objects.create(
        source=source, external_id=external_id or f"X{next(_serial):06d}", channel=channel, kind=kind,
        priority=priority, subject=subject, received_at=received, first_response_at=first_response_at,
        resolved_at=resolved_at, agent=agent, first_responder=first_responder, resolver=resolver,
        recording_url=recording_url, local_date=timezone.localdate(received, SHANGHAI),
        first_reply_due_at=fr_due, resolution_due_at=res_due, first_reply_status=fr, resolution_status=res,
        first_reply_working_seconds=fr_seconds, resolution_working_seconds=res_seconds, sla_computed_at=now,
        imported_at=now, updated_at=now,
    )


def answer(interaction: Interaction, rating: int, answered_at: datetime.datetime, *, comment: str = "",
           source: str = SurveyAnswer.Source.IMPORT) -> SurveyAnswer:
    return SurveyAnswer.objects.create(
        interaction=interaction, rating=rating, comment=comment, answered_at=answered_at, source=source,
        agent_id=interaction.resolver_id or interaction.agent_id,
    )
