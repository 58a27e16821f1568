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

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import audit, tabular
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
    if parent is not None and not parent.active and unit.active:
        raise ValidationError({"parent": _("The unit “%(name)s” is no longer active.") % {"name": parent.name}})
    if unit.pk:
        for child_kind in set(unit.children.values_list("kind", flat=True)):
            if unit.kind not in ALLOWED_PARENT[OrgUnit.Kind(child_kind)]:
                raise ValidationError({"kind": _("A %(child)s under it cannot sit under a %(kind)s.")
                                       % {"child": OrgUnit.Kind(child_kind).label, "kind": unit.get_kind_display()}})


def _repath_subtree(unit: OrgUnit, old_path: str) -> None:
    new_path = f"{unit.parent.path if unit.parent is not None else '/'}{unit.pk}/"
    if new_path == old_path:
        return
    unit.path = new_path
    unit.save(update_fields=["path"])
    if old_path:
        # One statement for the whole subtree: the new prefix plus what followed the old one.
        OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=CharField())
        )


def _check_can_deactivate(unit: OrgUnit) -> None:
    """A unit closes only when empty: no active sub-unit, nobody still employed in it or below."""
    if OrgUnit.objects.filter(path__startswith=unit.path, active=True).exclude(pk=unit.pk).exists():
        raise ValidationError({"active": _("Deactivate or move its sub-units first.")})
    staying = Employee.objects.filter(org_unit__path__startswith=unit.path).exclude(status=Employee.Status.LEFT).count()
    if staying:
        raise ValidationError({"active": _("%(n)d employee(s) still work in this unit or below; move them first.")
                               % {"n": staying}})


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
    if before["active"] and not unit.active:
        _check_can_deactivate(unit)
    unit.save()
    _repath_subtree(unit, old_path)
    audit.record(actor=actor, action="orgunit.update", obj=unit, changes=audit.diff(before, audit.snapshot(unit, UNIT_FIELDS)), reason=reason)
    return unit


def _clean_employee(employee: Employee, *, previous_unit_id: int | None = None) -> None:
    employee.full_clean()
    # Only a move is checked: a leaver may stay recorded in a unit that has since closed.
    if (employee.org_unit_id and employee.org_unit_id != previous_unit_id
            and not OrgUnit.objects.filter(pk=employee.org_unit_id, active=True).exists()):
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
    _clean_employee(employee, previous_unit_id=before["org_unit_id"])
    changes = audit.diff(before, audit.snapshot(employee, EMPLOYEE_FIELDS))
    if changes:
        employee.save()
        audit.record(actor=actor, action="employee.update", obj=employee, changes=changes, reason=reason)
    return employee


@transaction.atomic
def employee_upsert(*, actor, data: dict[str, Any], reason: str = "") -> tuple[Employee, bool]:
    """Create or update the employee numbered ``data["employee_no"]`` (HR-system sync, imports).

    Returns (employee, created). A new one starts 'pending'; an existing one gets the changed
    fields through employee_update(), so unchanged data saves nothing and writes no audit entry.
    Status never moves here: that is onboarding and offboarding.
    """
    data = dict(data)
    number = str(data.pop("employee_no", "") or "").strip()
    if not number:
        raise ValidationError({"employee_no": _("This field is required.")})
    existing = Employee.objects.select_for_update().filter(employee_no=number).first()
    if existing is None:
        try:
            # A savepoint: a concurrent sync may create the same number between the lookup and here.
            with transaction.atomic():
                return employee_create(actor=actor, reason=reason, employee_no=number, **data), True
        except IntegrityError:
            existing = Employee.objects.select_for_update().filter(employee_no=number).first()
            if existing is None:
                raise
    return employee_update(actor=actor, employee=existing, reason=reason, **data), False


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


def _check_role_dates(assignment: RoleAssignment) -> None:
    if assignment.end_date is not None and assignment.start_date and assignment.end_date < assignment.start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date (%(start)s).")
                               % {"start": assignment.start_date.isoformat()}})


@transaction.atomic
def role_assign(*, actor, user, role: str, org_unit: OrgUnit, start_date: datetime.date,
                end_date: datetime.date | None = None, reason: str = "") -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, org_unit=org_unit, start_date=start_date, end_date=end_date)
    _check_role_dates(assignment)
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
    _check_role_dates(assignment)
    assignment.full_clean()
    assignment.save(update_fields=["end_date"])
    audit.record(actor=actor, action="role.end", obj=assignment,
                 changes=audit.diff(before, audit.snapshot(assignment, ROLE_FIELDS)), reason=reason)
    return assignment


# ---- import and export (issue item 2) ---------------------------------------------------------------

# Canonical column → (header label, other accepted headers). The labels are what the export
# writes, so an exported file imports again in any of the UI languages.
EMPLOYEE_COLUMNS: dict[str, tuple[Any, list[str]]] = {
    "employee_no": (gettext_lazy("Employee number"), ["工號", "工号", "員工編號", "员工编号", "員工號", "员工号", "employee no", "emp no"]),
    "name": (gettext_lazy("Name"), ["姓名"]),
    "gender": (gettext_lazy("Gender"), ["性別", "性别"]),
    "hire_date": (gettext_lazy("Hire date"), ["入職日期", "入职日期"]),
    "leave_date": (gettext_lazy("Leave date"), ["離職日期", "离职日期"]),
    "org_unit": (gettext_lazy("Org unit code"), ["部門", "部门", "組織", "组织", "部門代碼", "部门代码", "組織代碼", "组织代码",
                                           "org unit", "department"]),
    "position": (gettext_lazy("Position"), ["職位", "职位"]),
    "email": (gettext_lazy("E-mail"), ["郵箱", "邮箱", "電子郵件", "电子邮件", "電郵", "email"]),
    "phone": (gettext_lazy("Phone"), ["電話", "电话", "手機", "手机"]),
    # Exported for reading; status moves only by onboarding and offboarding, so import ignores it.
    "status": (gettext_lazy("Status"), ["狀態", "状态"]),
}
IMPORT_COLUMNS = [c for c in EMPLOYEE_COLUMNS if c != "status"]
IMPORT_REQUIRED = frozenset({"employee_no", "name", "gender", "hire_date", "org_unit"})
IMPORT_BATCH = 500


def _in_every_language(label: Any) -> list[str]:
    texts = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.append(str(label))
    return texts


def employee_import_columns() -> dict[str, list[str]]:
    """Accepted headers per column: the Chinese aliases plus the column label in every UI language."""
    return {key: [*aliases, *_in_every_language(label)] for key, (label, aliases) in EMPLOYEE_COLUMNS.items()}


def employee_column_labels() -> dict[str, str]:
    return {key: str(label) for key, (label, _aliases) in EMPLOYEE_COLUMNS.items()}


def _gender_lookup() -> dict[str, str]:
    lookup = {"f": "F", "female": "F", "女": "F", "m": "M", "male": "M", "男": "M", "o": "O", "other": "O", "其他": "O"}
    for value, label in Employee.Gender.choices:
        for text in _in_every_language(label):
            lookup[text.casefold()] = value
    return lookup


class _Units:
    """Every org unit, loaded once: the file names units by code (or by a unique name)."""

    def __init__(self) -> None:
        self.all = list(OrgUnit.objects.all())
        self.by_code = {u.code: u for u in self.all}
        self.by_code_ci: dict[str, list[OrgUnit]] = {}
        self.by_name: dict[str, list[OrgUnit]] = {}
        for u in self.all:
            self.by_code_ci.setdefault(u.code.casefold(), []).append(u)
            self.by_name.setdefault(u.name.casefold(), []).append(u)

    def find(self, text: str) -> OrgUnit:
        unit = self.by_code.get(text)
        if unit is not None:
            return unit
        for candidates in (self.by_code_ci.get(text.casefold(), []), self.by_name.get(text.casefold(), [])):
            if len(candidates) == 1:
                return candidates[0]
        raise ValueError(_("There is no org unit with the code “%(code)s”.") % {"code": text})


def _editor_paths(actor) -> list[str] | None:
    """The subtrees an actor may change people in; None for the system itself (no user)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    from kefu.people.access import PEOPLE_EDITORS, active_assignments

    return list(active_assignments(actor).filter(role__in=PEOPLE_EDITORS).values_list("org_unit__path", flat=True))


def _within(path: str, paths: list[str] | None) -> bool:
    return paths is None or any(path.startswith(p) for p in paths)


def _display(employee: Employee) -> dict[str, str]:
    """An employee's import columns as the preview shows them."""
    return {
        "name": employee.name,
        "gender": employee.get_gender_display() if employee.gender else "",
        "hire_date": employee.hire_date.isoformat() if employee.hire_date else "",
        "leave_date": employee.leave_date.isoformat() if employee.leave_date else "",
        "org_unit": employee.org_unit.code if employee.org_unit_id else "",
        "position": employee.position,
        "email": employee.email,
        "phone": employee.phone,
        "status": employee.get_status_display(),
    }


@dataclass
class _Plan:
    row: int | None
    employee: Employee
    existing: bool
    audit_changes: dict[str, list[Any]]
    offboard_on: datetime.date | None = None


def _plan_row(*, row: int | None, values: dict[str, Any], existing: Employee | None, units: _Units,
              paths: list[str] | None, genders: dict[str, str], report: tabular.ImportReport,
              today: datetime.date) -> _Plan | None:
    """Check one row against the rules and work out what it changes; errors go to the report."""
    errors_before = len(report.errors)
    bad: set[str] = set()

    def error(column: str, message: str) -> None:
        bad.add(column)
        report.error(row, column, message)

    number = tabular.cell_text(values.get("employee_no"))
    if existing is not None and existing.org_unit_id and not _within(existing.org_unit.path, paths):
        error("employee_no", _("Employee %(no)s is outside the units you manage.") % {"no": number})
        return None
    before = None if existing is None else audit.snapshot(existing, EMPLOYEE_FIELDS)
    shown_before = None if existing is None else _display(existing)
    employee = Employee(employee_no=number, status=Employee.Status.PENDING) if existing is None else existing

    for column in ("name", "position", "email", "phone"):
        if column in values:
            text = tabular.cell_text(values[column])
            if column == "name" and not text:
                error(column, _("This field is required."))
            setattr(employee, column, text)
    if "gender" in values:
        text = tabular.cell_text(values["gender"])
        gender = genders.get(text.casefold())
        if gender is None:
            error("gender", _("“%(value)s” is not a gender; use F, M or O (女, 男, 其他).") % {"value": text} if text
                  else _("This field is required."))
        else:
            employee.gender = gender
    for column in ("hire_date", "leave_date"):
        if column not in values:
            continue
        if values[column] is None:
            if column == "hire_date":
                error(column, _("This field is required."))
            else:
                employee.leave_date = None
            continue
        try:
            setattr(employee, column, tabular.parse_date(values[column]))
        except ValueError as e:
            error(column, str(e))
    if "org_unit" in values:
        text = tabular.cell_text(values["org_unit"])
        if not text:
            error("org_unit", _("This field is required."))
        else:
            try:
                unit = units.find(text)
            except ValueError as e:
                error("org_unit", str(e))
            else:
                if unit.pk != employee.org_unit_id or existing is None:
                    if not unit.active:
                        error("org_unit", _("The org unit “%(code)s” is no longer active.") % {"code": unit.code})
                    elif not _within(unit.path, paths):
                        error("org_unit", _("The org unit “%(code)s” is outside the units you manage.") % {"code": unit.code})
                employee.org_unit = unit
    if existing is None:
        for column in IMPORT_REQUIRED:
            if column not in values:
                error(column, _("This field is required for a new employee."))
    try:
        employee.clean_fields(exclude=["org_unit", "user", "status", "gender", "hire_date", "leave_date", *bad])
    except ValidationError as e:
        for column, messages in e.message_dict.items():
            for message in messages:
                error(column, message)
    if len(report.errors) > errors_before:
        return None

    offboard_on = None
    if employee.leave_date and employee.hire_date and employee.leave_date < employee.hire_date:
        error("leave_date", _("The leave date cannot be before the hire date."))
    elif existing is None:
        if employee.leave_date:
            if employee.leave_date > today:
                error("leave_date", _("The leave date is in the future; offboard her on or after that day."))
            employee.status = Employee.Status.LEFT  # a past employee's record
    elif existing.status == Employee.Status.LEFT:
        if employee.leave_date is None:
            error("leave_date", _("%(name)s has left; the leave date cannot be cleared by an import.") % {"name": existing.name})
    elif employee.leave_date is not None:
        if employee.leave_date > today:
            error("leave_date", _("The leave date is in the future; offboard her on or after that day."))
        # She leaves: offboarding ends her roles, disables her login and runs every step.
        offboard_on, employee.leave_date = employee.leave_date, None
    if len(report.errors) > errors_before:
        return None

    changes = audit.diff(before, audit.snapshot(employee, EMPLOYEE_FIELDS))
    if existing is not None and not changes and offboard_on is None:
        report.unchanged += 1
        return _Plan(row=row, employee=employee, existing=True, audit_changes={})
    shown_after = _display(employee)
    if offboard_on is not None:
        shown_after |= {"leave_date": offboard_on.isoformat(), "status": str(Employee.Status.LEFT.label)}
    shown = {k: (shown_before.get(k, "") if shown_before else "", v) for k, v in shown_after.items()
             if shown_before is None or shown_before.get(k) != v}
    if existing is None:
        report.created += 1
        if employee.status == Employee.Status.PENDING:
            shown.pop("status", None)
    else:
        report.updated += 1
    report.changes.append(tabular.RowChange(row=row, key=number, label=employee.name,
                                            action="update" if existing else "create", changes=shown))
    return _Plan(row=row, employee=employee, existing=existing is not None, audit_changes=changes,
                 offboard_on=offboard_on)


def _load_existing(numbers: list[str], *, lock: bool) -> dict[str, Employee]:
    found: dict[str, Employee] = {}
    for start in range(0, len(numbers), IMPORT_BATCH):
        qs = Employee.objects.select_related("org_unit").filter(employee_no__in=numbers[start:start + IMPORT_BATCH])
        if lock:
            qs = qs.select_for_update(of=("self",))
        found.update((e.employee_no, e) for e in qs)
    return found


@transaction.atomic
def employee_import(*, actor, file: Any, dry_run: bool = False) -> tabular.ImportReport:
    """HR's employee list in, by employee number: all rows are checked first, then saved together.

    Any bad row raises ImportRejected with every problem (row, column, reason) and nothing is
    saved. New employees start 'pending' (onboard them as usual); a leave date for someone
    still employed offboards her. ``dry_run`` reports what would change and saves nothing.
    ``actor`` may only touch employees and units in her scope (None: the system, no limit).
    """
    table = tabular.read_table(file, columns=employee_import_columns(), required=IMPORT_REQUIRED)
    report = tabular.ImportReport(dry_run=dry_run)
    labels = employee_column_labels()
    report.warnings.extend(
        _("The column “%(header)s” is not known and was ignored.") % {"header": h} for h in table.unknown_headers
    )
    if "status" in table.present:
        report.warnings.append(_("The column “%(header)s” is ignored: status changes by onboarding and offboarding.")
                               % {"header": labels["status"]})
    rows: list[tuple[int, dict[str, Any]]] = []
    first_row: dict[str, int] = {}
    for row, values in table:
        values.pop("status", None)
        report.rows_read += 1
        number = tabular.cell_text(values.get("employee_no"))
        if not number:
            report.error(row, "employee_no", _("This field is required."))
            continue
        if number in first_row:
            report.error(row, "employee_no", _("Employee number %(no)s is also on row %(row)d.")
                         % {"no": number, "row": first_row[number]})
            continue
        first_row[number] = row
        rows.append((row, values))
    if report.rows_read == 0:
        report.error(None, "", _("The file has no rows below the header."))

    existing = _load_existing(list(first_row), lock=not dry_run)
    units = _Units()
    paths = _editor_paths(actor)
    genders = _gender_lookup()
    today = timezone.localdate()
    plans = [
        plan for row, values in rows
        if (plan := _plan_row(row=row, values=values, existing=existing.get(tabular.cell_text(values["employee_no"])),
                              units=units, paths=paths, genders=genders, report=report, today=today)) is not None
    ]
    if report.errors:
        report.errors.sort(key=lambda e: (e.row or 0, IMPORT_COLUMNS.index(e.field) if e.field in IMPORT_COLUMNS else -1))
        raise tabular.ImportRejected(report)
    if dry_run:
        return report

    reason = _("Imported from %(file)s") % {"file": table.name or "file"}
    new = [p.employee for p in plans if not p.existing]
    try:
        with transaction.atomic():
            Employee.objects.bulk_create(new, batch_size=IMPORT_BATCH)
    except IntegrityError as exc:
        report.error(None, "employee_no", _("Someone added some of these employees at the same time; import the file again."))
        raise tabular.ImportRejected(report) from exc
    if any(e.pk is None for e in new):  # databases that do not return ids from a bulk insert
        saved = _load_existing([e.employee_no for e in new], lock=False)
        for created in new:
            created.pk = saved[created.employee_no].pk
    for employee in new:
        audit.record(actor=actor, action="employee.create", obj=employee,
                     changes=audit.diff(None, audit.snapshot(employee, EMPLOYEE_FIELDS)), reason=reason)

    changed = [p for p in plans if p.existing and p.audit_changes]
    if changed:
        now = timezone.now()
        names = sorted({key.removesuffix("_id") for p in changed for key in p.audit_changes})
        for p in changed:
            p.employee.updated_at = now
        Employee.objects.bulk_update([p.employee for p in changed], [*names, "updated_at"], batch_size=IMPORT_BATCH)
        for p in changed:
            audit.record(actor=actor, action="employee.update", obj=p.employee, changes=p.audit_changes, reason=reason)
    for p in plans:
        if p.offboard_on is not None:
            employee_offboard(actor=actor, employee=p.employee, leave_date=p.offboard_on, reason=reason)
    return report


EXPORT_COLUMNS = [*IMPORT_COLUMNS, "status"]


def employee_export(*, employees: QuerySet[Employee]) -> bytes:
    """The employees as .xlsx, in the import's columns (so the file imports again); one query.

    The caller passes what the user may see (access.visible), filtered as on the page.
    """
    labels = employee_column_labels()
    rows = (
        [e.employee_no, e.name, e.get_gender_display(), e.hire_date, e.leave_date, e.org_unit.code, e.position,
         e.email, e.phone, e.get_status_display()]
        for e in employees.select_related("org_unit").order_by("employee_no").iterator(chunk_size=2000)
    )
    return tabular.write_xlsx([labels[c] for c in EXPORT_COLUMNS], rows, sheet_title=_("Employees"))


def employee_import_template() -> bytes:
    """An empty import file: just the header row."""
    labels = employee_column_labels()
    return tabular.write_xlsx([labels[c] for c in IMPORT_COLUMNS], [], sheet_title=_("Employees"))
