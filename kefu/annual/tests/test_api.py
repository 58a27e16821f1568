"""GET /api/v1/annual/{year}/results within the caller's scope."""

from __future__ import annotations

from kefu.annual import services
from kefu.annual.tests.test_services import AnnualTestCase
from kefu.api.testing import ApiTestCase


class AnnualApiTests(ApiTestCase, AnnualTestCase):
    def test_scope(self):
        path = "/annual/2026/results"
        self.assertApi(self.hr, "get", path, 404)  # no cycle yet
        cycle = services.cycle_open(actor=self.hr, year=2026)
        rows = self.assertApi(self.hr, "get", path, 200).json()
        self.assertEqual([r["employee_no"] for r in rows], ["CS1001", "CS1005", "CS2002"])
        me = rows[0]
        self.assertEqual((me["composite"], me["proposed_grade"], me["final_grade"], me["rated"]),
                         ("66.00", "pass", "pass", True))
        self.assertEqual(rows[1]["composite"], None)
        self.assertIn("no_ratings", rows[2]["flags"])
        rows = self.assertApi(self.supervisor, "get", path, 200).json()
        self.assertEqual([r["employee_no"] for r in rows], ["CS1001", "CS1005"])
        self.assertApi(self.agent, "get", path, 404)  # not published yet
        self.assertApi(self.admin_clerk, "get", path, 404)
        self.assertApi(None, "get", path, 401)
        cycle = services.cycle_calibrate(actor=self.hr, cycle=cycle)
        cycle = services.cycle_submit(actor=self.hr, cycle=cycle)
        cycle = services.cycle_approve(actor=self.leadership, cycle=cycle)
        services.cycle_publish(actor=self.hr, cycle=cycle)
        rows = self.assertApi(self.agent, "get", path, 200).json()
        self.assertEqual([r["employee_no"] for r in rows], ["CS1001"])

    def test_results_list_queries_do_not_grow_with_people(self):
        """Issue 9: the results list reads a fixed number of queries, however many people the year has."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from kefu.annual.models import AnnualResult
        from kefu.people.models import Role
        from kefu.people.testing import make_person

        path = "/annual/2026/results"
        cycle = services.cycle_open(actor=self.hr, year=2026)

        def count():
            with CaptureQueriesContext(connection) as ctx:
                rows = self.assertApi(self.hr, "get", path, 200).json()
            return len(ctx.captured_queries), len(rows)

        count()  # the token's first use records its time: warm up
        small, n_small = count()
        people = [make_person(f"annual{i}", f"客服{i}", self.cs1_t1, (Role.AGENT, self.cs1_t1),
                              employee_no=f"CS17{i:02d}").employee for i in range(8)]
        AnnualResult.objects.bulk_create([AnnualResult(cycle=cycle, employee=p, not_rated_reason="0 months")
                                          for p in people])
        large, n_large = count()
        self.assertEqual((n_small, n_large), (3, 11))
        self.assertEqual(small, large)
