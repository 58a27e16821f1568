"""Set-based writes of interactions: a staging table and one merge (issue 3 item 2, "built for volume").

Rows are checked and their SLA computed in Python, then streamed into a temporary staging
table — ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite — and merged into
``service_interaction`` by one statement:

    INSERT … SELECT … FROM stage
    ON CONFLICT (source, external_id) DO UPDATE SET …
    WHERE (the stored row) IS DISTINCT FROM (the staged row)

so a row is written only when something differs: sending the same file twice writes
nothing, and ``updated_at`` moves only for rows that really changed.

The same staging table serves the SLA recomputation (``update_sla``): changed deadlines are
staged and applied with one ``UPDATE … FROM``.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

TABLE = "service_interaction"
STAGE = "service_interaction_stage"
SLA_STAGE = "service_sla_stage"

# The staged columns, in the order of a staged row (after row_no).
DATA_COLUMNS = (
    "source", "external_id", "channel", "priority", "kind", "customer_ref", "subject", "received_at",
    "first_response_at", "resolved_at", "recording_url", "local_date", "agent_id", "first_responder_id",
    "resolver_id",
)
SLA_COLUMNS = (
    "first_reply_due_at", "resolution_due_at", "first_reply_status", "resolution_status",
    "first_reply_working_seconds", "resolution_working_seconds",
)
COLUMNS = DATA_COLUMNS + SLA_COLUMNS
# What a re-import compares: everything but the key.
COMPARED = tuple(c for c in COLUMNS if c not in ("source", "external_id"))

_PG_TYPES = {
    "source": "varchar(32)", "external_id": "varchar(64)", "channel": "varchar(8)", "priority": "varchar(8)",
    "kind": "varchar(10)", "customer_ref": "varchar(64)", "subject": "varchar(200)",
    "received_at": "timestamptz", "first_response_at": "timestamptz", "resolved_at": "timestamptz",
    "recording_url": "varchar(500)", "local_date": "date", "agent_id": "bigint", "first_responder_id": "bigint",
    "resolver_id": "bigint", "first_reply_due_at": "timestamptz", "resolution_due_at": "timestamptz",
    "first_reply_status": "varchar(8)", "resolution_status": "varchar(8)",
    "first_reply_working_seconds": "integer", "resolution_working_seconds": "integer",
}
_SQLITE_TYPES = {
    "received_at": "datetime", "first_response_at": "datetime", "resolved_at": "datetime", "local_date": "date",
    "first_reply_due_at": "datetime", "resolution_due_at": "datetime", "agent_id": "integer",
    "first_responder_id": "integer", "resolver_id": "integer", "first_reply_working_seconds": "integer",
    "resolution_working_seconds": "integer",
}
_DATETIME_COLUMNS = {c for c, t in _PG_TYPES.items() if t == "timestamptz"}
# Text columns that may be empty ('' in the table; COPY's CSV format reads an empty field as NULL).
_BLANKABLE = ("customer_ref", "subject", "recording_url")
_NAIVE_EPOCH = datetime.datetime(1970, 1, 1)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _type(column: str) -> str:
    if is_postgres():
        return _PG_TYPES[column]
    return _SQLITE_TYPES.get(column, "text")


def _distinct(left: str, right: str, columns: Sequence[str]) -> str:
    """SQL true when any column differs, NULL-safe."""
    if is_postgres():
        lhs = ", ".join(f"{left}.{c}" for c in columns)
        rhs = ", ".join(f"{right}.{c}" for c in columns)
        return f"({lhs}) IS DISTINCT FROM ({rhs})"
    return "(" + " OR ".join(f"{left}.{c} IS NOT {right}.{c}" for c in columns) + ")"


class _Adapter:
    """Turns Python values into what the SLA staging write sends (SQLite needs Django's text forms)."""

    def __init__(self, columns: Sequence[str]):
        self.postgres = is_postgres()
        ops = connection.ops
        self.positions = [i for i, c in enumerate(columns) if c in _DATETIME_COLUMNS or c == "local_date"]
        self._dt = ops.adapt_datetimefield_value
        self._date = ops.adapt_datefield_value
        self._columns = columns

    def __call__(self, row: Sequence[Any]) -> Sequence[Any]:
        if self.postgres:
            return row
        out = list(row)
        for i in self.positions:
            value = out[i]
            if value is not None:
                out[i] = self._date(value) if self._columns[i] == "local_date" else self._dt(value)
        return out


def _sqlite_time(us: int | None) -> str | None:
    """Epoch microseconds as Django's SQLite backend stores a UTC datetime (str of the naive UTC value)."""
    return None if us is None else str(_NAIVE_EPOCH + datetime.timedelta(microseconds=us))


class Stage:
    """A temporary table of checked rows (row_no first), for one import on this connection.

    Times are staged as epoch microseconds (PostgreSQL: a bigint, turned into timestamptz
    by the merge; SQLite: Django's text form), so the bulk path never builds aware datetimes.
    Rows are appended on PostgreSQL with ``COPY … (FORMAT csv)`` written by the C csv module.
    """

    def __init__(self) -> None:
        self.columns = ("row_no", *COLUMNS)
        self.postgres = is_postgres()
        self.rows = 0
        self._time_positions = [i for i, c in enumerate(self.columns) if c in _DATETIME_COLUMNS]

    def _stage_type(self, column: str) -> str:
        if column in _DATETIME_COLUMNS:
            return "bigint" if self.postgres else "text"
        return _type(column)

    def __enter__(self) -> Stage:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            spec = ", ".join(["row_no integer", *(f"{c} {self._stage_type(c)}" for c in COLUMNS)])
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({spec})")
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        except Exception:  # a broken transaction: the table goes with the session
            if exc[0] is None:
                raise

    def write(self, rows: list[Sequence[Any]]) -> None:
        """Append rows: tuples in ``self.columns`` order, times as epoch microseconds."""
        if not rows:
            return
        self.rows += len(rows)
        with connection.cursor() as cursor:
            if self.postgres:
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(rows)
                with cursor.cursor.copy(f"COPY {STAGE} ({', '.join(self.columns)}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                positions = self._time_positions
                adapted = []
                for row in rows:
                    out = list(row)
                    for i in positions:
                        out[i] = _sqlite_time(out[i])
                    out[self.columns.index("local_date")] = str(out[self.columns.index("local_date")])
                    adapted.append(out)
                cursor.executemany(
                    f"INSERT INTO {STAGE} ({', '.join(self.columns)}) VALUES ({marks})", adapted
                )

    def _select(self) -> str:
        """The staged columns as the interaction table's values."""
        parts = []
        for c in COLUMNS:
            if self.postgres and c in _DATETIME_COLUMNS:
                parts.append(f"timestamptz 'epoch' + {c} * interval '1 microsecond'")
            elif c in _BLANKABLE:
                parts.append(f"COALESCE({c}, '')")
            else:
                parts.append(c)
        return ", ".join(parts)

    def rows_outside(self, allowed: QuerySet) -> list[tuple[int, int]]:
        """(row_no, stored agent id) of staged rows that would change an interaction whose stored
        agent is not among ``allowed`` (a queryset of employee ids)."""
        sql, params = allowed.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.row_no, i.agent_id FROM {STAGE} s JOIN {TABLE} i "
                f"ON i.source = s.source AND i.external_id = s.external_id "
                f"WHERE i.agent_id NOT IN ({sql}) ORDER BY s.row_no",
                params,
            )
            return list(cursor.fetchall())

    def merge(self, *, now: datetime.datetime) -> tuple[int, int]:
        """Upsert the staged rows; returns (created, updated). Unchanged rows are not written."""
        cols = ", ".join(COLUMNS)
        stamp_cols = "sla_computed_at, imported_at, updated_at"
        sets = ", ".join(f"{c} = excluded.{c}" for c in COMPARED)
        sets += ", sla_computed_at = excluded.sla_computed_at, updated_at = excluded.updated_at"
        changed = _distinct(TABLE, "excluded", COMPARED)
        stamp = now if self.postgres else connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"WITH upserted AS ("
                    f" INSERT INTO {TABLE} ({cols}, {stamp_cols})"
                    f" SELECT {self._select()}, %s, %s, %s FROM {STAGE}"
                    f" ON CONFLICT (source, external_id) DO UPDATE SET {sets} WHERE {changed}"
                    f" RETURNING (xmax = 0) AS inserted)"
                    f" SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted",
                    [stamp, stamp, stamp],
                )
                created, updated = cursor.fetchone()
                return int(created), int(updated)
            cursor.execute(
                f"SELECT count(*) FROM {STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {TABLE} i"
                f" WHERE i.source = s.source AND i.external_id = s.external_id)"
            )
            created = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT count(*) FROM {STAGE} s JOIN {TABLE} i ON i.source = s.source"
                f" AND i.external_id = s.external_id WHERE {_distinct('i', 's', COMPARED)}"
            )
            updated = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {TABLE} ({cols}, {stamp_cols}) SELECT {self._select()}, %s, %s, %s FROM {STAGE} WHERE true"
                f" ON CONFLICT (source, external_id) DO UPDATE SET {sets} WHERE {changed}",
                [stamp, stamp, stamp],
            )
            return int(created), int(updated)


def update_sla(rows: Iterable[Sequence[Any]], *, now: datetime.datetime) -> int:
    """Apply recomputed SLA values: rows of (id, *SLA_COLUMNS). Returns the number written."""
    rows = list(rows)
    if not rows:
        return 0
    columns = ("id", *SLA_COLUMNS)
    adapt = _Adapter(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SLA_STAGE}")
        spec = ", ".join(["id bigint" if adapt.postgres else "id integer", *(f"{c} {_type(c)}" for c in SLA_COLUMNS)])
        cursor.execute(f"CREATE TEMPORARY TABLE {SLA_STAGE} ({spec})")
        try:
            if adapt.postgres:
                with cursor.cursor.copy(f"COPY {SLA_STAGE} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {SLA_STAGE} ({', '.join(columns)}) VALUES ({marks})", [adapt(r) for r in rows]
                )
            sets = ", ".join(f"{c} = s.{c}" for c in SLA_COLUMNS)
            stamp = now if adapt.postgres else connection.ops.adapt_datetimefield_value(now)
            cursor.execute(
                f"UPDATE {TABLE} SET {sets}, sla_computed_at = %s, updated_at = %s FROM {SLA_STAGE} s"
                f" WHERE {TABLE}.id = s.id",
                [stamp, stamp],
            )
            return cursor.rowcount
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {SLA_STAGE}")
