"""Backups (issue 10 item 5): back the demo company up, restore it into a fresh database, and find
every record of every table and an intact audit chain there (``manage.py audit_verify``).

On PostgreSQL (DATABASE_URL) this is pg_dump -Fc / pg_restore into a database the test creates and
drops; on SQLite it is the online backup API into a new file. The restore and the audit check run as
separate ``manage.py`` processes against the restored database, as an operator would run them.
"""

import os
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from kefu.core import audit, backup
from kefu.people.demo import build_demo

ROOT = Path(settings.BASE_DIR)


def _tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)
                   if m._meta.managed and not m._meta.proxy})


def _counts_here() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in _tables():
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW_ASYNC"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def _seed() -> None:
    """The demo company (two agents a team) and a few records of the other apps through their demo steps."""
    from kefu.procurement.demo import build_procurement_demo
    from kefu.uniforms.demo import build_catalogue_demo

    build_demo(agents_per_team=2)
    build_catalogue_demo()
    build_procurement_demo()


@pytest.fixture
def postgres_fresh():
    """A new, empty PostgreSQL database next to the test database; dropped afterwards."""
    import psycopg

    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    params = {k: v for k, v in params.items() if v is not None}
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{user}@"
    yield name, f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}", params
    with psycopg.connect(**params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_the_demo_company(tmp_path, request):
    _seed()
    before = _counts_here()
    # The seed really filled the tables the company lives in.
    for table in ("auth_user", "people_employee", "people_orgunit", "core_auditentry", "uniforms_sku",
                  "procurement_supplier"):
        assert before[table] > 0, table
    assert audit.verify().ok

    call_command("backup", dir=str(tmp_path))
    [dump] = list(tmp_path.iterdir())
    assert dump.name.startswith("kefu-")

    if connection.vendor == "postgresql":
        assert dump.suffix == ".dump"
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        name, url, params = request.getfixturevalue("postgres_fresh")
        restored = _manage("restore", "--yes", str(dump), database_url=url)
        assert restored.returncode == 0, restored.stderr
        import psycopg

        with psycopg.connect(**{**params, "dbname": name}) as conn:
            after = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in before}
    else:
        assert dump.suffix == ".sqlite3"
        fresh = tmp_path / "restored.sqlite3"
        url = f"sqlite:///{fresh}"
        restored = _manage("restore", "--yes", str(dump), database_url=url)
        assert restored.returncode == 0, restored.stderr
        with sqlite3.connect(fresh) as conn:
            after = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in before}

    assert after == before
    verified = _manage("audit_verify", database_url=url)
    assert verified.returncode == 0, verified.stderr
    # "537 audit entries checked: OK", in the default language (zh-Hant): the count is the one made here.
    assert re.search(rf"\b{before['core_auditentry']}\b", verified.stdout), verified.stdout


@pytest.mark.django_db(transaction=True)
def test_audit_verify_on_the_restored_copy_catches_a_tampered_entry(tmp_path, request):
    """The check after a restore can fail: an entry altered in the restored copy is named."""
    build_demo(agents_per_team=1)
    path = backup.backup("default", directory=tmp_path)
    query = "SELECT MAX(id) FROM core_auditentry WHERE id < (SELECT MAX(id) FROM core_auditentry)"
    if connection.vendor == "postgresql":
        import psycopg

        name, url, params = request.getfixturevalue("postgres_fresh")
        assert _manage("restore", "--yes", str(path), database_url=url).returncode == 0
        with psycopg.connect(**{**params, "dbname": name}) as conn:
            [tampered] = conn.execute(query).fetchone()
            conn.execute("UPDATE core_auditentry SET reason = 'rewritten' WHERE id = %s", [tampered])
    else:
        url = f"sqlite:///{path}"
        with sqlite3.connect(path) as conn:
            [tampered] = conn.execute(query).fetchone()
            conn.execute("UPDATE core_auditentry SET reason = 'rewritten' WHERE id = ?", [tampered])
    verified = _manage("audit_verify", database_url=url)
    assert verified.returncode != 0
    assert f"#{tampered}" in verified.stderr  # the altered entry is named


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "kefu-x.sqlite3"
    bogus.write_text("not a database")
    with pytest.raises(backup.BackupError):
        backup.restore(bogus, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "target.sqlite3")})
    with pytest.raises(backup.BackupError):
        backup.restore(tmp_path / "missing.dump", {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"})
