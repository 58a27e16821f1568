"""Workbench to-dos of procurement: leadership's plans and awards to approve; admin staff's returned
plans, quotes awaited, orders to issue or due, receipts to post and open supplier issues."""

import datetime

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kefu.procurement import services, todos
from kefu.procurement.testing import MEDIA, ProcurementTestCase


def titled(items) -> dict[str, int]:
    return {str(t.title): t.count for t in items}


@override_settings(MEDIA_ROOT=MEDIA, LANGUAGE_CODE="en")
class TodoTests(ProcurementTestCase):
    def test_leadership_sees_plans_waiting_for_her_and_not_after_deciding(self):
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        self.assertEqual(titled(todos.plans_to_approve(self.leadership)), {"Purchase plans to approve": 1})
        self.assertEqual(todos.plans_to_approve(self.admin_clerk), [])
        services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(todos.plans_to_approve(self.leadership), [])

    def test_second_approval_is_on_the_other_leaders_workbench_only(self):
        from kefu.core import services as core_services

        core_services.policy_set(key="procurement.second_approval_amount", value="100.00",
                                 effective_from=timezone.localdate(), actor=self.sysadmin)
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(todos.plans_to_approve(self.leadership), [])
        self.assertEqual(titled(todos.plans_to_approve(self.leader2)), {"Purchase plans to approve": 1})

    def test_over_budget_award_waits_for_leadership(self):
        rfq = self.rfq_with_quotes(self.approved_plan(), {
            "S1": {"TOP-S": "130.00", "TIE": "20.00"}, "S2": {"TOP-S": "131.00", "TIE": "20.00"},
            "S3": {"TOP-S": "132.00", "TIE": "20.00"}})
        services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertEqual(titled(todos.awards_to_approve(self.leadership)), {"Awards over budget to approve": 1})
        self.assertEqual(todos.awards_to_approve(self.agent), [])

    def test_admin_staffs_work(self):
        self.assertEqual(todos.admin_todos(self.admin_clerk), [])
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        services.plan_return(actor=self.leadership, plan=plan, comment="請補充說明")
        other = self.approved_plan()
        rfq = services.rfq_create(actor=self.admin_clerk, plan=other, suppliers=[self.s1, self.s2, self.s3])
        self.quote(rfq, self.s1, {"TOP-S": "95.00", "TIE": "18.00"})
        self.assertEqual(titled(todos.admin_todos(self.admin_clerk)), {
            "Purchase plans returned for changes": 1, "Requests for quotation with quotes awaited": 1})
        self.quote(rfq, self.s2, {"TOP-S": "96.00", "TIE": "18.00"})
        self.quote(rfq, self.s3, {"TOP-S": "97.00", "TIE": "18.00"})
        award = services.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1)
        self.assertIn("Purchase orders to issue", titled(todos.admin_todos(self.admin_clerk)))
        order = award.order
        services.order_update(actor=self.admin_clerk, order=order, delivery_address="上海", quality_standard="GB")
        services.order_issue(actor=self.admin_clerk, order=order)
        self.assertNotIn("Purchase orders due for delivery", titled(todos.admin_todos(self.admin_clerk)))  # in 20 days
        order.lines.filter(sku__code="TIE-M").update(delivery_date=timezone.localdate() - datetime.timedelta(days=1))
        due = next(t for t in todos.admin_todos(self.admin_clerk) if str(t.title) == "Purchase orders due for delivery")
        self.assertTrue(due.late)
        self.deliver(order, {"TOP-S-M": {"delivered": 10, "accepted": 9, "quality_ok": False, "notes": "脫線"}})
        self.deliver(order, {"TIE-M": 10}, post=False)
        work = titled(todos.admin_todos(self.admin_clerk))
        self.assertEqual((work["Receipts to check and post"], work["Open supplier issues"]), (1, 1))
        # Leadership and inspectors get none of admin's work.
        self.assertEqual(todos.admin_todos(self.leadership), [])
        self.assertEqual(todos.admin_todos(self.inspector), [])

    def test_the_workbench_page_lists_them(self):
        services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        self.login(self.leadership)
        response = self.client.get(reverse("core:workbench"))
        self.assertContains(response, "Purchase plans to approve")
        self.assertContains(response, reverse("procurement:plans") + "?status=pending")
