"""Reads that need more than one query, or aggregates (always in SQL)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, IntegerField, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from kefu.core import access
from kefu.uniforms.models import Holding, Location, Sku, StockLevel


def skus_with_stock(qs: QuerySet[Sku]) -> QuerySet[Sku]:
    """SKUs with ``new_on_hand`` (new-stock locations) and ``total_on_hand`` (all) annotated."""
    return qs.annotate(
        new_on_hand=Coalesce(Sum("levels__on_hand", filter=Q(levels__location__kind=Location.Kind.NEW)),
                             Value(0), output_field=IntegerField()),
        total_on_hand=Coalesce(Sum("levels__on_hand"), Value(0), output_field=IntegerField()),
    )


def levels_by_sku(skus: list[Sku], locations: list[Location]) -> dict[int, dict[int, int]]:
    """{sku id: {location id: on hand}} for one page of SKUs (one query)."""
    out: dict[int, dict[int, int]] = {s.pk: {} for s in skus}
    rows = StockLevel.objects.filter(sku__in=[s.pk for s in skus], location__in=[loc.pk for loc in locations])
    for sku_id, location_id, on_hand in rows.values_list("sku_id", "location_id", "on_hand"):
        out[sku_id][location_id] = on_hand
    return out


def holdings_visible(user) -> QuerySet[Holding]:
    return access.visible(user, Holding)


def renewals_due(user, *, until: datetime.date, unit_path: str | None = None) -> QuerySet[Any]:
    """Per employee: held items due for renewal on or before ``until`` (overdue included)."""
    qs = holdings_visible(user).filter(status=Holding.Status.HELD, renewal_due_on__lte=until,
                                       employee__status="active")
    if unit_path:
        qs = qs.filter(employee__org_unit__path__startswith=unit_path)
    return (qs.values("employee_id", "employee__employee_no", "employee__name", "employee__org_unit__name")
            .annotate(items=Count("id"), first_due=Min("renewal_due_on"))
            .order_by("first_due", "employee__employee_no"))


def renewals_by_department(user, *, until: datetime.date, unit_path: str | None = None) -> list[dict[str, Any]]:
    qs = holdings_visible(user).filter(status=Holding.Status.HELD, renewal_due_on__lte=until,
                                       employee__status="active")
    if unit_path:
        qs = qs.filter(employee__org_unit__path__startswith=unit_path)
    return list(qs.values("employee__org_unit__name", "employee__org_unit__path")
                .annotate(people=Count("employee", distinct=True), items=Count("id"), first_due=Min("renewal_due_on"))
                .order_by("employee__org_unit__path"))


# ---- 6b: dress-code spot checks (U3.1) --------------------------------------------------------------------

from django.db.models import Max  # noqa: E402

from kefu.people.models import OrgUnit  # noqa: E402
from kefu.uniforms.models import DRESS_VIOLATION_Q, DressCheck  # noqa: E402

DRESS_CRITERIA = ("wearing", "clean_tidy", "unaltered", "badge", "tie_or_scarf")


def dress_checks(*, user=None, date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                 unit: OrgUnit | None = None, employee_ids: list[int] | None = None) -> QuerySet[DressCheck]:
    """Spot checks (U3.1) in a period and unit subtree; only those ``user`` may see when a user is given
    (the inspections app reads them without one, as the system)."""
    qs = access.visible(user, DressCheck) if user is not None else DressCheck.objects.all()
    if date_from:
        qs = qs.filter(checked_on__gte=date_from)
    if date_to:
        qs = qs.filter(checked_on__lte=date_to)
    if unit is not None:
        qs = qs.filter(employee__org_unit__path__startswith=unit.path)
    if employee_ids is not None:
        qs = qs.filter(employee_id__in=employee_ids)
    return qs


def dress_violations(**filters: Any) -> QuerySet[DressCheck]:
    """The checks that found something wrong (any criterion answered no), with dress_checks()' filters."""
    return dress_checks(**filters).filter(DRESS_VIOLATION_Q)


def dress_summary(checks: QuerySet[DressCheck], *, people: int = 20) -> dict[str, Any]:
    """Counts in SQL: checks and violations overall and per criterion, the people with the most
    violations, and violations per department (a fixed handful of queries)."""
    criteria = {name: Count("id", filter=Q(**{name: False})) for name in DRESS_CRITERIA}
    totals = checks.aggregate(checks=Count("id"), violations=Count("id", filter=DRESS_VIOLATION_Q), **criteria)
    violations = checks.filter(DRESS_VIOLATION_Q)
    per_person = list(violations.values("employee_id", "employee__employee_no", "employee__name",
                                        "employee__org_unit__name")
                      .annotate(n_violations=Count("id"), last=Max("checked_on"))
                      .order_by("-n_violations", "employee__employee_no")[:people])
    per_unit = list(checks.values("employee__org_unit__path")
                    .annotate(n_checks=Count("id"), n_violations=Count("id", filter=DRESS_VIOLATION_Q)))
    ids = {int(p) for row in per_unit for p in row["employee__org_unit__path"].strip("/").split("/") if p}
    departments = list(OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.DEPARTMENT).order_by("path"))
    per_department = []
    for dept in departments:
        rows = [r for r in per_unit if r["employee__org_unit__path"].startswith(dept.path)]
        per_department.append({"unit": dept, "checks": sum(r["n_checks"] for r in rows),
                               "violations": sum(r["n_violations"] for r in rows)})
    return {"totals": totals, "per_person": per_person, "per_department": per_department}
