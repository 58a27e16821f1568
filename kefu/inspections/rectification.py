"""Rectification of findings (policy S3): the request, its flow, reminders and escalation.

    open ──start──▶ in_progress ──submit (evidence)──▶ submitted ──verify──▶ closed
      └──────────────submit──────────────────────────▲    │
                        ▲─────────send back (reason)───────┘

- An inspector asks for it from a finding (one per finding), naming the department and the person
  responsible, what must change and a deadline: by default today + ``inspections.rectification_days``
  calendar days (policy S3, the parameter in force today). A deadline in the past is refused.
- The person responsible or a department head of the department (a ``Role.DEPT_HEAD`` assignment
  covering it) starts it and submits it with written evidence and attachments; only an inspector
  verifies (closes) it or sends it back with a reason.
- The daily job (``rectification_remind_and_escalate``, ``manage.py inspections_daily``) reminds the
  person responsible ``REMINDER_DAYS`` calendar days before the deadline (once), and escalates one
  that is overdue (deadline passed, not yet submitted): level 1 tells the department head(s) on the
  first overdue day, level 2 tells leadership when it is still overdue ``inspections.escalation_days``
  days after that. Each step happens once, however often the job runs.

Every write locks the row (``select_for_update``) and checks the state first, so a double-submitted
form or two servers running the job take effect once.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import attachments as core_attachments
from kefu.core import audit, policy
from kefu.core.services import notify
from kefu.inspections.models import Finding, Rectification
from kefu.people.access import has_role
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

# policy S3 leaves "reminders before the deadline" open: the person responsible is reminded this
# many calendar days before the deadline (and on any later day up to it, if the job missed that day).
REMINDER_DAYS = 3
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 10
# The file's first bytes decide its type (kefu.core.uploads), never its name.
ATTACHMENT_TYPES = ("pdf", "png", "jpeg", "webp")
ATTACHMENT_KINDS = "PDF, PNG, JPEG, WebP"

FIELDS = ["finding_id", "org_unit_id", "responsible_id", "requirement", "deadline", "status", "evidence",
          "sent_back_count", "submitted_at", "verified_by_id", "verified_at", "closed_at", "reminder_sent_at",
          "escalation_level", "escalated_at"]

Status = Rectification.Status
# Overdue once the deadline has passed while the work is still with the department.
WITH_DEPARTMENT = (Status.OPEN, Status.IN_PROGRESS)


def rectification_url(rect: Rectification) -> str:
    return reverse("inspections:rectification_detail", args=[rect.pk])


def _today(today: datetime.date | None = None) -> datetime.date:
    return today or timezone.localdate()


def default_deadline(today: datetime.date | None = None) -> datetime.date:
    """Today + ``inspections.rectification_days`` calendar days (policy S3), the value in force today."""
    today = _today(today)
    return today + datetime.timedelta(days=policy.get("inspections.rectification_days", on=today))


def is_overdue(rect: Rectification, today: datetime.date | None = None) -> bool:
    return rect.status in WITH_DEPARTMENT and rect.deadline < _today(today)


# ---- who ------------------------------------------------------------------------------------------


def _covering(role: str, unit: OrgUnit, on: datetime.date) -> QuerySet[RoleAssignment]:
    """Assignments of ``role`` in force on ``on`` whose unit covers ``unit`` (it or a unit above it)."""
    prefixes = _ancestor_paths(unit.path)
    return (RoleAssignment.objects.filter(role=role, start_date__lte=on, org_unit__path__in=prefixes,
                                          user__is_active=True)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=on)))


def _ancestor_paths(path: str) -> list[str]:
    """"/1/4/9/" → ["/1/", "/1/4/", "/1/4/9/"]."""
    ids = [p for p in path.split("/") if p]
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def department_heads(unit: OrgUnit, on: datetime.date | None = None) -> list[Any]:
    """The users holding a department-head role that covers ``unit`` today."""
    user_ids = _covering(Role.DEPT_HEAD, unit, _today(on)).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk"))


def leadership(unit: OrgUnit, on: datetime.date | None = None) -> list[Any]:
    """The users holding a leadership role that covers ``unit`` today (normally the company root)."""
    user_ids = _covering(Role.LEADERSHIP, unit, _today(on)).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk"))


def is_inspector(user) -> bool:
    return has_role(user, Role.INSPECTOR)


def is_department_head_of(user, rect: Rectification, on: datetime.date | None = None) -> bool:
    return _covering(Role.DEPT_HEAD, rect.org_unit, _today(on)).filter(user_id=user.pk).exists()


def can_work_on(user, rect: Rectification) -> bool:
    """The person responsible and the department's head(s) start and submit it (policy S3)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return rect.responsible_id == user.pk or is_department_head_of(user, rect)


def can_verify(user, rect: Rectification) -> bool:
    """Only the supervision group verifies or sends back; never the person responsible for it."""
    return is_inspector(user) and rect.responsible_id != user.pk


def responsible_candidates(unit: OrgUnit) -> QuerySet[Employee]:
    """People who may be named responsible: active employees with a login, in ``unit`` or below."""
    return (Employee.objects.filter(org_unit__path__startswith=unit.path, status=Employee.Status.ACTIVE,
                                    user__isnull=False, user__is_active=True)
            .select_related("org_unit", "user").order_by("org_unit__path", "employee_no"))


# ---- helpers --------------------------------------------------------------------------------------


def _locked(rect: Rectification) -> Rectification:
    return Rectification.objects.select_for_update().select_related("org_unit", "finding").get(pk=rect.pk)


def _state_error(rect: Rectification) -> ValidationError:
    return ValidationError(_("This rectification is %(status)s: that step is not possible now.")
                           % {"status": rect.get_status_display()}, code="state")


def _record(actor, action: str, rect: Rectification, before: dict[str, Any] | None, reason: str = "") -> None:
    audit.record(actor=actor, action=action, obj=rect, changes=audit.diff(before, audit.snapshot(rect, FIELDS)),
                 reason=reason)


def _department_team(rect: Rectification) -> list[Any]:
    """The person responsible and the department head(s), each once."""
    people = {rect.responsible_id: rect.responsible}
    for head in department_heads(rect.org_unit):
        people.setdefault(head.pk, head)
    return list(people.values())


# ---- the request ----------------------------------------------------------------------------------


@transaction.atomic
def rectification_request(*, actor, finding: Finding, responsible, requirement: str,
                          deadline: datetime.date | None = None, org_unit: OrgUnit | None = None) -> Rectification:
    """An inspector asks the department concerned to rectify a finding (policy S3); one per finding."""
    if not is_inspector(actor):
        raise PermissionDenied
    finding = Finding.objects.select_for_update().select_related("org_unit").get(pk=finding.pk)
    if Rectification.objects.filter(finding=finding).exists():
        raise ValidationError(_("This finding already has a rectification request."), code="exists")
    today = timezone.localdate()
    unit = org_unit or finding.org_unit
    errors: dict[str, list[str]] = {}
    requirement = (requirement or "").strip()
    if not requirement:
        errors["requirement"] = [_("Say what must change.")]
    if deadline is None:
        deadline = default_deadline(today)  # policy S3: [rectification days]
    elif deadline < today:
        errors["deadline"] = [_("The deadline %(date)s has passed; choose today or a later day.")
                              % {"date": deadline.isoformat()}]
    if responsible is None or not getattr(responsible, "is_active", False):
        errors["responsible"] = [_("Choose an active person responsible.")]
    elif unit is not None and not responsible_candidates(unit).filter(user=responsible).exists():
        errors["responsible"] = [_("The person responsible must work in %(unit)s or one of its units.")
                                 % {"unit": unit.name}]
    if errors:
        raise ValidationError(errors)
    rect = Rectification(finding=finding, org_unit=unit, responsible=responsible, requirement=requirement,
                         deadline=deadline, status=Status.OPEN, created_by=actor)
    rect.full_clean()
    try:
        with transaction.atomic():
            rect.save()
    except IntegrityError as e:  # a concurrent request for the same finding won the race
        raise ValidationError(_("This finding already has a rectification request."), code="exists") from e
    audit.record(actor=actor, action="rectification.request", obj=rect,
                 changes={k: v for k, v in audit.diff(None, audit.snapshot(rect, FIELDS)).items()
                          if v[1] not in (None, "")})
    notify(recipients=_department_team(rect),
           title=_("Rectification requested: %(title)s") % {"title": finding.title},
           body=_("%(requirement)s\nDeadline: %(deadline)s") % {"requirement": requirement,
                                                                  "deadline": deadline.isoformat()},
           url=rectification_url(rect))
    return rect


# ---- the flow -------------------------------------------------------------------------------------


@transaction.atomic
def rectification_start(*, actor, rectification: Rectification) -> Rectification:
    rect = _locked(rectification)
    if not can_work_on(actor, rect):
        raise PermissionDenied
    if rect.status != Status.OPEN:
        raise _state_error(rect)
    before = audit.snapshot(rect, FIELDS)
    rect.status = Status.IN_PROGRESS
    rect.full_clean()
    rect.save()
    _record(actor, "rectification.start", rect, before)
    return rect


@transaction.atomic
def rectification_submit(*, actor, rectification: Rectification, evidence: str,
                         attachments: Sequence[UploadedFile] = ()) -> Rectification:
    """The department hands in its evidence (written, with files) for an inspector to verify."""
    rect = _locked(rectification)
    if not can_work_on(actor, rect):
        raise PermissionDenied
    if rect.status not in WITH_DEPARTMENT:
        raise _state_error(rect)
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": _("Describe what was done: the evidence is required.")})
    before = audit.snapshot(rect, FIELDS)
    # Every file checked before any is stored, by the one core service; the submit's audit entry names them.
    stored = core_attachments.attachments_add(actor=actor, target=rect, uploads=attachments, kinds=ATTACHMENT_TYPES,
                                              max_bytes=ATTACHMENT_MAX_BYTES, max_count=ATTACHMENT_MAX_COUNT,
                                              field="attachments", record=False)
    added = [{"name": a.original_name, "type": a.mime_type, "size": a.size} for a in stored]
    rect.status = Status.SUBMITTED
    rect.evidence = evidence
    rect.submitted_at = timezone.now()
    rect.full_clean()
    rect.save()
    audit.record(actor=actor, action="rectification.submit", obj=rect,
                 changes=audit.diff(before, audit.snapshot(rect, FIELDS)) | (
                     {"attachments": [None, added]} if added else {}))
    inspectors = [rect.created_by] if rect.created_by_id else []
    notify(recipients=inspectors, title=_("Rectification submitted for verification: %(title)s")
           % {"title": rect.finding.title}, body=evidence, url=rectification_url(rect))
    return rect


@transaction.atomic
def rectification_verify(*, actor, rectification: Rectification, note: str = "") -> Rectification:
    """An inspector accepts the evidence: the rectification is closed."""
    rect = _locked(rectification)
    if not can_verify(actor, rect):
        raise PermissionDenied
    if rect.status != Status.SUBMITTED:
        raise _state_error(rect)
    before = audit.snapshot(rect, FIELDS)
    now = timezone.now()
    rect.status = Status.CLOSED
    rect.verified_by = actor
    rect.verified_at = now
    rect.closed_at = now
    rect.full_clean()
    rect.save()
    _record(actor, "rectification.verify", rect, before, reason=(note or "").strip())
    notify(recipients=_department_team(rect), title=_("Rectification verified and closed: %(title)s")
           % {"title": rect.finding.title}, body=(note or "").strip(), url=rectification_url(rect))
    return rect


@transaction.atomic
def rectification_send_back(*, actor, rectification: Rectification, reason: str) -> Rectification:
    """An inspector finds the evidence wanting: back to the department, with the reason."""
    rect = _locked(rectification)
    if not can_verify(actor, rect):
        raise PermissionDenied
    if rect.status != Status.SUBMITTED:
        raise _state_error(rect)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the rectification goes back.")})
    before = audit.snapshot(rect, FIELDS)
    rect.status = Status.IN_PROGRESS
    rect.sent_back_count += 1
    rect.full_clean()
    rect.save()
    _record(actor, "rectification.send_back", rect, before, reason=reason)
    notify(recipients=_department_team(rect), title=_("Rectification sent back: %(title)s")
           % {"title": rect.finding.title}, body=reason, url=rectification_url(rect))
    return rect


# ---- the daily job: reminders and escalation ------------------------------------------------------


@dataclass
class DailyRun:
    reminded: int = 0
    escalated_to_head: int = 0
    escalated_to_leadership: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"reminded": self.reminded, "escalated_to_head": self.escalated_to_head,
                "escalated_to_leadership": self.escalated_to_leadership}


def escalation_dates(rect: Rectification, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """(level 1 date, level 2 date): the first overdue day, and ``inspections.escalation_days`` days after it."""
    first_overdue = rect.deadline + datetime.timedelta(days=1)
    days = policy.get("inspections.escalation_days", on=_today(today))
    return first_overdue, first_overdue + datetime.timedelta(days=days)


def _remind(rect: Rectification, today: datetime.date) -> bool:
    rect = _locked(rect)
    if (rect.status not in WITH_DEPARTMENT or rect.reminder_sent_at is not None
            or not (rect.deadline - datetime.timedelta(days=REMINDER_DAYS) <= today <= rect.deadline)):
        return False
    before = audit.snapshot(rect, FIELDS)
    rect.reminder_sent_at = timezone.now()
    rect.save(update_fields=["reminder_sent_at", "updated_at"])
    _record(None, "rectification.remind", rect, before)
    days_left = (rect.deadline - today).days
    notify(recipients=[rect.responsible],
           title=_("Rectification due on %(date)s: %(title)s") % {"date": rect.deadline.isoformat(),
                                                                    "title": rect.finding.title},
           body=_("%(n)s day(s) left. %(requirement)s") % {"n": days_left, "requirement": rect.requirement},
           url=rectification_url(rect))
    return True


def _escalate(rect: Rectification, today: datetime.date) -> tuple[bool, bool]:
    """Raise the escalation level as far as ``today`` calls for; (told heads, told leadership)."""
    rect = _locked(rect)
    if rect.status not in WITH_DEPARTMENT or rect.deadline >= today:
        return False, False
    level1, level2 = escalation_dates(rect, today)
    target = 2 if today >= level2 else 1 if today >= level1 else 0
    if rect.escalation_level >= target:
        return False, False
    before = audit.snapshot(rect, FIELDS)
    told_heads = told_leaders = False
    overdue_days = (today - rect.deadline).days
    title = rect.finding.title
    if rect.escalation_level < 1 <= target:
        # policy S3 (issue 8): an overdue request goes first to the department head(s) ...
        notify(recipients=department_heads(rect.org_unit, today),
               title=_("Rectification overdue in %(unit)s: %(title)s") % {"unit": rect.org_unit.name, "title": title},
               body=_("The deadline was %(date)s (%(n)s day(s) ago). Responsible: %(person)s.")
               % {"date": rect.deadline.isoformat(), "n": overdue_days, "person": _person(rect.responsible)},
               url=rectification_url(rect))
        told_heads = True
    if rect.escalation_level < 2 <= target:
        # ... and then, still overdue inspections.escalation_days days later, to leadership.
        notify(recipients=leadership(rect.org_unit, today),
               title=_("Rectification still overdue in %(unit)s: %(title)s")
               % {"unit": rect.org_unit.name, "title": title},
               body=_("The deadline was %(date)s (%(n)s day(s) ago). Responsible: %(person)s.")
               % {"date": rect.deadline.isoformat(), "n": overdue_days, "person": _person(rect.responsible)},
               url=rectification_url(rect))
        told_leaders = True
    rect.escalation_level = target
    rect.escalated_at = timezone.now()
    rect.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
    _record(None, "rectification.escalate", rect, before,
            reason=f"overdue since {rect.deadline.isoformat()}, level {target}")
    return told_heads, told_leaders


def _person(user) -> str:
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def rectification_remind_and_escalate(*, today: datetime.date | None = None) -> DailyRun:
    """The daily job: reminders before the deadline and escalation after it. Idempotent."""
    today = _today(today)
    run = DailyRun()
    due_soon = list(Rectification.objects.filter(
        status__in=WITH_DEPARTMENT, reminder_sent_at__isnull=True,
        deadline__gte=today, deadline__lte=today + datetime.timedelta(days=REMINDER_DAYS),
    ).order_by("pk").values_list("pk", flat=True))
    for pk in due_soon:
        with transaction.atomic():
            if _remind(Rectification(pk=pk), today):
                run.reminded += 1
    overdue = list(Rectification.objects.filter(status__in=WITH_DEPARTMENT, deadline__lt=today,
                                                escalation_level__lt=2)
                   .order_by("pk").values_list("pk", flat=True))
    for pk in overdue:
        with transaction.atomic():
            heads, leaders = _escalate(Rectification(pk=pk), today)
            run.escalated_to_head += heads
            run.escalated_to_leadership += leaders
    return run

