"""Reads for the inspection pages and the report (a bounded number of queries each)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.inspections.models import Finding, Inspection, InspectionItem, SampleKind, SampleRecord
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

# ---------------------------------------------------------------------------------------------
# The sample, with links to the records
# ---------------------------------------------------------------------------------------------


@dataclass
class SampleRow:
    sample: SampleRecord
    url: str


def sample_rows(inspection: Inspection) -> list[SampleRow]:
    """The stored sample in drawn order, each with the page of its record (one query per kind with numbers)."""
    from kefu.uniforms.models import Issuance, Requisition, ScrapRequest, Sku

    samples = list(inspection.samples.order_by("order", "id"))
    ids: dict[str, list[int]] = defaultdict(list)
    for s in samples:
        ids[s.kind].append(s.object_id)
    numbers: dict[str, dict[int, Any]] = {}
    for kind, model in ((SampleKind.REQUISITION, Requisition), (SampleKind.ISSUANCE, Issuance),
                        (SampleKind.SCRAP_REQUEST, ScrapRequest)):
        if ids.get(kind):
            numbers[kind] = dict(model.objects.filter(pk__in=ids[kind]).values_list("pk", "number"))
    if ids.get(SampleKind.SKU_COUNT):
        numbers[SampleKind.SKU_COUNT] = dict(Sku.objects.filter(pk__in=ids[SampleKind.SKU_COUNT])
                                             .values_list("pk", "style_id"))
    routes = {
        SampleKind.WEEKLY_EVALUATION: "evaluations:weekly_detail",
        SampleKind.MONTHLY_EVALUATION: "evaluations:monthly_detail",
        SampleKind.REQUISITION: "uniforms:requisition_detail",
        SampleKind.ISSUANCE: "uniforms:issuance_detail",
        SampleKind.SCRAP_REQUEST: "uniforms:scrap_detail",
        SampleKind.SKU_COUNT: "uniforms:style_detail",
    }
    rows = []
    for s in samples:
        key = s.object_id if s.kind in (SampleKind.WEEKLY_EVALUATION, SampleKind.MONTHLY_EVALUATION) \
            else numbers.get(s.kind, {}).get(s.object_id)
        rows.append(SampleRow(sample=s, url=reverse(routes[SampleKind(s.kind)], args=[key]) if key else ""))
    return rows


def inspection_for_page(qs) -> Any:
    """The inspection queryset with what its page and report show, preloaded."""
    return qs.select_related("plan", "org_unit", "lead_inspector__employee", "created_by").prefetch_related(
        Prefetch("items", queryset=InspectionItem.objects.order_by("order", "id")
                 .select_related("recorded_by__employee").prefetch_related("attachments", "findings")),
        Prefetch("findings", queryset=Finding.objects.order_by("id").select_related(
            "org_unit", "employee", "item", "rectification__responsible__employee", "rectification__org_unit")),
    )


def findings_with_rectification(inspection: Inspection) -> list[Finding]:
    out = list(inspection.findings.all())
    for f in out:
        try:
            f.rect = f.rectification  # type: ignore[attr-defined]
        except Finding.rectification.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
            f.rect = None  # type: ignore[attr-defined]
    return out


def counts(inspection: Inspection) -> dict[str, int]:
    items = list(inspection.items.all())
    result = {r: 0 for r in ("", "pass", "fail", "na")}
    for i in items:
        result[i.result] += 1
    return {"total": len(items), "open": result[""], "pass": result["pass"], "fail": result["fail"],
            "na": result["na"]}


# ---------------------------------------------------------------------------------------------
# The supervision group (S1)
# ---------------------------------------------------------------------------------------------

SIDES = {"admin": _("Administration"), "cs": _("Customer service"), "hr": _("HR")}


@dataclass
class Member:
    user: Any
    employee: Employee | None
    department: OrgUnit | None
    side: str  # admin / cs / hr / "" (elsewhere)
    since: Any


@dataclass
class Group:
    members: list[Member] = field(default_factory=list)
    missing: list[Any] = field(default_factory=list)  # labels of the sides with nobody in the group


def _active_q(on) -> Q:
    return Q(start_date__lte=on) & (Q(end_date__isnull=True) | Q(end_date__gte=on))


def supervision_group(on=None) -> Group:
    """Who holds the inspector role today, from which department, and whether admin, the CS department and
    HR are all represented (S1: "people from admin, the CS department and HR").

    A department is the admin department when admin staff work in it, HR's when HR staff do, CS's when it is a
    customer-service unit."""
    on = on or timezone.localdate()
    units = {u.pk: u for u in OrgUnit.objects.all()}

    def department(unit_id: int | None) -> OrgUnit | None:
        unit = units.get(unit_id) if unit_id is not None else None
        while unit is not None and unit.kind == OrgUnit.Kind.TEAM and unit.parent_id is not None:
            unit = units.get(unit.parent_id)
        return unit

    def departments_of(role: str) -> set[int]:
        user_ids = RoleAssignment.objects.filter(_active_q(on), role=role).values("user_id")
        return {d.pk for d in (department(u) for u in Employee.objects.filter(user_id__in=user_ids)
                               .values_list("org_unit_id", flat=True)) if d is not None}

    admin_depts, hr_depts = departments_of(Role.ADMIN_STAFF), departments_of(Role.HR)
    assignments = (RoleAssignment.objects.filter(_active_q(on), role=Role.INSPECTOR)
                   .select_related("user").order_by("user__username", "start_date"))
    first: dict[int, Any] = {}
    users: dict[int, Any] = {}
    for a in assignments:
        users.setdefault(a.user_id, a.user)
        first.setdefault(a.user_id, a.start_date)
    employees = {e.user_id: e for e in Employee.objects.filter(user_id__in=list(users))}
    group = Group()
    for user_id, user in users.items():
        if not user.is_active:
            continue
        employee = employees.get(user_id)
        dept = department(employee.org_unit_id) if employee is not None else None
        unit = units.get(employee.org_unit_id) if employee is not None else None
        side = ""
        if dept is not None:
            if (unit is not None and unit.is_customer_service) or dept.is_customer_service:
                side = "cs"
            elif dept.pk in hr_depts:
                side = "hr"
            elif dept.pk in admin_depts:
                side = "admin"
        group.members.append(Member(user=user, employee=employee, department=dept, side=side, since=first[user_id]))
    present = {m.side for m in group.members}
    group.missing = [label for side, label in SIDES.items() if side not in present]
    return group
