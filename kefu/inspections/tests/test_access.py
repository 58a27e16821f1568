"""Access (issue 8 item 1, policy S1): the supervision group reads everything and changes nothing outside
inspections; HR and leadership read inspections; everyone else gets 404 here."""

from __future__ import annotations

import datetime

from django.urls import reverse

from kefu.annual.models import AnnualCycle
from kefu.core import access
from kefu.evaluations.models import WeeklyEvaluation
from kefu.evaluations.tests.monthly_data import weekly
from kefu.inspections import services
from kefu.inspections.models import Finding, Inspection, InspectionPlan, Rectification
from kefu.inspections.tests.plans_helpers import running_inspection
from kefu.uniforms.testing import UniformsTestCase


class InspectorReadsEverythingChangesNothingElsewhere(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.ev = weekly(cls.agent.employee, cls.team_lead.employee, 42, WeeklyEvaluation.Status.SUBMITTED)
        cls.cycle = AnnualCycle.objects.create(year=2026, opened_by=cls.hr)

    def test_reads_other_apps_pages(self):
        for url in (reverse("evaluations:weekly_detail", args=[self.ev.pk]), reverse("evaluations:monthly_board"),
                    reverse("uniforms:catalogue"), reverse("uniforms:stock_levels"),
                    reverse("uniforms:requisition_list"), reverse("annual:cycles"), reverse("core:audit_log")):
            self.assertStatus(self.inspector, "get", url, 200)

    def test_any_write_outside_inspections_is_refused(self):
        # Representative write URLs of evaluations, uniforms and annual; each answers 403 to an inspector.
        writes = [
            (reverse("evaluations:weekly_start"), {"agent": self.agent.employee.pk, "week": "2026-W44"}),
            (reverse("evaluations:weekly_reopen", args=[self.ev.pk]), {"reason": "x"}),
            (reverse("evaluations:monthly_drafts_make"), {"period": "2026-10"}),
            (reverse("uniforms:style_create"), {"code": "X", "name": "x", "item_type": "top"}),
            (reverse("uniforms:stock_move_create"), {"sku": self.top_m.pk, "location": self.main.pk,
                                                     "kind": "receipt", "quantity": 1}),
            # Not in this list: her own uniform requisition (hers to fill in as an employee) and dress checks
            # (uniforms lets inspectors record them: an on-site check is an inspection method, S2).
            (reverse("uniforms:sku_edit", args=[self.top_m.pk]), {"unit_cost": "1.00"}),
            (reverse("uniforms:count_create"), {"location": self.main.pk}),
            (reverse("annual:transition", args=[2026]), {"step": "calibrate"}),
        ]
        for url, data in writes:
            self.assertStatus(self.inspector, "post", url, 403, data)
        self.assertEqual(WeeklyEvaluation.objects.count(), 1)
        self.cycle.refresh_from_db()
        self.assertEqual(self.cycle.status, AnnualCycle.Status.OPEN)


class InspectionsAccessTests(UniformsTestCase):
    def setUp(self) -> None:
        self.plan = services.plan_create(actor=self.inspector, title="月檢", topic="process", recurrence="monthly",
                                         methods=["interview"], items=["甲"])
        self.inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={})
        item = self.inspection.items.first()
        services.item_record(actor=self.inspector, item=item, result="fail", notes="缺")
        self.finding = Finding.objects.get()

    def pages(self) -> list[str]:
        return [reverse("inspections:inspection_list"), reverse("inspections:plan_list"),
                reverse("inspections:group"),
                reverse("inspections:plan_detail", args=[self.plan.pk]),
                reverse("inspections:inspection_detail", args=[self.inspection.pk]),
                reverse("inspections:inspection_pdf", args=[self.inspection.pk])]

    def writes(self) -> list[tuple[str, dict]]:
        item = self.inspection.items.last()
        return [(reverse("inspections:plan_new"), {"title": "x"}),
                (reverse("inspections:plan_edit", args=[self.plan.pk]), {"title": "x"}),
                (reverse("inspections:inspection_new"), {"title": "x"}),
                (reverse("inspections:item_record", args=[item.pk]), {"result": "pass"}),
                (reverse("inspections:sample_draw", args=[self.inspection.pk]), {"mode": "draw"}),
                (reverse("inspections:inspection_complete", args=[self.inspection.pk]), {}),
                (reverse("inspections:finding_new", args=[self.inspection.pk]), {"title": "x"}),
                (reverse("inspections:finding_edit", args=[self.finding.pk]), {"title": "x"})]

    def test_agents_and_outsiders_get_404(self):
        for user in (self.agent, self.other_agent, self.outsider, self.team_lead, self.supervisor, self.dept_head,
                     self.admin_clerk, self.sysadmin):
            for url in self.pages():
                self.assertStatus(user, "get", url, 404)
            for url, data in self.writes():
                self.assertStatus(user, "post", url, 404, data)

    def test_hr_and_leadership_read_but_do_not_change(self):
        for user in (self.hr, self.leadership):
            for url in self.pages():
                self.assertStatus(user, "get", url, 200)
            for url, data in self.writes():
                self.assertStatus(user, "post", url, 403, data)
        self.inspection.refresh_from_db()
        self.assertEqual(self.inspection.status, "in_progress")
        self.assertEqual(self.inspection.items.exclude(result="").count(), 1)

    def test_inspectors_read_and_write(self):
        for url in self.pages():
            self.assertStatus(self.inspector, "get", url, 200)
        self.assertStatus(self.inspector, "get", reverse("inspections:plan_new"), 200)
        self.assertStatus(self.inspector, "get", reverse("inspections:finding_edit", args=[self.finding.pk]), 200)

    def test_a_completed_inspection_is_read_only_even_for_inspectors(self):
        for item in self.inspection.items.filter(result=""):
            services.item_record(actor=self.inspector, item=item, result="pass")
        services.inspection_complete(actor=self.inspector, inspection=self.inspection)
        self.assertFalse(access.can_change(self.inspector, Inspection.objects.get(pk=self.inspection.pk)))
        item = self.inspection.items.first()
        self.assertStatus(self.inspector, "post", reverse("inspections:item_record", args=[item.pk]), 403,
                          {"result": "pass"})

    def test_a_rectification_shows_its_finding_to_the_people_answering_for_it(self):
        # policy S3: the department head and the responsible person see the rectification and its finding.
        Rectification.objects.create(finding=self.finding, org_unit=self.cs1, responsible=self.supervisor,
                                     requirement="補", deadline=datetime.date(2026, 12, 12), created_by=self.inspector)
        for user in (self.supervisor, self.dept_head):
            self.assertEqual(list(access.visible(user, Finding)), [self.finding])
            self.assertEqual(access.visible(user, Rectification).count(), 1)
            self.assertEqual(access.visible(user, Inspection).count(), 0)
        for user in (self.outsider, self.agent, self.team_lead):
            self.assertEqual(access.visible(user, Finding).count(), 0)
            self.assertEqual(access.visible(user, Rectification).count(), 0)
        self.assertEqual(access.visible(self.inspector, InspectionPlan).count(), 1)
