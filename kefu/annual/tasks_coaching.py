"""The nightly job that makes the owed coaching plans (policy E3.3).

django-tasks runs tasks but does not schedule them: cron runs ``manage.py coaching_sync`` nightly,
or enqueues this task with ``manage.py coaching_sync --enqueue`` for the task workers:

    30 2 * * *  cd /srv/kefu && .venv/bin/python manage.py coaching_sync

Monthly evaluations become final in the evaluations app (acknowledged, appeal window closed, appeal
decided), which does not know about annual: the nightly run picks them up. Publishing an annual cycle
also runs it at once (``services.cycle_publish``). A run is idempotent, also two at once.
"""

from __future__ import annotations

from django_tasks import task


@task()
def coaching_sync_task() -> dict[str, int]:
    from kefu.annual.coaching import coaching_sync

    run = coaching_sync(actor=None)
    return {"annual": run.annual, "monthly": run.monthly, "without_coach": run.without_coach}
