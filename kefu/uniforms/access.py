"""Who may see and change uniform data (DESIGN.md roles table).

- The catalogue (styles, sizes, SKUs, sets) is read by everyone signed in; admin staff edit it.
- Stock (locations, levels, the ledger, counts) is admin staff's, read by leadership and the
  supervision group (they read everything).
- Person-level records (size profiles, entitlements, holdings, returns): an employee sees her
  own; department heads and CS supervisors see their department (their assignment's subtree);
  admin staff, leadership and inspectors see everyone (their assignments cover the company).
  Admin staff change them; an employee also keeps her own size profile.
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from kefu.core import access
from kefu.people.access import has_role, scope_q
from kefu.people.models import Employee, Role
from kefu.uniforms.models import (
    Entitlement,
    Holding,
    Location,
    ReturnCheckIn,
    ReturnLine,
    SetComponent,
    SetDefinition,
    Size,
    SizeProfile,
    Sku,
    StockCount,
    StockLevel,
    StockMove,
    Style,
)

UNIFORM_ADMINS = (Role.ADMIN_STAFF,)
# Read everything (DESIGN.md: leadership and the supervision group read everything).
READ_ALL = (Role.ADMIN_STAFF, Role.LEADERSHIP, Role.INSPECTOR)
# Read their own department's people.
DEPT_VIEWERS = (Role.DEPT_HEAD, Role.CS_SUPERVISOR)
PERSON_VIEWERS = READ_ALL + DEPT_VIEWERS
# Stock-count approvers: admin staff other than the person who submitted it, or leadership.
COUNT_APPROVERS = (Role.ADMIN_STAFF, Role.LEADERSHIP)


def is_uniform_admin(user) -> bool:
    return has_role(user, *UNIFORM_ADMINS)


def reads_stock(user) -> bool:
    return has_role(user, *READ_ALL)


def person_q(user, *, field: str = "employee") -> Q:
    """Rows about employees the user may see: her own, plus those in units her roles cover."""
    return scope_q(user, PERSON_VIEWERS, field=f"{field}__org_unit") | Q(**{f"{field}__user": user})


def employees_in_scope(user, qs: QuerySet[Employee] | None = None) -> QuerySet[Employee]:
    qs = Employee.objects.all() if qs is None else qs
    return qs.filter(scope_q(user, PERSON_VIEWERS) | Q(user=user))


def admin_covers(user, employee_field: str = "employee") -> Q:
    return scope_q(user, UNIFORM_ADMINS, field=f"{employee_field}__org_unit")


# -- catalogue ---------------------------------------------------------------------------------

def everyone(user, qs: QuerySet) -> QuerySet:
    return qs


def admin_changes(user, obj) -> bool:
    return is_uniform_admin(user)


# -- stock -------------------------------------------------------------------------------------

def stock_visible(user, qs: QuerySet) -> QuerySet:
    return qs if reads_stock(user) else qs.none()


def stock_move_can_change(user, obj: StockMove) -> bool:
    return False  # append-only: corrections are new moves


# -- person-level records ----------------------------------------------------------------------

def person_visible(user, qs: QuerySet) -> QuerySet:
    return qs.filter(person_q(user))


def person_admin_changes(user, obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).filter(admin_covers(user)).exists()


def size_profile_can_change(user, obj: SizeProfile) -> bool:
    return obj.employee.user_id == user.pk or person_admin_changes(user, obj)


def return_line_visible(user, qs: QuerySet[ReturnLine]) -> QuerySet[ReturnLine]:
    return qs.filter(person_q(user, field="check_in__employee"))


CATALOGUE_MODELS: list[type[Model]] = [Style, Size, Sku, SetDefinition, SetComponent]
STOCK_MODELS: list[type[Model]] = [Location, StockLevel, StockCount]
PERSON_MODELS: list[type[Model]] = [Entitlement, Holding, ReturnCheckIn]
for catalogue_model in CATALOGUE_MODELS:
    access.register(catalogue_model, visible=everyone, can_change=admin_changes)
for stock_model in STOCK_MODELS:
    access.register(stock_model, visible=stock_visible, can_change=admin_changes)
access.register(StockMove, visible=stock_visible, can_change=stock_move_can_change)
for person_model in PERSON_MODELS:
    access.register(person_model, visible=person_visible, can_change=person_admin_changes)
access.register(SizeProfile, visible=person_visible, can_change=size_profile_can_change)
access.register(ReturnLine, visible=return_line_visible, can_change=lambda user, obj: False)

# ---- 6b's rules (requisitions, issuance, damage, compensation, scrap, disposal, dress checks) below ----

from kefu.core.registry import attachment_targets  # noqa: E402
from kefu.people.access import active_assignments  # noqa: E402
from kefu.uniforms.models import (  # noqa: E402
    Compensation,
    DamageReport,
    DisposalBatch,
    DisposalLine,
    DressCheck,
    Issuance,
    IssuanceLine,
    Requisition,
    RequisitionLine,
    ScrapRequest,
    ScrapRequestLine,
)

# U2.2 / U4.2: "her department head signs" — a department head whose assignment covers her unit.
SIGNERS = (Role.DEPT_HEAD,)
# U3.1: supervisors (team leads and CS supervisors, within their units) and the supervision group
# (inspectors, company-wide by their assignment) record dress-code spot checks.
DRESS_CHECKERS = (Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.INSPECTOR)
DRESS_VIEWERS = (*PERSON_VIEWERS, Role.TEAM_LEAD)


def covers(user, roles, employee: Employee) -> bool:
    """Whether one of the user's ``roles`` covers the employee's unit (scope is data: unit subtrees)."""
    if not getattr(user, "is_authenticated", False):
        return False
    path = employee.org_unit.path
    return any(path.startswith(p) for p in
               active_assignments(user).filter(role__in=list(roles)).values_list("org_unit__path", flat=True))


def is_self(user, employee: Employee) -> bool:
    return employee.user_id is not None and employee.user_id == user.pk


def may_sign_for(user, employee: Employee) -> bool:
    """Her department head, and never for her own form (U2.2, U4.2)."""
    return not is_self(user, employee) and covers(user, SIGNERS, employee)


def is_admin_for(user, employee: Employee) -> bool:
    return covers(user, UNIFORM_ADMINS, employee)


def may_check_dress_of(user, employee: Employee) -> bool:
    return not is_self(user, employee) and covers(user, DRESS_CHECKERS, employee)


def filed_visible(user, qs: QuerySet) -> QuerySet:
    """Forms: hers, those she filled in for someone, and those of people in her scope."""
    return qs.filter(person_q(user) | Q(filled_by=user))


def requisition_can_change(user, obj: Requisition) -> bool:
    status = Requisition.Status
    if obj.status == status.SUBMITTED:
        return may_sign_for(user, obj.employee)
    if obj.status in (status.APPROVED, status.PARTIALLY_ISSUED):
        return is_admin_for(user, obj.employee)
    if obj.status == status.DRAFT:
        return is_self(user, obj.employee) or obj.filled_by_id == user.pk
    return False


def requisition_line_visible(user, qs: QuerySet[RequisitionLine]) -> QuerySet[RequisitionLine]:
    return qs.filter(person_q(user, field="requisition__employee") | Q(requisition__filled_by=user))


def issuance_can_change(user, obj: Issuance) -> bool:
    """Only she confirms that she received it."""
    return obj.receipt_confirmed_at is None and is_self(user, obj.employee)


def issuance_line_visible(user, qs: QuerySet[IssuanceLine]) -> QuerySet[IssuanceLine]:
    return qs.filter(person_q(user, field="issuance__employee"))


def damage_can_change(user, obj: DamageReport) -> bool:
    return obj.status == DamageReport.Status.REPORTED and is_admin_for(user, obj.employee)


def compensation_can_change(user, obj: Compensation) -> bool:
    if obj.status == Compensation.Status.PENDING and is_self(user, obj.employee):
        return True
    return obj.status in (Compensation.Status.PENDING, Compensation.Status.CONFIRMED) and is_admin_for(
        user, obj.employee)


def scrap_can_change(user, obj: ScrapRequest) -> bool:
    status = ScrapRequest.Status
    if obj.status == status.SUBMITTED:
        return may_sign_for(user, obj.employee)
    if obj.status == status.HEAD_APPROVED:
        return not is_self(user, obj.employee) and is_admin_for(user, obj.employee)
    if obj.status == status.DRAFT:
        return is_self(user, obj.employee) or obj.filled_by_id == user.pk
    return False


def scrap_line_visible(user, qs: QuerySet[ScrapRequestLine]) -> QuerySet[ScrapRequestLine]:
    return qs.filter(person_q(user, field="scrap_request__employee") | Q(scrap_request__filled_by=user))


def damage_files_visible(user, report: DamageReport) -> bool:
    """A damage/loss report's photos and scans are seen by those who see the report (core:attachment)."""
    return access.can_see(user, report)


def dress_visible(user, qs: QuerySet[DressCheck]) -> QuerySet[DressCheck]:
    return qs.filter(scope_q(user, DRESS_VIEWERS, field="employee__org_unit") | Q(employee__user=user)
                     | Q(checked_by=user))


def nobody_changes(user, obj) -> bool:
    return False


access.register(Requisition, visible=filed_visible, can_change=requisition_can_change)
access.register(RequisitionLine, visible=requisition_line_visible, can_change=nobody_changes)
access.register(Issuance, visible=person_visible, can_change=issuance_can_change)
access.register(IssuanceLine, visible=issuance_line_visible, can_change=nobody_changes)
access.register(DamageReport, visible=person_visible, can_change=damage_can_change)
attachment_targets.register(DamageReport, damage_files_visible)
access.register(Compensation, visible=person_visible, can_change=compensation_can_change)
access.register(ScrapRequest, visible=filed_visible, can_change=scrap_can_change)
access.register(ScrapRequestLine, visible=scrap_line_visible, can_change=nobody_changes)
access.register(DisposalBatch, visible=stock_visible, can_change=nobody_changes)
access.register(DisposalLine, visible=stock_visible, can_change=nobody_changes)
# Spot checks are findings: recorded once, never edited (a wrong one is answered by a new check).
access.register(DressCheck, visible=dress_visible, can_change=nobody_changes)
