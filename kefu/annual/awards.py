"""Awards and promotion priority (policy E3.2): 年度優秀客服獎 and 服務明星獎, and the promotion list.

    ranking = service_star_ranking(cycle, user)            # candidates with the facts, best first
    n = nomination_create(actor=hr, cycle=c, kind="outstanding", result=r, reason="…")
    nomination_decide(actor=leadership, nomination=n, approve=True, note="")  # certificate number given
    rows = promotion_list(cycle, user)                     # excellent staff by composite

Rules (issue 5 item 5, E3.2):
- HR nominates once the cycle is published; one nomination per person, award and cycle.
- 年度優秀客服獎 (outstanding): only people whose final grade is excellent.
- 服務明星獎 (service star): rated people with survey answers, ranked by satisfaction score, then the
  mean monthly total (ratings are required: without answers there is no satisfaction to rank).
- Leadership approves or rejects (a rejection gives its reason). Approved nominations of one award never
  exceed the cycle's ``annual.award_quota`` for it; the cycle row is locked while deciding, so two
  approvals at once cannot both take the last place.
- An approved nomination gets a certificate number, ``2026-OUT-001`` / ``2026-STAR-001``, in approval order.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual.access import HR, LEADERSHIP
from kefu.annual.models import AnnualCycle, AnnualResult, AwardKind, AwardNomination, Grade
from kefu.core import access, audit, policy
from kefu.core.services import notify
from kefu.people.access import has_role

S = AnnualCycle.Status
N = AwardNomination.Status
CERTIFICATE_CODES = {AwardKind.OUTSTANDING: "OUT", AwardKind.SERVICE_STAR: "STAR"}


def quota(cycle: AnnualCycle, kind: str) -> int:
    """People per award for the cycle (E3.2): the cycle's snapshot, else the parameter on 31 December."""
    quotas = cycle.parameters.get("award_quota")
    if quotas is None:
        quotas = policy.get("annual.award_quota", on=datetime.date(cycle.year, 12, 31))
    return int(Decimal(str(quotas[kind])))


def _require(actor, roles) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied


def _published(cycle: AnnualCycle) -> None:
    if cycle.status != S.PUBLISHED:
        raise ValidationError(_("Awards are nominated once the %(year)s results are published.") % {
            "year": cycle.year})


# ---- reads ---------------------------------------------------------------------------------------------

@dataclass
class Candidate:
    rank: int
    result: AnnualResult
    nomination: AwardNomination | None


def _ranked(results: list[AnnualResult], key) -> list[tuple[int, AnnualResult]]:
    """Competition ranking ("1, 2, 2, 4"): people with the same key share a rank."""
    out: list[tuple[int, AnnualResult]] = []
    for i, r in enumerate(results):
        rank = out[-1][0] if out and key(out[-1][1]) == key(r) else i + 1
        out.append((rank, r))
    return out


def _nominations(cycle: AnnualCycle, kind: str) -> dict[int, AwardNomination]:
    return {n.result_id: n for n in cycle.nominations.filter(kind=kind)}


def outstanding_candidates(cycle: AnnualCycle, user) -> list[Candidate]:
    """Excellent staff by composite (E3.2: the outstanding award is nominated from them), 2 queries."""
    results = list(access.visible(user, cycle.results.filter(rated=True, final_grade=Grade.EXCELLENT))
                   .select_related("employee", "employee__org_unit").order_by("-composite", "employee__employee_no"))
    nominated = _nominations(cycle, AwardKind.OUTSTANDING)
    return [Candidate(rank, r, nominated.get(r.pk)) for rank, r in _ranked(results, lambda r: r.composite)]


def service_star_ranking(cycle: AnnualCycle, user) -> list[Candidate]:
    """Rated people with survey answers, by satisfaction score, then mean monthly total (E3.2), 2 queries."""
    results = list(access.visible(user, cycle.results.filter(rated=True, rating_count__gt=0,
                                                             satisfaction_score__isnull=False))
                   .select_related("employee", "employee__org_unit")
                   .order_by("-satisfaction_score", "-monthly_mean", "employee__employee_no"))
    nominated = _nominations(cycle, AwardKind.SERVICE_STAR)
    return [Candidate(rank, r, nominated.get(r.pk))
            for rank, r in _ranked(results, lambda r: (r.satisfaction_score, r.monthly_mean))]


def nominations(cycle: AnnualCycle, user) -> QuerySet[AwardNomination]:
    return (access.visible(user, cycle.nominations.all())
            .select_related("result__employee__org_unit", "nominated_by__employee", "decided_by")
            .order_by("kind", "status", "-result__composite", "pk"))


def approved_counts(cycle: AnnualCycle) -> dict[str, int]:
    rows = cycle.nominations.filter(status=N.APPROVED).order_by().values_list("kind").annotate(n=Count("pk"))
    return {kind: n for kind, n in rows}


@dataclass
class PromotionRow:
    rank: int
    result: AnnualResult
    department: Any
    years_excellent: list[int]


def promotion_list(cycle: AnnualCycle, user) -> list[PromotionRow]:
    """E3.2: excellent staff of a published cycle get priority for promotion — by composite, with their
    department and the published years (up to this one) they were rated excellent. Four queries."""
    from kefu.annual.reports import _department_finder

    if cycle.status != S.PUBLISHED:
        return []
    excellent = Q(rated=True, final_grade=Grade.EXCELLENT, cycle__status=S.PUBLISHED, cycle__year__lte=cycle.year)
    results = list(access.visible(user, cycle.results.filter(rated=True, final_grade=Grade.EXCELLENT))
                   .select_related("employee", "employee__org_unit").order_by("-composite", "employee__employee_no"))
    years: dict[int, list[int]] = {}
    for employee_id, year in (AnnualResult.objects.filter(excellent, employee_id__in=[r.employee_id for r in results])
                              .order_by("cycle__year").values_list("employee_id", "cycle__year")):
        years.setdefault(employee_id, []).append(year)
    _departments, find = _department_finder()
    return [PromotionRow(rank, r, find(r.employee.org_unit.path), years.get(r.employee_id, []))
            for rank, r in _ranked(results, lambda r: r.composite)]


def promotion_headers() -> list[str]:
    return [_("Priority"), _("Employee number"), _("Name"), _("Department"), _("Org unit"), _("Composite"),
            _("Final grade"), _("Years rated excellent"), _("Which years")]


def promotion_rows(rows: list[PromotionRow]) -> list[list[Any]]:
    return [[row.rank, row.result.employee.employee_no, row.result.employee.name,
             row.department.name if row.department else "", row.result.employee.org_unit.name,
             float(row.result.composite) if row.result.composite is not None else None,
             str(row.result.get_final_grade_display()), len(row.years_excellent),
             ", ".join(str(y) for y in row.years_excellent)] for row in rows]


# ---- writes --------------------------------------------------------------------------------------------

@transaction.atomic
def nomination_create(*, actor, cycle: AnnualCycle, kind: str, result: AnnualResult, reason: str) -> AwardNomination:
    """HR nominates a person of a published cycle for an award (E3.2)."""
    _require(actor, HR)
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    _published(cycle)
    if kind not in AwardKind.values:
        raise ValidationError({"kind": _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(str(label) for label in AwardKind.labels)}})
    result = AnnualResult.objects.select_related("employee").get(pk=result.pk)
    if result.cycle_id != cycle.pk:
        raise ValidationError(_("%(name)s is not in the %(year)s cycle.") % {
            "name": result.employee.name, "year": cycle.year})
    if result.employee.user_id == actor.pk:
        raise PermissionDenied
    if not result.rated:
        raise ValidationError(_("%(name)s is not rated this year.") % {"name": result.employee.name})
    if kind == AwardKind.OUTSTANDING and result.final_grade != Grade.EXCELLENT:
        # policy E3.2: the outstanding award goes to excellent staff
        raise ValidationError(_("%(name)s is graded %(grade)s: the Annual Outstanding CS Award is for excellent "
                                "staff only.") % {"name": result.employee.name,
                                                  "grade": result.get_final_grade_display()})
    if kind == AwardKind.SERVICE_STAR and (not result.rating_count or result.satisfaction_score is None):
        # policy E3.2: the service star is chosen by satisfaction; without survey answers there is none
        raise ValidationError(_("%(name)s has no survey answers in %(year)s: the Service Star Award needs "
                                "customer ratings.") % {"name": result.employee.name, "year": cycle.year})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the nomination.")})
    existing = AwardNomination.objects.filter(cycle=cycle, kind=kind, result=result).first()
    if existing is not None:
        raise ValidationError(_("%(name)s is already nominated for the %(award)s (%(status)s).") % {
            "name": result.employee.name, "award": AwardKind(kind).label, "status": existing.get_status_display()})
    nomination = AwardNomination(cycle=cycle, kind=kind, result=result, reason=reason.strip(), nominated_by=actor)
    nomination.full_clean()
    try:
        with transaction.atomic():
            nomination.save()
    except IntegrityError as e:  # the same nomination sent twice at once: the unique constraint keeps one
        raise ValidationError(_("%(name)s is already nominated for the %(award)s.") % {
            "name": result.employee.name, "award": AwardKind(kind).label}) from e
    audit.record(actor=actor, action="award_nomination.create", obj=nomination,
                 changes={"kind": [None, kind], "result": [None, result.pk], "status": [None, N.NOMINATED]},
                 reason=nomination.reason)
    return nomination


@transaction.atomic
def nomination_decide(*, actor, nomination: AwardNomination, approve: bool, note: str = "") -> AwardNomination:
    """Leadership approves (within the quota; a certificate number is given) or rejects with a reason."""
    _require(actor, LEADERSHIP)
    cycle = AnnualCycle.objects.select_for_update().get(pk=nomination.cycle_id)  # serialises the quota
    nomination = (AwardNomination.objects.select_for_update().select_related("result__employee")
                  .get(pk=nomination.pk))
    if nomination.status != N.NOMINATED:
        raise ValidationError(_("This nomination is already %(status)s.") % {
            "status": nomination.get_status_display()})
    if nomination.result.employee.user_id == actor.pk:
        raise PermissionDenied
    note = (note or "").strip()
    label = AwardKind(nomination.kind).label
    if approve:
        limit = quota(cycle, nomination.kind)
        taken = AwardNomination.objects.filter(cycle=cycle, kind=nomination.kind, status=N.APPROVED).count()
        if taken >= limit:
            # policy E3.2: each award has a quota; approving more is refused, never silently allowed
            raise ValidationError(_("The %(award)s quota for %(year)s is %(quota)s and %(taken)s are already "
                                    "approved: reject a nomination instead, or ask the system admin to change "
                                    "the quota.") % {"award": label, "year": cycle.year, "quota": limit,
                                                     "taken": taken})
        nomination.status = N.APPROVED
        nomination.certificate_no = f"{cycle.year}-{CERTIFICATE_CODES[AwardKind(nomination.kind)]}-{taken + 1:03d}"
    else:
        if not note:
            raise ValidationError({"decision_note": _("Give the reason for the rejection.")})
        nomination.status = N.REJECTED
    nomination.decided_by, nomination.decided_at, nomination.decision_note = actor, timezone.now(), note
    nomination.full_clean()
    nomination.save()
    audit.record(actor=actor, action="award_nomination.approve" if approve else "award_nomination.reject",
                 obj=nomination, changes={"status": [N.NOMINATED, nomination.status],
                                          "certificate_no": ["", nomination.certificate_no]}, reason=note)
    from django.urls import reverse

    facts = {"name": nomination.result.employee.name, "award": label, "year": cycle.year}
    notify(recipients=[nomination.nominated_by], url=reverse("annual:awards", args=[cycle.year]), body=note,
           title=(_("%(name)s receives the %(award)s %(year)s") if approve
                  else _("The nomination of %(name)s for the %(award)s %(year)s was not approved")) % facts)
    person = nomination.result.employee.user
    if approve and person is not None and person.is_active:
        notify(recipients=[person], title=_("You receive the %(award)s %(year)s") % facts,
               url=reverse("annual:history", args=[nomination.result.employee.employee_no]))
    return nomination


def nominations_to_decide(user) -> list[tuple[int, int]]:
    """(year, count) of nominations waiting for leadership, for the workbench (one query)."""
    if not has_role(user, *LEADERSHIP):
        return []
    rows = (AwardNomination.objects.filter(status=N.NOMINATED).exclude(result__employee__user=user).order_by()
            .values_list("cycle__year").annotate(n=Count("pk")).order_by("cycle__year"))
    return [(year, n) for year, n in rows]


