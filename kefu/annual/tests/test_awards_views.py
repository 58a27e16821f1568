"""The award pages (policy E3.2): allowed / 404 / 403 / anonymous, the nominate and decide forms (double
submits), the certificate download, the promotion list and its export, the workbench to-do, query counts.
The cycle and its people are test_awards.py's (see the table there)."""

from __future__ import annotations

import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.annual import awards
from kefu.annual.models import AnnualCycle, AwardNomination
from kefu.annual.tests.test_awards import AwardTestCase, make_result, person
from kefu.core.pdf import pdf_text


class AwardPageTests(AwardTestCase):
    def url(self) -> str:
        return reverse("annual:awards", args=[2026])

    def test_access(self):
        for user in (self.hr, self.leadership, self.inspector, self.supervisor, self.dept_head, self.outsider):
            self.assertStatus(user, "get", self.url(), 200)
        for user in (self.agent, self.team_lead, self.admin_clerk):
            self.assertStatus(user, "get", self.url(), 403)
        self.assertStatus(None, "get", self.url(), 302)
        self.assertStatus(self.hr, "get", reverse("annual:awards", args=[2019]), 404)
        # Nominating: HR only; a result the user cannot see is 404.
        data = {"kind": "outstanding", "result": self.me.pk, "reason": "Top"}
        self.assertStatus(self.leadership, "post", reverse("annual:award_nominate", args=[2026]), 403, data)
        self.assertStatus(self.outsider, "post", reverse("annual:award_nominate", args=[2026]), 404, data)  # CS1's
        self.assertStatus(self.agent, "post", reverse("annual:award_nominate", args=[2026]), 403, data)
        self.assertFalse(AwardNomination.objects.exists())

    def test_hr_nominates_from_the_page(self):
        self.client.force_login(self.hr)
        response = self.client.get(self.url())
        self.assertContains(response, 'data-testid="star-CS2002"')
        self.assertContains(response, "0 of 1 approved")
        self.assertContains(response, "0 of 2 approved")
        url = reverse("annual:award_nominate", args=[2026])
        data = {"kind": "outstanding", "result": self.me.pk, "reason": "Best year"}
        response = self.client.post(url, data, follow=True)
        self.assertContains(response, "王小美 is nominated for the Annual Outstanding CS Award.")
        response = self.client.post(url, data, follow=True)  # the double submit
        self.assertContains(response, "already nominated")
        self.assertEqual(AwardNomination.objects.count(), 1)
        response = self.client.post(url, {"kind": "outstanding", "result": self.her.pk, "reason": "x"}, follow=True)
        self.assertContains(response, "excellent staff only")
        self.assertEqual(self.client.post(url, {"kind": "outstanding", "result": "x", "reason": "x"}).status_code,
                         404)
        self.assertEqual(self.client.post(url, {"kind": "outstanding", "result": 999999, "reason": "x"}).status_code,
                         404)

    def test_leadership_decides_and_the_certificate_downloads(self):
        n = awards.nomination_create(actor=self.hr, cycle=self.cycle, kind="outstanding", result=self.me, reason="x")
        m = awards.nomination_create(actor=self.hr, cycle=self.cycle, kind="outstanding", result=self.mate,
                                     reason="y")
        decide = reverse("annual:award_decide", args=[n.pk])
        cert = reverse("annual:award_certificate", args=[n.pk])
        self.assertStatus(self.hr, "post", decide, 403, {"decision": "approve"})  # sees it, may not decide
        self.assertStatus(self.outsider, "post", decide, 404, {"decision": "approve"})  # CS1's: not hers to see
        n.refresh_from_db()
        self.assertEqual(n.status, "nominated")
        self.assertStatus(self.hr, "get", cert, 404)  # no certificate before approval
        self.client.force_login(self.leadership)
        self.assertContains(self.client.get(reverse("core:workbench")), "Decide the award nominations of 2026")
        response = self.client.post(decide, {"decision": "approve"}, follow=True)
        self.assertContains(response, "2026-OUT-001")
        response = self.client.post(decide, {"decision": "approve"}, follow=True)  # the double submit
        self.assertContains(response, "already Approved")
        response = self.client.post(reverse("annual:award_decide", args=[m.pk]), {"decision": "approve"}, follow=True)
        self.assertContains(response, "quota for 2026 is 1")
        self.assertEqual(self.client.post(decide, {"decision": "maybe"}).status_code, 404)
        response = self.client.get(cert)
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "application/pdf"))
        self.assertIn("王小美", pdf_text(response.content))
        # Who downloads the certificate: the readers in scope and the person herself; not others.
        for user in (self.hr, self.supervisor, self.agent, self.inspector):
            self.assertStatus(user, "get", cert, 200)
        for user in (self.outsider, self.other_agent, self.team_lead):
            self.assertStatus(user, "get", cert, 404)
        self.assertStatus(self.agent, "get", reverse("annual:award_certificate", args=[m.pk]), 404)

    def test_not_published(self):
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(status=AnnualCycle.Status.APPROVED)
        self.client.force_login(self.hr)
        response = self.client.get(self.url())
        self.assertContains(response, "once the 2026 results are published")
        self.assertNotContains(response, 'name="reason"')

    def test_queries_do_not_grow_with_people(self):
        awards.nomination_create(actor=self.hr, cycle=self.cycle, kind="service_star", result=self.her, reason="x")
        self.client.force_login(self.hr)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(self.url()).status_code, 200)
            return len(ctx)

        small = count()
        for i in range(6):
            r = make_result(self.cycle, person(f"Q{i}", self.cs1_t2), "excellent", f"9{i}", sat="80", ratings=3)
            awards.nomination_create(actor=self.hr, cycle=self.cycle, kind="service_star", result=r, reason="x")
        self.assertEqual(count(), small)


class PromotionPageTests(AwardTestCase):
    def test_page_export_and_access(self):
        url, export = reverse("annual:promotion", args=[2026]), reverse("annual:promotion_export", args=[2026])
        for user in (self.hr, self.leadership, self.inspector, self.supervisor, self.dept_head):
            self.assertStatus(user, "get", url, 200)
            self.assertStatus(user, "get", export, 200)
        for user in (self.agent, self.team_lead, self.admin_clerk):
            self.assertStatus(user, "get", url, 403)
            self.assertStatus(user, "get", export, 403)
        self.assertStatus(None, "get", url, 302)
        self.client.force_login(self.hr)
        response = self.client.get(url)
        self.assertContains(response, 'data-testid="promotion-P3"')
        from openpyxl import load_workbook

        rows = list(load_workbook(io.BytesIO(self.client.get(export).content)).active.iter_rows(values_only=True))
        self.assertEqual(rows[0][:4], ("Priority", "Employee number", "Name", "Department"))
        self.assertEqual([r[:4] for r in rows[1:]], [(1, "P3", "員工P3", "客服一部"), (2, "CS1001", "王小美", "客服一部"),
                                                     (3, "CS1005", "林雅婷", "客服一部")])
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(status=AnnualCycle.Status.APPROVED)
        self.assertContains(self.client.get(url), "once the 2026 results are published")
        self.assertEqual(self.client.get(export).status_code, 404)

    def test_queries_do_not_grow(self):
        url, export = reverse("annual:promotion", args=[2026]), reverse("annual:promotion_export", args=[2026])
        self.client.force_login(self.hr)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.client.get(url)
                self.client.get(export)
            return len(ctx)

        small = count()
        for i in range(6):
            make_result(self.cycle, person(f"Q{i}", self.cs2_t1), "excellent", f"9{i}")
        self.assertEqual(count(), small)
        with self.assertNumQueries(4):  # her scope; the excellent results; their excellent years; departments
            awards.promotion_list(self.cycle, self.hr)


class RejectionPageTests(AwardTestCase):
    def test_reject_needs_a_note_and_clears_the_to_do(self):
        n = awards.nomination_create(actor=self.hr, cycle=self.cycle, kind="service_star", result=self.p2, reason="x")
        decide = reverse("annual:award_decide", args=[n.pk])
        self.client.force_login(self.leadership)
        response = self.client.post(decide, {"decision": "reject", "note": ""}, follow=True)
        self.assertContains(response, "Give the reason for the rejection.")
        response = self.client.post(decide, {"decision": "reject", "note": "Grade is only pass"}, follow=True)
        self.assertContains(response, "Grade is only pass")
        n.refresh_from_db()
        self.assertEqual((n.status, n.certificate_no), ("rejected", ""))
        self.assertNotContains(self.client.get(reverse("core:workbench")), "Decide the award nominations")
        self.assertEqual(self.client.get(reverse("annual:award_certificate", args=[n.pk])).status_code, 404)
