"""Suppliers (U1.2: reputable, qualified suppliers): qualifications, status flow, scans, and the
score from history worked out by hand."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.procurement import selectors, services
from kefu.procurement.models import Supplier, SupplierCertificate, SupplierContact
from kefu.procurement.testing import PNG, ProcurementTestCase, make_supplier, upload


class SupplierTests(ProcurementTestCase):
    def test_a_new_supplier_is_qualified_only_with_its_business_licence(self):
        supplier = services.supplier_create(actor=self.admin_clerk, code="s9", name="新廠",
                                            credit_code="91310000MA1FL1234X", contact={"name": "王經理"})
        self.assertEqual((supplier.code, supplier.status), ("S9", Supplier.Status.PENDING))
        self.assertEqual(SupplierContact.objects.get(supplier=supplier).is_primary, True)
        with self.assertRaises(ValidationError) as ctx:
            services.supplier_qualify(actor=self.admin_clerk, supplier=supplier)
        self.assertIn("business licence", " ".join(ctx.exception.message_dict["status"]))
        services.certificate_add(actor=self.admin_clerk, supplier=supplier, kind="business_licence", name="營業執照",
                                 scan=upload("licence.png", PNG, "image/png"))  # no expiry date: long-term licence
        supplier = services.supplier_qualify(actor=self.admin_clerk, supplier=supplier)
        self.assertEqual(supplier.status, Supplier.Status.QUALIFIED)
        self.assertEqual(selectors.supplier_problems(supplier, on=timezone.localdate()), [])

    def test_bad_input_names_the_field(self):
        with self.assertRaises(ValidationError) as ctx:
            services.supplier_create(actor=self.admin_clerk, code="S9", name="x", credit_code="123")
        self.assertIn("credit_code", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.supplier_create(actor=self.admin_clerk, code="S1", name="重複")
        self.assertIn("code", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.certificate_add(actor=self.admin_clerk, supplier=self.s1, kind="quality", name="ISO",
                                     issued_on=datetime.date(2026, 5, 1), expires_on=datetime.date(2026, 4, 1))
        self.assertIn("expires_on", ctx.exception.message_dict)
        for name, content in (("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)), ("x.pdf", b"<html>"), ("e.pdf", b"")):
            with self.assertRaises(ValidationError, msg=name) as ctx:
                services.certificate_add(actor=self.admin_clerk, supplier=self.s1, kind="quality", name="ISO",
                                         scan=upload(name, content))
            self.assertIn("scan", ctx.exception.message_dict)
        self.assertEqual(SupplierCertificate.objects.filter(supplier=self.s1).count(), 1)

    def test_status_flow_needs_reasons_and_follows_its_arrows(self):
        with self.assertRaises(ValidationError) as ctx:
            services.supplier_suspend(actor=self.admin_clerk, supplier=self.s1, reason="")
        self.assertIn("reason", ctx.exception.message_dict)
        s1 = services.supplier_suspend(actor=self.admin_clerk, supplier=self.s1, reason="交期延誤")
        with self.assertRaises(ValidationError):
            services.supplier_suspend(actor=self.admin_clerk, supplier=s1, reason="again")
        with self.assertRaises(ValidationError) as ctx:  # reinstating a suspended supplier needs a reason
            services.supplier_qualify(actor=self.admin_clerk, supplier=s1)
        s1 = services.supplier_qualify(actor=self.admin_clerk, supplier=s1, reason="整改完成")
        s1 = services.supplier_blacklist(actor=self.admin_clerk, supplier=s1, reason="偽造檢測報告")
        with self.assertRaises(ValidationError):  # blacklisted is not qualified again directly
            services.supplier_qualify(actor=self.admin_clerk, supplier=s1, reason="x")
        s1 = services.supplier_blacklist_lift(actor=self.admin_clerk, supplier=s1, reason="法院判決撤銷")
        self.assertEqual(s1.status, Supplier.Status.PENDING)

    def test_expired_certificate_makes_a_supplier_ineligible_until_withdrawn(self):
        cert = services.certificate_add(actor=self.admin_clerk, supplier=self.s1, kind="production", name="生產許可證",
                                        expires_on=timezone.localdate() - datetime.timedelta(days=3))
        today = timezone.localdate()
        self.assertNotIn(self.s1, selectors.eligible_suppliers(on=today))
        self.assertIn("生產許可證", " ".join(selectors.supplier_problems(self.s1, on=today)))
        with self.assertRaises(ValidationError):
            services.certificate_withdraw(actor=self.admin_clerk, certificate=cert, reason="")
        services.certificate_withdraw(actor=self.admin_clerk, certificate=cert, reason="已不生產該類產品")
        self.assertIn(self.s1, selectors.eligible_suppliers(on=today))
        # A certificate expiring tomorrow is still good today, and not tomorrow+1.
        services.certificate_add(actor=self.admin_clerk, supplier=self.s2, kind="quality", name="ISO 9001",
                                 expires_on=today + datetime.timedelta(days=1))
        self.assertIn(self.s2, selectors.eligible_suppliers(on=today + datetime.timedelta(days=1)))
        self.assertNotIn(self.s2, selectors.eligible_suppliers(on=today + datetime.timedelta(days=2)))

    def test_contacts(self):
        contact = services.contact_add(actor=self.admin_clerk, supplier=self.s1, name="李業務", phone="138", is_primary=True)
        self.assertEqual(list(SupplierContact.objects.filter(supplier=self.s1, is_primary=True)), [contact])
        with self.assertRaises(ValidationError) as ctx:
            services.contact_add(actor=self.admin_clerk, supplier=self.s1, name="x", email="not-an-email")
        self.assertIn("email", ctx.exception.message_dict)
        services.contact_remove(actor=self.admin_clerk, contact=contact, reason="離職")
        self.assertFalse(SupplierContact.objects.filter(pk=contact.pk).exists())

    def test_only_admin_staff_write(self):
        for user in (self.leadership, self.inspector, self.hr, self.agent):
            with self.assertRaises(PermissionDenied, msg=user.username):
                services.supplier_create(actor=user, code="X1", name="x")
            with self.assertRaises(PermissionDenied):
                services.supplier_suspend(actor=user, supplier=self.s1, reason="x")
            with self.assertRaises(PermissionDenied):
                services.supplier_qualify(actor=user, supplier=self.s1)
            with self.assertRaises(PermissionDenied):
                services.certificate_add(actor=user, supplier=self.s1, kind="quality", name="x")
        self.assertEqual(Supplier.objects.get(pk=self.s1.pk).status, Supplier.Status.QUALIFIED)


class ScoreTests(ProcurementTestCase):
    """S1 is awarded the default plan (quotes: S1 95/18, S2 98/17, S3 99/19). It delivers 10 tops on
    time (8 accepted) and 10 ties late (all accepted)."""

    def setUp(self) -> None:
        super().setUp()
        order = self.issued_order()
        order.lines.filter(sku__code="TIE-M").update(delivery_date=timezone.localdate() - datetime.timedelta(days=5))
        self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 8, "quality_ok": False, "notes": "污漬"},
                             "TIE-M": 10})

    def scored(self) -> dict[str, selectors.Score]:
        return {s.code: selectors.score_of(s) for s in selectors.suppliers_with_history(Supplier.objects.all())}

    def test_scores_by_hand(self):
        scores = self.scored()
        s1 = scores["S1"]
        # On time: 10 of 20 delivered units; passed: 18 of 20.
        self.assertEqual((s1.on_time_rate, s1.pass_rate), (Decimal("0.500"), Decimal("0.900")))
        # Price: top 95 / avg(95, 98, 99) = 95 / 97.333 = 0.97603; tie 18 / avg(18, 17, 19) = 1.00000;
        # mean 0.98801 → index 0.99, at or below the average: the price part is full.
        self.assertEqual(s1.price_index, Decimal("0.99"))
        # 100 × (0.4 × 0.5 + 0.4 × 0.9 + 0.2 × 1) = 76.0
        self.assertEqual(s1.score, Decimal("76.0"))
        # S3 has no deliveries: the price alone. Top 99 / 97.333 = 1.01712; tie 19 / 18 = 1.05556;
        # mean 1.03634 → price part 2 − 1.0363 = 0.9637 → score 96.4 (index shown 1.04).
        s3 = scores["S3"]
        self.assertEqual((s3.on_time_rate, s3.pass_rate, s3.price_index, s3.score),
                         (None, None, Decimal("1.04"), Decimal("96.4")))
        # Quote lines without competitors do not count; a supplier without history has no score.
        nobody = make_supplier(self.admin_clerk, "S8", "新供應商")
        self.assertEqual(selectors.score_of(selectors.suppliers_with_history(Supplier.objects.filter(pk=nobody.pk)).get()),
                         selectors.Score(None, None, None, None))

    def test_drafts_do_not_count(self):
        order = self.issued_order()
        self.deliver(order, {"TIE-M": 10}, post=False)
        self.assertEqual(self.scored()["S1"].on_time_rate, Decimal("0.500"))


class CertificateFormTests(ProcurementTestCase):
    def test_the_certificate_form_saves_once_and_refuses_other_files(self):
        from django.test import override_settings
        from django.urls import reverse

        from kefu.procurement.testing import MEDIA

        url = reverse("procurement:certificate_add", args=["S2"])
        with override_settings(MEDIA_ROOT=MEDIA):
            self.login(self.admin_clerk)
            token = self.client.get(url).context["form"]["token"].value()
            data = {"token": token, "kind": "quality", "name": "ISO 9001", "number": "Q-1", "issued_on": "",
                    "expires_on": "2028-01-31"}
            response = self.client.post(url, {**data, "scan": upload("x.txt", b"hello", "text/plain")})
            self.assertEqual(response.status_code, 200)
            self.assertIn("scan", response.context["form"].errors)
            for _n in range(2):  # the same form sent twice
                response = self.client.post(url, {**data, "scan": upload("iso.png", PNG, "image/png")})
                self.assertEqual(response.status_code, 302)
        certs = SupplierCertificate.objects.filter(supplier=self.s2, kind="quality")
        self.assertEqual(list(certs.values_list("name", "scan_type", "expires_on")),
                         [("ISO 9001", "image/png", datetime.date(2028, 1, 31))])
