"""HR sync: org units and employees from the HR system, by CSV drop folder or the API, on a schedule.

Employees go through kefu/people's own import (people.services.employee_import: same columns, same
checks, GBK or UTF-8 CSV or .xlsx); a row with a leave date for someone still employed offboards her
through people.services.employee_offboard. Org units go through people.services.orgunit_create /
orgunit_update, read with the same table reader (kefu.core.tabular.read_table).

The drop folder (KEFU_HR_SYNC_DIR, ``manage.py hr_sync`` from cron): every ``*.csv`` / ``*.xlsx`` in it
is processed once, in name order, org-unit files first (a name starting with "units", "org_units" or
"orgunits"; every other file holds employees). A file is applied whole or not at all, then moved to
``done/`` or ``failed/`` with ``<file>.report.json`` beside it; each run is also an HrSyncRun row.
A dry run (``--dry-run``, or ``dry_run`` in the API) reports what would change and moves nothing.
"""

from __future__ import annotations

import datetime
import fcntl
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import tabular
from kefu.integrations.models import HrSyncRun
from kefu.people import services as people
from kefu.people.models import OrgUnit

UNIT_COLUMNS: dict[str, list[str]] = {
    "code": ["Org unit code", "代碼", "代码", "部門代碼", "部门代码", "組織代碼", "组织代码", "unit code"],
    "name": ["Name", "名稱", "名称", "部門名稱", "部门名称"],
    "kind": ["Kind", "類型", "类型"],
    "parent": ["Parent", "Parent code", "上級", "上级", "上級代碼", "上级代码", "parent unit"],
    "is_customer_service": ["Customer service", "客服", "客服部門", "客服部门", "customer-service unit"],
    "active": ["Active", "啟用", "启用", "有效"],
}
UNIT_REQUIRED = frozenset({"code"})
KINDS = {
    "company": OrgUnit.Kind.COMPANY, "公司": OrgUnit.Kind.COMPANY,
    "department": OrgUnit.Kind.DEPARTMENT, "部門": OrgUnit.Kind.DEPARTMENT, "部门": OrgUnit.Kind.DEPARTMENT,
    "team": OrgUnit.Kind.TEAM, "團隊": OrgUnit.Kind.TEAM, "团队": OrgUnit.Kind.TEAM, "組": OrgUnit.Kind.TEAM,
    "组": OrgUnit.Kind.TEAM,
}
TRUE = {"1", "true", "yes", "y", "是", "t"}
FALSE = {"0", "false", "no", "n", "否", "f"}
UNIT_PREFIXES = ("units", "org_units", "orgunits", "org-units")


def _bool(value: Any, column: str, report: tabular.ImportReport, row: int) -> bool | None:
    text = tabular.cell_text(value).casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    report.error(row, column, _("“%(value)s” is not yes or no.") % {"value": text})
    return None


def units_sync(*, actor, file: Any, name: str | None = None) -> tabular.ImportReport:
    """Create and update org units from a table; raises ImportRejected with every bad row.

    Runs inside the caller's transaction (the caller rolls back for a dry run). A parent may be
    named before or after its children in the file.
    """
    if getattr(actor, "is_authenticated", False):
        # The org tree is the whole company's: only HR or a system admin at the top unit changes it.
        from kefu.people.access import PEOPLE_EDITORS, active_assignments

        if not active_assignments(actor).filter(role__in=PEOPLE_EDITORS, org_unit__parent__isnull=True).exists():
            raise PermissionDenied
    table = tabular.read_table(file, columns=UNIT_COLUMNS, required=UNIT_REQUIRED, name=name)
    report = tabular.ImportReport()
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row, values in table:
        report.rows_read += 1
        code = tabular.cell_text(values.get("code"))
        if not code:
            report.error(row, "code", _("This field is required."))
            continue
        if code in seen:
            report.error(row, "code", _("The code %(code)s is also on row %(row)d.") % {"code": code, "row": seen[code]})
            continue
        seen[code] = row
        rows.append((row, values))
    if report.rows_read == 0:
        report.error(None, "", _("The file has no rows below the header."))
    existing = {u.code: u for u in OrgUnit.objects.all()}
    # Parents first: a row waits until its parent exists (in Kefu or from an earlier row).
    pending = list(rows)
    while pending:
        progressed = False
        waiting = []
        for row, values in pending:
            parent_code = tabular.cell_text(values.get("parent")) if "parent" in values else None
            if parent_code and parent_code not in existing and parent_code in seen:
                waiting.append((row, values))
                continue
            _unit_row(actor=actor, row=row, values=values, existing=existing, report=report)
            progressed = True
        if not progressed:
            for row, _values in waiting:
                report.error(row, "parent", _("The parent units of these rows name each other in a loop."))
            break
        pending = waiting
    if report.errors:
        report.errors.sort(key=lambda e: e.row or 0)
        raise tabular.ImportRejected(report)
    return report


def _unit_row(*, actor, row: int, values: dict[str, Any], existing: dict[str, OrgUnit],
              report: tabular.ImportReport) -> None:
    code = tabular.cell_text(values["code"])
    unit = existing.get(code)
    errors_before = len(report.errors)
    data: dict[str, Any] = {}
    if "name" in values:
        data["name"] = tabular.cell_text(values["name"])
    if "kind" in values and tabular.cell_text(values["kind"]):
        kind = KINDS.get(tabular.cell_text(values["kind"]).casefold())
        if kind is None:
            report.error(row, "kind", _("“%(value)s” is not a kind; use company, department or team.")
                         % {"value": tabular.cell_text(values["kind"])})
        else:
            data["kind"] = kind
    if "parent" in values:
        parent_code = tabular.cell_text(values["parent"])
        if not parent_code:
            data["parent"] = None
        elif parent_code not in existing:
            report.error(row, "parent", _("There is no org unit with the code “%(code)s”.") % {"code": parent_code})
        else:
            data["parent"] = existing[parent_code]
    for column in ("is_customer_service", "active"):
        if column in values and tabular.cell_text(values[column]):
            flag = _bool(values[column], column, report, row)
            if flag is not None:
                data[column] = flag
    if unit is None:
        for column in ("name", "kind"):
            if not data.get(column):
                report.error(row, column, _("This field is required for a new org unit."))
    if len(report.errors) > errors_before:
        return
    try:
        with transaction.atomic():
            if unit is None:
                active = data.pop("active", True)
                unit = people.orgunit_create(actor=actor, code=code, **data)
                if not active:
                    unit = people.orgunit_update(actor=actor, unit=unit, active=False)
                report.created += 1
                report.changes.append(tabular.RowChange(row=row, key=code, label=unit.name, action="create",
                                                        changes={"name": ("", unit.name)}))
            else:
                before = {"name": unit.name, "kind": unit.kind, "parent": unit.parent.code if unit.parent else "",
                          "is_customer_service": unit.is_customer_service, "active": unit.active}
                after = before | {k: (v.code if isinstance(v, OrgUnit) else ("" if v is None and k == "parent" else v))
                                  for k, v in data.items()}
                changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
                if not changed:
                    report.unchanged += 1
                    return
                unit = people.orgunit_update(actor=actor, unit=unit, reason=_("HR sync"),
                                             **{k: data[k] for k in changed})
                report.updated += 1
                report.changes.append(tabular.RowChange(row=row, key=code, label=unit.name, action="update",
                                                        changes=changed))
    except ValidationError as e:
        for field_name, messages in e.message_dict.items():
            for message in messages:
                report.error(row, field_name if field_name != "__all__" else "", message)
        return
    existing[code] = unit


def _employee_summary(report: tabular.ImportReport) -> dict[str, Any]:
    """The import's row changes sorted into new, changed fields, moved units and leavers."""
    new, changed, moved, leavers = [], [], [], []
    for change in report.changes:
        who = {"row": change.row, "employee_no": change.key, "name": change.label}
        fields = {k: [str(v[0]), str(v[1])] for k, v in change.changes.items()}
        if change.action == "create":
            new.append(who | {"fields": fields})
            continue
        if "org_unit" in fields:
            moved.append(who | {"from": fields["org_unit"][0], "to": fields["org_unit"][1]})
        if fields.get("leave_date", ["", ""])[1]:
            leavers.append(who | {"leave_date": fields["leave_date"][1]})
        rest = {k: v for k, v in fields.items() if k not in {"org_unit", "leave_date", "status"}}
        if rest:
            changed.append(who | {"fields": rest})
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "new": new, "changed": changed, "moved": moved, "leavers": leavers, "warnings": list(report.warnings)}


def _unit_summary(report: tabular.ImportReport) -> dict[str, Any]:
    return {
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "new": [{"row": c.row, "code": c.key, "name": c.label} for c in report.changes if c.action == "create"],
        "changed": [{"row": c.row, "code": c.key, "name": c.label,
                     "fields": {k: [str(v[0]), str(v[1])] for k, v in c.changes.items()}}
                    for c in report.changes if c.action == "update"],
        "warnings": list(report.warnings),
    }


class _DryRun(Exception):
    pass


def _run(*, actor, units: Any = None, employees: Any = None, dry_run: bool = False) -> tuple[str, dict[str, Any]]:
    """Apply one sync in a savepoint: (status, report). A rejected file leaves nothing behind.

    A dry run applies too — so later rows and files are checked against the earlier ones, and
    offboarding runs its steps — and the caller rolls it all back (see sync, process_drop_folder).
    """
    result: dict[str, Any] = {"ok": True, "dry_run": dry_run, "errors": []}
    try:
        with transaction.atomic():
            if units is not None:
                result["org_units"] = _unit_summary(units_sync(actor=actor, file=units))
            if employees is not None:
                result["employees"] = _employee_summary(people.employee_import(actor=actor, file=employees))
    except tabular.ImportRejected as e:
        result["ok"] = False
        result["errors"] = [{"row": err.row, "field": err.field, "message": err.message} for err in e.report.errors]
        return HrSyncRun.Status.REJECTED, result
    return (HrSyncRun.Status.DRY_RUN if dry_run else HrSyncRun.Status.APPLIED), result


def _record(*, actor, source: str, file_name: str, status: str, report: dict[str, Any]) -> HrSyncRun:
    return HrSyncRun.objects.create(source=source, file_name=file_name[:255], status=status, report=report,
                                    created_by=actor if getattr(actor, "is_authenticated", False) else None)


def sync(*, actor, units: Any = None, employees: Any = None, dry_run: bool = False, source: str = HrSyncRun.Source.API,
         file_name: str = "") -> HrSyncRun:
    """Apply (or, dry, only report) org units then employees, all or nothing; the run is recorded either way.

    ``units`` / ``employees``: an upload, a path or bytes (CSV in UTF-8 or GBK, or .xlsx).
    """
    outcome: tuple[str, dict[str, Any]] | None = None
    try:
        with transaction.atomic():
            outcome = _run(actor=actor, units=units, employees=employees, dry_run=dry_run)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert outcome is not None
    return _record(actor=actor, source=source, file_name=file_name, status=outcome[0], report=outcome[1])


def is_units_file(path: Path) -> bool:
    return path.name.lower().startswith(UNIT_PREFIXES)


def drop_folder_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in {".csv", ".xlsx"}]
    return sorted(files, key=lambda p: (not is_units_file(p), p.name))


def _move(path: Path, folder: Path, report: dict[str, Any], now: datetime.datetime) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / f"{now:%Y%m%dT%H%M%S}_{path.name}"
    n = 1
    while target.exists():
        target = folder / f"{now:%Y%m%dT%H%M%S}_{n}_{path.name}"
        n += 1
    path.rename(target)
    target.with_name(target.name + ".report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def process_drop_folder(*, folder: str | Path | None = None, dry_run: bool = False) -> list[HrSyncRun]:
    """Process each file of the drop folder once (see the module docstring). Returns the runs.

    A dry run goes through the files in the same order, each seeing the ones before it, then rolls
    everything back and moves nothing.
    """
    raw = folder or settings.KEFU_HR_SYNC_DIR
    if not raw or not Path(raw).is_dir():
        raise FileNotFoundError(_("The HR sync folder “%(folder)s” does not exist (set KEFU_HR_SYNC_DIR).")
                                % {"folder": raw})
    folder = Path(raw)
    # One run at a time: a second cron job waits, then finds the files already moved.
    with open(folder / ".hr_sync.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _process(folder, dry_run=dry_run)


def _process(folder: Path, *, dry_run: bool) -> list[HrSyncRun]:
    files = drop_folder_files(folder)
    if dry_run:
        outcomes: list[tuple[Path, str, dict[str, Any]]] = []
        try:
            with transaction.atomic():
                for path in files:
                    unit_file = is_units_file(path)
                    status, report = _run(actor=None, dry_run=True, units=path if unit_file else None,
                                          employees=None if unit_file else path)
                    outcomes.append((path, status, report))
                raise _DryRun
        except _DryRun:
            pass
        return [_record(actor=None, source=HrSyncRun.Source.FOLDER, file_name=p.name, status=st, report=rep)
                for p, st, rep in outcomes]
    runs = []
    now = timezone.now()
    for path in files:
        unit_file = is_units_file(path)
        run = sync(actor=None, source=HrSyncRun.Source.FOLDER, file_name=path.name,
                   units=path if unit_file else None, employees=None if unit_file else path)
        runs.append(run)
        _move(path, folder / ("done" if run.status == HrSyncRun.Status.APPLIED else "failed"), run.report, now)
    return runs
