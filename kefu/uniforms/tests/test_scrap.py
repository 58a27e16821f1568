"""Scrapping (U4.2): she fills in the 《制服報廢申請表》 for worn-out items, her department head signs,
admin staff review; approved items leave her holdings; admin records centralised disposal in
batches. The wrong people are refused at each step."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEntry, Notification
from kefu.core.registry import workbench
from kefu.uniforms import services
from kefu.uniforms.models import DisposalBatch, DisposalLine, Holding, ScrapRequest
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date


class ScrapTestCase(RequisitionTestCase):
    def setUp(self) -> None:
        self.receive(self.top_m, 4, "80.00")
        self.items = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee, sku=self.top_m,
                                               quantity=3, issued_on=D(2024, 3, 1))

    def scrap(self, items=None, actor=None, **kwargs) -> ScrapRequest:
        items = items if items is not None else [(self.items[0], "褪色"), (self.items[1], "領口磨破")]
        return services.scrap_request_create(actor=actor or self.agent, employee=self.agent_employee, items=items,
                                             reason=kwargs.pop("reason", "穿著兩年，破舊"), **kwargs)


class ScrapFlowTests(ScrapTestCase):
    def test_the_whole_flow_takes_the_items_out_of_her_holdings(self):
        scrap = self.scrap()
        self.assertEqual(scrap.status, ScrapRequest.Status.SUBMITTED)
        self.assertTrue(Notification.objects.filter(recipient=self.dept_head, title__contains=scrap.number).exists())
        self.assertIn("Uniform scrap forms to sign", [str(t.title) for t in workbench.todos(self.dept_head)])
        scrap = services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap, comment="同意報廢")
        self.assertEqual(scrap.status, ScrapRequest.Status.HEAD_APPROVED)
        self.assertTrue(Notification.objects.filter(recipient=self.admin_clerk, title__contains=scrap.number).exists())
        self.assertIn("Uniform scrap forms to review", [str(t.title) for t in workbench.todos(self.admin_clerk)])
        held = Holding.objects.filter(pk__in=[self.items[0].pk, self.items[1].pk])
        self.assertEqual(set(held.values_list("status", flat=True)), {Holding.Status.HELD})
        scrap = services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=scrap)
        self.assertEqual(scrap.status, ScrapRequest.Status.ADMIN_APPROVED)
        self.assertEqual(set(held.values_list("status", flat=True)), {Holding.Status.SCRAPPED})
        self.assertEqual(set(held.values_list("ended_on", flat=True)), {timezone.localdate()})
        self.items[2].refresh_from_db()
        self.assertEqual(self.items[2].status, Holding.Status.HELD)
        # Centralised disposal (U4.2).
        self.assertEqual(set(services.holdings_awaiting_disposal()), set(held))
        batch = services.disposal_batch_create(actor=self.admin_clerk, holdings=list(held),
                                               disposed_on=timezone.localdate(), method=DisposalBatch.Method.RECYCLE,
                                               performed_by="綠色回收有限公司")
        self.assertEqual(DisposalLine.objects.filter(batch=batch).count(), 2)
        scrap.refresh_from_db()
        self.assertEqual(scrap.status, ScrapRequest.Status.DISPOSED)
        self.assertFalse(services.holdings_awaiting_disposal().exists())
        with self.assertRaises(ValidationError):  # disposed already
            services.disposal_batch_create(actor=self.admin_clerk, holdings=list(held), disposed_on=timezone.localdate(),
                                           method=DisposalBatch.Method.SHRED, performed_by="x")

    def test_a_partly_disposed_form_stays_approved(self):
        scrap = self.scrap()
        services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap)
        services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=scrap)
        services.disposal_batch_create(actor=self.admin_clerk, holdings=[self.items[0]], disposed_on=timezone.localdate(),
                                       method=DisposalBatch.Method.SHRED, performed_by="行政部 劉美玲")
        scrap.refresh_from_db()
        self.assertEqual(scrap.status, ScrapRequest.Status.ADMIN_APPROVED)

    def test_wrong_roles_at_each_step(self):
        scrap = self.scrap()
        # Head's step: the agent, admin staff in the head's place, the other department's head.
        for user in (self.agent, self.admin_clerk, self.cs2_head, self.supervisor, self.team_lead):
            with self.subTest(step="head", user=user.username), self.assertRaises(PermissionDenied):
                services.scrap_request_head_approve(actor=user, scrap=scrap)
        # Admin's step before the head signed: not possible yet.
        with self.assertRaises(ValidationError):
            services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=scrap)
        services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap)
        for user in (self.agent, self.dept_head, self.leadership, self.inspector):
            with self.subTest(step="admin", user=user.username), self.assertRaises(PermissionDenied):
                services.scrap_request_admin_approve(actor=user, scrap=scrap)

    def test_rejections_need_a_comment_and_leave_the_items_held(self):
        scrap = self.scrap()
        with self.assertRaises(ValidationError) as ctx:
            services.scrap_request_head_reject(actor=self.dept_head, scrap=scrap, comment="")
        self.assertIn("comment", ctx.exception.message_dict)
        services.scrap_request_head_reject(actor=self.dept_head, scrap=scrap, comment="還可以穿")
        scrap.refresh_from_db()
        self.assertEqual(scrap.status, ScrapRequest.Status.HEAD_REJECTED)
        self.assertEqual(Holding.objects.filter(status=Holding.Status.HELD).count(), 3)
        # The items are free for a new form.
        again = self.scrap()
        services.scrap_request_head_approve(actor=self.dept_head, scrap=again)
        services.scrap_request_admin_reject(actor=self.admin_clerk, scrap=again, comment="送洗後可繼續使用")
        again.refresh_from_db()
        self.assertEqual(again.status, ScrapRequest.Status.ADMIN_REJECTED)
        self.assertEqual(Holding.objects.filter(status=Holding.Status.HELD).count(), 3)

    def test_a_double_clicked_signature_signs_once(self):
        scrap = self.scrap()
        services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap)
        services.scrap_request_head_approve(actor=self.dept_head, scrap=scrap)
        from kefu.core.models import AuditEntry

        self.assertEqual(AuditEntry.objects.filter(action="scrap_request.head_approve").count(), 1)

    def test_bad_input(self):
        with self.assertRaises(ValidationError) as ctx:
            self.scrap(reason=" ")
        self.assertIn("reason", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            self.scrap(items=[])
        others = services.holding_register(actor=self.admin_clerk, employee=self.other_employee, sku=self.top_m,
                                           quantity=1, issued_on=D(2024, 3, 1))
        with self.assertRaises(ValidationError) as ctx:
            self.scrap(items=[(others[0], "")])
        self.assertIn("items", ctx.exception.message_dict)
        self.scrap()
        with self.assertRaises(ValidationError):  # already on an open form
            self.scrap(items=[(self.items[0], "")])

    def test_only_she_or_admin_staff_fill_it_in(self):
        self.assertEqual(self.scrap(actor=self.admin_clerk).filled_by, self.admin_clerk)
        with self.assertRaises(PermissionDenied):
            self.scrap(items=[(self.items[2], "")], actor=self.dept_head)


class ScrapPageTests(ScrapTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.form = self.scrap()
        self.detail = reverse("uniforms:scrap_detail", args=[self.form.number])

    def test_detail_allowed_404_anonymous(self):
        for user, status in ((self.agent, 200), (self.dept_head, 200), (self.admin_clerk, 200), (self.leadership, 200),
                             (self.cs2_head, 404), (self.other_agent, 404), (self.teammate_other_team, 404)):
            self.assertStatus(user, "get", self.detail, status)
        self.client.logout()
        self.assertEqual(self.client.get(self.detail).status_code, 302)

    def test_sign_page_agent_403_other_head_404_admin_403_head_ok(self):
        url = reverse("uniforms:scrap_sign", args=[self.form.number])
        data = {"decision": "approve", "comment": ""}
        self.assertStatus(self.agent, "post", url, 403, data)
        self.assertStatus(self.cs2_head, "post", url, 404, data)
        self.assertStatus(self.admin_clerk, "post", url, 403, data)
        self.assertStatus(self.dept_head, "post", url, 302, data)
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, ScrapRequest.Status.HEAD_APPROVED)
        review = reverse("uniforms:scrap_review", args=[self.form.number])
        self.assertStatus(self.dept_head, "post", review, 403, data)
        self.assertStatus(self.admin_clerk, "post", review, 302, data)
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, ScrapRequest.Status.ADMIN_APPROVED)

    def test_the_steps_refuse_before_reading_the_form(self):
        """Issue 10: sign, review and submit answer 403/404 to those who may not take the step, whatever the
        form (empty or bad) and whatever the status; nothing changes and no form error is shown."""
        audit_before = AuditEntry.objects.count()
        status_before = self.form.status
        steps = {
            "uniforms:scrap_sign": ((self.agent, 403), (self.admin_clerk, 403), (self.leadership, 403),
                                    (self.cs2_head, 404)),
            "uniforms:scrap_review": ((self.agent, 403), (self.dept_head, 403), (self.inspector, 403),
                                      (self.cs2_head, 404)),
            "uniforms:scrap_submit": ((self.dept_head, 403), (self.admin_clerk, 403), (self.leadership, 403),
                                      (self.cs2_head, 404)),
        }
        for name, cases in steps.items():
            url = reverse(name, args=[self.form.number])
            for user, status in cases:
                for data in ({}, {"decision": "maybe"}):
                    with self.subTest(step=name, user=user.username, data=data):
                        self.login(user)
                        response = self.client.post(url, data)
                        self.assertEqual(response.status_code, status)
                        self.assertEqual(list(response.wsgi_request._messages), [])
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, status_before)
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        # Her department head with a bad form: told to choose, nothing signed.
        self.login(self.dept_head)
        self.client.post(reverse("uniforms:scrap_sign", args=[self.form.number]), {"decision": "maybe"})
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, status_before)

    def test_form_page_lists_only_her_free_items_and_submits(self):
        self.login(self.agent)
        url = reverse("uniforms:scrap_new")
        page = self.client.get(url).content.decode()
        self.assertEqual(sorted(int(x) for x in re.findall(r'name="pick_(\d+)"', page)), [self.items[2].pk])
        token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
        response = self.client.post(url, {"token": token, f"pick_{self.items[2].pk}": "on",
                                          f"condition_{self.items[2].pk}": "破洞", "reason": "無法修補"})
        created = ScrapRequest.objects.exclude(pk=self.form.pk).get()
        self.assertRedirects(response, reverse("uniforms:scrap_detail", args=[created.number]))
        response = self.client.post(url, {"token": "x", "reason": "無"})
        self.assertContains(response, "Tick at least one item.")

    def test_list_scope(self):
        url = reverse("uniforms:scrap_list")
        for user, n in ((self.agent, 1), (self.dept_head, 1), (self.admin_clerk, 1), (self.cs2_head, 0)):
            self.login(user)
            self.assertEqual(len(re.findall(r'data-testid="scrap-row"', self.client.get(url).content.decode())), n)

    def test_disposal_pages(self):
        services.scrap_request_head_approve(actor=self.dept_head, scrap=self.form)
        services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=self.form)
        for page in ("uniforms:disposal_list", "uniforms:disposal_new"):
            url = reverse(page)
            self.assertStatus(self.agent, "get", url, 403)
            self.assertStatus(self.dept_head, "get", url, 403)
            self.assertStatus(self.admin_clerk, "get", url, 200)
        self.assertStatus(self.leadership, "get", reverse("uniforms:disposal_list"), 200)
        self.assertStatus(self.leadership, "get", reverse("uniforms:disposal_new"), 403)
        self.login(self.admin_clerk)
        response = self.client.post(reverse("uniforms:disposal_new"), {
            "disposed_on": timezone.localdate().isoformat(), "method": "recycle", "performed_by": "綠色回收",
            "holdings": [self.items[0].pk, self.items[1].pk]})
        batch = DisposalBatch.objects.get()
        self.assertRedirects(response, reverse("uniforms:disposal_detail", args=[batch.number]))
        self.assertStatus(self.agent, "get", reverse("uniforms:disposal_detail", args=[batch.number]), 403)
        self.assertStatus(self.inspector, "get", reverse("uniforms:disposal_detail", args=[batch.number]), 200)

    def test_pdf_is_served_to_those_who_see_the_form(self):
        url = reverse("uniforms:scrap_pdf", args=[self.form.number])
        self.assertStatus(self.cs2_head, "get", url, 404)
        self.login(self.dept_head)
        response = self.client.get(url)
        self.assertEqual(response["Content-Type"], "application/pdf")

    def test_list_and_disposal_pages_run_a_fixed_number_of_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        services.scrap_request_head_approve(actor=self.dept_head, scrap=self.form)
        services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=self.form)
        services.disposal_batch_create(actor=self.admin_clerk, holdings=self.items[:2], disposed_on=timezone.localdate(),
                                       method="recycle", performed_by="行政部")  # one of each before counting
        self.login(self.admin_clerk)
        urls = [reverse("uniforms:scrap_list"), reverse("uniforms:disposal_list")]
        for url in urls:
            self.client.get(url)
        few = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                self.client.get(url)
            few[url] = len(ctx)
        more = services.holding_register(actor=self.admin_clerk, employee=self.other_employee, sku=self.top_m,
                                         quantity=6, issued_on=D(2024, 3, 1))
        for i in range(3):
            s = services.scrap_request_create(actor=self.other_agent, employee=self.other_employee,
                                              items=[(more[2 * i], "破"), (more[2 * i + 1], "舊")], reason="破舊")
            services.scrap_request_head_approve(actor=self.cs2_head, scrap=s)
            services.scrap_request_admin_approve(actor=self.admin_clerk, scrap=s)
            services.disposal_batch_create(actor=self.admin_clerk, holdings=more[2 * i: 2 * i + 2],
                                           disposed_on=timezone.localdate(), method="shred", performed_by="行政部")
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                self.client.get(url)
            self.assertEqual(len(ctx), few[url], url)
