"""Reading interaction rows: the file layout, a streaming reader for large CSV/XLSX files,
and the check of one row (issue 3 item 2).

The layout (one row per interaction; header names as below, Chinese aliases accepted):

    source, external_id, channel, priority, kind, customer_ref, subject, received_at,
    first_response_at, resolved_at, agent_no, first_responder_no, resolver_no, recording_url

- ``source`` + ``external_id`` identify the interaction in its source system: importing a
  row again updates it (and changes nothing when nothing differs).
- times: ``YYYY-MM-DD HH:MM[:SS]`` (also ``YYYY/M/D H:MM``) in company local time, or
  ISO 8601 with an offset (``2026-03-02T09:15:00+08:00``, ``…Z``), or an Excel date-time cell.
- ``first_responder_no`` / ``resolver_no`` left empty mean ``agent_no`` (once there is a
  first response / a resolution time).
- ``priority`` empty means normal, ``kind`` empty means inquiry.

Files are read as a stream (a million rows never sit in memory as a whole): CSV in UTF-8
(with or without BOM) or GBK/GB18030, comma/tab/semicolon separated; XLSX through
openpyxl's read-only mode.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import tabular
from kefu.core.tabular import RowError, TableError
from kefu.service.models import Channel, Interaction, Kind, Priority

# canonical name -> (label, accepted Chinese headers)
COLUMNS: dict[str, tuple[Any, list[str]]] = {
    "source": (gettext_lazy("Source system"), ["來源系統", "来源系统", "來源", "来源"]),
    "external_id": (gettext_lazy("External id"), ["外部編號", "外部编号", "工單號", "工单号", "單號", "单号"]),
    "channel": (gettext_lazy("Channel"), ["渠道", "管道"]),
    "priority": (gettext_lazy("Priority"), ["優先級", "优先级", "緊急程度", "紧急程度"]),
    "kind": (gettext_lazy("Kind"), ["類型", "类型", "類別", "类别"]),
    "customer_ref": (gettext_lazy("Customer reference"), ["客戶編號", "客户编号", "客戶", "客户"]),
    "subject": (gettext_lazy("Subject"), ["主題", "主题", "摘要"]),
    "received_at": (gettext_lazy("Received at"), ["受理時間", "受理时间", "接收時間", "接收时间", "來電時間", "来电时间"]),
    "first_response_at": (gettext_lazy("First response at"),
                          ["首次回覆時間", "首次回复时间", "初步回覆時間", "初步回复时间"]),
    "resolved_at": (gettext_lazy("Resolved at"), ["解決時間", "解决时间"]),
    "agent_no": (gettext_lazy("Agent's employee number"), ["客服工號", "客服工号", "處理人工號", "处理人工号", "工號", "工号"]),
    "first_responder_no": (gettext_lazy("First responder's employee number"),
                           ["首次回覆人工號", "首次回复人工号", "初步回覆人工號", "初步回复人工号"]),
    "resolver_no": (gettext_lazy("Resolver's employee number"), ["解決人工號", "解决人工号"]),
    "recording_url": (gettext_lazy("Recording or transcript link"),
                      ["錄音連結", "录音链接", "錄音或記錄連結", "录音或记录链接", "錄音", "录音"]),
}
HEADERS = list(COLUMNS)
REQUIRED = frozenset({"source", "external_id", "channel", "received_at", "agent_no"})
EXAMPLE_ROW = [
    "callcenter", "CC-20260302-0001", "phone", "normal", "inquiry", "C-88001", "Invoice question",
    "2026-03-02 09:15", "2026-03-02 09:40", "2026-03-03 16:20", "CS1001", "", "", "https://cc.example.com/rec/0001",
]

# Accepted values (compared after normalise_header: case, spaces, "-" and "_" ignored).
_CHOICE_ALIASES: dict[str, dict[str, str]] = {
    "channel": {
        "phone": Channel.PHONE, "電話": Channel.PHONE, "电话": Channel.PHONE, "call": Channel.PHONE,
        "chat": Channel.CHAT, "在線": Channel.CHAT, "在线": Channel.CHAT, "聊天": Channel.CHAT,
        "email": Channel.EMAIL, "mail": Channel.EMAIL, "郵件": Channel.EMAIL, "邮件": Channel.EMAIL,
        "電郵": Channel.EMAIL, "电邮": Channel.EMAIL,
        "onsite": Channel.ONSITE, "現場": Channel.ONSITE, "现场": Channel.ONSITE,
        "other": Channel.OTHER, "其他": Channel.OTHER,
    },
    "priority": {
        "normal": Priority.NORMAL, "一般": Priority.NORMAL, "普通": Priority.NORMAL,
        "非緊急": Priority.NORMAL, "非紧急": Priority.NORMAL,
        "urgent": Priority.URGENT, "緊急": Priority.URGENT, "紧急": Priority.URGENT,
    },
    "kind": {
        "inquiry": Kind.INQUIRY, "enquiry": Kind.INQUIRY, "諮詢": Kind.INQUIRY, "咨询": Kind.INQUIRY,
        "complaint": Kind.COMPLAINT, "投訴": Kind.COMPLAINT, "投诉": Kind.COMPLAINT,
    },
}
CHOICES: dict[str, dict[str, str]] = {
    field: {tabular.normalise_header(k): v for k, v in aliases.items()} for field, aliases in _CHOICE_ALIASES.items()
}
DEFAULTS = {"priority": Priority.NORMAL, "kind": Kind.INQUIRY}

MAX_LENGTH: dict[str, int] = {
    name: int(getattr(Interaction._meta.get_field(name), "max_length", 0) or 0)
    for name in ("source", "external_id", "customer_ref", "subject", "recording_url")
}
# Clock skew between the source system and us that is still not "in the future".
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)
PROGRESS_EVERY = 10_000


def max_file_bytes() -> int:
    return int(getattr(settings, "KEFU_INTERACTIONS_MAX_BYTES", 1024 * 1024 * 1024))


# --- the streaming reader ---------------------------------------------------------------------


@dataclass
class RowSource:
    """Rows to import: ``index`` maps each present canonical column to its cell position;
    iterating yields (row number, cells) — the row number as the user sees it."""

    name: str
    index: dict[str, int]
    rows: Iterator[tuple[int, list[Any]]]
    total_estimate: int = 0
    unknown_headers: tuple[str, ...] = ()
    # CSV only: how the file is written, for the PostgreSQL COPY path (kefu.service.fastimport)
    csv: CsvLayout | None = None

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        return self.rows


@dataclass(frozen=True)
class CsvLayout:
    """A CSV file as PostgreSQL's COPY needs to read it: the handle, codec, delimiter, column count."""

    handle: IO[bytes]
    encoding: str  # a Python codec name: utf-8-sig or gb18030
    delimiter: str
    width: int  # cells in the header row


def _match_header(header_cells: list[Any]) -> tuple[dict[str, int], list[str]]:
    lookup: dict[str, str] = {}
    for key, (_label, aliases) in COLUMNS.items():
        for alias in [key, *aliases]:
            lookup.setdefault(tabular.normalise_header(alias), key)
    index: dict[str, int] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for i, cell in enumerate(header_cells):
        header = "" if cell is None else str(cell).strip().replace("\ufeff", "")
        if not header:
            continue
        canonical = lookup.get(tabular.normalise_header(header))
        if canonical is None:
            unknown.append(header)
        elif canonical in seen:
            errors.append(RowError(1, canonical, _("The columns “%(a)s” and “%(b)s” both mean %(name)s; keep one.")
                                   % {"a": seen[canonical], "b": header, "name": canonical}))
        else:
            seen[canonical] = header
            index[canonical] = i
    for missing in [c for c in HEADERS if c in REQUIRED and c not in seen]:
        accepted = "、".join([missing, *COLUMNS[missing][1]])
        errors.append(RowError(1, missing, _("Required column “%(name)s” is missing (accepted headers: %(accepted)s).")
                               % {"name": missing, "accepted": accepted}))
    if errors:
        raise TableError(errors)
    return index, unknown


def _scan_encoding(handle: IO[bytes]) -> tuple[str, int, bytes]:
    """UTF-8 if the whole file decodes as UTF-8, else GB18030 (covers GBK); also counts lines."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    first = b""
    utf8 = True
    while chunk := handle.read(1 << 20):
        if not first:
            first = chunk[:65536]
        lines += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    handle.seek(0)
    return ("utf-8-sig" if utf8 else "gb18030"), lines, first


def _csv_source(handle: IO[bytes], name: str) -> RowSource:
    encoding, lines, first = _scan_encoding(handle)
    if not first.strip():
        raise TableError([RowError(None, "", _("The file is empty."))])
    if b"\x00" in first:
        raise TableError([RowError(None, "", _("This is not a CSV or Excel (.xlsx) file."))])
    try:
        first_line = first.decode(encoding, errors="ignore").lstrip("\r\n").split("\n", 1)[0]
    except LookupError:  # pragma: no cover - both codecs exist
        first_line = ""
    delimiter = max(tabular.DELIMITERS, key=lambda d: (first_line.count(d), d == ","))
    text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as e:
        raise TableError([RowError(1, "", _("The CSV file could not be read: %(error)s") % {"error": e})]) from e
    if header is None or not any(c.strip() for c in header):
        raise TableError([RowError(1, "", _("The first row must hold the column headers, and it is empty."))])
    index, unknown = _match_header(header)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if not cells:
                    continue
                yield number, cells
        except (csv.Error, UnicodeDecodeError) as e:
            raise TableError([RowError(number + 1, "", _("The CSV file could not be read: %(error)s") % {"error": e})]) from e

    return RowSource(name=name, index=index, rows=rows(), total_estimate=max(0, lines - 1),
                     unknown_headers=tuple(unknown),
                     csv=CsvLayout(handle=handle, encoding=encoding, delimiter=delimiter, width=len(header)))


def _xlsx_source(handle: IO[bytes], name: str) -> RowSource:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise TableError([RowError(None, "", _("The Excel file could not be read; is it damaged?"))]) from e
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header = next(iterator, None)
    if header is None or all(c is None or str(c).strip() == "" for c in header):
        workbook.close()
        raise TableError([RowError(1, "", _("The first row must hold the column headers, and it is empty."))])
    try:
        index, unknown = _match_header(list(header))
    except TableError:
        workbook.close()
        raise
    total = max(0, (sheet.max_row or 1) - 1)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(iterator, start=2):
                values = [c.strip() if isinstance(c, str) else c for c in cells]
                if all(v is None or v == "" for v in values):
                    continue
                yield number, values
        finally:
            workbook.close()

    return RowSource(name=name, index=index, rows=rows(), total_estimate=total, unknown_headers=tuple(unknown))


def open_file(handle: IO[bytes], *, name: str) -> RowSource:
    """A row source over a binary, seekable file (an upload, a stored file, a path opened 'rb')."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if size > max_file_bytes():
        raise TableError([RowError(None, "", _("The file is larger than %(mb)s MB.")
                                   % {"mb": max_file_bytes() // (1024 * 1024)})])
    magic = handle.read(8)
    handle.seek(0)
    if not magic.strip():
        raise TableError([RowError(None, "", _("The file is empty."))])
    if magic.startswith(tabular.OLE_MAGIC):
        raise TableError([RowError(None, "", _("Old Excel files (.xls) are not supported; save it as .xlsx or CSV."))])
    if magic.startswith(tabular.XLSX_MAGIC) or name.lower().endswith(".xlsx"):
        return _xlsx_source(handle, name)
    return _csv_source(handle, name)


def records_source(records: list[dict[str, Any]], *, name: str = "") -> RowSource:
    """A row source over dicts (the JSON API): row numbers count from 1, the first item."""
    index = {column: i for i, column in enumerate(HEADERS)}

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, record in enumerate(records, start=1):
            yield number, [_json_cell(record.get(column)) for column in HEADERS]

    return RowSource(name=name, index=index, rows=rows(), total_estimate=len(records))


def _json_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


# --- one row ----------------------------------------------------------------------------------

_LOOSE_TIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+|T)(\d{1,2})[:：](\d{2})"
    r"(?:[:：](\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def _offset(text: str) -> datetime.tzinfo:
    if text == "Z":
        return datetime.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


class BadValue(ValueError):
    pass


def parse_instant(value: Any, tz: ZoneInfo | None) -> datetime.datetime | None:
    """A datetime from a cell; one without a zone gets ``tz`` (None: stays naive). BadValue if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            converted = from_excel(float(value))
        except (ValueError, OverflowError, TypeError) as e:
            raise BadValue(str(value)) from e
        if not isinstance(converted, datetime.datetime):
            raise BadValue(str(value))
        parsed = converted
    elif isinstance(value, datetime.date):
        raise BadValue(value.isoformat())
    else:
        text = str(value).strip()
        if len(text) < 12:  # a date alone, or not a time at all
            raise BadValue(text)
        try:
            parsed = datetime.datetime.fromisoformat(text)
        except ValueError:
            match = _LOOSE_TIME.match(text)
            if match is None:
                raise BadValue(text) from None
            y, mo, d, h, mi, s, frac, off = match.groups()
            try:
                parsed = datetime.datetime(
                    int(y), int(mo), int(d), int(h), int(mi), int(s or 0), int((frac or "0").ljust(6, "0")),
                    tzinfo=_offset(off) if off else None,
                )
            except ValueError:
                raise BadValue(text) from None
    if parsed.tzinfo is None and tz is not None:
        return parsed.replace(tzinfo=tz)
    return parsed


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return tabular.cell_text(value)


def _stripped(value: Any) -> str:
    return value.strip() if type(value) is str else cell_text(value).strip()


_fromisoformat = datetime.datetime.fromisoformat
_NAIVE_EPOCH = datetime.datetime(1970, 1, 1)
_AWARE_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)
_ZERO = datetime.timedelta(0)


def from_us(us: int) -> datetime.datetime:
    """An aware UTC datetime from epoch microseconds."""
    return _AWARE_EPOCH + datetime.timedelta(microseconds=us)


def _unquote(text: str) -> str:
    """Undo the quote exports put before formula characters."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


_URL = re.compile(r"(?i)https?://[^\s/?#]+(?:[/?#]\S*)?\Z")


def valid_url(text: str) -> bool:
    """An http(s) link with a host and no spaces (a recording or transcript in the source system)."""
    return _URL.match(text) is not None


@dataclass(slots=True)
class ParsedRow:
    row: int
    source: str
    external_id: str
    channel: str
    priority: str
    kind: str
    customer_ref: str
    subject: str
    received_us: int  # epoch microseconds (UTC)
    first_response_us: int | None
    resolved_us: int | None
    recording_url: str
    local_date: datetime.date
    agent_id: int
    first_responder_id: int | None
    resolver_id: int | None


ErrorSink = Callable[[int, str, str], None]


class RowChecker:
    """Checks one row at a time against the employees (one dict) and the rules of the layout."""

    def __init__(self, *, index: dict[str, int], employees: dict[str, int], allowed: set[int] | None,
                 now: datetime.datetime, tz: ZoneInfo, error: ErrorSink):
        self.employees = employees
        self.allowed = allowed
        self.latest_us = ((now + FUTURE_TOLERANCE) - _AWARE_EPOCH) // _MICROSECOND
        self.tz = tz
        self.sink = error
        self.seen: dict[tuple[str, str], int] = {}
        self.width = max(index.values(), default=-1) + 1
        # a position for every column; an absent column reads the empty cell after the last one
        self.positions = [index.get(column, self.width) for column in HEADERS]
        self._cells = operator.itemgetter(*self.positions)
        self._bad = False
        # value as written -> canonical value, per field (a file repeats a handful of values)
        self._choices: dict[str, dict[str, str]] = {
            field: {value: value for value in set(CHOICES[field].values())} for field in CHOICES
        }
        for field, default in DEFAULTS.items():
            self._choices[field][""] = default

    def _fail(self, row: int, field: str, message: str) -> None:
        self._bad = True
        self.sink(row, field, message)

    def _employee(self, row: int, field: str, number: str) -> int | None:
        employee_id = self.employees.get(number)
        if employee_id is None:
            self._fail(row, field, _("There is no employee with the number “%(no)s”.") % {"no": number})
            return None
        if self.allowed is not None and employee_id not in self.allowed:
            self._fail(row, field, _("The employee “%(no)s” is outside the units you may import for.") % {"no": number})
            return None
        return employee_id

    def _choice(self, row: int, field: str, value: str) -> str:
        if not value:
            default = DEFAULTS.get(field)
            if default is None:
                self._fail(row, field, _("This field is required."))
                return ""
            return default
        memo = self._choices[field]
        found = memo.get(value)
        if found is not None:
            return found
        found = CHOICES[field].get(tabular.normalise_header(value))
        if found is not None:
            memo[value] = found
        else:
            accepted = ", ".join(dict.fromkeys(CHOICES[field].values()))
            self._fail(row, field, _("“%(value)s” is not one of: %(choices)s.") % {"value": value, "choices": accepted})
            return ""
        return found

    def _time(self, row: int, field: str, value: Any, *, required: bool = False
              ) -> tuple[int, datetime.date] | None:
        """(epoch microseconds, company-local date) of a cell, or None (empty, or reported as bad)."""
        parsed: datetime.datetime | None = None
        if type(value) is str and len(value) >= 12:
            try:  # the common case: ISO 8601 text
                parsed = _fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            try:
                parsed = parse_instant(value, None)
            except BadValue as e:
                self._fail(row, field, _("“%(value)s” is not a date and time; write it as YYYY-MM-DD HH:MM "
                                         "(company local time) or ISO 8601 with an offset.") % {"value": str(e)})
                return None
        if parsed is None:
            if required:
                self._fail(row, field, _("This field is required."))
            return None
        if parsed.tzinfo is None:  # company local time; utcoffset() is far cheaper than replace(tzinfo=)
            us = (parsed - (self.tz.utcoffset(parsed) or _ZERO) - _NAIVE_EPOCH) // _MICROSECOND
            day = parsed.date()
        else:
            us = (parsed - _AWARE_EPOCH) // _MICROSECOND
            day = parsed.astimezone(self.tz).date()
        if us > self.latest_us:
            self._fail(row, field, _("%(time)s is in the future.") % {"time": cell_text(value)})
            return None
        return us, day

    def _text(self, row: int, field: str, value: str, *, required: bool = False) -> str:
        if not value:
            if required:
                self._fail(row, field, _("This field is required."))
            return ""
        if len(value) > MAX_LENGTH[field]:
            self._fail(row, field, _("Too long: at most %(n)s characters.") % {"n": MAX_LENGTH[field]})
        return value

    def check(self, row: int, cells: list[Any]) -> ParsedRow | None:
        """The row's values, or None after reporting every problem it has."""
        self._bad = False
        if len(cells) <= self.width:
            cells = [*cells, *([None] * (self.width + 1 - len(cells)))]
        (source, external_id, channel, priority, kind, customer_ref, subject, received, first_response_cell,
         resolved_cell, agent_no, responder_no, resolver_no, url) = self._cells(cells)
        # Text cells: stripped; a value is only checked in detail when the quick test fails.
        source = _stripped(source)
        if not source or len(source) > MAX_LENGTH["source"]:
            source = self._text(row, "source", source, required=True)
        external_id = _stripped(external_id)
        if not external_id or len(external_id) > MAX_LENGTH["external_id"]:
            external_id = self._text(row, "external_id", external_id, required=True)
        choices = self._choices
        channel = _stripped(channel)
        channel = choices["channel"].get(channel) or self._choice(row, "channel", channel)
        priority = _stripped(priority)
        priority = choices["priority"].get(priority) or self._choice(row, "priority", priority)
        kind = _stripped(kind)
        kind = choices["kind"].get(kind) or self._choice(row, "kind", kind)
        customer_ref = _unquote(_stripped(customer_ref))
        if len(customer_ref) > MAX_LENGTH["customer_ref"]:
            self._text(row, "customer_ref", customer_ref)
        subject = _unquote(_stripped(subject))
        if len(subject) > MAX_LENGTH["subject"]:
            self._text(row, "subject", subject)
        url = _stripped(url)
        if url:
            if len(url) > MAX_LENGTH["recording_url"]:
                self._fail(row, "recording_url",
                           _("Too long: at most %(n)s characters.") % {"n": MAX_LENGTH["recording_url"]})
            elif _URL.match(url) is None:
                self._fail(row, "recording_url", _("Enter a link starting with http:// or https://."))
        received_at = self._time(row, "received_at", received, required=True)
        first_response = self._time(row, "first_response_at", first_response_cell)
        resolved = self._time(row, "resolved_at", resolved_cell)
        received_us = received_at[0] if received_at is not None else None
        first_response_us = first_response[0] if first_response is not None else None
        resolved_us = resolved[0] if resolved is not None else None
        if received_us is not None:
            if first_response_us is not None and first_response_us < received_us:
                self._fail(row, "first_response_at", _(
                    "The first response (%(response)s) is before the interaction was received (%(received)s)."
                ) % {"response": cell_text(first_response_cell), "received": cell_text(received)})
            if resolved_us is not None and resolved_us < received_us:
                self._fail(row, "resolved_at", _(
                    "The resolution (%(resolved)s) is before the interaction was received (%(received)s)."
                ) % {"resolved": cell_text(resolved_cell), "received": cell_text(received)})
        if first_response_us is not None and resolved_us is not None and resolved_us < first_response_us:
            self._fail(row, "resolved_at", _(
                "The resolution (%(resolved)s) is before the first response (%(response)s)."
            ) % {"resolved": cell_text(resolved_cell), "response": cell_text(first_response_cell)})

        agent_no = _stripped(agent_no)
        agent_id = self._employee(row, "agent_no", agent_no) if agent_no else None
        if not agent_no:
            self._fail(row, "agent_no", _("This field is required."))
        resolver_no = _stripped(resolver_no)
        responder_no = _stripped(responder_no)
        if resolver_no:
            resolver_id = self._employee(row, "resolver_no", resolver_no)
        else:
            resolver_id = agent_id if resolved_us is not None else None
        if responder_no:
            responder_id = self._employee(row, "first_responder_no", responder_no)
        elif first_response_us is not None:
            responder_id = agent_id
        else:
            responder_id = resolver_id  # no reply recorded: the resolution is the first reply (E1.3)

        if source and external_id:
            key = (source, external_id)
            first_row = self.seen.get(key)
            if first_row is not None:
                self._fail(row, "external_id", _(
                    "Row %(first)s has the same source and external id (%(source)s, %(id)s)."
                ) % {"first": first_row, "source": source, "id": external_id})
            else:
                self.seen[key] = row
        if self._bad or received_at is None or agent_id is None:
            return None
        return ParsedRow(
            row=row, source=source, external_id=external_id, channel=channel, priority=priority, kind=kind,
            customer_ref=customer_ref, subject=subject, received_us=received_at[0],
            first_response_us=first_response_us, resolved_us=resolved_us, recording_url=url,
            local_date=received_at[1], agent_id=agent_id, first_responder_id=responder_id, resolver_id=resolver_id,
        )
