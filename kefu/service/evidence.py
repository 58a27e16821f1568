"""The evidence picker for the weekly evaluation (policy E2.1; issue 3 item 6).

E2.1: the team lead or CS supervisor scores an agent's week "by on-site observation,
listening to call recordings and reading chat logs". This module lists the agent's
interactions of one ISO week — filtered by channel, complaints, low ratings and
breaches — and draws N of them at random. A draw records its seed: the same seed over
the same filters and the same data gives the same interactions (``random.Random(seed)``
over the sorted ids), so anyone can check that the sample was not hand-picked.
"""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.people.models import Employee
from kefu.service.kpis import WEEK, Period, week
from kefu.service.models import Channel, EvidenceDraw, Interaction, Kind, SlaStored

LOW_RATING = 2  # "low ratings": one or two stars
MAX_DRAW = 50
SEED_MAX = 10**12  # twelve digits: short enough to read out and type in again
DOUBLE_SUBMIT = datetime.timedelta(seconds=10)
DRAW_FIELDS = ["agent_id", "iso_year", "iso_week", "filters", "n", "seed", "chosen_ids"]


@dataclass(frozen=True)
class EvidenceFilters:
    channel: str = ""
    complaints: bool = False
    low_rating: bool = False
    breaches: bool = False

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> EvidenceFilters:
        """From a form, the query string or a stored draw; an unknown channel is an error naming the field."""
        channel = str(data.get("channel") or "").strip()
        if channel and channel not in Channel.values:
            raise ValidationError({"channel": _("Choose one of the listed channels.")})

        def flag(name: str) -> bool:
            value = data.get(name)
            return value in (True, 1) or str(value).lower() in {"1", "true", "on", "yes"}

        return cls(channel=channel, complaints=flag("complaints"), low_rating=flag("low_rating"),
                   breaches=flag("breaches"))

    def as_dict(self) -> dict[str, Any]:
        """The stored form: only what is set, so equal filters are stored equally."""
        out: dict[str, Any] = {}
        if self.channel:
            out["channel"] = self.channel
        for name in ("complaints", "low_rating", "breaches"):
            if getattr(self, name):
                out[name] = True
        return out

    @property
    def active(self) -> bool:
        return bool(self.as_dict())


def evidence_interactions(
    agent: Employee | int, period: Period, filters: EvidenceFilters, *, now: datetime.datetime
) -> QuerySet[Interaction]:
    """The interactions of ``agent``'s week matching ``filters``: those she handled, first answered or resolved.

    "Breaches" are deadlines done late or not done and past due at ``now`` (a draw passes its own
    time, so that repeating it judges "overdue" as it was judged then).
    """
    agent_id = agent.pk if isinstance(agent, Employee) else agent
    qs = Interaction.objects.filter(
        Q(agent_id=agent_id) | Q(first_responder_id=agent_id) | Q(resolver_id=agent_id),
        local_date__gte=period.start, local_date__lt=period.end,
    )
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.complaints:
        qs = qs.filter(kind=Kind.COMPLAINT)
    if filters.low_rating:
        qs = qs.filter(survey_answer__rating__lte=LOW_RATING)
    if filters.breaches:
        qs = qs.filter(
            Q(first_reply_status=SlaStored.BREACHED) | Q(resolution_status=SlaStored.BREACHED)
            | Q(first_reply_status=SlaStored.PENDING, first_reply_due_at__lt=now)
            | Q(resolution_status=SlaStored.PENDING, resolution_due_at__lt=now)
        )
    return qs


def draw_ids(candidate_ids: list[int], n: int, seed: int) -> list[int]:
    """``n`` of the candidates chosen by ``seed``: the same seed and candidates give the same choice."""
    pool = sorted(set(candidate_ids))
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    return sorted(chosen)


def _check_evaluator(actor, agent: Employee) -> None:
    from kefu.service.access import evaluated_agents

    if getattr(actor, "is_authenticated", False) and not evaluated_agents(actor).filter(pk=agent.pk).exists():
        raise PermissionDenied


@transaction.atomic
def evidence_draw(
    *, actor, agent: Employee, period: Period, filters: EvidenceFilters, n: int, seed: int | None = None,
    now: datetime.datetime | None = None,
) -> EvidenceDraw:
    """Draw ``n`` of the agent's interactions of the ISO week ``period`` and record the draw and its seed.

    Give ``seed`` to repeat an earlier draw (the page's "repeat with seed"); without one a fresh
    random seed is chosen.
    """
    _check_evaluator(actor, agent)
    if period.kind != WEEK:
        raise ValidationError({"week": _("Evidence is drawn from one ISO week.")})
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_DRAW:
        raise ValidationError({"n": _("Draw from 1 to %(max)s interactions.") % {"max": MAX_DRAW}})
    now = now or timezone.now()
    if seed is None:
        # A double-clicked "draw" is one draw, not two with different seeds.
        for recent in EvidenceDraw.objects.filter(
            created_by=actor, agent=agent, iso_year=period.year, iso_week=period.number, n=n,
            created_at__gte=now - DOUBLE_SUBMIT, created_at__lte=now,
        ):
            if recent.filters == filters.as_dict():
                return recent
        seed = secrets.randbelow(SEED_MAX)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValidationError({"seed": _("The seed is a whole number of at most 18 digits.")})
    ids = list(evidence_interactions(agent, period, filters, now=now).order_by().values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"n": _("There is nothing to draw from: no interaction of this week matches the filters.")})
    chosen = draw_ids(ids, n, seed)
    draw = EvidenceDraw(
        created_by=actor, agent=agent, iso_year=period.year, iso_week=period.number, filters=filters.as_dict(),
        n=n, seed=seed, chosen_ids=chosen,
    )
    draw.full_clean()
    draw.save()
    # The draw's own time is when "overdue" was judged; keep it exactly as used.
    EvidenceDraw.objects.filter(pk=draw.pk).update(created_at=now)
    draw.created_at = now
    audit.record(
        actor=actor, action="evidence.draw", obj=draw,
        changes=audit.diff(None, audit.snapshot(draw, DRAW_FIELDS)) | {"candidates": [None, len(ids)]},
    )
    return draw


def draw_period(draw: EvidenceDraw) -> Period:
    return week(draw.iso_year, draw.iso_week)


def replay(draw: EvidenceDraw) -> list[int]:
    """Draw again from today's data with the draw's seed and filters (and its own time for "overdue")."""
    filters = EvidenceFilters.from_data(draw.filters)
    ids = list(
        evidence_interactions(draw.agent_id, draw_period(draw), filters, now=draw.created_at)
        .order_by().values_list("pk", flat=True)
    )
    return draw_ids(ids, draw.n, draw.seed)
