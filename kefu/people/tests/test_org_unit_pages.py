"""The org tree page and adding / editing units."""

import datetime
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.core.models import AuditEntry
from kefu.people.models import Employee, OrgUnit
from kefu.people.testing import KefuTestCase


def tree(response) -> dict[str, tuple[int, int]]:
    """{unit code: (active here, active in total)} as the page shows them."""
    html = response.content.decode()
    found = re.findall(
        r'data-testid="unit-row" data-code="([^"]+)".*?data-testid="unit-direct">(\d+)</td>\s*'
        r'<td class="num" data-testid="unit-total">(\d+)</td>', html, re.S)
    return {code: (int(here), int(total)) for code, here, total in found}


class OrgUnitTreeTests(KefuTestCase):
    url = reverse("people:org_units")

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.sysadmin, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 200)
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(None, "get", self.url, 302)

    def test_counts_of_active_employees(self):
        # A pending hire and a leaver are not counted.
        Employee.objects.create(employee_no="P1", name="待入職", gender="F", hire_date=datetime.date(2024, 1, 1),
                                org_unit=self.cs1_t1)
        Employee.objects.filter(employee_no="CS2002").update(status=Employee.Status.LEFT,
                                                             leave_date=datetime.date(2024, 1, 1))
        self.login(self.hr)
        self.assertEqual(tree(self.client.get(self.url)), {
            "CO": (1, 11), "CS1": (2, 5), "CS1-T1": (2, 2), "CS1-T2": (1, 1),
            "CS2": (1, 1), "CS2-T1": (0, 0), "ADM": (3, 3), "HRD": (1, 1),
        })

    def test_supervisor_sees_her_subtree_without_edit_links(self):
        self.login(self.supervisor)
        response = self.client.get(self.url)
        self.assertEqual(set(tree(response)), {"CS1", "CS1-T1", "CS1-T2"})
        self.assertNotContains(response, reverse("people:unit_create"))
        self.assertNotContains(response, reverse("people:unit_edit", args=[self.cs1.pk]))

    def test_query_count_does_not_grow(self):
        self.login(self.hr)
        self.client.get(self.url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url)
        for i in range(30):
            unit = OrgUnit.objects.create(code=f"T{i}", name=f"組{i}", kind=OrgUnit.Kind.TEAM, parent=self.cs2)
            unit.path = f"{self.cs2.path}{unit.pk}/"
            unit.save()
            Employee.objects.create(employee_no=f"E{i}", name="x", gender="F", hire_date=datetime.date(2024, 1, 1),
                                    status=Employee.Status.ACTIVE, org_unit=unit)
        with self.assertNumQueries(len(few)):
            response = self.client.get(self.url)
        self.assertEqual(tree(response)["CS2"], (1, 32))


class OrgUnitCreateTests(KefuTestCase):
    url = reverse("people:unit_create")

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 403)
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(None, "get", self.url, 302)

    def test_hr_adds_a_team(self):
        self.login(self.hr)
        response = self.client.post(self.url, {"code": "CS1-T3", "name": "一部三組", "kind": "team",
                                               "parent": self.cs1.pk, "is_customer_service": "on"})
        self.assertRedirects(response, reverse("people:org_units"), fetch_redirect_response=False)
        unit = OrgUnit.objects.get(code="CS1-T3")
        self.assertEqual((unit.path, unit.is_customer_service), (f"{self.cs1.path}{unit.pk}/", True))

    def test_illegal_kind_is_reported_on_the_parent(self):
        self.login(self.hr)
        response = self.client.post(self.url, {"code": "BAD", "name": "壞", "kind": "team", "parent": self.company.pk})
        self.assertIn("parent", response.context["form"].errors)
        response = self.client.post(self.url, {"code": "CS1", "name": "重複", "kind": "team", "parent": self.cs1.pk})
        self.assertIn("code", response.context["form"].errors)
        self.assertFalse(OrgUnit.objects.filter(name__in=["壞", "重複"]).exists())


class OrgUnitEditTests(KefuTestCase):
    def url(self, unit):
        return reverse("people:unit_edit", args=[unit.pk])

    def data(self, unit, **extra):
        return {"code": unit.code, "name": unit.name, "parent": unit.parent_id,
                "is_customer_service": "on" if unit.is_customer_service else "", "active": "on" if unit.active else "",
                "reason": ""} | extra

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url(self.cs1), 200)
        self.assertStatus(self.supervisor, "get", self.url(self.cs1), 403)
        self.assertStatus(self.outsider, "get", self.url(self.cs1), 404)
        self.assertStatus(self.agent, "get", self.url(self.cs2), 404)
        self.assertStatus(None, "get", self.url(self.cs1), 302)
        self.assertStatus(self.hr, "get", reverse("people:unit_edit", args=[99999]), 404)

    def test_rename_and_move(self):
        self.login(self.hr)
        self.client.post(self.url(self.cs1_t2), self.data(self.cs1_t2, name="一部貳組", reason="更名"))
        self.assertEqual(OrgUnit.objects.get(pk=self.cs1_t2.pk).name, "一部貳組")
        self.assertEqual(AuditEntry.objects.get(action="orgunit.update").changes, {"name": ["一部二組", "一部貳組"]})
        response = self.client.post(self.url(self.cs1_t2), self.data(self.cs1_t2, name="一部貳組", parent=self.cs2.pk))
        self.assertRedirects(response, reverse("people:org_units"), fetch_redirect_response=False)
        moved = OrgUnit.objects.get(pk=self.cs1_t2.pk)
        self.assertEqual((moved.parent_id, moved.path), (self.cs2.pk, f"{self.cs2.path}{moved.pk}/"))

    def test_deactivating_a_unit_with_people_is_refused(self):
        self.login(self.hr)
        response = self.client.post(self.url(self.cs1_t2), self.data(self.cs1_t2, active=""))
        self.assertEqual(response.status_code, 200)
        self.assertIn("active", response.context["form"].errors)
        self.assertTrue(OrgUnit.objects.get(pk=self.cs1_t2.pk).active)

    def test_cannot_move_under_its_own_team(self):
        self.login(self.hr)
        response = self.client.post(self.url(self.cs1), self.data(self.cs1, parent=self.cs1_t1.pk))
        self.assertIn("parent", response.context["form"].errors)  # not a choice at all
        self.assertEqual(OrgUnit.objects.get(pk=self.cs1.pk).parent_id, self.company.pk)
