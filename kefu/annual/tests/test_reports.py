"""Reports (issue 5 item 6): grade distribution per department and year over year, its Excel export, and
a person's history; access and query counts.

The two cycles (results written as setup data; the cycle flow is tested in test_services):

2025, published — CS1: 王小美 excellent, X1 good, X2 good, X3 pass, X4 not rated; CS2: 鄭惠如 good, Y1 fail.
  CS1 rated 4: excellent 1 (25.0 %), good 2 (50.0 %), pass 1 (25.0 %), fail 0 (0.0 %), not rated 1.
  CS2 rated 2: good 1 (50.0 %), fail 1 (50.0 %).
  All 6: excellent 1 → 1/6 = 16.67 → 16.7 %, good 3 → 50.0 %, pass 1 → 16.7 %, fail 1 → 16.7 %.
2026, calibrating — CS1: 王小美 excellent (proposed good, changed by HR), X1 excellent, X2 good, X3 pass,
  X4 fail; CS2: 鄭惠如 pass, Y1 pass, Y2 not rated.
  CS1 rated 5: 2 / 1 / 1 / 1 → 40.0 / 20.0 / 20.0 / 20.0 %.  CS2 rated 2: pass 2 → 100.0 %, not rated 1.
  All 7: 2 / 1 / 3 / 1 → 28.57 → 28.6 %, 14.29 → 14.3 %, 42.86 → 42.9 %, 14.3 %.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.annual import reports, services
from kefu.annual.models import AnnualCycle, AnnualResult, AwardNomination, CoachingPlan, PayProposal
from kefu.annual.tests.builders import final_months
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase

PUBLISHED, CALIBRATING = AnnualCycle.Status.PUBLISHED, AnnualCycle.Status.CALIBRATING


def person(no: str, unit) -> Employee:
    return Employee.objects.create(employee_no=no, name=f"員工{no}", gender="F", hire_date=datetime.date(2023, 1, 1),
                                   org_unit=unit, status=Employee.Status.ACTIVE)


def cycle(year: int, status: str, hr) -> AnnualCycle:
    return AnnualCycle.objects.create(year=year, status=status, opened_by=hr, parameters=services.parameters_for(year),
                                      published_at=timezone.now() if status == PUBLISHED else None)


def result(c: AnnualCycle, employee: Employee, grade: str | None, *, proposed: str = "", composite: str = "80",
           reason: str = "") -> AnnualResult:
    if grade is None:
        return AnnualResult.objects.create(cycle=c, employee=employee, rated=False, final_months=3,
                                           not_rated_reason="3 final monthly evaluations; 6 needed.")
    return AnnualResult.objects.create(cycle=c, employee=employee, rated=True, final_months=12,
                                       monthly_mean=Decimal(composite), composite=Decimal(composite),
                                       proposed_grade=proposed or grade, final_grade=grade, change_reason=reason)


class ReportTestCase(KefuTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        me, her = cls.agent.employee, cls.other_agent.employee
        x = [person(f"X{i}", cls.cs1_t1 if i % 2 else cls.cs1_t2) for i in range(1, 5)]
        y = [person(f"Y{i}", cls.cs2_t1) for i in range(1, 3)]
        cls.c25 = cycle(2025, PUBLISHED, cls.hr)
        cls.r25 = result(cls.c25, me, "excellent", composite="92")
        for e, g in zip(x, ["good", "good", "pass", None], strict=True):
            result(cls.c25, e, g)
        result(cls.c25, her, "good")
        result(cls.c25, y[0], "fail")
        cls.c26 = cycle(2026, CALIBRATING, cls.hr)
        cls.r26 = result(cls.c26, me, "excellent", proposed="good", composite="89", reason="Best year")
        for e, g in zip(x, ["excellent", "good", "pass", "fail"], strict=True):
            result(cls.c26, e, g)
        result(cls.c26, her, "pass")
        result(cls.c26, y[0], "pass")
        result(cls.c26, y[1], None)


class DistributionTests(ReportTestCase):
    def test_counts_and_shares_over_two_cycles(self):
        dist = reports.distribution(self.hr)
        self.assertEqual([c.year for c in dist.cycles], [2025, 2026])
        self.assertEqual([d.code for d in dist.departments if d], ["CS1", "CS2"])

        def grades(year, dept):
            counts = dist.get(year, dept)
            return ([(c["n"], str(c["share"])) for c in counts.cells()], counts.rated, counts.not_rated)

        self.assertEqual(grades(2025, self.cs1), ([(1, "25.0"), (2, "50.0"), (1, "25.0"), (0, "0.0")], 4, 1))
        self.assertEqual(grades(2025, self.cs2), ([(0, "0.0"), (1, "50.0"), (0, "0.0"), (1, "50.0")], 2, 0))
        self.assertEqual(grades(2026, self.cs1), ([(2, "40.0"), (1, "20.0"), (1, "20.0"), (1, "20.0")], 5, 0))
        self.assertEqual(grades(2026, self.cs2), ([(0, "0.0"), (0, "0.0"), (2, "100.0"), (0, "0.0")], 2, 1))
        t25, t26 = dist.totals[2025], dist.totals[2026]
        self.assertEqual([(c["n"], str(c["share"])) for c in t25.cells()],
                         [(1, "16.7"), (3, "50.0"), (1, "16.7"), (1, "16.7")])
        self.assertEqual([(c["n"], str(c["share"])) for c in t26.cells()],
                         [(2, "28.6"), (1, "14.3"), (3, "42.9"), (1, "14.3")])
        self.assertEqual((t25.not_rated, t26.not_rated), (1, 1))

    def test_supervisor_sees_her_department_only(self):
        dist = reports.distribution(self.supervisor)
        self.assertEqual([d.code for d in dist.departments if d], ["CS1"])
        self.assertEqual(dist.totals[2026].rated, 5)
        self.assertEqual(dist.totals[2026].grades["excellent"], 2)

    def test_page_and_year_over_year(self):
        self.client.force_login(self.hr)
        response = self.client.get(reverse("annual:report_distribution") + "?year=2025")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertInHTML('<td class="text-end">2 <span class="small text-muted">(50.0%)</span></td>', body)
        self.assertContains(response, 'data-testid="yoy-CS1-2025"')
        self.assertContains(response, 'data-testid="yoy-CS2-2026"')
        self.assertContains(response, "16.7%")  # 2025 total excellent share
        response = self.client.get(reverse("annual:report_distribution") + "?year=abc")  # falls back to the latest
        self.assertContains(response, "28.6%")
        self.assertEqual(response.context["chart"], {"years": ["2025", "2026"], "series": [
            {"key": "excellent", "name": "Excellent", "data": [16.7, 28.6]},
            {"key": "good", "name": "Good", "data": [50.0, 14.3]},
            {"key": "pass", "name": "Pass", "data": [16.7, 42.9]},
            {"key": "fail", "name": "Fail", "data": [16.7, 14.3]}]})
        self.assertContains(response, 'id="annual-yoy"')

    def test_export_read_back(self):
        from openpyxl import load_workbook

        self.client.force_login(self.hr)
        response = self.client.get(reverse("annual:report_distribution_export"))
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(rows[0][:7], ["Year", "Cycle status", "Department", "Rated", "Not rated", "Excellent",
                                       "Excellent share (%)"])
        self.assertEqual(len(rows), 1 + 3 + 3)  # header; 2025 CS1, CS2, all; 2026 CS1, CS2, all
        self.assertEqual(rows[1], [2025, "Published", "客服一部", 4, 1, 1, 25, 2, 50, 1, 25, 0, 0])
        self.assertEqual(rows[3], [2025, "Published", "All departments", 6, 1, 1, 16.7, 3, 50, 1, 16.7, 1, 16.7])
        self.assertEqual(rows[5], [2026, "Calibrating", "客服二部", 2, 1, 0, 0, 0, 0, 2, 100, 0, 0])

    def test_access(self):
        for url in (reverse("annual:report_distribution"), reverse("annual:report_distribution_export")):
            for user in (self.hr, self.leadership, self.inspector, self.supervisor, self.dept_head):
                self.assertStatus(user, "get", url, 200)
            for user in (self.agent, self.team_lead, self.admin_clerk, self.sysadmin):
                self.assertStatus(user, "get", url, 403)
            self.assertStatus(None, "get", url, 302)
        self.client.force_login(self.outsider)  # CS2's supervisor
        response = self.client.get(reverse("annual:report_distribution"))
        self.assertContains(response, "客服二部")
        self.assertNotContains(response, "客服一部")

    def test_queries_do_not_grow_with_people_or_cycles(self):
        url = reverse("annual:report_distribution")
        self.client.force_login(self.hr)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
                self.assertEqual(self.client.get(reverse("annual:report_distribution_export")).status_code, 200)
            return len(ctx)

        small = count()
        c24 = cycle(2024, PUBLISHED, self.hr)
        for i in range(6):
            result(c24, person(f"Z{i}", self.cs2_t1), "good")
            result(self.c26, person(f"W{i}", self.cs1_t2), "pass")
        self.assertEqual(count(), small)
        with self.assertNumQueries(4):  # her role assignments (roles and scope); cycles; departments; the results
            reports.distribution(self.hr)


class HistoryTests(ReportTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        me = cls.agent.employee
        final_months(me, 2025, ["71", "72.5"], first_month=11)
        final_months(me, 2026, ["80", "82"], first_month=3)
        PayProposal.objects.create(result=cls.r25, grade="excellent", pct=Decimal("5.00"),
                                   base_pay=Decimal("6000.00"), amount=Decimal("300.00"))
        AwardNomination.objects.create(cycle=cls.c25, kind="outstanding", result=cls.r25, reason="Top",
                                       nominated_by=cls.hr, status="approved", decided_by=cls.leadership,
                                       decided_at=timezone.now(), certificate_no="2025-OUT-001")
        AwardNomination.objects.create(cycle=cls.c25, kind="service_star", result=cls.r25, reason="Stars",
                                       nominated_by=cls.hr)
        CoachingPlan.objects.create(employee=me, source="monthly_low", goals="Shorter first replies")

    def url(self, employee_no="CS1001") -> str:
        return reverse("annual:history", args=[employee_no])

    def test_hr_sees_everything(self):
        self.client.force_login(self.hr)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        h = response.context["h"]
        self.assertEqual(h.years, [2026, 2025])
        months = dict(response.context["month_rows"])
        self.assertEqual([ev.total if ev else None for ev in months[2025]],
                         [None] * 10 + [Decimal("71.00"), Decimal("72.50")])
        self.assertEqual([m + 1 for m, ev in enumerate(months[2026]) if ev], [3, 4])
        self.assertEqual([r.cycle.year for r in h.results], [2026, 2025])
        self.assertContains(response, "Best year")  # the reason HR changed the 2026 grade
        self.assertContains(response, "5.00% · ¥300.00")
        self.assertContains(response, "2025-OUT-001")
        self.assertContains(response, "Service Star Award")  # HR sees the pending nomination
        self.assertContains(response, "Shorter first replies")

    def test_agent_sees_her_published_results_and_approved_outcomes(self):
        self.client.force_login(self.agent)
        self.assertRedirects(self.client.get(reverse("annual:my_history")), self.url())
        response = self.client.get(self.url())
        h = response.context["h"]
        self.assertEqual([r.cycle.year for r in h.results], [2025])  # 2026 is not published
        self.assertContains(response, "2025-OUT-001")
        self.assertNotContains(response, "Service Star Award")  # not decided: not hers to see yet
        self.assertNotContains(response, "¥300.00")  # pay not approved by HR yet (E3.1)
        AnnualCycle.objects.filter(pk=self.c25.pk).update(pay_approved_at=timezone.now())
        self.assertNotContains(self.client.get(self.url()), "¥300.00")  # pay proposals are HR's only (access_pay)
        self.assertNotContains(response, "Shorter first replies")  # a draft plan is not shown to her yet

    def test_access(self):
        for user in (self.hr, self.leadership, self.inspector, self.supervisor, self.dept_head, self.agent):
            self.assertStatus(user, "get", self.url(), 200)
        for user in (self.outsider, self.other_agent, self.team_lead, self.admin_clerk, self.teammate_other_team):
            self.assertStatus(user, "get", self.url(), 404)
        self.assertStatus(self.hr, "get", self.url("NOPE"), 404)
        self.assertStatus(self.hr, "get", reverse("annual:my_history"), 302)
        self.assertStatus(None, "get", self.url(), 302)
        self.client.force_login(self.supervisor)  # CS1: 王小美's results of both years, not her pay
        response = self.client.get(self.url())
        self.assertEqual([r.cycle.year for r in response.context["h"].results], [2026, 2025])
        self.assertNotContains(response, "¥300.00")
        self.assertContains(response, "Service Star Award")

    def test_queries_are_bounded(self):
        self.client.force_login(self.hr)
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(self.url())
        small = len(ctx)
        final_months(self.agent.employee, 2024, ["70"] * 12)
        c24 = cycle(2024, PUBLISHED, self.hr)
        r24 = result(c24, self.agent.employee, "pass")
        PayProposal.objects.create(result=r24, grade="pass", pct=Decimal(0))
        CoachingPlan.objects.create(employee=self.agent.employee, source="annual_fail", annual_result=r24)
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(self.url())
        self.assertEqual(len(ctx), small)
        employee = reports.history_person(self.hr, "CS1001")
        # Five reads (months, results, pay, awards, coaching); the access rules' scopes come from her role
        # assignments, read once (by history_person above) for the request.
        with self.assertNumQueries(5):
            reports.history(self.hr, employee)


class BoardChartTests(ReportTestCase):
    def test_chart_data_counts_proposed_and_final_against_cap_and_floor(self):
        # 2026: proposed excellent 1 (X1; 王小美 was proposed good), good 2, pass 3, fail 1; final excellent 2,
        # good 1, pass 3, fail 1. Seven rated: cap floor(7 × 20 %) = 1, floor ceil(7 × 5 %) = 1; 2 of 7 excellent
        # is 28.57 %, shown as 29 % (half up).
        import json

        self.client.force_login(self.hr)
        response = self.client.get(reverse("annual:board", args=[2026]))
        body = response.content.decode()
        start = body.index('<script id="annual-distribution" type="application/json">')
        data = json.loads(body[body.index(">", start) + 1: body.index("</script>", start)])
        self.assertEqual(data["labels"], ["Excellent", "Good", "Pass", "Fail"])
        self.assertEqual({s["key"]: s["data"] for s in data["series"]},
                         {"proposed": [1, 2, 3, 1], "final": [2, 1, 3, 1]})
        self.assertEqual({m["key"]: m["data"] for m in data["marks"]},
                         {"cap": [1, None, None, None], "floor": [None, None, None, 1]})
        self.assertContains(response, 'src="/static/annual/board_chart.js"')
        self.assertNotContains(response, "<script>")  # no inline script (CSP)
        self.assertInHTML('<tr data-testid="dist-excellent"><th scope="row" class="fw-normal">Excellent</th>'
                          '<td class="text-end">1</td><td class="text-end">2</td><td class="text-end">29%</td>'
                          '<td class="text-muted">at most 1</td></tr>', body)

    def test_a_supervisor_is_told_the_quotas_cover_everyone(self):
        self.client.force_login(self.outsider)  # CS2: 鄭惠如 and Y1 rated of the 7
        response = self.client.get(reverse("annual:board", args=[2026]))
        self.assertContains(response, "The chart counts the 2 people in your units; the quotas apply to all 7.")
        self.client.force_login(self.hr)
        self.assertNotContains(self.client.get(reverse("annual:board", args=[2026])), 'data-testid="scope-note"')
