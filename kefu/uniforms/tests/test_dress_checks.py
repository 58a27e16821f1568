"""Dress-code spot checks (U3.1): team leads and CS supervisors within their units and the
supervision group (inspectors) record them; violations are listed per person and department
with counts, for the page and for the inspections app (selectors.dress_violations)."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.core.models import Notification
from kefu.people.models import Employee
from kefu.uniforms import selectors, services
from kefu.uniforms.models import DressCheck
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date
MARCH_2 = D(2026, 3, 2)
FINE = {"wearing": True, "clean_tidy": True, "unaltered": True, "badge": True, "tie_or_scarf": True}


class DressTestCase(RequisitionTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.teammate = Employee.objects.get(user=cls.teammate_other_team)

    def check(self, actor, employee, on=MARCH_2, notes="", **answers) -> DressCheck:
        return services.dress_check_record(actor=actor, employee=employee, checked_on=on, notes=notes,
                                           **(FINE | answers))


class RecordTests(DressTestCase):
    def test_who_may_check_whom(self):
        self.check(self.team_lead, self.agent_employee)           # her team lead
        self.check(self.supervisor, self.teammate)                # CS1's supervisor, another team
        self.check(self.inspector, self.other_employee)           # the supervision group, anyone
        for actor, employee in ((self.team_lead, self.teammate),  # not his team
                                (self.outsider, self.agent_employee),  # CS2's supervisor
                                (self.agent, self.teammate_employee()),
                                (self.admin_clerk, self.agent_employee),
                                (self.dept_head, self.agent_employee)):
            with self.subTest(actor=actor.username), self.assertRaises(PermissionDenied):
                self.check(actor, employee)
        self.assertEqual(DressCheck.objects.count(), 3)

    def teammate_employee(self) -> Employee:
        return self.teammate

    def test_nobody_checks_herself(self):
        supervisor = Employee.objects.get(user=self.supervisor)
        with self.assertRaises(PermissionDenied):
            self.check(self.supervisor, supervisor)

    def test_a_violation_needs_notes_and_tells_her(self):
        with self.assertRaises(ValidationError) as ctx:
            self.check(self.team_lead, self.agent_employee, badge=False)
        self.assertIn("notes", ctx.exception.message_dict)
        check = self.check(self.team_lead, self.agent_employee, badge=False, tie_or_scarf=False, notes="未戴工牌與絲巾")
        self.assertEqual(check.violations, ["badge", "tie_or_scarf"])
        self.assertTrue(Notification.objects.filter(recipient=self.agent, body="未戴工牌與絲巾").exists())

    def test_not_in_the_future(self):
        with self.assertRaises(ValidationError) as ctx:
            self.check(self.team_lead, self.agent_employee, on=datetime.date.today() + datetime.timedelta(days=1))
        self.assertIn("checked_on", ctx.exception.message_dict)


class ViolationSelectorTests(DressTestCase):
    def setUp(self) -> None:
        self.check(self.team_lead, self.agent_employee, D(2026, 3, 2), badge=False, notes="未戴工牌")
        self.check(self.team_lead, self.agent_employee, D(2026, 3, 9), wearing=False, notes="穿便服")
        self.check(self.team_lead, self.agent_employee, D(2026, 3, 16))
        self.check(self.supervisor, self.teammate, D(2026, 3, 9), unaltered=False, notes="加了胸針")
        self.check(self.inspector, self.other_employee, D(2026, 3, 9), clean_tidy=False, notes="襯衫有污漬")
        self.check(self.inspector, self.other_employee, D(2026, 4, 1))

    def test_violations_per_person_and_department(self):
        summary = selectors.dress_summary(selectors.dress_checks())
        # 6 checks, 4 with a violation; one miss each for wearing, clean/tidy, unaltered, badge.
        self.assertEqual(summary["totals"]["checks"], 6)
        self.assertEqual(summary["totals"]["violations"], 4)
        self.assertEqual([summary["totals"][c] for c in selectors.DRESS_CRITERIA], [1, 1, 1, 1, 0])
        self.assertEqual([(p["employee__employee_no"], p["n_violations"]) for p in summary["per_person"]],
                         [("CS1001", 2), ("CS1005", 1), ("CS2002", 1)])
        self.assertEqual([(d["unit"].code, d["checks"], d["violations"]) for d in summary["per_department"]],
                         [("CS1", 4, 3), ("CS2", 2, 1)])

    def test_the_selector_filters_by_period_and_unit(self):
        self.assertEqual(selectors.dress_violations().count(), 4)
        self.assertEqual(selectors.dress_violations(date_from=D(2026, 3, 9), date_to=D(2026, 3, 9)).count(), 3)
        self.assertEqual(selectors.dress_violations(unit=self.cs1_t1).count(), 2)
        # With a user: only what she may see. The agent sees her own; CS2's supervisor sees CS2.
        self.assertEqual(selectors.dress_violations(user=self.agent).count(), 2)
        self.assertEqual(selectors.dress_violations(user=self.outsider).count(), 1)
        self.assertEqual(selectors.dress_violations(user=self.team_lead).count(), 2)

    def test_the_page_counts_and_filters(self):
        url = reverse("uniforms:dress_list")
        self.login(self.inspector)
        page = self.client.get(url).content.decode()
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', page)), 6)
        per_person = re.search(r'data-testid="per-person">(.*?)</ul>', page, re.S).group(1)
        self.assertEqual(re.findall(r'badge text-bg-danger">(\d+)<', per_person), ["2", "1", "1"])
        page = self.client.get(url, {"violations": "on", "unit": self.cs1.pk}).content.decode()
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', page)), 3)
        page = self.client.get(url, {"date_from": "2026-04-01"}).content.decode()
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', page)), 1)
        response = self.client.get(url, {"date_from": "2026-04-01", "date_to": "2026-03-01"})
        self.assertContains(response, "The end date is before the start date.")

    def test_the_page_runs_a_fixed_number_of_queries(self):
        url = reverse("uniforms:dress_list")
        self.login(self.inspector)
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        few_queries = len(few)
        people = [self.teammate, self.agent_employee, self.other_employee]  # three people in three teams
        for day in range(1, 20):
            self.check(self.inspector, people[day % 3], D(2026, 5, day), badge=day % 2 == 0, notes="抽查")
        with CaptureQueriesContext(connection) as many:
            page = self.client.get(url).content.decode()
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', page)), 6 + 19)
        self.assertEqual(len(many), few_queries)

    def test_who_sees_the_page(self):
        url = reverse("uniforms:dress_list")
        self.login(self.agent)
        page = self.client.get(url).content.decode()
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', page)), 3)  # her own checks only
        self.assertNotIn('data-testid="per-person"', page)
        self.login(self.other_agent)
        self.assertEqual(len(re.findall(r'data-testid="dress-row"', self.client.get(url).content.decode())), 2)
        self.client.logout()
        self.assertEqual(self.client.get(url).status_code, 302)


class DressFormTests(DressTestCase):
    def test_record_page_roles_and_submission(self):
        url = reverse("uniforms:dress_new")
        for user in (self.agent, self.admin_clerk, self.hr):
            self.assertStatus(user, "get", url, 403)
        self.assertStatus(self.team_lead, "get", url, 200)
        self.login(self.team_lead)
        data = {"employee": "CS1005", "checked_on": "2026-03-02", **{k: "1" for k in FINE}, "notes": ""}
        response = self.client.post(url, data)
        self.assertContains(response, "There is no employee with the number “CS1005” whom you may check.")
        data["employee"] = "cs1001"
        data["badge"] = "0"
        response = self.client.post(url, data)
        self.assertContains(response, "Describe what was wrong.")
        data["notes"] = "工牌未佩戴"
        self.assertRedirects(self.client.post(url, data), reverse("uniforms:dress_list"))
        check = DressCheck.objects.get()
        self.assertEqual((check.employee, check.badge, check.wearing), (self.agent_employee, False, True))
