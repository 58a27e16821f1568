"""Service writes: importing interactions (issue 3 item 2) and keeping their SLA clock right (item 3).

``interactions_import`` is the one import path behind the upload page, ``manage.py
import_interactions`` and ``POST /api/v1/interactions/bulk``. It runs in two phases:

1. read, check and compute: rows stream from the file, each is checked (the employees are
   one dict, the SLA parameters and calendar one snapshot), its SLA computed, and it is
   appended to a temporary staging table in chunks. Nothing in the interaction table is
   touched, so this phase may report progress (it runs outside the write transaction);
2. one transaction: the staged rows are merged by a single set-based statement
   (``bulk.Stage.merge``), the batch is marked done and one audit entry names the batch,
   its file, hash and counts — one entry per import, not per row.

If any row is bad nothing is merged: the batch is marked rejected and ``ImportRejected``
carries every bad row (row number, field, reason).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.tabular import ImportRejected, ImportReport, RowError, TableError
from kefu.people.access import has_role, scope_q
from kefu.people.models import Employee
from kefu.service import bulk, fastimport, ingest
from kefu.service.access import INTERACTION_IMPORTERS
from kefu.service.models import ImportBatch, Interaction, Priority, SlaRecomputeRun
from kefu.service.sla import SLA_KEYS, SlaClock

# Who loads interactions from the source systems: system admins for the whole company,
# CS supervisors for the agents of the units they cover.
IMPORTERS = tuple(INTERACTION_IMPORTERS)
CHUNK_ROWS = 20_000
RECOMPUTE_CHUNK = 20_000

Progress = Callable[[int], None]


def may_import(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and has_role(user, *IMPORTERS)


def _importable_employees(actor) -> Any:
    """None: every employee (the command line, or a scope covering everyone); else a queryset of ids."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    scoped = Employee.objects.filter(scope_q(actor, IMPORTERS)).values("id")
    if scoped.count() == Employee.objects.count():
        return None
    return scoped


class _Problems:
    """Collects row errors for the report, keeping at most ImportBatch.ERRORS_KEPT but counting all."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.count = 0

    def __call__(self, row: int | None, field: str, message: str) -> None:
        self.count += 1
        if len(self.report.errors) < ImportBatch.ERRORS_KEPT:
            self.report.errors.append(RowError(row, field, str(message)))


def _uncovered_warning(year: int, n: int) -> str:
    return _(
        "The work calendar of %(year)s is not entered yet: %(n)s interaction(s) have a deadline that needs it, "
        "stored as unknown for now. They are recomputed when a system admin enters and confirms %(year)s."
    ) % {"year": year, "n": n}


def import_batch_start(*, actor, via: str, file_name: str = "", file_sha256: str = "", file=None) -> ImportBatch:
    """A new interaction import batch (queued); the file, if any, is stored with it."""
    if actor is not None and getattr(actor, "is_authenticated", False) and not may_import(actor):
        raise PermissionDenied
    batch = ImportBatch(
        kind=ImportBatch.Kind.INTERACTIONS, via=via, file_name=(file_name or "")[:255], file_sha256=file_sha256,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if file is not None:
        batch.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{file_sha256[:12] or 'upload'}.dat", file, save=False)
    batch.full_clean(exclude=["file"])
    batch.save()
    return batch


def file_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _finish_rejected(batch: ImportBatch, report: ImportReport, problems: _Problems) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.REJECTED, rows_total=report.rows_read, rows_done=report.rows_read,
        error_count=max(problems.count, len(report.errors)),
        errors=[{"row": e.row, "field": e.field, "message": e.message} for e in report.errors],
        warnings=list(report.warnings), finished_at=timezone.now(),
    )


def interactions_import(
    *,
    actor,
    rows_source: ingest.RowSource,
    via: str,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    now: datetime.datetime | None = None,
) -> ImportReport:
    """Upsert interactions by (source, external_id), all or nothing (see the module docstring).

    ``actor`` None is the system (the command line). Returns the report; raises
    ImportRejected (nothing saved) with every bad row, PermissionDenied for a caller who may
    not import. ``now`` (default: the current time) is when times stop being "in the future".
    """
    if actor is not None and getattr(actor, "is_authenticated", False) and not may_import(actor):
        raise PermissionDenied
    if batch is None:
        batch = import_batch_start(actor=actor, via=via, file_name=rows_source.name)
    now = now or timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING, started_at=now, rows_total=rows_source.total_estimate
    )
    report = ImportReport()
    problems = _Problems(report)
    allowed_qs = _importable_employees(actor)
    allowed = None if allowed_qs is None else set(allowed_qs.values_list("id", flat=True))
    employees = dict(Employee.objects.values_list("employee_no", "id"))
    clock = SlaClock()
    checker = ingest.RowChecker(index=rows_source.index, employees=employees, allowed=allowed, now=now,
                                tz=clock.tz, error=problems)
    uncovered: Counter[int] = Counter()
    compute = clock.compute_us
    check = checker.check
    urgent = Priority.URGENT

    if allowed_qs is None and fastimport.available(rows_source):
        # PostgreSQL and a CSV file: COPY and set-based SQL (kefu.service.fastimport); None when a
        # row is bad or unusual, and the row-by-row path below then judges (and names) every row.
        done = _import_fast(actor=actor, rows_source=rows_source, batch=batch, report=report, now=now,
                            clock=clock, progress=progress)
        if done:
            return report
        layout = rows_source.csv
        assert layout is not None
        rows_source = ingest.open_file(layout.handle, name=rows_source.name)
        report = ImportReport()
        problems = _Problems(report)
        checker = ingest.RowChecker(index=rows_source.index, employees=employees, allowed=allowed, now=now,
                                    tz=clock.tz, error=problems)
        check = checker.check

    try:
        with bulk.Stage() as stage:
            buffer: list[Sequence[Any]] = []
            rows_read = 0
            for row_no, cells in rows_source:
                rows_read += 1
                if progress is not None and rows_read % ingest.PROGRESS_EVERY == 0:
                    progress(rows_read)
                p = check(row_no, cells)
                if p is None or problems.count:
                    continue  # once a row is bad nothing is merged: only checking goes on
                (fr_due, res_due, fr_status, res_status, fr_seconds, res_seconds, missing_year) = compute(
                    p.received_us, p.local_date, p.priority == urgent, p.first_response_us, p.resolved_us)
                if missing_year is not None:
                    uncovered[missing_year] += 1
                buffer.append((
                    p.row, p.source, p.external_id, p.channel, p.priority, p.kind, p.customer_ref, p.subject,
                    p.received_us, p.first_response_us, p.resolved_us, p.recording_url, p.local_date, p.agent_id,
                    p.first_responder_id, p.resolver_id, fr_due, res_due, fr_status, res_status, fr_seconds,
                    res_seconds,
                ))
                if len(buffer) >= chunk_rows:
                    stage.write(buffer)
                    buffer.clear()
            report.rows_read = rows_read
            report.warnings.extend(_uncovered_warning(year, n) for year, n in sorted(uncovered.items()))
            if not problems.count:
                stage.write(buffer)
                buffer.clear()
                if rows_read == 0:
                    problems(None, "", _("The file has no rows to import."))
            if not problems.count and allowed_qs is not None:
                for row_no, _agent_id in stage.rows_outside(allowed_qs):
                    problems(row_no, "external_id", _(
                        "This interaction is already here for an agent outside the units you may import for."))
            if problems.count:
                _finish_rejected(batch, report, problems)
                raise ImportRejected(report)
            if progress is not None:
                progress(rows_read)
            _merge(actor=actor, stage=stage, batch=batch, report=report, now=now)
    except TableError as e:  # the file stopped being readable part-way (a broken CSV, say)
        for error in e.report.errors:
            problems(error.row, error.field, error.message)
        _finish_rejected(batch, report, problems)
        raise ImportRejected(report) from e
    except ImportRejected:
        raise
    except Exception as e:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, message=str(e)[:2000], finished_at=timezone.now()
        )
        raise
    return report


def _import_fast(*, actor, rows_source: ingest.RowSource, batch: ImportBatch, report: ImportReport,
                 now: datetime.datetime, clock: SlaClock, progress: Progress | None) -> bool:
    """The PostgreSQL COPY path; False (nothing changed) when the row-by-row path must decide."""
    try:
        stage = fastimport.attempt(rows_source, now=now, clock=clock)
        if stage is None:
            return False
        report.rows_read = stage.rows
        if progress is not None:
            progress(stage.rows)
        try:
            _merge(actor=actor, stage=stage, batch=batch, report=report, now=now)
        except fastimport.Fallback:
            report.created = report.updated = report.unchanged = 0
            return False
        return True
    except Exception as e:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, message=str(e)[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        fastimport.drop()


@transaction.atomic
def _merge(*, actor, stage: bulk.Stage | fastimport.FastStage, batch: ImportBatch, report: ImportReport, now: datetime.datetime) -> None:
    created, updated = stage.merge(now=now)
    report.created, report.updated = created, updated
    report.unchanged = report.rows_read - created - updated
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    before = audit.snapshot(batch, ["status"])
    batch.status = ImportBatch.Status.DONE
    batch.rows_total = batch.rows_done = report.rows_read
    batch.created_count, batch.updated_count, batch.unchanged_count = created, updated, report.unchanged
    batch.warnings = list(report.warnings)
    batch.finished_at = timezone.now()
    batch.save()
    audit.record(
        actor=actor,
        action="interactions.import",
        obj=batch,
        changes=audit.diff(before, audit.snapshot(batch, ["status"])) | {
            "via": [None, batch.via],
            "file_name": [None, batch.file_name],
            "file_sha256": [None, batch.file_sha256],
            "rows": [None, report.rows_read],
            "created": [None, created],
            "updated": [None, updated],
            "unchanged": [None, report.unchanged],
        },
        object_repr=str(_("Interaction import %(name)s") % {"name": batch.file_name or f"#{batch.pk}"}),
    )


def interactions_import_file(*, actor, handle: IO[bytes], name: str, via: str, batch: ImportBatch | None = None,
                             progress: Progress | None = None, now: datetime.datetime | None = None) -> ImportReport:
    """Import a CSV/XLSX file (a binary, seekable handle); the batch records its name and SHA-256."""
    digest = file_sha256(handle)
    if batch is None:
        batch = import_batch_start(actor=actor, via=via, file_name=name, file_sha256=digest)
    elif not batch.file_sha256:
        ImportBatch.objects.filter(pk=batch.pk).update(file_sha256=digest)
        batch.file_sha256 = digest
    try:
        source = ingest.open_file(handle, name=name)
    except TableError as e:
        report = ImportReport(errors=list(e.report.errors))
        _finish_rejected(batch, report, _Problems(ImportReport()))
        raise
    return interactions_import(actor=actor, rows_source=source, via=via, batch=batch, progress=progress, now=now)


def import_template() -> bytes:
    """The .xlsx template: the exact header names and one example row."""
    from kefu.core import tabular

    return tabular.write_xlsx(ingest.HEADERS, [ingest.EXAMPLE_ROW], sheet_title="interactions")


# --- the SLA clock kept right ------------------------------------------------------------------


def sla_recompute(
    *,
    actor,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    reason: str = "",
    progress: Progress | None = None,
    chunk: int = RECOMPUTE_CHUNK,
) -> SlaRecomputeRun:
    """Recompute the stored SLA of the interactions that came in from ``since`` to ``until``
    (company-local dates, inclusive; None: unbounded) with today's calendar and parameters.

    Runs in chunks of ``chunk`` rows, each in its own transaction (a long recomputation holds
    no lock for long); only rows whose values change are written, with one ``UPDATE … FROM``
    per chunk. One audit entry names the run and its counts.
    """
    if since is not None and until is not None and until < since:
        raise ValidationError({"until": _("The end date is before the start date.")})
    run = SlaRecomputeRun.objects.create(
        since=since, until=until, reason=reason, started_at=timezone.now(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    clock = SlaClock()
    qs = Interaction.objects.all()
    if since is not None:
        qs = qs.filter(local_date__gte=since)
    if until is not None:
        qs = qs.filter(local_date__lte=until)
    fields = ("id", "received_at", "priority", "first_response_at", "resolved_at", "local_date", *bulk.SLA_COLUMNS)
    last_id = 0
    checked = changed = 0
    # PostgreSQL: one set-based UPDATE (kefu.service.fastimport); None when a year is not covered
    fast = fastimport.recompute(since=since, until=until, clock=clock, now=timezone.now()) \
        if bulk.is_postgres() else None
    if fast is not None:
        checked, changed = fast
        if progress is not None:
            progress(checked)
    while fast is None:
        rows = list(qs.filter(id__gt=last_id).order_by("id").values_list(*fields)[:chunk])
        if not rows:
            break
        last_id = rows[-1][0]
        updates = []
        for pk, received, priority, first_response, resolved, local_date, *stored in rows:
            sla = clock.compute(received_at=received, priority=priority, first_response_at=first_response,
                                resolved_at=resolved, local_date=local_date)
            new = (sla.first_reply_due_at, sla.resolution_due_at, sla.first_reply_status, sla.resolution_status,
                   sla.first_reply_working_seconds, sla.resolution_working_seconds)
            if tuple(stored) != new:
                updates.append((pk, *new))
        checked += len(rows)
        if updates:
            with transaction.atomic():
                changed += bulk.update_sla(updates, now=timezone.now())
        if progress is not None:
            progress(checked)
    with transaction.atomic():
        run.rows_checked, run.rows_changed, run.finished_at = checked, changed, timezone.now()
        run.save(update_fields=["rows_checked", "rows_changed", "finished_at"])
        audit.record(
            actor=actor, action="interactions.sla_recompute", obj=run,
            changes={"since": [None, since], "until": [None, until], "rows_checked": [None, checked],
                     "rows_changed": [None, changed]},
            reason=reason,
        )
    return run


# How far back a calendar change can reach: a deadline of [resolution] working days, stretched
# by a long holiday, lies well within this many calendar days of the arrival. The working time
# taken by an interaction open for longer is brought up to date by `manage.py sla_recompute`.
CALENDAR_LOOKBACK_DAYS = 62


def recompute_window_for_calendar(since: datetime.date | None, until: datetime.date | None
                                  ) -> tuple[datetime.date | None, datetime.date | None]:
    """The arrival dates whose SLA a calendar change on [since, until] can move."""
    if since is None:
        return None, until
    return since - datetime.timedelta(days=CALENDAR_LOOKBACK_DAYS), until


def on_calendar_changed(*, since: datetime.date | None, until: datetime.date | None) -> None:
    """core.registry hook: the calendar changed on these dates (after commit); recompute in the background."""
    from kefu.service.tasks import sla_recompute_task

    first, last = recompute_window_for_calendar(since, until)
    sla_recompute_task.enqueue(
        since=first.isoformat() if first else None, until=last.isoformat() if last else None,
        reason=_("Work calendar changed (%(dates)s)") % {
            "dates": "–".join(d.isoformat() for d in dict.fromkeys([since, until]) if d) or _("weekly hours")},
    )


def on_policy_changed(*, key: str, effective_from: datetime.date) -> None:
    """core.registry hook: an SLA parameter changed from a date on; recompute the arrivals since then."""
    if key not in SLA_KEYS:
        return
    from kefu.service.tasks import sla_recompute_task

    sla_recompute_task.enqueue(
        since=effective_from.isoformat(), until=None,
        reason=_("Policy parameter %(key)s changed from %(date)s") % {"key": key, "date": effective_from.isoformat()},
    )


def records_import(*, actor, records: Iterable[dict[str, Any]], via: str = ImportBatch.Via.API,
                   name: str = "") -> ImportReport:
    """Import a list of dicts (the JSON API's body) through the same path as files."""
    return interactions_import(actor=actor, rows_source=ingest.records_source(list(records), name=name), via=via)
