"""The daily rectification job (policy S3): reminders before the deadline, escalation after it.

django-tasks runs tasks but does not schedule them: cron runs ``manage.py inspections_daily``
once a day (or enqueues this task with ``--enqueue`` for the task workers):

    30 7 * * *  cd /srv/kefu && .venv/bin/python manage.py inspections_daily

A run is idempotent: each reminder and each escalation level goes out once per rectification.
"""

from __future__ import annotations

import datetime

from django_tasks import task


@task()
def inspections_daily_task(today: str | None = None) -> dict[str, int]:
    """Remind and escalate as of ``today`` (ISO date; default: the company's today)."""
    from kefu.inspections.rectification import rectification_remind_and_escalate

    day = datetime.date.fromisoformat(today) if today else None
    return rectification_remind_and_escalate(today=day).as_dict()
