"""Leaving (issue 6 item 8): offboarding lists what she holds; returns are checked in."""

import datetime

from django.core.exceptions import ValidationError
from django.urls import reverse

from kefu.core.models import Notification
from kefu.core.registry import workbench
from kefu.people import services as people
from kefu.uniforms import services
from kefu.uniforms.models import Holding, ReturnLine, StockLevel, StockMove
from kefu.uniforms.testing import UniformsTestCase

D = datetime.date
LEAVERS_TODO = "Leavers whose uniforms are not checked in"


class LeavingTests(UniformsTestCase):
    def setUp(self) -> None:
        emp = self.agent.employee
        self.tie, = services.holding_register(actor=self.admin_clerk, employee=emp, sku=self.tie_m, quantity=1,
                                              issued_on=D(2024, 3, 1))
        self.top, = services.holding_register(actor=self.admin_clerk, employee=emp, sku=self.top_m, quantity=1,
                                              issued_on=D(2024, 3, 1))
        self.trs, = services.holding_register(actor=self.admin_clerk, employee=emp, sku=self.trs_m, quantity=1,
                                              issued_on=D(2024, 3, 1))

    def todo_titles(self, user) -> list[str]:
        return [str(t.title) for t in workbench.todos(user)]

    def test_offboarding_tells_admin_staff_what_she_holds(self):
        people.employee_offboard(actor=self.hr, employee=self.agent.employee, leave_date=D(2025, 8, 31))
        note = Notification.objects.get(recipient=self.admin_clerk)
        self.assertIn("王小美", note.title)
        self.assertIn("3", note.title)
        for code in ("TIE-M", "TOP-S-M", "TRS-M"):
            self.assertIn(code, note.body)
        self.assertEqual(note.url, reverse("uniforms:return_check_in", args=["CS1001"]))
        self.assertIn(LEAVERS_TODO, self.todo_titles(self.admin_clerk))
        self.assertNotIn(LEAVERS_TODO, self.todo_titles(self.dept_head))

    def test_offboarding_someone_holding_nothing_sends_nothing(self):
        people.employee_offboard(actor=self.hr, employee=self.other_agent.employee, leave_date=D(2025, 8, 31))
        self.assertFalse(Notification.objects.exists())

    def test_check_in_restocks_reusables_scraps_the_rest_and_marks_the_missing_lost(self):
        people.employee_offboard(actor=self.hr, employee=self.agent.employee, leave_date=D(2025, 8, 31))
        check_in = services.return_check_in(
            actor=self.admin_clerk, employee=self.agent.employee, on=D(2025, 9, 1),
            lines=[{"holding": self.tie, "outcome": ReturnLine.Outcome.RESTOCK},
                   {"holding": self.top, "outcome": ReturnLine.Outcome.SCRAP, "note": "stained"},
                   {"holding": self.trs, "outcome": ReturnLine.Outcome.NOT_RETURNED}])
        statuses = dict(Holding.objects.values_list("pk", "status"))
        self.assertEqual((statuses[self.tie.pk], statuses[self.top.pk], statuses[self.trs.pk]),
                         ("returned", "scrapped", "lost"))
        self.assertEqual(set(Holding.objects.values_list("ended_on", flat=True)), {D(2025, 9, 1)})
        # Only the reusable tie went back to stock, into the used-stock location.
        move = StockMove.objects.get()
        self.assertEqual((move.kind, move.sku_id, move.location_id, move.quantity, move.reference_id),
                         ("return", self.tie_m.pk, self.used.pk, 1, str(check_in.pk)))
        self.assertEqual(StockLevel.objects.get(sku=self.tie_m, location=self.used).on_hand, 1)
        self.assertNotIn(LEAVERS_TODO, self.todo_titles(self.admin_clerk))

    def test_nothing_is_half_saved_when_one_line_is_wrong(self):
        other, = services.holding_register(actor=self.admin_clerk, employee=self.other_agent.employee,
                                           sku=self.tie_m, quantity=1, issued_on=D(2024, 3, 1))
        with self.assertRaises(ValidationError) as ctx:
            services.return_check_in(actor=self.admin_clerk, employee=self.agent.employee, lines=[
                {"holding": self.tie, "outcome": "restock"}, {"holding": other, "outcome": "scrap"}])
        self.assertIn(f"Item {other.pk} is not one of 王小美's", ctx.exception.messages[0])
        self.assertEqual(Holding.objects.filter(status="held").count(), 4)
        self.assertFalse(StockMove.objects.exists())

    def test_an_item_is_checked_in_once(self):
        services.return_check_in(actor=self.admin_clerk, employee=self.agent.employee,
                                 lines=[{"holding": self.tie, "outcome": "restock"}])
        with self.assertRaises(ValidationError) as ctx:
            services.return_check_in(actor=self.admin_clerk, employee=self.agent.employee,
                                     lines=[{"holding": self.tie, "outcome": "restock"}])
        self.assertIn("already", ctx.exception.messages[0])
        self.assertEqual(StockMove.objects.count(), 1)

    def test_check_in_page(self):
        people.employee_offboard(actor=self.hr, employee=self.agent.employee, leave_date=D(2025, 8, 31))
        url = reverse("uniforms:return_check_in", args=["CS1001"])
        self.assertStatus(self.dept_head, "get", url, 403)  # sees her, may not check in
        self.assertStatus(self.other_agent, "get", url, 404)
        self.assertStatus(None, "get", url, 302)
        self.login(self.admin_clerk)
        listing = self.client.get(reverse("uniforms:returns"))
        self.assertContains(listing, "王小美")
        response = self.client.post(url, {
            "checked_in_on": "2025-09-02", "location": self.used.pk, "note": "",
            f"outcome_{self.tie.pk}": "restock", f"outcome_{self.top.pk}": "scrap", f"outcome_{self.trs.pk}": "",
        })
        self.assertRedirects(response, url)
        self.assertEqual(Holding.objects.get(pk=self.trs.pk).status, "held")  # "not yet": still to come
        self.assertEqual(Holding.objects.get(pk=self.top.pk).status, "scrapped")
        listing = self.client.get(reverse("uniforms:returns"))
        self.assertContains(listing, "王小美")  # one item still out
