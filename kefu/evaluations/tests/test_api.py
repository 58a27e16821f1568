"""The evaluations API: read within scope (404 outside), 422 on a bad period, bounded queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.api.testing import ApiTestCase
from kefu.evaluations import services
from kefu.evaluations.tests.builders import local_dt, monthly_draft, submitted_weekly
from kefu.people.models import Role
from kefu.people.testing import make_person


class EvaluationApiTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.agent_e = self.agent.employee
        self.w10 = submitted_weekly(self.team_lead, self.agent_e, 2026, 10, levels={"proactive_warm": 5})
        self.w13 = submitted_weekly(self.team_lead, self.agent_e, 2026, 13)
        self.w14 = submitted_weekly(self.team_lead, self.agent_e, 2026, 14)  # Thursday 2 April: April's week
        self.draft = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent_e, iso_year=2026,
                                                      iso_week=11)
        self.monthly = monthly_draft(self.agent_e, 2026, 3, supervisor=self.supervisor.employee)
        services.monthly_submit(actor=self.supervisor, evaluation=self.monthly, now=local_dt(2026, 4, 2))

    def test_agent_period_month(self):
        response = self.assertApi(self.team_lead, "get", "/agents/CS1001/evaluations?period=2026-03", 200)
        data = response.json()
        self.assertEqual(data["period"], "2026-03")
        # March's weeks are W10–W13 (Thursdays 5–26 March); W14 belongs to April; W11 is a draft (the lead sees it)
        self.assertEqual([w["week"] for w in data["weekly"]], ["2026-W10", "2026-W11", "2026-W13"])
        self.assertEqual(data["monthly"]["status"], "submitted")
        self.assertEqual(data["monthly"]["total"], "82.50")
        self.assertEqual(data["monthly"]["teamwork"]["points"], "17.00")
        self.assertEqual(data["monthly"]["appeal_deadline"][:16], "2026-04-10T18:00")

    def test_agent_reads_her_own_without_drafts(self):
        data = self.assertApi(self.agent, "get", "/agents/CS1001/evaluations?period=2026-03", 200).json()
        self.assertEqual([w["week"] for w in data["weekly"]], ["2026-W10", "2026-W13"])
        # attitude of W10: warm 5 (1.0), patient 4 (0.75), satisfaction 4 (0.75) → 83.33 %
        self.assertEqual(data["weekly"][0]["attitude_pct"], "83.33")

    def test_scope(self):
        for user in (self.other_agent, self.outsider, self.teammate_other_team, self.admin_clerk):
            self.assertApi(user, "get", "/agents/CS1001/evaluations?period=2026-03", 404)
            self.assertApi(user, "get", f"/evaluations/weekly/{self.w10.pk}", 404)
            self.assertApi(user, "get", f"/evaluations/monthly/{self.monthly.pk}", 404)
        for user in (self.hr, self.dept_head, self.leadership, self.inspector, self.supervisor):
            self.assertApi(user, "get", "/agents/CS1001/evaluations?period=2026-03", 200)
        self.assertApi(self.agent, "get", f"/evaluations/weekly/{self.draft.pk}", 404)
        self.assertApi(None, "get", "/agents/CS1001/evaluations?period=2026-03", 401)
        self.assertApi(self.hr, "get", "/agents/NOPE/evaluations?period=2026-03", 404)

    def test_bad_period_422(self):
        for period in ("2026-13", "2026-W10", "March", ""):
            with self.subTest(period=period):
                response = self.api("get", f"/agents/CS1001/evaluations?period={period}", self.hr)
                self.assertFieldError(response, "period")
        response = self.api("get", "/agents/CS1001/evaluations", self.hr)
        self.assertEqual(response.status_code, 422)

    def test_weekly_detail_has_scores_and_evidence(self):
        data = self.assertApi(self.agent, "get", f"/evaluations/weekly/{self.w10.pk}", 200).json()
        self.assertEqual(len(data["scores"]), 8)  # attitude 3 + ability 3 + efficiency 2
        warm = next(s for s in data["scores"] if s["criterion"] == "proactive_warm")
        self.assertEqual(warm["level"], 5)
        self.assertEqual(data["methods"], ["onsite"])

    def test_lists_filter_and_scope(self):
        data = self.assertApi(self.team_lead, "get", "/evaluations/weekly?week=2026-W10", 200).json()
        self.assertEqual([(w["agent_no"], w["week"]) for w in data["items"]], [("CS1001", "2026-W10")])
        self.assertEqual(self.assertApi(self.outsider, "get", "/evaluations/weekly", 200).json()["count"], 0)
        self.assertFieldError(self.api("get", "/evaluations/weekly?week=2026-03", self.hr), "week")
        data = self.assertApi(self.hr, "get", "/evaluations/monthly?month=2026-03&status=submitted", 200).json()
        self.assertEqual(data["count"], 1)
        self.assertFieldError(self.api("get", "/evaluations/monthly?status=bogus", self.hr), "status")

    def test_weekly_list_queries_bounded(self):
        def count():
            with CaptureQueriesContext(connection) as ctx:
                self.assertApi(self.hr, "get", "/evaluations/weekly?limit=100", 200)
            self.last_queries = "\n".join(q["sql"][:150] for q in ctx.captured_queries)
            return len(ctx.captured_queries)

        count()  # the token's first use records its time: warm up
        small = count()
        for i in range(6):
            user = make_person(f"api{i}", f"客服{i}", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no=f"CS18{i:02d}")
            submitted_weekly(self.team_lead, user.employee, 2026, 10)
        self.assertEqual(count(), small, self.last_queries)
        self.assertLessEqual(small, 5)

    def test_monthly_list_queries_bounded(self):
        """Issue 9: the monthly list's query count does not grow with the evaluations listed."""
        def count():
            with CaptureQueriesContext(connection) as ctx:
                self.rows = self.assertApi(self.hr, "get", "/evaluations/monthly?limit=100", 200).json()["count"]
            self.last_queries = "\n".join(q["sql"][:150] for q in ctx.captured_queries)
            return len(ctx.captured_queries)

        count()  # the token's first use records its time: warm up
        small = count()
        self.assertEqual(self.rows, 1)
        for i in range(6):
            user = make_person(f"apim{i}", f"客服{i}", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no=f"CS18{i:02d}")
            ev = monthly_draft(user.employee, 2026, 3, supervisor=self.supervisor.employee)
            services.monthly_submit(actor=self.supervisor, evaluation=ev, now=local_dt(2026, 4, 2))
        self.assertEqual(count(), small, self.last_queries)
        self.assertEqual(self.rows, 7)
        self.assertLessEqual(small, 5)
