"""Workbench to-dos of coaching (policy E3.3), registered in apps.ready; a fixed number of queries each.

- CS supervisors: draft plans to fill in; active plans past their due date without the follow-up.
- HR: cases opened by unmet goals, to decide.
"""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual import coaching
from kefu.annual.models import CoachingPlan, HrCase
from kefu.core.registry import Todo
from kefu.people.access import has_role, scope_q

P = CoachingPlan.Status


def supervisor_to_do(user) -> list[Todo]:
    if not has_role(user, *coaching.PLAN_MANAGERS):
        return []
    today = timezone.localdate()
    got = (CoachingPlan.objects.filter(scope_q(user, coaching.PLAN_MANAGERS, field="employee__org_unit"))
           .exclude(employee__user=user)
           .aggregate(drafts=Count("pk", filter=Q(status=P.DRAFT)),
                      late=Count("pk", filter=Q(status=P.ACTIVE, due_date__lt=today)),
                      oldest_late=Min("due_date", filter=Q(status=P.ACTIVE, due_date__lt=today))))
    url = reverse("annual:coaching_list")
    todos = []
    if got["drafts"]:
        todos.append(Todo(title=_("Fill in the coaching plans: goals, coach and due date"), url=f"{url}?status=draft",
                          count=got["drafts"], kind=_("Coaching")))
    if got["late"]:
        todos.append(Todo(title=_("Coaching plans past their due date: record the follow-up evaluation"),
                          url=f"{url}?overdue=on", count=got["late"], due=got["oldest_late"], late=True,
                          kind=_("Coaching")))
    return todos


def hr_to_do(user) -> list[Todo]:
    if not has_role(user, *coaching.CASE_DECIDERS):
        return []
    n = (HrCase.objects.filter(scope_q(user, coaching.CASE_DECIDERS, field="plan__employee__org_unit"),
                               status=HrCase.Status.OPEN).exclude(plan__employee__user=user).count())
    if not n:
        return []
    return [Todo(title=_("HR cases to decide: coaching goals not met"), url=reverse("annual:hr_cases") + "?status=open",
                 count=n, kind=_("Coaching"))]
