"""Purchase plans (U1.2): Kefu's proposal worked out by hand, the approval flow with its second
approval above the parameter, the lock after approval, and attempts by the wrong role."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.core import services as core_services
from kefu.core.models import AuditEntry, Notification
from kefu.people.models import Employee
from kefu.people.testing import make_person
from kefu.procurement import selectors, services
from kefu.procurement.models import PlanDecision, PlanLine, PlanLineSize, PurchasePlan
from kefu.procurement.testing import ProcurementTestCase
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import GenderVariant, ItemType, Season


class ProposalArithmeticTests(ProcurementTestCase):
    """The worked example (spring 2027 plan: 1 March - 31 August 2027; all five styles unisex).

    Size profiles of active CS staff (population 4):
        王小美 (F)   top M, skirt M, scarf M
        陳淑芬 (F)   top S, trousers S, scarf S
        李建國 (M)   top L, trousers L, tie L
        張志明 (M)   top L, trousers M, tie M
    No set is defined, so a set is the policy's default: one top, one trousers or skirt, one tie or
    scarf; sets per new hire 2 (U2.1 default). Renewals: 王小美 holds 2 × TOP-S-M due 10 May 2027,
    李建國 1 × TRS-L overdue since 15 Oct 2026; 張志明's TIE-M falls due in 2028 (outside).
    Back-orders: 2 × SKT-M. New stock: 4 × TOP-S-L. Reorder point of TIE-M: 3.
    """

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        S, M, L = cls.sizes
        clerk = cls.admin_clerk
        profiles = {
            cls.agent: {ItemType.TOP: M, ItemType.SKIRT: M, ItemType.SILK_SCARF: M},
            cls.supervisor: {ItemType.TOP: S, ItemType.TROUSERS: S, ItemType.SILK_SCARF: S},
            cls.team_lead: {ItemType.TOP: L, ItemType.TROUSERS: L, ItemType.TIE: L},
            cls.dept_head: {ItemType.TOP: L, ItemType.TROUSERS: M, ItemType.TIE: M},
        }
        for user, sizes in profiles.items():
            uniforms.size_profile_set(actor=clerk, employee=user.employee, sizes=sizes)
        # Someone outside customer service has a profile too: HR is not CS staff (G2) and does not count.
        uniforms.size_profile_set(actor=clerk, employee=cls.hr.employee, sizes={ItemType.TOP: S})
        uniforms.holding_register(actor=clerk, employee=cls.agent.employee, sku=cls.sku["TOP-S-M"], quantity=2,
                                  issued_on=datetime.date(2025, 5, 10))
        uniforms.holding_register(actor=clerk, employee=cls.team_lead.employee, sku=cls.sku["TRS-L"], quantity=1,
                                  issued_on=datetime.date(2024, 10, 15))
        uniforms.holding_register(actor=clerk, employee=cls.dept_head.employee, sku=cls.sku["TIE-M"], quantity=1,
                                  issued_on=datetime.date(2026, 6, 1))
        # A requisition for 3 skirts with 1 in stock: 1 issued, 2 back-ordered (U2.2).
        uniforms.stock_receive(actor=clerk, sku=cls.sku["SKT-M"], location=cls.main, quantity=1, unit_cost="90.00")
        req = uniforms.requisition_create(actor=cls.agent, employee=cls.agent.employee, reason="extra",
                                          extra_reason="夏季加班需要", lines=[(cls.sku["SKT-M"], 3)])
        uniforms.requisition_approve(actor=cls.dept_head, requisition=req)
        uniforms.requisition_issue(actor=clerk, requisition=req, location=cls.main)
        uniforms.stock_receive(actor=clerk, sku=cls.sku["TOP-S-L"], location=cls.main, quantity=4, unit_cost="80.00")
        uniforms.sku_update(actor=clerk, sku=cls.sku["TIE-M"], reorder_point=3)

    def proposed(self, plan: PurchasePlan) -> dict[str, int]:
        return dict(PlanLineSize.objects.filter(line__plan=plan).values_list("sku__code", "proposed"))

    def make_plan(self, hires: int) -> PurchasePlan:
        return services.plan_create(actor=self.admin_clerk, title="2027 春季", season="spring", year=2027,
                                    horizon_start=datetime.date(2027, 3, 1), horizon_end=datetime.date(2027, 8, 31),
                                    expected_new_hires=hires)

    def test_the_worked_example(self):
        plan = self.make_plan(10)
        # New hires per size = 10 hires × 2 sets × 1 per set × (staff in the size) / 4 = 5 × staff.
        expected = {
            "TOP-S-S": 5,            # 1 wearer → 5
            "TOP-S-M": 5 + 2,        # 1 wearer + 2 renewals due 2027-05-10
            "TOP-S-L": 10 - 4,       # 2 wearers, minus 4 on hand
            "TRS-S": 5, "TRS-M": 5,
            "TRS-L": 5 + 1,          # + the overdue renewal
            "SKT-S": 0, "SKT-L": 0,
            "SKT-M": 5 + 2,          # + 2 back-ordered (the issued one left stock at 0)
            "TIE-S": 0, "TIE-L": 5,
            "TIE-M": 5 + 3,          # + reorder point 3 (nothing on hand); the 2028 renewal is outside
            "SCF-S": 5, "SCF-M": 5, "SCF-L": 0,
        }
        self.assertEqual(self.proposed(plan), expected)
        # The quantities start as the proposal, and the line totals and budget follow.
        quantities = dict(PlanLineSize.objects.filter(line__plan=plan).values_list("sku__code", "quantity"))
        self.assertEqual(quantities, expected)
        top = PlanLine.objects.get(plan=plan, style__code="TOP-S")
        self.assertEqual(top.quantity, 5 + 7 + 6)
        # The derivation is kept, and names every term.
        d = PlanLineSize.objects.get(line__plan=plan, sku__code="TOP-S-L").derivation
        self.assertEqual((d["hires"], d["sets_per_hire"], d["pieces_per_set"], d["population"]), (10, 2, 1, 4))
        self.assertEqual((d["wearers"], d["new_hires"], d["on_hand"], d["need"], d["proposed"]),
                         ("2.00", "10.00", 4, "6.00", 6))
        d = PlanLineSize.objects.get(line__plan=plan, sku__code="SKT-M").derivation
        self.assertEqual((d["backorders"], d["renewals"], d["reorder_point"]), (2, "0.00", 0))

    def test_fractions_round_up_once_at_the_end(self):
        plan = self.make_plan(3)
        p = self.proposed(plan)
        # 3 × 2 × 1 / 4 = 1.5 per wearer.
        self.assertEqual(p["TOP-S-S"], 2)        # 1.5 → 2
        self.assertEqual(p["TOP-S-M"], 4)        # 1.5 + 2 = 3.5 → 4
        self.assertEqual(p["TOP-S-L"], 0)        # 3.0 - 4 = -1 → 0, never negative
        self.assertEqual(p["TIE-M"], 5)          # 1.5 + 3 = 4.5 → 5
        self.assertEqual(p["TRS-L"], 3)          # 1.5 + 1 = 2.5 → 3

    def test_sets_per_new_hire_in_force_when_the_plan_starts(self):
        core_services.policy_set(key="uniforms.sets_per_new_hire", value=3, effective_from=datetime.date(2027, 1, 1),
                                 actor=self.sysadmin)
        plan = self.make_plan(4)
        # 4 hires × 3 sets × 1 / 4 = 3 per wearer.
        self.assertEqual(self.proposed(plan)["TOP-S-S"], 3)
        self.assertEqual(PlanLineSize.objects.get(line__plan=plan, sku__code="TOP-S-S").derivation["sets_per_hire"], 3)

    def test_a_gendered_style_takes_its_share_of_the_item_type(self):
        # A women's summer top beside the unisex one: women share their top between the two styles.
        style = uniforms.style_save(actor=self.admin_clerk, code="TOP-F", name="女襯衫", item_type=ItemType.TOP,
                                    season=Season.SUMMER, gender=GenderVariant.FEMALE)
        uniforms.skus_create(actor=self.admin_clerk, style=style, sizes=self.sizes)
        plan = self.make_plan(8)
        p = self.proposed(plan)
        # 8 × 2 × 1 / 4 = 4 per wearer. Size S: 陳淑芬 (F) counts ½ to each; size M: 王小美 (F) ½ to each;
        # size L: the two men wear only the unisex top.
        self.assertEqual(p["TOP-F-S"], 2)
        self.assertEqual(p["TOP-F-M"], 2 + 1)     # and ½ of the 2 renewals due on a woman's top in M
        self.assertEqual(p["TOP-F-L"], 0)
        self.assertEqual(p["TOP-S-S"], 2)
        self.assertEqual(p["TOP-S-M"], 2 + 1)     # the other ½ of those renewals (the holder is F)
        self.assertEqual(p["TOP-S-L"], 8 - 4)
        self.assertEqual(p["TOP-F-M"] + p["TOP-S-M"], 4 + 2)

    def test_a_one_size_style_is_worn_by_everyone_its_cut_fits(self):
        # A one-size women's scarf beside the unisex tie and scarf in three sizes. Tie or scarf is one
        # slot of a set (U2.1): each of the two women with a size profile may wear any of the three
        # styles in that slot, so she counts ⅓ towards the one-size scarf, whatever her profile says.
        style = uniforms.style_save(actor=self.admin_clerk, code="SCF1", name="絲巾（均碼）",
                                    item_type=ItemType.SILK_SCARF, gender=GenderVariant.FEMALE)
        uniforms.skus_create(actor=self.admin_clerk, style=style, sizes=[self.sizes[1]])
        plan = self.make_plan(10)
        p = self.proposed(plan)
        # 10 × 2 × 1 / 4 = 5 per wearer: 2 women × ⅓ = ⅔ wearer → 3.33 → 4.
        self.assertEqual(p["SCF1-M"], 4)
        self.assertEqual(PlanLineSize.objects.get(line__plan=plan, sku__code="SCF1-M").derivation["wearers"], "0.67")
        # The three-size scarf, by profile: 陳淑芬 (S) and 王小美 (M) share it with the women's scarf, ½ each:
        # 2.5 → 3.
        self.assertEqual((p["SCF-S"], p["SCF-M"], p["SCF-L"]), (3, 3, 0))

    def test_someone_with_sizes_for_both_alternatives_counts_half_to_each(self):
        # 王小美 also gives a trousers size (M): trousers or skirt is one slot of a set (U2.1), so she
        # counts ½ to the skirt and ½ to the trousers in M.
        M = self.sizes[1]
        uniforms.size_profile_set(actor=self.admin_clerk, employee=self.agent.employee,
                                  sizes={ItemType.TOP: M, ItemType.SKIRT: M, ItemType.SILK_SCARF: M,
                                         ItemType.TROUSERS: M})
        p = self.proposed(self.make_plan(10))
        # 5 per wearer: trousers M had 張志明 (1) → now 1½ → 7.5 → 8; skirt M 1 → ½ → 2.5 + 2 back-ordered → 5.
        self.assertEqual((p["TRS-M"], p["SKT-M"]), (8, 5))

    def test_without_size_profiles_the_hires_are_spread_evenly(self):
        from kefu.uniforms.models import SizeProfile

        SizeProfile.objects.all().delete()
        plan = self.make_plan(6)
        p = self.proposed(plan)
        # 6 × 2 × 1 = 12 tops over 3 sizes = 4 each (+ renewals, − stock as before).
        self.assertEqual((p["TOP-S-S"], p["TOP-S-M"], p["TOP-S-L"]), (4, 4 + 2, 0))
        # Trousers and skirts: 12 each over 3 sizes (each style of its own item type).
        self.assertEqual(p["SKT-S"], 4)
        self.assertEqual(PlanLineSize.objects.get(line__plan=plan, sku__code="SKT-S").derivation["basis"], "even")

    def test_a_leaver_and_a_pending_hire_do_not_count(self):
        Employee.objects.filter(pk=self.dept_head.employee.pk).update(status=Employee.Status.LEFT,
                                                                       leave_date=datetime.date(2026, 10, 1))
        plan = self.make_plan(10)
        p = self.proposed(plan)
        # Population 3 now: 10 × 2 / 3 per wearer; TOP-S-L has 1 wearer → 6.67 − 4 = 2.67 → 3.
        self.assertEqual(p["TOP-S-L"], 3)
        self.assertEqual(p["TIE-M"], 3)           # no wearer left in M; the reorder point 3 remains

    def test_open_orders_of_other_plans_count_as_on_order(self):
        order = self.issued_order()  # another plan: 10 × TOP-S-M and 10 × TIE-M ordered
        self.deliver(order, {"TOP-S-M": 4})
        plan = self.make_plan(10)
        p = self.proposed(plan)
        self.assertEqual(p["TOP-S-M"], 0)         # 5 + 2 − 4 on hand (just received) − 6 still on order → −3 → 0
        self.assertEqual(p["TIE-M"], 0)           # 5 + 3 − 10 on order → −2 → 0
        d = PlanLineSize.objects.get(line__plan=plan, sku__code="TIE-M").derivation
        self.assertEqual(d["on_order"], 10)

    def test_recomputing_keeps_edits_unless_asked(self):
        plan = self.make_plan(10)
        top = PlanLine.objects.get(plan=plan, style__code="TOP-S")
        services.plan_line_update(actor=self.admin_clerk, line=top, quantities={self.sku["TOP-S-S"].pk: 50})
        services.plan_update(actor=self.admin_clerk, plan=plan, expected_new_hires=14)
        services.plan_propose(actor=self.admin_clerk, plan=plan)
        row = PlanLineSize.objects.get(line__plan=plan, sku__code="TOP-S-S")
        self.assertEqual((row.proposed, row.quantity), (7, 50))  # 14 × 2 / 4 = 7; the edit stays
        services.plan_propose(actor=self.admin_clerk, plan=plan, apply=True)
        row.refresh_from_db()
        self.assertEqual(row.quantity, 7)

    def test_query_count_does_not_grow_with_the_styles(self):
        plan = services.plan_create(actor=self.admin_clerk, title="x", season="spring", year=2027,
                                    horizon_start=datetime.date(2027, 3, 1), horizon_end=datetime.date(2027, 8, 31),
                                    propose=False)
        styles = list(selectors.plan_styles(plan))
        with self.assertNumQueries(10) as ctx:
            selectors.propose(plan, styles[:2])
        n = len(ctx.captured_queries)
        for i in range(4):
            style = uniforms.style_save(actor=self.admin_clerk, code=f"X{i}", name=f"X{i}", item_type=ItemType.OTHER,
                                        season=Season.ALL)
            uniforms.skus_create(actor=self.admin_clerk, style=style, sizes=self.sizes)
        more = list(selectors.plan_styles(plan))
        self.assertEqual(len(more), 9)
        with self.assertNumQueries(n):
            selectors.propose(plan, more)


class PlanFlowTests(ProcurementTestCase):
    def test_submit_and_approve_within_the_amount_locks_the_plan(self):
        plan = self.draft_plan()  # 10 × 100.00 + 10 × 20.00 = 1,200.00
        self.assertEqual(plan.total_budget, Decimal("1200.00"))
        plan = services.plan_submit(actor=self.admin_clerk, plan=plan)
        self.assertEqual((plan.status, plan.round, plan.needs_second_approval), ("submitted", 1, False))
        self.assertEqual(plan.second_approval_amount, Decimal("50000.00"))
        self.assertTrue(Notification.objects.filter(recipient=self.leadership, url__contains=plan.number).exists())
        plan = services.plan_approve(actor=self.leadership, plan=plan, comment="同意")
        self.assertEqual(plan.status, PurchasePlan.Status.APPROVED)
        self.assertTrue(Notification.objects.filter(recipient=self.admin_clerk, title__contains=plan.number).exists())
        # Locked: no edit, no new lines, no resubmission.
        line = self.line(plan, "TOP-S")
        for attempt in (
            lambda: services.plan_update(actor=self.admin_clerk, plan=plan, title="改"),
            lambda: services.plan_line_update(actor=self.admin_clerk, line=line, target_unit_price="1.00"),
            lambda: services.plan_line_remove(actor=self.admin_clerk, line=line),
            lambda: services.plan_propose(actor=self.admin_clerk, plan=plan, apply=True),
            lambda: services.plan_submit(actor=self.admin_clerk, plan=plan),
        ):
            with self.assertRaises(ValidationError):
                attempt()
        self.assertEqual(self.line(plan, "TOP-S").target_unit_price, Decimal("100.00"))

    def test_above_the_amount_a_second_leader_approves(self):
        # 10 × 100.00 + 10 × 20.00 = 1,200.00 > 1,000.00 set from yesterday (in force on submission).
        core_services.policy_set(key="procurement.second_approval_amount", value="1000.00",
                                 effective_from=timezone.localdate() - datetime.timedelta(days=1),
                                 actor=self.sysadmin, note="test")
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        self.assertTrue(plan.needs_second_approval)
        self.assertEqual(plan.second_approval_amount, Decimal("1000.00"))
        plan = services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(plan.status, PurchasePlan.Status.AWAITING_SECOND)
        self.assertTrue(Notification.objects.filter(recipient=self.leader2, title__contains=plan.number).exists())
        # The same leader cannot give the second approval; a double click is not a second one either.
        plan = services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(plan.status, PurchasePlan.Status.AWAITING_SECOND)
        with self.assertRaises(ValidationError):
            services.plan_reject(actor=self.leadership, plan=plan, comment="改主意")
        plan = services.plan_approve(actor=self.leader2, plan=plan)
        self.assertEqual(plan.status, PurchasePlan.Status.APPROVED)
        self.assertEqual(list(PlanDecision.objects.filter(plan=plan).values_list("step", "decided_by")),
                         [(1, self.leadership.pk), (2, self.leader2.pk)])

    def test_exactly_the_amount_needs_one_approval(self):
        core_services.policy_set(key="procurement.second_approval_amount", value="1200.00",
                                 effective_from=timezone.localdate(), actor=self.sysadmin)
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        self.assertFalse(plan.needs_second_approval)  # "above" the amount: 1,200.00 is not above 1,200.00

    def test_a_later_parameter_change_does_not_reach_a_submitted_plan(self):
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        core_services.policy_set(key="procurement.second_approval_amount", value="100.00",
                                 effective_from=timezone.localdate(), actor=self.sysadmin)
        plan = services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(plan.status, PurchasePlan.Status.APPROVED)

    def test_return_with_comments_then_resubmit(self):
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        with self.assertRaises(ValidationError) as ctx:
            services.plan_return(actor=self.leadership, plan=plan, comment=" ")
        self.assertIn("comment", ctx.exception.message_dict)
        plan = services.plan_return(actor=self.leadership, plan=plan, comment="領帶數量偏多")
        self.assertEqual(plan.status, PurchasePlan.Status.RETURNED)
        services.plan_line_update(actor=self.admin_clerk, line=self.line(plan, "TIE"),
                                  quantities={self.sku["TIE-M"].pk: 5})
        plan = services.plan_submit(actor=self.admin_clerk, plan=plan)
        self.assertEqual((plan.round, plan.total_budget), (2, Decimal("1100.00")))
        # The same leader decides again on the new submission.
        plan = services.plan_approve(actor=self.leadership, plan=plan)
        self.assertEqual(plan.status, PurchasePlan.Status.APPROVED)

    def test_reject_is_final(self):
        plan = services.plan_submit(actor=self.admin_clerk, plan=self.draft_plan())
        plan = services.plan_reject(actor=self.leadership, plan=plan, comment="預算不足")
        self.assertEqual(plan.status, PurchasePlan.Status.REJECTED)
        for attempt in (lambda: services.plan_submit(actor=self.admin_clerk, plan=plan),
                        lambda: services.plan_approve(actor=self.leader2, plan=plan)):
            with self.assertRaises(ValidationError):
                attempt()

    def test_submission_needs_quantities_and_prices(self):
        plan = self.draft_plan(quantities={"TOP-S-M": 10})  # the tie line has no quantity
        with self.assertRaises(ValidationError) as ctx:
            services.plan_submit(actor=self.admin_clerk, plan=plan)
        self.assertIn("領帶", " ".join(ctx.exception.message_dict["lines"]))
        services.plan_line_remove(actor=self.admin_clerk, line=self.line(plan, "TIE"))
        services.plan_line_update(actor=self.admin_clerk, line=self.line(plan, "TOP-S"), target_unit_price="0")
        with self.assertRaises(ValidationError) as ctx:
            services.plan_submit(actor=self.admin_clerk, plan=plan)
        self.assertIn("target unit price", " ".join(ctx.exception.message_dict["lines"]))

    def test_bad_money_and_dates_name_the_field(self):
        plan = self.draft_plan()
        for bad in ("12.345", "-1", "abc"):
            with self.assertRaises(ValidationError) as ctx:
                services.plan_line_update(actor=self.admin_clerk, line=self.line(plan, "TOP-S"), target_unit_price=bad)
            self.assertIn("target_unit_price", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.plan_update(actor=self.admin_clerk, plan=plan, horizon_end=datetime.date(2027, 1, 1))
        self.assertIn("horizon_end", ctx.exception.message_dict)
        self.assertEqual(PurchasePlan.objects.get(pk=plan.pk).horizon_end, datetime.date(2027, 8, 31))

    def test_double_submitted_create_form_makes_one_plan(self):
        data = {"title": "t", "season": "spring", "year": 2027, "horizon_start": datetime.date(2027, 3, 1),
                "horizon_end": datetime.date(2027, 8, 31), "idempotency_key": "form-1", "propose": False}
        a = services.plan_create(actor=self.admin_clerk, **data)
        b = services.plan_create(actor=self.admin_clerk, **data)
        self.assertEqual(a.pk, b.pk)
        self.assertEqual(PurchasePlan.objects.count(), 1)

    def test_every_step_is_audited(self):
        plan = self.approved_plan()
        actions = list(AuditEntry.objects.filter(object_type="procurement.purchaseplan", object_id=str(plan.pk))
                       .order_by("id").values_list("action", flat=True))
        self.assertEqual(actions[0], "plan.create")
        self.assertIn("plan.propose", actions)
        self.assertEqual(actions[-2:], ["plan.submit", "plan.approve"])


class PlanRoleTests(ProcurementTestCase):
    def test_leadership_cannot_edit_and_admin_cannot_approve(self):
        plan = self.draft_plan()
        with self.assertRaises(PermissionDenied):
            services.plan_update(actor=self.leadership, plan=plan, title="改")
        with self.assertRaises(PermissionDenied):
            services.plan_line_update(actor=self.leadership, line=self.line(plan, "TOP-S"), target_unit_price="1")
        with self.assertRaises(PermissionDenied):
            services.plan_submit(actor=self.leadership, plan=plan)
        plan = services.plan_submit(actor=self.admin_clerk, plan=plan)
        for decide in (services.plan_approve, services.plan_reject, services.plan_return):
            with self.assertRaises(PermissionDenied):
                decide(actor=self.admin_clerk, plan=plan, comment="x")
        self.assertEqual(PurchasePlan.objects.get(pk=plan.pk).status, "submitted")

    def test_other_roles_cannot_write(self):
        for user in (self.agent, self.hr, self.inspector, self.dept_head, self.sysadmin):
            with self.assertRaises(PermissionDenied, msg=user.username):
                services.plan_create(actor=user, title="t", season="spring", year=2027,
                                     horizon_start=datetime.date(2027, 3, 1), horizon_end=datetime.date(2027, 8, 31))
        self.assertFalse(PurchasePlan.objects.exists())

    def test_a_leader_who_also_drafts_cannot_approve_her_own_submission(self):
        from kefu.people.models import Role

        both = make_person("both", "雙職", self.admin_dept, (Role.ADMIN_STAFF, self.company),
                           (Role.LEADERSHIP, self.company), employee_no="AD0099")
        plan = self.draft_plan()
        plan = services.plan_submit(actor=both, plan=plan)
        with self.assertRaises(ValidationError):
            services.plan_approve(actor=both, plan=plan)
