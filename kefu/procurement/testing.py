"""Procurement test fixtures on top of the uniforms catalogue (UniformsTestCase).

    class MyTests(ProcurementTestCase):
        def test_x(self):
            plan = self.approved_plan()
            rfq = self.rfq_with_quotes(plan)

Three qualified suppliers with a business licence valid for years (``self.s1``, ``s2``, ``s3``),
a second leader (``self.leader2``) for the second approval, and helpers that carry a plan
through its steps with the services, as the pages do.
"""

from __future__ import annotations

import datetime
import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from kefu.people.models import Role
from kefu.people.testing import make_person
from kefu.procurement import services
from kefu.procurement.models import (
    PlanLine,
    PlanLineSize,
    PurchaseOrder,
    PurchasePlan,
    Rfq,
    Supplier,
    SupplierCertificate,
)
from kefu.uniforms.testing import UniformsTestCase

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"

MEDIA = tempfile.mkdtemp(prefix="kefu-procurement-test-media-")


def upload(name: str = "scan.pdf", content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def make_supplier(actor, code: str, name: str, *, qualified: bool = True, expires_on: datetime.date | None = None,
                  credit_code: str = "") -> Supplier:
    supplier = services.supplier_create(actor=actor, code=code, name=name, credit_code=credit_code,
                                        contact={"name": f"{name} 聯絡人", "phone": "021-5555-0000"})
    services.certificate_add(actor=actor, supplier=supplier, kind=SupplierCertificate.Kind.BUSINESS_LICENCE,
                             name="營業執照", number=f"LIC-{code}",
                             expires_on=expires_on or timezone.localdate() + datetime.timedelta(days=3 * 365),
                             scan=upload())
    if qualified:
        supplier = services.supplier_qualify(actor=actor, supplier=supplier)
    return supplier


@override_settings(MEDIA_ROOT=MEDIA)
class ProcurementTestCase(UniformsTestCase):
    # Set in setUpTestData (KefuTestCase's named people, and ours).
    admin_clerk: Any
    leadership: Any
    company: Any
    leader2: Any
    s1: Supplier
    s2: Supplier
    s3: Supplier

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.leader2 = make_person("boss2", "錢副總", cls.company, (Role.LEADERSHIP, cls.company),
                                  employee_no="CO0002", gender="M")
        cls.s1 = make_supplier(cls.admin_clerk, "S1", "華美製衣")
        cls.s2 = make_supplier(cls.admin_clerk, "S2", "錦繡服飾")
        cls.s3 = make_supplier(cls.admin_clerk, "S3", "恒達紡織")

    # --- plans -------------------------------------------------------------------------------------

    def draft_plan(self, *, hires: int = 0, styles: list[str] | None = None, prices: dict[str, str] | None = None,
                   quantities: dict[str, int] | None = None, **kwargs: Any) -> PurchasePlan:
        """A spring plan for 2027 with lines for ``styles`` (codes; default TOP-S and TIE), each size's
        quantity from ``quantities`` (SKU code → n; default 10 of size M only) and target prices."""
        data: dict[str, Any] = {"title": "2027 春季制服採購", "season": "spring", "year": 2027,
                "horizon_start": datetime.date(2027, 3, 1), "horizon_end": datetime.date(2027, 8, 31),
                "expected_new_hires": hires} | kwargs
        plan = services.plan_create(actor=self.admin_clerk, propose=False, **data)
        codes = styles or ["TOP-S", "TIE"]
        services.plan_propose(actor=self.admin_clerk, plan=plan, add_styles=[self.styles[c] for c in codes])
        quantities = quantities if quantities is not None else {f"{c}-M": 10 for c in codes}
        prices = prices or {"TOP-S": "100.00", "TIE": "20.00", "TRS": "120.00", "SKT": "110.00", "SCF": "30.00"}
        for line in PlanLine.objects.filter(plan=plan).select_related("style"):
            sizes = {s.sku_id: quantities.get(s.sku.code, 0) for s in PlanLineSize.objects.filter(line=line)
                     .select_related("sku")}
            services.plan_line_update(actor=self.admin_clerk, line=line, quantities=sizes,
                                      target_unit_price=prices[line.style.code])
        plan.refresh_from_db()
        return plan

    def approved_plan(self, **kwargs: Any) -> PurchasePlan:
        plan = self.draft_plan(**kwargs)
        plan = services.plan_submit(actor=self.admin_clerk, plan=plan)
        plan = services.plan_approve(actor=self.leadership, plan=plan)
        if plan.status == PurchasePlan.Status.AWAITING_SECOND:
            plan = services.plan_approve(actor=self.leader2, plan=plan)
        return plan

    def line(self, plan: PurchasePlan, style_code: str) -> PlanLine:
        return PlanLine.objects.get(plan=plan, style__code=style_code)

    # --- quotations --------------------------------------------------------------------------------

    def quote(self, rfq: Rfq, supplier: Supplier, prices: dict[str, str], *, lead: int = 20,
              valid_days: int = 30) -> Any:
        today = timezone.localdate()
        lines = {self.line(rfq.plan, code).pk: (price, lead) for code, price in prices.items()}
        return services.quote_record(actor=self.admin_clerk, rfq=rfq, supplier=supplier, received_on=today,
                                     valid_until=today + datetime.timedelta(days=valid_days), lines=lines)

    def rfq_with_quotes(self, plan: PurchasePlan, quotes: dict[str, dict[str, str]] | None = None) -> Rfq:
        """Invite S1-S3 and record their quotes (default: S1 cheapest, S2, S3 dearer)."""
        rfq = services.rfq_create(actor=self.admin_clerk, plan=plan, suppliers=[self.s1, self.s2, self.s3])
        quotes = quotes if quotes is not None else {
            "S1": {"TOP-S": "95.00", "TIE": "18.00"},
            "S2": {"TOP-S": "98.00", "TIE": "17.00"},
            "S3": {"TOP-S": "99.00", "TIE": "19.00"},
        }
        for code, prices in quotes.items():
            self.quote(rfq, Supplier.objects.get(code=code), prices)
        rfq.refresh_from_db()
        return rfq

    def issued_order(self, plan: PurchasePlan | None = None, **plan_kwargs: Any) -> PurchaseOrder:
        plan = plan or self.approved_plan(**plan_kwargs)
        rfq = self.rfq_with_quotes(plan)
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        order = award.order
        services.order_update(actor=self.admin_clerk, order=order, delivery_address="上海市浦東新區客服中心",
                              quality_standard="GB/T 2660-2017 襯衫")
        return services.order_issue(actor=self.admin_clerk, order=order)

    def deliver(self, order: PurchaseOrder, lines: dict[str, dict[str, Any] | int], *, post: bool = True,
                delivered_on: datetime.date | None = None, **kwargs: Any):
        """A receipt on ``order``: SKU code → delivered count (all accepted) or a line dict."""
        rows = []
        by_sku = {line.sku.code: line for line in order.lines.select_related("sku")}
        for code, data in lines.items():
            row: dict[str, Any] = {"delivered": data} if isinstance(data, int) else dict(data)
            row["order_line"] = by_sku[code]
            rows.append(row)
        return services.receipt_create(actor=self.admin_clerk, order=order, lines=rows, post=post,
                                       delivered_on=delivered_on or timezone.localdate(), **kwargs)

