"""Who sees and changes inspection data (policy S1-S3; shared by plans, rectification and checks).

- **The supervision group** (S1) is every user holding ``Role.INSPECTOR`` (members come from admin,
  the CS department and HR; their role is assigned at the company root). They read everything in
  Kefu (the other apps let INSPECTOR read) and change nothing outside inspections; here they plan,
  run and record inspections, file findings, run the compliance checks and verify rectifications.
- **HR and leadership** read plans, inspections, findings, compliance results and rectifications.
- **A rectification** (S3) is also seen by its responsible person and by the department heads whose
  scope covers its department; they move it open → in progress → submitted (RECT's services check
  the step). Only inspectors verify, close or send back. They see the finding it belongs to.
- Everyone else: nothing (404).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.core import access as core_access
from kefu.core.registry import attachment_targets
from kefu.inspections.models import (
    ChecklistTemplate,
    ComplianceHit,
    ComplianceRun,
    Finding,
    Inspection,
    InspectionItem,
    InspectionPlan,
    PlanItem,
    Rectification,
    SampleRecord,
    TemplateItem,
)
from kefu.people.access import has_role, scope_q
from kefu.people.models import Role

INSPECTORS = frozenset({Role.INSPECTOR})
READERS = frozenset({Role.HR, Role.LEADERSHIP})
ALL_READERS = INSPECTORS | READERS  # nav entry, lists, dashboards
RECTIFICATION_HEADS = frozenset({Role.DEPT_HEAD})


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_inspector(user) -> bool:
    """A member of the supervision group (S1)."""
    return _signed_in(user) and has_role(user, *INSPECTORS)


def reads_inspections(user) -> bool:
    return _signed_in(user) and has_role(user, *ALL_READERS)


def _readers_only(user, qs: QuerySet) -> QuerySet:
    return qs if reads_inspections(user) else qs.none()


def _inspector_changes(user, obj) -> bool:
    return is_inspector(user)


def _rectification_q(user, prefix: str = "") -> Q:
    """Rectifications the user answers for: she is responsible, or heads the department concerned."""
    return Q(**{f"{prefix}responsible": user}) | scope_q(user, RECTIFICATION_HEADS, field=f"{prefix}org_unit")


def rectifications_visible(user, qs: QuerySet[Rectification]) -> QuerySet[Rectification]:
    if not _signed_in(user):
        return qs.none()
    if reads_inspections(user):
        return qs
    return qs.filter(_rectification_q(user))


def rectification_can_change(user, obj: Rectification) -> bool:
    """Inspectors (verify, close, send back); the responsible person and the department head (progress,
    submit). Which step each may take is the service's business."""
    if is_inspector(user):
        return True
    if not _signed_in(user):
        return False
    return Rectification.objects.filter(pk=obj.pk).filter(_rectification_q(user)).exists()


def findings_visible(user, qs: QuerySet[Finding]) -> QuerySet[Finding]:
    if not _signed_in(user):
        return qs.none()
    if reads_inspections(user):
        return qs
    return qs.filter(rectification__in=rectifications_visible(user, Rectification.objects.all()))


def item_files_visible(user, item: InspectionItem) -> bool:
    """A checklist item's files: for those who read inspections (core:attachment)."""
    return core_access.can_see(user, item)


def rectification_files_visible(user, rect: Rectification) -> bool:
    """A rectification's evidence files: for those who see the rectification (core:attachment)."""
    return core_access.can_see(user, rect)


def inspection_can_change(user, obj: Inspection) -> bool:
    """Any member of the group records an inspection until it is completed (S1)."""
    return is_inspector(user) and obj.status != Inspection.Status.COMPLETED


core_access.register(ChecklistTemplate, visible=_readers_only, can_change=_inspector_changes)
core_access.register(TemplateItem, visible=_readers_only, can_change=_inspector_changes)
core_access.register(InspectionPlan, visible=_readers_only, can_change=_inspector_changes)
core_access.register(PlanItem, visible=_readers_only, can_change=_inspector_changes)
core_access.register(Inspection, visible=_readers_only, can_change=inspection_can_change)
core_access.register(SampleRecord, visible=_readers_only, can_change=_inspector_changes)
core_access.register(InspectionItem, visible=_readers_only, can_change=_inspector_changes)
core_access.register(ComplianceRun, visible=_readers_only, can_change=_inspector_changes)
core_access.register(ComplianceHit, visible=_readers_only, can_change=_inspector_changes)
core_access.register(Finding, visible=findings_visible, can_change=_inspector_changes)
core_access.register(Rectification, visible=rectifications_visible, can_change=rectification_can_change)
attachment_targets.register(InspectionItem, item_files_visible)
attachment_targets.register(Rectification, rectification_files_visible)
