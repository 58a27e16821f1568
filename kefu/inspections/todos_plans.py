"""Workbench to-do of the plans and inspections (policy S2), registered in apps.ready.

An inspector sees the inspections she leads that are planned (to start) or in progress (to record
and complete). One aggregate query whatever their number.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core.registry import Todo
from kefu.inspections import access as iaccess
from kefu.inspections.models import Inspection

Status = Inspection.Status


def inspections_to_do(user) -> list[Todo]:
    if not iaccess.is_inspector(user):
        return []
    row = Inspection.objects.filter(lead_inspector=user).order_by().aggregate(
        planned=Count("pk", filter=Q(status=Status.PLANNED)),
        running=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
    )
    kind = _("Inspection")
    todos = []
    if row["running"]:
        todos.append(Todo(title=_("Inspections in progress: record and complete"),
                          url=reverse("inspections:inspection_list") + "?status=in_progress",
                          count=row["running"], kind=kind))
    if row["planned"]:
        todos.append(Todo(title=_("Inspections planned: start them"),
                          url=reverse("inspections:inspection_list") + "?status=planned",
                          count=row["planned"], kind=kind))
    return todos
