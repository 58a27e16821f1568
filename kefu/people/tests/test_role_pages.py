"""The role assignments page: system admins assign and end roles, HR reads."""

import datetime
import re

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.core.models import AuditEntry
from kefu.people.models import Role, RoleAssignment
from kefu.people.testing import KefuTestCase

D = datetime.date


def people_listed(response) -> list[str]:
    return re.findall(r'data-testid="role-row"[^>]*>\s*<td>(?:<a href="[^"]+">)?([^<]+)<', response.content.decode())


class RolesPageTests(KefuTestCase):
    url = reverse("people:roles")

    def test_access(self):
        self.assertStatus(self.sysadmin, "get", self.url, 200)
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 403)
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(None, "get", self.url, 302)

    def test_hr_reads_without_forms(self):
        self.login(self.hr)
        response = self.client.get(self.url)
        self.assertEqual(len(people_listed(response)), 12)
        self.assertNotContains(response, 'data-testid="role-assign-form"')
        self.assertNotContains(response, 'data-testid="role-end-form"')

    def test_filters(self):
        RoleAssignment.objects.create(user=self.agent, role=Role.TEAM_LEAD, org_unit=self.cs1_t1,
                                      start_date=D(2023, 1, 1), end_date=D(2023, 6, 30))
        self.login(self.sysadmin)
        self.assertEqual(people_listed(self.client.get(self.url, {"q": "CS1001"})), ["王小美"])
        self.assertEqual(people_listed(self.client.get(self.url, {"q": "CS1001", "show": "all"})), ["王小美", "王小美"])
        self.assertEqual(sorted(people_listed(self.client.get(self.url, {"role": "agent"}))), ["林雅婷", "王小美", "鄭惠如"])
        response = self.client.get(self.url, {"q": "nobody"})
        self.assertContains(response, 'data-testid="empty-state"')

    def test_sysadmin_assigns_by_employee_number(self):
        self.login(self.sysadmin)
        response = self.client.post(self.url, {"person": "CS1001", "role": "team_lead", "org_unit": self.cs1_t1.pk,
                                               "start_date": "2024-03-01", "end_date": "", "reason": "代理組長"})
        self.assertRedirects(response, self.url, fetch_redirect_response=False)
        assignment = RoleAssignment.objects.get(user=self.agent, role=Role.TEAM_LEAD)
        self.assertEqual((assignment.org_unit, assignment.start_date, assignment.end_date), (self.cs1_t1, D(2024, 3, 1), None))
        self.assertEqual(AuditEntry.objects.get(action="role.assign").reason, "代理組長")

    def test_assign_errors_name_the_field(self):
        self.login(self.sysadmin)
        response = self.client.post(self.url, {"person": "ghost", "role": "team_lead", "org_unit": self.cs1_t1.pk,
                                               "start_date": "2024-03-01", "end_date": "2024-02-01"})
        self.assertEqual(set(response.context["assign_form"].errors), {"person", "end_date"})
        self.assertFalse(RoleAssignment.objects.filter(role=Role.TEAM_LEAD, user=self.agent).exists())

    def test_hr_cannot_assign(self):
        self.assertStatus(self.hr, "post", self.url, 403, {"person": "CS1001", "role": "hr",
                                                           "org_unit": self.company.pk, "start_date": "2024-03-01"})
        self.assertFalse(RoleAssignment.objects.filter(user=self.agent, role=Role.HR).exists())

    def test_query_count_does_not_grow(self):
        self.login(self.sysadmin)
        self.client.get(self.url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url)
        User = get_user_model()
        for i in range(40):
            user = User.objects.create_user(username=f"u{i}")
            RoleAssignment.objects.create(user=user, role=Role.AGENT, org_unit=self.cs2_t1, start_date=D(2024, 1, 1))
        with self.assertNumQueries(len(few)):
            response = self.client.get(self.url)
        self.assertEqual(len(people_listed(response)), 50)


class RoleEndTests(KefuTestCase):
    def setUp(self):
        self.assignment = RoleAssignment.objects.get(user=self.team_lead)
        self.url = reverse("people:role_end", args=[self.assignment.pk])

    def test_access(self):
        data = {"end_date": "2024-06-30"}
        self.assertStatus(None, "post", self.url, 302, data)
        self.assertStatus(self.sysadmin, "get", self.url, 405)
        self.assertStatus(self.hr, "post", self.url, 403, data)          # sees it, may not change it
        self.assertStatus(self.supervisor, "post", self.url, 404, data)  # does not see it
        self.assertStatus(self.team_lead, "post", self.url, 403, data)   # her own: seen, not changed
        self.assertIsNone(RoleAssignment.objects.get(pk=self.assignment.pk).end_date)

    def test_sysadmin_ends_a_role(self):
        self.assertStatus(self.sysadmin, "post", self.url, 302, {"end_date": "2024-06-30"})
        self.assertEqual(RoleAssignment.objects.get(pk=self.assignment.pk).end_date, D(2024, 6, 30))
        self.assertTrue(AuditEntry.objects.filter(action="role.end", object_id=str(self.assignment.pk)).exists())

    def test_end_before_start_is_refused(self):
        self.login(self.sysadmin)
        response = self.client.post(self.url, {"end_date": "2023-12-31"}, follow=True)
        self.assertEqual([m.level_tag for m in response.context["messages"]], ["error"])
        self.assertIsNone(RoleAssignment.objects.get(pk=self.assignment.pk).end_date)
