"""Workbench to-dos of the rectifications (policy S3), registered in apps.ready.

- The person responsible (and a department head for her departments): rectifications open, sent
  back, or overdue.
- Inspectors: rectifications submitted and waiting for verification.

Each provider runs a fixed number of queries (one aggregate), whatever the number of rectifications.
"""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.registry import Todo
from kefu.inspections.models import Rectification
from kefu.people.access import has_role, scope_q
from kefu.people.models import Role

Status = Rectification.Status
WITH_DEPARTMENT = (Status.OPEN, Status.IN_PROGRESS)


def responsible_to_do(user) -> list[Todo]:
    today = timezone.localdate()
    mine = Q(responsible=user)
    if has_role(user, Role.DEPT_HEAD):
        mine |= scope_q(user, [Role.DEPT_HEAD], field="org_unit")
    row = Rectification.objects.filter(mine, status__in=WITH_DEPARTMENT).order_by().aggregate(
        open=Count("pk", filter=Q(status=Status.OPEN, deadline__gte=today)),
        open_due=Min("deadline", filter=Q(status=Status.OPEN, deadline__gte=today)),
        sent_back=Count("pk", filter=Q(status=Status.IN_PROGRESS, sent_back_count__gt=0, deadline__gte=today)),
        sent_back_due=Min("deadline", filter=Q(status=Status.IN_PROGRESS, sent_back_count__gt=0,
                                               deadline__gte=today)),
        overdue=Count("pk", filter=Q(deadline__lt=today)),
        overdue_due=Min("deadline", filter=Q(deadline__lt=today)),
    )
    url = reverse("inspections:rectification_mine")
    kind = _("Rectification")
    todos = []
    if row["overdue"]:
        todos.append(Todo(title=_("Rectifications overdue"), url=url, count=row["overdue"], due=row["overdue_due"],
                          late=True, kind=kind))
    if row["sent_back"]:
        todos.append(Todo(title=_("Rectifications sent back: rework and submit again"), url=url,
                          count=row["sent_back"], due=row["sent_back_due"], kind=kind))
    if row["open"]:
        todos.append(Todo(title=_("Rectifications to carry out"), url=url, count=row["open"], due=row["open_due"],
                          kind=kind))
    return todos


def inspector_to_do(user) -> list[Todo]:
    if not has_role(user, Role.INSPECTOR):
        return []
    n = Rectification.objects.filter(status=Status.SUBMITTED).exclude(responsible=user).count()
    if not n:
        return []
    return [Todo(title=_("Rectifications submitted: verify the evidence"),
                 url=reverse("inspections:rectification_dashboard") + "?status=submitted", count=n,
                 kind=_("Rectification"))]
