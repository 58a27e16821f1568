"""Rectification pages (issue 8 items 5 and 6): request form, page and steps per role, "my
rectifications", the dashboard and the workbench to-dos; access (404 / 403) and query counts."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.inspections import rectification as rs
from kefu.inspections import todos_rectification
from kefu.inspections.models import Rectification
from kefu.inspections.tests.builders_rectification import make_finding
from kefu.inspections.tests.test_rectification import IN_MEMORY, PNG
from kefu.people.testing import KefuTestCase


class ViewTestCase(KefuTestCase):
    def setUp(self) -> None:
        self.today = timezone.localdate()
        self.finding = make_finding(inspector=self.inspector, unit=self.cs1_t1)

    def make(self, *, unit=None, responsible=None, title="F", deadline_days=10) -> Rectification:
        finding = make_finding(inspector=self.inspector, unit=unit or self.cs1_t1, title=title)
        return rs.rectification_request(actor=self.inspector, finding=finding,
                                        responsible=responsible or self.team_lead, requirement="改正",
                                        deadline=self.today + datetime.timedelta(days=deadline_days))

    def set_deadline(self, rect: Rectification, days: int) -> None:
        # Past deadlines cannot be requested; an overdue one is a request whose deadline has passed.
        Rectification.objects.filter(pk=rect.pk).update(deadline=self.today + datetime.timedelta(days=days))


class RequestPageTests(ViewTestCase):
    def url(self):
        return reverse("inspections:rectification_new", args=[self.finding.pk])

    def test_picker_limited_to_the_department_and_below(self):
        self.login(self.inspector)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        options = response.context["form"].fields["responsible"].queryset
        self.assertEqual(sorted(e.employee_no for e in options), ["CS1001", "CS1002"])  # CS1-T1's agent and lead

    def test_inspector_requests(self):
        self.login(self.inspector)
        response = self.client.post(self.url(), {"responsible": self.team_lead.employee.pk,
                                                 "requirement": "補齊證據", "deadline": ""})
        rect = Rectification.objects.get()
        self.assertRedirects(response, reverse("inspections:rectification_detail", args=[rect.pk]))
        self.assertEqual(rect.deadline, self.today + datetime.timedelta(days=15))  # S3 default
        self.assertEqual(rect.responsible, self.team_lead)
        # A second post (double submit) lands on the same request.
        response = self.client.post(self.url(), {"responsible": self.team_lead.employee.pk,
                                                 "requirement": "補齊證據", "deadline": ""})
        self.assertRedirects(response, reverse("inspections:rectification_detail", args=[rect.pk]))
        self.assertEqual(Rectification.objects.count(), 1)

    def test_past_deadline_and_outside_person_shown_on_the_form(self):
        self.login(self.inspector)
        yesterday = (self.today - datetime.timedelta(days=1)).isoformat()
        response = self.client.post(self.url(), {"responsible": self.team_lead.employee.pk,
                                                 "requirement": "x", "deadline": yesterday})
        self.assertEqual(response.status_code, 200)
        self.assertIn("deadline", response.context["form"].errors)
        response = self.client.post(self.url(), {"responsible": self.other_agent.employee.pk,
                                                 "requirement": "x", "deadline": ""})
        self.assertIn("responsible", response.context["form"].errors)
        self.assertFalse(Rectification.objects.exists())

    def test_access(self):
        self.assertStatus(self.agent, "get", self.url(), 404)
        self.assertStatus(self.outsider, "get", self.url(), 404)
        self.assertStatus(self.dept_head, "get", self.url(), 404)  # no rectification yet: not hers to see
        self.assertStatus(self.hr, "get", self.url(), 403)  # reads inspections, does not request
        self.assertStatus(self.leadership, "post", self.url(), 403)
        self.assertFalse(Rectification.objects.exists())


@override_settings(STORAGES=IN_MEMORY)
class DetailAndStepsTests(ViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.rect = rs.rectification_request(actor=self.inspector, finding=self.finding, responsible=self.team_lead,
                                             requirement="補齊證據", deadline=self.today + datetime.timedelta(days=5))

    def url(self, name="rectification_detail", *extra):
        return reverse(f"inspections:{name}", args=[self.rect.pk, *extra])

    def status(self):
        return Rectification.objects.get(pk=self.rect.pk).status

    def test_who_sees_the_page(self):
        for user in (self.team_lead, self.dept_head, self.inspector, self.hr, self.leadership):
            self.assertStatus(user, "get", self.url(), 200)
        for user in (self.agent, self.outsider, self.other_agent, self.supervisor, self.admin_clerk):
            self.assertStatus(user, "get", self.url(), 404)
        # The inspection itself stays the supervision group's: no link for the department.
        inspection = reverse("inspections:inspection_detail", args=[self.finding.inspection_id])
        self.login(self.team_lead)
        self.assertNotContains(self.client.get(self.url()), f'href="{inspection}"')
        self.login(self.inspector)
        self.assertContains(self.client.get(self.url()), f'href="{inspection}"')

    def test_steps_per_role(self):
        self.login(self.team_lead)
        page = self.client.get(self.url())
        self.assertTrue(page.context["can_start"] and page.context["can_submit"])
        self.assertFalse(page.context["can_verify"])
        self.assertContains(page, 'data-testid="submit-form"')

        self.assertStatus(self.outsider, "post", self.url("rectification_start"), 404)
        self.assertStatus(self.agent, "post", self.url("rectification_submit"), 404, {"evidence": "x"})
        self.assertStatus(self.inspector, "post", self.url("rectification_start"), 403)
        self.assertEqual(self.status(), Rectification.Status.OPEN)

        self.login(self.team_lead)
        self.client.post(self.url("rectification_start"))
        self.assertEqual(self.status(), Rectification.Status.IN_PROGRESS)
        upload = SimpleUploadedFile("證據.png", PNG, "image/png")
        response = self.client.post(self.url("rectification_submit"), {"evidence": "已補齊", "attachments": [upload]})
        self.assertRedirects(response, self.url())
        self.assertEqual(self.status(), Rectification.Status.SUBMITTED)
        att = self.rect.attachments.get()
        self.assertEqual(att.original_name, "證據.png")

        self.assertStatus(self.team_lead, "post", self.url("rectification_verify"), 403)  # responsible: no
        self.assertStatus(self.dept_head, "post", self.url("rectification_verify"), 403)
        file_url = reverse("core:attachment", args=[att.pk])
        self.assertContains(self.client.get(self.url()), f'href="{file_url}"')
        self.assertStatus(self.team_lead, "get", file_url, 200)
        self.assertStatus(self.outsider, "get", file_url, 404)

        self.login(self.inspector)
        response = self.client.post(self.url("rectification_send_back"), {"reason": ""})
        self.assertEqual(self.status(), Rectification.Status.SUBMITTED)  # a reason is required
        response = self.client.post(self.url("rectification_send_back"), {"reason": "缺第 46 週"}, follow=True)
        self.assertEqual(self.status(), Rectification.Status.IN_PROGRESS)

        self.login(self.team_lead)
        page = self.client.get(self.url())
        self.assertContains(page, "缺第 46 週")  # the reason, on the page and in its history
        self.client.post(self.url("rectification_submit"), {"evidence": "已補第 46 週"})
        self.login(self.inspector)
        response = self.client.post(self.url("rectification_verify"), {"note": ""}, follow=True)
        self.assertEqual(self.status(), Rectification.Status.CLOSED)
        self.assertContains(response, 'data-testid="verified-by"')


class MineAndDashboardTests(ViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.r1 = self.make(title="一部一組 A", deadline_days=3)  # due soon
        self.r2 = self.make(title="一部一組 B", deadline_days=20)
        self.set_deadline(self.r2, -2)  # overdue
        self.r3 = self.make(unit=self.cs2_t1, responsible=self.other_agent, title="二部 C", deadline_days=30)

    def test_mine(self):
        self.login(self.team_lead)
        response = self.client.get(reverse("inspections:rectification_mine"))
        titles = [r.finding.title for r in response.context["page"].object_list]
        self.assertEqual(titles, ["一部一組 B", "一部一組 A"])  # by deadline
        self.login(self.dept_head)  # heads CS1: sees CS1's, not CS2's
        response = self.client.get(reverse("inspections:rectification_mine"))
        self.assertEqual(len(response.context["page"].object_list), 2)
        self.login(self.other_agent)
        response = self.client.get(reverse("inspections:rectification_mine"))
        self.assertEqual([r.finding.title for r in response.context["page"].object_list], ["二部 C"])

    def test_dashboard_counts_and_lists(self):
        rs.rectification_submit(actor=self.other_agent, rectification=self.r3, evidence="done")
        self.login(self.inspector)
        response = self.client.get(reverse("inspections:rectification_dashboard"))
        c = response.context["counts"]
        self.assertEqual((c["total"], c["open"], c["submitted"], c["overdue"], c["due_soon"]), (3, 2, 1, 1, 1))
        self.assertEqual([r.finding.title for r in response.context["overdue"]], ["一部一組 B"])
        self.assertEqual(response.context["overdue"][0].days_overdue, 2)
        self.assertEqual([r.finding.title for r in response.context["due_soon"]], ["一部一組 A"])
        departments = {d["org_unit__code"]: (d["total"], d["overdue"], d["submitted"])
                       for d in response.context["departments"]}
        self.assertEqual(departments, {"CS1-T1": (2, 1, 0), "CS2-T1": (1, 0, 1)})
        self.assertContains(response, 'data-testid="dept-CS1-T1"')
        chart = response.context["chart"]
        self.assertEqual(chart["labels"], ["一部一組", "二部一組"])
        self.assertEqual({s["key"]: s["data"] for s in chart["series"]},
                         {"in_hand": [1, 0], "overdue": [1, 0], "submitted": [0, 1], "closed": [0, 0]})

    def test_dashboard_filters(self):
        rs.rectification_remind_and_escalate(today=self.today)
        self.login(self.leadership)
        url = reverse("inspections:rectification_dashboard")
        response = self.client.get(url, {"overdue": "on"})
        self.assertEqual([r.finding.title for r in response.context["page"].object_list], ["一部一組 B"])
        response = self.client.get(url, {"level": "1"})
        self.assertEqual(response.context["counts"]["total"], 1)
        self.assertEqual(response.context["counts"]["level1"], 1)
        response = self.client.get(url, {"unit": self.cs2_t1.pk})
        self.assertEqual(response.context["counts"]["total"], 1)
        response = self.client.get(url, {"q": "二部"})
        self.assertEqual([r.finding.title for r in response.context["page"].object_list], ["二部 C"])

    def test_dashboard_access(self):
        url = reverse("inspections:rectification_dashboard")
        for user in (self.agent, self.team_lead, self.outsider, self.admin_clerk):
            self.assertStatus(user, "get", url, 403)
        self.login(self.dept_head)  # heads CS1: his department only
        response = self.client.get(url)
        self.assertEqual(response.context["counts"]["total"], 2)

    def test_query_counts_do_not_grow_with_rows(self):
        url = reverse("inspections:rectification_dashboard")
        mine = reverse("inspections:rectification_mine")
        self.login(self.inspector)

        def count(path: str) -> int:
            self.client.get(path)  # warm the session and the caches
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(path).status_code, 200)
            return len(ctx)

        before = count(url), count(mine)
        for i in range(4):
            r = self.make(unit=self.cs1_t2 if i % 2 else self.cs2_t1,
                          responsible=self.teammate_other_team if i % 2 else self.other_agent, title=f"X{i}")
            self.set_deadline(r, -1 - i)
        self.assertEqual((count(url), count(mine)), before)
        self.assertLessEqual(before[0], 25)


class TodoTests(ViewTestCase):
    def test_responsible_todos(self):
        open_ = self.make(title="A", deadline_days=4)
        sent_back = self.make(title="B", deadline_days=6)
        rs.rectification_submit(actor=self.team_lead, rectification=sent_back, evidence="x")
        rs.rectification_send_back(actor=self.inspector, rectification=sent_back, reason="no")
        overdue = self.make(title="C")
        self.set_deadline(overdue, -1)
        todos = {str(t.title): t for t in todos_rectification.responsible_to_do(self.team_lead)}
        self.assertEqual(todos["Rectifications overdue"].count, 1)
        self.assertTrue(todos["Rectifications overdue"].late)
        self.assertEqual(todos["Rectifications sent back: rework and submit again"].count, 1)
        self.assertEqual(todos["Rectifications to carry out"].count, 1)
        self.assertEqual(todos["Rectifications to carry out"].due, open_.deadline)
        self.assertEqual(todos_rectification.responsible_to_do(self.agent), [])
        self.assertEqual(todos_rectification.inspector_to_do(self.inspector), [])

    def test_inspector_todo_and_workbench_page(self):
        rect = self.make(title="A")
        rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="x")
        [todo] = todos_rectification.inspector_to_do(self.inspector)
        self.assertEqual(todo.count, 1)
        self.assertEqual(todos_rectification.inspector_to_do(self.dept_head), [])
        self.login(self.inspector)
        self.assertContains(self.client.get(reverse("core:workbench")), "Rectifications submitted: verify the evidence")
