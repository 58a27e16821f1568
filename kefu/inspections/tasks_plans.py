"""The scheduled job that makes the inspections recurring plans have due (policy S2).

django-tasks runs tasks but does not schedule them: cron runs ``manage.py inspection_plans_due``
early each day (or enqueues this task with ``--enqueue`` for the task workers):

    10 7 * * *  cd /srv/kefu && .venv/bin/python manage.py inspection_plans_due

A run is idempotent per plan and period, so running it daily makes each month's / quarter's inspection once.
"""

from __future__ import annotations

import datetime

from django_tasks import task


@task()
def plans_due_task(on: str | None = None) -> dict[str, int]:
    """Make the inspections due as of ``on`` (ISO date; default: the company's today)."""
    from kefu.inspections.services import plans_due

    run = plans_due(on=datetime.date.fromisoformat(on) if on else None)
    return {"plans": run.plans, "created": run.created, "existing": run.existing}
