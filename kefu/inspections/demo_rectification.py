"""Demo rectifications (``manage.py seed_demo``, after the demo inspections and their findings).

Each finding still without a rectification gets one, through the services, in one of the states a
dashboard should show: open, in progress, submitted, sent back, overdue and escalated to the
department head, verified and closed. Idempotent: a second run finds no finding without one.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.inspections import rectification as rs
from kefu.inspections.models import Finding, Rectification
from kefu.people.models import Role, RoleAssignment

DEMO_LIMIT = 12
STATES = ["open", "in_progress", "submitted", "overdue", "closed", "sent_back"]
# Demo data, stored as company data in Chinese.
REQUIREMENTS = [
    "補齊缺漏的每週日常考評，並附上錄音或評分表作為證據",
    "重新檢視評分偏離部門平均的考評，說明理由或更正",
    "按規定補辦制服領用申請表並由部門負責人簽核",
]
EVIDENCE = "已完成整改：相關表單已補齊並上傳，班組會議已宣導。"


def _responsible(finding: Finding):
    """A team lead, CS supervisor or department head in the finding's unit, else anyone working there."""
    people = rs.responsible_candidates(finding.org_unit)
    today = timezone.localdate()
    leads = RoleAssignment.objects.filter(
        role__in=[Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.DEPT_HEAD], start_date__lte=today,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).values("user_id")
    employee = people.filter(user_id__in=leads).first() or people.first()
    return employee.user if employee is not None else None


def build_rectification_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    inspector = (RoleAssignment.objects.filter(role=Role.INSPECTOR, user__is_active=True)
                 .select_related("user").order_by("user_id").first())
    if inspector is None:
        return {}
    actor = inspector.user
    today = timezone.localdate()
    made = 0
    findings = list(Finding.objects.filter(rectification__isnull=True).select_related("org_unit").order_by("pk")
                    [:DEMO_LIMIT])
    for i, finding in enumerate(findings):
        responsible = _responsible(finding)
        if responsible is None or responsible.pk == actor.pk:
            continue
        state = STATES[i % len(STATES)]
        with transaction.atomic():
            rect = rs.rectification_request(actor=actor, finding=finding, responsible=responsible,
                                            requirement=REQUIREMENTS[i % len(REQUIREMENTS)],
                                            deadline=today + datetime.timedelta(days=3 + 2 * i))
            if state in ("in_progress", "sent_back"):
                rect = rs.rectification_start(actor=responsible, rectification=rect)
            if state in ("submitted", "closed", "sent_back"):
                rect = rs.rectification_submit(actor=responsible, rectification=rect, evidence=EVIDENCE)
            if state == "closed":
                rs.rectification_verify(actor=actor, rectification=rect, note="證據齊全，同意結案。")
            if state == "sent_back":
                rs.rectification_send_back(actor=actor, rectification=rect, reason="缺少第 46 週的評分表，請補上。")
            if state == "overdue":
                # Demo history: a request made weeks ago whose deadline passed two days ago.
                Rectification.objects.filter(pk=rect.pk).update(deadline=today - datetime.timedelta(days=2))
        made += 1
    if made:
        rs.rectification_remind_and_escalate(today=today)
        if log:
            log(f"{made} rectification request(s)")
    return {_("rectifications"): made}
