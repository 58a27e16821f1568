"""The scheduled job that makes last month's monthly drafts (policy E2.2).

django-tasks runs tasks but does not schedule them: cron (or any scheduler) runs
``manage.py monthly_drafts`` early on the 1st of each month, or enqueues this task with
``manage.py monthly_drafts --enqueue`` for the task workers:

    15 6 1 * *  cd /srv/kefu && .venv/bin/python manage.py monthly_drafts

A run is idempotent (``services.monthly_drafts_create``): a second run, a retry, or a
supervisor's click on the board's button make each draft once.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from kefu.evaluations.forms_monthly import previous_month


@task()
def monthly_drafts_task(year: int | None = None, month: int | None = None) -> dict[str, int]:
    """Make the drafts of ``year``-``month`` (default: the month that has just ended)."""
    from kefu.evaluations.services import monthly_drafts_create

    if year is None or month is None:
        year, month = previous_month(timezone.localdate())
    run = monthly_drafts_create(actor=None, year=year, month=month)
    return {"agents": run.agents, "created": run.created, "existing": run.existing,
            "without_supervisor": run.without_supervisor}
