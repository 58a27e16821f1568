"""Background tasks of the interaction import and the SLA clock (django-tasks; ``manage.py db_worker`` runs them)."""

from __future__ import annotations

import datetime

from django.core.files.storage import default_storage
from django_tasks import task

from kefu.core.tabular import ImportRejected
from kefu.service.models import ImportBatch


@task()
def run_interactions_import(batch_id: int) -> str:
    """Import an uploaded file stored with its batch; the batch carries progress and the report."""
    from kefu.service import services

    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.status != ImportBatch.Status.QUEUED:
        return batch.status  # a retried task: the batch already ran

    def progress(rows: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(rows_done=rows)

    name = batch.file.name
    try:
        with default_storage.open(name, "rb") as handle:
            services.interactions_import_file(
                actor=batch.created_by, handle=handle, name=batch.file_name, via=batch.via, batch=batch,
                progress=progress,
            )
    except ImportRejected:
        pass  # the batch holds the report
    finally:
        # The report and the file's SHA-256 stay with the batch; the (possibly large) file goes.
        default_storage.delete(name)
    return ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id)


@task()
def sla_recompute_task(since: str | None, until: str | None, reason: str = "") -> dict[str, int]:
    """Recompute stored SLA deadlines for arrivals from ``since`` to ``until`` (ISO dates; None: open)."""
    from kefu.service import services

    run = services.sla_recompute(
        actor=None,
        since=datetime.date.fromisoformat(since) if since else None,
        until=datetime.date.fromisoformat(until) if until else None,
        reason=reason,
    )
    return {"checked": run.rows_checked, "changed": run.rows_changed}
