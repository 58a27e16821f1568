"""Requisitions (U2.2): the entitlement checks (U2.1 new hire, U4.1 renewal, U3.2 replacement,
extra with a reason), the department head's approval and the wrong people trying it, the state
machine, notifications and workbench to-dos, and the requisition pages."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEntry, Notification
from kefu.core.registry import workbench
from kefu.people.models import Employee, Role
from kefu.people.testing import make_person
from kefu.uniforms import services
from kefu.uniforms.models import DamageReport, Entitlement, Holding, Requisition, SizeProfileEntry
from kefu.uniforms.testing import UniformsTestCase

D = datetime.date


@override_settings(LANGUAGE_CODE="en")
class RequisitionTestCase(UniformsTestCase):
    """The named company with a catalogue; 何美華 heads CS2 (the other department).

    Messages are asserted in English (the msgids), whatever the catalogues translate them to."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.agent_employee = Employee.objects.get(user=cls.agent)
        cls.head_employee = Employee.objects.get(user=cls.dept_head)
        cls.other_employee = Employee.objects.get(user=cls.other_agent)
        cls.cs2_head = make_person("head2", "何美華", cls.cs2, (Role.DEPT_HEAD, cls.cs2), employee_no="CS2009")
        cls.skirt_m = cls.sku["SKT-M"]
        cls.scarf_m = cls.sku["SCF-M"]

    def grant(self, sets: int = 2, employee: Employee | None = None) -> Entitlement:
        return services.entitlement_grant(actor=self.hr, employee=employee or self.agent_employee,
                                          reason=Entitlement.Reason.NEW_HIRE, granted_on=D(2026, 1, 5), sets=sets)

    def new_hire(self, lines=None, *, actor=None, employee=None, **kwargs) -> Requisition:
        lines = lines if lines is not None else [(self.top_m, 2), (self.skirt_m, 2), (self.scarf_m, 2)]
        return services.requisition_create(actor=actor or self.agent, employee=employee or self.agent_employee,
                                           reason=Requisition.Reason.NEW_HIRE, lines=lines, **kwargs)

    def lines_of(self, requisition: Requisition) -> list[tuple[str, int]]:
        return sorted((line.sku.code, line.quantity) for line in requisition.lines.select_related("sku"))


class NewHireEntitlementTests(RequisitionTestCase):
    def test_a_new_hire_may_ask_for_the_sets_she_is_owed(self):
        ent = self.grant(2)
        requisition = self.new_hire()
        self.assertEqual(requisition.status, Requisition.Status.SUBMITTED)
        self.assertEqual(requisition.entitlement, ent)
        self.assertEqual(self.lines_of(requisition), [("SCF-M", 2), ("SKT-M", 2), ("TOP-S-M", 2)])

    def test_more_than_the_sets_owed_is_refused_naming_the_item_and_nothing_is_saved(self):
        self.grant(2)
        with self.assertRaises(ValidationError) as ctx:
            self.new_hire([(self.top_m, 3), (self.skirt_m, 1)])
        message = ctx.exception.message_dict["lines"][0]
        self.assertIn("3", message)
        self.assertIn("2", message)
        self.assertFalse(Requisition.objects.exists())

    def test_trousers_and_skirt_share_one_line_of_the_set(self):
        # A set is top + trousers or skirt + tie or scarf (U2.1): 2 sets allow 2 bottoms in all.
        self.grant(2)
        with self.assertRaises(ValidationError):
            self.new_hire([(self.trs_m, 1), (self.skirt_m, 2)])
        self.assertEqual(self.lines_of(self.new_hire([(self.trs_m, 1), (self.skirt_m, 1)])),
                         [("SKT-M", 1), ("TRS-M", 1)])

    def test_without_a_new_hire_entitlement_she_cannot_ask_as_a_new_hire(self):
        with self.assertRaises(ValidationError) as ctx:
            self.new_hire([(self.top_m, 1)])
        self.assertIn("reason", ctx.exception.message_dict)

    def test_an_open_requisition_claims_its_items_and_a_rejected_one_gives_them_back(self):
        self.grant(2)
        first = self.new_hire([(self.top_m, 2)])
        with self.assertRaises(ValidationError):
            self.new_hire([(self.top_m, 1)])
        services.requisition_reject(actor=self.dept_head, requisition=first, comment="尺碼有誤，請重填")
        self.assertEqual(self.lines_of(self.new_hire([(self.top_m, 2)])), [("TOP-S-M", 2)])

    def test_duplicate_lines_of_one_sku_are_merged_and_zero_lines_dropped(self):
        self.grant(2)
        requisition = self.new_hire([(self.top_m, 1), (self.top_m, 1), (self.tie_m, 0)])
        self.assertEqual(self.lines_of(requisition), [("TOP-S-M", 2)])

    def test_a_requisition_without_items_is_refused(self):
        self.grant(2)
        with self.assertRaises(ValidationError) as ctx:
            self.new_hire([(self.top_m, 0)])
        self.assertIn("lines", ctx.exception.message_dict)


class OtherReasonTests(RequisitionTestCase):
    def hold(self, sku, issued_on: D, n: int = 1) -> list[Holding]:
        return services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=sku, quantity=n,
                                         issued_on=issued_on)

    def test_renewal_only_for_items_due_within_the_window(self):
        # Renewal cycle 2 years (U4.1): issued 2024-03-01 → due 2026-03-01.
        today = timezone.localdate()
        due_issue = today.replace(year=today.year - 2) + datetime.timedelta(days=10)  # due in 10 days
        self.hold(self.top_m, due_issue, 2)
        self.hold(self.trs_m, today - datetime.timedelta(days=30))  # due in about 23 months
        requisition = services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                                  reason=Requisition.Reason.RENEWAL, lines=[(self.top_m, 2)])
        self.assertEqual(requisition.reason, Requisition.Reason.RENEWAL)
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.RENEWAL, lines=[(self.trs_m, 1)])
        self.assertIn("lines", ctx.exception.message_dict)
        # The two due tops are claimed by the open requisition.
        with self.assertRaises(ValidationError):
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.RENEWAL, lines=[(self.top_m, 1)])

    def test_renewal_with_nothing_due_is_refused(self):
        self.hold(self.top_m, timezone.localdate())
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.RENEWAL, lines=[(self.top_m, 1)])
        self.assertIn("reason", ctx.exception.message_dict)

    def test_replacement_follows_an_assessed_damage_report_for_that_item_type(self):
        holding = self.hold(self.top_m, D(2026, 1, 1))[0]
        report = services.damage_report_create(actor=self.agent, holding=holding, kind=DamageReport.Kind.DAMAGE,
                                               description="袖口撕裂")
        with self.assertRaises(ValidationError) as ctx:  # not assessed yet
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.REPLACEMENT, lines=[(self.top_m, 1)],
                                        damage_report=report)
        self.assertIn("damage_report", ctx.exception.message_dict)
        services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.NORMAL_WEAR)
        with self.assertRaises(ValidationError):  # a tie does not replace a top
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.REPLACEMENT, lines=[(self.tie_m, 1)],
                                        damage_report=report)
        with self.assertRaises(ValidationError):  # one item for one item
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.REPLACEMENT, lines=[(self.top_m, 2)],
                                        damage_report=report)
        replacement = services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                                  reason=Requisition.Reason.REPLACEMENT,
                                                  lines=[(self.sku["TOP-S-L"], 1)], damage_report=report)
        self.assertEqual(replacement.damage_report, report)
        with self.assertRaises(ValidationError):  # one replacement per report
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.REPLACEMENT, lines=[(self.top_m, 1)],
                                        damage_report=report)

    def test_replacement_without_a_report_is_refused(self):
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.REPLACEMENT, lines=[(self.top_m, 1)])
        self.assertIn("damage_report", ctx.exception.message_dict)

    def test_extra_items_need_a_written_reason(self):
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                        reason=Requisition.Reason.EXTRA, lines=[(self.tie_m, 1)], extra_reason="  ")
        self.assertIn("extra_reason", ctx.exception.message_dict)
        requisition = services.requisition_create(actor=self.agent, employee=self.agent_employee,
                                                  reason=Requisition.Reason.EXTRA, lines=[(self.tie_m, 1)],
                                                  extra_reason="參加年度頒獎典禮需備用領帶")
        self.assertEqual(requisition.extra_reason, "參加年度頒獎典禮需備用領帶")


class WhoFillsInTests(RequisitionTestCase):
    def test_admin_staff_fill_it_in_on_her_behalf(self):
        self.grant(2)
        requisition = self.new_hire([(self.top_m, 1)], actor=self.admin_clerk)
        self.assertEqual(requisition.filled_by, self.admin_clerk)
        self.assertEqual(requisition.employee, self.agent_employee)

    def test_nobody_else_fills_it_in_for_her(self):
        self.grant(2)
        for user in (self.team_lead, self.dept_head, self.teammate_other_team, self.hr):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                self.new_hire([(self.top_m, 1)], actor=user)

    def test_the_same_form_submitted_twice_is_one_requisition(self):
        self.grant(2)
        first = self.new_hire([(self.top_m, 1)], idempotency_key="form:abc")
        second = self.new_hire([(self.top_m, 1)], idempotency_key="form:abc")
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(Requisition.objects.count(), 1)


class ApprovalTests(RequisitionTestCase):
    def setUp(self) -> None:
        self.grant(2)
        self.requisition = self.new_hire([(self.top_m, 2), (self.trs_m, 2)])

    def test_her_department_head_approves_with_a_comment(self):
        approved = services.requisition_approve(actor=self.dept_head, requisition=self.requisition, comment="同意")
        self.assertEqual(approved.status, Requisition.Status.APPROVED)
        self.assertEqual(approved.approver, self.dept_head)
        self.assertEqual(approved.decision_comment, "同意")

    def test_wrong_roles_may_not_approve(self):
        # U2.2: only her department head signs. Admin staff see the form but do not sign it.
        for user in (self.agent, self.team_lead, self.supervisor, self.admin_clerk, self.hr, self.leadership,
                     self.cs2_head):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.requisition_approve(actor=user, requisition=self.requisition)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.SUBMITTED)

    def test_a_head_does_not_approve_her_own_requisition(self):
        services.entitlement_grant(actor=self.hr, employee=self.head_employee, reason=Entitlement.Reason.NEW_HIRE,
                                   granted_on=D(2026, 1, 5), sets=2)
        own = services.requisition_create(actor=self.dept_head, employee=self.head_employee,
                                          reason=Requisition.Reason.NEW_HIRE, lines=[(self.trs_m, 1)])
        with self.assertRaises(PermissionDenied):
            services.requisition_approve(actor=self.dept_head, requisition=own)

    def test_a_double_clicked_approval_approves_once(self):
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        self.assertEqual(AuditEntry.objects.filter(action="requisition.approve").count(), 1)

    def test_reject_needs_a_comment_and_is_final(self):
        with self.assertRaises(ValidationError) as ctx:
            services.requisition_reject(actor=self.dept_head, requisition=self.requisition, comment=" ")
        self.assertIn("comment", ctx.exception.message_dict)
        services.requisition_reject(actor=self.dept_head, requisition=self.requisition, comment="重複申請")
        with self.assertRaises(ValidationError):
            services.requisition_approve(actor=self.dept_head, requisition=self.requisition)

    def test_an_approved_requisition_cannot_be_withdrawn_but_a_submitted_one_can(self):
        other = self.new_hire([(self.scarf_m, 1)])
        services.requisition_close(actor=self.agent, requisition=other, reason="不需要了")
        other.refresh_from_db()
        self.assertEqual(other.status, Requisition.Status.CLOSED)
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        with self.assertRaises(ValidationError):
            services.requisition_close(actor=self.agent, requisition=self.requisition, reason="x")

    def test_each_step_tells_the_next_person(self):
        self.assertTrue(Notification.objects.filter(recipient=self.dept_head,
                                                    title__contains=self.requisition.number).exists())
        self.assertFalse(Notification.objects.filter(recipient=self.cs2_head).exists())
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__contains=self.requisition.number)
                        .exists())
        self.assertTrue(Notification.objects.filter(recipient=self.admin_clerk,
                                                    title__contains=self.requisition.number).exists())

    def test_workbench_to_dos_follow_the_requisition(self):
        def titles(user) -> list[str]:
            return [str(t.title) for t in workbench.todos(user)]

        self.assertIn("Uniform requisitions to approve", titles(self.dept_head))
        self.assertNotIn("Uniform requisitions to approve", titles(self.cs2_head))
        self.assertNotIn("Approved uniform requisitions to issue", titles(self.admin_clerk))
        services.requisition_approve(actor=self.dept_head, requisition=self.requisition)
        self.assertNotIn("Uniform requisitions to approve", titles(self.dept_head))
        self.assertIn("Approved uniform requisitions to issue", titles(self.admin_clerk))


class RequisitionPageTests(RequisitionTestCase):
    def setUp(self) -> None:
        self.grant(2)
        self.requisition = self.new_hire([(self.top_m, 2), (self.trs_m, 2)])
        self.detail = reverse("uniforms:requisition_detail", args=[self.requisition.number])

    def test_list_shows_each_what_she_may_see(self):
        url = reverse("uniforms:requisition_list")
        for user, expected in ((self.agent, 1), (self.dept_head, 1), (self.admin_clerk, 1), (self.cs2_head, 0),
                               (self.other_agent, 0), (self.inspector, 1)):
            self.login(user)
            response = self.client.get(url, {"view": "all"} if user != self.agent else {})
            self.assertEqual(response.status_code, 200)
            self.assertEqual(len(re.findall(r'data-testid="requisition-row"', response.content.decode())), expected,
                             user.username)

    def test_the_list_runs_a_fixed_number_of_queries(self):
        self.login(self.admin_clerk)
        url = reverse("uniforms:requisition_list") + "?view=all"
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(8):
            services.requisition_create(actor=self.admin_clerk, employee=self.other_employee,
                                        reason=Requisition.Reason.EXTRA, lines=[(self.tie_m, 1), (self.top_m, 1)],
                                        extra_reason=f"備用 {i}")
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(url)
        self.assertEqual(len(re.findall(r'data-testid="requisition-row"', response.content.decode())), 9)
        self.assertEqual(len(few), len(many))

    def test_detail_allowed_404_and_anonymous(self):
        for user, status in ((self.agent, 200), (self.dept_head, 200), (self.admin_clerk, 200), (self.leadership, 200),
                             (self.cs2_head, 404), (self.other_agent, 404), (self.outsider, 404),
                             (self.teammate_other_team, 404)):
            self.assertStatus(user, "get", self.detail, status)
        self.client.logout()
        self.assertRedirects(self.client.get(self.detail), f"{reverse('login')}?next={self.detail}",
                             fetch_redirect_response=False)

    def test_approve_page_agent_403_other_head_404_admin_403_head_ok(self):
        url = reverse("uniforms:requisition_approve", args=[self.requisition.number])
        self.assertStatus(self.agent, "post", url, 403)
        self.assertStatus(self.cs2_head, "post", url, 404)
        self.assertStatus(self.admin_clerk, "post", url, 403)
        self.assertStatus(None, "post", url, 302)
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.SUBMITTED)
        self.assertStatus(self.dept_head, "post", url, 302, {"comment": "同意"})
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.APPROVED)
        # Approve only answers POST.
        self.assertStatus(self.dept_head, "get", url, 405)

    def test_reject_page_without_a_comment_says_so_and_changes_nothing(self):
        self.login(self.dept_head)
        response = self.client.post(reverse("uniforms:requisition_reject", args=[self.requisition.number]),
                                    {"comment": ""}, follow=True)
        self.assertContains(response, "Say why the requisition is rejected.")
        self.requisition.refresh_from_db()
        self.assertEqual(self.requisition.status, Requisition.Status.SUBMITTED)

    def test_the_form_defaults_sizes_from_her_profile_and_submits(self):
        profile = services.size_profile_set(actor=self.agent, employee=self.agent_employee,
                                            sizes={"top": self.sizes[2]})  # L
        self.assertTrue(SizeProfileEntry.objects.filter(profile=profile).exists())
        self.login(self.agent)
        url = reverse("uniforms:requisition_new")
        page = self.client.get(url).content.decode()
        style = self.styles["TOP-S"]
        chosen = re.search(rf'name="size_{style.pk}"[^>]*>(.*?)</select>', page, re.S).group(1)
        self.assertRegex(chosen, rf'<option value="{self.sku["TOP-S-L"].pk}" selected>')
        token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
        data = {"token": token, "reason": "extra", "extra_reason": "備用",
                f"size_{style.pk}": self.sku["TOP-S-L"].pk, f"qty_{style.pk}": 1}
        response = self.client.post(url, data)
        created = Requisition.objects.exclude(pk=self.requisition.pk).get()
        self.assertRedirects(response, reverse("uniforms:requisition_detail", args=[created.number]))
        self.assertEqual(self.lines_of(created), [("TOP-S-L", 1)])
        self.client.post(url, data)  # the same form again (double submit)
        self.assertEqual(Requisition.objects.count(), 2)

    def test_the_form_names_the_problem_and_keeps_the_input(self):
        self.login(self.agent)
        style = self.styles["TOP-S"]
        response = self.client.post(reverse("uniforms:requisition_new"), {
            "reason": "new_hire", f"size_{style.pk}": self.top_m.pk, f"qty_{style.pk}": 5})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "at most")
        self.assertContains(response, f'name="qty_{style.pk}" value="5"')

    def test_admin_staff_pick_whose_form_by_employee_number(self):
        self.login(self.admin_clerk)
        response = self.client.get(reverse("uniforms:requisition_new"), {"employee": "CS2002"})
        self.assertContains(response, "鄭惠如")
        response = self.client.get(reverse("uniforms:requisition_new"), {"employee": "NOPE"})
        self.assertContains(response, "There is no employee with the number")

    def test_someone_without_an_employee_record_cannot_file_one(self):
        from django.contrib.auth import get_user_model

        ghost = get_user_model().objects.create_user("ghost", password="x")
        self.assertStatus(ghost, "get", reverse("uniforms:requisition_new"), 403)

    def test_pdf_link_for_those_who_see_it(self):
        url = reverse("uniforms:requisition_pdf", args=[self.requisition.number])
        self.assertStatus(self.other_agent, "get", url, 404)
        self.login(self.agent)
        response = self.client.get(url)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
