"""Running an inspection (issue 8 item 3, policy S1-S3): states, the checklist, findings, files, pages."""

from __future__ import annotations

import datetime
import shutil
import tempfile

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from kefu.core.models import Attachment, AuditEntry
from kefu.inspections import services
from kefu.inspections.models import Finding, Inspection, InspectionPlan, Rectification
from kefu.inspections.tests.plans_helpers import OCT_END, OCT_START, running_inspection
from kefu.people.testing import KefuTestCase

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MEDIA = tempfile.mkdtemp(prefix="kefu-inspections-")


def tearDownModule() -> None:
    shutil.rmtree(MEDIA, ignore_errors=True)


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


class InspectionStateTests(KefuTestCase):
    def test_from_a_plan_copies_its_checklist_and_starts_planned(self):
        plan = services.plan_create(actor=self.inspector, title="月檢", topic="process", recurrence="monthly",
                                    methods=["sampling"], org_unit=self.cs1, sample_sizes={"weekly_evaluation": 2},
                                    items=["甲 | E2.1", "乙 | E2.2"])
        inspection = services.inspection_create(actor=self.inspector, plan=plan, period_start=OCT_START,
                                                period_end=OCT_END)
        self.assertEqual((inspection.status, inspection.kind, inspection.topic), ("planned", "scheduled", "process"))
        self.assertEqual(inspection.org_unit, self.cs1)
        self.assertEqual([(i.order, i.text, i.clause, i.result) for i in inspection.items.all()],
                         [(1, "甲", "E2.1", ""), (2, "乙", "E2.2", "")])
        services.inspection_start(actor=self.inspector, inspection=inspection)
        inspection.refresh_from_db()
        self.assertEqual(inspection.status, "in_progress")
        self.assertIsNotNone(inspection.started_at)
        # A second click: refused, naming the state; nothing changes.
        with self.assertRaises(ValidationError) as ctx:
            services.inspection_start(actor=self.inspector, inspection=inspection)
        self.assertIn("In progress", ctx.exception.messages[0])
        self.assertEqual(AuditEntry.objects.filter(action="inspection.start").count(), 1)

    def test_an_unannounced_spot_check_takes_the_topics_template(self):
        inspection = services.inspection_create(actor=self.inspector, title="制服突擊檢查", topic="uniforms",
                                                methods=["on_site"], period_start=OCT_START, period_end=OCT_END,
                                                start=True)
        self.assertEqual((inspection.kind, inspection.status), ("unannounced", "in_progress"))
        self.assertGreaterEqual(inspection.items.count(), 6)
        self.assertTrue(inspection.items.filter(clause="U3.1").exists())

    def test_errors(self):
        with self.assertRaises(ValidationError) as ctx:
            services.inspection_create(actor=self.inspector, title="x", topic="process", methods=["sampling"],
                                       period_start=OCT_END, period_end=OCT_START, items=["a"])
        self.assertIn("period_end", ctx.exception.message_dict)
        with self.assertRaises(PermissionDenied):
            services.inspection_create(actor=self.hr, title="x", topic="process", methods=["sampling"],
                                       period_start=OCT_START, period_end=OCT_END, items=["a"])
        with self.assertRaises(ValidationError) as ctx:
            services.inspection_create(actor=self.inspector, title="x", topic="process", methods=["sampling"],
                                       period_start=OCT_START, period_end=OCT_END, lead_inspector=self.hr,
                                       items=["a"])
        self.assertIn("lead_inspector", ctx.exception.message_dict)
        self.assertFalse(Inspection.objects.exists())


@override_settings(MEDIA_ROOT=MEDIA)
class ChecklistTests(KefuTestCase):
    def setUp(self) -> None:
        self.inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={},
                                             methods=["document_review"])
        self.items = list(self.inspection.items.all())

    def test_a_failed_item_becomes_a_finding(self):
        # policy S3: every failed item becomes a finding, concerning the inspected department.
        services.item_record(actor=self.inspector, item=self.items[1], result="fail", notes="W43 三份考評無證據")
        finding = Finding.objects.get()
        self.assertEqual((finding.item, finding.title, finding.detail, finding.org_unit),
                         (self.items[1], "日常考評是否附有證據", "W43 三份考評無證據", self.cs1))
        # Recording it again (a double submit, or new notes): still one finding.
        services.item_record(actor=self.inspector, item=self.items[1], result="fail", notes="W43、W44 無證據")
        self.assertEqual(Finding.objects.count(), 1)

    def test_a_failure_needs_notes_and_a_result_must_be_known(self):
        with self.assertRaises(ValidationError) as ctx:
            services.item_record(actor=self.inspector, item=self.items[0], result="fail", notes="  ")
        self.assertIn("notes", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.item_record(actor=self.inspector, item=self.items[0], result="maybe")
        self.assertIn("result", ctx.exception.message_dict)
        self.assertFalse(Finding.objects.exists())

    def test_a_corrected_failure_drops_its_finding_unless_rectification_was_requested(self):
        services.item_record(actor=self.inspector, item=self.items[0], result="fail", notes="遲交")
        services.item_record(actor=self.inspector, item=self.items[0], result="pass")
        self.assertFalse(Finding.objects.exists())
        self.assertEqual(AuditEntry.objects.filter(action="finding.delete").count(), 1)
        services.item_record(actor=self.inspector, item=self.items[0], result="fail", notes="遲交")
        finding = Finding.objects.get()
        Rectification.objects.create(finding=finding, org_unit=self.cs1, responsible=self.supervisor,
                                     requirement="補交", deadline=datetime.date(2026, 12, 12), created_by=self.inspector)
        with self.assertRaises(ValidationError):
            services.item_record(actor=self.inspector, item=self.items[0], result="na")
        self.items[0].refresh_from_db()
        self.assertEqual(self.items[0].result, "fail")

    def test_complete_names_the_items_not_recorded(self):
        services.item_record(actor=self.inspector, item=self.items[0], result="pass")
        with self.assertRaises(ValidationError) as ctx:
            services.inspection_complete(actor=self.inspector, inspection=self.inspection)
        message = ctx.exception.messages[0]
        self.assertIn("2. 日常考評是否附有證據", message)
        self.assertIn("3. 月度考評是否按時定稿", message)
        self.assertNotIn("1. ", message)
        services.item_record(actor=self.inspector, item=self.items[1], result="na")
        services.item_record(actor=self.inspector, item=self.items[2], result="fail", notes="十月有兩份未定稿")
        done = services.inspection_complete(actor=self.inspector, inspection=self.inspection, summary="大致良好")
        self.assertEqual((done.status, done.summary), ("completed", "大致良好"))
        # Completed: nothing more is recorded.
        with self.assertRaises(ValidationError):
            services.item_record(actor=self.inspector, item=self.items[0], result="fail", notes="x")
        with self.assertRaises(ValidationError):
            services.inspection_complete(actor=self.inspector, inspection=self.inspection)

    def test_sampling_inspections_need_their_sample(self):
        inspection = running_inspection(self.inspector, sizes={"weekly_evaluation": 2}, items=["甲"])
        services.item_record(actor=self.inspector, item=inspection.items.get(), result="pass")
        with self.assertRaises(ValidationError) as ctx:
            services.inspection_complete(actor=self.inspector, inspection=inspection)
        self.assertIn("draw the sample", ctx.exception.messages[0])

    def test_findings_by_hand_and_their_edits(self):
        finding = services.finding_create(actor=self.inspector, inspection=self.inspection, title="面談發現組長代簽",
                                          detail="", org_unit=self.cs1_t1, employee=self.team_lead.employee)
        services.finding_update(actor=self.inspector, finding=finding, title="面談發現組長代簽考評",
                                detail="兩份", org_unit=self.cs1, employee=None)
        finding.refresh_from_db()
        self.assertEqual((finding.title, finding.org_unit, finding.employee), ("面談發現組長代簽考評", self.cs1, None))
        with self.assertRaises(PermissionDenied):
            services.finding_update(actor=self.hr, finding=finding, title="x", detail="", org_unit=self.cs1)
        with self.assertRaises(ValidationError):
            services.finding_create(actor=self.inspector, inspection=self.inspection, title="x", detail="",
                                    org_unit=None)

    def test_attachments_are_sniffed(self):
        item = self.items[0]
        services.item_record(actor=self.inspector, item=item, result="pass", uploads=[
            SimpleUploadedFile("照片.png", PNG, content_type="image/png"),
            SimpleUploadedFile("記錄.pdf", PDF, content_type="application/pdf")])
        self.assertEqual(sorted(item.attachments.values_list("original_name", "mime_type")),
                         [("照片.png", "image/png"), ("記錄.pdf", "application/pdf")])
        with self.assertRaises(ValidationError) as ctx:
            services.item_attach(actor=self.inspector, item=item,
                                 upload=SimpleUploadedFile("fake.png", b"MZ\x90\x00 not an image",
                                                           content_type="image/png"))
        self.assertIn("file", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            services.item_attach(actor=self.inspector, item=item,
                                 upload=SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024),
                                                           content_type="application/pdf"))
        self.assertEqual(Attachment.objects.count(), 2)


@override_settings(MEDIA_ROOT=MEDIA)
class InspectionPageTests(KefuTestCase):
    def test_the_checklist_page_records_and_completes(self):
        inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={}, methods=["interview"])
        items = list(inspection.items.all())
        self.login(self.inspector)
        url = reverse("inspections:inspection_detail", args=[inspection.pk])
        page = self.client.get(url)
        self.assertContains(page, "每週日常考評是否按時完成")
        self.assertContains(page, 'data-testid="item-form"', count=3)
        response = self.client.post(reverse("inspections:item_record", args=[items[0].pk]),
                                    {"result": "fail", "notes": "兩週遲交",
                                     "files": [SimpleUploadedFile("a.png", PNG, content_type="image/png")]})
        self.assertRedirects(response, f"{url}#item-{items[0].pk}", fetch_redirect_response=False)
        finding = Finding.objects.get()
        page = self.client.get(url)
        self.assertContains(page, reverse("inspections:rectification_new", args=[finding.pk]))
        self.assertContains(page, "a.png")
        attachment = items[0].attachments.get()
        self.assertContains(page, f'href="{reverse("core:attachment", args=[attachment.pk])}"')
        download = self.client.get(reverse("core:attachment", args=[attachment.pk]))
        self.assertEqual((download.status_code, download["Content-Type"]), (200, "image/png"))
        self.assertEqual(b"".join(download.streaming_content), PNG)
        self.assertStatus(self.agent, "get", reverse("core:attachment", args=[attachment.pk]), 404)
        self.login(self.inspector)
        # Completing too early names what is missing.
        response = self.client.post(reverse("inspections:inspection_complete", args=[inspection.pk]), follow=True)
        self.assertContains(response, "Not recorded: 2. ")
        for item in items[1:]:
            self.client.post(reverse("inspections:item_record", args=[item.pk]), {"result": "pass"})
        response = self.client.post(reverse("inspections:inspection_complete", args=[inspection.pk]),
                                    {"summary": "完成"}, follow=True)
        self.assertContains(response, 'data-status="completed"')
        self.assertNotContains(response, 'data-testid="item-form"')

    def test_an_unannounced_inspection_from_the_form(self):
        self.login(self.inspector)
        response = self.client.post(reverse("inspections:inspection_new"), {
            "title": "考評公平性突擊", "topic": "fairness", "methods": ["document_review", "sampling"],
            "org_unit": self.cs2.pk, "period_start": "2026-10-01", "period_end": "2026-10-31", "items": "",
            "size_weekly_evaluation": "3", "start": "on"})
        inspection = Inspection.objects.get()
        self.assertRedirects(response, reverse("inspections:inspection_detail", args=[inspection.pk]))
        self.assertEqual((inspection.kind, inspection.status, inspection.org_unit), ("unannounced", "in_progress",
                                                                                    self.cs2))
        self.assertEqual(inspection.sample_sizes, {"weekly_evaluation": 3})

    def test_a_plans_inspection_from_the_form(self):
        plan = services.plan_create(actor=self.inspector, title="月檢", topic="process", recurrence="monthly",
                                    methods=["interview"], items=["甲 | E2.1"])
        self.login(self.inspector)
        page = self.client.get(reverse("inspections:inspection_new") + f"?plan={plan.pk}")
        self.assertContains(page, "甲 | E2.1")
        self.client.post(reverse("inspections:inspection_new"), {
            "plan": plan.pk, "title": "月檢 十月", "topic": "process", "methods": ["interview"],
            "period_start": "2026-10-01", "period_end": "2026-10-31", "items": "甲 | E2.1"})
        inspection = Inspection.objects.get()
        self.assertEqual((inspection.plan, inspection.kind, inspection.status), (plan, "scheduled", "planned"))
        response = self.client.post(reverse("inspections:inspection_start", args=[inspection.pk]), follow=True)
        self.assertContains(response, 'data-status="in_progress"')
        self.assertIsInstance(plan, InspectionPlan)

    def test_the_sample_links_to_the_records(self):
        from kefu.evaluations.models import WeeklyEvaluation
        from kefu.evaluations.tests.monthly_data import weekly

        ev = weekly(self.agent.employee, self.team_lead.employee, 42, WeeklyEvaluation.Status.SUBMITTED)
        inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={"weekly_evaluation": 1})
        self.login(self.inspector)
        self.client.post(reverse("inspections:sample_draw", args=[inspection.pk]),
                         {"mode": "draw", "size_weekly_evaluation": "1", "seed": "42"})
        page = self.client.get(reverse("inspections:inspection_detail", args=[inspection.pk]))
        self.assertContains(page, reverse("evaluations:weekly_detail", args=[ev.pk]))
        self.assertContains(page, "王小美 (CS1001) · 2026-W42")
        self.assertContains(page, 'data-testid="sample-seed">42<')
        # The inspector may open it (read-only everywhere).
        self.assertEqual(self.client.get(reverse("evaluations:weekly_detail", args=[ev.pk])).status_code, 200)

    def test_the_list_runs_a_bounded_number_of_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(reverse("inspections:inspection_list")).status_code, 200)
            return len(ctx.captured_queries)

        self.login(self.hr)
        running_inspection(self.inspector)
        few = count()
        for n in range(5):
            running_inspection(self.inspector, title=f"檢查{n}", org_unit=self.cs1)
        self.assertEqual(count(), few)

    def test_the_detail_runs_a_bounded_number_of_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        inspection = running_inspection(self.inspector, items=[f"項目{n}" for n in range(3)], sizes={})
        url = reverse("inspections:inspection_detail", args=[inspection.pk])
        self.login(self.inspector)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(ctx.captured_queries)

        for item in inspection.items.all()[:1]:
            services.item_record(actor=self.inspector, item=item, result="fail", notes="x",
                                 uploads=[SimpleUploadedFile("a.png", PNG)])
        few = count()
        for item in inspection.items.all()[1:]:
            services.item_record(actor=self.inspector, item=item, result="fail", notes="y",
                                 uploads=[SimpleUploadedFile("b.png", PNG)])
        self.assertEqual(count(), few)


class WorkbenchTests(KefuTestCase):
    def test_the_lead_inspector_sees_what_to_start_and_to_finish(self):
        from kefu.inspections.todos_plans import inspections_to_do

        self.assertEqual(inspections_to_do(self.inspector), [])
        running_inspection(self.inspector)
        running_inspection(self.inspector, title="二")
        services.inspection_create(actor=self.inspector, title="三", topic="process", methods=["interview"],
                                   period_start=OCT_START, period_end=OCT_END, items=["甲"])
        todos = {t.title: t.count for t in inspections_to_do(self.inspector)}
        self.assertEqual(todos, {"Inspections in progress: record and complete": 2,
                                 "Inspections planned: start them": 1})
        self.assertEqual(inspections_to_do(self.hr), [])
        self.login(self.inspector)
        self.assertContains(self.client.get(reverse("core:workbench")), "Inspections planned: start them")
