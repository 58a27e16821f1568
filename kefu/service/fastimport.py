"""The PostgreSQL path of the interaction import: the file goes to the server as it is and
everything after that is set-based SQL (issue 3 item 2 "built for volume", issue 9 item 1).

1. ``COPY … FROM STDIN (FORMAT csv, HEADER, ENCODING …)`` streams the file's bytes into a
   temporary table of text columns (``row_no`` numbered in file order);
2. one ``CREATE TEMP TABLE … AS SELECT`` trims the free-text cells as Python's ``str.strip``
   does (tabs and Unicode spaces too; see ``_SPACE``), the others of spaces, and parses every
   cell (times without a zone are company local time: the statement runs with the session
   TimeZone set to the company's), maps channel / priority / kind and looks the three
   employee numbers up by a join; one aggregate query then flags every row that breaks a
   rule of the layout (required, too long, unknown employee, reply before receipt, in the
   future …);
3. the SLA (policy E1.3) is computed in the merge itself, with two small tables built from
   the work calendar (``kefu.core.calendar`` year tables) and the parameters in force on each
   local date (``sla.SlaClock``):

   - ``kefu_sla_day``: per local date, the working µs before the day (a running total over
     the covered years), the day's working ranges, the first-reply amounts and the two
     resolution deadlines (close of business of the n-th working day after the date);
   - ``kefu_sla_seg``: the working ranges indexed by the hour of *working* time in which they
     lie, so "received + h working hours" is a hash join plus one range test per row;

   working time before instant t on local date d is ``cum(d) + Σ clamp(t − start_i, 0, len_i)``
   over the day's ranges — the same integer arithmetic as ``YearTable.worked_before``;
4. one statement: the rows with their SLA are matched to the stored rows by (source,
   external_id) and the unchanged ones dropped; the new ones go in by a plain ``INSERT``
   ordered by (agent, local date), so most indexes are written in order, the changed ones by
   an ``UPDATE`` by primary key (cheaper than ``INSERT … ON CONFLICT``, see ``_merge``).

The fast path reports no errors itself. When a row is bad — or merely unusual (a loose time
format such as ``2026/3/2 9:15``, a header alias of a value, a cell COPY cannot read, a date
the calendar does not cover, a link outside printable ASCII, a duplicate key) — ``attempt``
returns None (or the merge raises ``Fallback``) and the caller runs the row-by-row Python
path, which names every bad row with its number, field and reason exactly as before. A
correct, regular file never pays for that.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction

from kefu.core.calendar import CalendarNotCovered
from kefu.service import ingest
from kefu.service.models import Priority, SlaStored
from kefu.service.sla import SlaClock

RAW = "kefu_import_raw"
TYPED = "kefu_import_typed"
DAY = "kefu_sla_day"
SEG = "kefu_sla_seg"
CHANGED = "kefu_sla_changed"
TABLE = "service_interaction"
BUCKET_US = 3_600_000_000  # one hour of working time
WORK_MEM = "256MB"  # for the merge's transaction only (SET LOCAL)
TEMP_BUFFERS = "256MB"  # per session, taken only as the staging tables need it
MERGE_ORDER = "ORDER BY n.agent_id, n.local_date"  # the indexes' leaf pages are then written in turn
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

_CODECS = {"utf-8-sig": "UTF8", "utf-8": "UTF8", "gb18030": "GB18030"}
_NAIVE = r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?$"
_AWARE = r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d(:?\d\d)?)$"
_URL = r"^https?://[^\s/?#]+([/?#]\S*)?$"
# What Python's str.strip() takes off a cell on the row-by-row path (tabs, U+00A0, U+3000 …),
# for btrim: its default takes off spaces only, and the full set costs three times as much, so
# it is used only on a free-text cell that still has one of the others (_ODD_SPACE, code
# points) at an end. In every other cell such a character left at an end makes the value
# fail its shape, code, link or employee-number test, and the file falls back.
_SPACE = "E'" + "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace()) + "'"
_ODD_SPACE = ", ".join(str(n) for n in range(0x10000) if chr(n).isspace() and n != 0x20)


class Fallback(Exception):
    """The fast path found something only the row-by-row path can judge (see the module docstring)."""


def available(rows_source: ingest.RowSource) -> bool:
    return connection.vendor == "postgresql" and rows_source.csv is not None \
        and rows_source.csv.encoding in _CODECS


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _choice_sql(field: str, cell: str) -> str:
    """CASE mapping a trimmed cell (compared in lower case) to the stored value; NULL if unknown."""
    pairs = dict(ingest.CHOICES[field])
    for value in set(pairs.values()):
        pairs.setdefault(str(value), value)
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(str(v))}" for k, v in sorted(pairs.items()))
    default = ingest.DEFAULTS.get(field)
    empty = f"WHEN '' THEN {_lit(str(default))}" if default is not None else ""
    return f"CASE lower({cell}) {empty} {whens} END"


def _us(expr: str) -> str:
    """Epoch µs of a timestamptz (a double carries these epochs' µs exactly; round() makes it whole)."""
    return f"round(date_part('epoch', {expr}) * 1000000)::bigint"


def _time_sql(cell: str) -> str:
    """A trimmed text cell as timestamptz (the session's TimeZone is the company's while this runs,
    so a time without a zone is company local time): NULL when empty, -infinity when not in one
    of the shapes handled here — YYYY-MM-DD HH:MM[:SS] with a space or a T, and with a zone
    YYYY-MM-DDTHH:MM:SSZ or …±HH:MM. A field that is not digits or out of range fails the cast,
    and the caller falls back to the row-by-row checker (which names the cell)."""
    x = cell
    naive = " OR ".join(f"{x} LIKE '____-__-__{sep}__:__{sec}'" for sep in (" ", "T") for sec in (":__", ""))
    aware = " OR ".join(f"{x} LIKE '____-__-__{sep}__:__:__{zone}'"
                        for sep in (" ", "T") for zone in ("Z", "+__:__", "-__:__"))
    return (
        f"CASE WHEN {x} = '' THEN NULL "
        f"WHEN ({naive}) AND strpos({x}, '+') = 0 THEN {x}::timestamptz "
        f"WHEN {aware} THEN {x}::timestamptz "
        f"ELSE '-infinity'::timestamptz END"
    )


@dataclass
class FastStage:
    """The parsed rows of one file, ready for ``merge`` (the same duck type as ``bulk.Stage``)."""

    rows: int
    ranges: int  # working ranges per day in the day table

    def merge(self, *, now: datetime.datetime) -> tuple[int, int]:
        with connection.cursor() as cursor:  # the merge sorts by (agent, date): in memory, not on disk
            cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        try:
            created, updated = _merge(self.ranges, now)
        except DatabaseError as e:  # "ON CONFLICT DO UPDATE command cannot affect row a second time"
            raise Fallback from e
        if created + updated < self.rows and _has_duplicates():
            raise Fallback  # unchanged rows hide a duplicate key from ON CONFLICT: let the checker name it
        return created, updated

    def close(self) -> None:
        drop()


def drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW}, {TYPED}, {DAY}, {SEG}, {CHANGED}")


def attempt(rows_source: ingest.RowSource, *, now: datetime.datetime, clock: SlaClock) -> FastStage | None:
    """Load and check the file set-based; None when the row-by-row path must judge it."""
    layout = rows_source.csv
    assert layout is not None
    tz = clock.tz.key
    _temp_buffers()
    try:
        with transaction.atomic():  # a savepoint: a cell that fails a cast undoes only this
            rows = _load(layout)
            if rows == 0:
                raise Fallback
            with connection.cursor() as cursor:  # naive times are company local time; reset below
                cursor.execute("SELECT current_setting('TimeZone')")
                session_tz = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [tz])
                _parse(rows_source.index, layout.width)
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [session_tz])
            bad, first, last = _check(now)
            if bad:
                raise Fallback
            ranges = _calendar_tables(clock, first, last)
    except (Fallback, DatabaseError):
        drop()
        return None
    return FastStage(rows=rows, ranges=ranges)


def _temp_buffers() -> None:
    """Room for the staging tables in memory; PostgreSQL allows it only before the session's
    first temporary table, so afterwards the setting stays as it is."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET temp_buffers = {_lit(TEMP_BUFFERS)}")
    except DatabaseError:
        pass


def _load(layout: ingest.CsvLayout) -> int:
    columns = [f"c{i}" for i in range(layout.width)]
    handle = layout.handle
    handle.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW}, {TYPED}, {DAY}, {SEG}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {RAW} (row_no bigint GENERATED ALWAYS AS IDENTITY, "
            + ", ".join(f"{c} text" for c in columns) + ")"
        )
        options = f"FORMAT csv, HEADER true, DELIMITER {_lit(layout.delimiter)}, " \
                  f"ENCODING {_lit(_CODECS[layout.encoding])}, FORCE_NOT_NULL ({', '.join(columns)})"  # '' not NULL
        with cursor.cursor.copy(f"COPY {RAW} ({', '.join(columns)}) FROM STDIN ({options})") as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        rows = cursor.rowcount
    handle.seek(0)
    return int(rows)


def _parse(index: dict[str, int], width: int) -> None:
    """The typed rows (the session's TimeZone must be the company's: see ``attempt``)."""
    def cell(name: str) -> str:
        position = index.get(name)
        if position is None or position >= width:
            return "''"
        return f"btrim(r.c{position})"

    def strip(expr: str) -> str:  # a trimmed free-text cell with another white space at an end
        return f"CASE WHEN ascii({expr}) IN ({_ODD_SPACE}) OR ascii(right({expr}, 1)) IN ({_ODD_SPACE}) " \
               f"THEN btrim({expr}, {_SPACE}) ELSE {expr} END"

    def unquote(expr: str) -> str:  # ingest._unquote: the quote exports put before formula characters
        return f"CASE WHEN left({expr}, 1) = '''' AND substr({expr}, 2, 1) IN ('=', '+', '-', '@') " \
               f"THEN substr({expr}, 2) ELSE {expr} END"

    sql = f"""
    CREATE TEMPORARY TABLE {TYPED} AS
    SELECT p.*, a.id AS agent_id,
        CASE WHEN p.resolver_no <> '' THEN z.id WHEN p.z_us IS NOT NULL THEN a.id END AS resolver_id,
        CASE WHEN p.responder_no <> '' THEN f.id WHEN p.f_us IS NOT NULL THEN a.id
             WHEN p.resolver_no <> '' THEN z.id WHEN p.z_us IS NOT NULL THEN a.id END AS first_responder_id,
        (a.id IS NULL OR (p.responder_no <> '' AND f.id IS NULL) OR (p.resolver_no <> '' AND z.id IS NULL)) AS bad_employee
    FROM (
        SELECT t.row_no, t.source, t.external_id, t.channel, t.priority, t.kind,
            {unquote('t.customer_ref')} AS customer_ref, {unquote('t.subject')} AS subject,
            t.recording_url, t.agent_no, t.responder_no, t.resolver_no,
            {_us('t.r_ts')} AS r_us, {_us('t.f_ts')} AS f_us, {_us('t.z_ts')} AS z_us,
            t.r_ts::date AS local_date, coalesce(t.f_ts, t.z_ts)::date AS p_date, t.z_ts::date AS z_date
        FROM (
            SELECT c.row_no, {strip('c.source')} AS source, {strip('c.external_id')} AS external_id,
                {strip('c.customer_ref')} AS customer_ref, {strip('c.subject')} AS subject, c.recording_url,
                c.agent_no, c.responder_no, c.resolver_no,
                {_choice_sql('channel', 'c.channel')} AS channel,
                {_choice_sql('priority', 'c.priority')} AS priority,
                {_choice_sql('kind', 'c.kind')} AS kind,
                {_time_sql('c.received_at')} AS r_ts,
                {_time_sql('c.first_response_at')} AS f_ts,
                {_time_sql('c.resolved_at')} AS z_ts
            FROM (
                SELECT r.row_no,
                    {cell('source')} AS source, {cell('external_id')} AS external_id, {cell('channel')} AS channel,
                    {cell('priority')} AS priority, {cell('kind')} AS kind,
                    {cell('customer_ref')} AS customer_ref, {cell('subject')} AS subject,
                    {cell('recording_url')} AS recording_url, {cell('received_at')} AS received_at,
                    {cell('first_response_at')} AS first_response_at, {cell('resolved_at')} AS resolved_at,
                    {cell('agent_no')} AS agent_no, {cell('first_responder_no')} AS responder_no,
                    {cell('resolver_no')} AS resolver_no
                FROM {RAW} r OFFSET 0
            ) c OFFSET 0
        ) t
        WHERE t.r_ts IS NOT NULL AND t.r_ts > '-infinity' AND coalesce(t.f_ts, 'infinity') > '-infinity'
          AND coalesce(t.z_ts, 'infinity') > '-infinity'
        OFFSET 0
    ) p
    LEFT JOIN people_employee a ON a.employee_no = p.agent_no
    LEFT JOIN people_employee f ON p.responder_no <> '' AND f.employee_no = p.responder_no
    LEFT JOIN people_employee z ON p.resolver_no <> '' AND z.employee_no = p.resolver_no
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute(f"ANALYZE {TYPED}")  # a sample, for the merge's plan
    # rows dropped by the WHERE (no receipt time, or a time in a format not handled here) are
    # counted as bad by _check, which compares the counts


def _check(now: datetime.datetime) -> tuple[int, datetime.date, datetime.date]:
    """(rows breaking a rule or unusual, first and last local date any time of the file falls on)."""
    maxlen = ingest.MAX_LENGTH
    latest = (now + ingest.FUTURE_TOLERANCE - _EPOCH) // datetime.timedelta(microseconds=1)
    sql = f"""
    SELECT (SELECT count(*) FROM {RAW}) - count(*) + count(*) FILTER (WHERE
            source = '' OR char_length(source) > {maxlen['source']}
         OR external_id = '' OR char_length(external_id) > {maxlen['external_id']}
         OR channel IS NULL OR priority IS NULL OR kind IS NULL
         OR char_length(customer_ref) > {maxlen['customer_ref']} OR char_length(subject) > {maxlen['subject']}
         OR (recording_url <> '' AND (char_length(recording_url) > {maxlen['recording_url']}
                                      OR NOT {_url_ok('recording_url')}))
         OR agent_no = '' OR bad_employee
         OR r_us > %(latest)s OR f_us > %(latest)s OR z_us > %(latest)s
         OR f_us < r_us OR z_us < r_us OR z_us < f_us),
        least(min(local_date), min(p_date), min(z_date)), greatest(max(local_date), max(p_date), max(z_date))
    FROM {TYPED}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"latest": latest})
        bad, first, last = cursor.fetchone()
    return int(bad), first, last


def _url_ok(cell: str) -> str:
    """SQL: true only when the link passes ingest's rule (``_URL``); false sends the file to the
    row-by-row checker, which decides. A cheap test comes first — printable ASCII without
    spaces, a lower-case scheme and a host right after it, which the expression then matches
    (the expression cost two thirds of the checks); the expression itself only for other
    printable ASCII, since outside ASCII PostgreSQL's ``\\s`` and Python's differ (U+00A0 is
    white space to Python only), so such links are left to the row-by-row path."""
    after = f"substr({cell}, strpos({cell}, '://') + 3, 1)"
    return (f"(CASE WHEN (left({cell}, 8) = 'https://' OR left({cell}, 7) = 'http://') AND {cell} !~ '[^!-~]' "
            f"AND {after} NOT IN ('', '/', '?', '#') THEN true WHEN {cell} ~ '[^ -~]' THEN false "
            f"ELSE {cell} ~* {_lit(_URL)} END)")


def _calendar_tables(clock: SlaClock, first: datetime.date, last: datetime.date) -> int:
    """Build the day and segment tables for [first, last]; Fallback when the calendar or a
    parameter leaves something the SQL cannot compute (an uncovered year, zero hours)."""
    cal = clock.cal
    try:
        tables = [cal.table(year) for year in range(first.year, last.year + 1)]
    except CalendarNotCovered as e:
        raise Fallback from e
    extra = None
    try:  # the next year too, when known: a deadline may run into it
        extra = cal.table(last.year + 1)
    except CalendarNotCovered:
        pass
    days: list[tuple[Any, ...]] = []
    segments: list[tuple[int, int, int, int]] = []
    offset = 0
    widest = max((len(r) for tab in tables for r in tab.day_ranges.values()), default=0)
    widest = max(widest, 1)
    for tab in [*tables, *([extra] if extra is not None else [])]:
        k = 0
        for day, spans in tab.day_ranges.items():
            cum = offset + (tab.cum[k] if k < len(tab.starts) else tab.total)
            flat = list(itertools.chain.from_iterable(spans)) + [0, 0] * (widest - len(spans))
            if first <= day <= last:
                days.append((day, cum, *flat[: 2 * widest]))
            k += len(spans)
        for s, c, ce in zip(tab.starts, tab.cum, tab.cum_end, strict=True):
            gc, gce = offset + c, offset + ce
            for b in range(gc // BUCKET_US, (gce - 1) // BUCKET_US + 1):
                segments.append((b, s, gc, gce))
        offset += tab.total
    total = offset
    # per received date: the first-reply amounts and the two resolution deadlines (E1.3)
    rows = []
    for day, cum, *flat in days:
        normal_us, urgent_us = clock._amounts(day)
        res_n = clock._resolution_us(day, False)
        res_u = clock._resolution_us(day, True)
        day_end = cum + sum(flat[1::2]) - sum(flat[0::2])
        if normal_us <= 0 or res_n < 0 or res_u < 0 or day_end + normal_us > total:
            raise Fallback
        rows.append((day, cum, *flat, normal_us, urgent_us, res_n, res_u))
    spec = ["d date PRIMARY KEY", "cum bigint",
            *itertools.chain.from_iterable((f"s{i} bigint", f"e{i} bigint") for i in range(widest)),
            "fr_us bigint", "ur_us bigint", "res_n bigint", "res_u bigint"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {DAY} ({', '.join(spec)})")
        with cursor.cursor.copy(f"COPY {DAY} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"CREATE TEMPORARY TABLE {SEG} (b bigint, start bigint, cum bigint, cum_end bigint)")
        with cursor.cursor.copy(f"COPY {SEG} FROM STDIN") as copy:
            for seg in segments:
                copy.write_row(seg)
        cursor.execute(f"ANALYZE {DAY}")
        cursor.execute(f"ANALYZE {SEG}")
    return widest


def _worked(t: str, day: str, ranges: int) -> str:
    """SQL: working µs before instant ``t`` on the day row ``day`` (YearTable.worked_before)."""
    terms = " + ".join(f"greatest(0, least({t}, {day}.e{i}) - {day}.s{i})" for i in range(ranges))
    return f"({day}.cum + {terms})"


def sla_select(source: str, ranges: int) -> str:
    """SELECT of the six SLA columns (plus the source's columns ``s.*``) for rows of ``source``,
    which has r_us, f_us, z_us (epoch µs), priority, local_date, p_date (date of the first reply
    or, without one, of the resolution) and z_date."""
    replied = "coalesce(s.f_us, s.z_us)"
    urgent = _lit(Priority.URGENT)
    return f"""
    SELECT w.*, fr.fr_due,
        CASE WHEN w.replied IS NULL THEN {_lit(SlaStored.PENDING)} WHEN w.replied <= fr.fr_due
             THEN {_lit(SlaStored.MET)} ELSE {_lit(SlaStored.BREACHED)} END AS fr_status,
        CASE WHEN w.z_us IS NULL THEN {_lit(SlaStored.PENDING)} WHEN w.z_us <= w.res_due
             THEN {_lit(SlaStored.MET)} ELSE {_lit(SlaStored.BREACHED)} END AS res_status,
        CASE WHEN w.replied IS NOT NULL THEN greatest(0, w.wp - w.wr) / 1000000 END::integer AS fr_seconds,
        CASE WHEN w.z_us IS NOT NULL THEN greatest(0, w.wz - w.wr) / 1000000 END::integer AS res_seconds
    FROM (
        SELECT v.*, v.wr + v.fr_us AS target,
            CASE WHEN v.priority = {urgent} THEN NULL ELSE (v.wr + v.fr_us - 1) / {BUCKET_US} END AS bucket
        FROM (
            SELECT s.*, {replied} AS replied, dr.fr_us, dr.ur_us,
                CASE WHEN s.priority = {urgent} THEN dr.res_u ELSE dr.res_n END AS res_due,
                {_worked('s.r_us', 'dr', ranges)} AS wr,
                {_worked(replied, 'dp', ranges)} AS wp,
                {_worked('s.z_us', 'dz', ranges)} AS wz
            FROM {source} s
            JOIN {DAY} dr ON dr.d = s.local_date
            LEFT JOIN {DAY} dp ON dp.d = s.p_date
            LEFT JOIN {DAY} dz ON dz.d = s.z_date
        ) v OFFSET 0
    ) w
    LEFT JOIN {SEG} g ON g.b = w.bucket AND g.cum < w.target AND w.target <= g.cum_end
    CROSS JOIN LATERAL (SELECT CASE WHEN w.priority = {urgent} THEN w.r_us + w.ur_us
                                    ELSE g.start + (w.target - g.cum) END AS fr_due) fr
    """


def _ts(us: str) -> str:
    return f"timestamptz 'epoch' + {us} * interval '1 microsecond'"


DATA = ("source", "external_id", "channel", "priority", "kind", "customer_ref", "subject", "received_at",
        "first_response_at", "resolved_at", "recording_url", "local_date", "agent_id", "first_responder_id",
        "resolver_id")
SLA = ("first_reply_due_at", "resolution_due_at", "first_reply_status", "resolution_status",
       "first_reply_working_seconds", "resolution_working_seconds")
COMPARED = tuple(c for c in DATA + SLA if c not in ("source", "external_id"))


def _merge(ranges: int, now: datetime.datetime) -> tuple[int, int]:
    """New rows by a plain INSERT, changed rows by an UPDATE by primary key, unchanged rows not
    touched — one statement, so one snapshot. A plain INSERT skips what ON CONFLICT pays per row
    (a speculative insertion: a probe of the unique index, a token, a confirmation record); a key
    another session inserts meanwhile, or a key twice among the new rows, fails the statement
    on the unique index, and the caller falls back (``FastStage.merge``)."""
    expressions = [
        "x.source", "x.external_id", "x.channel", "x.priority", "x.kind", "x.customer_ref", "x.subject",
        _ts("x.r_us"), _ts("x.f_us"), _ts("x.z_us"), "x.recording_url", "x.local_date", "x.agent_id",
        "x.first_responder_id", "x.resolver_id", _ts("x.fr_due"), _ts("x.res_due"), "x.fr_status", "x.res_status",
        "x.fr_seconds", "x.res_seconds",
    ]
    fresh = ", ".join(f"{e} AS {c}" for e, c in zip(expressions, DATA + SLA, strict=True))
    stored = ", ".join(f"i.{c}" for c in COMPARED)
    new = ", ".join(f"m.{c}" for c in COMPARED)
    columns = ", ".join(DATA + SLA)
    sets = ", ".join(f"{c} = n.{c}" for c in COMPARED)
    sql = f"""
    WITH n AS MATERIALIZED (
        SELECT m.*, i.id AS old_id
        FROM (SELECT {fresh} FROM ({sla_select(TYPED, ranges)}) x OFFSET 0) m
        LEFT JOIN {TABLE} i ON i.source = m.source AND i.external_id = m.external_id
        WHERE i.id IS NULL OR ({stored}) IS DISTINCT FROM ({new})  -- unchanged rows: not even kept here
    ), inserted AS (
        INSERT INTO {TABLE} ({columns}, sla_computed_at, imported_at, updated_at)
        SELECT {columns}, %(now)s, %(now)s, %(now)s FROM n WHERE n.old_id IS NULL
        {MERGE_ORDER}
        RETURNING 1
    ), updated AS (
        UPDATE {TABLE} SET {sets}, sla_computed_at = %(now)s, updated_at = %(now)s
        FROM n WHERE {TABLE}.id = n.old_id
        RETURNING 1)
    SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now})
        created, updated = cursor.fetchone()
    return int(created), int(updated)


def _has_duplicates() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TYPED} GROUP BY source, external_id HAVING count(*) > 1)")
        return bool(cursor.fetchone()[0])



def recompute(*, since: datetime.date | None, until: datetime.date | None, clock: SlaClock,
              now: datetime.datetime) -> tuple[int, int] | None:
    """Recompute the stored SLA of the interactions that came in on [since, until] with one
    statement — the month's rows read once, their SLA computed set-based, and only the rows
    whose values change written (by primary key): (checked, changed), or None when the
    calendar does not cover the dates (the caller then runs the Python clock)."""
    tz = _lit(clock.tz.key)
    where, params = [], {}
    if since is not None:
        where.append("i.local_date >= %(since)s")
        params["since"] = since
    if until is not None:
        where.append("i.local_date <= %(until)s")
        params["until"] = until
    condition = " AND ".join(where) or "true"
    # The day table's range: the first arrival, up to the last arrival or today, whichever is
    # later (replies and resolutions are never in the future: the import refuses them).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(i.local_date), max(i.local_date) FROM {TABLE} i WHERE {condition}", params)
        first, last = cursor.fetchone()
    if first is None:
        return 0, 0
    last = max(last, now.astimezone(clock.tz).date() + datetime.timedelta(days=1))
    stored = ", ".join(f"i.{c} AS old_{c}" for c in SLA)
    source = f"""(SELECT i.id, i.priority, i.local_date, {_us('i.received_at')} AS r_us,
        {_us('i.first_response_at')} AS f_us, {_us('i.resolved_at')} AS z_us,
        (coalesce(i.first_response_at, i.resolved_at) AT TIME ZONE {tz})::date AS p_date,
        (i.resolved_at AT TIME ZONE {tz})::date AS z_date, {stored}
        FROM {TABLE} i WHERE {condition} OFFSET 0)"""  # OFFSET 0: each µs value computed once
    try:
        with transaction.atomic():
            ranges = _calendar_tables(clock, first, last)
            new = ("x.fr_due", "x.res_due", "x.fr_status", "x.res_status", "x.fr_seconds", "x.res_seconds")
            values = [_ts(new[0]), _ts(new[1]), *new[2:]]
            sets = ", ".join(f"{c} = c.{c}" for c in SLA)
            old = ", ".join(f"x.old_{c}" for c in SLA)
            fresh = ", ".join(f"{v} AS {c}" for c, v in zip(SLA, values, strict=True))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""CREATE TEMPORARY TABLE {CHANGED} AS SELECT x.id, {fresh} FROM ({sla_select(source, ranges)}) x
                    WHERE ({old}) IS DISTINCT FROM ({', '.join(values)})""", params)
                cursor.execute(f"SELECT count(*) FROM {TABLE} i WHERE {condition}", params)
                checked = cursor.fetchone()[0]
                # the changed rows are few: fetch them by primary key, not by a join over the table
                cursor.execute("SELECT set_config('enable_mergejoin', 'off', true), "
                               "set_config('enable_hashjoin', 'off', true)")
                cursor.execute(
                    f"UPDATE {TABLE} SET {sets}, sla_computed_at = %(now)s, updated_at = %(now)s "
                    f"FROM {CHANGED} c WHERE {TABLE}.id = c.id", {"now": now})
                changed = cursor.rowcount
                cursor.execute("SELECT set_config('enable_mergejoin', 'on', true), "
                               "set_config('enable_hashjoin', 'on', true)")
    except Fallback:
        return None
    finally:
        drop()
    return int(checked), int(changed)
