"""People writes: org units, employees, role assignments, onboarding and offboarding.

Every function is keyword-only, runs in a transaction, validates with
full_clean() and writes an audit entry.

Onboarding and offboarding run an explicit registry of steps that later apps
add to in their AppConfig.ready() (never model signals):

    from kefu.people import services as people
    people.onboarding_steps.register("uniforms.entitlement", grant_new_hire_entitlement)

A step is ``step(*, employee, actor, on)``; it runs inside the same
transaction, so a failing step leaves the employee as she was.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.people.models import Employee, OrgUnit, RoleAssignment

Step = Callable[..., Any]


@dataclass
class StepRegistry:
    name: str
    steps: dict[str, Step] = field(default_factory=dict)

    def register(self, key: str, step: Step) -> None:
        self.steps[key] = step

    def unregister(self, key: str) -> None:
        self.steps.pop(key, None)

    def run(self, *, employee: Employee, actor, on: datetime.date) -> list[str]:
        done = []
        for key, step in self.steps.items():
            step(employee=employee, actor=actor, on=on)
            done.append(key)
        return done


onboarding_steps = StepRegistry("onboarding")
offboarding_steps = StepRegistry("offboarding")

EMPLOYEE_FIELDS = [
    "employee_no", "name", "gender", "hire_date", "leave_date", "status", "org_unit_id", "position", "email",
    "phone", "user_id",
]
EMPLOYEE_EDITABLE = ["name", "gender", "hire_date", "org_unit", "position", "email", "phone"]
UNIT_FIELDS = ["code", "name", "kind", "parent_id", "path", "is_customer_service", "active"]

# Which kind of unit may sit under which (company → department → team).
ALLOWED_PARENT: dict[str, set[str | None]] = {
    OrgUnit.Kind.COMPANY: {None},
    OrgUnit.Kind.DEPARTMENT: {OrgUnit.Kind.COMPANY, OrgUnit.Kind.DEPARTMENT},
    OrgUnit.Kind.TEAM: {OrgUnit.Kind.DEPARTMENT},
}


def _check_parent(unit: OrgUnit) -> None:
    parent = unit.parent
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENT[OrgUnit.Kind(unit.kind)]:
        raise ValidationError({"parent": _("A %(kind)s cannot sit under this unit.") % {"kind": unit.get_kind_display()}})
    if unit.pk and parent is not None:
        if parent.path.startswith(unit.path or "\0"):
            raise ValidationError({"parent": _("A unit cannot be moved under itself.")})


def _repath_subtree(unit: OrgUnit, old_path: str) -> None:
    new_path = f"{unit.parent.path if unit.parent is not None else '/'}{unit.pk}/"
    if new_path == old_path:
        return
    unit.path = new_path
    unit.save(update_fields=["path"])
    if old_path:
        for child in OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).select_for_update():
            child.path = new_path + child.path[len(old_path):]
            child.save(update_fields=["path"])


@transaction.atomic
def orgunit_create(
    *, actor, code: str, name: str, kind: str, parent: OrgUnit | None = None, is_customer_service: bool = False
) -> OrgUnit:
    unit = OrgUnit(code=code.strip(), name=name.strip(), kind=kind, parent=parent, is_customer_service=is_customer_service)
    unit.full_clean(exclude=["path"])
    _check_parent(unit)
    unit.save()
    _repath_subtree(unit, "")
    audit.record(actor=actor, action="orgunit.create", obj=unit, changes=audit.diff(None, audit.snapshot(unit, UNIT_FIELDS)))
    return unit


@transaction.atomic
def orgunit_update(*, actor, unit: OrgUnit, reason: str = "", **changes: Any) -> OrgUnit:
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = audit.snapshot(unit, UNIT_FIELDS)
    old_path = unit.path
    for key, value in changes.items():
        if key not in {"code", "name", "kind", "parent", "is_customer_service", "active"}:
            raise ValueError(f"orgunit_update cannot change {key}")
        setattr(unit, key, value)
    unit.full_clean(exclude=["path"])
    _check_parent(unit)
    unit.save()
    _repath_subtree(unit, old_path)
    audit.record(actor=actor, action="orgunit.update", obj=unit, changes=audit.diff(before, audit.snapshot(unit, UNIT_FIELDS)), reason=reason)
    return unit


def _clean_employee(employee: Employee) -> None:
    employee.full_clean()
    if employee.org_unit_id and not OrgUnit.objects.filter(pk=employee.org_unit_id, active=True).exists():
        raise ValidationError({"org_unit": _("This org unit is no longer active.")})


@transaction.atomic
def employee_create(*, actor, reason: str = "", **data: Any) -> Employee:
    """A new hire, status 'pending' until employee_onboard() runs."""
    data.setdefault("status", Employee.Status.PENDING)
    employee = Employee(**data)
    _clean_employee(employee)
    employee.save()
    audit.record(actor=actor, action="employee.create", obj=employee,
                 changes=audit.diff(None, audit.snapshot(employee, EMPLOYEE_FIELDS)), reason=reason)
    return employee


@transaction.atomic
def employee_update(*, actor, employee: Employee, reason: str = "", **data: Any) -> Employee:
    """Change the fields HR keeps (not status: that moves only by onboarding and offboarding)."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    before = audit.snapshot(employee, EMPLOYEE_FIELDS)
    for key, value in data.items():
        if key not in EMPLOYEE_EDITABLE and key != "org_unit_id":
            raise ValueError(f"employee_update cannot change {key}")
        setattr(employee, key, value)
    _clean_employee(employee)
    changes = audit.diff(before, audit.snapshot(employee, EMPLOYEE_FIELDS))
    if changes:
        employee.save()
        audit.record(actor=actor, action="employee.update", obj=employee, changes=changes, reason=reason)
    return employee


@transaction.atomic
def employee_onboard(*, actor, employee: Employee, on: datetime.date | None = None) -> Employee:
    """Policy U2.1 and the rest: a pending hire becomes active and every registered step runs."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.status != Employee.Status.PENDING:
        raise ValidationError(_("Only a pending hire can be onboarded; %(name)s is %(status)s.")
                              % {"name": employee.name, "status": employee.get_status_display()})
    on = on or timezone.localdate()
    before = audit.snapshot(employee, EMPLOYEE_FIELDS)
    employee.status = Employee.Status.ACTIVE
    employee.save(update_fields=["status", "updated_at"])
    done = onboarding_steps.run(employee=employee, actor=actor, on=on)
    audit.record(actor=actor, action="employee.onboard", obj=employee,
                 changes=audit.diff(before, audit.snapshot(employee, EMPLOYEE_FIELDS)) | {"steps": [None, done]})
    return employee


@transaction.atomic
def employee_offboard(*, actor, employee: Employee, leave_date: datetime.date, reason: str = "") -> Employee:
    """She leaves: status 'left', leave date set, her roles end, login disabled, every step runs."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.status == Employee.Status.LEFT:
        raise ValidationError(_("%(name)s has already left.") % {"name": employee.name})
    if leave_date < employee.hire_date:
        raise ValidationError({"leave_date": _("The leave date cannot be before the hire date.")})
    before = audit.snapshot(employee, EMPLOYEE_FIELDS)
    employee.status = Employee.Status.LEFT
    employee.leave_date = leave_date
    employee.full_clean()
    employee.save(update_fields=["status", "leave_date", "updated_at"])
    ended = 0
    if employee.user is not None:
        ended = RoleAssignment.objects.filter(user=employee.user, end_date__isnull=True).update(end_date=leave_date)
        RoleAssignment.objects.filter(user=employee.user, end_date__gt=leave_date).update(end_date=leave_date)
        employee.user.is_active = False
        employee.user.save(update_fields=["is_active"])
    done = offboarding_steps.run(employee=employee, actor=actor, on=leave_date)
    audit.record(actor=actor, action="employee.offboard", obj=employee,
                 changes=audit.diff(before, audit.snapshot(employee, EMPLOYEE_FIELDS))
                 | {"roles_ended": [None, ended], "steps": [None, done]}, reason=reason)
    return employee


ROLE_FIELDS = ["user_id", "role", "org_unit_id", "start_date", "end_date"]


@transaction.atomic
def role_assign(*, actor, user, role: str, org_unit: OrgUnit, start_date: datetime.date,
                end_date: datetime.date | None = None, reason: str = "") -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, org_unit=org_unit, start_date=start_date, end_date=end_date)
    assignment.full_clean()
    assignment.save()
    audit.record(actor=actor, action="role.assign", obj=assignment,
                 changes=audit.diff(None, audit.snapshot(assignment, ROLE_FIELDS)), reason=reason)
    return assignment


@transaction.atomic
def role_end(*, actor, assignment: RoleAssignment, end_date: datetime.date, reason: str = "") -> RoleAssignment:
    assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    before = audit.snapshot(assignment, ROLE_FIELDS)
    assignment.end_date = end_date
    assignment.full_clean()
    assignment.save(update_fields=["end_date"])
    audit.record(actor=actor, action="role.end", obj=assignment,
                 changes=audit.diff(before, audit.snapshot(assignment, ROLE_FIELDS)), reason=reason)
    return assignment
