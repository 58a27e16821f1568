"""Access rules for core's own models, and the roles core's pages are for.

Role values as in ``people.models.Role``; core reads roles through
``registry.roles_of`` because it does not import the people app.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.core import access, registry
from kefu.core.models import AuditEntry, PolicyValue

# The audit log is read by HR, the supervision group and system admins (DESIGN.md roles table).
AUDIT_READERS = frozenset({"hr", "inspector", "sysadmin"})
# Policy parameters: every role but the agent reads them; only the system admin sets them.
POLICY_READERS = frozenset(
    {"team_lead", "cs_supervisor", "dept_head", "admin_staff", "hr", "leadership", "inspector", "sysadmin"}
)
POLICY_EDITORS = frozenset({"sysadmin"})


def reads_audit(user) -> bool:
    return bool(registry.roles_of(user) & AUDIT_READERS)


def reads_policy(user) -> bool:
    return bool(registry.roles_of(user) & POLICY_READERS)


def edits_policy(user) -> bool:
    return bool(registry.roles_of(user) & POLICY_EDITORS)


def audit_visible(user, qs: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
    return qs if reads_audit(user) else qs.none()


def audit_can_change(user, obj: AuditEntry) -> bool:
    return False  # append-only: nobody changes an entry, whatever her roles


def policy_visible(user, qs: QuerySet[PolicyValue]) -> QuerySet[PolicyValue]:
    return qs if reads_policy(user) else qs.none()


def policy_can_change(user, obj: PolicyValue) -> bool:
    return edits_policy(user)


access.register(AuditEntry, visible=audit_visible, can_change=audit_can_change)
access.register(PolicyValue, visible=policy_visible, can_change=policy_can_change)
