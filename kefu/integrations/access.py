"""Who sees and changes integration data.

- Chat bots, message templates and the delivery log: the system admin only (webhook URLs and secrets
  are credentials). Everyone else: 404.
- HR sync runs: the system admin and HR (the people editors) read them; nobody changes a run.
- Directory role grants: read with the role assignments (the people pages); never changed by hand.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.core import access as core_access
from kefu.integrations.models import ChatHook, Delivery, DirectoryRoleGrant, HrSyncRun, MessageTemplate
from kefu.people.access import has_role
from kefu.people.models import Role

ADMINS = frozenset({Role.SYSADMIN})
SYNC_READERS = frozenset({Role.SYSADMIN, Role.HR})


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and has_role(user, *ADMINS))


def reads_sync(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and has_role(user, *SYNC_READERS))


def _admin_only(user, qs: QuerySet) -> QuerySet:
    return qs if is_admin(user) else qs.none()


def _admin_changes(user, obj) -> bool:
    return is_admin(user)


for _model in (ChatHook, MessageTemplate, Delivery, DirectoryRoleGrant):
    core_access.register(_model, visible=_admin_only, can_change=_admin_changes)
core_access.register(HrSyncRun, visible=lambda user, qs: qs if reads_sync(user) else qs.none(),
                     can_change=lambda user, obj: False)
