"""Coaching pages (policy E3.3): allowed / 404 / 403, filters, the steps through the forms, to-dos, queries."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.annual import coaching, services, todos_coaching
from kefu.annual.models import CoachingPlan, HrCase
from kefu.annual.tests.builders import final_months
from kefu.annual.tests.test_coaching import TODAY, CoachingTestCase, month_eval
from kefu.core.models import AuditEntry
from kefu.people.models import Role
from kefu.people.testing import make_person

P = CoachingPlan.Status


def detail(plan) -> str:
    return reverse("annual:coaching_detail", args=[plan.pk])


class AccessTests(CoachingTestCase):
    def test_list_page_roles_and_scope(self):
        mine = self.plan_for(self.agent)
        theirs = self.plan_for(self.other_agent)
        url = reverse("annual:coaching_list")
        for user in (self.agent, self.admin_clerk, self.sysadmin):
            self.assertStatus(user, "get", url, 403)
        self.assertStatus(None, "get", url, 302)
        self.login(self.supervisor)
        response = self.client.get(url)
        self.assertContains(response, f'href="{detail(mine)}"')
        self.assertNotContains(response, f'href="{detail(theirs)}"')
        self.login(self.hr)
        response = self.client.get(url)
        self.assertContains(response, f'href="{detail(mine)}"')
        self.assertContains(response, f'href="{detail(theirs)}"')

    def test_detail_access(self):
        draft = self.plan_for(self.agent, month=2)
        plan = self.active_plan()
        theirs = self.plan_for(self.other_agent)
        self.assertStatus(self.outsider, "get", detail(plan), 404)  # another department's supervisor
        self.assertStatus(self.outsider, "post", reverse("annual:coaching_session", args=[plan.pk]), 404,
                          {"held_on": TODAY.isoformat(), "notes": "x"})
        self.assertStatus(self.agent, "get", detail(theirs), 404)
        self.assertStatus(self.agent, "get", detail(draft), 404)  # a draft is not shown to her yet
        for user in (self.supervisor, self.dept_head, self.hr, self.leadership, self.inspector, self.team_lead):
            self.assertStatus(user, "get", detail(plan), 200)
        self.assertStatus(self.team_lead, "get", detail(draft), 404)  # not her team lead's as coach or scope
        # The agent reads her own plan, without any form; she may not act on it.
        self.login(self.agent)
        response = self.client.get(detail(plan))
        self.assertContains(response, "Monthly total of 70 or more")
        for testid in ("activate-form", "session-form", "close-form", "cancel-form", "decide-form"):
            self.assertNotContains(response, testid)
        self.assertStatus(self.agent, "post", reverse("annual:coaching_session", args=[plan.pk]), 403,
                          {"held_on": TODAY.isoformat(), "notes": "x"})
        self.assertStatus(self.agent, "post", reverse("annual:coaching_close", args=[plan.pk]), 403,
                          {"outcome": "met", "follow_up_note": "x"})
        self.assertStatus(self.agent, "post", reverse("annual:coaching_activate", args=[draft.pk]), 404)
        # The dept head reads but does not run the plan.
        self.assertStatus(self.dept_head, "post", reverse("annual:coaching_close", args=[plan.pk]), 403,
                          {"outcome": "met", "follow_up_note": "x"})

    def test_steps_refuse_before_reading_the_form(self):
        """Issue 10: only her CS supervisor closes the plan (E3.3); the others get 403 (or 404 where they do
        not see it) even for an empty or bad form, which is not looked at; the plan stays active. The same
        for a session (supervisor or coach) and cancelling (supervisor or HR)."""
        plan = self.active_plan()
        coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="n")
        audit_before = AuditEntry.objects.count()
        url = reverse("annual:coaching_close", args=[plan.pk])
        for user, status in ((self.agent, 403), (self.team_lead, 403), (self.dept_head, 403), (self.hr, 403),
                             (self.leadership, 403), (self.inspector, 403), (self.outsider, 404)):
            for data in ({}, {"outcome": "perhaps"}):
                with self.subTest(user=user.username, data=data):
                    self.login(user)
                    response = self.client.post(url, data)
                    self.assertEqual(response.status_code, status)
                    self.assertNotContains(response, "close-form", status_code=status)
        plan.refresh_from_db()
        self.assertEqual(plan.status, P.ACTIVE)
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        # The other steps too: a bad date or an overlong reason is not read before the refusal.
        for name, data, refused in (
                ("annual:coaching_session", {"held_on": "not a date"},
                 (self.agent, self.dept_head, self.hr, self.leadership, self.inspector)),
                ("annual:coaching_cancel", {"cancel_reason": "x" * 2001},
                 (self.agent, self.team_lead, self.dept_head, self.leadership, self.inspector))):
            for user in refused:
                with self.subTest(step=name, user=user.username):
                    self.login(user)
                    self.assertEqual(self.client.post(reverse(name, args=[plan.pk]), data).status_code, 403)
        plan.refresh_from_db()
        self.assertEqual(plan.status, P.ACTIVE)
        self.assertEqual(plan.sessions.count(), 1)
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        # Her supervisor with an empty form: the form again with its error, the plan still active.
        self.login(self.supervisor)
        self.assertContains(self.client.post(url, {}), 'data-testid="close-form"')
        plan.refresh_from_db()
        self.assertEqual(plan.status, P.ACTIVE)

    def test_my_coaching(self):
        self.plan_for(self.agent, month=2)  # a draft: not listed
        plan = self.active_plan()
        self.plan_for(self.other_agent)
        url = reverse("annual:coaching_mine")
        self.login(self.agent)
        response = self.client.get(url)
        self.assertContains(response, f'data-testid="my-plan-{plan.pk}"')
        self.assertContains(response, 'data-testid="my-plan-', count=1)
        self.assertNotContains(response, "<form method=\"post\" action=\"/annual/coaching")
        self.assertContains(response, f'href="{url}"')  # her nav entry
        self.assertNotContains(response, f'href="{reverse("annual:coaching_list")}"')
        self.login(self.other_agent)
        self.assertContains(self.client.get(url), "You have no coaching plan.")
        self.login(self.supervisor)  # the supervisor's nav entry is the plans list
        self.assertContains(self.client.get(reverse("annual:coaching_list")),
                            f'href="{reverse("annual:coaching_list")}"')

    def test_hr_case_decision_access(self):
        plan = self.active_plan()
        coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="n")
        coaching.plan_close(actor=self.supervisor, plan=plan, met=False, note="Still at 55")
        case = HrCase.objects.get()
        url = reverse("annual:hr_case_decide", args=[case.pk])
        self.assertStatus(self.supervisor, "post", url, 403, {"decision": "x"})  # sees it, may not decide
        self.assertStatus(self.outsider, "post", url, 404, {"decision": "x"})
        self.assertStatus(self.hr, "post", url, 200, {"decision": " "})  # the form again, with the error
        self.assertContains(self.client.post(url, {"decision": ""}), "Write the decision.")
        self.assertStatus(self.hr, "post", url, 302, {"decision": "Final warning"})
        case.refresh_from_db()
        self.assertEqual((case.status, case.decision), (HrCase.Status.DECIDED, "Final warning"))
        self.login(self.agent)  # she reads the decision on her plan
        self.assertContains(self.client.get(detail(plan)), "Final warning")
        # The HR cases list: HR and the department's readers; not the agent.
        cases = reverse("annual:hr_cases")
        self.assertStatus(self.agent, "get", cases, 403)
        self.login(self.hr)
        self.assertContains(self.client.get(cases), 'data-testid="case-CS1001"')
        self.assertNotContains(self.client.get(cases + "?status=open"), 'data-testid="case-CS1001"')
        self.login(self.outsider)
        self.assertNotContains(self.client.get(cases), 'data-testid="case-CS1001"')


class FlowThroughFormsTests(CoachingTestCase):
    def test_supervisor_runs_the_plan(self):
        plan = self.plan_for(self.agent)
        self.login(self.supervisor)
        response = self.client.get(detail(plan))
        self.assertContains(response, "totals 50.00, under the coaching trigger of 60")
        self.assertContains(response, reverse("evaluations:monthly_detail", args=[plan.monthly_evaluation_id]))
        activate = reverse("annual:coaching_activate", args=[plan.pk])
        response = self.client.post(activate, {"goals": "", "coach": "", "due_date": ""})
        self.assertContains(response, "Write the goals of the plan.")
        self.assertContains(response, "Give the due date.")
        due = TODAY + datetime.timedelta(days=20)
        response = self.client.post(activate, {"goals": "Reach 70", "coach": self.team_lead.pk,
                                               "due_date": due.isoformat()})
        self.assertRedirects(response, detail(plan))
        response = self.client.post(activate, {"goals": "Reach 70", "coach": self.team_lead.pk,
                                               "due_date": due.isoformat()})  # a double submit
        self.assertContains(response, "this step needs it Draft")
        session = reverse("annual:coaching_session", args=[plan.pk])
        self.assertRedirects(self.client.post(session, {"held_on": TODAY.isoformat(), "notes": "Call review"}),
                             detail(plan))
        close = reverse("annual:coaching_close", args=[plan.pk])
        response = self.client.post(close, {"outcome": "unmet", "follow_up_note": "55 again",
                                            "follow_up_total": "abc"})
        self.assertContains(response, "Follow-up total: enter a number from 0 to 100.")
        self.assertRedirects(self.client.post(close, {"outcome": "unmet", "follow_up_note": "55 again",
                                                      "follow_up_total": "55.5"}), detail(plan))
        plan.refresh_from_db()
        self.assertEqual(plan.status, P.CLOSED_UNMET)
        self.assertEqual(str(plan.follow_up_total), "55.50")
        self.assertTrue(HrCase.objects.filter(plan=plan, status=HrCase.Status.OPEN).exists())

    def test_annual_fail_plan_shows_the_result(self):
        # 鄭惠如 (CS2): seven months of 70, no ratings → (60 × 70) ÷ 80 = 52.50 → fail.
        final_months(self.other_agent.employee, 2026, ["70"] * 7)
        cycle = services.cycle_open(actor=self.hr, year=2026)
        services.cycle_calibrate(actor=self.hr, cycle=cycle)
        services.cycle_submit(actor=self.hr, cycle=cycle)
        services.cycle_approve(actor=self.leadership, cycle=cycle)
        with self.captureOnCommitCallbacks(execute=True):
            services.cycle_publish(actor=self.hr, cycle=cycle)
        plan = CoachingPlan.objects.get()
        self.login(self.outsider)  # CS2's supervisor
        response = self.client.get(detail(plan))
        self.assertContains(response, "The 2026 annual result is Fail (composite 52.50).")
        self.assertContains(response, f'href="{reverse("annual:board", args=[2026])}" data-testid="fact-link"')
        self.assertStatus(self.supervisor, "get", detail(plan), 404)  # CS1's supervisor
        coaching.plan_activate(actor=self.outsider, plan=plan, goals="g", coach=self.outsider,
                               due_date=TODAY + datetime.timedelta(days=10))
        self.login(self.other_agent)
        self.assertContains(self.client.get(detail(plan)),
                            f'href="{reverse("annual:mine")}" data-testid="fact-link"')

    def test_cancel_through_the_form(self):
        plan = self.plan_for(self.agent)
        self.login(self.supervisor)
        url = reverse("annual:coaching_cancel", args=[plan.pk])
        self.assertContains(self.client.post(url, {"cancel_reason": ""}), "Give the reason for cancelling.")
        self.assertRedirects(self.client.post(url, {"cancel_reason": "Corrected total"}), detail(plan))
        self.assertContains(self.client.get(detail(plan)), "Corrected total")

    def test_sync_button(self):
        month_eval(self.agent.employee, 2026, 1, "10")
        url = reverse("annual:coaching_sync")
        self.assertStatus(self.supervisor, "post", url, 403)
        self.assertStatus(self.hr, "post", url, 302)
        plan = CoachingPlan.objects.get()
        self.assertEqual(plan.created_by, self.hr)


class ListTests(CoachingTestCase):
    def setUp(self):
        super().setUp()
        self.draft = self.plan_for(self.agent, month=2)
        self.active = self.active_plan()
        self.late = self.plan_for(self.teammate_other_team)
        coaching.plan_activate(actor=self.supervisor, plan=self.late, goals="g", coach=self.supervisor,
                               due_date=TODAY + datetime.timedelta(days=5))
        # Setup: the due date passed (activation refuses a past date, so set it directly).
        CoachingPlan.objects.filter(pk=self.late.pk).update(due_date=TODAY - datetime.timedelta(days=3))
        self.theirs = self.plan_for(self.other_agent)

    def shown(self, user, query: str = "") -> set[int]:
        self.login(user)
        response = self.client.get(reverse("annual:coaching_list") + query)
        self.assertEqual(response.status_code, 200)
        return {p.pk for p in response.context["page"].object_list}

    def test_filters(self):
        self.assertEqual(self.shown(self.hr), {self.draft.pk, self.active.pk, self.late.pk, self.theirs.pk})
        self.assertEqual(self.shown(self.hr, "?status=draft"), {self.draft.pk, self.theirs.pk})
        self.assertEqual(self.shown(self.hr, "?overdue=on"), {self.late.pk})
        self.assertEqual(self.shown(self.hr, f"?department={self.cs2.pk}"), {self.theirs.pk})
        self.assertEqual(self.shown(self.hr, f"?department={self.cs1.pk}&status=draft"), {self.draft.pk})
        self.assertEqual(self.shown(self.hr, "?source=annual_fail"), set())
        self.assertEqual(self.shown(self.hr, "?source=monthly_low&status=active"), {self.active.pk, self.late.pk})
        self.assertEqual(self.shown(self.supervisor), {self.draft.pk, self.active.pk, self.late.pk})
        # The team lead sees only what she coaches.
        self.assertEqual(self.shown(self.team_lead), {self.active.pk})

    def test_todos(self):
        sup = todos_coaching.supervisor_to_do(self.supervisor)
        self.assertEqual([(t.count, t.late) for t in sup], [(1, False), (1, True)])
        self.assertEqual(sup[1].due, TODAY - datetime.timedelta(days=3))
        self.assertEqual([t.count for t in todos_coaching.supervisor_to_do(self.outsider)], [1])
        self.assertEqual(todos_coaching.supervisor_to_do(self.agent), [])
        self.assertEqual(todos_coaching.hr_to_do(self.hr), [])
        coaching.session_add(actor=self.supervisor, plan=self.late, held_on=TODAY, notes="n")
        coaching.plan_close(actor=self.supervisor, plan=self.late, met=False, note="no")
        self.assertEqual([t.count for t in todos_coaching.hr_to_do(self.hr)], [1])
        self.assertEqual(todos_coaching.hr_to_do(self.supervisor), [])
        self.login(self.supervisor)
        self.assertContains(self.client.get(reverse("core:workbench")), "Fill in the coaching plans")

    def test_list_queries_do_not_grow(self):
        url = reverse("annual:coaching_list")
        self.login(self.hr)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(ctx.captured_queries)

        before = count()
        unit = self.cs1_t2
        for i in range(6):
            user = make_person(f"extra{i}", f"客服{i}", unit, (Role.AGENT, unit), employee_no=f"CS19{i:02d}")
            self.plan_for(user)
        self.assertEqual(CoachingPlan.objects.count(), 10)
        self.assertEqual(count(), before)
        with self.assertNumQueries(before):
            self.client.get(url)
        # Pinned: session, user, her role assignments (read once for roles, nav and scopes), notifications,
        # the departments filter, the count and the page.
        self.assertEqual(before, 11)

    def test_hr_cases_queries_do_not_grow(self):
        url = reverse("annual:hr_cases")
        self.login(self.hr)

        def close_unmet(plan):
            coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="n")
            coaching.plan_close(actor=self.supervisor, plan=plan, met=False, note="no")

        close_unmet(self.late)
        with CaptureQueriesContext(connection) as ctx:
            self.assertContains(self.client.get(url), 'data-testid="case-')
        self.assertEqual(len(ctx.captured_queries), 10)
        close_unmet(self.active)
        with self.assertNumQueries(len(ctx.captured_queries)):
            self.assertContains(self.client.get(url), 'data-testid="case-', count=2)
