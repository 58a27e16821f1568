"""Setup helpers for the plans/inspections tests (helper "plans")."""

from __future__ import annotations

import datetime

from kefu.inspections import services
from kefu.inspections.models import Inspection, Method, Topic

OCT_START, OCT_END = datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)


def running_inspection(actor, *, org_unit=None, sizes=None, items=None, methods=None, title="十月抽查") -> Inspection:
    """An unannounced inspection of October 2026, started, with three typed items."""
    return services.inspection_create(
        actor=actor, title=title, topic=Topic.PROCESS, org_unit=org_unit,
        methods=methods or [Method.DOCUMENT_REVIEW, Method.SAMPLING],
        sample_sizes=sizes if sizes is not None else {"weekly_evaluation": 3},
        period_start=OCT_START, period_end=OCT_END,
        items=items or [("每週日常考評是否按時完成", "E2.1"), ("日常考評是否附有證據", "E2.1"),
                        ("月度考評是否按時定稿", "E2.2")],
        start=True)
