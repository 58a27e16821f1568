"""`make bench`: Kefu at contact-centre scale, each figure beside a baseline measured in the
same run on the same database (issue 9 item 1).

    python -m kefu.bench [--scale 1] [--rows N] [--keep-file] [--keep-db] [--only import|pages|recompute]

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
5. concurrent issuance: two app servers (gunicorn, one process each) take 32 issue-form posts
   at once for approved requisitions of one SKU with too little stock (a quarter of them retries
   with the same idempotency key); units oversold and duplicate issues counted from the database;
6. ``annual.distribution.propose_grades`` for 20,000 people vs sorting the same scores.

Besides the interactions the company has a year of history (``build_history``, in bulk as the
demos write last year): a weekly evaluation per agent and week for 52 weeks with its criterion
scores and stored percents, twelve final monthly evaluations per agent, this year's annual cycle
in calibration (through its services), the uniform catalogue with stock and 10,000 × scale
uniform holdings.
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
HOLDINGS = 10_000
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
    # Every agent logs in and holds the agent role in her team (who the monthly evaluation and the
    # annual cycle take in: monthly.month_agents, annual.services._population).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) SELECT '!', false, lower(employee_no), '', '', '', false, true, now()"
            " FROM people_employee WHERE employee_no LIKE 'A%%'")
        cursor.execute(
            "UPDATE people_employee e SET user_id = u.id FROM auth_user u"
            " WHERE u.username = lower(e.employee_no) AND e.employee_no LIKE 'A%%'")
        cursor.execute(
            "INSERT INTO people_roleassignment (user_id, role, org_unit_id, start_date)"
            " SELECT user_id, %s, org_unit_id, DATE '2020-01-01' FROM people_employee WHERE employee_no LIKE 'A%%'",
            [Role.AGENT])
    numbers = [f"A{n:06d}" for n in range(agents)]
    return company, user, numbers


def build_history(user: Any, scale: float) -> dict[str, int]:
    """What a year of running Kefu leaves behind, written in bulk as the demos write last year's data
    (kefu/annual/demo.py, kefu/evaluations/demo.py): a year of weekly and final monthly evaluations for
    every agent, the annual cycle of this year in calibration (through its services), the uniform
    catalogue with stock (services) and ``HOLDINGS × scale`` uniform holdings (opening balances)."""
    from django.test.utils import override_settings

    counts = _history_evaluations(user)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        counts |= _history_annual(user)
        counts |= _history_uniforms(user, max(1, int(HOLDINGS * scale)))
    return counts


def _history_evaluations(user: Any) -> dict[str, int]:
    from django.db import connection
    from django.utils import timezone

    from kefu.core import audit, calendar
    from kefu.evaluations import monthly, services
    from kefu.evaluations.models import MonthlyEvaluation, Scorecard, WeeklyEvaluation

    D = Decimal
    boss = user.employee
    card = services.scorecard_ensure_default(actor=user)
    Scorecard.objects.filter(pk=card.pk).update(frozen_at=timezone.now())  # as the first evaluation does
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    last_monday = today - datetime.timedelta(days=today.weekday() + 7)
    weeks = [last_monday - datetime.timedelta(weeks=i) for i in range(52)]
    submitted = [datetime.datetime.combine(w + datetime.timedelta(days=4), datetime.time(16), tzinfo=tz) for w in weeks]
    # E2.1: the last week's evaluations are submitted, the older ones acknowledged by the agent; every
    # weekly criterion scored (N/A one time in ten where the criterion allows it), the dimension
    # percents stored as weekly_evaluation_submit stores them (scoring.dimension_scores, in SQL).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO evaluations_weeklyevaluation (agent_id, iso_year, iso_week, week_start, evaluator_id,"
            " scorecard_id, method_onsite, method_recording, method_chat, notes, status, submitted_at,"
            " acknowledged_at, agent_comment, created_by_id, created_at, updated_at)"
            " SELECT e.id, w.y, w.n, w.start, %s, %s, false, true, false, '',"
            " CASE WHEN w.start = %s THEN 'submitted' ELSE 'acknowledged' END, w.sub,"
            " CASE WHEN w.start = %s THEN NULL ELSE w.sub + interval '3 days' END, '', %s, w.sub, w.sub"
            " FROM people_employee e CROSS JOIN unnest(%s::int[], %s::int[], %s::date[], %s::timestamptz[])"
            " AS w(y, n, start, sub) WHERE e.employee_no LIKE 'A%%'",
            [boss.pk, card.pk, last_monday, last_monday, user.pk, [w.isocalendar()[0] for w in weeks],
             [w.isocalendar()[1] for w in weeks], weeks, submitted])
        cursor.execute(
            "INSERT INTO evaluations_weeklyscore (evaluation_id, criterion_id, level, comment)"
            " SELECT ev.id, c.id, CASE WHEN c.allow_na AND random() < 0.1 THEN NULL"
            "  ELSE c.lo + floor(random() * (c.scale_max - c.lo + 1))::int END, ''"
            " FROM evaluations_weeklyevaluation ev CROSS JOIN (SELECT id, allow_na, scale_max,"
            "  CASE WHEN critical THEN fail_at_or_below + 1 ELSE scale_min + 1 END AS lo FROM evaluations_criterion"
            "  WHERE scorecard_id = %s AND dimension IN ('attitude', 'ability', 'efficiency')) c"
            " WHERE ev.scorecard_id = %s", [card.pk, card.pk])
        pct = ", ".join(
            f"CASE WHEN bool_or(c.critical AND s.level <= c.fail_at_or_below) FILTER (WHERE c.dimension = '{d}')"
            f" THEN 0 ELSE round(100 * avg((s.level - c.scale_min)::numeric / (c.scale_max - c.scale_min))"
            f" FILTER (WHERE c.dimension = '{d}' AND s.level IS NOT NULL), 2) END AS {d}"
            for d in ("attitude", "ability", "efficiency"))
        cursor.execute(
            f"UPDATE evaluations_weeklyevaluation ev SET attitude_pct = p.attitude, ability_pct = p.ability,"
            f" efficiency_pct = p.efficiency FROM (SELECT s.evaluation_id, {pct} FROM evaluations_weeklyscore s"
            f" JOIN evaluations_criterion c ON c.id = s.criterion_id GROUP BY 1) p WHERE p.evaluation_id = ev.id")
        weekly = cursor.rowcount
    first = WeeklyEvaluation.objects.order_by("pk").first()
    if first is not None:
        audit.record(actor=None, action="weekly_evaluation.demo_batch", obj=first, object_repr="bench",
                     changes={"created": [None, weekly]}, reason="bench data (bulk): a year of weekly evaluations")

    # E2.2: the last twelve months, final (acknowledged), points per dimension around her own level on
    # the point step, as kefu/annual/demo.py writes last year's months.
    rng = random.Random(9)
    agents = list(monthly.month_agents(today.year, today.month).order_by("employee_no").values_list("pk", flat=True))
    level = {pk: min(97.0, max(48.0, rng.gauss(80, 8.5))) for pk in agents}
    cal = calendar.current()
    months = [((today.year * 12 + today.month - 2 - i) // 12, (today.year * 12 + today.month - 2 - i) % 12 + 1)
              for i in range(12)]
    rows = []
    for year, month in months:
        rules = monthly.rules_for(year, month)
        day = monthly.last_day(year, month) + datetime.timedelta(days=2)
        while not cal.is_working_day(day):
            day += datetime.timedelta(days=1)
        at = datetime.datetime.combine(day, datetime.time(10), tzinfo=tz)
        for pk in agents:
            share = D(str(rng.gauss(level[pk], 4.0))) / 100
            ev = MonthlyEvaluation(agent_id=pk, year=year, month=month, scorecard=card, supervisor=boss,
                                   status=MonthlyEvaluation.Status.FINAL,
                                   final_via=MonthlyEvaluation.FinalVia.ACKNOWLEDGED, submitted_at=at,
                                   acknowledged_at=at + datetime.timedelta(hours=rng.randint(2, 30)),
                                   appeal_deadline=at + datetime.timedelta(days=7))
            for dim, weight in rules.weights.items():
                value = min(weight, max(D(0), share * weight + D(str(rng.gauss(0, 0.6)))))
                setattr(ev, dim, monthly.round_to_step(value, rules.step))
            ev.total = monthly.total_of(ev)
            ev.finalised_at = ev.acknowledged_at
            rows.append(ev)
    MonthlyEvaluation.objects.bulk_create(rows, batch_size=2000)
    if rows:
        audit.record(actor=None, action="monthly_evaluation.demo_batch", obj=rows[0], object_repr="bench",
                     changes={"created": [None, len(rows)]}, reason="bench data (bulk): a year of monthly evaluations")
    return {"weekly evaluations": weekly, "monthly evaluations": len(rows)}


def _history_annual(user: Any) -> dict[str, int]:
    """This year's annual cycle through its services (E2.3): opened and in calibration."""
    from django.utils import timezone

    from kefu.annual import services

    cycle = services.cycle_open(actor=user, year=timezone.localdate().year)
    cycle = services.cycle_calibrate(actor=user, cycle=cycle)
    return {"annual results": cycle.results.count()}


def _history_uniforms(user: Any, holdings: int) -> dict[str, int]:
    """The demo catalogue through the services, stock received, and opening-balance holdings in bulk
    (the rows ``services.holding_register`` writes, one audit entry for the batch)."""
    from django.utils import timezone

    from kefu.core import audit
    from kefu.uniforms import demo, services
    from kefu.uniforms.models import Holding, Location, Sku

    sizes = {code: services.size_save(actor=user, code=code, label=label, order=i)
             for i, (code, label) in enumerate([*demo.CLOTHES_SIZES, demo.ONE_SIZE])}
    for code, name, item_type, gender, season, colour, material, reusable, _cost, notes in demo.STYLES:
        style = services.style_save(actor=user, code=code, name=name, item_type=item_type, gender=gender,
                                    season=season, colour=colour, material=material, reusable=reusable,
                                    design_notes=notes)
        wanted = [sizes[demo.ONE_SIZE[0]]] if reusable else [sizes[c] for c, _label in demo.CLOTHES_SIZES]
        services.skus_create(actor=user, style=style, sizes=wanted, reorder_point=15)
    main = services.location_save(actor=user, code="MAIN", name="Main store", kind=Location.Kind.NEW)
    cost = {code: Decimal(c) for code, *_rest, c, _notes in demo.STYLES}
    skus = list(Sku.objects.select_related("style").order_by("code"))
    for sku in skus:
        services.stock_receive(actor=user, sku=sku, location=main, quantity=max(20, holdings // 10),
                               unit_cost=cost[sku.style.code], reference=("bench", "opening"), reason="bench")
    skus = list(Sku.objects.order_by("code"))
    agents = list(user.employee.__class__.objects.filter(employee_no__startswith="A").values_list("pk", flat=True))
    rng = random.Random(6)
    today = timezone.localdate()
    due: dict[datetime.date, datetime.date] = {}
    rows = []
    for n in range(holdings):
        issued = today - datetime.timedelta(days=rng.randint(30, 760))
        if issued not in due:
            due[issued] = services.renewal_due_on(issued)
        sku = skus[n % len(skus)]
        rows.append(Holding(employee_id=agents[n % len(agents)], sku=sku, issued_on=issued, renewal_due_on=due[issued],
                            unit_cost=sku.unit_cost))
    Holding.objects.bulk_create(rows, batch_size=5000)
    audit.record(actor=user, action="holding.bench_batch", obj=rows[0], object_repr="bench",
                 changes={"created": [None, len(rows)]}, reason="bench data (bulk): opening balances")
    return {"uniform SKUs": len(skus), "uniform holdings": len(rows)}


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
    """SELECT coalesce(resolver_id, agent_id), count(resolution_due_at) FROM service_interaction
       WHERE (resolver_id = ANY(%(ids)s) OR (resolver_id IS NULL AND agent_id = ANY(%(ids)s)))
        AND resolution_status = 'pending' AND resolution_due_at < %(cutoff)s GROUP BY 1
       UNION ALL SELECT resolver_id, count(*) FROM service_interaction
       WHERE resolver_id = ANY(%(ids)s) AND resolved_at > %(cutoff)s AND resolution_status <> 'pending'
        AND resolution_due_at < %(cutoff)s GROUP BY 1
       UNION ALL SELECT agent_id, count(*) FROM service_interaction
       WHERE resolver_id IS NULL AND agent_id = ANY(%(ids)s) AND resolved_at > %(cutoff)s
        AND resolution_status <> 'pending' AND resolution_due_at < %(cutoff)s GROUP BY 1""",
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


def bench_issuance(user: Any, requests: int = 32, servers: int = 2) -> None:
    """Two app servers (gunicorn, one process each, as behind a load balancer) take ``requests``
    issue-form posts for approved requisitions of one SKU at once, with too little stock for all of
    them; a quarter of the posts are retries of another post (same form token = same idempotency
    key). Counted afterwards from the database: units issued beyond the stock received (and any
    negative stock level or ledger balance), and units issued beyond what a requisition asked for."""
    import http.client
    import socket
    import subprocess
    import threading
    import urllib.parse
    import uuid

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.db.models import Sum
    from django.test.utils import override_settings

    from kefu.people.models import Employee
    from kefu.uniforms import services
    from kefu.uniforms.models import IssuanceLine, Location, Requisition, Sku, StockLevel, StockMove

    distinct = requests * 3 // 4
    stock = distinct * 2 // 3
    sku = Sku.objects.get(code="BADGE-ONE")
    race = services.location_save(actor=user, code="RACE", name="Issuance race", kind=Location.Kind.NEW)
    services.stock_receive(actor=user, sku=sku, location=race, quantity=stock, unit_cost="12.00", reason="bench")
    people = list(Employee.objects.filter(employee_no__startswith="A").order_by("employee_no")[:distinct])
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        reqs = []
        for person in people:
            req = services.requisition_create(actor=user, employee=person, reason=Requisition.Reason.EXTRA,
                                              extra_reason="bench", lines=[(sku, 1)])
            reqs.append(services.requisition_approve(actor=user, requisition=req))
    tokens = [uuid.uuid4().hex for _ in reqs]
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = "b" * 32
    headers = {"Cookie": f"sessionid={store.session_key}; csrftoken={csrf}", "Referer": "http://127.0.0.1/",
               "Content-Type": "application/x-www-form-urlencoded"}

    d = connection.settings_dict
    auth = d["USER"] + (f":{urllib.parse.quote(d['PASSWORD'])}" if d.get("PASSWORD") else "")
    env = os.environ | {"DATABASE_URL": f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}",
                        "DEBUG": "False", "ALLOWED_HOSTS": "127.0.0.1,localhost", "DB_CONN_MAX_AGE": "60",
                        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    env.pop("TEST_DB_NAME", None)
    ports = []
    procs = []
    for _ in range(servers):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        procs.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "kefu.wsgi:application", "--bind", f"127.0.0.1:{ports[-1]}",
             "--workers", "1", "--threads", str(requests // servers), "--timeout", "120", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def call(port: int, method: str, path: str, body: bytes = b"") -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    try:
        for port in ports:
            for _ in range(300):
                try:
                    call(port, "GET", "/accounts/password/")  # up, and the app loaded
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("gunicorn did not answer")
        location = race.pk
        barrier = threading.Barrier(requests + 1)
        answers: list[Any] = [None] * requests

        def fire(i: int) -> None:
            req, token = reqs[i % len(reqs)], tokens[i % len(reqs)]  # i ≥ len(reqs): a retry of post i - len(reqs)
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "location": location, "token": token}).encode()
            barrier.wait()
            try:
                answers[i] = call(ports[i % len(ports)], "POST", f"/uniforms/requisitions/{req.number}/issue/", body)
            except Exception as e:  # reported in the table
                answers[i] = repr(e)

        threads = [threading.Thread(target=fire, args=(i,)) for i in range(requests)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join(180)
        seconds = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    # From the database, not from the answers.
    issued = -(StockMove.objects.filter(location=race, sku=sku, kind=StockMove.Kind.ISSUE)
               .aggregate(n=Sum("quantity"))["n"] or 0)
    negative = (StockLevel.objects.filter(location=race, on_hand__lt=0).count()
                + StockMove.objects.filter(location=race, on_hand_after__lt=0).count())
    oversold = max(0, issued - stock) + negative
    per_req = dict(IssuanceLine.objects.filter(issuance__requisition__in=reqs).values("issuance__requisition")
                   .annotate(n=Sum("quantity")).values_list("issuance__requisition", "n"))
    duplicates = sum(max(0, n - 1) for n in per_req.values())
    statuses = sorted({str(a) for a in answers})
    line(f"concurrent issuance, {servers} servers, {requests} posts",
         f"{requests / seconds:,.1f} req/s ({seconds:.1f} s)", f"HTTP {', '.join(statuses)}",
         f"issued {issued} of {stock} in stock to {len(reqs)} requisitions; oversold {oversold}, duplicates {duplicates}"
         " (goal 0, 0)")


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


def vacuum_analyze() -> None:
    """What autovacuum does after a million-row insert (its default is on; the scratch server may run
    with it off): statistics, and the visibility map that lets index-only scans skip the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kefu at contact-centre scale (PostgreSQL).")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies agents and interactions (default 1)")
    parser.add_argument("--rows", type=int, default=None, help="interactions in the import file (default 1,000,000 × scale)")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated CSV file")
    parser.add_argument("--only", choices=["import", "pages", "recompute"], default=None,
                        help="run only this part (the import rows: no history, no other rows; pages: one import, "
                             "no history, then the KPI and page rows; recompute: one import, then the SLA "
                             "recomputation row)")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database (for EXPLAIN)")
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
        if args.only is None:
            history = build_history(user, args.scale)
            print("  history: " + ", ".join(f"{n:,} {label}" for label, n in history.items()), flush=True)
        import_bench.generate(path, rows, numbers)
        print(f"scale {args.scale:g}: {agents:,} agents, {rows:,} interactions ({path.stat().st_size / 1e6:.0f} MB);"
              f" built in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"  {'measure':<42} {'Kefu':>24}  {'baseline (same run)':>24}  ratio")
        if args.only == "pages":
            load_s, _report = import_bench.kefu_import(path)
            print(f"  imported {rows:,} rows in {load_s:.1f} s", flush=True)
            vacuum_analyze()
            bench_kpis(list(Employee.objects.filter(employee_no__startswith="A").values_list("id", flat=True)))
            bench_pages(user, numbers[0])
        elif args.only == "recompute":
            load_s, _report = import_bench.kefu_import(path)
            print(f"  imported {rows:,} rows in {load_s:.1f} s", flush=True)
            vacuum_analyze()  # as the full run does before this row
            bench_recompute()
        else:
            bench_import(path, rows)
        if args.only is None:
            vacuum_analyze()
            bench_recompute()
            bench_kpis(list(Employee.objects.filter(employee_no__startswith="A").values_list("id", flat=True)))
            bench_pages(user, numbers[0])
            bench_issuance(user)
            bench_grades()
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs at the end"
              + (" — other work shared the machine; the figures are pessimistic" if load > (os.cpu_count() or 1)
                 else ""))
    finally:
        connection.close()
        if args.keep_db:
            print(f"The scratch database is kept: {old_name}_bench")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        if args.keep_file:
            print(f"The file is kept: {path}")
        else:
            path.unlink(missing_ok=True)
            workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
