"""Scheduled jobs of the evaluations (4a part)."""

from __future__ import annotations

from django_tasks import task

from kefu.evaluations import services


@task()
def close_appeal_windows_task() -> dict[str, int]:
    """Submitted monthly evaluations whose appeal window closed become final (G3.1). Run hourly."""
    return {"finalised": services.monthly_close_appeal_windows()}
