"""Reading and writing the spreadsheets people bring: every import and export uses this.

    table = tabular.read_table(upload, columns={"employee_no": ["工號", "員工編號"], ...},
                               required={"employee_no"})
    for row, values in table:          # row: the line number Excel shows (header = 1)
        ...                            # values: {canonical name: cell value} for the columns present

Reads ``.xlsx`` (first sheet) and ``.csv``. CSV files from Chinese Windows
Excel are GBK, so text is decoded as UTF-8 (with or without BOM) first, then
GB18030 (a superset of GBK). The delimiter (comma, tab, semicolon) is guessed
from the header line. A file-level problem (empty, unreadable, a required
column missing) raises ``TableError``, an ``ImportRejected`` whose report names
the problem, so importers that are all-or-nothing need no extra handling.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

# Characters a spreadsheet reads as the start of a formula (OWASP: CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", "\t", ";")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` is the spreadsheet line (header = 1; None for the file), ``field`` a column."""

    row: int | None
    field: str
    message: str


@dataclass
class RowChange:
    """What an import does (or would do) with one row, for the preview."""

    row: int | None
    key: str
    label: str
    action: str  # "create" | "update"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, field_name: str, message: str) -> None:
        self.errors.append(RowError(row, field_name, str(message)))

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors if e.row is not None})

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for the API."""
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
            "warnings": list(self.warnings),
        }


class ImportRejected(Exception):
    """Nothing was saved; ``report.errors`` says why, row by row."""

    def __init__(self, report: ImportReport):
        self.report = report
        first = report.errors[0].message if report.errors else ""
        super().__init__(_("The import was rejected: %(n)d problem(s). %(first)s") % {"n": len(report.errors), "first": first})


class TableError(ImportRejected):
    """The file as a whole cannot be read as a table (empty, unreadable, columns missing)."""

    def __init__(self, errors: Iterable[RowError]):
        super().__init__(ImportReport(errors=list(errors)))


def normalise_header(text: Any) -> str:
    """Header matching ignores case, spaces, underscores, hyphens and a trailing '*' (required mark)."""
    value = str(text if text is not None else "").strip().rstrip("*").strip().casefold()
    return re.sub(r"[\s_\-\u3000]+", "", value)


def _clean(value: Any) -> Any:
    """Strip text; empty text is None; undo the quote write_xlsx puts before formula characters."""
    if isinstance(value, str):
        value = value.strip().replace("\ufeff", "")
        if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
            value = value[1:]
        return value or None
    return value


@dataclass
class Table:
    """The header of a file and an iterator over its data rows."""

    name: str
    headers: list[str]
    present: set[str]
    unknown_headers: list[str]
    _index: dict[int, str]
    _rows: Iterable[Sequence[Any]]

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, cells in enumerate(self._rows, start=2):
            values = {name: _clean(cells[i]) if i < len(cells) else None for i, name in self._index.items()}
            if all(v is None for v in values.values()) and all(_clean(c) is None for c in cells):
                continue  # a blank line between rows is not an error
            yield number, values


def _read_bytes(source: Any, name: str | None) -> tuple[bytes, str]:
    limit = getattr(settings, "KEFU_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), name or ""
    elif isinstance(source, str | Path):
        path = Path(source)
        if path.stat().st_size > limit:
            raise TableError([RowError(None, "", _too_big(limit))])
        data, name = path.read_bytes(), name or path.name
    else:
        if (getattr(source, "size", None) or 0) > limit:
            raise TableError([RowError(None, "", _too_big(limit))])
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        name = name or Path(getattr(source, "name", "") or "").name
    if len(data) > limit:
        raise TableError([RowError(None, "", _too_big(limit))])
    return data, name or ""


def _too_big(limit: int) -> str:
    return _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not) first; then GB18030, which covers the GBK that Chinese Windows Excel writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError([RowError(None, "", _("The file's text encoding is not UTF-8 or GBK; save it as UTF-8 CSV or .xlsx."))])


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data)
    if "\x00" in text:
        raise TableError([RowError(None, "", _("This is not a CSV or Excel (.xlsx) file."))])
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=lambda d: (first_line.count(d), d == ","))
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as e:
        raise TableError([RowError(None, "", _("The CSV file could not be read: %(error)s") % {"error": e})]) from e


def _xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise TableError([RowError(None, "", _("The Excel file could not be read; is it damaged?"))]) from e
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets fill skipped rows in with empty ones, so positions are line numbers.
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def read_table(
    source: Any,
    *,
    columns: dict[str, list[str]],
    required: set[str] | frozenset[str] = frozenset(),
    name: str | None = None,
) -> Table:
    """Open ``source`` (an upload, a path or bytes) and match its header row to ``columns``.

    ``columns`` maps each canonical column name to the header texts accepted for it
    (the canonical name itself is always accepted). Unknown headers are listed in
    ``table.unknown_headers``; a missing required column raises TableError.
    """
    data, name = _read_bytes(source, name)
    if not data.strip():
        raise TableError([RowError(None, "", _("The file is empty."))])
    if data.startswith(OLE_MAGIC):
        raise TableError([RowError(None, "", _("Old Excel files (.xls) are not supported; save it as .xlsx or CSV."))])
    is_xlsx = data.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx")
    rows: Iterator[Sequence[Any]] = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    header_cells = next(rows, None)
    if header_cells is None or all(_clean(c) is None for c in header_cells):
        # Close the workbook behind a generator that stopped early.
        getattr(rows, "close", lambda: None)()
        raise TableError([RowError(1, "", _("The first row must hold the column headers, and it is empty."))])

    lookup: dict[str, str] = {}
    for key, aliases in columns.items():
        for alias in [key, *aliases]:
            lookup.setdefault(normalise_header(alias), key)

    headers = ["" if c is None else str(c).strip().replace("\ufeff", "") for c in header_cells]
    index: dict[int, str] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for i, header in enumerate(headers):
        if not header:
            continue
        canonical = lookup.get(normalise_header(header))
        if canonical is None:
            unknown.append(header)
        elif canonical in seen:
            errors.append(RowError(1, canonical, _("The columns “%(a)s” and “%(b)s” both mean %(name)s; keep one.")
                                   % {"a": seen[canonical], "b": header, "name": canonical}))
        else:
            seen[canonical] = header
            index[i] = canonical
    for missing in sorted(set(required) - set(seen), key=list(columns).index):
        accepted = "、".join(dict.fromkeys([missing, *columns.get(missing, [])]))
        errors.append(RowError(1, missing, _("Required column “%(name)s” is missing (accepted headers: %(accepted)s).")
                               % {"name": missing, "accepted": accepted}))
    if errors:
        getattr(rows, "close", lambda: None)()
        raise TableError(errors)
    return Table(name=name, headers=headers, present=set(seen), unknown_headers=unknown, _index=index, _rows=rows)


# ---- cell values ---------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def cell_text(value: Any) -> str:
    """A cell as text: '' for empty, 1001.0 → '1001' (Excel stores numbers as floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value: Any) -> datetime.date:
    """A date from an Excel date cell, an Excel serial number, or YYYY-MM-DD / YYYY/M/D / YYYY年M月D日 text.

    Raises ValueError with a message for the user.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if 1 <= value < 2958466:
            converted = from_excel(float(value))
            if isinstance(converted, datetime.datetime):
                return converted.date()
            if isinstance(converted, datetime.date):
                return converted
    text = cell_text(value)
    match = _DATE_RE.match(text)
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text})


# ---- writing -------------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading quote (formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_xlsx(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "") -> bytes:
    """An .xlsx file (one sheet, bold frozen header row) from rows of plain values."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or "Sheet1")[:31])
    sheet.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(str(header)) * 2 + 4))
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=neutralise(str(header)))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
