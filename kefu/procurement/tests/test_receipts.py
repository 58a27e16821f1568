"""Purchase orders and receipt with acceptance (U1.2 到貨驗收): accepted units into stock at the
order price (moving average by hand), the double-posted receipt, rejected units and the supplier
issue followed until closed, partial deliveries, and the order closing.

The order of ProcurementTestCase.issued_order: 10 × TOP-S-M at 95.00 and 10 × TIE-M at 18.00 (S1).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.core.models import Attachment, Notification
from kefu.procurement import services
from kefu.procurement.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    SupplierIssue,
)
from kefu.procurement.testing import PNG, ProcurementTestCase, upload
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import Sku, StockLevel, StockMove


def on_hand(sku, location) -> int:
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first() or 0


def cost(sku) -> Decimal:
    return Sku.objects.get(pk=sku.pk).unit_cost


class OrderTests(ProcurementTestCase):
    def test_a_draft_order_needs_its_address_and_quality_standard_before_issue(self):
        plan = self.approved_plan()
        award = services.rfq_award(actor=self.admin_clerk, rfq=self.rfq_with_quotes(plan), supplier=self.s1)
        order = award.order
        with self.assertRaises(ValidationError) as ctx:
            services.order_issue(actor=self.admin_clerk, order=order)
        self.assertIn("quality_standard", ctx.exception.message_dict)
        line = order.lines.get(sku__code="TIE-M")
        later = timezone.localdate() + datetime.timedelta(days=45)
        services.order_update(actor=self.admin_clerk, order=order, quality_standard="GB/T 2660-2017",
                              lines={line.pk: {"delivery_date": later, "quality_standard": "FZ/T 84001 領帶"}})
        with self.assertRaises(ValidationError) as ctx:
            services.order_issue(actor=self.admin_clerk, order=order)
        self.assertIn("delivery_address", ctx.exception.message_dict)
        services.order_update(actor=self.admin_clerk, order=order, delivery_address="上海市浦東新區")
        order = services.order_issue(actor=self.admin_clerk, order=order)
        self.assertEqual((order.status, order.order_date), (PurchaseOrder.Status.ISSUED, timezone.localdate()))
        self.assertEqual(order.lines.get(sku__code="TIE-M").delivery_date, later)
        # Issued: the contract no longer changes.
        with self.assertRaises(ValidationError):
            services.order_update(actor=self.admin_clerk, order=order, terms="改")

    def test_past_delivery_dates_are_refused_naming_the_line(self):
        award = services.rfq_award(actor=self.admin_clerk, rfq=self.rfq_with_quotes(self.approved_plan()),
                                   supplier=self.s1)
        line = award.order.lines.get(sku__code="TIE-M")
        with self.assertRaises(ValidationError) as ctx:
            services.order_update(actor=self.admin_clerk, order=award.order, lines={
                line.pk: {"delivery_date": timezone.localdate() - datetime.timedelta(days=1)}})
        self.assertIn(f"date_{line.pk}", ctx.exception.message_dict)

    def test_the_printed_order_carries_the_chinese_text(self):
        from kefu.core.pdf import pdf_text
        from kefu.procurement.pdf import order_pdf

        order = self.issued_order()
        text = pdf_text(order_pdf(order, language="zh-hant"))
        with translation.override("zh-hant"):  # the labels as the catalogue prints them
            labels = [_("Uniform purchase order"), _("Buyer (admin department)"), _("Quality standard")]
        for fragment in (order.number, "華美製衣", "夏季女襯衫", "領帶", "GB/T 2660-2017 襯衫", "上海市浦東新區客服中心",
                         "TOP-S-M", "950.00", "1130.00", "劉美玲", *labels):
            self.assertIn(str(fragment), text)


class ReceiptIntoStockTests(ProcurementTestCase):
    def test_accepted_units_enter_stock_at_the_order_price_moving_average_by_hand(self):
        self.receive(self.top_m, 5, "80.00")  # 5 in stock at 80.00 before the delivery
        order = self.issued_order()
        receipt = self.deliver(order, {
            "TOP-S-M": {"delivered": 10, "accepted": 8, "quality_ok": False, "notes": "2 件領口有污漬",
                        "photos": [upload("stain.png", PNG, "image/png")]},
            "TIE-M": 10,
        })
        self.assertEqual(receipt.status, Receipt.Status.POSTED)
        # TOP-S-M: 5 + 8 = 13 on hand; (5 × 80.00 + 8 × 95.00) / 13 = 1,160.00 / 13 = 89.2307… → 89.23
        self.assertEqual(on_hand(self.top_m, self.main), 13)
        self.assertEqual(cost(self.top_m), Decimal("89.23"))
        # TIE-M: nothing before, so the receipt sets the cost: 18.00.
        self.assertEqual((on_hand(self.tie_m, self.main), cost(self.tie_m)), (10, Decimal("18.00")))
        moves = list(StockMove.objects.filter(reference_type="procurement.receipt", reference_id=str(receipt.pk))
                     .order_by("sku__code").values_list("sku__code", "quantity", "unit_cost", "value"))
        self.assertEqual(moves, [("TIE-M", 10, Decimal("18.00"), Decimal("180.00")),
                                 ("TOP-S-M", 8, Decimal("95.00"), Decimal("760.00"))])
        # The 2 rejected units open a supplier issue (replace, by default) with the notes and photo.
        issue = SupplierIssue.objects.get()
        self.assertEqual((issue.quantity, issue.kind, issue.status, issue.supplier), (2, "replace", "open", self.s1))
        self.assertEqual(issue.description, "2 件領口有污漬")
        self.assertTrue(Notification.objects.filter(recipient=self.admin_clerk, title__contains=issue.number).exists())
        line = ReceiptLine.objects.get(order_line__sku=self.top_m)
        self.assertFalse(line.passed)
        self.assertEqual(Attachment.objects.get().target, line)
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.PARTIALLY_RECEIVED)
        # The replacement arrives: 2 more at 95.00. (13 × 89.23 + 2 × 95.00) / 15 = 1,349.99 / 15 = 89.9993 → 90.00
        self.deliver(order, {"TOP-S-M": 2})
        self.assertEqual((on_hand(self.top_m, self.main), cost(self.top_m)), (15, Decimal("90.00")))
        issue.refresh_from_db()
        self.assertEqual((issue.status, issue.replacement_received), ("closed", 2))
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.CLOSED)

    def test_posting_the_same_receipt_twice_changes_stock_once(self):
        order = self.issued_order()
        receipt = self.deliver(order, {"TOP-S-M": 6}, post=False)
        self.assertEqual(on_hand(self.top_m, self.main), 0)  # a draft changes nothing yet
        services.receipt_post(actor=self.admin_clerk, receipt=receipt)
        again = services.receipt_post(actor=self.admin_clerk, receipt=receipt)
        self.assertEqual(again.status, Receipt.Status.POSTED)
        self.assertEqual(on_hand(self.top_m, self.main), 6)
        self.assertEqual(StockMove.objects.filter(sku=self.top_m).count(), 1)
        self.assertEqual(PurchaseOrderLine.objects.get(order=order, sku=self.top_m).accepted_quantity, 6)
        # Even a stock call with the receipt line's key (a retried request) moves nothing more.
        line = ReceiptLine.objects.get(receipt=receipt)
        move = uniforms.stock_receive(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=6,
                                      unit_cost="95.00", idempotency_key=services.receipt_key(line))
        self.assertEqual(move.pk, line.stock_move_id)
        self.assertEqual(on_hand(self.top_m, self.main), 6)

    def test_a_double_submitted_receipt_form_records_one_receipt(self):
        order = self.issued_order()
        a = self.deliver(order, {"TOP-S-M": 3}, idempotency_key="form-7")
        b = self.deliver(order, {"TOP-S-M": 3}, idempotency_key="form-7")
        self.assertEqual(a.pk, b.pk)
        self.assertEqual(on_hand(self.top_m, self.main), 3)

    def test_partial_deliveries_until_everything_is_in(self):
        order = self.issued_order()
        self.deliver(order, {"TOP-S-M": 4})
        self.deliver(order, {"TOP-S-M": 6, "TIE-M": 5})
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.PARTIALLY_RECEIVED)
        self.deliver(order, {"TIE-M": 5})
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.CLOSED)
        with self.assertRaises(ValidationError):
            self.deliver(order, {"TIE-M": 1})

    def test_more_than_is_owed_cannot_be_accepted(self):
        order = self.issued_order()
        line = order.lines.get(sku__code="TOP-S-M")
        with self.assertRaises(ValidationError) as ctx:
            self.deliver(order, {"TOP-S-M": 12})
        self.assertIn("only 10", " ".join(ctx.exception.message_dict[f"accepted_{line.pk}"]))
        # Delivered 12, 10 accepted and 2 rejected is fine: the extra units go back.
        self.deliver(order, {"TOP-S-M": {"delivered": 12, "accepted": 10, "quantity_ok": False,
                                         "notes": "多送 2 件"}})
        self.assertEqual(on_hand(self.top_m, self.main), 10)

    def test_two_drafts_for_the_same_units_cannot_both_post(self):
        order = self.issued_order()
        first = self.deliver(order, {"TIE-M": 10}, post=False)
        second = self.deliver(order, {"TIE-M": 10}, post=False)
        services.receipt_post(actor=self.admin_clerk, receipt=first)
        with self.assertRaises(ValidationError):
            services.receipt_post(actor=self.admin_clerk, receipt=second)
        self.assertEqual(on_hand(self.tie_m, self.main), 10)
        services.receipt_discard(actor=self.admin_clerk, receipt=second, reason="重複登記")
        self.assertFalse(Receipt.objects.filter(pk=second.pk).exists())

    def test_a_discarded_receipt_takes_its_photos_files_with_it(self):
        order = self.issued_order()
        draft = self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 9, "notes": "1 件破損",
                                                 "photos": [upload("torn.png", PNG, "image/png")]}}, post=False)
        (photo,) = Attachment.objects.filter(object_id__in=draft.lines.values("pk"))
        name, storage = photo.file.name, photo.file.storage
        self.assertTrue(storage.exists(name))
        with self.captureOnCommitCallbacks(execute=True):
            services.receipt_discard(actor=self.admin_clerk, receipt=draft, reason="登記錯單")
        self.assertFalse(Attachment.objects.filter(pk=photo.pk).exists())
        self.assertFalse(storage.exists(name))  # not left on disk once the row is gone

    def test_the_check_is_explained_and_failures_reject_units(self):
        order = self.issued_order()
        line = order.lines.get(sku__code="TOP-S-M")
        cases = [
            ({"delivered": 10, "accepted": 10, "colour_ok": False, "notes": "偏色"}, f"accepted_{line.pk}"),
            ({"delivered": 10, "accepted": 9}, f"notes_{line.pk}"),
            ({"delivered": 10, "quantity_ok": False}, f"notes_{line.pk}"),
            ({"delivered": 3, "accepted": 4}, f"accepted_{line.pk}"),
            ({"delivered": -1}, f"delivered_{line.pk}"),
        ]
        for data, field in cases:
            with self.assertRaises(ValidationError, msg=str(data)) as ctx:
                self.deliver(order, {"TOP-S-M": data})
            self.assertIn(field, ctx.exception.message_dict)
            self.assertIn("TOP-S-M", " ".join(ctx.exception.message_dict[field]))
        with self.assertRaises(ValidationError) as ctx:
            self.deliver(order, {"TOP-S-M": 5}, delivered_on=timezone.localdate() + datetime.timedelta(days=1))
        self.assertIn("delivered_on", ctx.exception.message_dict)
        self.assertFalse(Receipt.objects.exists())  # nothing half-saved
        self.assertEqual(on_hand(self.top_m, self.main), 0)

    def test_a_bad_photo_saves_nothing(self):
        order = self.issued_order()
        line = order.lines.get(sku__code="TOP-S-M")
        with self.assertRaises(ValidationError) as ctx:
            self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 9, "quality_ok": False, "notes": "破洞",
                                             "photos": [upload("x.gif", b"GIF89a....", "image/gif")]}})
        self.assertIn(f"photos_{line.pk}", ctx.exception.message_dict)
        self.assertFalse(Receipt.objects.exists())
        self.assertEqual(on_hand(self.top_m, self.main), 0)

    def test_wrong_roles_cannot_receive_or_post(self):
        order = self.issued_order()
        draft = self.deliver(order, {"TIE-M": 2}, post=False)
        for user in (self.leadership, self.inspector, self.agent, self.hr):
            with self.assertRaises(PermissionDenied, msg=user.username):
                services.receipt_create(actor=user, order=order, delivered_on=timezone.localdate(),
                                        lines=[{"order_line": order.lines.first(), "delivered": 1}])
            with self.assertRaises(PermissionDenied):
                services.receipt_post(actor=user, receipt=draft)
        self.assertEqual(on_hand(self.tie_m, self.main), 0)


class SupplierIssueTests(ProcurementTestCase):
    def reject_two(self):
        order = self.issued_order()
        self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 8, "style_ok": False, "notes": "款式不符"},
                             "TIE-M": 10})
        return order, SupplierIssue.objects.get()

    def test_credit_settles_the_units_and_the_order_closes(self):
        order, issue = self.reject_two()
        with self.assertRaises(ValidationError) as ctx:  # replacement still awaited
            services.issue_close(actor=self.admin_clerk, issue=issue, resolution="x")
        self.assertIn("kind", ctx.exception.message_dict)
        services.issue_set_kind(actor=self.admin_clerk, issue=issue, kind="credit", reason="供應商無貨可換")
        with self.assertRaises(ValidationError) as ctx:
            services.issue_close(actor=self.admin_clerk, issue=issue, resolution="貸項通知單 CN-1")
        self.assertIn("credit_amount", ctx.exception.message_dict)
        issue = services.issue_close(actor=self.admin_clerk, issue=issue, resolution="貸項通知單 CN-1",
                                     credit_amount="190.00")  # 2 × 95.00
        self.assertEqual((issue.status, issue.credit_amount), ("closed", Decimal("190.00")))
        line = order.lines.get(sku__code="TOP-S-M")
        self.assertEqual((line.accepted_quantity, line.settled_quantity, line.outstanding), (8, 2, 0))
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.CLOSED)
        # Budget: received 8 × 95.00 + 10 × 18.00 = 940.00; credited 190.00.
        from kefu.procurement import selectors

        budget = selectors.budget(order.plan)
        self.assertEqual((budget.budget, budget.awarded, budget.received, budget.credited),
                         (Decimal("1200.00"), Decimal("1130.00"), Decimal("940.00"), Decimal("190.00")))

    def test_a_return_settles_without_credit(self):
        order, issue = self.reject_two()
        services.issue_set_kind(actor=self.admin_clerk, issue=issue, kind="return")
        services.issue_close(actor=self.admin_clerk, issue=issue, resolution="已退回，退款沖帳")
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.CLOSED)

    def test_an_open_issue_keeps_the_order_open(self):
        order, issue = self.reject_two()
        order.refresh_from_db()
        self.assertEqual(order.status, PurchaseOrder.Status.PARTIALLY_RECEIVED)
        # Closing a closed issue again changes nothing (double click).
        services.issue_set_kind(actor=self.admin_clerk, issue=issue, kind="return")
        services.issue_close(actor=self.admin_clerk, issue=issue, resolution="退回")
        services.issue_close(actor=self.admin_clerk, issue=issue, resolution="again")
        self.assertEqual(SupplierIssue.objects.get(pk=issue.pk).resolution, "退回")

    def test_replacements_count_after_the_regular_units(self):
        # 10 ordered; 5 delivered, 4 accepted (1 rejected → replace). 6 more owed: 5 regular + 1 replacement.
        order = self.issued_order()
        self.deliver(order, {"TOP-S-M": {"delivered": 5, "accepted": 4, "quality_ok": False, "notes": "脫線"}})
        issue = SupplierIssue.objects.get()
        self.deliver(order, {"TOP-S-M": 5})
        issue.refresh_from_db()
        self.assertEqual((issue.status, issue.replacement_received), ("open", 0))
        self.deliver(order, {"TOP-S-M": 1})
        issue.refresh_from_db()
        self.assertEqual((issue.status, issue.replacement_received), ("closed", 1))

    def test_wrong_roles_cannot_handle_issues(self):
        _order, issue = self.reject_two()
        for user in (self.leadership, self.inspector, self.agent):
            with self.assertRaises(PermissionDenied):
                services.issue_set_kind(actor=user, issue=issue, kind="credit")
            with self.assertRaises(PermissionDenied):
                services.issue_close(actor=user, issue=issue, resolution="x", credit_amount="1")
        self.assertEqual(SupplierIssue.objects.get(pk=issue.pk).status, "open")
