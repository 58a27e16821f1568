"""Workbench to-dos of the evaluations (registered in apps.ready).

- Evaluators (team lead, CS supervisor): from each Monday, the week's weekly evaluations
  still to submit for the agents in their scope (E2.1: once a week); last week's still
  missing show as late.
- Agents: weekly evaluations to read and acknowledge; monthly evaluations to acknowledge or
  appeal before the window closes (G3.1).
- Department heads: appeals to decide.

Each provider runs a fixed number of queries, whatever the number of agents.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.registry import Todo
from kefu.evaluations import access as eaccess
from kefu.evaluations.models import Appeal, MonthlyEvaluation, WeeklyEvaluation
from kefu.people.access import employee_of, has_role


def _week_key(day: datetime.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def missing_weekly_counts(user, *mondays: datetime.date) -> list[int]:
    """For each week (its Monday): agents in ``user``'s evaluator scope hired by its end with no submitted
    weekly evaluation for it. One query for all the weeks (issue 9: the workbench is read on every visit):
    the agents hired by then, less those among them with the week's evaluation submitted — the week's
    evaluations read once through (week_start, agent), not probed for each agent."""
    counts = {}
    for i, monday in enumerate(mondays):
        hired = Q(hire_date__lte=monday + datetime.timedelta(days=6))
        done = (WeeklyEvaluation.objects.filter(week_start=monday)
                .exclude(status=WeeklyEvaluation.Status.DRAFT).values("agent_id"))
        counts[f"hired{i}"] = Count("pk", filter=hired)
        counts[f"done{i}"] = Count("pk", filter=hired & Q(pk__in=done))
    row = eaccess.evaluable_agents(user).order_by().aggregate(**counts)
    return [(row[f"hired{i}"] or 0) - (row[f"done{i}"] or 0) for i in range(len(mondays))]


def missing_weekly_count(user, monday: datetime.date) -> int:
    """Agents in ``user``'s evaluator scope with no submitted weekly evaluation for the week of ``monday``."""
    return missing_weekly_counts(user, monday)[0]


def weekly_to_do(user) -> list[Todo]:
    if not eaccess.is_weekly_evaluator(user):
        return []
    today = timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    last_monday = this_monday - datetime.timedelta(days=7)
    board = reverse("evaluations:weekly_board")
    todos = []
    late, due = missing_weekly_counts(user, last_monday, this_monday)
    if late:
        y, w = _week_key(last_monday)
        todos.append(Todo(
            title=_("Weekly evaluations of %(week)s not done") % {"week": f"{y}-W{w:02d}"},
            url=board, count=late, due=last_monday + datetime.timedelta(days=6), late=True,
            kind=_("Weekly evaluation"),
        ))
    if due:
        y, w = _week_key(this_monday)
        todos.append(Todo(
            title=_("Weekly evaluations of %(week)s to do") % {"week": f"{y}-W{w:02d}"},
            url=board, count=due, due=this_monday + datetime.timedelta(days=6), late=False,
            kind=_("Weekly evaluation"),
        ))
    return todos


def agent_to_do(user) -> list[Todo]:
    me = employee_of(user)
    if me is None:
        return []
    todos = []
    weekly = list(WeeklyEvaluation.objects.filter(agent=me, status=WeeklyEvaluation.Status.SUBMITTED)
                  .order_by("week_start").values_list("pk", "iso_year", "iso_week"))
    for pk, year, week in weekly:
        todos.append(Todo(
            title=_("Read and acknowledge your weekly evaluation %(week)s") % {"week": f"{year}-W{week:02d}"},
            url=reverse("evaluations:weekly_detail", args=[pk]), kind=_("Weekly evaluation"),
        ))
    now = timezone.now()
    for ev in MonthlyEvaluation.objects.filter(agent=me, status=MonthlyEvaluation.Status.SUBMITTED).order_by(
            "year", "month"):
        deadline = timezone.localtime(ev.appeal_deadline) if ev.appeal_deadline else None
        todos.append(Todo(
            title=_("Acknowledge or appeal your monthly evaluation %(month)s") % {"month": ev.period_label},
            url=reverse("evaluations:monthly_detail", args=[ev.pk]),
            due=deadline.date() if deadline else None,
            late=bool(ev.appeal_deadline and ev.appeal_deadline < now), kind=_("Monthly evaluation"),
        ))
    return todos


def appeals_to_decide(user) -> list[Todo]:
    if not has_role(user, *eaccess.APPEAL_DECIDERS):
        return []
    from kefu.people.access import scope_q

    count = (access.visible(user, Appeal).filter(status=Appeal.Status.OPEN)
             .filter(scope_q(user, eaccess.APPEAL_DECIDERS, field="evaluation__agent__org_unit"))
             .exclude(evaluation__agent__user=user).exclude(evaluation__supervisor__user=user).count())
    if not count:
        return []
    return [Todo(title=_("Appeals against monthly evaluations to decide"), url=reverse("evaluations:appeals"),
                 count=count, kind=_("Appeal"))]
