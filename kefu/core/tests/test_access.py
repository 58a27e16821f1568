"""The one place that answers "may this user see / change this object" (DESIGN.md, roles table)."""

import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.core import access
from kefu.core.models import Notification
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import KefuTestCase


def emp(user) -> Employee:
    return user.employee


class ScopeTests(KefuTestCase):
    def visible_nos(self, user) -> set[str]:
        return set(access.visible(user, Employee).values_list("employee_no", flat=True))

    def test_agent_sees_only_herself(self):
        self.assertEqual(self.visible_nos(self.agent), {"CS1001"})

    def test_team_lead_sees_her_team_only(self):
        self.assertEqual(self.visible_nos(self.team_lead), {"CS1001", "CS1002"})

    def test_supervisor_sees_her_department_subtree(self):
        self.assertEqual(self.visible_nos(self.supervisor), {"CS1001", "CS1002", "CS1003", "CS1004", "CS1005"})

    def test_company_wide_roles_see_everyone(self):
        everyone = set(Employee.objects.values_list("employee_no", flat=True))
        for user in (self.hr, self.leadership, self.inspector, self.admin_clerk, self.sysadmin):
            self.assertEqual(self.visible_nos(user), everyone, user.username)

    def test_ended_assignment_no_longer_counts(self):
        RoleAssignment.objects.filter(user=self.supervisor).update(end_date=datetime.date(2024, 6, 30))
        self.assertEqual(self.visible_nos(self.supervisor), {"CS1003"})  # still sees herself

    def test_future_assignment_does_not_count_yet(self):
        RoleAssignment.objects.create(
            user=self.agent, role=Role.HR, org_unit=self.company, start_date=datetime.date(2099, 1, 1)
        )
        self.assertEqual(self.visible_nos(self.agent), {"CS1001"})

    def test_inactive_or_anonymous_user_sees_nothing(self):
        from django.contrib.auth.models import AnonymousUser

        self.assertFalse(access.visible(AnonymousUser(), Employee).exists())
        self.hr.is_active = False
        self.hr.save()
        self.assertFalse(access.visible(self.hr, Employee).exists())


class HelperTests(KefuTestCase):
    def test_get_for_view_404_outside_scope(self):
        with self.assertRaises(Http404):
            access.get_for_view(self.outsider, Employee, employee_no="CS1001")
        self.assertEqual(access.get_for_view(self.supervisor, Employee, employee_no="CS1001"), emp(self.agent))

    def test_get_for_change_403_when_visible_but_not_changeable(self):
        with self.assertRaises(PermissionDenied):
            access.get_for_change(self.supervisor, Employee, employee_no="CS1001")
        with self.assertRaises(Http404):
            access.get_for_change(self.outsider, Employee, employee_no="CS1001")
        self.assertEqual(access.get_for_change(self.hr, Employee, employee_no="CS1001"), emp(self.agent))

    def test_garbage_lookup_is_404_not_500(self):
        with self.assertRaises(Http404):
            access.get_for_view(self.hr, Employee, pk="not-a-number")

    def test_model_without_a_rule_is_visible_to_nobody(self):
        Notification.objects.create(recipient=self.sysadmin, title="x")
        self.assertFalse(access.visible(self.sysadmin, Notification).exists())
        with self.assertRaises(Http404):
            access.get_for_view(self.sysadmin, Notification, title="x")

    def test_hr_scoped_to_one_department_changes_only_there(self):
        RoleAssignment.objects.filter(user=self.hr).update(org_unit=self.cs2)
        self.assertFalse(access.can_change(self.hr, emp(self.agent)))
        self.assertTrue(access.can_change(self.hr, emp(self.other_agent)))
