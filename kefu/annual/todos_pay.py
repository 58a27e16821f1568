"""Workbench to-dos of pay and appeals (registered in apps.ready); each provider runs a few queries.

- HR: annual appeals to decide (G3.1); pay proposals of published cycles to approve (E3.1).
- Agent: her published result with the appeal window open and no appeal filed (G3.1).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual import appeals
from kefu.annual.access import HR
from kefu.annual.models import AnnualAppeal, AnnualCycle, AnnualResult
from kefu.core import calendar
from kefu.core.registry import Todo
from kefu.people.access import has_role, scope_q


def hr_to_do(user) -> list[Todo]:
    if not has_role(user, *HR):
        return []
    todos = []
    n = (AnnualAppeal.objects.filter(scope_q(user, HR, field="result__employee__org_unit"),
                                     status=AnnualAppeal.Status.OPEN)
         .exclude(result__employee__user=user).count())
    if n:
        todos.append(Todo(title=_("Annual appeals to decide"), url=reverse("annual:appeals"), count=n,
                          kind=_("Annual evaluation")))
    for cycle in AnnualCycle.objects.filter(status=AnnualCycle.Status.PUBLISHED, pay_approved_at__isnull=True):
        try:
            due = timezone.localdate(appeals.appeal_deadline(cycle))
        except calendar.CalendarNotCovered:  # the year's holidays are not entered yet: no date, still a to-do
            due = None
        todos.append(Todo(title=_("Approve the %(year)s pay proposals") % {"year": cycle.year},
                          url=reverse("annual:pay", args=[cycle.year]), due=due, kind=_("Annual evaluation")))
    return todos


def agent_to_do(user) -> list[Todo]:
    now = timezone.now()
    todos = []
    for r in (AnnualResult.objects.filter(employee__user=user, rated=True, cycle__status=AnnualCycle.Status.PUBLISHED)
              .exclude(appeals__isnull=False).select_related("cycle")):
        try:
            deadline = appeals.appeal_deadline(r.cycle)
        except calendar.CalendarNotCovered:
            continue
        if now <= deadline:
            todos.append(Todo(title=_("Read your %(year)s annual result (appeal until %(when)s)") % {
                "year": r.cycle.year, "when": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
                url=reverse("annual:mine"), due=timezone.localdate(deadline), kind=_("Annual evaluation")))
    return todos
