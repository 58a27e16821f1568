"""Issuance (U2.2): admin staff issue an approved requisition from stock, partly when stock is
short (the rest back-ordered and issued later), the issuance record keeps the snapshots, she
confirms receipt; holdings and the new-hire entitlement follow."""

from __future__ import annotations

import datetime
import re
import threading
from decimal import Decimal
from unittest import skipUnless

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEntry, Notification
from kefu.core.registry import workbench
from kefu.people import services as people
from kefu.people.models import Employee, Role
from kefu.people.testing import build_company, make_person
from kefu.uniforms import services
from kefu.uniforms.models import Entitlement, Holding, Issuance, Requisition, StockLevel
from kefu.uniforms.testing import build_catalogue
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date


class IssueTestCase(RequisitionTestCase):
    def setUp(self) -> None:
        self.entitlement = self.grant(2)
        self.requisition = self.new_hire([(self.top_m, 2), (self.trs_m, 2), (self.tie_m, 2)])
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)

    def on_hand(self, sku) -> int:
        return StockLevel.objects.get(sku=sku, location=self.main).on_hand


class IssueTests(IssueTestCase):
    def test_a_full_issue_keeps_the_snapshots_and_creates_holdings(self):
        self.receive(self.top_m, 5, "80.00")
        self.receive(self.trs_m, 5, "60.00")
        self.receive(self.tie_m, 5, "20.00")
        issuance = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.ISSUED)
        # U2.2: name, department, style, quantity, date, and who issued.
        self.assertEqual(issuance.employee_name, "王小美")
        self.assertEqual(issuance.department_name, "客服一部 / 一部一組")
        self.assertEqual(issuance.issued_by, self.admin_clerk)
        self.assertEqual(timezone.localdate(issuance.issued_at), timezone.localdate())
        self.assertEqual(sorted((line.style_name, line.size_code, line.quantity, line.unit_cost)
                                for line in issuance.lines.all()),
                         [("夏季女襯衫", "M", 2, Decimal("80.00")), ("西褲", "M", 2, Decimal("60.00")),
                          ("領帶", "M", 2, Decimal("20.00"))])
        self.assertEqual((self.on_hand(self.top_m), self.on_hand(self.trs_m), self.on_hand(self.tie_m)), (3, 3, 3))
        holdings = Holding.objects.filter(employee=self.agent_employee, status=Holding.Status.HELD)
        self.assertEqual(holdings.count(), 6)
        # Renewal date = issue date + 2 years (U4.1, the default cycle).
        today = timezone.localdate()
        self.assertEqual(set(holdings.values_list("renewal_due_on", flat=True)),
                         {services.add_months(today, 24)})
        self.entitlement.refresh_from_db()
        self.assertEqual(self.entitlement.sets_issued, 2)

    def test_short_stock_issues_what_there_is_and_back_orders_the_rest(self):
        self.receive(self.top_m, 1, "80.00")
        self.receive(self.tie_m, 5, "20.00")
        first = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.PARTIALLY_ISSUED)
        owed = {line.sku.code: (line.issued_quantity, line.backordered) for line in self.requisition.lines.all()}
        self.assertEqual(owed, {"TOP-S-M": (1, 1), "TRS-M": (0, 2), "TIE-M": (2, 0)})
        self.assertEqual(sum(line.quantity for line in first.lines.all()), 3)
        self.entitlement.refresh_from_db()
        self.assertEqual(self.entitlement.sets_issued, 0)  # no complete set yet: no trousers
        # Nothing more in stock: the next issue says so and changes nothing.
        with self.assertRaises(ValidationError):
            services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.assertEqual(Issuance.objects.count(), 1)
        # Stock arrives; the back-order is issued.
        self.receive(self.top_m, 3, "80.00")
        self.receive(self.trs_m, 3, "60.00")
        second = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.assertEqual(sorted((line.sku.code, line.quantity) for line in second.lines.all()),
                         [("TOP-S-M", 1), ("TRS-M", 2)])
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.ISSUED)
        self.assertEqual(sum(line.backordered for line in self.requisition.lines.all()), 0)
        self.entitlement.refresh_from_db()
        self.assertEqual(self.entitlement.sets_issued, 2)

    def test_nothing_in_stock_leaves_it_approved(self):
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.assertIn("location", ctx.exception.message_dict)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.APPROVED)

    def test_a_double_submitted_issue_form_issues_once(self):
        self.receive(self.top_m, 10, "80.00")
        first = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main,
                                           idempotency_key="form:k1")
        again = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main,
                                           idempotency_key="form:k1")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(self.on_hand(self.top_m), 8)

    def test_only_admin_staff_issue(self):
        self.receive(self.top_m, 10, "80.00")
        for user in (self.agent, self.dept_head, self.leadership, self.inspector):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.requisition_issue(actor=user, requisition=self.requisition, location=self.main)

    def test_a_submitted_requisition_cannot_be_issued(self):
        self.receive(self.scarf_m, 5, "30.00")
        waiting = services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                              reason=Requisition.Reason.EXTRA, lines=[(self.scarf_m, 1)],
                                              extra_reason="備用絲巾")
        with self.assertRaises(ValidationError):
            services.requisition_issue(actor=self.admin_clerk, requisition=waiting, location=self.main)

    def test_admin_cancels_a_back_order_with_a_reason(self):
        self.receive(self.top_m, 2, "80.00")
        services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        with self.assertRaises(ValidationError):
            services.requisition_close(actor=self.admin_clerk, requisition=self.requisition, reason="")
        with self.assertRaises(PermissionDenied):
            services.requisition_close(actor=self.agent, requisition=self.requisition, reason="不要了")
        services.requisition_close(actor=self.admin_clerk, requisition=self.requisition, reason="款式停產")
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.CLOSED)
        self.assertEqual(sum(line.backordered for line in self.requisition.lines.all()), 0)
        # A closed new-hire requisition claims only what was issued: 2 tops; the rest is free again.
        again = self.new_hire([(self.trs_m, 2), (self.tie_m, 2)])
        self.assertEqual(again.status, Requisition.Status.SUBMITTED)


class ReceiptTests(IssueTestCase):
    def test_she_confirms_receipt_and_the_requisition_is_received(self):
        for sku in (self.top_m, self.trs_m, self.tie_m):
            self.receive(sku, 5, "50.00")
        issuance = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__contains=issuance.number).exists())
        self.assertIn("Uniform receipts to confirm", [str(t.title) for t in workbench.todos(self.agent)])
        for user in (self.admin_clerk, self.dept_head):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.issuance_confirm_receipt(actor=user, issuance=issuance)
        services.issuance_confirm_receipt(actor=self.agent, issuance=issuance)
        services.issuance_confirm_receipt(actor=self.agent, issuance=issuance)  # twice: nothing more
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.RECEIVED)
        self.assertEqual(AuditEntry.objects.filter(action="issuance.confirm_receipt").count(), 1)
        self.assertNotIn("Uniform receipts to confirm", [str(t.title) for t in workbench.todos(self.agent)])

    def test_a_partly_issued_requisition_stays_open_after_receipt(self):
        self.receive(self.top_m, 1, "80.00")
        issuance = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        services.issuance_confirm_receipt(actor=self.agent, issuance=issuance)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.PARTIALLY_ISSUED)


class RenewalIssueTests(RequisitionTestCase):
    def test_a_renewal_ends_the_items_it_renews(self):
        today = timezone.localdate()
        old = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.top_m,
                                        quantity=2, issued_on=services.add_months(today, -24))
        requisition = services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                                  reason=Requisition.Reason.RENEWAL, lines=[(self.top_m, 1)])
        services.requisition_approve(actor=self.dept_head, requisition=requisition)
        self.receive(self.top_m, 3, "80.00")
        services.requisition_issue(actor=self.admin_clerk, requisition=requisition, location=self.main)
        statuses = sorted(Holding.objects.filter(pk__in=[h.pk for h in old]).values_list("status", flat=True))
        self.assertEqual(statuses, [Holding.Status.HELD, Holding.Status.SCRAPPED])
        # The second old top is still due and may be renewed now.
        services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                    reason=Requisition.Reason.RENEWAL, lines=[(self.top_m, 1)])


class OnboardingToIssueTests(RequisitionTestCase):
    def test_an_onboarded_cs_hire_can_ask_for_her_sets(self):
        hire = people.employee_create(actor=self.hr, employee_no="CS1099", name="新人甲", gender="F",
                                      hire_date=D(2026, 3, 2), org_unit=self.cs1_t1)
        people.employee_onboard(actor=self.hr, employee=hire, on=D(2026, 3, 2))
        ent = Entitlement.objects.get(employee=hire, reason=Entitlement.Reason.NEW_HIRE)
        self.assertEqual(ent.sets_owed, 2)  # U2.1 default
        requisition = services.requisition_create(actor=self.admin_clerk, employee=hire,
                                                  reason=Requisition.Reason.NEW_HIRE,
                                                  lines=[(self.top_m, 2), (self.skirt_m, 2), (self.scarf_m, 2)])
        self.assertEqual(requisition.entitlement, ent)


class IssuePageTests(IssueTestCase):
    def test_issue_page_admin_ok_agent_403_other_head_404(self):
        self.receive(self.top_m, 1, "80.00")
        url = reverse("uniforms:requisition_issue", args=[self.requisition.number])
        data = {"location": self.main.pk, "token": "t1"}
        self.assertStatus(self.agent, "post", url, 403, data)
        self.assertStatus(self.dept_head, "post", url, 403, data)
        self.assertStatus(self.cs2_head, "post", url, 404, data)
        self.assertStatus(None, "post", url, 302, data)
        self.assertFalse(Issuance.objects.exists())
        self.login(self.admin_clerk)
        response = self.client.post(url, data, follow=True)
        self.assertContains(response, "back-ordered")
        self.client.post(url, data)  # double submit: same token
        self.assertEqual(Issuance.objects.count(), 1)

    def test_detail_shows_the_issue_form_only_to_admin_staff(self):
        url = reverse("uniforms:requisition_detail", args=[self.requisition.number])
        self.login(self.admin_clerk)
        self.assertContains(self.client.get(url), 'data-testid="issue-form"')
        self.login(self.agent)
        self.assertNotContains(self.client.get(url), 'data-testid="issue-form"')

    def test_backorder_page_lists_what_is_owed_for_admin_only(self):
        self.receive(self.top_m, 1, "80.00")
        services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        url = reverse("uniforms:backorders")
        for user in (self.agent, self.dept_head, self.leadership):
            self.assertStatus(user, "get", url, 403)
        self.login(self.admin_clerk)
        response = self.client.get(url)
        rows = re.findall(r'data-testid="backorder-row"', response.content.decode())
        self.assertEqual(len(rows), 3)  # 1 top, 2 trousers, 2 ties owed
        self.assertIn("Uniform back-orders to issue", [str(t.title) for t in workbench.todos(self.admin_clerk)])

    def test_issuance_pages_and_receipt_button(self):
        self.receive(self.top_m, 5, "80.00")
        issuance = services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        detail = reverse("uniforms:issuance_detail", args=[issuance.number])
        confirm = reverse("uniforms:issuance_confirm", args=[issuance.number])
        for user, status in ((self.agent, 200), (self.admin_clerk, 200), (self.dept_head, 200),
                             (self.other_agent, 404), (self.cs2_head, 404)):
            self.assertStatus(user, "get", detail, status)
        self.assertStatus(self.admin_clerk, "post", confirm, 403)
        self.assertStatus(self.other_agent, "post", confirm, 404)
        self.login(self.agent)
        self.assertContains(self.client.get(detail), 'data-testid="confirm-receipt"')
        self.client.post(confirm)
        issuance.refresh_from_db()
        self.assertIsNotNone(issuance.receipt_confirmed_at)

    def test_issuance_list_scope_and_fixed_queries(self):
        for sku in (self.top_m, self.trs_m, self.tie_m):
            self.receive(sku, 50, "10.00")
        services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        url = reverse("uniforms:issuance_list")
        self.login(self.other_agent)
        self.assertContains(self.client.get(url), 'data-testid="empty-state"')
        self.login(self.admin_clerk)
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(5):
            r = services.requisition_create(actor=self.admin_clerk, employee=self.other_employee,
                                            reason=Requisition.Reason.EXTRA, lines=[(self.top_m, 1)],
                                            extra_reason=f"備用{i}")
            services.requisition_approve(actor=self.cs2_head, requisition=r)
            services.requisition_issue(actor=self.admin_clerk, requisition=r, location=self.main)
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(url)
        self.assertEqual(len(re.findall(r'data-testid="issuance-row"', response.content.decode())), 6)
        self.assertEqual(len(few), len(many))

    def test_backorder_list_runs_a_fixed_number_of_queries(self):
        """Issue 9: the back-order list reads the same number of queries for 3 owed lines as for 11."""
        self.receive(self.top_m, 1, "10.00")  # 1 of the 2 tops on hand, no trousers, no ties: 3 lines owed
        services.requisition_issue(actor=self.admin_clerk, requisition=self.requisition, location=self.main)
        url = reverse("uniforms:backorders")
        self.login(self.admin_clerk)
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            response = self.client.get(url)
        self.assertEqual(len(re.findall(r'data-testid="backorder-row"', response.content.decode())), 3)
        for i in range(4):
            self.receive(self.top_m, 1, "10.00")
            r = services.requisition_create(actor=self.admin_clerk, employee=self.other_employee,
                                            reason=Requisition.Reason.EXTRA, lines=[(self.top_m, 2), (self.trs_m, 1)],
                                            extra_reason=f"備用{i}")
            services.requisition_approve(actor=self.cs2_head, requisition=r)
            services.requisition_issue(actor=self.admin_clerk, requisition=r, location=self.main)
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(url)
        self.assertEqual(len(re.findall(r'data-testid="backorder-row"', response.content.decode())), 3 + 4 * 2)
        self.assertEqual(len(few), len(many))


@skipUnless(connection.vendor == "postgresql",
            "row locks are a PostgreSQL matter; SQLite serialises every writer on the database file")
class ParallelIssueTests(TransactionTestCase):
    """Double clicks and two clerks at once (PostgreSQL): one issue per requisition, no deadlock when
    requisitions with the same SKUs in different orders compete for the last units."""

    def setUp(self) -> None:
        self.c = build_company()
        self.cat = build_catalogue(self.c.admin_clerk)
        self.clerk2 = make_person("clerk2", "陳行政", self.c.admin_dept, (Role.ADMIN_STAFF, self.c.company),
                                  employee_no="AD0009")
        self.agent = Employee.objects.get(user=self.c.agent)
        self.other = Employee.objects.get(user=self.c.teammate_other_team)

    def approved(self, employee, lines) -> Requisition:
        r = services.requisition_create(actor=self.c.admin_clerk, employee=employee, reason=Requisition.Reason.EXTRA,
                                        lines=lines, extra_reason="並發測試")
        return services.requisition_approve(actor=self.c.dept_head, requisition=r)

    def fire(self, jobs) -> tuple[list[object], list[BaseException], list[BaseException]]:
        start = threading.Barrier(len(jobs))
        lock = threading.Lock()
        done: list[object] = []
        refused: list[BaseException] = []
        errors: list[BaseException] = []

        def run(job) -> None:
            try:
                start.wait()
                result = job()
                with lock:
                    done.append(result)
            except ValidationError as e:
                with lock:
                    refused.append(e)
            except BaseException as e:  # deadlocks, integrity errors
                errors.append(e)
            finally:
                connection.close()

        workers = [threading.Thread(target=run, args=(job,)) for job in jobs]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return done, refused, errors

    def test_two_clerks_issuing_one_requisition_issue_it_once(self):
        top, tie = self.cat["sku"]["TOP-S-M"], self.cat["sku"]["TIE-M"]
        for sku in (top, tie):
            services.stock_receive(actor=self.c.admin_clerk, sku=sku, location=self.cat["main"], quantity=10,
                                   unit_cost="10.00")
        r = self.approved(self.agent, [(top, 2), (tie, 1)])
        done, refused, errors = self.fire([
            lambda user=user: services.requisition_issue(actor=user, requisition=r, location=self.cat["main"])
            for user in (self.c.admin_clerk, self.clerk2, self.c.admin_clerk, self.clerk2)])
        self.assertEqual(errors, [])
        self.assertEqual((len(done), len(refused)), (1, 3))
        self.assertEqual(Issuance.objects.count(), 1)
        self.assertEqual(Holding.objects.count(), 3)
        self.assertEqual(StockLevel.objects.get(sku=top, location=self.cat["main"]).on_hand, 8)

    def test_competing_requisitions_share_the_last_units_without_deadlock(self):
        top, tie = self.cat["sku"]["TOP-S-M"], self.cat["sku"]["TIE-M"]
        for sku in (top, tie):
            services.stock_receive(actor=self.c.admin_clerk, sku=sku, location=self.cat["main"], quantity=3,
                                   unit_cost="10.00")
        # Lines in opposite orders: without the up-front SKU locks this is the classic deadlock.
        a = self.approved(self.agent, [(tie, 2), (top, 2)])
        b = self.approved(self.other, [(top, 2), (tie, 2)])
        done, refused, errors = self.fire([
            lambda: services.requisition_issue(actor=self.c.admin_clerk, requisition=a, location=self.cat["main"]),
            lambda: services.requisition_issue(actor=self.clerk2, requisition=b, location=self.cat["main"])])
        self.assertEqual((errors, refused, len(done)), ([], [], 2))
        for sku in (top, tie):
            self.assertEqual(StockLevel.objects.get(sku=sku, location=self.cat["main"]).on_hand, 0)
        # 3 of each went out: one requisition got 2 and 2, the other 1 and 1 with the rest back-ordered.
        statuses = sorted(Requisition.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
        self.assertEqual(statuses, [Requisition.Status.ISSUED, Requisition.Status.PARTIALLY_ISSUED])
        self.assertEqual(services.stock_level_mismatches(), [])

    def test_a_double_clicked_approval_approves_once(self):
        r = services.requisition_create(actor=self.c.admin_clerk, employee=self.agent, reason=Requisition.Reason.EXTRA,
                                        lines=[(self.cat["sku"]["TIE-M"], 1)], extra_reason="並發測試")
        done, refused, errors = self.fire([
            lambda: services.requisition_approve(actor=self.c.dept_head, requisition=r) for _ in range(4)])
        self.assertEqual((errors, refused, len(done)), ([], [], 4))
        self.assertEqual(AuditEntry.objects.filter(action="requisition.approve").count(), 1)
