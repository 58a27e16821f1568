"""Agent KPIs (issue 3 item 5): figures on hand-built data, periods, pages, export, API, access.

The data (see ``KpiData``): 王小美 (CS1001, agent A) and 林雅婷 (CS1005, agent B) in March 2026,
"now" = 2026-04-10 12:00 Shanghai. Every expected figure is worked out in the comments.
"""

from __future__ import annotations

import datetime
import io
import statistics
from unittest import mock

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from openpyxl import load_workbook

from kefu.api.testing import ApiTestCase
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import KefuTestCase, build_company, make_person
from kefu.service import kpis
from kefu.service.kpis import MONTH, WEEK, PeriodError, parse_period
from kefu.service.models import SlaStored
from kefu.service.tests.builders import answer, interaction, local

MET, BREACHED, PENDING = SlaStored.MET, SlaStored.BREACHED, SlaStored.PENDING
NOW = local(2026, 4, 10, 12)
D = datetime.date


class PeriodTests(TestCase):
    def test_month(self):
        p = parse_period("2026-03")
        self.assertEqual((p.kind, p.start, p.end, p.key), (MONTH, D(2026, 3, 1), D(2026, 4, 1), "2026-03"))
        december = parse_period("2026-12")
        self.assertEqual((december.start, december.end), (D(2026, 12, 1), D(2027, 1, 1)))
        self.assertEqual(parse_period(" 2026-3 ").key, "2026-03")

    def test_iso_week(self):
        # 1 January 2026 is a Thursday, so week 1 runs from Monday 29 December 2025; week 10 from 2 March.
        p = parse_period("2026-W10")
        self.assertEqual((p.kind, p.start, p.end, p.key), (WEEK, D(2026, 3, 2), D(2026, 3, 9), "2026-W10"))
        self.assertEqual(parse_period("2026-w01").start, D(2025, 12, 29))
        # 2026 is a long ISO year (53 weeks); 2025 is not.
        self.assertEqual(parse_period("2026-W53").start, D(2026, 12, 28))
        with self.assertRaises(PeriodError):
            parse_period("2025-W53")

    def test_bad_periods_say_what_is_wrong(self):
        for text in ["", "March", "2026-13", "2026-00", "2026-W00", "2026-W54", "26-03", "2026-03-01", "2026/03"]:
            with self.subTest(text=text), self.assertRaises(PeriodError) as caught:
                parse_period(text)
            self.assertIn("YYYY-MM", str(caught.exception))

    def test_shift_across_years(self):
        self.assertEqual(parse_period("2026-01").shifted(-1).key, "2025-12")
        self.assertEqual(parse_period("2026-W01").shifted(-1).key, "2025-W52")
        self.assertEqual(parse_period("2026-W53").shifted(1).key, "2027-W01")
        self.assertEqual([p.key for p in kpis.recent_periods(parse_period("2026-02"), 3)],
                         ["2025-12", "2026-01", "2026-02"])

    def test_period_of_a_day(self):
        self.assertEqual(kpis.period_of(D(2026, 3, 8), WEEK).key, "2026-W10")  # a Sunday
        self.assertEqual(kpis.period_of(D(2026, 3, 9), WEEK).key, "2026-W11")
        self.assertEqual(kpis.period_of(D(2026, 3, 31), MONTH).key, "2026-03")


def build_kpi_data(cls) -> None:
    """Agent A = CS1001 (CS1-T1), agent B = CS1005 (CS1-T2); rows i1–i10 and five answers on ``cls``."""
    A = cls.a = Employee.objects.get(employee_no="CS1001")
    B = cls.b = Employee.objects.get(employee_no="CS1005")
    cls.i1 = interaction(A, local(2026, 3, 2, 10), fr=MET, res=MET, fr_seconds=600, res_seconds=3600,
                         first_response_at=local(2026, 3, 2, 10, 10), resolved_at=local(2026, 3, 2, 11),
                         fr_due=local(2026, 3, 2, 12), res_due=local(2026, 3, 5, 18))
    cls.i2 = interaction(A, local(2026, 3, 3, 10), kind="complaint", fr=MET, res=BREACHED, fr_seconds=1200,
                         res_seconds=7200, first_response_at=local(2026, 3, 3, 10, 20),
                         resolved_at=local(2026, 3, 9, 10), fr_due=local(2026, 3, 3, 12),
                         res_due=local(2026, 3, 6, 18))
    cls.i3 = interaction(A, local(2026, 3, 4, 10), fr=BREACHED, res=MET, fr_seconds=9000, res_seconds=5400,
                         first_response_at=local(2026, 3, 4, 13, 30), resolved_at=local(2026, 3, 4, 14),
                         fr_due=local(2026, 3, 4, 12), res_due=local(2026, 3, 9, 18))
    cls.i4 = interaction(A, local(2026, 3, 5, 10), kind="complaint", fr=MET, res=PENDING, fr_seconds=300,
                         first_response_at=local(2026, 3, 5, 10, 5), fr_due=local(2026, 3, 5, 12),
                         res_due=local(2026, 3, 10, 18))  # never resolved: overdue now
    cls.i5 = interaction(A, local(2026, 3, 31, 17), fr=PENDING, res=PENDING,
                         fr_due=local(2026, 4, 15, 9), res_due=local(2026, 4, 20, 18))  # both still open
    cls.i6 = interaction(A, local(2026, 3, 6, 10), first_responder=B, resolver=B, fr=MET, res=MET,
                         fr_seconds=60, res_seconds=120, first_response_at=local(2026, 3, 6, 10, 1),
                         resolved_at=local(2026, 3, 6, 10, 2), fr_due=local(2026, 3, 6, 12),
                         res_due=local(2026, 3, 11, 18))
    cls.i7 = interaction(B, local(2026, 3, 12, 10), resolver=A, fr=MET, res=BREACHED, fr_seconds=180,
                         res_seconds=4800, first_response_at=local(2026, 3, 12, 10, 3),
                         resolved_at=local(2026, 3, 20, 10), fr_due=local(2026, 3, 12, 12),
                         res_due=local(2026, 3, 17, 18))
    cls.i8 = interaction(A, local(2026, 2, 27, 10), fr=MET, res=PENDING, fr_seconds=100,
                         first_response_at=local(2026, 2, 27, 10, 2), fr_due=local(2026, 2, 27, 12),
                         res_due=local(2026, 3, 2, 18))  # February; unresolved: March's backlog
    cls.i9 = interaction(A, local(2026, 3, 20, 10), fr=MET, res=BREACHED, fr_seconds=1500, res_seconds=30000,
                         first_response_at=local(2026, 3, 20, 10, 25), resolved_at=local(2026, 4, 2, 10),
                         fr_due=local(2026, 3, 20, 12), res_due=local(2026, 4, 1, 18))
    cls.i10 = interaction(A, local(2026, 3, 10, 10), fr=MET, res=BREACHED, fr_seconds=900, res_seconds=20000,
                          first_response_at=local(2026, 3, 10, 10, 15), resolved_at=local(2026, 4, 3, 10),
                          fr_due=local(2026, 3, 10, 12), res_due=local(2026, 3, 13, 18))
    answer(cls.i1, 5, local(2026, 3, 3, 9))
    answer(cls.i2, 2, local(2026, 3, 10, 9))
    answer(cls.i3, 4, local(2026, 3, 31, 23, 30))  # still March in Shanghai (15:30 UTC)
    answer(cls.i7, 3, local(2026, 4, 1, 0, 30))  # A resolved it; April in Shanghai, 31 March in UTC
    answer(cls.i6, 1, local(2026, 3, 5, 12))  # B resolved it


class KpiData(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_kpi_data(cls)


class KpiFigureTests(KpiData):
    def test_march_for_agent_a(self):
        march = parse_period("2026-03")
        k = kpis.agent_kpis([self.a.pk], [march], now=NOW).get(self.a.pk, march)
        # Handled by A in March: i1 i2 i3 i4 i5 i6 i9 i10 (i7 is B's, i8 came in February).
        self.assertEqual(k.handled, 8)
        self.assertEqual(k.complaints, 2)  # i2, i4
        # First reply, A answering (i6 was answered by B): met i1 i2 i4 i9 i10, late i3, i5 still open.
        self.assertEqual((k.first_reply_met, k.first_reply_breached, k.first_reply_overdue), (5, 1, 0))
        self.assertAlmostEqual(k.first_reply_rate, 5 / 6)
        # 300 600 900 | 1200 1500 9000 seconds → (900 + 1200) / 2 = 1050 s = 17.5 min.
        self.assertAlmostEqual(k.first_reply_median_minutes, 17.5)
        # Resolution, A resolving: met i1 i3; late i2 i7 i9 i10; overdue i4 (due 10 March); i5 open; i6 is B's.
        self.assertEqual((k.resolution_met, k.resolution_breached, k.resolution_overdue), (2, 4, 1))
        self.assertAlmostEqual(k.resolution_rate, 2 / 7)
        # 3600 4800 5400 | 7200 20000 30000 → (5400 + 7200) / 2 = 6300 s = 105 min.
        self.assertAlmostEqual(k.resolution_median_minutes, 105.0)
        # Open past due at midnight 1 April: i4 (due 10 Mar), i8 (due 2 Mar), i10 (due 13 Mar, resolved 3 Apr).
        self.assertEqual(k.backlog, 3)
        # Answers given in March to A as resolver: 5, 2, 4 (the 3 on i7 came on 1 April local time).
        self.assertEqual(k.answers, 3)
        self.assertAlmostEqual(k.rating_mean, 11 / 3)
        self.assertEqual(k.rating_high, 2)
        self.assertAlmostEqual(k.satisfied_share, 2 / 3)

    def test_march_for_agent_b(self):
        march = parse_period("2026-03")
        k = kpis.agent_kpis([self.b.pk], [march], now=NOW).get(self.b.pk, march)
        self.assertEqual((k.handled, k.complaints), (1, 0))  # i7
        # B answered i6 (named) and i7 (her own, nobody named): 60 and 180 s → median 120 s = 2 min.
        self.assertEqual((k.first_reply_met, k.first_reply_breached, k.first_reply_overdue), (2, 0, 0))
        self.assertEqual(k.first_reply_rate, 1.0)
        self.assertAlmostEqual(k.first_reply_median_minutes, 2.0)
        # B resolved i6 only (i7 was resolved by A).
        self.assertEqual((k.resolution_met, k.resolution_breached, k.resolution_overdue), (1, 0, 0))
        self.assertAlmostEqual(k.resolution_median_minutes, 2.0)
        self.assertEqual((k.answers, k.rating_mean, k.rating_high), (1, 1.0, 0))
        self.assertEqual(k.backlog, 0)

    def test_iso_week_10_and_its_neighbour(self):
        w10, w11 = parse_period("2026-W10"), parse_period("2026-W11")  # 2–8 and 9–15 March
        table = kpis.agent_kpis([self.a.pk, self.b.pk], [w10, w11], now=NOW)
        k = table.get(self.a.pk, w10)
        self.assertEqual(k.handled, 5)  # i1 i2 i3 i4 i6
        self.assertEqual((k.first_reply_met, k.first_reply_breached), (3, 1))  # i1 i2 i4 | i3
        self.assertAlmostEqual(k.first_reply_median_minutes, 15.0)  # 300 600 | 1200 9000 → 900 s
        # Midnight 9 March: i8 (due 2 Mar) open; i2 (due 6 Mar, resolved 9 Mar 10:00) not yet resolved.
        self.assertEqual(k.backlog, 2)
        self.assertEqual((k.answers, k.rating_mean), (1, 5.0))  # the 5 of 3 March
        k11 = table.get(self.a.pk, w11)
        self.assertEqual(k11.handled, 1)  # i10
        self.assertEqual((k11.answers, k11.rating_mean), (1, 2.0))  # the 2 of 10 March
        # Midnight 16 March: i4 (due 10 Mar), i8, i10 (due 13 Mar) open past due.
        self.assertEqual(k11.backlog, 3)
        self.assertEqual(table.get(self.b.pk, w10).first_reply_met, 1)  # i6

    def test_an_agent_with_nothing(self):
        march = parse_period("2026-03")
        other = Employee.objects.get(employee_no="CS2002")
        k = kpis.agent_kpis([other.pk], [march], now=NOW).get(other.pk, march)
        self.assertEqual((k.handled, k.backlog, k.answers), (0, 0, 0))
        self.assertIsNone(k.first_reply_rate)
        self.assertIsNone(k.first_reply_median_minutes)
        self.assertIsNone(k.rating_mean)

    def test_overdue_depends_on_now(self):
        march = parse_period("2026-03")
        # At noon on 10 March, i4's resolution (due 18:00) was open, not overdue; i10 did not exist yet
        # as far as the deadline is concerned (it is breached, a fact), and i5 is not due.
        k = kpis.agent_kpis([self.a.pk], [march], now=local(2026, 3, 10, 12)).get(self.a.pk, march)
        self.assertEqual(k.resolution_overdue, 0)
        self.assertEqual((k.resolution_met, k.resolution_breached), (2, 4))

    def test_query_count_is_fixed(self):
        periods = kpis.recent_periods(parse_period("2026-03"), 6)
        expected = 5 if connection.vendor == "postgresql" else 7
        with self.assertNumQueries(expected):
            kpis.agent_kpis(Employee.objects.all(), periods, now=NOW)
        for n in range(30):
            interaction(self.b, local(2026, 1 + n % 3, 2 + n % 20, 10), fr=MET, fr_seconds=60 * n, res=BREACHED,
                        res_seconds=600 * n)
        with self.assertNumQueries(expected):
            kpis.agent_kpis(Employee.objects.all(), periods, now=NOW)


class BacklogTests(KefuTestCase):
    """The backlog across periods: rows resolved late and rows still open, by whom they count for (issue 9).

    Agent A = CS1001, agent B = CS1005; ISO weeks 11 (9–15 March, ends midnight 16 March), 12 (16–22 March,
    ends midnight 23 March) and 15 (6–12 April, not over: "now" = 10 April 12:00 Shanghai).
    """

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        A = cls.a = Employee.objects.get(employee_no="CS1001")
        B = cls.b = Employee.objects.get(employee_no="CS1005")

        def late(agent, received, due, resolved, **kw):
            return interaction(agent, received, fr=MET, res=BREACHED, fr_seconds=60, res_seconds=9000,
                               first_response_at=received, resolved_at=resolved, res_due=due, **kw)

        def still_open(agent, received, due, **kw):
            return interaction(agent, received, fr=MET, res=PENDING, fr_seconds=60, first_response_at=received,
                               res_due=due, **kw)

        # B's interaction, A named as resolver, resolved 1 April: A's in weeks 11 and 12.
        late(B, local(2026, 3, 6, 10), local(2026, 3, 10, 18), local(2026, 4, 1, 10), resolver=A)
        # A's, nobody named, resolved 25 March: weeks 11 and 12.
        late(A, local(2026, 3, 9, 10), local(2026, 3, 12, 18), local(2026, 3, 25, 10))
        # A's, never resolved, due 11 March: weeks 11, 12 and 15.
        still_open(A, local(2026, 3, 9, 11), local(2026, 3, 11, 18))
        # B's, A named as resolver, never resolved, due 20 March: weeks 12 and 15 (not yet due at the end of 11).
        still_open(B, local(2026, 3, 16, 10), local(2026, 3, 20, 18), resolver=A)
        # A's, B named as resolver, due 1 March, resolved 17 March: B's, week 11 only.
        late(A, local(2026, 2, 26, 10), local(2026, 3, 1, 18), local(2026, 3, 17, 10), resolver=B)
        # A's, resolved at the very end of week 11: resolved by then, so in no backlog.
        late(A, local(2026, 3, 10, 10), local(2026, 3, 14, 18), local(2026, 3, 16, 0))
        # A's, never resolved, due at the very end of week 12: not yet past due then; week 15 only.
        still_open(A, local(2026, 3, 18, 10), local(2026, 3, 23, 0))
        # A's, never resolved, due 15 April: open, not overdue — in no backlog.
        still_open(A, local(2026, 4, 8, 10), local(2026, 4, 15, 18))
        # A's, resolved on time: in no backlog.
        interaction(A, local(2026, 3, 9, 10), fr=MET, res=MET, fr_seconds=60, res_seconds=600,
                    first_response_at=local(2026, 3, 9, 10, 1), resolved_at=local(2026, 3, 9, 11),
                    res_due=local(2026, 3, 12, 18))
        # A's, resolved 2 April, due 20 March: week 12 only.
        late(A, local(2026, 3, 16, 10), local(2026, 3, 20, 18), local(2026, 4, 2, 10))
        # A's from last December, resolved 20 March: week 11 only, however long ago it came in.
        late(A, local(2025, 12, 15, 10), local(2025, 12, 20, 18), local(2026, 3, 20, 10))
        # A's from last June, never resolved: weeks 11, 12 and 15.
        still_open(A, local(2025, 6, 5, 10), local(2025, 6, 10, 18))
        # A's, resolved 22 March 23:59 — before the end of week 12 — due 17 March: in no backlog.
        late(A, local(2026, 3, 16, 10), local(2026, 3, 17, 18), local(2026, 3, 22, 23, 59), resolver=A)

    def backlogs(self, agents):
        periods = [parse_period("2026-W11"), parse_period("2026-W12"), parse_period("2026-W15")]
        table = kpis.agent_kpis(agents, periods, now=NOW)
        return {who.employee_no: [table.get(who.pk, p).backlog for p in periods] for who in (self.a, self.b)}

    def test_late_resolved_and_still_open_rows_over_three_periods(self):
        expected = {"CS1001": [5, 6, 4], "CS1005": [1, 0, 0]}
        self.assertEqual(self.backlogs([self.a.pk, self.b.pk]), expected)
        # The same, whichever way the agents are given: a queryset, or (PostgreSQL) one array of ids.
        self.assertEqual(self.backlogs(Employee.objects.filter(pk__in=[self.a.pk, self.b.pk])), expected)
        with mock.patch.object(kpis, "ARRAY_ABOVE", 0):
            self.assertEqual(self.backlogs([self.a.pk, self.b.pk]), expected)


class MedianTests(HypothesisTestCase):
    """The median in SQL (PERCENTILE_CONT on PostgreSQL, window functions on SQLite) against Python's."""

    @classmethod
    def setUpTestData(cls):
        build_company()

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=9), min_size=1,
                    max_size=3))
    def test_medians_per_agent_and_period(self, groups):
        agents = [Employee.objects.get(employee_no=n) for n in ("CS1001", "CS1005", "CS2002")]
        march, april = parse_period("2026-03"), parse_period("2026-04")
        expected = {}
        for agent, values in zip(agents, groups, strict=False):
            for n, seconds in enumerate(values):
                interaction(agent, local(2026, 3 + n % 2, 2, 10), fr=MET, fr_seconds=seconds)  # March, April, …
            for period, part in ((march, values[0::2]), (april, values[1::2])):
                if part:
                    expected[agent.pk, period.key] = statistics.median(part) / 60
        table = kpis.agent_kpis([a.pk for a in agents], [march, april], now=NOW)
        for (agent_id, key), minutes in expected.items():
            self.assertAlmostEqual(table[agent_id, key].first_reply_median_minutes, minutes, places=6)
        self.assertEqual(len(table.rows), len(expected))


class KpiPageTests(KpiData):
    def url(self, employee_no: str) -> str:
        return reverse("service:kpi_agent", args=[employee_no])

    def test_a_login_without_an_employee_record_has_no_kpis(self):
        user = make_person("lonely", "無工號", self.cs1_t1, employee_no="CS1777")
        user.employee.delete()
        self.assertStatus(user, "get", reverse("service:kpi_mine"), 404)

    def test_anonymous_goes_to_login(self):
        for url in [reverse("service:kpi_mine"), self.url("CS1001"), reverse("service:kpi_team"),
                    reverse("service:kpi_team_export")]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 302)
                self.assertIn(reverse("login"), response["Location"])

    def test_agent_reads_her_own_and_nobody_else(self):
        self.assertStatus(self.agent, "get", reverse("service:kpi_mine"), 200)
        self.assertStatus(self.agent, "get", self.url("CS1001"), 200)
        self.assertStatus(self.agent, "get", self.url("CS1005"), 404)
        self.assertStatus(self.agent, "get", self.url("CS2002"), 404)
        self.assertStatus(self.agent, "get", reverse("service:kpi_team"), 403)
        self.assertStatus(self.agent, "get", reverse("service:kpi_team_export"), 403)

    def test_team_lead_reads_her_team_only(self):
        self.assertStatus(self.team_lead, "get", self.url("CS1001"), 200)
        self.assertStatus(self.team_lead, "get", self.url("CS1005"), 404)  # CS1-T2, not her team
        self.assertStatus(self.supervisor, "get", self.url("CS1005"), 200)
        self.assertStatus(self.outsider, "get", self.url("CS1001"), 404)
        self.assertStatus(self.admin_clerk, "get", self.url("CS1001"), 404)
        self.assertStatus(self.admin_clerk, "get", reverse("service:kpi_team"), 403)
        self.assertStatus(self.hr, "get", self.url("CS2002"), 200)
        self.assertStatus(self.agent, "get", self.url("NOBODY"), 404)

    def test_agent_page_shows_the_figures_and_the_chart_data(self):
        self.login(self.agent)
        response = self.client.get(reverse("service:kpi_mine"), {"period": "2026-03"})
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        # Overdue is judged now (November 2026), so i5's deadlines are overdue too: first reply
        # 5 met / 7 → 71.4 %, resolution 2 met / 8 → 25.0 %.
        self.assertIn('data-testid="kpi-first-reply-rate"', page)
        self.assertIn("71.4 %", page)
        self.assertIn("25.0 %", page)
        self.assertIn("17.5", page)  # median minutes to first reply
        self.assertIn("105.0", page)
        self.assertIn("3.67 ★", page)
        chart = response.context["chart_data"]
        self.assertEqual(chart["labels"], ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"])
        volume = next(c for c in chart["charts"] if c["id"] == "chart-volume")
        self.assertEqual(volume["series"][0]["data"], [0, 0, 0, 0, 1, 8])  # i8 in February
        self.assertIn('id="kpi-trend" type="application/json"', page)
        self.assertNotIn("<script>", page)  # no inline scripts (CSP)

    def test_weeks_and_a_bad_period(self):
        self.login(self.agent)
        response = self.client.get(reverse("service:kpi_mine"), {"period": "2026-W10"})
        self.assertEqual(response.context["period"].key, "2026-W10")
        self.assertEqual(len(response.context["chart_data"]["labels"]), 12)
        response = self.client.get(reverse("service:kpi_mine"), {"period": "2026-W60"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-testid="period-error"')
        self.assertContains(response, "2026 has no ISO week 60")

    def test_team_table_rows_follow_scope(self):
        def rows(user):
            self.login(user)
            response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03"})
            self.assertEqual(response.status_code, 200)
            return [r["employee"].employee_no for r in response.context["rows"]]

        self.assertEqual(rows(self.team_lead), ["CS1001"])
        self.assertEqual(rows(self.supervisor), ["CS1001", "CS1005"])
        self.assertEqual(rows(self.outsider), ["CS2002"])
        self.assertEqual(rows(self.hr), ["CS1001", "CS1005", "CS2002"])

    def test_team_table_figures_and_total(self):
        self.login(self.supervisor)
        response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03"})
        figures = {r["employee"].employee_no: r["k"] for r in response.context["rows"]}
        self.assertEqual(figures["CS1001"].handled, 8)
        self.assertEqual(figures["CS1005"].handled, 1)
        team = response.context["team"]
        self.assertEqual(team.handled, 9)
        self.assertEqual(team.answers, 4)  # A's 3 in March, B's 1
        self.assertAlmostEqual(team.rating_mean, (5 + 2 + 4 + 1) / 4)

    def test_team_table_pages_show_each_agents_figures_and_the_whole_total(self):
        """Issue 9: on more than one page the rows come from the team-wide pass; same figures as one page."""
        from unittest import mock

        from kefu.service import views_kpis

        self.login(self.supervisor)
        pages = []
        with mock.patch.object(views_kpis, "PER_PAGE", 1):
            for n in (1, 2):
                response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03", "page": n})
                pages.append(response.context)
        self.assertEqual([[(r["employee"].employee_no, r["k"].handled, r["k"].backlog) for r in c["rows"]]
                          for c in pages], [[("CS1001", 8, 3)], [("CS1005", 1, 0)]])
        self.assertEqual([c["team"].handled for c in pages], [9, 9])

    def test_team_filter_by_unit_and_unknown_unit(self):
        self.login(self.supervisor)
        response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03", "unit": self.cs1_t2.pk})
        self.assertEqual([r["employee"].employee_no for r in response.context["rows"]], ["CS1005"])
        response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03", "unit": self.cs2.pk})
        self.assertContains(response, "Choose one of the listed units", status_code=200)

    def test_team_table_query_count_does_not_grow(self):
        self.login(self.hr)
        url = reverse("service:kpi_team")
        self.client.get(url, {"period": "2026-03"})
        with CaptureQueriesContext(connection) as few:
            self.client.get(url, {"period": "2026-03"})
        for n in range(25):
            user = make_person(f"more{n}", f"員工{n}", self.cs2_t1, (Role.AGENT, self.cs2_t1),
                               employee_no=f"CS29{n:02d}")
            employee = user.employee
            for day in (2, 3, 4):
                i = interaction(employee, local(2026, 3, day, 10), fr=MET, fr_seconds=60 * day, res=MET,
                                res_seconds=300 * day, resolved_at=local(2026, 3, day, 11))
                answer(i, 4, local(2026, 3, day, 12))
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get(url, {"period": "2026-03"})
        self.assertEqual(len(response.context["rows"]), 28)

    def test_team_table_over_several_pages_query_count_does_not_grow(self):
        """Issue 9: with more agents than a page holds, one pass over all of them gives the rows and the total."""
        from kefu.service import views_kpis

        self.login(self.hr)
        url = reverse("service:kpi_team")
        with mock.patch.object(views_kpis, "PER_PAGE", 2):
            self.client.get(url, {"period": "2026-03"})
            with CaptureQueriesContext(connection) as few:
                self.client.get(url, {"period": "2026-03"})
            for n in range(12):
                user = make_person(f"many{n}", f"員工{n}", self.cs2_t1, (Role.AGENT, self.cs2_t1),
                                   employee_no=f"CS28{n:02d}")
                interaction(user.employee, local(2026, 3, 2 + n, 10), fr=MET, fr_seconds=60, res=MET, res_seconds=300,
                            resolved_at=local(2026, 3, 2 + n, 11))
            with self.assertNumQueries(len(few.captured_queries)):
                response = self.client.get(url, {"period": "2026-03", "page": 3})
        self.assertEqual(response.context["page"].paginator.num_pages, 8)
        self.assertEqual(response.context["team"].handled, 9 + 12)
        self.assertEqual([r["k"].handled for r in response.context["rows"]], [1, 1])

    def test_export(self):
        self.login(self.supervisor)
        url = reverse("service:kpi_team_export")
        with CaptureQueriesContext(connection) as few:
            response = self.client.get(url, {"period": "2026-03"})
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[0][0], "Employee number")  # the export speaks the request's language
        self.assertEqual(len(rows), 3)
        by_no = {r[0]: r for r in rows[1:]}
        self.assertEqual(by_no["CS1001"][4], 8)  # handled
        self.assertEqual(by_no["CS1001"][3], "2026-03")
        self.assertEqual(by_no["CS1005"][4], 1)
        self.assertEqual(by_no["CS1001"][9], round(5 / 7, 4))  # first-reply rate, judged now (i5 overdue)
        self.assertEqual((by_no["CS1001"][14], by_no["CS1001"][15]), (17.5, 105.0))
        self.assertEqual((by_no["CS1001"][16], by_no["CS1001"][17]), (3, 3))  # backlog, answers
        for n in range(10):
            user = make_person(f"x{n}", f"員工{n}", self.cs1_t2, (Role.AGENT, self.cs1_t2), employee_no=f"CS18{n:02d}")
            done = interaction(user.employee, local(2026, 3, 2 + n, 10), fr=MET, fr_seconds=60, res=MET,
                               res_seconds=300, resolved_at=local(2026, 3, 2 + n, 11))
            answer(done, 5, local(2026, 3, 2 + n, 12))
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get(url, {"period": "2026-03"})
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        self.assertEqual(len(rows), 13)
        self.assertEqual({r[4] for r in rows[1:] if str(r[0]).startswith("CS18")}, {1})  # each handled one

    def test_left_and_not_yet_agents_are_not_in_the_table(self):
        # An agent role that ended before March does not put her in March's table.
        late = make_person("gone", "離職者", self.cs1_t1, employee_no="CS1099")
        RoleAssignment.objects.create(user=late, role=Role.AGENT, org_unit=self.cs1_t1,
                                      start_date=D(2025, 1, 1), end_date=D(2026, 2, 28))
        self.login(self.team_lead)
        response = self.client.get(reverse("service:kpi_team"), {"period": "2026-03"})
        self.assertEqual([r["employee"].employee_no for r in response.context["rows"]], ["CS1001"])
        response = self.client.get(reverse("service:kpi_team"), {"period": "2026-02"})
        self.assertEqual([r["employee"].employee_no for r in response.context["rows"]], ["CS1001", "CS1099"])


class KpiApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_kpi_data(cls)  # the same rows as the page tests

    def test_agent_reads_her_month(self):
        response = self.assertApi(self.agent, "get", "/agents/CS1001/kpis?period=2026-03", 200)
        data = response.json()
        self.assertEqual((data["employee_no"], data["period"], data["start"], data["end"]),
                         ("CS1001", "2026-03", "2026-03-01", "2026-03-31"))
        self.assertEqual(data["handled"], 8)
        self.assertEqual(data["complaints"], 2)
        # Judged now (after April 2026): i5's first reply and resolution are overdue as well.
        self.assertEqual(data["first_reply"], {"met": 5, "breached": 1, "overdue": 1, "rate": round(5 / 7, 4),
                                               "median_working_minutes": 17.5})
        self.assertEqual(data["resolution"]["median_working_minutes"], 105.0)
        self.assertEqual(data["backlog"], 3)
        self.assertEqual(data["satisfaction"], {"answers": 3, "mean_rating": 3.67, "share_4_5": 0.6667})

    def test_a_week(self):
        data = self.assertApi(self.team_lead, "get", "/agents/CS1001/kpis?period=2026-W10", 200).json()
        self.assertEqual((data["start"], data["end"], data["handled"]), ("2026-03-02", "2026-03-08", 5))

    def test_access(self):
        self.assertApi(self.agent, "get", "/agents/CS1005/kpis?period=2026-03", 404)
        self.assertApi(self.team_lead, "get", "/agents/CS1005/kpis?period=2026-03", 404)
        self.assertApi(self.outsider, "get", "/agents/CS1001/kpis?period=2026-03", 404)
        self.assertApi(self.admin_clerk, "get", "/agents/CS1001/kpis?period=2026-03", 404)
        self.assertApi(self.hr, "get", "/agents/CS1005/kpis?period=2026-03", 200)
        self.assertApi(None, "get", "/agents/CS1001/kpis?period=2026-03", 401)

    def test_bad_period_is_422_naming_it(self):
        for period in ["2026-13", "2026-W99", "soon"]:
            with self.subTest(period=period):
                response = self.api("get", f"/agents/CS1001/kpis?period={period}", self.agent)
                message = self.assertFieldError(response, "period")
                self.assertIn("2026-W10", message)

    def test_no_period_is_the_current_month(self):
        data = self.assertApi(self.agent, "get", "/agents/CS1001/kpis", 200).json()
        self.assertEqual(data["period"], kpis.period_of(timezone.localdate(), MONTH).key)
