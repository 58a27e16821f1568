"""Test data for the rectification tests: an inspection with a failed item and its finding, built with
the ORM (the rectification tests should not depend on how plans and inspections are run)."""

from __future__ import annotations

import datetime

from kefu.inspections.models import Finding, Inspection, InspectionItem, Topic
from kefu.people.models import OrgUnit


def make_finding(*, inspector, unit: OrgUnit, title: str = "每週日常考評未附證據",
                 detail: str = "抽查 3 份，2 份無證據") -> Finding:
    inspection = Inspection.objects.create(
        title="2026 年 11 月考評流程檢查", topic=Topic.PROCESS, org_unit=unit,
        period_start=datetime.date(2026, 11, 1), period_end=datetime.date(2026, 11, 30),
        status=Inspection.Status.IN_PROGRESS, lead_inspector=inspector, created_by=inspector,
    )
    item = InspectionItem.objects.create(inspection=inspection, text="每週日常考評是否按時完成並附有證據",
                                         clause="E2.1", order=1, result=InspectionItem.Result.FAIL,
                                         recorded_by=inspector)
    return Finding.objects.create(inspection=inspection, item=item, title=title, detail=detail, org_unit=unit,
                                  created_by=inspector)
