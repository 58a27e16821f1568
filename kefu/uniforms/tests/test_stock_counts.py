"""Stock counts (盤點): variances become moves only on approval, by someone else than the submitter."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kefu.people.models import Role, RoleAssignment
from kefu.people.testing import START
from kefu.uniforms import services
from kefu.uniforms.models import StockCount, StockLevel, StockMove
from kefu.uniforms.testing import UniformsTestCase


class StockCountFlowTests(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A second admin clerk: the one who did not submit approves.
        cls.clerk2 = get_user_model().objects.create_user(username="clerk2", password="x")
        RoleAssignment.objects.create(user=cls.clerk2, role=Role.ADMIN_STAFF, org_unit=cls.company, start_date=START)

    def setUp(self) -> None:
        self.receive(self.top_m, 10, "50.00")
        self.receive(self.trs_m, 4, "80.00")
        self.count = services.stock_count_create(actor=self.admin_clerk, location=self.main,
                                                 counted_on=datetime.date(2025, 6, 30))
        self.lines = {line.sku.code: line for line in self.count.lines.select_related("sku")}

    def level(self, sku) -> int:
        return StockLevel.objects.get(sku=sku, location=self.main).on_hand

    def enter_all(self, **overrides) -> None:
        counted = {line.pk: overrides.get(code.replace("-", "_"), line.expected) for code, line in self.lines.items()}
        services.stock_count_enter(actor=self.admin_clerk, count=self.count, counted=counted)

    def test_sheet_lists_every_active_sku_with_on_hand_expected(self):
        self.assertEqual(len(self.lines), 15)  # 5 styles × 3 sizes
        self.assertEqual(self.lines["TOP-S-M"].expected, 10)
        self.assertEqual(self.lines["TRS-M"].expected, 4)
        self.assertEqual(self.lines["TIE-S"].expected, 0)
        self.assertTrue(self.count.number.startswith("SC-2025-"))

    def test_approval_books_the_variances_as_count_moves(self):
        self.enter_all(TOP_S_M=8, TRS_M=5)
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        self.assertEqual(StockMove.objects.filter(kind="count").count(), 0)  # nothing moves before approval
        # Meanwhile 1 more top is issued: the variance (−2) applies to what is on hand now.
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=1)
        services.stock_count_approve(actor=self.clerk2, count=self.count, comment="checked twice")
        self.count.refresh_from_db()
        self.assertEqual(self.count.status, StockCount.Status.APPROVED)
        self.assertEqual(self.level(self.top_m), 10 - 1 - 2)
        self.assertEqual(self.level(self.trs_m), 5)
        moves = StockMove.objects.filter(kind="count").order_by("sku__code")
        self.assertEqual([(m.sku.code, m.quantity, m.reference_id) for m in moves],
                         [("TOP-S-M", -2, str(self.count.pk)), ("TRS-M", 1, str(self.count.pk))])

    def test_rejection_moves_nothing_and_needs_a_comment(self):
        self.enter_all(TOP_S_M=0)
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        with self.assertRaises(ValidationError):
            services.stock_count_reject(actor=self.clerk2, count=self.count, comment="")
        services.stock_count_reject(actor=self.clerk2, count=self.count, comment="recount: shelf B missed")
        self.assertEqual(StockCount.objects.get(pk=self.count.pk).status, StockCount.Status.REJECTED)
        self.assertEqual(self.level(self.top_m), 10)
        with self.assertRaises(ValidationError):  # a final state: no approval after rejection
            services.stock_count_approve(actor=self.clerk2, count=self.count)

    def test_submit_needs_every_line_counted(self):
        first = next(iter(self.lines.values()))
        services.stock_count_enter(actor=self.admin_clerk, count=self.count, counted={first.pk: 1})
        with self.assertRaises(ValidationError) as ctx:
            services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        self.assertIn("missing", ctx.exception.messages[0])

    def test_negative_count_is_refused(self):
        line = self.lines["TOP-S-M"]
        with self.assertRaises(ValidationError) as ctx:
            services.stock_count_enter(actor=self.admin_clerk, count=self.count, counted={line.pk: -1})
        self.assertIn("TOP-S-M", str(ctx.exception))

    def test_submitter_cannot_approve_her_own_count(self):
        self.enter_all(TOP_S_M=9)
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        with self.assertRaises(ValidationError):
            services.stock_count_approve(actor=self.admin_clerk, count=self.count)
        # Leadership may approve whoever submitted.
        services.stock_count_approve(actor=self.leadership, count=self.count)
        self.assertEqual(self.level(self.top_m), 9)

    def test_wrong_roles_may_not_decide(self):
        self.enter_all(TOP_S_M=9)
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        for user in (self.agent, self.dept_head, self.hr, self.inspector):
            with self.assertRaises(PermissionDenied):
                services.stock_count_approve(actor=user, count=self.count)
        self.assertEqual(StockCount.objects.get(pk=self.count.pk).status, StockCount.Status.SUBMITTED)

    def test_submitted_count_is_a_to_do_for_the_other_clerk_and_leadership_only(self):
        from kefu.core.registry import workbench

        self.enter_all()
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)

        def has_todo(user) -> bool:
            return "Stock counts to approve" in [str(t.title) for t in workbench.todos(user)]

        self.assertEqual([has_todo(u) for u in (self.clerk2, self.leadership, self.admin_clerk, self.agent)],
                         [True, True, False, False])

    def test_entering_after_submission_is_refused(self):
        self.enter_all()
        services.stock_count_submit(actor=self.admin_clerk, count=self.count)
        with self.assertRaises(ValidationError):
            self.enter_all(TOP_S_M=1)


class StockCountPageTests(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.clerk2 = get_user_model().objects.create_user(username="clerk2", password="x")
        RoleAssignment.objects.create(user=cls.clerk2, role=Role.ADMIN_STAFF, org_unit=cls.company, start_date=START)

    def test_page_flow_enter_submit_approve(self):
        self.receive(self.top_m, 5, "50.00")
        self.login(self.admin_clerk)
        response = self.client.post(reverse("uniforms:count_create"),
                                    {"location": self.main.pk, "counted_on": "2025-07-01", "note": ""})
        count = StockCount.objects.get()
        self.assertRedirects(response, reverse("uniforms:count_detail", args=[count.pk]))
        data = {f"line_{line.pk}": str(line.expected) for line in count.lines.all()}
        data[f"line_{count.lines.get(sku=self.top_m).pk}"] = "3"
        data["action"] = "submit"
        self.client.post(reverse("uniforms:count_detail", args=[count.pk]), data)
        count.refresh_from_db()
        self.assertEqual(count.status, "submitted")
        url = reverse("uniforms:count_detail", args=[count.pk])
        # Wrong roles: the agent may not see stock at all (403 on the role page); the department head neither.
        self.assertStatus(self.agent, "post", url, 403, {"action": "approve"})
        self.assertStatus(self.dept_head, "post", url, 403, {"action": "approve"})
        # An inspector reads stock but may not decide.
        self.assertStatus(self.inspector, "post", url, 403, {"action": "approve"})
        self.assertStatus(self.inspector, "get", url, 200)
        # The submitter sees a clear refusal; the other clerk approves.
        self.login(self.admin_clerk)
        response = self.client.post(url, {"action": "approve"}, follow=True)
        self.assertContains(response, "Someone other than the person who submitted")
        self.login(self.clerk2)
        self.client.post(url, {"action": "approve", "comment": "ok"})
        count.refresh_from_db()
        self.assertEqual(count.status, "approved")
        self.assertEqual(StockLevel.objects.get(sku=self.top_m, location=self.main).on_hand, 3)

    def test_bad_number_names_the_sku_and_saves_nothing(self):
        self.receive(self.top_m, 5, "50.00")
        count = services.stock_count_create(actor=self.admin_clerk, location=self.main)
        line = count.lines.get(sku=self.top_m)
        other = count.lines.exclude(pk=line.pk).first()
        self.login(self.admin_clerk)
        response = self.client.post(reverse("uniforms:count_detail", args=[count.pk]),
                                    {f"line_{line.pk}": "abc", f"line_{other.pk}": "2", "action": "save"})
        self.assertContains(response, "TOP-S-M")
        self.assertIsNone(count.lines.get(pk=other.pk).counted)
