"""Employees: list and read within scope; HR and system admins create, change, sync and move them."""


from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Router, Status
from ninja.pagination import paginate

from kefu.api.common import caller, changeable_unit, require_people_editor, visible_unit
from kefu.api.pagination import BoundedPagination
from kefu.api.schemas import (
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    EmployeePut,
    ErrorOut,
    OffboardIn,
    OnboardIn,
    ValidationErrorOut,
    named_enum,
)
from kefu.core import access
from kefu.people import services as people
from kefu.people.access import PEOPLE_EDITORS, has_role
from kefu.people.models import Employee

# Choices under names of their own in the OpenAPI document (see kefu.api.schemas.named_enum).
EmployeeStatusChoice = Annotated[Employee.Status, named_enum(Employee.Status, "EmployeeStatusChoice")]

router = Router(tags=["employees"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
MAX_PAGE = 500


def _with_unit(user, employee_no: str, *, change: bool) -> Employee:
    qs = Employee.objects.select_related("org_unit")
    if change:
        return access.get_for_change(user, qs, employee_no=employee_no)
    return access.get_for_view(user, qs, employee_no=employee_no)


def _reloaded(employee: Employee) -> Employee:
    return Employee.objects.select_related("org_unit").get(pk=employee.pk)


@router.get("/employees", response={200: list[EmployeeOut], 401: ErrorOut, 422: ValidationErrorOut},
            summary="List the employees you can see")
@paginate(BoundedPagination, max_limit=MAX_PAGE)
def employee_list(
    request: HttpRequest,
    org_unit: str | None = None,
    status: EmployeeStatusChoice | None = None,
    q: str | None = None,
):
    """Filters: ``org_unit`` (a unit's code; its whole subtree), ``status``, ``q`` (name or number contains).

    ``limit`` is capped at 500.
    """
    user = caller(request)
    qs = access.visible(user, Employee).select_related("org_unit")
    if org_unit:
        unit = visible_unit(user, org_unit, field="org_unit")
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if status:
        qs = qs.filter(status=status)
    if q and q.strip():
        term = q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(employee_no__icontains=term))
    return qs.order_by("employee_no")


@router.get("/employees/{employee_no}", response={200: EmployeeOut} | ERRORS, summary="One employee")
def employee_detail(request: HttpRequest, employee_no: str):
    return _with_unit(caller(request), employee_no, change=False)


@router.post("/employees", response={201: EmployeeOut} | ERRORS,
             summary="Create an employee (HR, system admin); she starts as pending")
def employee_create(request: HttpRequest, payload: EmployeeIn):
    user = caller(request)
    require_people_editor(user)
    data = payload.model_dump()
    reason = data.pop("reason")
    data["org_unit"] = changeable_unit(user, payload.org_unit, field="org_unit")
    employee = people.employee_create(actor=user, reason=reason, **data)
    return Status(201, _reloaded(employee))


@router.patch("/employees/{employee_no}", response={200: EmployeeOut} | ERRORS,
              summary="Change an employee's fields (HR, system admin, within scope)")
def employee_update(request: HttpRequest, employee_no: str, payload: EmployeePatch):
    user = caller(request)
    employee = _with_unit(user, employee_no, change=True)
    data = payload.model_dump(exclude_unset=True)
    reason = data.pop("reason", "")
    for key in ("position", "email", "phone"):
        if key in data and data[key] is None:
            data[key] = ""
    for key in ("name", "gender", "hire_date", "org_unit"):
        if key in data and data[key] is None:
            raise ValidationError({key: _("This field cannot be null.")})
    if "org_unit" in data:
        data["org_unit"] = changeable_unit(user, data["org_unit"], field="org_unit")
    employee = people.employee_update(actor=user, employee=employee, reason=reason, **data)
    return _reloaded(employee)


@router.put("/employees/{employee_no}", response={200: EmployeeOut, 201: EmployeeOut} | ERRORS,
            summary="Create or update by employee number (HR-system sync)")
def employee_put(request: HttpRequest, employee_no: str, payload: EmployeePut):
    """201 when the employee was created, 200 when she existed. Sending the same data again
    changes nothing and writes no audit entry, so a sync may safely retry."""
    user = caller(request)
    if payload.employee_no is not None and payload.employee_no != employee_no:
        raise ValidationError(
            {"employee_no": _("The employee number in the body differs from the one in the address.")}
        )
    if not has_role(user, *PEOPLE_EDITORS) or Employee.objects.filter(employee_no=employee_no).exists():
        _with_unit(user, employee_no, change=True)  # 404 outside scope, 403 if only visible
    data = payload.model_dump(exclude={"employee_no", "reason"})
    data["org_unit"] = changeable_unit(user, payload.org_unit, field="org_unit")
    employee, created = people.employee_upsert(
        actor=user, data={"employee_no": employee_no, **data}, reason=payload.reason
    )
    return Status(201 if created else 200, _reloaded(employee))


@router.post("/employees/{employee_no}/onboard", response={200: EmployeeOut} | ERRORS,
             summary="Onboard a pending hire: she becomes active")
def employee_onboard(request: HttpRequest, employee_no: str, payload: Body[OnboardIn | None] = None):
    user = caller(request)
    employee = _with_unit(user, employee_no, change=True)
    employee = people.employee_onboard(actor=user, employee=employee, on=payload.on if payload else None)
    return _reloaded(employee)


@router.post("/employees/{employee_no}/offboard", response={200: EmployeeOut} | ERRORS,
             summary="Offboard an employee: she leaves, her roles end, her login is disabled")
def employee_offboard(request: HttpRequest, employee_no: str, payload: OffboardIn):
    user = caller(request)
    employee = _with_unit(user, employee_no, change=True)
    employee = people.employee_offboard(
        actor=user, employee=employee, leave_date=payload.leave_date, reason=payload.reason
    )
    return _reloaded(employee)
