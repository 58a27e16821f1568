"""Backups of the database (issue 10): ``make backup`` / ``make restore FILE=…``.

PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot while Kefu keeps running) and ``pg_restore
--clean --if-exists --no-owner`` (replaces every table of the target database). SQLite: a
consistent copy through sqlite3's online backup API (never a plain file copy, which can catch a
half-written page), restored with the same API. Files go to ``var/backups/`` (``KEFU_BACKUP_DIR``)
named ``kefu-YYYYmmdd-HHMMSSZ.dump`` or ``.sqlite3`` (UTC). Uploaded files (MEDIA_ROOT) are not in the
database: back that directory up with the file system's own tools.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings


class BackupError(Exception):
    pass


def backup_dir() -> Path:
    return Path(os.environ.get("KEFU_BACKUP_DIR") or Path(settings.DATA_DIR) / "backups")


def is_postgres(db: Mapping[str, Any]) -> bool:
    return "postgresql" in db["ENGINE"]


def _pg_env(db: Mapping[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def backup(alias: str = "default", *, directory: Path | None = None, now: datetime.datetime | None = None) -> Path:
    """Write a backup of the database ``alias`` and return its path."""
    from django.db import connections

    connection = connections[alias]
    db = connection.settings_dict
    directory = directory or backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%d-%H%M%SZ")  # UTC
    if is_postgres(db):
        target = directory / f"kefu-{stamp}.dump"
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", str(db["NAME"])], _pg_env(db))
        return target
    target = directory / f"kefu-{stamp}.sqlite3"
    # Through Django's own connection (so also an in-memory database); the backup API copies a
    # consistent snapshot even while other processes write.
    connection.ensure_connection()
    copy = sqlite3.connect(str(target))
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    return target


def restore(path: Path | str, db: Mapping[str, Any] | None = None) -> None:
    """Replace the contents of ``db`` (default: the default database) with the backup at ``path``."""
    db = dict(db or settings.DATABASES["default"])
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file {path}.")
    if is_postgres(db):
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={db['NAME']}", str(path)], _pg_env(db))
        return
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite backup (a PostgreSQL .dump needs DATABASE_URL).")
    source = sqlite3.connect(str(path))
    try:
        target = sqlite3.connect(str(db["NAME"]))
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
