"""The annual pages: allowed / 404 / 403 / anonymous, scope on the board, the agent's own result."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.annual import services
from kefu.annual.models import AnnualCycle
from kefu.annual.tests.test_services import AnnualTestCase


class PageTests(AnnualTestCase):
    def test_cycles_page(self):
        url = reverse("annual:cycles")
        for user in (self.hr, self.leadership, self.inspector, self.supervisor, self.dept_head):
            self.assertStatus(user, "get", url, 200)
        for user in (self.agent, self.team_lead, self.admin_clerk):
            self.assertStatus(user, "get", url, 403)
        self.assertStatus(None, "get", url, 302)
        self.assertStatus(self.supervisor, "post", url, 403, {"year": "2026"})
        self.assertStatus(self.hr, "post", url, 302, {"year": "2026"})
        self.assertEqual(AnnualCycle.objects.get().year, 2026)
        self.client.force_login(self.hr)
        response = self.client.post(url, {"year": "2026"}, follow=True)  # a double submit: one cycle
        self.assertContains(response, "already open")
        self.assertEqual(AnnualCycle.objects.count(), 1)
        response = self.client.post(url, {"year": "twenty"}, follow=True)
        self.assertContains(response, "Year: enter a year")

    def test_board_scope_and_roles(self):
        services.cycle_open(actor=self.hr, year=2026)
        url = reverse("annual:board", args=[2026])
        self.assertStatus(self.hr, "get", reverse("annual:board", args=[2025]), 404)
        self.assertStatus(self.agent, "get", url, 403)
        self.assertStatus(None, "get", url, 302)
        self.client.force_login(self.hr)
        response = self.client.get(url)
        self.assertContains(response, "王小美")
        self.assertContains(response, "鄭惠如")
        self.assertContains(response, "66.00")
        self.assertContains(response, "5 final monthly evaluations in 2026; 6 needed")
        self.assertContains(response, "No survey answers: satisfaction left out")
        self.assertNotContains(response, 'name="evidence"')  # HR does not enter achievements
        self.client.force_login(self.supervisor)  # CS1's supervisor: her department only
        response = self.client.get(url)
        self.assertContains(response, "王小美")
        self.assertNotContains(response, "鄭惠如")
        self.assertContains(response, 'name="evidence"', count=1)  # 王小美's; 林雅婷 is not rated

    def test_board_queries_do_not_grow_with_people(self):
        services.cycle_open(actor=self.hr, year=2026)
        url = reverse("annual:board", args=[2026])
        self.client.force_login(self.hr)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(ctx)

        small = count()
        cycle = AnnualCycle.objects.get()
        from kefu.annual.models import AnnualResult
        from kefu.people.models import Employee
        for i in range(8):
            e = Employee.objects.create(employee_no=f"X{i}", name=f"X{i}", gender="F", hire_date="2024-01-01",
                                        org_unit=self.cs1_t1, status=Employee.Status.ACTIVE)
            AnnualResult.objects.create(cycle=cycle, employee=e, rated=True, composite=Decimal(70 + i),
                                        monthly_mean=Decimal(70), final_grade="pass", proposed_grade="pass")
        self.assertEqual(count(), small)

    def test_board_pages_the_table_and_counts_everyone_in_the_distribution(self):
        """Issue 9: the table is paged; the distribution and quotas still count every visible person."""
        from unittest import mock

        from kefu.annual import views

        cycle = services.cycle_open(actor=self.hr, year=2026)
        rated = list(cycle.results.filter(rated=True).order_by("-composite").values_list("employee__employee_no",
                                                                                           flat=True))
        self.assertEqual(len(rated), 2)  # 王小美 66.00 (pass) and 鄭惠如 52.50 (fail); 林雅婷 not rated
        url = reverse("annual:board", args=[2026])
        self.client.force_login(self.hr)
        with mock.patch.object(views, "BOARD_PER_PAGE", 2):
            first = self.client.get(url)
            second = self.client.get(url, {"page": 2})
        self.assertEqual([f"result-{no}" in first.content.decode() for no in rated], [True, True])
        self.assertNotContains(first, "5 final monthly evaluations in 2026")
        self.assertContains(second, "5 final monthly evaluations in 2026")
        for response in (first, second):
            dist = {d["grade"]: d["count"] for d in response.context["dist"]}
            self.assertEqual((dist["pass"], dist["fail"], sum(dist.values())), (1, 1, 2))
            self.assertEqual(response.context["n"], 2)
        self.assertContains(first, "page=2")

    def test_grade_and_achievement_forms(self):
        cycle = services.cycle_open(actor=self.hr, year=2026)
        me = cycle.results.get(employee__user=self.agent)
        ach = reverse("annual:achievements", args=[me.pk])
        self.assertStatus(self.agent, "post", ach, 404, {"score": "90", "evidence": "x"})  # not published: unseen
        self.assertStatus(self.other_agent, "post", ach, 404, {"score": "90", "evidence": "x"})
        self.assertStatus(self.hr, "post", ach, 403, {"score": "90", "evidence": "x"})
        self.assertStatus(self.supervisor, "post", ach, 302, {"score": "90", "evidence": "Commendations"})
        me.refresh_from_db()
        self.assertEqual(me.composite, Decimal("84.00"))
        services.cycle_calibrate(actor=self.hr, cycle=cycle)
        grade = reverse("annual:grade", args=[me.pk])
        self.assertStatus(self.supervisor, "post", grade, 403, {"grade": "excellent", "reason": "x"})
        self.assertStatus(self.outsider, "post", grade, 404, {"grade": "excellent", "reason": "x"})
        self.assertStatus(None, "post", grade, 302, {"grade": "excellent", "reason": "x"})
        self.assertStatus(self.hr, "post", grade, 302, {"grade": "excellent", "reason": "Top of the team"})
        me.refresh_from_db()
        self.assertEqual(me.final_grade, "excellent")
        step = reverse("annual:transition", args=[2026])
        self.assertStatus(self.supervisor, "post", step, 403, {"step": "submit"})
        self.assertStatus(self.hr, "post", step, 302, {"step": "submit"})
        self.assertStatus(self.hr, "post", step, 403, {"step": "approve"})
        self.assertStatus(self.leadership, "post", step, 302, {"step": "approve"})
        cycle.refresh_from_db()
        self.assertEqual(cycle.status, AnnualCycle.Status.APPROVED)

    def test_my_result_only_once_published(self):
        url = reverse("annual:mine")
        cycle = services.cycle_open(actor=self.hr, year=2026)
        self.client.force_login(self.agent)
        self.assertContains(self.client.get(url), "No annual result has been published to you yet.")
        cycle = services.cycle_calibrate(actor=self.hr, cycle=cycle)
        cycle = services.cycle_submit(actor=self.hr, cycle=cycle)
        cycle = services.cycle_approve(actor=self.leadership, cycle=cycle)
        services.cycle_publish(actor=self.hr, cycle=cycle)
        response = self.client.get(url)
        self.assertContains(response, "66.00")
        self.assertNotContains(response, "52.50")  # nobody else's
        self.assertStatus(None, "get", url, 302)
