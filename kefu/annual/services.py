"""Writes of the annual evaluation (policy E2.3): the cycle's state machine and its results.

    cycle = cycle_open(actor=hr, year=2026)                 # open: population and composites
    achievements_set(actor=supervisor, result=r, score=Decimal(80), evidence="…")
    cycle_calibrate(actor=hr, cycle=cycle)                  # open → calibrating (proposal made)
    grade_change(actor=hr, result=r, grade="good", reason="…")
    cycle_submit(actor=hr, cycle=cycle)                     # calibrating → submitted (quotas checked)
    cycle_approve(actor=leadership, cycle=cycle)            # submitted → approved
    cycle_publish(actor=hr, cycle=cycle)                    # approved → published (each person told)
"""

from __future__ import annotations

import datetime
import functools
import operator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual import distribution
from kefu.annual.access import ACHIEVEMENT_EDITORS, HR, LEADERSHIP
from kefu.annual.models import AnnualCycle, AnnualResult, Grade
from kefu.core import audit, policy
from kefu.core.services import notify
from kefu.people.access import has_role, scope_q
from kefu.people.models import Employee, Role, RoleAssignment

S = AnnualCycle.Status
CENT = Decimal("0.01")
TIE_FLAGS = {distribution.TIE_AT_CAP, distribution.TIE_AT_FLOOR}
NO_RATINGS = "no_ratings"  # no survey answers in the year: satisfaction left out, the other weights rescaled


def _q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _require(actor, roles) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied


def _require_status(cycle: AnnualCycle, *allowed: str) -> None:
    if cycle.status not in allowed:
        raise ValidationError(_("The %(year)s cycle is %(status)s; this step needs it %(allowed)s.") % {
            "year": cycle.year, "status": cycle.get_status_display(),
            "allowed": " / ".join(str(S(a).label) for a in allowed)})


def parameters_for(year: int) -> dict[str, Any]:
    """The E2.3 parameters in force on 31 December of ``year``, as JSON."""
    on = datetime.date(year, 12, 31)
    keys = ("weights", "excellent_max_pct", "fail_min_pct", "min_final_months", "thresholds", "quota_rounding",
            "min_population", "pay_change_pct", "award_quota")
    return {k: policy.definition(f"annual.{k}").to_json(policy.get(f"annual.{k}", on=on)) for k in keys}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def satisfaction_score(rating_mean: Decimal) -> Decimal:
    """(mean − 1) ÷ 4 × 100 (issue 5 item 2): a mean rating of 1–5 mapped to 0–100."""
    return _q2((rating_mean - 1) / 4 * 100)


def composite(params: dict[str, Any], monthly: Decimal, satisfaction: Decimal | None,
              achievements: Decimal) -> Decimal:
    """Weights × (monthly mean, satisfaction, achievements), E2.3; without ratings the weights are rescaled."""
    w = {k: _dec(v) for k, v in params["weights"].items()}
    parts = {"monthly": monthly, "achievements": achievements}
    if satisfaction is not None:
        parts["satisfaction"] = satisfaction
    weight = sum((w[k] for k in parts), Decimal(0))
    if weight == 0:
        return Decimal(0).quantize(CENT)
    return _q2(sum((w[k] * v for k, v in parts.items()), Decimal(0)) / weight)


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.datetime(year, 1, 1, tzinfo=tz), datetime.datetime(year + 1, 1, 1, tzinfo=tz))


def _population(year: int):
    """CS staff of the year: in a CS unit and an agent at some time in it, or evaluated monthly in it."""
    from kefu.evaluations.models import MonthlyEvaluation

    agent_in_year = RoleAssignment.objects.filter(
        user_id=OuterRef("user_id"), role=Role.AGENT, start_date__lte=datetime.date(year, 12, 31),
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=datetime.date(year, 1, 1)))
    evaluated = MonthlyEvaluation.objects.filter(agent_id=OuterRef("pk"), year=year)
    return Employee.objects.filter(org_unit__is_customer_service=True).filter(
        Exists(agent_in_year) | Exists(evaluated)).order_by("employee_no")


@transaction.atomic
def cycle_open(*, actor, year: int) -> AnnualCycle:
    """HR opens the year: everyone with ≥ min final monthly evaluations is rated, the others listed (E2.3)."""
    from kefu.evaluations.models import MonthlyEvaluation
    from kefu.service.models import SurveyAnswer

    _require(actor, HR)
    if AnnualCycle.objects.filter(year=year).exists():
        raise ValidationError({"year": _("The %(year)s cycle is already open.") % {"year": year}})
    cycle = AnnualCycle(year=year, opened_by=actor, parameters=parameters_for(year))
    cycle.full_clean()
    cycle.save()
    params = cycle.parameters
    need = int(params["min_final_months"])
    people = list(_population(year))
    ids = [p.pk for p in people]
    # Aggregates in SQL: one grouped query for the months, one for the ratings.
    months = {r["agent_id"]: r for r in MonthlyEvaluation.objects.filter(
        agent_id__in=ids, year=year, status=MonthlyEvaluation.Status.FINAL,
    ).values("agent_id").annotate(n=Count("pk"), total=Sum("total"))}
    start, end = _year_bounds(year)
    ratings = {r["agent_id"]: r for r in SurveyAnswer.objects.filter(
        agent_id__in=ids, answered_at__gte=start, answered_at__lt=end,
    ).values("agent_id").annotate(n=Count("pk"), total=Sum("rating"))}
    rows = []
    for person in people:
        m = months.get(person.pk, {"n": 0, "total": None})
        r = ratings.get(person.pk, {"n": 0, "total": None})
        result = AnnualResult(cycle=cycle, employee=person, final_months=m["n"], rating_count=r["n"])
        if r["n"]:
            result.rating_mean = _q2(Decimal(r["total"]) / r["n"])
            result.satisfaction_score = satisfaction_score(Decimal(r["total"]) / r["n"])
        if m["n"] >= need:
            result.rated = True
            result.monthly_mean = _q2(_dec(m["total"]) / m["n"])
            result.composite = composite(params, result.monthly_mean, result.satisfaction_score, Decimal(0))
        else:
            result.not_rated_reason = _("%(n)s final monthly evaluations in %(year)s; %(need)s needed.") % {
                "n": m["n"], "year": year, "need": need}
        rows.append(result)
    AnnualResult.objects.bulk_create(rows)
    _refresh(cycle)
    audit.record(actor=actor, action="annual_cycle.open", obj=cycle,
                 changes={"year": [None, year], "rated": [None, sum(r.rated for r in rows)],
                          "not_rated": [None, sum(not r.rated for r in rows)]})
    return cycle


def _refresh(cycle: AnnualCycle) -> distribution.GradeProposal:
    """Run propose_grades over the rated composites and store proposal and flags (final = proposal unless changed)."""
    p = cycle.parameters
    results = list(cycle.results.filter(rated=True))
    proposal = distribution.propose_grades(
        {r.pk: r.composite or Decimal(0) for r in results},
        excellent_max_pct=_dec(p["excellent_max_pct"]), fail_min_pct=_dec(p["fail_min_pct"]),
        thresholds={k: _dec(v) for k, v in p["thresholds"].items()}, rounding=p["quota_rounding"],
        min_population=int(p["min_population"]))
    for r in results:
        got = proposal[r.pk]
        r.proposed_grade = got.grade
        r.flags = sorted(got.flags | ({NO_RATINGS} if r.rating_count == 0 else set()))
        if not r.change_reason:
            r.final_grade = got.grade
    AnnualResult.objects.bulk_update(results, ["proposed_grade", "flags", "final_grade"])
    return proposal


@transaction.atomic
def proposal_refresh(*, actor, cycle: AnnualCycle) -> distribution.GradeProposal:
    _require(actor, HR)
    _require_status(cycle, S.OPEN, S.CALIBRATING)
    proposal = _refresh(cycle)
    audit.record(actor=actor, action="annual_cycle.refresh", obj=cycle)
    return proposal


@transaction.atomic
def achievements_set(*, actor, result: AnnualResult, score: Decimal | None, evidence: str) -> AnnualResult:
    """The supervisor's achievements score 0–100 with its evidence (E2.3), while the cycle is open.
    ``score`` None: what was sent is not a number."""
    result = AnnualResult.objects.select_for_update().select_related("cycle", "employee").get(pk=result.pk)
    in_scope = AnnualResult.objects.filter(scope_q(actor, ACHIEVEMENT_EDITORS, field="employee__org_unit"),
                                           pk=result.pk).exists()
    if not in_scope or result.employee.user_id == actor.pk:
        raise PermissionDenied
    _require_status(result.cycle, S.OPEN)
    if score is None:
        raise ValidationError({"achievements_score": _("Achievements score: enter a number from 0 to 100.")})
    if not result.rated:
        raise ValidationError(_("%(name)s is not rated this year.") % {"name": result.employee.name})
    if not (evidence or "").strip():
        raise ValidationError({"achievements_evidence": _("Give the evidence behind the score.")})
    before = audit.snapshot(result, ["achievements_score", "achievements_evidence", "composite"])
    result.achievements_score = Decimal(score)
    result.achievements_evidence = evidence.strip()
    result.full_clean()
    result.composite = composite(result.cycle.parameters, result.monthly_mean or Decimal(0),
                                 result.satisfaction_score, result.achievements_score)
    result.save()
    _refresh(result.cycle)
    result.refresh_from_db()
    audit.record(actor=actor, action="annual_result.achievements", obj=result,
                 changes=audit.diff(before, audit.snapshot(result, list(before))))
    return result


@transaction.atomic
def cycle_calibrate(*, actor, cycle: AnnualCycle) -> AnnualCycle:
    """open → calibrating: achievements are in; the proposal is made and HR calibrates."""
    _require(actor, HR)
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    _require_status(cycle, S.OPEN)
    _refresh(cycle)
    cycle.status, cycle.calibration_started_at = S.CALIBRATING, timezone.now()
    cycle.save(update_fields=["status", "calibration_started_at", "updated_at"])
    audit.record(actor=actor, action="annual_cycle.calibrate", obj=cycle, changes={"status": [S.OPEN, S.CALIBRATING]})
    return cycle


@transaction.atomic
def grade_change(*, actor, result: AnnualResult, grade: str, reason: str) -> AnnualResult:
    """HR changes a grade during calibration, with a written reason (E2.3)."""
    _require(actor, HR)
    result = AnnualResult.objects.select_for_update().select_related("cycle", "employee").get(pk=result.pk)
    if result.employee.user_id == actor.pk:
        raise PermissionDenied
    _require_status(result.cycle, S.CALIBRATING)
    if not result.rated:
        raise ValidationError(_("%(name)s is not rated this year.") % {"name": result.employee.name})
    if grade not in Grade.values:
        raise ValidationError({"final_grade": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Grade.values)}})
    if not (reason or "").strip():
        raise ValidationError({"change_reason": _("Give the reason for the change.")})
    before = audit.snapshot(result, ["final_grade", "change_reason"])
    result.final_grade, result.change_reason = grade, reason.strip()
    result.full_clean()
    result.save(update_fields=["final_grade", "change_reason", "updated_at"])
    audit.record(actor=actor, action="annual_result.grade_change", obj=result,
                 changes=audit.diff(before, audit.snapshot(result, list(before))), reason=result.change_reason)
    return result


def final_grade_counts(cycle: AnnualCycle) -> dict[str | None, int]:
    """``{final grade: people}`` of the cycle's rated results (their sum is the rated population)."""
    return dict(cycle.results.filter(rated=True).order_by().values_list("final_grade")
                .annotate(c=Count("pk")).values_list("final_grade", "c"))


def check(cycle: AnnualCycle, counts: dict[str | None, int] | None = None) -> list[str]:
    """What keeps the cycle from being submitted: quotas violated, tie flags unresolved (E2.3).
    ``counts``: ``final_grade_counts(cycle)`` if the caller has it already."""
    p = cycle.parameters
    rated = cycle.results.filter(rated=True)
    if counts is None:
        counts = final_grade_counts(cycle)
    n = sum(counts.values())
    if n < int(p["min_population"]):
        return []
    cap, floor = distribution.quotas(n, excellent_max_pct=_dec(p["excellent_max_pct"]),
                                     fail_min_pct=_dec(p["fail_min_pct"]), rounding=p["quota_rounding"])
    problems = []
    if counts.get(Grade.EXCELLENT, 0) > cap:
        problems.append(_("%(n)s excellent, more than the cap of %(cap)s.") % {
            "n": counts.get(Grade.EXCELLENT, 0), "cap": cap})
    if counts.get(Grade.FAIL, 0) < floor:
        problems.append(_("%(n)s fail, fewer than the floor of %(floor)s.") % {
            "n": counts.get(Grade.FAIL, 0), "floor": floor})
    # Two columns, not model rows: the board runs this on every view of a cycle in calibration (issue 9).
    # Only rows that may carry a tie flag leave the database (a year is thousands of rows, a few tied).
    unresolved = rated.filter(change_reason="")
    if connections[unresolved.db].features.supports_json_field_contains:
        unresolved = unresolved.filter(functools.reduce(operator.or_, (Q(flags__contains=[f]) for f in sorted(TIE_FLAGS))))
    else:
        unresolved = unresolved.exclude(flags=[])
    ties = [name for flags, name in unresolved.values_list("flags", "employee__name") if TIE_FLAGS & set(flags)]
    if ties:
        problems.append(_("Tied scores to resolve: %(names)s.") % {"names": ", ".join(ties)})
    return problems


@transaction.atomic
def cycle_submit(*, actor, cycle: AnnualCycle) -> AnnualCycle:
    _require(actor, HR)
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    _require_status(cycle, S.CALIBRATING)
    problems = check(cycle)
    if problems:
        raise ValidationError(problems)
    cycle.status, cycle.submitted_at = S.SUBMITTED, timezone.now()
    cycle.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor=actor, action="annual_cycle.submit", obj=cycle, changes={"status": [S.CALIBRATING, S.SUBMITTED]})
    return cycle


@transaction.atomic
def cycle_approve(*, actor, cycle: AnnualCycle) -> AnnualCycle:
    _require(actor, LEADERSHIP)
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    _require_status(cycle, S.SUBMITTED)
    cycle.status, cycle.approved_by, cycle.approved_at = S.APPROVED, actor, timezone.now()
    cycle.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    audit.record(actor=actor, action="annual_cycle.approve", obj=cycle, changes={"status": [S.SUBMITTED, S.APPROVED]})
    return cycle


@transaction.atomic
def cycle_publish(*, actor, cycle: AnnualCycle) -> AnnualCycle:
    _require(actor, HR)
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    _require_status(cycle, S.APPROVED)
    cycle.status, cycle.published_at = S.PUBLISHED, timezone.now()
    cycle.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action="annual_cycle.publish", obj=cycle, changes={"status": [S.APPROVED, S.PUBLISHED]})
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    users = get_user_model().objects.filter(employee__annual_results__cycle=cycle, is_active=True)
    notify(recipients=list(users), title=_("Your %(year)s annual result is published") % {"year": cycle.year},
           url=reverse("annual:mine"))
    # policy E3.3: each fail grade now owes a coaching plan; made once the publication commits, by the
    # system (robust: a failure is logged, the nightly `manage.py coaching_sync` makes them then).
    from kefu.annual.coaching import coaching_sync

    transaction.on_commit(lambda: coaching_sync(actor=None), robust=True)
    return cycle
