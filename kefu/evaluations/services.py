"""Evaluation writes: scorecards, weekly evaluations, the monthly flow and appeals.

Every function is keyword-only, takes the ``actor``, runs in a transaction, validates,
writes an audit entry with its reason, and notifies through ``core.services.notify``
(mail after commit). Transitions lock the row (``select_for_update``) and check its
status, so a double-clicked button changes it once; an illegal step raises a
ValidationError naming the state it is in.

The top half (scorecards, weekly evaluations, monthly transitions, appeals) is 4a's; the
monthly drafts and their suggestions and the calibration sessions follow in the bottom
half under their own banner.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.core import attachments as core_attachments
from kefu.core import audit, calendar, policy
from kefu.core.models import Attachment
from kefu.core.services import notify
from kefu.evaluations import access as eaccess
from kefu.evaluations import monthly, scoring
from kefu.evaluations.models import (
    MONTHLY_DIMENSIONS,
    WEEKLY_DIMENSIONS,
    Appeal,
    Criterion,
    Dimension,
    MonthlyEvaluation,
    Scorecard,
    WeeklyEvaluation,
    WeeklyEvidence,
    WeeklyScore,
)
from kefu.people.access import employee_of
from kefu.people.models import Employee, OrgUnit, RoleAssignment

# ===========================================================================================
# Helpers
# ===========================================================================================


def _reason(text: str | None, field: str = "reason", message: str | None = None) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: message or _("Give a reason.")})
    return text


def _ancestor_paths(unit: OrgUnit) -> list[str]:
    paths, acc = [], "/"
    for pk in unit.path.strip("/").split("/"):
        if pk:
            acc += f"{pk}/"
            paths.append(acc)
    return paths


def users_over(employee: Employee, roles: Iterable[str]) -> list[Any]:
    """Active users holding one of ``roles`` on a unit at or above ``employee``'s (herself excepted)."""
    today = timezone.localdate()
    user_ids = (
        RoleAssignment.objects.filter(
            role__in=list(roles), org_unit__path__in=_ancestor_paths(employee.org_unit), start_date__lte=today,
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).values("user_id")
    )
    return list(get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(pk=employee.user_id or 0))


def _user_of(employee: Employee | None) -> list[Any]:
    user = employee.user if employee is not None and employee.user_id is not None else None
    return [user] if user is not None and user.is_active else []


def _actor_employee(actor) -> Employee:
    employee = employee_of(actor)
    if employee is None:
        raise PermissionDenied(_("Only an employee can do this."))
    return employee


def _state_error(obj: WeeklyEvaluation | MonthlyEvaluation | Appeal) -> ValidationError:
    return ValidationError(_("This %(record)s is %(status)s; this step is not possible now.") % {
        "record": obj._meta.verbose_name, "status": obj.get_status_display(),
    })


# ===========================================================================================
# Scorecards (E1)
# ===========================================================================================

DEFAULT_SCORECARD_NAME = "E1"
SCORECARD_FIELDS = ["name", "version", "description", "frozen_at", "is_current", "previous_id"]
CRITERION_FIELDS = ["dimension", "code", "name", "description", "order", "critical", "fail_at_or_below",
                    "allow_na", "scale_min", "scale_max", "levels"]


def _levels(*descriptions: str) -> list[dict[str, Any]]:
    return [{"level": i + 1, "description": d} for i, d in enumerate(descriptions)]


# The criteria of policy E1, each with a five-level rubric. Texts are English msgids; pages show
# them through gettext (Criterion.display_*), so the default scorecard reads in every language,
# while a criterion an editor writes in Chinese shows as written.
DEFAULT_CRITERIA: list[dict[str, Any]] = [
    {"dimension": Dimension.ATTITUDE, "code": "proactive_warm", "name": gettext_noop("Proactive and warm"),
     "description": gettext_noop("E1.1: reaches out to the customer, receives inquiries and complaints warmly, "
                                 "uses polite language and shows a good spirit."),
     "levels": _levels(gettext_noop("Cold or impolite; the customer has to push."),
                       gettext_noop("Polite but passive; answers only what is asked."),
                       gettext_noop("Polite and friendly throughout."),
                       gettext_noop("Warm, takes the initiative, offers help before being asked."),
                       gettext_noop("Exemplary warmth and initiative; customers remark on it."))},
    {"dimension": Dimension.ATTITUDE, "code": "patient_careful", "name": gettext_noop("Patient and careful"),
     "description": gettext_noop("E1.1: listens patiently, explains carefully, never shirks or brushes the "
                                 "customer off. Critical: shirking zeroes the attitude dimension."),
     "critical": True, "fail_at_or_below": 1,
     "levels": _levels(gettext_noop("Shirks or brushes the customer off (fails the criterion)."),
                       gettext_noop("Interrupts or rushes; explanations incomplete."),
                       gettext_noop("Listens and explains adequately."),
                       gettext_noop("Listens fully, checks understanding, explains clearly."),
                       gettext_noop("Patient under pressure; explanations leave no open question."))},
    {"dimension": Dimension.ATTITUDE, "code": "customer_satisfaction", "name": gettext_noop("Customer satisfaction"),
     "description": gettext_noop("E1.1: what customers said in feedback and surveys this week. Not applicable "
                                 "when no customer answered."),
     "allow_na": True,
     "levels": _levels(gettext_noop("Mostly dissatisfied customers or a justified complaint."),
                       gettext_noop("Several low ratings."),
                       gettext_noop("Ratings mostly satisfied."),
                       gettext_noop("Ratings nearly all 4-5 stars."),
                       gettext_noop("All 4-5 stars, with praise."))},
    {"dimension": Dimension.ABILITY, "code": "product_knowledge", "name": gettext_noop("Product knowledge"),
     "description": gettext_noop("E1.2: knows the features, use and prices of the products and services and "
                                 "answers accurately."),
     "levels": _levels(gettext_noop("Wrong information given to customers."),
                       gettext_noop("Often needs to look up or ask basic facts."),
                       gettext_noop("Accurate on common questions."),
                       gettext_noop("Accurate and complete, including less common questions."),
                       gettext_noop("Expert; colleagues turn to her."))},
    {"dimension": Dimension.ABILITY, "code": "problem_solving", "name": gettext_noop("Problem solving"),
     "description": gettext_noop("E1.2: diagnoses the problem fast, acts effectively, escalates what is beyond "
                                 "her and follows up the result."),
     "allow_na": True,
     "levels": _levels(gettext_noop("Problems left unsolved and not escalated."),
                       gettext_noop("Slow diagnosis; escalates without following up."),
                       gettext_noop("Solves common problems; escalates the rest."),
                       gettext_noop("Fast diagnosis; escalations followed up to the result."),
                       gettext_noop("Solves hard cases and prevents repeats."))},
    {"dimension": Dimension.ABILITY, "code": "communication", "name": gettext_noop("Communication"),
     "description": gettext_noop("E1.2: listens, expresses herself clearly and accurately, gives feedback; "
                                 "understands what the customer needs."),
     "levels": _levels(gettext_noop("Misunderstandings caused by unclear communication."),
                       gettext_noop("Understandable but vague or jargon-laden."),
                       gettext_noop("Clear and accurate."),
                       gettext_noop("Clear, well structured, confirms understanding."),
                       gettext_noop("Masterful: calms difficult conversations, always understood."))},
    {"dimension": Dimension.EFFICIENCY, "code": "response_time", "name": gettext_noop("Response time"),
     "description": gettext_noop("E1.3: urgent issues handled immediately; others answered and resolved "
                                 "within the policy's deadlines (see the SLA rates)."),
     "levels": _levels(gettext_noop("Deadlines regularly breached."),
                       gettext_noop("Several breaches."),
                       gettext_noop("Deadlines met with few exceptions."),
                       gettext_noop("All deadlines met."),
                       gettext_noop("All deadlines met well ahead, urgent issues at once."))},
    {"dimension": Dimension.EFFICIENCY, "code": "handling_speed", "name": gettext_noop("Handling speed"),
     "description": gettext_noop("E1.3: handles issues as fast as quality allows; no delay, no backlog."),
     "levels": _levels(gettext_noop("Growing backlog; work delayed."),
                       gettext_noop("Slow; some backlog."),
                       gettext_noop("Keeps up with the work."),
                       gettext_noop("Fast without loss of quality; no backlog."),
                       gettext_noop("Fastest in the team and helps clear others' backlog."))},
    {"dimension": Dimension.TEAMWORK, "code": "cooperation", "name": gettext_noop("Cooperation"),
     "description": gettext_noop("E1.4: works closely with the team and joins team activities."),
     "levels": _levels(gettext_noop("Refuses to cooperate."),
                       gettext_noop("Cooperates when asked."),
                       gettext_noop("A reliable team member."),
                       gettext_noop("Actively supports colleagues and team activities."),
                       gettext_noop("Drives the team's cooperation."))},
    {"dimension": Dimension.TEAMWORK, "code": "information_sharing", "name": gettext_noop("Information sharing"),
     "description": gettext_noop("E1.4: shares customer information and solutions with the team in time."),
     "levels": _levels(gettext_noop("Withholds information the team needed."),
                       gettext_noop("Shares when asked."),
                       gettext_noop("Shares what matters in time."),
                       gettext_noop("Shares proactively; documents solutions."),
                       gettext_noop("Her shared solutions lift the whole team."))},
]


def _scorecard_snapshot(card: Scorecard) -> dict[str, Any]:
    snap = audit.snapshot(card, ["name", "version", "description", "is_current"])
    snap["criteria"] = {
        c.code: audit.snapshot(c, CRITERION_FIELDS) for c in card.criteria.order_by("order", "id")
    }
    return snap


def _clean_criteria(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate the criteria of a scorecard; errors name the row (1-based) and the field."""
    out: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, raw in enumerate(rows, start=1):
        data = {k: raw[k] for k in CRITERION_FIELDS if k in raw}
        data.setdefault("order", i)
        criterion = Criterion(**data)
        try:
            criterion.full_clean(exclude=["scorecard"])
        except ValidationError as e:
            for field, messages in e.message_dict.items():
                errors.setdefault("criteria", []).extend(
                    _("Criterion %(row)s, %(field)s: %(message)s") % {"row": i, "field": field, "message": m}
                    for m in messages
                )
            continue
        if criterion.code in seen:
            errors.setdefault("criteria", []).append(
                _("Criterion %(row)s: the code %(code)s is used twice.") % {"row": i, "code": criterion.code})
        seen.add(criterion.code)
        out.append({k: getattr(criterion, k) for k in CRITERION_FIELDS})
    if not out and not errors:
        errors["criteria"] = [_("A scorecard needs at least one criterion.")]
    dims = {c["dimension"] for c in out}
    missing = [str(Dimension(d).label) for d in MONTHLY_DIMENSIONS if d not in dims]
    if out and missing:
        errors.setdefault("criteria", []).append(
            _("Every dimension of E1 needs a criterion; missing: %(dims)s.") % {"dims": ", ".join(missing)})
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def scorecard_create(*, actor, name: str, criteria: Iterable[Mapping[str, Any]], description: str = "",
                     reason: str = "") -> Scorecard:
    """A new scorecard (version 1) that new evaluations use from now on."""
    if actor is not None and getattr(actor, "is_authenticated", False) and not eaccess.edits_scorecards(actor):
        raise PermissionDenied
    name = (name or "").strip()
    rows = _clean_criteria(criteria)
    if Scorecard.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A scorecard of this name exists; edit it to make a new version.")})
    card = Scorecard(name=name, version=1, description=description, created_by=_user_or_none(actor))
    card.full_clean()
    card.save()
    Criterion.objects.bulk_create([Criterion(scorecard=card, **row) for row in rows])
    audit.record(actor=actor, action="scorecard.create", obj=card, changes=audit.diff(None, _scorecard_snapshot(card)),
                 reason=reason)
    return card


def _user_or_none(actor) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def scorecard_revise(*, actor, scorecard: Scorecard, criteria: Iterable[Mapping[str, Any]],
                     description: str | None = None, reason: str = "") -> Scorecard:
    """Edit a scorecard. An unused one changes in place; a used (frozen) one gets a new version,
    which new evaluations use, while old evaluations keep theirs (E1, G3.1: fixed standards)."""
    if getattr(actor, "is_authenticated", False) and not eaccess.edits_scorecards(actor):
        raise PermissionDenied
    card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if not card.is_current:
        raise ValidationError(_("Only the current version of a scorecard can be edited."))
    rows = _clean_criteria(criteria)
    before = _scorecard_snapshot(card)
    if not card.is_frozen:
        if description is not None:
            card.description = description
            card.save(update_fields=["description"])
        card.criteria.all().delete()
        Criterion.objects.bulk_create([Criterion(scorecard=card, **row) for row in rows])
        audit.record(actor=actor, action="scorecard.update", obj=card,
                     changes=audit.diff(before, _scorecard_snapshot(card)), reason=reason)
        return card
    Scorecard.objects.filter(pk=card.pk).update(is_current=False)
    new = Scorecard(name=card.name, version=card.version + 1, previous=card, is_current=True,
                    description=card.description if description is None else description,
                    created_by=_user_or_none(actor))
    new.full_clean(validate_constraints=False)
    new.save()
    Criterion.objects.bulk_create([Criterion(scorecard=new, **row) for row in rows])
    audit.record(actor=actor, action="scorecard.new_version", obj=new,
                 changes=audit.diff(before, _scorecard_snapshot(new)) | {"previous_id": [None, card.pk]},
                 reason=reason)
    return new


def scorecard_in_use() -> Scorecard | None:
    """The scorecard new evaluations use: the newest current version (normally the only one)."""
    return Scorecard.objects.filter(is_current=True).order_by("-created_at", "-id").first()


@transaction.atomic
def scorecard_ensure_default(*, actor=None) -> Scorecard:
    """The scorecard in use, creating the E1 default (DEFAULT_CRITERIA) when there is none."""
    card = scorecard_in_use()
    if card is not None:
        return card
    card = Scorecard(name=DEFAULT_SCORECARD_NAME, version=1,
                     description=gettext_noop("The four dimensions of policy E1 with their criteria."),
                     created_by=_user_or_none(actor))
    card.save()
    Criterion.objects.bulk_create([
        Criterion(scorecard=card, order=i, **row) for i, row in enumerate(DEFAULT_CRITERIA, start=1)
    ])
    audit.record(actor=actor, action="scorecard.create", obj=card, changes=audit.diff(None, _scorecard_snapshot(card)),
                 reason="default scorecard of policy E1")
    return card


def _freeze(card: Scorecard, actor) -> None:
    """The first evaluation that uses a scorecard freezes it (E1: a used scorecard is frozen)."""
    if card.frozen_at is not None:
        return
    now = timezone.now()
    if Scorecard.objects.filter(pk=card.pk, frozen_at__isnull=True).update(frozen_at=now):
        card.frozen_at = now
        audit.record(actor=actor, action="scorecard.freeze", obj=card, changes={"frozen_at": [None, audit._plain(now)]},
                     reason="first used by an evaluation")


# ===========================================================================================
# Weekly evaluation (E2.1)
#
#   draft ──submit──▶ submitted ──acknowledge──▶ acknowledged ──comment──▶ commented
#                         └──────────comment───────────────────────────────▲
#   submitted / acknowledged / commented ──reopen (evaluator, reason)──▶ draft
# ===========================================================================================

WEEKLY_FIELDS = ["agent_id", "iso_year", "iso_week", "evaluator_id", "scorecard_id", "method_onsite",
                 "method_recording", "method_chat", "notes", "status", "attitude_pct", "ability_pct",
                 "efficiency_pct", "submitted_at", "acknowledged_at", "agent_comment", "commented_at"]

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 10
# The file's first bytes decide its type, not its name or the browser's say-so.
ATTACHMENT_TYPES = ("pdf", "png", "jpeg", "mp3", "wav")  # kinds of kefu.core.uploads
ATTACHMENT_KINDS = "PDF, PNG, JPEG, MP3, WAV"


@dataclass(frozen=True)
class ScoreIn:
    """One criterion as entered: a level, or N/A, with a comment. Neither = not scored yet."""

    level: int | None = None
    na: bool = False
    comment: str = ""


def _weekly_snapshot(ev: WeeklyEvaluation) -> dict[str, Any]:
    snap = audit.snapshot(ev, WEEKLY_FIELDS)
    snap["scores"] = {
        s.criterion.code: ["n/a" if s.level is None else s.level, s.comment]
        for s in ev.scores.select_related("criterion").order_by("criterion__order", "criterion_id")
    }
    snap["evidence"] = sorted(ev.evidence.values_list("interaction_id", flat=True))
    snap["attachments"] = sorted(ev.attachments.values_list("original_name", flat=True))
    return snap


def _require_weekly_evaluator(actor, agent: Employee) -> Employee:
    """Her team lead or CS supervisor, never herself (E2.1)."""
    if eaccess.is_self(actor, agent):
        raise PermissionDenied(_("Nobody evaluates herself."))
    if not eaccess.covers(actor, eaccess.WEEKLY_EVALUATORS, agent):
        raise PermissionDenied(_("Only the agent's team lead or CS supervisor evaluates her week."))
    return _actor_employee(actor)


def _weekly_locked(ev: WeeklyEvaluation) -> WeeklyEvaluation:
    # of=("self",): PostgreSQL locks no rows on the nullable side of the joins (agent.user may be empty).
    return (WeeklyEvaluation.objects.select_for_update(of=("self",))
            .select_related("agent__org_unit", "agent__user").get(pk=ev.pk))


def _week_period(iso_year: int, iso_week: int):
    from kefu.service.kpis import week

    try:
        return week(int(iso_year), int(iso_week))
    except (TypeError, ValueError):
        raise ValidationError({"week": _("%(year)s has no ISO week %(week)s.") % {
            "year": iso_year, "week": iso_week}}) from None


def weekly_url(ev: WeeklyEvaluation) -> str:
    return reverse("evaluations:weekly_detail", args=[ev.pk])


@transaction.atomic
def weekly_evaluation_start(*, actor, agent: Employee, iso_year: int, iso_week: int) -> WeeklyEvaluation:
    """The agent's evaluation of that ISO week: the existing one, or a new draft (one per week, E2.1).

    A week is evaluated once it has begun. The draft uses the scorecard in use, which this
    freezes (a used scorecard never changes).
    """
    evaluator = _require_weekly_evaluator(actor, agent)
    period = _week_period(iso_year, iso_week)
    if period.start > timezone.localdate():
        raise ValidationError({"week": _("The week %(week)s has not begun yet.") % {"week": period.key}})
    existing = WeeklyEvaluation.objects.filter(agent=agent, iso_year=period.year, iso_week=period.number).first()
    if existing is not None:
        return existing
    card = scorecard_ensure_default(actor=actor)
    ev = WeeklyEvaluation(agent=agent, iso_year=period.year, iso_week=period.number, week_start=period.start,
                          evaluator=evaluator, scorecard=card, created_by=actor)
    ev.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            ev.save()
    except IntegrityError:
        # Two evaluators (or two clicks) at once: the first one's draft is the week's evaluation.
        return WeeklyEvaluation.objects.get(agent=agent, iso_year=period.year, iso_week=period.number)
    _freeze(card, actor)
    audit.record(actor=actor, action="weekly_evaluation.create", obj=ev,
                 changes=audit.diff(None, audit.snapshot(ev, WEEKLY_FIELDS)))
    return ev


def _week_interaction_ids(ev: WeeklyEvaluation, ids: Iterable[int]) -> set[int]:
    """Of ``ids``, those that are the agent's interactions of the evaluation's week (evidence picker rule)."""
    from kefu.service.evidence import EvidenceFilters, evidence_interactions

    period = _week_period(ev.iso_year, ev.iso_week)
    wanted = set(ids)
    if not wanted:
        return set()
    qs = evidence_interactions(ev.agent_id, period, EvidenceFilters(), now=timezone.now())
    return set(qs.filter(pk__in=wanted).values_list("pk", flat=True))


@transaction.atomic
def weekly_evaluation_save(
    *, actor, evaluation: WeeklyEvaluation, method_onsite: bool, method_recording: bool, method_chat: bool,
    notes: str = "", scores: Mapping[int, ScoreIn] | None = None, evidence: Iterable[int] | None = None,
    draw_seeds: Mapping[int, int] | None = None,
) -> WeeklyEvaluation:
    """Save the draft: methods, notes, scores (criterion id → ScoreIn) and evidence (interaction ids).

    ``scores`` and ``evidence`` replace what was there; None leaves them as they were.
    """
    ev = _weekly_locked(evaluation)
    _require_weekly_evaluator(actor, ev.agent)
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    before = _weekly_snapshot(ev)
    errors: dict[str, list[str]] = {}

    if scores is not None:
        criteria = {c.pk: c for c in ev.scorecard.criteria.filter(dimension__in=WEEKLY_DIMENSIONS)}
        rows: list[WeeklyScore] = []
        for criterion_id, given in scores.items():
            criterion = criteria.get(int(criterion_id))
            field = f"score_{criterion_id}"
            if criterion is None:
                errors.setdefault(field, []).append(_("This criterion is not part of the weekly scorecard."))
                continue
            if given.na:
                if not criterion.allow_na:
                    errors.setdefault(field, []).append(
                        _("%(criterion)s cannot be marked not applicable.") % {"criterion": criterion.display_name})
                    continue
                rows.append(WeeklyScore(evaluation=ev, criterion=criterion, level=None, comment=given.comment.strip()))
            elif given.level is not None:
                if isinstance(given.level, bool) or not isinstance(given.level, int) or not (
                        criterion.scale_min <= given.level <= criterion.scale_max):
                    errors.setdefault(field, []).append(
                        _("%(criterion)s: choose a level from %(min)s to %(max)s.") % {
                            "criterion": criterion.display_name, "min": criterion.scale_min,
                            "max": criterion.scale_max})
                    continue
                rows.append(WeeklyScore(evaluation=ev, criterion=criterion, level=given.level,
                                        comment=given.comment.strip()))
            elif given.comment.strip():
                errors.setdefault(field, []).append(
                    _("%(criterion)s: choose a level (or not applicable) for the comment.") % {
                        "criterion": criterion.display_name})
    evidence_ids: set[int] | None = None
    if evidence is not None:
        try:
            evidence_ids = {int(i) for i in evidence}
        except (TypeError, ValueError):
            errors.setdefault("evidence", []).append(_("Evidence is a list of interaction ids."))
        else:
            foreign = evidence_ids - _week_interaction_ids(ev, evidence_ids)
            if foreign:
                errors.setdefault("evidence", []).append(
                    _("Only the agent's interactions of this week can be evidence; not: %(ids)s.") % {
                        "ids": ", ".join(str(i) for i in sorted(foreign))})
    if errors:
        raise ValidationError(errors)

    ev.method_onsite, ev.method_recording, ev.method_chat = bool(method_onsite), bool(method_recording), bool(method_chat)
    ev.notes = (notes or "").strip()
    ev.full_clean(validate_constraints=False)
    ev.save()
    if scores is not None:
        ev.scores.all().delete()
        WeeklyScore.objects.bulk_create(rows)
    if evidence_ids is not None:
        seeds = draw_seeds or {}
        ev.evidence.exclude(interaction_id__in=evidence_ids).delete()
        have = set(ev.evidence.values_list("interaction_id", flat=True))
        WeeklyEvidence.objects.bulk_create([
            WeeklyEvidence(evaluation=ev, interaction_id=i, draw_seed=seeds.get(i)) for i in sorted(evidence_ids - have)
        ])
    changes = audit.diff(before, _weekly_snapshot(ev))
    if changes:
        audit.record(actor=actor, action="weekly_evaluation.save", obj=ev, changes=changes)
    return ev


@transaction.atomic
def weekly_evidence_add(*, actor, evaluation: WeeklyEvaluation, interaction_ids: Iterable[int],
                        draw_seed: int | None = None) -> int:
    """Add interactions of the agent's week as evidence (picked, or drawn with ``draw_seed``); returns how many
    were new. Adding one twice keeps one."""
    ev = _weekly_locked(evaluation)
    _require_weekly_evaluator(actor, ev.agent)
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    try:
        wanted = {int(i) for i in interaction_ids}
    except (TypeError, ValueError):
        raise ValidationError({"evidence": _("Evidence is a list of interaction ids.")}) from None
    if not wanted:
        raise ValidationError({"evidence": _("Choose at least one interaction.")})
    foreign = wanted - _week_interaction_ids(ev, wanted)
    if foreign:
        raise ValidationError({"evidence": _("Only the agent's interactions of this week can be evidence; not: "
                                             "%(ids)s.") % {"ids": ", ".join(str(i) for i in sorted(foreign))}})
    have = set(ev.evidence.values_list("interaction_id", flat=True))
    new = sorted(wanted - have)
    if not new:
        return 0
    WeeklyEvidence.objects.bulk_create([WeeklyEvidence(evaluation=ev, interaction_id=i, draw_seed=draw_seed)
                                        for i in new])
    audit.record(actor=actor, action="weekly_evaluation.evidence_add", obj=ev,
                 changes={"evidence": [sorted(have), sorted(have | set(new))]},
                 reason=f"draw seed {draw_seed}" if draw_seed is not None else "")
    return len(new)


@transaction.atomic
def weekly_evidence_remove(*, actor, evaluation: WeeklyEvaluation, interaction_id: int) -> None:
    ev = _weekly_locked(evaluation)
    _require_weekly_evaluator(actor, ev.agent)
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    have = set(ev.evidence.values_list("interaction_id", flat=True))
    if interaction_id not in have:
        return
    ev.evidence.filter(interaction_id=interaction_id).delete()
    audit.record(actor=actor, action="weekly_evaluation.evidence_remove", obj=ev,
                 changes={"evidence": [sorted(have), sorted(have - {interaction_id})]})


@transaction.atomic
def weekly_evaluation_submit(*, actor, evaluation: WeeklyEvaluation) -> WeeklyEvaluation:
    """Draft → submitted: complete, with evidence where the method needs it; the agent is told (E2.1)."""
    ev = _weekly_locked(evaluation)
    evaluator = _require_weekly_evaluator(actor, ev.agent)
    if ev.status == WeeklyEvaluation.Status.SUBMITTED and ev.evaluator_id == evaluator.pk:
        return ev  # a double click
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    errors: dict[str, list[str]] = {}
    if not ev.methods:
        errors["methods"] = [_("Say how you evaluated: on-site observation, call recording or chat log.")]
    if (ev.method_recording or ev.method_chat) and not ev.evidence.exists():
        errors["evidence"] = [_("A call recording or chat log needs at least one interaction as evidence.")]
    scored = {s.criterion_id for s in ev.scores.all()}
    missing = [c for c in ev.scorecard.criteria.filter(dimension__in=WEEKLY_DIMENSIONS) if c.pk not in scored]
    for c in missing:
        errors[f"score_{c.pk}"] = [_("%(criterion)s: choose a level%(na)s.") % {
            "criterion": c.display_name, "na": _(" or not applicable") if c.allow_na else ""}]
    if errors:
        raise ValidationError(errors)
    before = _weekly_snapshot(ev)
    pct = scoring.weekly_dimension_scores(ev)
    ev.attitude_pct = pct[Dimension.ATTITUDE]
    ev.ability_pct = pct[Dimension.ABILITY]
    ev.efficiency_pct = pct[Dimension.EFFICIENCY]
    ev.evaluator = evaluator
    ev.status = WeeklyEvaluation.Status.SUBMITTED
    ev.submitted_at = timezone.now()
    ev.save()
    audit.record(actor=actor, action="weekly_evaluation.submit", obj=ev, changes=audit.diff(before, _weekly_snapshot(ev)))
    notify(recipients=_user_of(ev.agent),
           title=_("Your weekly evaluation for %(week)s") % {"week": ev.period_label},
           body=_("%(evaluator)s evaluated your week. Read it and acknowledge it, or comment.") % {
               "evaluator": evaluator.name},
           url=weekly_url(ev))
    return ev


def _require_agent(actor, agent: Employee) -> None:
    if not eaccess.is_self(actor, agent):
        raise PermissionDenied(_("Only the evaluated agent herself can do this."))


@transaction.atomic
def weekly_evaluation_acknowledge(*, actor, evaluation: WeeklyEvaluation) -> WeeklyEvaluation:
    """Submitted → acknowledged, by the agent."""
    ev = _weekly_locked(evaluation)
    _require_agent(actor, ev.agent)
    if ev.status == WeeklyEvaluation.Status.ACKNOWLEDGED:
        return ev
    if ev.status != WeeklyEvaluation.Status.SUBMITTED:
        raise _state_error(ev)
    before = audit.snapshot(ev, WEEKLY_FIELDS)
    ev.status = WeeklyEvaluation.Status.ACKNOWLEDGED
    ev.acknowledged_at = timezone.now()
    ev.save()
    audit.record(actor=actor, action="weekly_evaluation.acknowledge", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, WEEKLY_FIELDS)))
    return ev


@transaction.atomic
def weekly_evaluation_comment(*, actor, evaluation: WeeklyEvaluation, comment: str) -> WeeklyEvaluation:
    """Submitted or acknowledged → commented, by the agent, with her comment; the evaluator is told."""
    ev = _weekly_locked(evaluation)
    _require_agent(actor, ev.agent)
    comment = _reason(comment, "comment", _("Write your comment."))
    if ev.status == WeeklyEvaluation.Status.COMMENTED and ev.agent_comment == comment:
        return ev
    if ev.status not in (WeeklyEvaluation.Status.SUBMITTED, WeeklyEvaluation.Status.ACKNOWLEDGED):
        raise _state_error(ev)
    before = audit.snapshot(ev, WEEKLY_FIELDS)
    now = timezone.now()
    ev.status = WeeklyEvaluation.Status.COMMENTED
    ev.agent_comment = comment
    ev.commented_at = now
    ev.acknowledged_at = ev.acknowledged_at or now
    ev.save()
    audit.record(actor=actor, action="weekly_evaluation.comment", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, WEEKLY_FIELDS)), reason=comment)
    notify(recipients=_user_of(ev.evaluator),
           title=_("%(agent)s commented on her weekly evaluation %(week)s") % {
               "agent": ev.agent.name, "week": ev.period_label},
           body=comment, url=weekly_url(ev))
    return ev


@transaction.atomic
def weekly_evaluation_reopen(*, actor, evaluation: WeeklyEvaluation, reason: str) -> WeeklyEvaluation:
    """A submitted evaluation back to draft, by her evaluators, with a reason (G3.1: nothing changes silently).

    Not once the month it counts in has a submitted or final monthly evaluation: that one's
    facts were taken from it.
    """
    ev = _weekly_locked(evaluation)
    _require_weekly_evaluator(actor, ev.agent)
    reason = _reason(reason)
    if ev.status == WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    year, month = scoring.month_of_week(ev.iso_year, ev.iso_week)
    if MonthlyEvaluation.objects.filter(agent=ev.agent, year=year, month=month).exclude(
            status=MonthlyEvaluation.Status.DRAFT).exists():
        raise ValidationError(_("The monthly evaluation of %(month)s that counts this week is already submitted; "
                                "ask HR to reopen it first.") % {"month": f"{year}-{month:02d}"})
    before = audit.snapshot(ev, WEEKLY_FIELDS)
    ev.status = WeeklyEvaluation.Status.DRAFT
    ev.submitted_at = ev.acknowledged_at = ev.commented_at = None
    ev.attitude_pct = ev.ability_pct = ev.efficiency_pct = None
    ev.save()
    audit.record(actor=actor, action="weekly_evaluation.reopen", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, WEEKLY_FIELDS)), reason=reason)
    notify(recipients=_user_of(ev.agent),
           title=_("Your weekly evaluation for %(week)s was reopened") % {"week": ev.period_label},
           body=reason, url=weekly_url(ev))
    return ev


@transaction.atomic
def weekly_attachment_add(*, actor, evaluation: WeeklyEvaluation, upload: UploadedFile) -> Attachment:
    """Attach a file to the draft (at most 10, each ≤ 10 MB, PDF/PNG/JPEG/MP3/WAV, not the same file twice);
    the one core service checks and stores it, the evaluation's audit entry names it."""
    ev = _weekly_locked(evaluation)
    _require_weekly_evaluator(actor, ev.agent)
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    (att,) = core_attachments.attachments_add(
        actor=actor, target=ev, uploads=[upload], kinds=ATTACHMENT_TYPES, max_bytes=ATTACHMENT_MAX_BYTES,
        max_count=ATTACHMENT_MAX_COUNT, field="file", refuse_duplicates=True, record=False)
    audit.record(actor=actor, action="weekly_evaluation.attach", obj=ev,
                 changes={"attachments": [None, {"name": att.original_name, "type": att.mime_type, "size": att.size,
                                                 "sha256": att.sha256}]})
    return att


@transaction.atomic
def weekly_attachment_remove(*, actor, attachment: Attachment) -> None:
    target = attachment.target
    if not isinstance(target, WeeklyEvaluation):
        raise ValidationError(_("This file is not on a weekly evaluation."))
    ev = _weekly_locked(target)
    _require_weekly_evaluator(actor, ev.agent)
    if ev.status != WeeklyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    audit.record(actor=actor, action="weekly_evaluation.detach", obj=ev,
                 changes={"attachments": [{"name": attachment.original_name, "sha256": attachment.sha256}, None]})
    core_attachments.attachment_remove(actor=actor, attachment=attachment, record=False)


# ===========================================================================================
# Monthly flow (G3.1) and appeals
#
#   draft ──submit──▶ submitted ──acknowledge──────────▶ final
#                        │      ──appeal window closes─▶ final
#                        └─appeal─▶ appealed ──uphold / adjust (department head)──▶ final
#   final ──reopen (HR, reason)──▶ draft
# ===========================================================================================

MONTHLY_FIELDS = ["status", "final_via", "supervisor_id", "attitude", "ability", "efficiency", "teamwork",
                  "attitude_reason", "ability_reason", "efficiency_reason", "teamwork_reason", "total", "comment",
                  "submitted_at", "appeal_deadline", "acknowledged_at", "finalised_at", "reopened_at",
                  "reopen_reason", "reopen_count"]
APPEAL_FIELDS = ["status", "decision", "decision_reason", "adjusted", "decided_by_id", "decided_at"]


def monthly_url(ev: MonthlyEvaluation) -> str:
    return reverse("evaluations:monthly_detail", args=[ev.pk])


def _monthly_locked(ev: MonthlyEvaluation) -> MonthlyEvaluation:
    return (MonthlyEvaluation.objects.select_for_update(of=("self",))
            .select_related("agent__org_unit", "agent__user", "supervisor__user").get(pk=ev.pk))


def appeal_deadline_for(submitted_at: datetime.datetime) -> datetime.datetime:
    """Close of business of the [appeal window]-th working day after the local date of submission (G3.1).

    The submission day itself is not counted, as the Civil Code counts periods; the window
    in force on that day applies.
    """
    day = timezone.localdate(submitted_at)
    days = int(policy.get("evaluation.appeal_working_days", on=day))
    return calendar.close_of_business(day, days)


@transaction.atomic
def monthly_submit(*, actor, evaluation: MonthlyEvaluation, now: datetime.datetime | None = None) -> MonthlyEvaluation:
    """Draft → submitted, by her CS supervisor: the agent is told and the appeal window opens (E2.2, G3.1)."""
    ev = _monthly_locked(evaluation)
    if eaccess.is_self(actor, ev.agent):
        raise PermissionDenied(_("Nobody evaluates herself."))
    if not eaccess.covers(actor, eaccess.MONTHLY_EVALUATORS, ev.agent):
        raise PermissionDenied(_("Only the agent's CS supervisor submits her monthly evaluation."))
    supervisor = _actor_employee(actor)
    if ev.status == MonthlyEvaluation.Status.SUBMITTED and ev.supervisor_id == supervisor.pk:
        return ev
    if ev.status != MonthlyEvaluation.Status.DRAFT:
        raise _state_error(ev)
    if monthly.last_day(ev.year, ev.month) >= timezone.localdate(now or timezone.now()):
        raise ValidationError(_("The month %(month)s has not ended yet.") % {"month": ev.period_label})
    errors = monthly.point_errors(ev, require_all=True)
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(ev, MONTHLY_FIELDS)
    ev.total = monthly.total_of(ev)
    now = now or timezone.now()
    ev.status = MonthlyEvaluation.Status.SUBMITTED
    ev.supervisor = supervisor
    ev.submitted_at = now
    ev.appeal_deadline = appeal_deadline_for(now)
    ev.full_clean(validate_constraints=False)
    ev.save()
    audit.record(actor=actor, action="monthly_evaluation.submit", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, MONTHLY_FIELDS)))
    notify(recipients=_user_of(ev.agent),
           title=_("Your monthly evaluation for %(month)s: %(total)s points") % {
               "month": ev.period_label, "total": ev.total},
           body=_("Acknowledge it, or appeal with a reason by %(deadline)s.") % {
               "deadline": timezone.localtime(ev.appeal_deadline).strftime("%Y-%m-%d %H:%M")},
           url=monthly_url(ev))
    return ev


def _finalise(ev: MonthlyEvaluation, via: str, now: datetime.datetime) -> None:
    ev.status = MonthlyEvaluation.Status.FINAL
    ev.final_via = via
    ev.finalised_at = now


@transaction.atomic
def monthly_acknowledge(*, actor, evaluation: MonthlyEvaluation,
                        now: datetime.datetime | None = None) -> MonthlyEvaluation:
    """Submitted → final, by the agent accepting it (G3.1)."""
    ev = _monthly_locked(evaluation)
    _require_agent(actor, ev.agent)
    if ev.status == MonthlyEvaluation.Status.FINAL and ev.final_via == MonthlyEvaluation.FinalVia.ACKNOWLEDGED:
        return ev
    if ev.status != MonthlyEvaluation.Status.SUBMITTED:
        raise _state_error(ev)
    now = now or timezone.now()
    before = audit.snapshot(ev, MONTHLY_FIELDS)
    ev.acknowledged_at = now
    _finalise(ev, MonthlyEvaluation.FinalVia.ACKNOWLEDGED, now)
    ev.save()
    audit.record(actor=actor, action="monthly_evaluation.acknowledge", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, MONTHLY_FIELDS)))
    return ev


@transaction.atomic
def monthly_appeal(*, actor, evaluation: MonthlyEvaluation, reason: str,
                   now: datetime.datetime | None = None) -> Appeal:
    """Submitted → appealed, by the agent, with a reason, within the appeal window (G3.1)."""
    ev = _monthly_locked(evaluation)
    _require_agent(actor, ev.agent)
    reason = _reason(reason, "reason", _("Say why you appeal."))
    if ev.status == MonthlyEvaluation.Status.APPEALED:
        open_appeal = ev.appeals.filter(status=Appeal.Status.OPEN).first()
        if open_appeal is not None and open_appeal.reason == reason:
            return open_appeal  # a double click
    if ev.status != MonthlyEvaluation.Status.SUBMITTED:
        raise _state_error(ev)
    now = now or timezone.now()
    assert ev.appeal_deadline is not None
    if now > ev.appeal_deadline:
        raise ValidationError(_("The appeal window closed at %(deadline)s.") % {
            "deadline": timezone.localtime(ev.appeal_deadline).strftime("%Y-%m-%d %H:%M")})
    before = audit.snapshot(ev, MONTHLY_FIELDS)
    ev.status = MonthlyEvaluation.Status.APPEALED
    ev.save()
    appeal = Appeal(evaluation=ev, filed_by=ev.agent, reason=reason, filed_at=now, deadline=ev.appeal_deadline)
    appeal.full_clean(validate_constraints=False)
    appeal.save()
    audit.record(actor=actor, action="monthly_evaluation.appeal", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, MONTHLY_FIELDS)) | {"appeal_id": [None, appeal.pk]},
                 reason=reason)
    heads = users_over(ev.agent, eaccess.APPEAL_DECIDERS)
    notify(recipients=heads,
           title=_("%(agent)s appeals her monthly evaluation %(month)s") % {
               "agent": ev.agent.name, "month": ev.period_label},
           body=reason, url=reverse("evaluations:appeal_decide", args=[appeal.pk]))
    notify(recipients=_user_of(ev.supervisor),
           title=_("%(agent)s appeals her monthly evaluation %(month)s") % {
               "agent": ev.agent.name, "month": ev.period_label},
           body=reason, url=monthly_url(ev))
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal: Appeal, decision: str, reason: str,
                  adjusted: Mapping[str, Any] | None = None, now: datetime.datetime | None = None) -> Appeal:
    """Appealed → final: her department head upholds the evaluation or adjusts dimensions, with a reason (G3.1).

    ``adjusted`` maps dimensions to their new points (adjust only). The head who submitted the
    evaluation herself, as its supervisor, cannot decide the appeal against it.
    """
    current = Appeal.objects.select_for_update().get(pk=appeal.pk)
    ev = _monthly_locked(current.evaluation)
    agent = ev.agent
    if eaccess.is_self(actor, agent):
        raise PermissionDenied(_("Nobody decides her own appeal."))
    if not eaccess.covers(actor, eaccess.APPEAL_DECIDERS, agent):
        raise PermissionDenied(_("Only the agent's department head decides her appeal."))
    head = _actor_employee(actor)
    if ev.supervisor_id == head.pk:
        raise PermissionDenied(_("You submitted this evaluation; another department head decides the appeal."))
    reason = _reason(reason, "reason", _("Say why you decide so."))
    if current.status == Appeal.Status.DECIDED and current.decided_by_id == head.pk and current.decision == decision:
        return current
    if current.status != Appeal.Status.OPEN or ev.status != MonthlyEvaluation.Status.APPEALED:
        raise _state_error(current)
    if decision not in Appeal.Decision.values:
        raise ValidationError({"decision": _("Uphold or adjust.")})
    changes_to: dict[str, Decimal] = {}
    if decision == Appeal.Decision.ADJUST:
        errors: dict[str, list[str]] = {}
        trial = MonthlyEvaluation(year=ev.year, month=ev.month)  # only the adjusted points, checked alone
        for dim, value in (adjusted or {}).items():
            if dim not in MONTHLY_DIMENSIONS:
                errors.setdefault("adjusted", []).append(_("Unknown dimension %(dim)s.") % {"dim": dim})
                continue
            if value is None or str(value).strip() == "":
                continue
            try:
                points = Decimal(str(value).strip())
                if not points.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors[dim] = [_("%(dimension)s: enter a number of points.") % {"dimension": Dimension(dim).label}]
                continue
            setattr(trial, dim, points)
            if points != ev.points(dim):
                changes_to[dim] = points.quantize(Decimal("0.01"))
        # The decision's reason is the reason for every adjusted dimension: no per-dimension reason asked.
        errors.update({k: v for k, v in monthly.point_errors(trial).items() if not k.endswith("_reason")})
        if not errors and not changes_to:
            errors["adjusted"] = [_("An adjustment changes the points of at least one dimension.")]
        if errors:
            raise ValidationError(errors)
    elif adjusted and any(str(v).strip() for v in adjusted.values() if v is not None):
        raise ValidationError({"adjusted": _("Upholding keeps the points; choose adjust to change them.")})
    now = now or timezone.now()
    before_ev = audit.snapshot(ev, MONTHLY_FIELDS)
    before_appeal = audit.snapshot(current, APPEAL_FIELDS)
    for dim, value in changes_to.items():
        setattr(ev, dim, value)
    ev.total = sum((Decimal(ev.points(d) or 0) for d in MONTHLY_DIMENSIONS), Decimal(0)).quantize(Decimal("0.01"))
    _finalise(ev, MonthlyEvaluation.FinalVia.APPEAL_ADJUSTED if changes_to else MonthlyEvaluation.FinalVia.APPEAL_UPHELD,
              now)
    ev.save()
    current.status = Appeal.Status.DECIDED
    current.decision = decision
    current.decision_reason = reason
    current.adjusted = {d: str(v) for d, v in changes_to.items()}
    current.decided_by = head
    current.decided_at = now
    current.full_clean(validate_constraints=False)
    current.save()
    audit.record(actor=actor, action="appeal.decide", obj=current,
                 changes=audit.diff(before_appeal, audit.snapshot(current, APPEAL_FIELDS)), reason=reason)
    audit.record(actor=actor, action="monthly_evaluation.appeal_decided", obj=ev,
                 changes=audit.diff(before_ev, audit.snapshot(ev, MONTHLY_FIELDS)), reason=reason)
    title = (_("Your appeal on %(month)s: adjusted, now %(total)s points") if changes_to
             else _("Your appeal on %(month)s: upheld, %(total)s points")) % {
        "month": ev.period_label, "total": ev.total}
    notify(recipients=_user_of(agent) + _user_of(ev.supervisor), title=title, body=reason, url=monthly_url(ev))
    return current


@transaction.atomic
def monthly_reopen(*, actor, evaluation: MonthlyEvaluation, reason: str) -> MonthlyEvaluation:
    """Final → draft, by HR, with a reason (G3.1: a correction is a recorded reopen, never a silent edit)."""
    ev = _monthly_locked(evaluation)
    if eaccess.is_self(actor, ev.agent):
        raise PermissionDenied(_("Nobody reopens her own evaluation."))
    if not eaccess.covers(actor, eaccess.REOPENERS, ev.agent):
        raise PermissionDenied(_("Only HR reopens a final evaluation."))
    reason = _reason(reason, "reason", _("Say why the evaluation is reopened."))
    if ev.status != MonthlyEvaluation.Status.FINAL:
        raise _state_error(ev)
    before = audit.snapshot(ev, MONTHLY_FIELDS)
    ev.status = MonthlyEvaluation.Status.DRAFT
    ev.final_via = ""
    ev.submitted_at = ev.appeal_deadline = ev.acknowledged_at = ev.finalised_at = None
    ev.reopened_at = timezone.now()
    ev.reopen_reason = reason
    ev.reopen_count += 1
    ev.save()
    audit.record(actor=actor, action="monthly_evaluation.reopen", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, MONTHLY_FIELDS)), reason=reason)
    notify(recipients=_user_of(ev.supervisor) + _user_of(ev.agent),
           title=_("Monthly evaluation %(month)s of %(agent)s reopened by HR") % {
               "month": ev.period_label, "agent": ev.agent.name},
           body=reason, url=monthly_url(ev))
    return ev


def monthly_close_appeal_windows(*, now: datetime.datetime | None = None) -> int:
    """Submitted evaluations whose appeal window has closed become final (the scheduled job); returns how many."""
    now = now or timezone.now()
    ids = list(MonthlyEvaluation.objects.filter(status=MonthlyEvaluation.Status.SUBMITTED, appeal_deadline__lt=now)
               .order_by("pk").values_list("pk", flat=True))
    done = 0
    for pk in ids:
        with transaction.atomic():
            ev = MonthlyEvaluation.objects.select_for_update().get(pk=pk)
            if ev.status != MonthlyEvaluation.Status.SUBMITTED or ev.appeal_deadline is None or ev.appeal_deadline >= now:
                continue
            before = audit.snapshot(ev, MONTHLY_FIELDS)
            _finalise(ev, MonthlyEvaluation.FinalVia.WINDOW_CLOSED, now)
            ev.save()
            audit.record(actor=None, action="monthly_evaluation.window_closed", obj=ev,
                         changes=audit.diff(before, audit.snapshot(ev, MONTHLY_FIELDS)),
                         reason="appeal window closed without an appeal")
            done += 1
    return done


# ===========================================================================================
# Monthly drafts, suggestions and calibration (4b) — below this line
# ===========================================================================================

# The imports of this half stay here, so that the two halves can be edited apart.
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402

from kefu.core import access as core_access  # noqa: E402
from kefu.evaluations import calibration  # noqa: E402
from kefu.evaluations.models import CalibrationItem, CalibrationScore, CalibrationSession  # noqa: E402
from kefu.service.models import Interaction  # noqa: E402

DRAFT_CHUNK = 500  # agents whose facts are gathered in one round of queries


@dataclass
class DraftRun:
    """What one ``monthly_drafts_create`` run did."""

    year: int
    month: int
    agents: int = 0
    created: int = 0
    existing: int = 0
    without_supervisor: int = 0


def _month_checked(year: int, month: int, *, today: datetime.date) -> None:
    if not (1 <= int(month) <= 12) or not (2000 <= int(year) <= 2999):
        raise ValidationError({"period": _("Choose a month as YYYY-MM.")})
    if monthly.last_day(year, month) >= today:
        raise ValidationError({"period": _(
            "%(period)s has not ended yet: monthly drafts are made after the month ends (E2.2)."
        ) % {"period": f"{year}-{month:02d}"}})


@transaction.atomic
def monthly_drafts_create(*, actor, year: int, month: int, within: Q | None = None,
                          now: datetime.datetime | None = None) -> DraftRun:
    """A draft monthly evaluation for every CS agent of the month who has none yet (E2.2).

    Idempotent: an agent who already has one (in any state) is left alone, so the scheduled
    run on the 1st, a re-run and the board's button create each draft once. ``within`` limits
    the agents (the board passes the supervisor's scope). Each draft names the agent's CS
    supervisor (the nearest unit above hers with one), carries the facts and suggestions of
    ``monthly.month_facts``, and starts with the suggested points filled in. The supervisors
    are told how many drafts wait for them.
    """
    now = now or timezone.now()
    _month_checked(year, month, today=timezone.localdate(now))
    run = DraftRun(year=year, month=month)
    agents = monthly.month_agents(year, month).select_related("org_unit")
    if within is not None:
        agents = agents.filter(within)
    agents_list = list(agents.order_by("employee_no"))
    run.agents = len(agents_list)
    have = set(
        MonthlyEvaluation.objects.filter(year=year, month=month, agent_id__in=[a.pk for a in agents_list])
        .values_list("agent_id", flat=True)
    ) if agents_list else set()
    todo = [a for a in agents_list if a.pk not in have]
    run.existing = len(have)
    if not todo:
        return run
    rules = monthly.rules_for(year, month)
    supervisors = monthly.supervisors_by_path(rules.on)
    scorecard = scorecard_in_use()
    token = uuid.uuid4().hex
    for start in range(0, len(todo), DRAFT_CHUNK):
        chunk = todo[start: start + DRAFT_CHUNK]
        facts = monthly.month_facts(chunk, year, month, rules=rules, now=now)
        rows = []
        for agent in chunk:
            f = facts[agent.pk] | {"draft_run": token}
            suggested = monthly.suggested_points(f)
            ev = MonthlyEvaluation(
                agent=agent, year=year, month=month, status=MonthlyEvaluation.Status.DRAFT,
                supervisor_id=monthly.supervisor_for(agent.org_unit.path, agent.pk, supervisors),
                scorecard=scorecard, facts=f,
            )
            for dim in MONTHLY_DIMENSIONS:
                setattr(ev, f"{dim}_suggested", suggested[dim])
                setattr(ev, dim, suggested[dim])  # pre-filled: the supervisor changes what she disagrees with
            ev.full_clean(validate_unique=False, validate_constraints=False)
            rows.append(ev)
        # A run racing this one (the 1st's job and a click on the board) inserts its own rows
        # first; ours for the same agents are then skipped, and only rows of this run are counted.
        MonthlyEvaluation.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        MonthlyEvaluation.objects.filter(year=year, month=month, agent_id__in=[a.pk for a in todo],
                                         facts__draft_run=token)
        .select_related("agent")
    )
    run.created = len(created)
    run.existing = run.agents - run.created
    per_supervisor: dict[int | None, int] = defaultdict(int)
    for ev in created:
        per_supervisor[ev.supervisor_id] += 1
        audit.record(
            actor=actor, action="monthly.draft_create", obj=ev,
            changes={"status": [None, ev.status], "supervisor": [None, ev.supervisor_id]}
            | {f"{d}_suggested": [None, _plain_decimal(ev.suggested(d))] for d in MONTHLY_DIMENSIONS},
            reason=_("Monthly drafts for %(period)s") % {"period": f"{year}-{month:02d}"},
        )
    run.without_supervisor = per_supervisor.get(None, 0)
    users = {
        e.pk: e.user for e in Employee.objects.filter(pk__in=[k for k in per_supervisor if k]).select_related("user")
    }
    period = f"{year}-{month:02d}"
    board = reverse("evaluations:monthly_board") + f"?period={period}"
    for supervisor_id, count in per_supervisor.items():
        user = users.get(supervisor_id) if supervisor_id else None
        if user is None:
            continue
        notify(
            recipients=[user],
            title=_("%(n)s monthly evaluation draft(s) for %(period)s are waiting for you")
            % {"n": count, "period": period},
            body=_("Check the suggested points against the facts, enter teamwork, and submit (E2.2)."),
            url=board,
        )
    return run


def _plain_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


MONTHLY_EDIT_FIELDS = [
    *MONTHLY_DIMENSIONS, *(f"{d}_reason" for d in MONTHLY_DIMENSIONS), "total", "comment",
]


@transaction.atomic
def monthly_draft_update(*, actor, evaluation: MonthlyEvaluation, points: Mapping[str, Decimal | None],
                         reasons: Mapping[str, str] | None = None, comment: str | None = None,
                         require_all: bool = False) -> MonthlyEvaluation:
    """The supervisor's points (E2.2) on a draft: each within 0..max, on the point step, with a
    reason where it moves from the suggestion by more than the threshold. Only a draft changes."""
    ev = MonthlyEvaluation.objects.select_for_update().select_related("agent__org_unit").get(pk=evaluation.pk)
    if ev.status != MonthlyEvaluation.Status.DRAFT:
        raise ValidationError(_(
            "This monthly evaluation is %(status)s: only a draft can be edited. Submitted results "
            "change only through an appeal or an HR reopen (G3.1)."
        ) % {"status": ev.get_status_display()})
    if actor is not None and not core_access.can_change(actor, ev):
        raise PermissionDenied
    before = audit.snapshot(ev, MONTHLY_EDIT_FIELDS)
    for dim in MONTHLY_DIMENSIONS:
        if dim in points:
            value = points[dim]
            setattr(ev, dim, None if value is None else Decimal(value).quantize(Decimal("0.01")))
        if reasons is not None and dim in reasons:
            setattr(ev, f"{dim}_reason", (reasons[dim] or "").strip())
    if comment is not None:
        ev.comment = comment.strip()
    errors = monthly.point_errors(ev, require_all=require_all)
    if errors:
        raise ValidationError(errors)
    ev.total = monthly.total_of(ev)
    ev.full_clean()
    ev.save()
    changes = audit.diff(before, audit.snapshot(ev, MONTHLY_EDIT_FIELDS))
    if changes:
        audit.record(actor=actor, action="monthly.update", obj=ev, changes=changes)
    return ev


@transaction.atomic
def monthly_facts_refresh(*, actor, evaluation: MonthlyEvaluation,
                          now: datetime.datetime | None = None) -> MonthlyEvaluation:
    """Gather a draft's facts and suggestions again (weekly evaluations submitted late, KPIs re-imported).

    Points the supervisor had left at the old suggestion follow the new one; points she set stay.
    """
    ev = MonthlyEvaluation.objects.select_for_update().select_related("agent__org_unit").get(pk=evaluation.pk)
    if ev.status != MonthlyEvaluation.Status.DRAFT:
        raise ValidationError(_("Only a draft's facts can be gathered again."))
    if actor is not None and not core_access.can_change(actor, ev):
        raise PermissionDenied
    fields = [f"{d}_suggested" for d in MONTHLY_DIMENSIONS] + list(MONTHLY_DIMENSIONS) + ["total"]
    before = audit.snapshot(ev, fields)
    facts = monthly.month_facts([ev.agent], ev.year, ev.month, now=now)[ev.agent_id]
    facts["draft_run"] = (ev.facts or {}).get("draft_run", "")
    suggested = monthly.suggested_points(facts)
    for dim in MONTHLY_DIMENSIONS:
        if ev.points(dim) == ev.suggested(dim):
            setattr(ev, dim, suggested[dim])
        setattr(ev, f"{dim}_suggested", suggested[dim])
    ev.facts = facts
    ev.total = monthly.total_of(ev)
    ev.full_clean()
    ev.save()
    audit.record(actor=actor, action="monthly.facts_refresh", obj=ev,
                 changes=audit.diff(before, audit.snapshot(ev, fields)))
    return ev


# ---- calibration ---------------------------------------------------------------------------------

CALIBRATION_MIN_EVALUATORS = 2
CALIBRATION_MAX_INTERACTIONS = 50


def calibration_criteria(scorecard: Scorecard) -> list[Criterion]:
    """The criteria scored in a calibration: the weekly ones (teamwork is not seen in one interaction)."""
    return list(scorecard.criteria.filter(dimension__in=WEEKLY_DIMENSIONS).order_by("order", "id"))


@transaction.atomic
def calibration_create(*, actor, title: str, scorecard: Scorecard, interactions: Iterable[Interaction],
                       evaluators: Iterable[Employee], notes: str = "") -> CalibrationSession:
    """A calibration session: the same interactions, scored blind by each of the evaluators."""
    if not eaccess.creates_calibration(actor):
        raise PermissionDenied
    interactions = list(dict.fromkeys(interactions))
    evaluators = list(dict.fromkeys(evaluators))
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("Give the session a title.")]
    if not interactions:
        errors["interactions"] = [_("Choose at least one interaction to score.")]
    elif len(interactions) > CALIBRATION_MAX_INTERACTIONS:
        errors["interactions"] = [_("At most %(n)s interactions per session.") % {"n": CALIBRATION_MAX_INTERACTIONS}]
    if len(evaluators) < CALIBRATION_MIN_EVALUATORS:
        errors["evaluators"] = [_("Choose at least two evaluators: agreement needs two or more.")]
    allowed_interactions = set(
        eaccess.calibration_interactions(actor).filter(pk__in=[i.pk for i in interactions])
        .values_list("pk", flat=True)
    )
    outside = [str(i) for i in interactions if i.pk not in allowed_interactions]
    if outside:
        errors.setdefault("interactions", []).append(
            _("Not in your scope: %(refs)s.") % {"refs": ", ".join(outside[:10])})
    allowed_evaluators = set(
        eaccess.evaluator_candidates(actor).filter(pk__in=[e.pk for e in evaluators])
        .values_list("pk", flat=True)
    )
    strangers = [e.name for e in evaluators if e.pk not in allowed_evaluators]
    if strangers:
        errors.setdefault("evaluators", []).append(
            _("Not an evaluator in your scope: %(names)s.") % {"names": ", ".join(strangers)})
    if not calibration_criteria(scorecard):
        errors["scorecard"] = [_("This scorecard has no attitude, ability or efficiency criteria to score.")]
    if errors:
        raise ValidationError(errors)
    session = CalibrationSession(title=title.strip(), scorecard=scorecard, notes=(notes or "").strip(),
                                 created_by=actor)
    session.full_clean()
    session.save()
    CalibrationItem.objects.bulk_create(
        [CalibrationItem(session=session, interaction=i, order=n) for n, i in enumerate(interactions, start=1)]
    )
    session.evaluators.set(evaluators)
    audit.record(
        actor=actor, action="calibration.create", obj=session,
        changes={"title": [None, session.title], "scorecard": [None, scorecard.pk],
                 "interactions": [None, [i.pk for i in interactions]], "evaluators": [None, [e.pk for e in evaluators]]},
    )
    url = reverse("evaluations:calibration_score", args=[session.pk])
    notify(
        recipients=[e.user for e in Employee.objects.filter(pk__in=[e.pk for e in evaluators]).select_related("user")],
        title=_("Calibration: score %(n)s interaction(s) for “%(title)s”") % {"n": len(interactions),
                                                                             "title": session.title},
        body=_("Score them on your own: nobody sees the others' scores until the session closes."),
        url=url,
    )
    return session


@transaction.atomic
def calibration_scores_save(*, actor, session: CalibrationSession, interaction: Interaction,
                            levels: Mapping[int, int | None]) -> int:
    """One evaluator's levels for one interaction (criterion id → level, None = not applicable).

    Blind: the audit entry records that she scored, not the levels, while the session is open
    (the levels are in the result when it closes). Returns the number of criteria saved.
    """
    session = CalibrationSession.objects.select_for_update().get(pk=session.pk)
    if session.status != CalibrationSession.Status.OPEN:
        raise ValidationError(_("This calibration session is closed: its scores are final."))
    evaluator = employee_of(actor)
    if evaluator is None or not session.evaluators.filter(pk=evaluator.pk).exists():
        raise PermissionDenied
    if not session.items.filter(interaction=interaction).exists():
        raise ValidationError({"interaction": _("This interaction is not part of the session.")})
    criteria = {c.pk: c for c in calibration_criteria(session.scorecard)}
    errors: dict[str, list[str]] = {}
    clean: dict[int, int | None] = {}
    for cid, level in levels.items():
        criterion = criteria.get(int(cid))
        if criterion is None:
            errors[f"c{cid}"] = [_("Not a criterion of this session's scorecard.")]
            continue
        if level is None:
            clean[criterion.pk] = None
            continue
        if not criterion.scale_min <= int(level) <= criterion.scale_max:
            errors[f"c{criterion.pk}"] = [_("%(criterion)s: choose a level from %(min)s to %(max)s.") % {
                "criterion": criterion.name, "min": criterion.scale_min, "max": criterion.scale_max}]
            continue
        clean[criterion.pk] = int(level)
    if errors:
        raise ValidationError(errors)
    existing = {
        s.criterion_id: s for s in CalibrationScore.objects.filter(
            session=session, evaluator=evaluator, interaction=interaction, criterion_id__in=list(clean))
    }
    for cid, level in clean.items():
        row = existing.get(cid)
        if row is None:
            row = CalibrationScore(session=session, evaluator=evaluator, interaction=interaction, criterion_id=cid)
        row.level = level
        row.full_clean(validate_unique=False, validate_constraints=False)
        row.save()
    audit.record(
        actor=actor, action="calibration.score", obj=session,
        changes={"interaction": [None, interaction.pk], "evaluator": [None, evaluator.pk],
                 "criteria_scored": [None, sum(1 for v in clean.values() if v is not None)],
                 "not_applicable": [None, sum(1 for v in clean.values() if v is None)]},
    )
    return len(clean)


def calibration_result_input(session: CalibrationSession) -> calibration.ResultInput:
    evaluators = list(session.evaluators.order_by("name", "employee_no").values_list("pk", "name"))
    criteria = [(c.pk, c.name, c.dimension) for c in calibration_criteria(session.scorecard)]
    interactions = [
        (i.interaction_id, f"{i.interaction.source}:{i.interaction.external_id}")
        for i in session.items.select_related("interaction").order_by("order", "id")
    ]
    scores = [
        calibration.ScoreRow(e, i, c, lv)
        for e, i, c, lv in session.scores.values_list("evaluator_id", "interaction_id", "criterion_id", "level")
    ]
    return calibration.ResultInput(evaluators=evaluators, criteria=criteria, interactions=interactions, scores=scores)


@transaction.atomic
def calibration_close(*, actor, session: CalibrationSession, now: datetime.datetime | None = None) -> CalibrationSession:
    """Close the session, compute the agreement and hand the result to the supervision group (S1)."""
    session = CalibrationSession.objects.select_for_update().get(pk=session.pk)
    if session.status != CalibrationSession.Status.OPEN:
        raise ValidationError(_("This calibration session is already closed."))
    if actor is not None and not core_access.can_change(actor, session):
        raise PermissionDenied
    now = now or timezone.now()
    result = calibration.compute_result(calibration_result_input(session))
    result["computed_at"] = now.isoformat()
    before = audit.snapshot(session, ["status", "closed_at"])
    session.status = CalibrationSession.Status.CLOSED
    session.closed_at = now
    session.result = result
    session.full_clean()
    session.save()
    audit.record(
        actor=actor, action="calibration.close", obj=session,
        changes=audit.diff(before, audit.snapshot(session, ["status", "closed_at"]))
        | {"alpha": [None, result["alpha"]], "reading": [None, result["reading"]],
           "leniency": [None, {str(e["id"]): e["leniency"] for e in result["evaluators"]}]},
    )
    alpha = "—" if result["alpha"] is None else f"{result['alpha']:.3f}"
    url = reverse("evaluations:calibration_results", args=[session.pk])
    title = _("Calibration “%(title)s” closed: α = %(alpha)s") % {"title": session.title, "alpha": alpha}
    body = calibration.reading_text(result)
    inspectors = eaccess.inspector_users()
    evaluator_users = [e.user for e in session.evaluators.select_related("user") if e.user_id]
    recipients = {u.pk: u for u in [*inspectors, *evaluator_users, session.created_by] if u is not None}
    notify(recipients=list(recipients.values()), title=title, body=body, url=url)
    return session
