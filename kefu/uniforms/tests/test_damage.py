"""Damage and loss (U3.2): she reports it, admin staff assess the cause with notes and photos; the
photos are checked (JPEG, PNG or PDF, at most 5 MB), stored under MEDIA_ROOT and served only to
those who may see the report, as downloads; the pages answer 200 / 404 / 403 as they should."""

from __future__ import annotations

import datetime
import re
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from kefu.core.models import Attachment, AuditEntry, Notification
from kefu.core.registry import workbench
from kefu.uniforms import services
from kefu.uniforms.models import DamageReport, Holding
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\n" + b"0" * 64


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


class DamageTestCase(RequisitionTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls._media = tempfile.mkdtemp(prefix="kefu-media-")
        cls._override = override_settings(MEDIA_ROOT=cls._media)
        cls._override.enable()

    @classmethod
    def tearDownClass(cls) -> None:
        cls._override.disable()
        shutil.rmtree(cls._media, ignore_errors=True)
        super().tearDownClass()

    def setUp(self) -> None:
        self.receive(self.top_m, 2, "120.00")
        self.holding = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.top_m,
                                                 quantity=1, issued_on=D(2026, 1, 1))[0]

    def report(self, actor=None, **kwargs) -> DamageReport:
        return services.damage_report_create(actor=actor or self.agent, holding=self.holding,
                                             kind=kwargs.pop("kind", DamageReport.Kind.DAMAGE),
                                             description=kwargs.pop("description", "袖口脫線"), **kwargs)


class ReportTests(DamageTestCase):
    def test_she_reports_and_admin_staff_are_told(self):
        report = self.report(occurred_on=D(2026, 3, 2))
        self.assertEqual(report.status, DamageReport.Status.REPORTED)
        self.assertEqual(report.employee, self.agent_employee)
        self.assertTrue(Notification.objects.filter(recipient=self.admin_clerk, title__contains=report.number).exists())
        self.assertIn("Uniform damage/loss reports to assess", [str(t.title) for t in workbench.todos(self.admin_clerk)])

    def test_admin_staff_report_for_her_nobody_else_does(self):
        self.assertEqual(self.report(actor=self.admin_clerk).reported_by, self.admin_clerk)
        self.holding = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.top_m,
                                                 quantity=1, issued_on=D(2026, 1, 1))[0]
        for user in (self.team_lead, self.dept_head, self.other_agent):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                self.report(actor=user)

    def test_bad_input_names_the_field(self):
        with self.assertRaises(ValidationError) as ctx:
            self.report(occurred_on=datetime.date.today() + datetime.timedelta(days=3))
        self.assertIn("occurred_on", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.report(occurred_on=D(2025, 12, 1))  # before it was issued
        self.assertIn("occurred_on", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.report(description="  ")
        self.assertIn("description", ctx.exception.message_dict)
        self.report()
        with self.assertRaises(ValidationError) as ctx:  # one open report per item
            self.report()
        self.assertIn("holding", ctx.exception.message_dict)

    def test_photos_of_the_right_type_and_size_are_kept_under_media_root(self):
        report = self.report(attachments=[upload("照片.png", PNG, "image/png"), upload("scan.PDF", PDF)])
        files = list(Attachment.objects.order_by("id"))
        self.assertEqual([(f.original_name, f.mime_type) for f in files],
                         [("照片.png", "image/png"), ("scan.PDF", "application/pdf")])
        for f in files:
            path = Path(f.file.path)
            self.assertTrue(path.is_file())
            self.assertTrue(str(path).startswith(self._media))
            self.assertEqual(path.suffix, ".png" if f.mime_type == "image/png" else ".pdf")
        self.assertEqual([f.target for f in files], [report, report])
        self.assertEqual(list(report.attachments.order_by("id")), files)

    def test_wrong_type_or_too_big_is_refused_naming_the_file_and_nothing_is_saved(self):
        for name, data in (("evil.png", b"<script>alert(1)</script>"), ("notes.txt", b"hello"),
                           ("big.jpg", JPEG + b"\0" * (5 * 1024 * 1024))):
            with self.subTest(name=name), self.assertRaises(ValidationError) as ctx:
                self.report(attachments=[upload(name, data)])
            self.assertIn(name, " ".join(ctx.exception.message_dict["attachments"]))
        self.assertFalse(DamageReport.objects.exists())
        self.assertFalse(Attachment.objects.exists())


class AssessTests(DamageTestCase):
    def test_normal_wear_closes_it_and_the_damaged_item_is_scrapped(self):
        report = self.report()
        assessed = services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.NORMAL_WEAR,
                                          notes="布料老化", attachments=[upload("a.jpg", JPEG)])
        self.assertEqual((assessed.status, assessed.cause), (DamageReport.Status.CLOSED, "normal_wear"))
        self.holding.refresh_from_db()
        self.assertEqual(self.holding.status, Holding.Status.SCRAPPED)  # it then waits for a disposal batch
        self.assertIn(self.holding, services.holdings_awaiting_disposal())
        self.assertEqual(Attachment.objects.count(), 1)
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__contains=report.number).exists())

    def test_her_fault_needs_notes(self):
        report = self.report(kind=DamageReport.Kind.LOSS)
        with self.assertRaises(ValidationError) as ctx:
            services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT)
        self.assertIn("notes", ctx.exception.message_dict)

    def test_only_admin_staff_assess_and_only_once(self):
        report = self.report()
        for user in (self.agent, self.dept_head, self.leadership):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.damage_assess(actor=user, report=report, cause=DamageReport.Cause.NORMAL_WEAR)
        services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.NORMAL_WEAR)
        services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.NORMAL_WEAR)  # twice
        with self.assertRaises(ValidationError):
            services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT,
                                   notes="改判")


class DamagePageTests(DamageTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.the_report = self.report(attachments=[upload("photo.png", PNG, "image/png")])
        self.detail = reverse("uniforms:damage_detail", args=[self.the_report.number])
        self.file_url = reverse("core:attachment", args=[Attachment.objects.get().pk])

    def test_detail_and_file_allowed_404_anonymous(self):
        for user, status in ((self.agent, 200), (self.admin_clerk, 200), (self.dept_head, 200), (self.inspector, 200),
                             (self.other_agent, 404), (self.cs2_head, 404), (self.team_lead, 404)):
            self.assertStatus(user, "get", self.detail, status)
            self.assertStatus(user, "get", self.file_url, status)
        self.client.logout()
        self.assertEqual(self.client.get(self.file_url).status_code, 302)

    def test_the_file_is_served_as_a_download_never_inline(self):
        self.login(self.agent)
        response = self.client.get(self.file_url)
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(b"".join(response.streaming_content), PNG)

    def test_a_file_goes_to_those_who_see_its_own_report(self):
        other_holding = services.holding_register(actor=self.admin_clerk, employee=self.other_employee,
                                                  sku=self.top_m, quantity=1, issued_on=D(2026, 1, 1))[0]
        other = services.damage_report_create(actor=self.other_agent, holding=other_holding,
                                              kind=DamageReport.Kind.LOSS, description="遺失",
                                              attachments=[upload("hers.png", PNG, "image/png")])
        hers = reverse("core:attachment", args=[other.attachments.get().pk])
        self.assertStatus(self.other_agent, "get", hers, 200)
        self.assertStatus(self.agent, "get", hers, 404)  # not her report
        self.assertStatus(self.other_agent, "get", self.file_url, 404)

    def test_assess_page_admin_only(self):
        url = reverse("uniforms:damage_assess", args=[self.the_report.number])
        data = {"cause": "normal_wear", "notes": "正常磨損"}
        self.assertStatus(self.agent, "post", url, 403, data)
        self.assertStatus(self.dept_head, "post", url, 403, data)
        self.assertStatus(self.other_agent, "post", url, 404, data)
        self.login(self.admin_clerk)
        self.assertContains(self.client.get(self.detail), 'data-testid="assess-form"')
        self.client.post(url, data)
        self.the_report.refresh_from_db()
        self.assertEqual(self.the_report.status, DamageReport.Status.CLOSED)
        # Then she is offered the replacement requisition, pre-filled.
        self.login(self.agent)
        page = self.client.get(self.detail).content.decode()
        link = re.search(r'href="([^"]+)" data-testid="request-replacement"', page).group(1).replace("&amp;", "&")
        form = self.client.get(link).content.decode()
        self.assertRegex(form, r'value="replacement"[^>]*checked')
        style = self.styles["TOP-S"]
        self.assertRegex(form, rf'name="qty_{style.pk}" value="1"')

    def test_assess_refuses_before_reading_the_form(self):
        """Issue 10: a POST from someone who may not assess answers 403/404 even with a bad form, and the
        bad form is not even looked at (no form error message), the report stays as it was."""
        url = reverse("uniforms:damage_assess", args=[self.the_report.number])
        audit_before = AuditEntry.objects.count()
        for user, status in ((self.agent, 403), (self.dept_head, 403), (self.inspector, 403), (self.team_lead, 404)):
            for data in ({}, {"cause": "no-such-cause"}):
                self.login(user)
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, status, (user, data))
                self.assertEqual(list(response.wsgi_request._messages), [], (user, data))
        self.the_report.refresh_from_db()
        self.assertEqual(self.the_report.status, DamageReport.Status.REPORTED)
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        # Admin staff with the bad form: the form's error, nothing assessed.
        self.login(self.admin_clerk)
        response = self.client.post(url, {}, follow=True)
        self.assertContains(response, "Cause")
        self.the_report.refresh_from_db()
        self.assertEqual(self.the_report.status, DamageReport.Status.REPORTED)

    def test_report_form_and_list(self):
        self.login(self.agent)
        url = reverse("uniforms:damage_new")
        second = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.trs_m,
                                           quantity=1, issued_on=D(2026, 2, 1))[0]
        page = self.client.get(url).content.decode()
        token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
        data = {"token": token, "holding": second.pk, "kind": "loss", "description": "搬家時遺失",
                "attachments": [upload("x.jpg", JPEG)]}
        response = self.client.post(url, data)
        report = DamageReport.objects.get(holding=second)
        self.assertRedirects(response, reverse("uniforms:damage_detail", args=[report.number]))
        response = self.client.post(url, {"token": "t2", "holding": second.pk, "kind": "loss", "description": "x"})
        self.assertContains(response, "This item already has an open damage/loss report.")
        third = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.tie_m,
                                          quantity=1, issued_on=D(2026, 2, 1))[0]
        response = self.client.post(url, {"token": "t3", "holding": third.pk, "kind": "damage", "description": "x",
                                          "attachments": [upload("x.exe", b"MZ\x90\0")]})
        self.assertContains(response, "x.exe is not a JPEG, PNG or PDF file.")
        self.assertFalse(DamageReport.objects.filter(holding=third).exists())
        rows = re.findall(r'data-testid="damage-row"', self.client.get(reverse("uniforms:damage_list")).content.decode())
        self.assertEqual(len(rows), 2)
        self.login(self.other_agent)
        self.assertContains(self.client.get(reverse("uniforms:damage_list")), 'data-testid="empty-state"')

    def test_attach_more_files(self):
        url = reverse("uniforms:damage_attach", args=[self.the_report.number])
        self.assertStatus(self.dept_head, "post", url, 403, {"attachments": [upload("y.png", PNG)]})
        self.login(self.agent)
        self.client.post(url, {"attachments": [upload("y.png", PNG)]})
        self.assertEqual(Attachment.objects.count(), 2)

    def test_lists_run_a_fixed_number_of_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        services.damage_assess(actor=self.admin_clerk, report=self.the_report, cause=DamageReport.Cause.AT_FAULT,
                               notes="保管不當")  # one compensation before counting
        self.login(self.admin_clerk)
        urls = [reverse("uniforms:damage_list"), reverse("uniforms:compensation_list")]
        few = {}
        for url in urls:
            self.client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                self.client.get(url)
            few[url] = len(ctx)
        more = services.holding_register(actor=self.admin_clerk, employee=self.other_employee, sku=self.top_m,
                                         quantity=5, issued_on=D(2026, 1, 1))
        for holding in more:
            report = services.damage_report_create(actor=self.other_agent, holding=holding,
                                                   kind=DamageReport.Kind.LOSS, description="遺失")
            services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT,
                                   notes="保管不當")
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get(url)
            self.assertEqual(len(ctx), few[url], url)
        self.assertEqual(response.content.decode().count('data-testid="compensation-row"'), 6)
