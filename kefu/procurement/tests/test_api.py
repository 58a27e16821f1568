"""The procurement API (read): suppliers, plans, orders, receipts — allowed / 403 / 404 / 401,
the figures it returns, and query counts that do not grow with the rows."""

from decimal import Decimal

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from kefu.api.testing import ApiTestCase
from kefu.procurement.models import Supplier
from kefu.procurement.testing import MEDIA, ProcurementTestCase, make_supplier


@override_settings(MEDIA_ROOT=MEDIA)
class ProcurementApiTests(ProcurementTestCase, ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.order = self.issued_order()
        self.receipt = self.deliver(self.order, {"TOP-S-M": {"delivered": 10, "accepted": 8, "quality_ok": False,
                                                             "notes": "污漬"}, "TIE-M": 10})

    def paths(self) -> list[str]:
        return ["/procurement/suppliers", "/procurement/suppliers/S1", "/procurement/plans",
                f"/procurement/plans/{self.order.plan.number}", "/procurement/orders",
                f"/procurement/orders/{self.order.number}", "/procurement/receipts",
                f"/procurement/receipts/{self.receipt.number}"]

    def test_readers_read_others_get_403_anonymous_401(self):
        for path in self.paths():
            for user in (self.admin_clerk, self.leadership, self.inspector):
                self.assertApi(user, "get", path, 200)
            for user in (self.agent, self.hr, self.dept_head):
                self.assertApi(user, "get", path, 403)
            self.assertEqual(self.api("get", path).status_code, 401)

    def test_unknown_numbers_answer_404(self):
        for path in ("/procurement/suppliers/NOPE", "/procurement/plans/PP-0", "/procurement/orders/PO-0",
                     "/procurement/receipts/GR-0"):
            self.assertApi(self.inspector, "get", path, 404)

    def test_it_is_read_only(self):
        self.assertApi(self.admin_clerk, "post", "/procurement/plans", 405, {"title": "x"})

    def test_plan_detail_shows_sizes_and_their_derivation(self):
        body = self.assertApi(self.leadership, "get", f"/procurement/plans/{self.order.plan.number}", 200).json()
        self.assertEqual((body["status"], Decimal(body["total_budget"]), Decimal(body["awarded"])),
                         ("approved", Decimal("1200.00"), Decimal("1130.00")))
        # Received so far: 8 × 95.00 + 10 × 18.00 = 940.00
        self.assertEqual(Decimal(body["received"]), Decimal("940.00"))
        top = next(line for line in body["lines"] if line["style"] == "TOP-S")
        self.assertEqual([(s["size"], s["quantity"]) for s in top["sizes"]], [("S", 0), ("M", 10), ("L", 0)])
        self.assertIn("need", top["sizes"][1]["derivation"])

    def test_supplier_scores_and_eligibility(self):
        make_supplier(self.admin_clerk, "S4", "未審核", qualified=False)
        body = self.assertApi(self.inspector, "get", "/procurement/suppliers", 200).json()
        by_code = {row["code"]: row for row in body["items"]}
        self.assertEqual(by_code["S4"]["eligible"], False)
        self.assertEqual(by_code["S1"]["eligible"], True)
        # S1: 20 delivered, 20 on time (delivery date in 20 days), 18 accepted.
        self.assertEqual((Decimal(by_code["S1"]["on_time_rate"]), Decimal(by_code["S1"]["pass_rate"])),
                         (Decimal("1.000"), Decimal("0.900")))
        body = self.assertApi(self.inspector, "get", "/procurement/suppliers?status=pending", 200).json()
        self.assertEqual([row["code"] for row in body["items"]], ["S4"])

    def test_order_and_receipt_detail(self):
        body = self.assertApi(self.admin_clerk, "get", f"/procurement/orders/{self.order.number}", 200).json()
        self.assertEqual([(line["sku"], line["quantity"], line["accepted"]) for line in body["lines"]],
                         [("TOP-S-M", 10, 8), ("TIE-M", 10, 10)])
        self.assertEqual(body["status"], "partially_received")
        body = self.assertApi(self.admin_clerk, "get", f"/procurement/receipts/{self.receipt.number}", 200).json()
        self.assertEqual((body["delivered"], body["accepted"], body["rejected"]), (20, 18, 2))
        failed = [line for line in body["lines"] if not line["passed"]]
        self.assertEqual([(line["sku"], line["quality_ok"], line["notes"]) for line in failed],
                         [("TOP-S-M", False, "污漬")])

    def test_list_queries_do_not_grow(self):
        def count(path: str) -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertApi(self.inspector, "get", path, 200)
            return len(ctx.captured_queries)

        lists = ["/procurement/suppliers", "/procurement/plans", "/procurement/orders", "/procurement/receipts"]
        self.assertApi(self.inspector, "get", "/procurement/plans", 200)  # the token's first use is written once
        small = {p: count(p) for p in lists}
        for i in range(3):
            make_supplier(self.admin_clerk, f"SX{i}", f"供應商{i}")
        order = self.issued_order()
        self.deliver(order, {"TOP-S-M": 10, "TIE-M": 4})
        self.deliver(order, {"TIE-M": 6}, post=False)
        self.assertEqual(Supplier.objects.count(), 6)
        self.assertEqual({p: count(p) for p in lists}, small)
