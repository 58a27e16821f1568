"""The pay and appeal pages and the pay API: who may (200), who sees but may not (403), who may not see (404).

Amounts by hand as in test_pay: 8,000.00 × 5 % = 400.00; 6,543.21 × −3 % = −196.30.
"""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kefu.annual import appeals, pay
from kefu.annual.models import AnnualAppeal, AnnualCycle, PayProposal
from kefu.annual.tests.test_pay import AFTER_WINDOW, PayTestCase
from kefu.api.testing import ApiTestCase


class PayPageTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()  # published 2026-09-30: the window closed on 2026-10-13
        self.url = reverse("annual:pay", args=[2026])

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.hr, "get", reverse("annual:pay_index"), 200)
        for user in (self.supervisor, self.dept_head, self.leadership, self.agent, self.outsider):
            self.assertStatus(user, "get", self.url, 403)
            self.assertStatus(user, "post", reverse("annual:pay_approve", args=[2026]), 403)
            self.assertStatus(user, "get", reverse("annual:pay_export", args=[2026]), 403)
        self.assertStatus(None, "get", self.url, 302)
        self.assertStatus(self.hr, "get", reverse("annual:pay", args=[2019]), 404)

    def test_prepare_set_import_approve_export(self):
        self.client.force_login(self.hr)
        response = self.client.post(reverse("annual:pay_prepare", args=[2026]), follow=True)
        self.assertContains(response, "2 pay proposal(s) prepared")
        mine = PayProposal.objects.get(result__employee__user=self.agent)
        self.client.post(reverse("annual:pay_base", args=[mine.pk]), {"base_pay": "8000.00"})
        mine.refresh_from_db()
        self.assertEqual(str(mine.amount), "400.00")
        # An import with a bad row: 400, the row named, nothing saved
        bad = b"employee_no,base_pay\nCS2002,oops\n"
        response = self.client.post(reverse("annual:pay_import", args=[2026]), follow=True)
        self.assertContains(response, "Choose a CSV or Excel file")
        upload = io.BytesIO(bad)
        upload.name = "pay.csv"
        response = self.client.post(reverse("annual:pay_import", args=[2026]), {"file": upload})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Row 2 (base_pay)", status_code=400)
        upload = io.BytesIO("工號,底薪\nCS2002,6543.21\n".encode("gbk"))
        upload.name = "pay.csv"
        response = self.client.post(reverse("annual:pay_import", args=[2026]), {"file": upload}, follow=True)
        self.assertContains(response, "1 changed")
        self.assertContains(response, "-196.30")
        self.assertContains(response, "Total pay change: 203.70")  # 400.00 − 196.30
        # Export refused until approved
        response = self.client.get(reverse("annual:pay_export", args=[2026]) + "?format=csv", follow=True)
        self.assertContains(response, "once the 2026 pay proposals are approved")
        response = self.client.post(reverse("annual:pay_approve", args=[2026]), follow=True)
        self.assertContains(response, "are approved")
        self.assertIsNotNone(AnnualCycle.objects.get(pk=self.cycle.pk).pay_approved_at)
        response = self.client.post(reverse("annual:pay_approve", args=[2026]), follow=True)  # double submit
        self.assertContains(response, "approved and locked")
        xlsx = self.client.get(reverse("annual:pay_export", args=[2026]) + "?format=xlsx")
        self.assertEqual(xlsx["Content-Disposition"], 'attachment; filename="pay-2026.xlsx"')
        rows = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
        self.assertEqual([r[0] for r in rows[1:]], ["CS1001", "CS2002"])
        data = self.client.get(reverse("annual:pay_export", args=[2026]) + "?format=csv").content
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(rows[2][-1], "-196.30")
        gbk = self.client.get(reverse("annual:pay_export", args=[2026]) + "?format=csv&encoding=gbk")
        self.assertIn("王小美", gbk.content.decode("gbk"))
        # Locked: the base pay form is gone and a post is refused (403)
        response = self.client.get(self.url)
        self.assertNotContains(response, 'name="base_pay"')
        self.assertStatus(self.hr, "post", reverse("annual:pay_base", args=[mine.pk]), 403, {"base_pay": "1"})

    def test_page_queries_bounded(self):
        self.client.force_login(self.hr)
        self.client.post(reverse("annual:pay_prepare", args=[2026]))
        with CaptureQueriesContext(connection) as two:
            self.client.get(self.url)
        # More people in the cycle: the page runs the same number of queries.
        from kefu.annual.models import AnnualResult, Grade

        extra = self.teammate_other_team.employee
        AnnualResult.objects.filter(cycle=self.cycle, employee=extra).update(
            rated=True, final_grade=Grade.GOOD, not_rated_reason="")
        self.client.post(reverse("annual:pay_prepare", args=[2026]))
        with CaptureQueriesContext(connection) as three:
            response = self.client.get(self.url)
        self.assertContains(response, extra.employee_no)
        self.assertEqual(len(two), len(three))
        self.assertLessEqual(len(three), 20)


class AppealPageTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()
        # setup: published an hour ago, so her window is open now
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(published_at=timezone.now() - timezone.timedelta(hours=1))
        self.mine = self.result(self.cycle, self.agent)

    def test_agent_appeals_from_her_page(self):
        self.client.force_login(self.agent)
        response = self.client.get(reverse("annual:mine"))
        self.assertContains(response, "You may appeal this grade until")
        url = reverse("annual:appeal_file", args=[self.mine.pk])
        self.client.post(url, {"reason": "My March was lost"})
        response = self.client.post(url, {"reason": "My March was lost"}, follow=True)  # double submit
        self.assertContains(response, "already with HR")
        self.assertEqual(AnnualAppeal.objects.count(), 1)
        response = self.client.get(reverse("annual:mine"))
        self.assertContains(response, "My March was lost")
        self.assertNotContains(response, "You may appeal this grade until")
        # Another person's result: not visible → 404
        self.assertStatus(self.other_agent, "post", url, 404, {"reason": "x"})
        self.assertStatus(self.outsider, "post", url, 404, {"reason": "x"})

    def test_decide_access(self):
        appeal = appeals.appeal_file(actor=self.agent, result=self.mine, reason="My March was lost")
        url = reverse("annual:appeal_decide", args=[appeal.pk])
        data = {"decision": "adjusted", "new_grade": "good", "note": "x"}
        self.assertStatus(self.supervisor, "post", url, 403, data)  # sees her department's appeals, decides none
        self.assertStatus(self.dept_head, "post", url, 403, data)
        self.assertStatus(self.outsider, "post", url, 404, data)  # CS2 supervisor: not her department
        self.assertStatus(self.agent, "post", url, 403, data)  # her own: sees it, cannot decide
        self.assertStatus(self.other_agent, "post", url, 404, data)
        for user in (self.supervisor, self.agent, self.outsider):
            self.assertStatus(user, "get", reverse("annual:appeals"), 403)
        self.client.force_login(self.hr)
        response = self.client.get(reverse("annual:appeals"))
        self.assertContains(response, "My March was lost")
        response = self.client.post(url, {"decision": "upheld", "note": "Grade stands"}, follow=True)
        self.assertContains(response, "the person is notified")
        response = self.client.post(url, {"decision": "upheld", "note": "Grade stands"}, follow=True)
        self.assertContains(response, "already decided")
        decision = self.client.get(reverse("annual:appeals")).content.decode()
        self.assertIn(f"({self.hr.employee.name}, ", decision)  # who decided: her name, not her login
        self.client.force_login(self.agent)
        self.assertContains(self.client.get(reverse("annual:mine")), "Grade stands")

    def test_appeals_page_queries_bounded(self):
        appeals.appeal_file(actor=self.agent, result=self.mine, reason="first")
        self.client.force_login(self.hr)
        self.client.get(reverse("annual:appeals"))
        with CaptureQueriesContext(connection) as one:
            self.client.get(reverse("annual:appeals"))
        hers = self.result(self.cycle, self.other_agent)
        appeal = appeals.appeal_file(actor=self.other_agent, result=hers, reason="second")
        appeals.appeal_decide(actor=self.hr, appeal=appeal, decision="upheld", note="stands")
        with CaptureQueriesContext(connection) as two:
            response = self.client.get(reverse("annual:appeals"))
        self.assertContains(response, "second")
        self.assertEqual(len(one), len(two))


class ExportQueryTests(PayTestCase):
    def test_export_is_one_query(self):
        from kefu.annual import pay

        cycle = self.publish()
        self.set_both(cycle)
        pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        cycle.refresh_from_db()
        with self.assertNumQueries(1):
            pay.export_csv(cycle)
        with self.assertNumQueries(1):
            pay.export_xlsx(cycle)


class PayQueryPinTests(ApiTestCase, PayTestCase):
    """Issue 9 item 2: the pay export, the cycles' pay index and the pay API run as many queries for
    three people (and two cycles) as for two (and one)."""

    def add_rated(self, cycle: AnnualCycle) -> None:
        from kefu.annual.models import AnnualResult, Grade

        AnnualResult.objects.filter(cycle=cycle, employee=self.teammate_other_team.employee).update(
            rated=True, final_grade=Grade.GOOD, not_rated_reason="")
        pay.proposals_prepare(actor=self.hr, cycle=cycle)

    def test_pay_api(self):
        cycle = self.publish()
        self.set_both(cycle)
        self.assertApi(self.hr, "get", "/annual/2026/pay", 200)  # the token is made on the first call
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(len(self.assertApi(self.hr, "get", "/annual/2026/pay", 200).json()), 2)
        few_queries = len(few.captured_queries)
        self.add_rated(cycle)
        with self.assertNumQueries(few_queries):
            self.assertEqual(len(self.assertApi(self.hr, "get", "/annual/2026/pay", 200).json()), 3)

    def test_pay_index(self):
        cycle = self.publish()
        self.client.force_login(self.hr)
        self.client.get(reverse("annual:pay_index"))
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("annual:pay_index"))
        few_queries = len(few.captured_queries)
        self.add_rated(cycle)
        AnnualCycle.objects.create(year=2025, status=AnnualCycle.Status.PUBLISHED, parameters=cycle.parameters,
                                   opened_by=self.hr, published_at=cycle.published_at)
        with self.assertNumQueries(few_queries):
            response = self.client.get(reverse("annual:pay_index"))
        self.assertContains(response, "2025")

    def test_pay_export_request(self):
        cycle = self.publish()
        self.add_rated(cycle)
        self.set_both(cycle)
        pay.base_pay_set(actor=self.hr, proposal=self.proposal(cycle, self.teammate_other_team), base_pay="7000.00")
        pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        self.client.force_login(self.hr)
        url = reverse("annual:pay_export", args=[2026])
        self.client.get(url + "?format=csv")
        with CaptureQueriesContext(connection) as csv_queries:
            self.client.get(url + "?format=csv")
        with CaptureQueriesContext(connection) as xlsx_queries:
            response = self.client.get(url + "?format=xlsx")
        rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
        self.assertEqual(len(rows), 4)  # the header and three people
        # The rows come from one query (ExportQueryTests); the request adds only its fixed reads.
        self.assertEqual(len(csv_queries.captured_queries), len(xlsx_queries.captured_queries))
        self.assertLessEqual(len(xlsx_queries.captured_queries), 8)


class PayApiTests(ApiTestCase, PayTestCase):
    def test_pay_api(self):
        path = "/annual/2026/pay"
        self.assertApi(self.hr, "get", path, 404)  # no cycle
        cycle = self.publish()
        self.set_both(cycle)
        rows = self.assertApi(self.hr, "get", path, 200).json()
        self.assertEqual([(r["employee_no"], r["grade"], r["pay_change_pct"], r["base_pay"], r["pay_change_amount"])
                          for r in rows],
                         [("CS1001", "excellent", "5.00", "8000.00", "400.00"),
                          ("CS2002", "fail", "-3.00", "6543.21", "-196.30")])
        self.assertFalse(rows[0]["approved"])
        for user in (self.supervisor, self.leadership, self.agent):
            self.assertApi(user, "get", path, 403)
        self.assertApi(None, "get", path, 401)
        from kefu.annual import pay

        pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        self.assertTrue(self.assertApi(self.hr, "get", path, 200).json()[0]["approved"])
