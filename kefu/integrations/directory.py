"""Directory login (LDAP / Active Directory) through django-auth-ldap.

The backend sits after Django's ModelBackend (kefu/settings.py), so local accounts log in as before,
also while the directory is down. On each directory login:

- the login is linked to its Employee by employee number or e-mail (KEFU_LDAP_EMPLOYEE_MATCH / _ATTR),
  when she has no login yet;
- the roles of her mapped directory groups (KEFU_LDAP_ROLE_MAP) are synced: missing ones are assigned,
  ones whose group she left are ended — only assignments the directory made (DirectoryRoleGrant),
  never roles granted in Kefu.

A directory login never takes over a local account that has a password (same user name): that
login is refused, so a directory entry cannot become a local administrator.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django_auth_ldap.backend import LDAPBackend, ldap_error

from kefu.core import audit
from kefu.integrations.models import DirectoryRoleGrant
from kefu.people import services as people
from kefu.people.models import Employee, OrgUnit, RoleAssignment

log = logging.getLogger(__name__)


class KefuLDAPBackend(LDAPBackend):
    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.has_usable_password():
            raise ldap_user.AuthenticationFailed("a local account with a password has this user name")
        return user, built

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        attrs = {k.lower(): v for k, v in (ldap_user.attrs or {}).items()}
        group_dns = {dn.lower() for dn in (ldap_user.group_dns or set())}
        try:
            directory_login_sync(user=user, attrs=attrs, group_dns=group_dns)
        except Exception:
            # The login itself stands; the roles stay as they were and the log says why.
            log.exception("Directory role sync failed for %s", user.username)
        return user


@receiver(ldap_error)
def _directory_unreachable(sender: Any, context: str, user: Any, request: Any, exception: Exception,
                           **kwargs: Any) -> None:
    """Tell the person at the login form that the directory, not her password, is the problem."""
    import ldap

    if request is None or not isinstance(exception, ldap.SERVER_DOWN | ldap.TIMEOUT | ldap.CONNECT_ERROR):
        return
    try:
        messages.error(request, _("The company directory cannot be reached right now, so directory accounts "
                                  "cannot log in. Local Kefu accounts still can; try again later or ask "
                                  "the system admin."))
    except messages.MessageFailure:
        pass


def _first(attrs: dict[str, list[str]], name: str) -> str:
    values = attrs.get(name.lower()) or []
    return str(values[0]).strip() if values else ""


def _link_employee(*, user: Any, attrs: dict[str, list[str]]) -> Employee | None:
    existing = Employee.objects.filter(user=user).first()
    if existing is not None:
        return existing
    value = _first(attrs, getattr(settings, "KEFU_LDAP_EMPLOYEE_ATTR", "employeeNumber"))
    if not value:
        return None
    qs = (Employee.objects.filter(employee_no=value) if getattr(settings, "KEFU_LDAP_EMPLOYEE_MATCH", "employee_no") == "employee_no"
          else Employee.objects.filter(email__iexact=value))
    matches = list(qs.select_for_update()[:2])
    if len(matches) != 1 or matches[0].user_id is not None:
        return None  # none, ambiguous, or already someone else's login: left to HR
    employee = matches[0]
    employee.user = user
    employee.save(update_fields=["user", "updated_at"])
    audit.record(actor=None, action="employee.link_login", obj=employee,
                 changes={"user_id": [None, user.pk]}, reason=_("Directory login"))
    return employee


def _wanted(group_dns: set[str]) -> dict[tuple[str, str], str]:
    """(role, unit code) → the group granting it, for the mapped groups she is in."""
    out: dict[tuple[str, str], str] = {}
    for dn, pairs in getattr(settings, "KEFU_LDAP_ROLE_MAP", {}).items():
        if dn in group_dns:
            for pair in pairs:
                out.setdefault(pair, dn)
    return out


@transaction.atomic
def directory_login_sync(*, user: Any, attrs: dict[str, list[str]], group_dns: set[str],
                         today: datetime.date | None = None) -> dict[str, list[str]]:
    """Link the Employee and sync the directory's role grants; returns {"added": […], "ended": […]}."""
    today = today or timezone.localdate()
    _link_employee(user=user, attrs=attrs)
    wanted = _wanted(group_dns)
    units = {u.code: u for u in OrgUnit.objects.filter(code__in={code for _r, code in wanted})}
    grants = list(
        DirectoryRoleGrant.objects.select_related("assignment__org_unit")
        .select_for_update(of=("self",))
        .filter(assignment__user=user)
        .filter(assignment__start_date__lte=today)
        .exclude(assignment__end_date__lt=today)
    )
    held = {(g.assignment.role, g.assignment.org_unit.code): g for g in grants}
    reason = _("Directory group sync")
    added, ended = [], []
    for (role, code), dn in wanted.items():
        if (role, code) in held:
            continue
        unit = units.get(code)
        if unit is None:
            log.warning("KEFU_LDAP_ROLE_MAP names org unit %s, which does not exist", code)
            continue
        local = RoleAssignment.objects.filter(user=user, role=role, org_unit=unit, start_date__lte=today).exclude(
            end_date__lt=today).exists()
        if local:
            continue  # granted in Kefu already: nothing to add, and the directory will not end it
        assignment = people.role_assign(actor=None, user=user, role=role, org_unit=unit, start_date=today,
                                        reason=f"{reason}: {dn}")
        DirectoryRoleGrant.objects.create(assignment=assignment, group_dn=dn)
        added.append(f"{role}@{code}")
    for (role, code), grant in held.items():
        if (role, code) in wanted:
            continue
        assignment = grant.assignment
        if assignment.start_date < today:
            people.role_end(actor=None, assignment=assignment, end_date=today - datetime.timedelta(days=1),
                            reason=f"{reason}: {grant.group_dn}")
        else:
            # Granted today and gone today: the assignment is withdrawn (an end date cannot precede its start).
            audit.record(actor=None, action="role.withdraw", obj=assignment,
                         changes=audit.diff(audit.snapshot(assignment, people.ROLE_FIELDS), None),
                         reason=f"{reason}: {grant.group_dn}")
            assignment.delete()
        ended.append(f"{role}@{code}")
    return {"added": added, "ended": ended}
