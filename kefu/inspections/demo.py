"""Demo inspections (issue 8): two plans and last month's completed inspection with one failed item.

``manage.py seed_demo`` runs ``build_inspections_demo`` after the other apps' demo data (registered in
``InspectionsConfig.ready`` through ``core.registry.demo_steps``), so the sample is drawn from the demo
evaluations when they are there. Everything goes through the services (plans, the inspection, the
draw with a fixed seed, the checklist, the finding), so the audit log holds it all. Idempotent: a
second run finds the plan and adds nothing.

- 「客服考評流程月度檢查」 (policy S2, evaluation process): monthly, whole company, document review and
  sampling (5 weekly and 3 monthly evaluations), with the process template's items.
- 「制服管理季度檢查」 (uniform management): quarterly, on-site check and sampling of issuances, scrap
  forms and SKUs to count.
- Last month's inspection of the first plan, completed: every item passed but "evidence attached",
  which failed; its finding concerns the first CS department.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.inspections import services
from kefu.inspections.models import Finding, Inspection, InspectionPlan, Method, Recurrence, Topic
from kefu.people.models import OrgUnit, Role, RoleAssignment

SEED = 20261101
PROCESS_PLAN = "客服考評流程月度檢查"
UNIFORMS_PLAN = "制服管理季度檢查"


def _inspectors() -> list:
    ids = RoleAssignment.objects.filter(role=Role.INSPECTOR, end_date__isnull=True).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk"))


@transaction.atomic
def build_inspections_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    say = log or (lambda message: None)
    plans_label, inspections_label, findings_label = _("inspection plans"), _("inspections"), _("inspection findings")
    created = {plans_label: 0, inspections_label: 0, findings_label: 0}
    if InspectionPlan.objects.filter(title=PROCESS_PLAN).exists():
        return created
    services.ensure_default_templates()
    inspectors = _inspectors()
    if not inspectors:
        return created
    lead = next((u for u in inspectors if u.get_username() == "inspector"), inspectors[0])
    process = services.plan_create(
        actor=lead, title=PROCESS_PLAN, topic=Topic.PROCESS, recurrence=Recurrence.MONTHLY,
        methods=[Method.DOCUMENT_REVIEW, Method.SAMPLING],
        sample_sizes={"weekly_evaluation": 5, "monthly_evaluation": 3}, inspectors=inspectors)
    services.plan_create(
        actor=lead, title=UNIFORMS_PLAN, topic=Topic.UNIFORMS, recurrence=Recurrence.QUARTERLY,
        methods=[Method.ON_SITE, Method.SAMPLING],
        sample_sizes={"issuance": 3, "scrap_request": 2, "sku_count": 5}, inspectors=inspectors)
    created[plans_label] = 2

    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    inspection = services.inspection_create(
        actor=lead, plan=process, period_start=first, period_end=last, kind=Inspection.Kind.SCHEDULED,
        title=f"{PROCESS_PLAN} {first:%Y-%m}", start=True)
    services.sample_draw(actor=lead, inspection=inspection, sizes=None, seed=SEED)
    for item in inspection.items.all():
        if item.clause == "E2.1" and "證據" in item.text:
            services.item_record(actor=lead, item=item, result="fail",
                                 notes="抽查的週考評中有一份未附任何證據（現場觀察、通話錄音或聊天記錄）。")
        else:
            services.item_record(actor=lead, item=item, result="pass")
    department = (OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, is_customer_service=True)
                  .order_by("path").first())
    for finding in Finding.objects.filter(inspection=inspection):
        if department is not None:
            services.finding_update(actor=lead, finding=finding, title=finding.title, detail=finding.detail,
                                    org_unit=department)
        created[findings_label] += 1
    services.inspection_complete(actor=lead, inspection=inspection,
                                 summary="流程大致按規定執行；一項不合格，已列為發現事項，待提出整改要求。")
    created[inspections_label] = 1
    say(f"inspections: 2 plans, {inspection.title} completed")
    return created
