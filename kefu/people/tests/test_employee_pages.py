"""Employee pages: list, export, detail, create, edit, onboard, offboard — allowed / 404 / 403 / anonymous."""

import datetime
import io
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kefu.core.models import AuditEntry
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import KefuTestCase

D = datetime.date


def row_numbers(response) -> list[str]:
    """The employee numbers linked in the list's rows."""
    return re.findall(r'data-testid="employee-row">\s*<td><a href="[^"]+">([^<]+)</a>', response.content.decode())


def add_employees(unit, count, prefix="X"):
    Employee.objects.bulk_create(
        Employee(employee_no=f"{prefix}{i:04d}", name=f"員工{i}", gender="F", hire_date=D(2024, 1, 1),
                 status=Employee.Status.ACTIVE, org_unit=unit)
        for i in range(count)
    )


class EmployeeListTests(KefuTestCase):
    url = reverse("people:employee_list")

    def test_anonymous_goes_to_login(self):
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}", fetch_redirect_response=False)

    def test_agent_sees_only_herself(self):
        self.login(self.agent)
        self.assertEqual(row_numbers(self.client.get(self.url)), ["CS1001"])

    def test_supervisor_sees_her_department(self):
        self.login(self.supervisor)
        self.assertEqual(row_numbers(self.client.get(self.url)), ["CS1001", "CS1002", "CS1003", "CS1004", "CS1005"])

    def test_team_lead_sees_her_team(self):
        self.login(self.team_lead)
        self.assertEqual(row_numbers(self.client.get(self.url)), ["CS1001", "CS1002"])

    def test_hr_search_and_filters(self):
        self.login(self.hr)
        self.assertEqual(len(row_numbers(self.client.get(self.url))), 12)
        self.assertEqual(row_numbers(self.client.get(self.url, {"q": "王"})), ["CS1001"])
        self.assertEqual(row_numbers(self.client.get(self.url, {"q": "cs2"})), ["CS2001", "CS2002"])
        self.assertEqual(row_numbers(self.client.get(self.url, {"unit": self.cs2.pk})), ["CS2001", "CS2002"])
        response = self.client.get(self.url, {"status": "pending"})
        self.assertEqual(row_numbers(response), [])
        self.assertContains(response, 'data-testid="empty-state"')

    def test_a_unit_outside_scope_is_not_a_filter_choice(self):
        self.login(self.supervisor)
        response = self.client.get(self.url, {"unit": self.cs2.pk})
        self.assertNotIn("CS2001", row_numbers(response))
        self.assertNotContains(response, "客服二部")

    def test_pagination(self):
        add_employees(self.cs1_t1, 60)
        self.login(self.hr)
        self.assertEqual(len(row_numbers(self.client.get(self.url))), 50)
        self.assertEqual(len(row_numbers(self.client.get(self.url, {"page": 2}))), 72 - 50)

    def test_query_count_does_not_grow_with_rows(self):
        self.login(self.hr)
        self.client.get(self.url)  # warm the session
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url, {"q": "", "unit": self.cs1.pk})
        add_employees(self.cs1_t1, 120)
        with self.assertNumQueries(len(few)):
            response = self.client.get(self.url, {"q": "", "unit": self.cs1.pk})
        self.assertEqual(len(row_numbers(response)), 50)

    def test_query_count_is_pinned(self):
        add_employees(self.cs1_t1, 80)
        self.login(self.hr)
        # session, user, her role assignments (read once: roles and every scope), her own employee row,
        # count, unread notifications, the unit options, the page's rows, and the session save
        # (savepoint, update, release).
        with self.assertNumQueries(11):
            self.client.get(self.url)

    def test_nav_entry_for_non_agents(self):
        self.login(self.agent)
        self.assertNotContains(self.client.get(reverse("core:workbench")), f'href="{self.url}"')
        self.login(self.supervisor)
        self.assertContains(self.client.get(reverse("core:workbench")), f'href="{self.url}"')

    def test_editor_buttons_only_for_hr(self):
        self.login(self.supervisor)
        self.assertNotContains(self.client.get(self.url), reverse("people:employee_create"))
        self.login(self.hr)
        self.assertContains(self.client.get(self.url), reverse("people:employee_create"))


class EmployeeExportViewTests(KefuTestCase):
    url = reverse("people:employee_export")

    def numbers(self, response) -> list[str]:
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        return [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]

    def test_anonymous(self):
        self.assertStatus(None, "get", self.url, 302)

    def test_supervisor_exports_only_cs1(self):
        self.login(self.supervisor)
        response = self.client.get(self.url)
        self.assertEqual(response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.assertIn("attachment;", response["Content-Disposition"])
        self.assertEqual(self.numbers(response), ["CS1001", "CS1002", "CS1003", "CS1004", "CS1005"])

    def test_export_honours_filters(self):
        self.login(self.hr)
        self.assertEqual(self.numbers(self.client.get(self.url, {"q": "王"})), ["CS1001"])
        self.assertEqual(self.numbers(self.client.get(self.url, {"unit": self.cs2_t1.pk})), ["CS2002"])

    def test_agent_exports_herself(self):
        self.login(self.agent)
        self.assertEqual(self.numbers(self.client.get(self.url)), ["CS1001"])

    def test_query_count_does_not_grow(self):
        self.login(self.hr)
        self.client.get(self.url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url)
        add_employees(self.cs2_t1, 300)
        with self.assertNumQueries(len(few)):
            response = self.client.get(self.url)
        self.assertEqual(len(self.numbers(response)), 312)


class EmployeeDetailTests(KefuTestCase):
    def url(self, no):
        return reverse("people:employee_detail", args=[no])

    def test_access(self):
        self.assertStatus(self.agent, "get", self.url("CS1001"), 200)
        self.assertStatus(self.agent, "get", self.url("CS1005"), 404)  # a colleague
        self.assertStatus(self.supervisor, "get", self.url("CS1005"), 200)
        self.assertStatus(self.supervisor, "get", self.url("CS2002"), 404)
        self.assertStatus(self.hr, "get", self.url("NOPE"), 404)
        self.assertStatus(None, "get", self.url("CS1001"), 302)

    def test_hr_sees_fields_roles_actions_and_history(self):
        employee = Employee.objects.get(employee_no="CS1001")
        from kefu.people import services

        services.employee_update(actor=self.hr, employee=employee, position="資深客服", reason="升職")
        self.login(self.hr)
        response = self.client.get(self.url("CS1001"))
        self.assertContains(response, "王小美")
        self.assertContains(response, "資深客服")
        self.assertContains(response, 'data-testid="employee-actions"')
        self.assertContains(response, reverse("people:employee_edit", args=["CS1001"]))
        self.assertContains(response, reverse("people:employee_offboard", args=["CS1001"]))
        self.assertNotContains(response, reverse("people:employee_onboard", args=["CS1001"]))  # already active
        self.assertContains(response, 'data-testid="object-history"')
        self.assertContains(response, "升職")
        self.assertContains(response, "一部一組")  # her agent role covers CS1-T1

    def test_supervisor_sees_no_actions(self):
        self.login(self.supervisor)
        response = self.client.get(self.url("CS1001"))
        self.assertNotContains(response, 'data-testid="employee-actions"')


class EmployeeCreateTests(KefuTestCase):
    url = reverse("people:employee_create")

    def data(self, **extra):
        return {"employee_no": "N0001", "name": "新同事", "gender": "F", "hire_date": "2024-05-06",
                "org_unit": self.cs1_t1.pk, "position": "", "email": "", "phone": "", "reason": ""} | extra

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.sysadmin, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 403)
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(self.supervisor, "post", self.url, 403, self.data())
        self.assertStatus(None, "get", self.url, 302)
        self.assertFalse(Employee.objects.filter(employee_no="N0001").exists())

    def test_hr_creates_a_pending_hire(self):
        self.login(self.hr)
        response = self.client.post(self.url, self.data())
        self.assertRedirects(response, reverse("people:employee_detail", args=["N0001"]), fetch_redirect_response=False)
        employee = Employee.objects.get(employee_no="N0001")
        self.assertEqual((employee.status, employee.org_unit), (Employee.Status.PENDING, self.cs1_t1))
        self.assertTrue(AuditEntry.objects.filter(action="employee.create", object_id=str(employee.pk)).exists())

    def test_bad_input_names_the_field(self):
        self.login(self.hr)
        response = self.client.post(self.url, self.data(employee_no="CS1001", email="nope", hire_date="2024-13-01"))
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertEqual(set(form.errors), {"employee_no", "email", "hire_date"})

    def test_unit_outside_scope_is_refused(self):
        RoleAssignment.objects.create(user=self.other_agent, role=Role.HR, org_unit=self.cs2, start_date=D(2024, 1, 1))
        self.login(self.other_agent)
        response = self.client.post(self.url, self.data())
        self.assertIn("org_unit", response.context["form"].errors)
        self.assertFalse(Employee.objects.filter(employee_no="N0001").exists())


class EmployeeEditTests(KefuTestCase):
    def url(self, no):
        return reverse("people:employee_edit", args=[no])

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url("CS1001"), 200)
        self.assertStatus(self.sysadmin, "get", self.url("CS1001"), 200)
        self.assertStatus(self.supervisor, "get", self.url("CS1001"), 403)
        self.assertStatus(self.supervisor, "get", self.url("CS2002"), 404)
        self.assertStatus(self.agent, "get", self.url("CS1001"), 403)  # herself: seen, not changed
        self.assertStatus(self.agent, "get", self.url("CS1005"), 404)
        self.assertStatus(None, "get", self.url("CS1001"), 302)

    def test_hr_moves_her_to_another_team(self):
        self.login(self.hr)
        data = {"name": "王小美", "gender": "F", "hire_date": "2023-03-01", "org_unit": self.cs1_t2.pk,
                "position": "", "email": "agent@example.com", "phone": "", "reason": "調組"}
        response = self.client.post(self.url("CS1001"), data)
        self.assertRedirects(response, reverse("people:employee_detail", args=["CS1001"]), fetch_redirect_response=False)
        self.assertEqual(Employee.objects.get(employee_no="CS1001").org_unit, self.cs1_t2)
        entry = AuditEntry.objects.get(action="employee.update")
        self.assertEqual((entry.changes, entry.reason), ({"org_unit_id": [self.cs1_t1.pk, self.cs1_t2.pk]}, "調組"))


class OnboardOffboardPageTests(KefuTestCase):
    def setUp(self):
        self.pending = Employee.objects.create(employee_no="P0001", name="待入職", gender="M", hire_date=D(2024, 5, 6),
                                               org_unit=self.cs1_t1)

    def test_onboard_access_and_effect(self):
        url = reverse("people:employee_onboard", args=["P0001"])
        self.assertStatus(None, "post", url, 302)
        self.assertStatus(self.hr, "get", url, 405)
        self.assertStatus(self.supervisor, "post", url, 403)
        self.assertStatus(self.outsider, "post", url, 404)
        self.pending.refresh_from_db()
        self.assertEqual(self.pending.status, Employee.Status.PENDING)
        self.assertStatus(self.hr, "post", url, 302)
        self.pending.refresh_from_db()
        self.assertEqual(self.pending.status, Employee.Status.ACTIVE)
        # Twice: an error message, no change.
        self.login(self.hr)
        response = self.client.post(url, follow=True)
        self.assertEqual([m.level_tag for m in response.context["messages"]][-1], "error")
        self.assertEqual(AuditEntry.objects.filter(action="employee.onboard").count(), 1)

    def test_offboard_access(self):
        url = reverse("people:employee_offboard", args=["CS1002"])
        self.assertStatus(self.hr, "get", url, 200)
        self.assertStatus(self.supervisor, "get", url, 403)
        self.assertStatus(self.outsider, "get", url, 404)
        self.assertStatus(None, "get", url, 302)

    def test_offboard_form(self):
        url = reverse("people:employee_offboard", args=["CS1002"])
        self.login(self.hr)
        future = timezone.localdate() + datetime.timedelta(days=3)
        response = self.client.post(url, {"leave_date": future.isoformat(), "reason": "辭職"})
        self.assertIn("leave_date", response.context["form"].errors)
        response = self.client.post(url, {"leave_date": "2024-06-30", "reason": ""})
        self.assertIn("reason", response.context["form"].errors)
        self.assertEqual(Employee.objects.get(employee_no="CS1002").status, Employee.Status.ACTIVE)
        response = self.client.post(url, {"leave_date": "2024-06-30", "reason": "辭職"})
        self.assertRedirects(response, reverse("people:employee_detail", args=["CS1002"]), fetch_redirect_response=False)
        lead = Employee.objects.select_related("user").get(employee_no="CS1002")
        self.assertEqual((lead.status, lead.leave_date, lead.user.is_active), (Employee.Status.LEFT, D(2024, 6, 30), False))
        self.assertEqual(AuditEntry.objects.get(action="employee.offboard").reason, "辭職")
