"""Who may see and change people data.

Scope is data: a role assignment names the org unit it covers, and covers
that unit's whole subtree. An agent sees only herself; every other role sees
the employees in the units it covers (HR or leadership assigned to the company
root therefore see everyone). HR and system admins change employees and org
units within their scope.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from kefu.core import access
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

# Roles that may change employees and org units in their scope.
PEOPLE_EDITORS = (Role.HR, Role.SYSADMIN)


def active_assignments(user, *, on: datetime.date | None = None) -> QuerySet[RoleAssignment]:
    on = on or timezone.localdate()
    return RoleAssignment.objects.filter(user=user, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on)
    )


def roles_of(user, *, on: datetime.date | None = None) -> set[str]:
    """The roles a user holds today (cached on the user object for one request)."""
    return {role for role, _path in _assignments(user, on)}


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def _assignments(user, on: datetime.date | None = None) -> list[tuple[str, str]]:
    """(role, unit path) of the user's assignments in force on ``on``, read once per request and
    cached on the user object: a page asks for the roles and the scopes of several roles."""
    if not getattr(user, "is_authenticated", False):
        return []
    cache_key = f"_kefu_assignments_{on}"
    cached = getattr(user, cache_key, None)
    if cached is None:
        cached = list(active_assignments(user, on=on).values_list("role", "org_unit__path"))
        setattr(user, cache_key, cached)
    return cached


def _role_paths(user, roles: Iterable[str], on: datetime.date | None = None) -> list[str]:
    wanted = set(roles)
    return [path for role, path in _assignments(user, on) if role in wanted]


def scope_q(user, roles: Iterable[str], *, field: str = "org_unit", on: datetime.date | None = None) -> Q:
    """A Q matching rows whose ``field`` (an OrgUnit FK) lies in a unit covered by one of ``roles``."""
    paths = _role_paths(user, roles, on)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__path__startswith": path})
    return q


def employee_of(user) -> Employee | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.employee
    except Employee.DoesNotExist:
        return None


NON_AGENT_ROLES = [r for r in Role.values if r != Role.AGENT]


def employees_visible(user, qs: QuerySet[Employee]) -> QuerySet[Employee]:
    q = scope_q(user, NON_AGENT_ROLES) | Q(user=user)
    return qs.filter(q)


def employee_can_change(user, obj: Employee) -> bool:
    return Employee.objects.filter(pk=obj.pk).filter(scope_q(user, PEOPLE_EDITORS)).exists()


def units_visible(user, qs: QuerySet[OrgUnit]) -> QuerySet[OrgUnit]:
    paths = _role_paths(user, NON_AGENT_ROLES)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    own = employee_of(user)
    if own is not None:
        q |= Q(pk=own.org_unit_id)
    return qs.filter(q)


def units_in_scope(user, roles: Iterable[str], qs: QuerySet[OrgUnit] | None = None) -> QuerySet[OrgUnit]:
    """The units lying in a subtree covered by one of ``roles`` (e.g. where HR may place people)."""
    paths = _role_paths(user, roles)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return (OrgUnit.objects.all() if qs is None else qs).filter(q)


def unit_can_change(user, obj: OrgUnit) -> bool:
    paths = _role_paths(user, PEOPLE_EDITORS)
    return any(obj.path.startswith(p) for p in paths)


# Role assignments: HR and system admins see those covering units in their scope (everyone sees
# her own); only a system admin assigns and ends them.
ROLE_VIEWERS = (Role.HR, Role.SYSADMIN)


def assignments_visible(user, qs: QuerySet[RoleAssignment]) -> QuerySet[RoleAssignment]:
    return qs.filter(scope_q(user, ROLE_VIEWERS) | Q(user=user))


def assignment_can_change(user, obj: RoleAssignment) -> bool:
    return RoleAssignment.objects.filter(pk=obj.pk).filter(scope_q(user, [Role.SYSADMIN])).exists()


access.register(Employee, visible=employees_visible, can_change=employee_can_change)
access.register(OrgUnit, visible=units_visible, can_change=unit_can_change)
access.register(RoleAssignment, visible=assignments_visible, can_change=assignment_can_change)
