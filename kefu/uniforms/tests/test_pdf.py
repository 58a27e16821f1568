"""The printable forms (U2.2 《制服領用申請表》, U4.2 《制服報廢申請表》): the text is extracted from the
PDF (tests/pdf_text.py reads the file format itself) and compared with the expected Chinese."""

from __future__ import annotations

import datetime

from django.test import override_settings
from django.utils import timezone, translation

from kefu.core.pdf import font_names, pdf_text
from kefu.uniforms import pdf, services
from kefu.uniforms.models import Requisition
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date


def zh(msgid: str) -> str:
    with translation.override("zh-hant"):
        return translation.gettext(msgid)


class PdfTestCase(RequisitionTestCase):
    def setUp(self) -> None:
        self.grant(2)
        self.requisition = self.new_hire([(self.top_m, 2), (self.skirt_m, 1)])

    def requisition_text(self, language: str = "zh-hant") -> tuple[bytes, str]:
        requisition = Requisition.objects.select_related("employee__org_unit", "approver__employee").get(
            pk=self.requisition.pk)
        data = pdf.requisition_pdf(requisition, language=language)
        return data, pdf_text(data)


class RequisitionPdfTests(PdfTestCase):
    def test_the_form_carries_her_data_and_its_labels_in_chinese(self):
        data, text = self.requisition_text()
        self.assertTrue(data.rstrip().endswith(b"%%EOF"))
        self.assertTrue(any(name.endswith("NotoSansCJKTC") for name in font_names(data)), font_names(data))
        lines = text.splitlines()
        for expected in ("王小美 (CS1001)", "客服一部 / 一部一組", "夏季女襯衫", "西裙", "藏青", self.requisition.number):
            self.assertTrue(any(expected in line for line in lines), f"{expected!r} not in {lines}")
        # The items table, row by row: no., style, item type, colour, size, quantity (nothing issued yet).
        start = lines.index("夏季女襯衫")
        self.assertEqual(lines[start - 1: start + 5], ["1", "夏季女襯衫", zh("Top"), "藏青", "M", "2"])
        skirt = lines.index("西裙")
        self.assertEqual(lines[skirt - 1: skirt + 5], ["2", "西裙", zh("Skirt"), "藏青", "M", "1"])
        # Labels the zh-Hant catalogue already has, written out by hand (DESIGN.md glossary / roles).
        for expected in ("部門負責人", "部門", "日期"):
            self.assertIn(expected, text)
        # Every label is printed as the catalogue renders it; the title is the glossary's form name.
        title = zh("Uniform requisition form")
        if title != "Uniform requisition form":  # once translated, it must be the policy's name of the form
            self.assertEqual(title, "制服領用申請表")
        for msgid in ("Uniform requisition form", "Applicant", "Department head", "Admin department, issued by",
                      "Reason", "Style", "Colour", "Size", "Quantity", "Signature", "New hire"):
            self.assertIn(zh(msgid), text, msgid)

    def test_english_labels_when_she_reads_english(self):
        _data, text = self.requisition_text("en")
        for expected in ("Uniform requisition form", "Applicant", "Department head", "Admin department, issued by",
                         "王小美 (CS1001)", "New hire"):
            self.assertIn(expected, text)

    def test_the_signatures_fill_in_as_the_form_moves(self):
        _data, before = self.requisition_text()
        self.assertNotIn("張志明", before)
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        self.receive(self.top_m, 5, "80.00")
        self.receive(self.skirt_m, 5, "70.00")
        services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        _data, after = self.requisition_text()
        today = timezone.localdate().isoformat()
        lines = after.splitlines()
        self.assertTrue(any("張志明" in line for line in lines))
        self.assertTrue(any("劉美玲" in line for line in lines))
        self.assertGreaterEqual(sum(today in line for line in lines), 3)  # applied, approved, issued today

    @override_settings(KEFU_PDF_FONT_INDEX=None)
    def test_simplified_chinese_uses_the_sc_face_of_the_collection(self):
        sc, _text = self.requisition_text("zh-hans")
        self.assertTrue(any(name.endswith("NotoSansCJKSC") for name in font_names(sc)), font_names(sc))


class ScrapPdfTests(PdfTestCase):
    def test_the_scrap_form_in_chinese(self):
        holdings = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.trs_m,
                                             quantity=1, issued_on=D(2024, 3, 1))
        scrap = services.scrap_request_create(actor=self.agent, employee=self.agent_employee,
                                              items=[(holdings[0], "褲腳磨破")], reason="穿著兩年，已無法修補")
        services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap, comment="同意")
        from kefu.uniforms.models import ScrapRequest

        scrap = ScrapRequest.objects.select_related("employee__org_unit", "head_signed_by__employee").get(pk=scrap.pk)
        text = pdf_text(pdf.scrap_pdf(scrap, language="zh-hant"))
        for expected in ("王小美 (CS1001)", "客服一部 / 一部一組", "西褲", "褲腳磨破", "穿著兩年，已無法修補", "2024-03-01",
                         "張志明", "同意", "部門負責人", scrap.number, zh("Uniform scrap form"),
                         zh("Admin department, reviewed by")):
            self.assertIn(expected, text)
        title = zh("Uniform scrap form")
        if title != "Uniform scrap form":
            self.assertEqual(title, "制服報廢申請表")



class PdfQueryTests(PdfTestCase):
    """Issue 9: a printed form reads as many queries for one line as for five."""

    def count(self, url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        return len(ctx.captured_queries)

    def test_the_requisition_form(self):
        from django.urls import reverse

        one = services.requisition_create(actor=self.admin_clerk, employee=self.agent_employee,
                                          reason=Requisition.Reason.EXTRA, lines=[(self.tie_m, 1)], extra_reason="備用")
        five = services.requisition_create(actor=self.admin_clerk, employee=self.agent_employee,
                                           reason=Requisition.Reason.EXTRA, extra_reason="備用",
                                           lines=[(self.top_m, 2), (self.skirt_m, 1), (self.trs_m, 1), (self.tie_m, 1),
                                                  (self.sku["SCF-S"], 1)])
        self.login(self.admin_clerk)
        self.assertEqual(self.count(reverse("uniforms:requisition_pdf", args=[five.number])),
                         self.count(reverse("uniforms:requisition_pdf", args=[one.number])))

    def test_the_scrap_form(self):
        from django.urls import reverse

        held = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.trs_m,
                                         quantity=3, issued_on=D(2024, 3, 1))
        held += services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.top_m,
                                          quantity=2, issued_on=D(2024, 4, 1))
        one = services.scrap_request_create(actor=self.agent, employee=self.agent_employee, items=[(held[0], "破")],
                                            reason="破舊")
        five = services.scrap_request_create(actor=self.agent, employee=self.agent_employee,
                                             items=[(h, f"破{i}") for i, h in enumerate(held[1:])], reason="破舊")
        for scrap in (one, five):
            services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap, comment="同意")
        self.login(self.admin_clerk)
        self.assertEqual(self.count(reverse("uniforms:scrap_pdf", args=[five.number])),
                         self.count(reverse("uniforms:scrap_pdf", args=[one.number])))
