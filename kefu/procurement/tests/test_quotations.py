"""Quotations (詢價 / 比價 / 議價) and the award rules of U1.2.

Default fixture (ProcurementTestCase.rfq_with_quotes): plan lines 10 × TOP-S (target 100.00) and
10 × TIE (target 20.00), budget 1,200.00. Quotes, totals worked out by hand:
    S1: 95.00 / 18.00 → 950.00 + 180.00 = 1,130.00 (lowest total)
    S2: 98.00 / 17.00 → 980.00 + 170.00 = 1,150.00 (lowest tie price)
    S3: 99.00 / 19.00 → 990.00 + 190.00 = 1,180.00
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.core import services as core_services
from kefu.core.models import Notification
from kefu.procurement import selectors, services
from kefu.procurement.models import Award, Invitation, PurchaseOrder, Quote, Rfq, SupplierCertificate
from kefu.procurement.testing import ProcurementTestCase, make_supplier, upload


class RfqTests(ProcurementTestCase):
    def test_only_an_approved_plan_is_put_to_suppliers(self):
        plan = self.draft_plan()
        with self.assertRaises(ValidationError):
            services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2, self.s3])

    def test_fewer_suppliers_than_the_parameter_need_a_reason(self):
        plan = self.approved_plan()
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2])
        self.assertIn("reason", ctx.exception.message_dict)
        self.assertFalse(Rfq.objects.exists())
        rfq = services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2],
                                  reason="只有兩家能做絲巾")
        self.assertEqual(rfq.invitations.count(), 2)

    def test_the_parameter_in_force_decides_how_many(self):
        core_services.policy_set(key="procurement.min_quotes", value=2, effective_from=timezone.localdate(),
                                 actor=self.sysadmin)
        rfq = services.rfq_create(actor=self.admin_clerk, plan=self.approved_plan(), suppliers=[self.s1, self.s2])
        self.assertEqual(rfq.few_suppliers_reason, "")

    def test_unqualified_suspended_or_expired_suppliers_cannot_be_invited(self):
        plan = self.approved_plan()
        pending = make_supplier(self.admin_clerk, "S4", "未審核廠", qualified=False)
        suspended = make_supplier(self.admin_clerk, "S5", "暫停廠")
        services.supplier_suspend(actor=self.admin_clerk, supplier=suspended, reason="交期屢次延誤")
        expired = make_supplier(self.admin_clerk, "S6", "過期廠")
        services.certificate_add(actor=self.admin_clerk, supplier=expired, kind=SupplierCertificate.Kind.QUALITY,
                                 name="ISO 9001", expires_on=timezone.localdate() - datetime.timedelta(days=1))
        for bad, fragment in ((pending, "not qualified"), (suspended, "not qualified"), (expired, "ISO 9001")):
            with self.assertRaises(ValidationError, msg=bad.code) as ctx:
                services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2, bad])
            self.assertIn(fragment, " ".join(ctx.exception.message_dict["suppliers"]))
        self.assertFalse(Rfq.objects.exists())
        rfq = services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2, self.s3])
        with self.assertRaises(ValidationError):
            services.rfq_invite(actor=self.admin_clerk, rfq=rfq, supplier=expired)
        self.assertEqual(rfq.invitations.count(), 3)

    def test_rounds_latest_quote_counts_and_history_stays(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        with self.assertRaises(ValidationError):  # a quote from someone not invited
            services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=make_supplier(self.admin_clerk, "S7", "x"),
                                  received_on=timezone.localdate(), valid_until=timezone.localdate(),
                                  lines={self.line(rfq.plan, "TIE").pk: ("1.00", 1)})
        rfq = services.rfq_next_round(actor=self.admin_clerk, rfq=rfq, note="請重新報價")
        self.assertEqual(rfq.round, 2)
        # S3 comes down in round 2 to 90.00 / 16.00 → 900.00 + 160.00 = 1,060.00; S1 and S2 stand.
        self.quote(rfq, self.s3, {"TOP-S": "90.00", "TIE": "16.00"})
        cmp = selectors.comparison(rfq, on=timezone.localdate())
        totals = {c.supplier.code: (c.quote.round, c.quote.total) for c in cmp.columns}
        self.assertEqual(totals, {"S1": (1, Decimal("1130.00")), "S2": (1, Decimal("1150.00")),
                                  "S3": (2, Decimal("1060.00"))})
        self.assertEqual(cmp.lowest_total, Decimal("1060.00"))
        self.assertEqual([c.supplier.code for c in cmp.columns if c.lowest_total], ["S3"])
        self.assertEqual(Quote.objects.filter(supplier=self.s3).count(), 2)

    def test_recording_again_in_a_round_replaces_the_quote(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        self.quote(rfq, self.s2, {"TOP-S": "97.00", "TIE": "17.00"})
        quote = Quote.objects.get(supplier=self.s2)
        self.assertEqual(quote.total, Decimal("1140.00"))
        self.assertEqual(quote.lines.count(), 2)

    def test_comparison_marks_the_lowest_per_line_and_in_total(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        cmp = selectors.comparison(rfq, on=timezone.localdate())
        top, tie = self.line(rfq.plan, "TOP-S"), self.line(rfq.plan, "TIE")
        self.assertEqual(cmp.lowest_price, {top.pk: Decimal("95.00"), tie.pk: Decimal("17.00")})
        self.assertEqual(cmp.lowest_total, Decimal("1130.00"))
        self.assertEqual(cmp.budget, Decimal("1200.00"))
        marks = [[cell["lowest"] for cell in row["cells"]] for row in cmp.rows]
        self.assertEqual(marks, [[True, False, False], [False, True, False]])
        self.assertEqual(cmp.complete_quotes, 3)

    def test_a_partial_quote_is_compared_but_not_awarded(self):
        plan = self.approved_plan()
        rfq = self.rfq_with_quotes(plan, {"S1": {"TOP-S": "80.00"}, "S2": {"TOP-S": "98.00", "TIE": "17.00"},
                                          "S3": {"TOP-S": "99.00", "TIE": "19.00"}})
        cmp = selectors.comparison(rfq, on=timezone.localdate())
        self.assertEqual(cmp.complete_quotes, 2)
        self.assertEqual(cmp.lowest_total, Decimal("1150.00"))  # the partial 800.00 is not a total
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, reason="x")
        self.assertIn("every line", " ".join(ctx.exception.message_dict["supplier"]))

    def test_quote_input_is_checked_and_named(self):
        rfq = self.rfq_with_quotes(self.approved_plan(), {})
        top = self.line(rfq.plan, "TOP-S").pk
        today = timezone.localdate()
        cases = [
            ({top: ("0", 5)}, f"price_{top}"),
            ({top: ("12.345", 5)}, f"price_{top}"),
            ({top: ("10.00", -1)}, f"lead_{top}"),
            ({}, "lines"),
        ]
        for lines, field in cases:
            with self.assertRaises(ValidationError, msg=field) as ctx:
                services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, received_on=today,
                                      valid_until=today, lines=lines)
            self.assertIn(field, ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, received_on=today,
                                  valid_until=today - datetime.timedelta(days=1), lines={top: ("10.00", 5)})
        self.assertIn("valid_until", ctx.exception.message_dict)
        self.assertFalse(Quote.objects.exists())

    def test_quote_documents_are_kept_and_checked(self):
        rfq = self.rfq_with_quotes(self.approved_plan(), {})
        today = timezone.localdate()
        lines = {self.line(rfq.plan, "TOP-S").pk: ("95.00", 20), self.line(rfq.plan, "TIE").pk: ("18.00", 20)}
        with self.assertRaises(ValidationError) as ctx:
            services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, received_on=today,
                                  valid_until=today, lines=lines, attachments=[upload("q.exe", b"MZ\x90\x00")])
        self.assertIn("q.exe", " ".join(ctx.exception.message_dict["attachments"]))
        self.assertFalse(Quote.objects.exists())  # nothing half-saved
        quote = services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, received_on=today,
                                      valid_until=today, lines=lines, attachments=[upload("報價單.pdf")])
        self.assertEqual(list(quote.attachments.values_list("original_name", "mime_type", "object_id")),
                         [("報價單.pdf", "application/pdf", quote.pk)])
        from kefu.core.models import Attachment

        self.assertEqual(Attachment.objects.count(), 1)


class AwardRuleTests(ProcurementTestCase):
    def test_the_lowest_total_with_enough_quotes_needs_no_reason(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertEqual((award.status, award.total, award.is_lowest, award.over_budget, award.quotes_count),
                         (Award.Status.EFFECTIVE, Decimal("1130.00"), True, False, 3))
        rfq.refresh_from_db()
        self.assertEqual(rfq.status, Rfq.Status.AWARDED)
        order = PurchaseOrder.objects.get(award=award)
        # The order: one line per size bought, at the awarded prices, delivery after the lead time (20 days).
        lines = list(order.lines.values_list("sku__code", "quantity", "unit_price", "amount", "delivery_date"))
        due = timezone.localdate() + datetime.timedelta(days=20)
        self.assertEqual(lines, [("TOP-S-M", 10, Decimal("95.00"), Decimal("950.00"), due),
                                 ("TIE-M", 10, Decimal("18.00"), Decimal("180.00"), due)])
        self.assertEqual((order.status, order.total), (PurchaseOrder.Status.DRAFT, Decimal("1130.00")))

    def test_not_the_lowest_needs_a_written_reason(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s2)
        message = " ".join(ctx.exception.message_dict["reason"])
        self.assertIn("1150.00", message)
        self.assertIn("1130.00", message)
        self.assertFalse(Award.objects.exists())
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s2, reason="S2 面料樣品品質較好")
        self.assertFalse(award.is_lowest)
        self.assertEqual(award.reason, "S2 面料樣品品質較好")

    def test_fewer_quotes_than_the_minimum_need_a_reason(self):
        plan = self.approved_plan()
        rfq = self.rfq_with_quotes(plan, {"S1": {"TOP-S": "95.00", "TIE": "18.00"},
                                          "S2": {"TOP-S": "98.00", "TIE": "17.00"}})
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertIn("only 2 complete quotes", " ".join(ctx.exception.message_dict["reason"]))
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, reason="第三家未回覆")
        self.assertEqual((award.quotes_count, award.min_quotes), (2, 3))

    def test_over_budget_goes_back_to_leadership(self):
        rfq = self.rfq_with_quotes(self.approved_plan(), {
            "S1": {"TOP-S": "110.00", "TIE": "20.00"},   # 1,100.00 + 200.00 = 1,300.00 > 1,200.00
            "S2": {"TOP-S": "115.00", "TIE": "20.00"},
            "S3": {"TOP-S": "118.00", "TIE": "21.00"},
        })
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertEqual((award.status, award.over_budget, award.total, award.budget),
                         (Award.Status.PENDING, True, Decimal("1300.00"), Decimal("1200.00")))
        self.assertEqual(Rfq.objects.get(pk=rfq.pk).status, Rfq.Status.AWARD_PENDING)
        self.assertFalse(PurchaseOrder.objects.exists())
        self.assertTrue(Notification.objects.filter(recipient=self.leadership, title__contains=rfq.plan.number).exists())
        # Admin cannot approve it; no more quotes while it waits.
        with self.assertRaises(PermissionDenied):
            services.award_approve(actor=self.admin_clerk, award=award)
        with self.assertRaises(ValidationError):
            self.quote(rfq, self.s2, {"TOP-S": "100.00", "TIE": "10.00"})
        award = services.award_approve(actor=self.leadership, award=award, comment="面料漲價，同意")
        self.assertEqual(award.status, Award.Status.EFFECTIVE)
        self.assertEqual(PurchaseOrder.objects.get(award=award).total, Decimal("1300.00"))
        # A double click on approve changes nothing more.
        services.award_approve(actor=self.leadership, award=award)
        self.assertEqual(PurchaseOrder.objects.count(), 1)

    def test_leadership_rejecting_an_over_budget_award_reopens_quoting(self):
        rfq = self.rfq_with_quotes(self.approved_plan(), {
            "S1": {"TOP-S": "110.00", "TIE": "20.00"}, "S2": {"TOP-S": "115.00", "TIE": "20.00"},
            "S3": {"TOP-S": "118.00", "TIE": "21.00"}})
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        with self.assertRaises(ValidationError):
            services.award_reject(actor=self.leadership, award=award, comment="")
        services.award_reject(actor=self.leadership, award=award, comment="請再議價")
        rfq.refresh_from_db()
        self.assertEqual(rfq.status, Rfq.Status.OPEN)
        services.rfq_next_round(actor=self.admin_clerk, rfq=rfq)
        self.quote(rfq, self.s1, {"TOP-S": "100.00", "TIE": "19.00"})  # 1,000.00 + 190.00 = 1,190.00
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertEqual((award.status, award.total), (Award.Status.EFFECTIVE, Decimal("1190.00")))

    def test_an_unqualified_or_expired_supplier_cannot_be_awarded(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        services.supplier_suspend(actor=self.admin_clerk, supplier=self.s1, reason="品質投訴調查中")
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertIn("not qualified", " ".join(ctx.exception.message_dict["supplier"]))
        # S2's licence expired yesterday.
        SupplierCertificate.objects.filter(supplier=self.s2).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1))
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s2, reason="x")
        self.assertIn("expired", " ".join(ctx.exception.message_dict["supplier"]))
        self.assertFalse(Award.objects.exists())
        # A renewed licence, the old one withdrawn: S2 may be awarded again.
        services.certificate_add(actor=self.admin_clerk, supplier=self.s2, kind="business_licence", name="營業執照（換發）",
                                 expires_on=timezone.localdate() + datetime.timedelta(days=700))
        old = SupplierCertificate.objects.filter(supplier=self.s2, expires_on__lt=timezone.localdate()).get()
        services.certificate_withdraw(actor=self.admin_clerk, certificate=old, reason="已換發")
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s2, reason="S1 暫停，S2 次低")
        self.assertEqual(award.supplier, self.s2)

    def test_an_expired_quote_cannot_be_awarded(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        Quote.objects.filter(supplier=self.s1).update(valid_until=timezone.localdate() - datetime.timedelta(days=1),
                                                      received_on=timezone.localdate() - datetime.timedelta(days=9))
        with self.assertRaises(ValidationError) as ctx:
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertIn("expired", " ".join(ctx.exception.message_dict["supplier"]))

    def test_one_award_per_request(self):
        rfq = self.rfq_with_quotes(self.approved_plan())
        services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        with self.assertRaises(ValidationError):
            services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertEqual(Award.objects.count(), 1)

    def test_wrong_roles(self):
        plan = self.approved_plan()
        for user in (self.leadership, self.inspector, self.agent, self.hr):
            with self.assertRaises(PermissionDenied, msg=user.username):
                services.rfq_create(actor=user, plan=plan, suppliers=[self.s1, self.s2, self.s3])
        rfq = self.rfq_with_quotes(plan)
        for user in (self.leadership, self.agent, self.hr):
            with self.assertRaises(PermissionDenied):
                services.rfq_award(actor=user, rfq=rfq, supplier=self.s1)
            with self.assertRaises(PermissionDenied):
                services.rfq_next_round(actor=user, rfq=rfq)
        self.assertEqual(Invitation.objects.count(), 3)
