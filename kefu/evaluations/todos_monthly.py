"""Workbench to-dos of the monthly drafts and the calibration sessions (registered in apps.ready).

- CS supervisors: the monthly drafts waiting for them, one line per month (E2.2).
- Evaluators in an open calibration session: the interactions they still have to score.

Each provider runs a fixed number of queries.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core.registry import Todo
from kefu.evaluations import access as eaccess
from kefu.evaluations.models import WEEKLY_DIMENSIONS, CalibrationScore, CalibrationSession, MonthlyEvaluation
from kefu.people.access import employee_of, has_role, scope_q


def monthly_drafts_to_do(user) -> list[Todo]:
    if not has_role(user, *eaccess.MONTHLY_EVALUATORS):
        return []
    rows = (
        MonthlyEvaluation.objects.filter(scope_q(user, eaccess.MONTHLY_EVALUATORS, field="agent__org_unit"),
                                         status=MonthlyEvaluation.Status.DRAFT)
        .exclude(agent__user=user).order_by().values_list("year", "month").annotate(n=Count("pk"))
        .order_by("year", "month")
    )
    board = reverse("evaluations:monthly_board")
    return [
        Todo(title=_("Complete and submit the monthly evaluations of %(period)s") % {"period": f"{y}-{m:02d}"},
             url=f"{board}?period={y}-{m:02d}", count=n, kind=_("Monthly evaluation"))
        for y, m, n in rows
    ]


def calibration_to_do(user) -> list[Todo]:
    me = employee_of(user)
    if me is None or not has_role(user, *eaccess.CALIBRATION_EVALUATOR_ROLES):
        return []
    sessions = list(
        CalibrationSession.objects.filter(status=CalibrationSession.Status.OPEN, evaluators=me)
        .annotate(n_items=Count("items", distinct=True),
                  n_criteria=Count("scorecard__criteria", filter=Q(scorecard__criteria__dimension__in=WEEKLY_DIMENSIONS),
                                   distinct=True))
        .order_by("created_at")
    )
    if not sessions:
        return []
    done = dict(
        CalibrationScore.objects.filter(session__in=[s.pk for s in sessions], evaluator=me).order_by()
        .values_list("session_id").annotate(n=Count("pk"))
    )
    todos = []
    for s in sessions:
        left = s.n_items * s.n_criteria - done.get(s.pk, 0)
        if left > 0:
            todos.append(Todo(title=_("Calibration: score “%(title)s” blind") % {"title": s.title},
                              url=reverse("evaluations:calibration_score", args=[s.pk]), count=left,
                              kind=_("Calibration")))
    return todos
