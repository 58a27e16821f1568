"""The procurement demo step (item 8): three suppliers and a spring plan carried through to receipt,
one line rejected and replaced; through the services, after the uniforms demo, and idempotent."""

from django.test import TestCase, override_settings

from kefu.core.models import AuditEntry
from kefu.core.registry import demo_steps, workbench
from kefu.people.demo import build_demo
from kefu.procurement.demo import AUTUMN_TITLE, SPRING_TITLE, build_procurement_demo
from kefu.procurement.models import (
    Award,
    PurchaseOrder,
    PurchasePlan,
    Quote,
    Receipt,
    Supplier,
    SupplierIssue,
)
from kefu.procurement.testing import MEDIA
from kefu.uniforms import services as uniforms
from kefu.uniforms.demo import build_catalogue_demo
from kefu.uniforms.models import StockMove


@override_settings(LANGUAGE_CODE="en", MEDIA_ROOT=MEDIA)
class ProcurementDemoTests(TestCase):
    def test_runs_after_the_uniforms_demo(self):
        steps = list(demo_steps.steps)
        self.assertLess(steps.index("uniforms.catalogue"), steps.index("procurement.spring_plan"))

    def test_without_the_catalogue_it_adds_nothing(self):
        build_demo(agents_per_team=2)
        self.assertEqual(build_procurement_demo(), {})
        self.assertFalse(Supplier.objects.exists())

    def test_a_spring_plan_to_receipt_once(self):
        report = build_demo(agents_per_team=3)
        build_catalogue_demo()
        created = build_procurement_demo()
        self.assertEqual(created, {"suppliers": 3, "purchase plans": 2, "purchase orders": 1, "receipts": 2})
        self.assertEqual(set(Supplier.objects.values_list("status", flat=True)), {"qualified"})
        spring = PurchasePlan.objects.get(title=SPRING_TITLE)
        self.assertEqual(spring.status, "approved")
        self.assertFalse(spring.needs_second_approval)
        self.assertEqual(PurchasePlan.objects.get(title=AUTUMN_TITLE).status, "submitted")
        # Two rounds of quotes from three suppliers (the third did not revise), the award to the lowest.
        self.assertEqual(Quote.objects.filter(round=1).count(), 3)
        self.assertEqual(Quote.objects.filter(round=2).count(), 2)
        award = Award.objects.get()
        self.assertTrue(award.is_lowest)
        self.assertEqual(award.supplier.code, "SUP-001")
        order = PurchaseOrder.objects.get()
        self.assertEqual(order.status, "closed")
        issue = SupplierIssue.objects.get()
        self.assertEqual((issue.status, issue.kind, issue.replacement_received), ("closed", "replace", issue.quantity))
        self.assertEqual(Receipt.objects.filter(status="posted").count(), 2)
        # Every unit ordered went into stock, at the order's prices.
        moves = StockMove.objects.filter(reference_type="procurement.receipt")
        self.assertEqual(sum(moves.values_list("quantity", flat=True)), sum(order.lines.values_list("quantity", flat=True)))
        self.assertEqual(uniforms.stock_level_mismatches(), [])
        self.assertTrue(AuditEntry.objects.filter(action="receipt.post").exists())
        # Leadership's workbench asks for the autumn plan.
        titles = [str(t.title) for t in workbench.todos(report.users["boss"])]
        self.assertIn("Purchase plans to approve", titles)
        # A second run adds nothing.
        self.assertEqual(build_procurement_demo(), {})
        self.assertEqual(PurchasePlan.objects.count(), 2)
