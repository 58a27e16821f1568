"""The printable inspection report (issue 8 item 6)."""

from __future__ import annotations

import datetime

from django.urls import reverse

from kefu.core.pdf import pdf_text
from kefu.evaluations.models import WeeklyEvaluation
from kefu.evaluations.tests.monthly_data import weekly
from kefu.inspections import services
from kefu.inspections.models import Finding, Rectification
from kefu.inspections.tests.plans_helpers import running_inspection
from kefu.people.testing import KefuTestCase


class ReportTests(KefuTestCase):
    def test_the_report_holds_scope_period_method_sample_checklist_findings_and_rectification(self):
        ev = weekly(self.agent.employee, self.team_lead.employee, 42, WeeklyEvaluation.Status.SUBMITTED)
        inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={"weekly_evaluation": 1})
        services.sample_draw(actor=self.inspector, inspection=inspection, sizes=None, seed=2026)
        items = list(inspection.items.all())
        services.item_record(actor=self.inspector, item=items[0], result="pass")
        services.item_record(actor=self.inspector, item=items[1], result="fail", notes="W42 考評沒有附證據")
        services.item_record(actor=self.inspector, item=items[2], result="na", notes="十月尚未結束")
        finding = Finding.objects.get()
        Rectification.objects.create(finding=finding, org_unit=self.cs1, responsible=self.supervisor,
                                     requirement="補齊證據", deadline=datetime.date(2026, 12, 12),
                                     created_by=self.inspector)
        services.inspection_complete(actor=self.inspector, inspection=inspection, summary="一項不合格，已要求整改")

        self.login(self.hr)  # a reader may print it
        response = self.client.get(reverse("inspections:inspection_pdf", args=[inspection.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
        text = pdf_text(response.content).replace("\n", " ")  # table cells wrap
        for expected in ("Inspection report", "十月抽查", "客服一部", "2026-10-01 – 2026-10-31",
                         "Document review, Sampling", "Unannounced", "Completed", "趙文華",
                         "Seed 2026, drawn", "1 record.", f"{ev.agent.name} (CS1001) · 2026-W42", "Weekly evaluations",
                         "每週日常考評是否按時完成", "E2.1", "Pass", "Fail", "Not applicable",
                         "W42 考評沒有附證據", "3 items: 1 passed, 1 failed, 1 not applicable, 0 not recorded.",
                         "日常考評是否附有證據", "Open; deadline 2026-12-12; responsible 陳淑芬",
                         "一項不合格，已要求整改"):
            self.assertIn(expected, text)

    def test_a_fresh_inspection_prints_too(self):
        inspection = running_inspection(self.inspector, sizes={})
        self.login(self.inspector)
        response = self.client.get(reverse("inspections:inspection_pdf", args=[inspection.pk]))
        text = pdf_text(response.content)
        self.assertIn("No sample drawn.", text)
        self.assertIn("No findings.", text)
        self.assertIn("The whole company", text)
        self.assertIn("0 passed, 0 failed, 0 not applicable, 3 not recorded.", text)

    def test_the_report_query_count_does_not_grow_with_items_and_findings(self):
        """Issue 9: the report reads as many queries for 1 finding as for 5, each with a rectification of a
        different unit and person."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        inspection = running_inspection(self.inspector, items=[f"項目{n}" for n in range(8)], sizes={})
        items = list(inspection.items.order_by("pk"))
        people = [(self.cs1, self.supervisor), (self.cs1_t1, self.team_lead), (self.cs2, self.outsider),
                  (self.cs1_t2, self.supervisor), (self.cs2_t1, self.outsider)]

        def fail(n):
            services.item_record(actor=self.inspector, item=items[n], result="fail", notes=f"問題{n}")
            unit, responsible = people[n % len(people)]
            Rectification.objects.create(finding=Finding.objects.get(item=items[n]), org_unit=unit,
                                         responsible=responsible, requirement=f"整改{n}",
                                         deadline=datetime.date(2026, 12, 12), created_by=self.inspector)

        fail(0)
        services.item_record(actor=self.inspector, item=items[1], result="pass")
        url = reverse("inspections:inspection_pdf", args=[inspection.pk])
        self.login(self.hr)
        self.client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(self.client.get(url).status_code, 200)
        for n in range(2, 6):
            fail(n)
        services.item_record(actor=self.inspector, item=items[6], result="na", notes="不適用")
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get(url)
        self.assertIn("8 items: 1 passed, 5 failed, 1 not applicable, 1 not recorded.",
                      pdf_text(response.content).replace("\n", " "))
