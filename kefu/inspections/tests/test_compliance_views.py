"""The compliance pages: the dashboard, a check's hits, run now, attach; who may do what; query counts."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.inspections import compliance
from kefu.inspections.models import ComplianceHit, ComplianceRun, Finding, Inspection
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase
from kefu.uniforms.models import Holding, ItemType, Size, Sku, Style

DASHBOARD = reverse("inspections:compliance_dashboard")
RUN_NOW = reverse("inspections:compliance_run_now")


class CompliancePagesBase(KefuTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        style = Style.objects.create(code="TOP", name="襯衫", item_type=ItemType.TOP)
        cls.sku = Sku.objects.create(style=style, size=Size.objects.create(code="M"), code="TOP-M")

    def overdue(self, employee: Employee, n: int = 1) -> None:
        """n held items overdue for renewal (policy U4.1) on the real today."""
        due = timezone.localdate() - datetime.timedelta(days=10)
        Holding.objects.bulk_create([Holding(employee=employee, sku=self.sku, issued_on=due - datetime.timedelta(days=730),
                                             renewal_due_on=due, unit_cost=Decimal("80.00")) for _ in range(n)])

    def run_checks(self) -> ComplianceRun:
        return compliance.compliance_run(actor=self.inspector)

    def inspection(self, status: str = "in_progress", title: str = "制服管理抽查") -> Inspection:
        today = timezone.localdate()
        return Inspection.objects.create(title=title, topic="uniforms", period_start=today.replace(day=1),
                                         period_end=today, status=status, lead_inspector=self.inspector,
                                         created_by=self.inspector)

    def hits_url(self, run: ComplianceRun, key: str = "renewal_overdue") -> str:
        return reverse("inspections:compliance_hits", args=[run.pk, key])


class AccessTests(CompliancePagesBase):
    def test_readers_see_the_pages_others_get_404(self):
        run = self.run_checks()
        hit_url = reverse("inspections:compliance_attach", args=[1])
        for user in (self.inspector, self.hr, self.leadership):
            self.assertStatus(user, "get", DASHBOARD, 200)
            self.assertStatus(user, "get", self.hits_url(run), 200)
        for user in (self.agent, self.team_lead, self.supervisor, self.dept_head, self.admin_clerk, self.sysadmin,
                     self.outsider):
            self.assertStatus(user, "get", DASHBOARD, 404)
            self.assertStatus(user, "get", self.hits_url(run), 404)
            self.assertStatus(user, "post", RUN_NOW, 404)
            self.assertStatus(user, "post", hit_url, 404)
        self.assertStatus(None, "get", DASHBOARD, 302)

    def test_hr_and_leadership_read_but_do_not_run_or_attach(self):
        self.overdue(self.agent.employee)
        run = self.run_checks()
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        inspection = self.inspection()
        for user in (self.hr, self.leadership):
            self.assertStatus(user, "post", RUN_NOW, 403)
            self.assertStatus(user, "post", reverse("inspections:compliance_attach", args=[hit.pk]), 403,
                              {"inspection": inspection.pk})
            response = self.client.get(DASHBOARD)
            self.assertNotContains(response, 'data-testid="run-now"')
            response = self.client.get(self.hits_url(run))
            self.assertNotContains(response, 'data-testid="attach-form"')
        self.assertEqual(ComplianceRun.objects.count(), 1)
        self.assertFalse(Finding.objects.exists())

    def test_unknown_check_or_run_is_404(self):
        run = self.run_checks()
        self.assertStatus(self.inspector, "get", reverse("inspections:compliance_hits", args=[run.pk, "nope"]), 404)
        self.assertStatus(self.inspector, "get", reverse("inspections:compliance_hits", args=[run.pk + 99,
                                                                                                "renewal_overdue"]), 404)


class DashboardTests(CompliancePagesBase):
    def test_no_run_yet(self):
        self.login(self.inspector)
        response = self.client.get(DASHBOARD)
        self.assertContains(response, 'data-testid="no-run"')

    def test_run_now_stores_a_run_and_the_dashboard_shows_counts_and_the_change(self):
        self.overdue(self.agent.employee)
        self.login(self.inspector)
        response = self.client.post(RUN_NOW, follow=True)
        self.assertRedirects(response, DASHBOARD)
        first = ComplianceRun.objects.get()
        self.assertEqual((first.trigger, first.started_by), ("manual", self.inspector))
        self.assertEqual(first.counts["renewal_overdue"], 1)
        # Two more people overdue by the next run: 3 now, 1 before → +2.
        self.overdue(self.teammate_other_team.employee)
        self.overdue(self.other_agent.employee, n=2)
        self.client.post(RUN_NOW)  # a double click: the run of a moment ago stands
        self.assertEqual(ComplianceRun.objects.count(), 1)
        ComplianceRun.objects.filter(pk=first.pk).update(started_at=first.started_at - datetime.timedelta(minutes=2))
        self.client.post(RUN_NOW)
        response = self.client.get(DASHBOARD)
        self.assertEqual(response.context["latest"].counts["renewal_overdue"], 3)
        row = next(r for r in response.context["rows"] if r["key"] == "renewal_overdue")
        self.assertEqual((row["count"], row["previous"], row["delta"], row["clause"]), (3, 1, 2, "U4.1"))
        self.assertContains(response, "+2")
        self.assertContains(response, 'data-testid="open-renewal_overdue"')
        # Who ran it reads as her name, not her login.
        self.assertContains(response, self.inspector.employee.name)
        self.assertNotContains(response, f"· {self.inspector.username}")

    def test_filter_by_department_counts_only_its_hits(self):
        self.overdue(self.agent.employee)
        self.overdue(self.teammate_other_team.employee)
        self.overdue(self.other_agent.employee)
        self.run_checks()
        self.login(self.hr)
        response = self.client.get(DASHBOARD, {"unit": self.cs2.pk})
        row = next(r for r in response.context["rows"] if r["key"] == "renewal_overdue")
        self.assertEqual((row["count"], row["previous"]), (1, None))
        response = self.client.get(DASHBOARD, {"unit": self.cs1.pk})
        row = next(r for r in response.context["rows"] if r["key"] == "renewal_overdue")
        self.assertEqual(row["count"], 2)

    def test_query_count_does_not_grow_with_hits(self):
        self.overdue(self.agent.employee)
        self.run_checks()
        self.run_checks()
        self.login(self.inspector)
        with CaptureQueriesContext(connection) as few:
            self.client.get(DASHBOARD, {"unit": self.cs1.pk})
        more = [Employee.objects.create(employee_no=f"CS19{i:02d}", name=f"客服{i}", gender="F",
                                        hire_date=datetime.date(2024, 1, 1), status="active", org_unit=self.cs1_t1)
                for i in range(15)]
        for e in more:
            self.overdue(e)
        self.run_checks()
        with CaptureQueriesContext(connection) as many:
            self.client.get(DASHBOARD, {"unit": self.cs1.pk})
        self.assertEqual(len(few), len(many))
        # session, user, roles (cached for the run check), departments, runs, hit counts per run and check;
        # the base page's unread notifications and the user's employee; the session save (3).
        with self.assertNumQueries(11):
            self.client.get(DASHBOARD, {"unit": self.cs1.pk})


class HitsPageTests(CompliancePagesBase):
    def test_hits_list_links_to_the_records(self):
        self.overdue(self.agent.employee, n=2)
        run = self.run_checks()
        self.login(self.leadership)
        response = self.client.get(self.hits_url(run))
        self.assertContains(response, "王小美 (CS1001): 2 item(s) overdue for renewal since")
        self.assertContains(response, reverse("uniforms:holdings") + "?q=CS1001")
        self.assertContains(response, "客服一部")

    def test_filter_and_query_count_bounded(self):
        for e in (self.agent, self.teammate_other_team, self.other_agent):
            self.overdue(e.employee)
        run = self.run_checks()
        self.inspection()
        self.login(self.inspector)
        response = self.client.get(self.hits_url(run), {"unit": self.cs2.pk})
        self.assertEqual([row["hit"].employee_id for row in response.context["hits"]], [self.other_agent.employee.pk])
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.hits_url(run))
        for i in range(20):
            self.overdue(Employee.objects.create(employee_no=f"CS19{i:02d}", name=f"客服{i}", gender="F",
                                                 hire_date=datetime.date(2024, 1, 1), status="active",
                                                 org_unit=self.cs1_t1))
        run2 = self.run_checks()
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(self.hits_url(run2))
        self.assertEqual(len(response.context["hits"]), 23)
        self.assertEqual(len(few), len(many))
        # session, user, roles, the run, departments, count and page of hits, inspections in progress;
        # the base page's notifications and employee; the session save (3).
        with self.assertNumQueries(13):
            self.client.get(self.hits_url(run2))


class AttachTests(CompliancePagesBase):
    def test_inspector_attaches_a_hit_to_an_inspection_in_progress(self):
        self.overdue(self.agent.employee)
        run = self.run_checks()
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        self.inspection("completed", title="已完成的檢查")
        inspection = self.inspection()
        self.login(self.inspector)
        response = self.client.get(self.hits_url(run))
        self.assertEqual(response.context["inspections"], [inspection])  # only the one in progress
        url = reverse("inspections:compliance_attach", args=[hit.pk])
        response = self.client.post(url, {"inspection": inspection.pk}, follow=True)
        self.assertRedirects(response, self.hits_url(run))
        finding = Finding.objects.get()
        self.assertEqual((finding.inspection, finding.hit, finding.org_unit, finding.employee),
                         (inspection, hit, self.cs1, self.agent.employee))
        self.assertContains(response, 'data-testid="attached"')
        self.client.post(url, {"inspection": inspection.pk})  # a double submit
        self.assertEqual(Finding.objects.count(), 1)

    def test_a_hit_without_a_department_asks_for_one(self):
        self.overdue(self.agent.employee)
        run = self.run_checks()
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        ComplianceHit.objects.filter(pk=hit.pk).update(org_unit=None)
        inspection = self.inspection()
        self.login(self.inspector)
        response = self.client.get(self.hits_url(run))
        self.assertContains(response, 'name="org_unit"')
        url = reverse("inspections:compliance_attach", args=[hit.pk])
        response = self.client.post(url, {"inspection": inspection.pk}, follow=True)
        self.assertContains(response, "Choose the department concerned.")
        self.client.post(url, {"inspection": inspection.pk, "org_unit": self.admin_dept.pk})
        self.assertEqual(Finding.objects.get().org_unit, self.admin_dept)

    def test_bad_inspection_choice_is_refused_with_a_message(self):
        self.overdue(self.agent.employee)
        run = self.run_checks()
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        done = self.inspection("completed")
        self.login(self.inspector)
        url = reverse("inspections:compliance_attach", args=[hit.pk])
        response = self.client.post(url, {"inspection": "x"}, follow=True)
        self.assertContains(response, "choose an inspection that is in progress")
        response = self.client.post(url, {"inspection": done.pk}, follow=True)
        self.assertContains(response, "Choose an inspection that is in progress.")
        self.assertFalse(Finding.objects.exists())


class WorkbenchTests(CompliancePagesBase):
    def test_inspectors_see_the_hits_still_to_review(self):
        self.overdue(self.agent.employee)
        self.overdue(self.other_agent.employee)
        run = self.run_checks()
        todos = compliance.compliance_to_do(self.inspector)
        self.assertEqual([(t.count, t.url) for t in todos], [(sum(run.counts.values()), DASHBOARD)])
        hit = ComplianceHit.objects.filter(run=run, check_key="renewal_overdue").first()
        compliance.hit_attach(actor=self.inspector, hit=hit, inspection=self.inspection())
        self.assertEqual(compliance.compliance_to_do(self.inspector)[0].count, sum(run.counts.values()) - 1)
        self.assertEqual(compliance.compliance_to_do(self.hr), [])


class DemoTests(CompliancePagesBase):
    def test_the_demo_step_runs_once(self):
        self.overdue(self.agent.employee)
        self.assertEqual(compliance.compliance_demo()["compliance runs"], 1)
        self.assertEqual(ComplianceRun.objects.get().counts["renewal_overdue"], 1)
        self.assertEqual(compliance.compliance_demo(), {"compliance runs": 0, "compliance hits": 0})


class CommandTests(CompliancePagesBase):
    def test_the_nightly_command_stores_a_scheduled_run(self):
        self.overdue(self.agent.employee)
        out = StringIO()
        call_command("run_compliance_checks", stdout=out)
        run = ComplianceRun.objects.get()
        self.assertEqual((run.trigger, run.started_by, run.counts["renewal_overdue"]), ("scheduled", None, 1))
        self.assertIn("renewal_overdue: 1", out.getvalue())

    def test_enqueue_hands_the_run_to_the_task_backend(self):
        self.overdue(self.agent.employee)
        out = StringIO()
        call_command("run_compliance_checks", "--enqueue", stdout=out)
        self.assertIn("Queued", out.getvalue())
        # The tests' task backend runs a job at once.
        self.assertEqual(ComplianceRun.objects.get().counts["renewal_overdue"], 1)

    def test_the_command_judges_as_of_another_day(self):
        self.overdue(self.agent.employee)  # due 10 days ago
        call_command("run_compliance_checks", "--today",
                     (timezone.localdate() - datetime.timedelta(days=10)).isoformat(), stdout=StringIO())
        self.assertEqual(ComplianceRun.objects.get().counts["renewal_overdue"], 0)  # due that day: not overdue yet
