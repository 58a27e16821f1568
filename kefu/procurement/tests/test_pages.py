"""Procurement pages: who may open each (allowed / 404 / 403 / anonymous), the forms end to end
through the views, the budget chart's data, and query counts pinned on the lists."""

import datetime
import json

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import Attachment
from kefu.procurement import services
from kefu.procurement.models import (
    PlanLineSize,
    PurchaseOrder,
    PurchasePlan,
    Receipt,
    Rfq,
    Supplier,
    SupplierIssue,
)
from kefu.procurement.testing import MEDIA, PNG, ProcurementTestCase, make_supplier, upload
from kefu.uniforms.models import StockLevel


class ScenarioMixin:
    """An order with a posted receipt that rejected 2 tops (an open supplier issue), a draft receipt,
    and a second plan still in draft."""

    def build(self):
        self.order = self.issued_order()
        self.plan = self.order.plan
        self.rfq = self.plan.rfq
        self.receipt = self.deliver(self.order, {"TOP-S-M": {"delivered": 10, "accepted": 8, "quality_ok": False,
                                                             "notes": "污漬", "photos": [upload("p.png", PNG, "image/png")]}})
        self.draft_receipt = self.deliver(self.order, {"TIE-M": 5}, post=False)
        self.issue = SupplierIssue.objects.get()
        self.draft = self.draft_plan()
        self.cert = self.s1.certificates.get()
        self.photo = Attachment.objects.get()


@override_settings(MEDIA_ROOT=MEDIA)
class PageAccessTests(ScenarioMixin, ProcurementTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.build()

    def read_pages(self) -> list[str]:
        r = reverse
        return [
            r("procurement:home"), r("procurement:suppliers"), r("procurement:supplier_detail", args=["S1"]),
            r("procurement:certificate_scan", args=[self.cert.pk]),
            r("procurement:plans"), r("procurement:plan_detail", args=[self.plan.number]),
            r("procurement:plan_budget", args=[self.plan.number]), r("procurement:rfqs"),
            r("procurement:rfq_detail", args=[self.rfq.number]), r("procurement:rfq_compare", args=[self.rfq.number]),
            r("procurement:orders"), r("procurement:order_detail", args=[self.order.number]),
            r("procurement:order_pdf", args=[self.order.number]), r("procurement:receipts"),
            r("procurement:receipt_detail", args=[self.receipt.number]), r("procurement:issues"),
            r("procurement:issue_detail", args=[self.issue.number]),
        ]

    def test_readers_open_every_page_others_get_403_anonymous_is_sent_to_login(self):
        for url in self.read_pages():
            for user in (self.admin_clerk, self.leadership, self.inspector):
                self.assertStatus(user, "get", url, 200)
            for user in (self.agent, self.hr, self.dept_head, self.supervisor, self.sysadmin):
                self.assertStatus(user, "get", url, 403)
            self.client.logout()
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn(reverse("login"), response["Location"])

    def test_files_go_to_readers_only_and_are_not_found_for_others(self):
        # core:attachment answers 404, not 403, to whoever may not see the record (as for any object).
        url = reverse("core:attachment", args=[self.photo.pk])
        for user in (self.admin_clerk, self.leadership, self.inspector):
            self.assertStatus(user, "get", url, 200)
        for user in (self.agent, self.hr, self.dept_head, self.supervisor, self.sysadmin):
            self.assertStatus(user, "get", url, 404)

    def test_a_refused_action_flashes_each_reason_apart(self):
        # core.views.flash_errors: one message per reason (no licence, an expired certificate), not one run-on line.
        from django.contrib.messages import get_messages

        supplier = services.supplier_create(actor=self.admin_clerk, code="s9", name="新廠",
                                            credit_code="91310000MA1FL1234X", contact={"name": "王經理"})
        services.certificate_add(actor=self.admin_clerk, supplier=supplier, kind="production", name="生產許可證",
                                 expires_on=datetime.date(2020, 1, 1), scan=upload("p.png", PNG, "image/png"))
        self.login(self.admin_clerk)
        response = self.client.post(reverse("procurement:supplier_status", args=["S9"]),
                                    {"action": "qualify", "reason": ""})
        self.assertRedirects(response, reverse("procurement:supplier_detail", args=["S9"]),
                             fetch_redirect_response=False)
        flashed = [str(m) for m in get_messages(response.wsgi_request)]
        self.assertEqual(len(flashed), 2, flashed)
        self.assertIn("no business licence", flashed[0])
        self.assertIn("生產許可證", flashed[1])
        self.assertEqual(Supplier.objects.get(code="S9").status, Supplier.Status.PENDING)

    def test_unknown_numbers_answer_404(self):
        r = reverse
        for url in (r("procurement:supplier_detail", args=["NOPE"]), r("procurement:plan_detail", args=["PP-0"]),
                    r("procurement:rfq_detail", args=["RFQ-0"]), r("procurement:order_detail", args=["PO-0"]),
                    r("procurement:receipt_detail", args=["GR-0"]), r("procurement:issue_detail", args=["SI-0"]),
                    r("core:attachment", args=[999999]), r("procurement:certificate_scan", args=[999999]),
                    r("procurement:quote_record", args=[self.rfq.number, "NOPE"])):
            self.assertStatus(self.admin_clerk, "get", url, 404)

    def test_edit_pages_are_admin_staffs_and_only_while_editable(self):
        r = reverse
        line = self.draft.lines.first()
        admin_only = [r("procurement:plan_create"), r("procurement:supplier_create"),
                      r("procurement:plan_edit", args=[self.draft.number]),
                      r("procurement:plan_line_edit", args=[self.draft.number, line.pk]),
                      r("procurement:supplier_edit", args=["S1"]), r("procurement:certificate_add", args=["S1"]),
                      r("procurement:rfq_create", args=[self.draft.number])]
        for url in admin_only:
            self.assertStatus(self.admin_clerk, "get", url, 200)
            self.assertStatus(self.leadership, "get", url, 403)
            self.assertStatus(self.inspector, "get", url, 403)
            self.assertStatus(self.agent, "get", url, 403)
        # The approved plan and the issued order are locked.
        approved_line = self.plan.lines.first()
        for url in (r("procurement:plan_edit", args=[self.plan.number]),
                    r("procurement:plan_line_edit", args=[self.plan.number, approved_line.pk]),
                    r("procurement:order_edit", args=[self.order.number])):
            self.assertStatus(self.admin_clerk, "get", url, 403)

    def test_writes_by_the_wrong_role_answer_403_and_change_nothing(self):
        r = reverse
        services.plan_submit(actor=self.admin_clerk, plan=self.draft)
        posts = [
            (self.leadership, r("procurement:plan_submit", args=[self.draft.number]), {}),
            (self.leadership, r("procurement:plan_propose", args=[self.draft.number]), {"apply": "1"}),
            (self.admin_clerk, r("procurement:plan_decide", args=[self.draft.number]), {"action": "approve"}),
            (self.agent, r("procurement:plan_decide", args=[self.draft.number]), {"action": "approve"}),
            (self.hr, r("procurement:supplier_status", args=["S1"]), {"action": "suspend", "reason": "x"}),
            (self.leadership, r("procurement:supplier_status", args=["S1"]), {"action": "suspend", "reason": "x"}),
            (self.inspector, r("procurement:receipt_post", args=[self.draft_receipt.number]), {}),
            (self.leadership, r("procurement:issue_close", args=[self.issue.number]), {"resolution": "x"}),
            (self.agent, r("procurement:rfq_next_round", args=[self.rfq.number]), {}),
            (self.leadership, r("procurement:order_issue", args=[self.order.number]), {}),
            (self.leadership, r("procurement:rfq_compare", args=[self.rfq.number]), {"supplier": self.s2.pk}),
            (self.inspector, r("procurement:certificate_add", args=["S1"]), {"kind": "quality", "name": "x"}),
        ]
        for user, url, data in posts:
            self.assertStatus(user, "post", url, 403, data)
        self.assertEqual(PurchasePlan.objects.get(pk=self.draft.pk).status, "submitted")
        self.assertEqual(Supplier.objects.get(code="S1").status, "qualified")
        self.assertEqual(Receipt.objects.get(pk=self.draft_receipt.pk).status, "draft")
        self.assertEqual(SupplierIssue.objects.get().status, "open")

    def test_files_are_served_with_their_type(self):
        self.login(self.inspector)
        response = self.client.get(reverse("core:attachment", args=[self.photo.pk]))
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(b"".join(response.streaming_content), PNG)
        response = self.client.get(reverse("procurement:order_pdf", args=[self.order.number]))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))

    def test_budget_chart_data_and_no_inline_script(self):
        self.login(self.leadership)
        response = self.client.get(reverse("procurement:plan_budget", args=[self.plan.number]))
        html = response.content.decode()
        start = html.index('id="budget-data"')
        data = json.loads(html[html.index(">", start) + 1: html.index("</script>", start)])
        # Budget 1,000.00 + 200.00; awarded 950.00 + 180.00; received 8 × 95.00 (the ties are a draft).
        self.assertEqual([s["data"] for s in data["series"]],
                         [["1000.00", "200.00", "1200.00"], ["950.00", "180.00", "1130.00"],
                          ["760.00", "0.00", "760.00"]])
        self.assertNotIn("<script>", html)
        self.assertIn("procurement/budget.js", html)


class ListQueryTests(ScenarioMixin, ProcurementTestCase):
    LISTS = ["procurement:home", "procurement:suppliers", "procurement:plans", "procurement:rfqs",
             "procurement:orders", "procurement:receipts", "procurement:issues"]

    def counts(self) -> dict[str, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.login(self.admin_clerk)
        out = {}
        for name in self.LISTS:
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get(reverse(name))
            self.assertEqual(response.status_code, 200)
            out[name] = len(ctx.captured_queries)
        return out

    def test_list_pages_run_a_fixed_number_of_queries(self):
        self.build()
        small = self.counts()
        # More of everything: three more suppliers, two more plans carried to receipts with issues.
        for i in range(3):
            make_supplier(self.admin_clerk, f"SX{i}", f"供應商{i}")
        for _n in range(2):
            order = self.issued_order()
            self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 9, "colour_ok": False, "notes": "色差"},
                                 "TIE-M": 10})
            self.deliver(order, {"TOP-S-M": 1}, post=False)
        self.draft_plan()
        self.assertGreater(PurchaseOrder.objects.count(), 2)
        self.assertEqual(self.counts(), small)


@override_settings(MEDIA_ROOT=MEDIA)
class FormFlowTests(ProcurementTestCase):
    """The whole flow through the pages' forms (what the browser test clicks, without a browser)."""

    def test_plan_to_receipt_through_the_views(self):
        r = reverse
        self.login(self.admin_clerk)
        response = self.client.get(r("procurement:plan_create"))
        token = response.context["form"]["token"].value()
        data = {"title": "2027 春季制服", "season": "spring", "year": 2027, "horizon_start": "2027-03-01",
                "horizon_end": "2027-08-31", "expected_new_hires": 4, "notes": "", "token": token}
        response = self.client.post(r("procurement:plan_create"), data)
        plan = PurchasePlan.objects.get()
        self.assertRedirects(response, r("procurement:plan_detail", args=[plan.number]))
        self.client.post(r("procurement:plan_create"), data)  # the same form again
        self.assertEqual(PurchasePlan.objects.count(), 1)
        # Keep two lines: tops and ties; set their quantities and prices.
        for line in plan.lines.select_related("style"):
            if line.style.code not in ("TOP-S", "TIE"):
                self.client.post(r("procurement:plan_line_remove", args=[plan.number, line.pk]))
        for code, price in (("TOP-S", "100.00"), ("TIE", "20.00")):
            line = plan.lines.get(style__code=code)
            form = {"colour": "藏青", "material": "棉", "target_unit_price": price, "note": ""}
            for size in PlanLineSize.objects.filter(line=line).select_related("sku"):
                form[f"qty_{size.sku_id}"] = 10 if size.sku.code.endswith("-M") else 0
            response = self.client.post(r("procurement:plan_line_edit", args=[plan.number, line.pk]), form)
            self.assertEqual(response.status_code, 302, getattr(response, "context", None) and
                             response.context["form"].errors)
        # A bad price is shown on its field.
        line = plan.lines.get(style__code="TIE")
        bad = {"colour": "", "material": "", "target_unit_price": "abc", "note": ""}
        response = self.client.post(r("procurement:plan_line_edit", args=[plan.number, line.pk]), bad)
        self.assertEqual(response.status_code, 200)
        self.assertIn("target_unit_price", response.context["form"].errors)
        self.client.post(r("procurement:plan_submit", args=[plan.number]))
        self.login(self.leadership)
        self.client.post(r("procurement:plan_decide", args=[plan.number]), {"action": "approve", "comment": "同意"})
        plan.refresh_from_db()
        self.assertEqual((plan.status, plan.total_budget), ("approved", 1200))

        self.login(self.admin_clerk)
        response = self.client.post(r("procurement:rfq_create", args=[plan.number]),
                                    {"suppliers": [self.s1.pk, self.s2.pk], "quote_due_on": "", "reason": "",
                                     "notes": ""})
        self.assertEqual(response.status_code, 200)  # two suppliers without a reason
        self.assertIn("reason", response.context["form"].errors)
        self.client.post(r("procurement:rfq_create", args=[plan.number]),
                         {"suppliers": [self.s1.pk, self.s2.pk, self.s3.pk], "reason": "", "notes": ""})
        rfq = Rfq.objects.get()
        top, tie = plan.lines.get(style__code="TOP-S"), plan.lines.get(style__code="TIE")
        today = timezone.localdate()
        for supplier, (p1, p2) in ((self.s1, ("95.00", "18.00")), (self.s2, ("98.00", "17.00")),
                                   (self.s3, ("99.00", "19.00"))):
            response = self.client.post(r("procurement:quote_record", args=[rfq.number, supplier.code]), {
                "received_on": today.isoformat(), "valid_until": (today + datetime.timedelta(days=30)).isoformat(),
                f"price_{top.pk}": p1, f"lead_{top.pk}": 20, f"price_{tie.pk}": p2, f"lead_{tie.pk}": 20,
                "note": "", "attachments": [upload(f"{supplier.code}.pdf")]})
            self.assertEqual(response.status_code, 302)
        response = self.client.get(r("procurement:rfq_compare", args=[rfq.number]))
        self.assertContains(response, 'data-testid="lowest-total"', count=1)
        self.assertContains(response, 'data-testid="total-S1"')
        response = self.client.post(r("procurement:rfq_compare", args=[rfq.number]), {"supplier": self.s2.pk, "reason": ""})
        self.assertIn("reason", response.context["form"].errors)
        response = self.client.post(r("procurement:rfq_compare", args=[rfq.number]), {"supplier": self.s1.pk, "reason": ""})
        order = PurchaseOrder.objects.get()
        self.assertRedirects(response, r("procurement:order_detail", args=[order.number]))
        lines = list(order.lines.all())
        form = {"delivery_address": "上海市", "quality_standard": "GB/T 2660", "terms": ""}
        for line in lines:
            form[f"date_{line.pk}"] = line.delivery_date.isoformat()
            form[f"standard_{line.pk}"] = ""
        self.assertEqual(self.client.post(r("procurement:order_edit", args=[order.number]), form).status_code, 302)
        self.client.post(r("procurement:order_issue", args=[order.number]))
        order.refresh_from_db()
        self.assertEqual(order.status, "issued")

        response = self.client.get(r("procurement:receipt_create", args=[order.number]))
        token = response.context["form"]["token"].value()
        top_line, tie_line = order.lines.get(sku__code="TOP-S-M"), order.lines.get(sku__code="TIE-M")
        form = {"token": token, "delivered_on": today.isoformat(), "delivery_note_no": "DN-1", "location": self.main.pk,
                "note": "", "action": "post",
                f"delivered_{top_line.pk}": 10, f"accepted_{top_line.pk}": 9, f"quantity_ok_{top_line.pk}": "on",
                f"style_ok_{top_line.pk}": "on", f"colour_ok_{top_line.pk}": "on",  # quality unchecked: failed
                f"notes_{top_line.pk}": "1 件破洞", f"photos_{top_line.pk}": [upload("hole.png", PNG, "image/png")],
                f"delivered_{tie_line.pk}": 10, f"accepted_{tie_line.pk}": "",
                **{f"{c}_{tie_line.pk}": "on" for c in ("quantity_ok", "style_ok", "colour_ok", "quality_ok")}}
        response = self.client.post(r("procurement:receipt_create", args=[order.number]), form)
        receipt = Receipt.objects.get()
        self.assertRedirects(response, r("procurement:receipt_detail", args=[receipt.number]))
        self.client.post(r("procurement:receipt_create", args=[order.number]), form)  # double submit
        self.assertEqual(Receipt.objects.count(), 1)
        self.assertEqual(receipt.status, "posted")
        self.assertEqual(StockLevel.objects.get(sku=self.top_m, location=self.main).on_hand, 9)
        self.assertEqual(StockLevel.objects.get(sku=self.tie_m, location=self.main).on_hand, 10)
        issue = SupplierIssue.objects.get()
        self.client.post(r("procurement:issue_kind", args=[issue.number]), {"kind": "credit", "reason": "不補貨"})
        self.client.post(r("procurement:issue_close", args=[issue.number]),
                         {"resolution": "貸項通知單", "credit_amount": "95.00"})
        order.refresh_from_db()
        self.assertEqual(order.status, "closed")
        response = self.client.get(r("procurement:plan_budget", args=[plan.number]))
        # Received: 9 × 95.00 + 10 × 18.00 = 855.00 + 180.00 = 1,035.00; credited 95.00.
        self.assertContains(response, '<div class="fs-5" data-testid="received-total">¥1,035.00</div>', html=True)
