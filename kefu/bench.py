"""`make bench`: Kefu at contact-centre scale, each figure beside a baseline measured in the
same run on the same database (issue 9 item 1).

    python -m kefu.bench [--scale 1] [--rows N] [--keep-file]

Needs PostgreSQL (DATABASE_URL). Everything happens in a scratch database made for the run
(Django's test-database machinery: ``<name>_bench``, migrated, then dropped). At scale 1 the
synthetic company has 2,000 agents in teams of 20 (ten departments) and 1,000,000
interactions over January–October 2026; ``--scale`` multiplies both (``--rows`` sets the
interaction count alone). The table:

1. interaction import (``services.interactions_import_file``) vs a raw ``COPY`` of the same
   file into a bare table — and, for reference, vs COPY into that table carrying the
   interaction table's six indexes (the import has to maintain them);
2. SLA recomputation of one month after a calendar change (a working day made a day off)
   vs one aggregate scan over the same rows;
3. a month's KPIs for all agents (``kpis.agent_kpis``) vs the same GROUP BYs in raw SQL;
4. server time of the main pages (django.test.Client in process, ``force_login``; median and
   p95 of 20 requests after two warm-ups) vs a minimal logged-in page;
5. ``annual.distribution.propose_grades`` for 20,000 people vs sorting the same scores.

What it does not do (yet): weekly / monthly evaluations, annual cycles and uniform holdings
are not generated, so those pages are measured on an empty board; and the concurrent-issuance
run (two app servers, 32 parallel requests for one SKU) is not part of this bench.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

AGENTS = 2_000
INTERACTIONS = 1_000_000
TEAM_SIZE = 20
TEAMS_PER_DEPARTMENT = 10
PEOPLE_FOR_GRADES = 20_000
REQUESTS = 20

rows_out: list[tuple[str, str, str, str]] = []


def line(what: str, figure: str, baseline: str, ratio: str) -> None:
    rows_out.append((what, figure, baseline, ratio))
    print(f"  {what:<42} {figure:>24}  {baseline:>24}  {ratio}", flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def build_company(agents: int) -> tuple[Any, Any, list[str]]:
    """Units, agents and one manager with every reading role on the whole company; set-based."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

    company = OrgUnit.objects.create(code="BENCH", name="Bench Co", kind=OrgUnit.Kind.COMPANY,
                                     is_customer_service=True)
    company.path = f"/{company.pk}/"
    company.save(update_fields=["path"])
    teams = max(1, agents // TEAM_SIZE)
    departments = max(1, teams // TEAMS_PER_DEPARTMENT)
    dept_kind, team_kind = OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.TEAM
    dept_units = []
    for d in range(departments):
        unit = OrgUnit.objects.create(code=f"D{d:03d}", name=f"Department {d}", kind=dept_kind, parent=company,
                                      is_customer_service=True)
        unit.path = f"{company.path}{unit.pk}/"
        unit.save(update_fields=["path"])
        dept_units.append(unit)
    team_units = []
    for t in range(teams):
        parent = dept_units[t % departments]
        unit = OrgUnit.objects.create(code=f"T{t:04d}", name=f"Team {t}", kind=team_kind, parent=parent,
                                      is_customer_service=True)
        unit.path = f"{parent.path}{unit.pk}/"
        unit.save(update_fields=["path"])
        team_units.append(unit)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_employee (employee_no, name, gender, hire_date, status, position, email, phone,"
            " org_unit_id, created_at, updated_at)"
            " SELECT 'A' || lpad(g::text, 6, '0'), 'Agent ' || g, 'F', DATE '2020-01-01', %s, '', '', '',"
            " (%s::bigint[])[1 + g %% %s], now(), now() FROM generate_series(0, %s - 1) g",
            [Employee.Status.ACTIVE, [u.pk for u in team_units], len(team_units), agents],
        )
    user = get_user_model().objects.create_user(username="bench-boss", password="bench-pass-1")
    Employee.objects.create(employee_no="BOSS", name="Boss", gender="F", hire_date=datetime.date(2020, 1, 1),
                            status=Employee.Status.ACTIVE, org_unit=company, user=user)
    for role in (Role.DEPT_HEAD, Role.CS_SUPERVISOR, Role.TEAM_LEAD, Role.HR, Role.LEADERSHIP, Role.SYSADMIN,
                 Role.ADMIN_STAFF):
        RoleAssignment.objects.create(user=user, role=role, org_unit=company, start_date=datetime.date(2020, 1, 1))
    numbers = [f"A{n:06d}" for n in range(agents)]
    return company, user, numbers


def bench_import(path: Path, rows: int) -> None:
    from kefu.service import bench as import_bench

    copy_s = import_bench.raw_copy(path)
    indexed_s = import_bench.raw_copy(path, indexed=True)
    first_s, report = import_bench.kefu_import(path)
    again_s, again = import_bench.kefu_import(path)
    line("import, new rows (rows/s)", f"{rows / first_s:,.0f} ({first_s:.1f} s)",
         f"COPY bare {rows / copy_s:,.0f}", f"{copy_s / first_s:.2f} of COPY (goal ≥ 0.5)")
    line("  same file again, nothing changes", f"{rows / again_s:,.0f} ({again_s:.1f} s)",
         f"COPY bare {rows / copy_s:,.0f}", f"{copy_s / again_s:.2f} of COPY")
    line("  vs COPY into a table with the 6 indexes", f"{rows / first_s:,.0f}",
         f"COPY+idx {rows / indexed_s:,.0f}", f"{indexed_s / first_s:.2f} of COPY+indexes")
    assert report.created == rows, report.errors[:5]
    assert again.unchanged == rows
    # before/after in the same run: the row-by-row path (checks, SLA and staging in Python),
    # which the COPY path replaced for regular CSV files on PostgreSQL, into an emptied table
    from django.db import connection

    from kefu.service import fastimport

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE service_interaction CASCADE")
    available = fastimport.available
    fastimport.available = lambda rows_source: False  # type: ignore[assignment]
    try:
        python_s, python_report = import_bench.kefu_import(path)
    finally:
        fastimport.available = available  # type: ignore[assignment]
    assert python_report.created == rows
    line("  row-by-row path, new rows (before)", f"{rows / python_s:,.0f} ({python_s:.1f} s)",
         f"COPY bare {rows / copy_s:,.0f}", f"{copy_s / python_s:.2f} of COPY; COPY path {python_s / first_s:.1f}× faster")


def bench_recompute() -> None:
    from django.db import connection

    from kefu.core import calendar
    from kefu.core.models import CalendarDay
    from kefu.service import services

    since, until = datetime.date(2026, 6, 1), datetime.date(2026, 6, 30)
    CalendarDay.objects.create(date=datetime.date(2026, 6, 15), kind=CalendarDay.Kind.OFF, note="bench")
    calendar.invalidate()
    seconds, run = timed(lambda: services.sla_recompute(actor=None, since=since, until=until, reason="bench"))

    def scan() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(first_reply_due_at), sum(first_reply_working_seconds),"
                " sum(resolution_working_seconds), count(*) FILTER (WHERE first_reply_status = 'met')"
                " FROM service_interaction WHERE local_date BETWEEN %s AND %s", [since, until])
            return cursor.fetchone()

    base, _ = timed(scan)
    line(f"SLA recompute, June ({run.rows_checked:,} rows, {run.rows_changed:,} changed)", f"{seconds * 1000:,.0f} ms",
         f"scan {base * 1000:,.0f} ms", f"{seconds / base:.1f}× (goal ≤ 3×)")


# The same five grouped aggregates as kpis.agent_kpis (handled, the two deadlines with their
# medians, backlog, satisfaction), written by hand: the floor of what the figures cost.
RAW_KPIS = [
    """SELECT agent_id, count(*), count(*) FILTER (WHERE kind = 'complaint') FROM service_interaction
       WHERE local_date >= %(start)s AND local_date < %(end)s AND agent_id = ANY(%(ids)s) GROUP BY 1""",
    """SELECT coalesce(first_responder_id, agent_id), count(*) FILTER (WHERE first_reply_status = 'met'),
        count(*) FILTER (WHERE first_reply_status = 'breached'),
        count(*) FILTER (WHERE first_reply_status = 'pending' AND first_reply_due_at < %(now)s),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply_working_seconds)
       FROM service_interaction WHERE local_date >= %(start)s AND local_date < %(end)s
        AND (first_responder_id = ANY(%(ids)s) OR (first_responder_id IS NULL AND agent_id = ANY(%(ids)s)))
       GROUP BY 1""",
    """SELECT coalesce(resolver_id, agent_id), count(*) FILTER (WHERE resolution_status = 'met'),
        count(*) FILTER (WHERE resolution_status = 'breached'),
        count(*) FILTER (WHERE resolution_status = 'pending' AND resolution_due_at < %(now)s),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_working_seconds)
       FROM service_interaction WHERE local_date >= %(start)s AND local_date < %(end)s
        AND (resolver_id = ANY(%(ids)s) OR (resolver_id IS NULL AND agent_id = ANY(%(ids)s)))
       GROUP BY 1""",
    """SELECT coalesce(resolver_id, agent_id), count(*) FROM service_interaction
       WHERE (resolver_id = ANY(%(ids)s) OR (resolver_id IS NULL AND agent_id = ANY(%(ids)s)))
        AND (resolved_at IS NULL OR resolved_at > %(cutoff)s) AND resolution_due_at < %(cutoff)s GROUP BY 1""",
    """SELECT agent_id, count(*), avg(rating), count(*) FILTER (WHERE rating >= 4) FROM service_surveyanswer
       WHERE agent_id = ANY(%(ids)s) AND answered_at >= %(start_at)s AND answered_at < %(end_at)s GROUP BY 1""",
]


def bench_kpis(agent_ids: list[int]) -> None:
    from django.db import connection

    from kefu.service import kpis

    period = kpis.month(2026, 6)
    seconds, _table = timed(lambda: kpis.agent_kpis(agent_ids, [period]))

    now = datetime.datetime.now(datetime.UTC)
    params: dict[str, Any] = {"start": period.start, "end": period.end, "ids": agent_ids, "now": now,
              "cutoff": min(now, period.end_at), "start_at": period.start_at, "end_at": period.end_at}

    def raw() -> Any:
        with connection.cursor() as cursor:
            for sql in RAW_KPIS:
                cursor.execute(sql, params)
                cursor.fetchall()

    base, _ = timed(raw)
    line(f"KPIs of June, {len(agent_ids):,} agents", f"{seconds * 1000:,.0f} ms", f"raw SQL {base * 1000:,.0f} ms",
         f"{seconds / base:.1f}× (goal ≤ 2×)")


def bench_pages(user: Any, agent_no: str) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    year = 2026
    pages = [
        ("minimal page (password form)", "/accounts/password/"),
        ("workbench", "/"),
        ("team weekly board", "/evaluations/weekly/board/"),
        ("department monthly board", "/evaluations/monthly/board/"),
        ("agent KPI page", f"/service/kpis/agents/{agent_no}/"),
        ("KPI team table", "/service/kpis/team/"),
        ("annual calibration board", f"/annual/{year}/"),
        ("stock page", "/uniforms/stock/"),
        ("audit log", "/audit/"),
    ]
    minimal_p95 = None
    for label, url in pages:
        times = []
        status = 0
        for i in range(REQUESTS + 2):
            started = time.perf_counter()
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            elapsed = time.perf_counter() - started
            status = response.status_code
            if i >= 2:
                times.append(elapsed * 1000)
        times.sort()
        median = statistics.median(times)
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        if minimal_p95 is None:
            minimal_p95 = p95
            line(f"page: {label}", f"median {median:.0f} p95 {p95:.0f} ms", f"HTTP {status}", "baseline")
            continue
        line(f"page: {label}", f"median {median:.0f} p95 {p95:.0f} ms", f"HTTP {status}",
             f"p95 {p95 / minimal_p95:.1f}× minimal (goal ≤ 5×, ≤ 300 ms)")


def bench_grades() -> None:
    from kefu.annual import distribution

    rng = random.Random(9)
    scores = {n: Decimal(rng.randrange(5000, 10000)) / 100 for n in range(PEOPLE_FOR_GRADES)}
    thresholds = {distribution.EXCELLENT: Decimal(90), distribution.GOOD: Decimal(75), distribution.PASS: Decimal(60)}
    seconds, _ = timed(lambda: distribution.propose_grades(scores, excellent_max_pct=Decimal(20),
                                                          fail_min_pct=Decimal(5), thresholds=thresholds))
    base, _ = timed(lambda: sorted(scores.items(), key=lambda kv: kv[1], reverse=True))
    line(f"propose_grades, {PEOPLE_FOR_GRADES:,} people", f"{seconds * 1000:,.0f} ms", f"sort {base * 1000:,.1f} ms",
         f"{seconds / base:.0f}× (goal < 1 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kefu at contact-centre scale (PostgreSQL).")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies agents and interactions (default 1)")
    parser.add_argument("--rows", type=int, default=None, help="interactions in the import file (default 1,000,000 × scale)")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated CSV file")
    args = parser.parse_args(argv)
    agents = max(TEAM_SIZE, int(AGENTS * args.scale))
    rows = args.rows or max(1000, int(INTERACTIONS * args.scale))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        print("make bench needs PostgreSQL: set DATABASE_URL=postgres://… (it makes and drops its own "
              "scratch database; SQLite is not a volume target).", file=sys.stderr)
        return 2
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from kefu.service import bench as import_bench

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_bench"
    print(f"Making the scratch database {old_name}_bench …", flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    workdir = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    path = workdir / f"interactions-{rows}.csv"
    try:
        from kefu.people.models import Employee

        started = time.perf_counter()
        _company, user, numbers = build_company(agents)
        import_bench.generate(path, rows, numbers)
        print(f"scale {args.scale:g}: {agents:,} agents, {rows:,} interactions ({path.stat().st_size / 1e6:.0f} MB);"
              f" built in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"  {'measure':<42} {'Kefu':>24}  {'baseline (same run)':>24}  ratio")
        bench_import(path, rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        bench_recompute()
        bench_kpis(list(Employee.objects.filter(employee_no__startswith="A").values_list("id", flat=True)))
        bench_pages(user, numbers[0])
        bench_grades()
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs at the end"
              + (" — other work shared the machine; the figures are pessimistic" if load > (os.cpu_count() or 1)
                 else ""))
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if args.keep_file:
            print(f"The file is kept: {path}")
        else:
            path.unlink(missing_ok=True)
            workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
