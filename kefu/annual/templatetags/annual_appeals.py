"""``{% annual_appeal_state result as st %}`` for the "my annual result" page (policy G3.1).

``st`` has: ``deadline`` (when the window closes), ``open`` (the window is open), ``appeals`` (hers, newest
first), ``pending`` (an appeal of hers is open), ``can_file``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from kefu.annual import appeals
from kefu.annual.models import AnnualAppeal, AnnualCycle, AnnualResult
from kefu.core import calendar

register = template.Library()


@register.simple_tag
def annual_appeal_state(result: AnnualResult) -> dict[str, Any]:
    cycle = result.cycle
    if cycle.status != AnnualCycle.Status.PUBLISHED or not result.rated or cycle.published_at is None:
        return {"deadline": None, "open": False, "appeals": [], "pending": False, "can_file": False}
    try:
        deadline = appeals.appeal_deadline(cycle)
    except calendar.CalendarNotCovered:  # the publication year's holidays are not entered yet
        return {"deadline": None, "open": False, "appeals": [], "pending": False, "can_file": False}
    is_open = timezone.now() <= deadline
    rows = list(result.appeals.order_by("-filed_at", "-pk"))
    pending = any(a.status == AnnualAppeal.Status.OPEN for a in rows)
    return {"deadline": deadline, "open": is_open, "appeals": rows, "pending": pending,
            "can_file": is_open and not pending}
