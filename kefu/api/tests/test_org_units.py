"""GET/POST /org-units, GET/PATCH /org-units/{code}: scope, 404/403/401, validation."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.api.testing import ApiTestCase
from kefu.core.models import AuditEntry
from kefu.people.models import OrgUnit, Role, RoleAssignment
from kefu.people.testing import make_person, make_unit


class OrgUnitApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # HR for CS2 only: an editor with a narrow scope.
        cls.hr_cs2 = make_person("hr_cs2", "何美華", cls.cs2, (Role.HR, cls.cs2), employee_no="CS2900")

    # --- list ---
    def test_list_is_the_visible_scope(self):
        expected = {
            self.hr: ["CO", "CS1", "CS1-T1", "CS1-T2", "CS2", "CS2-T1", "ADM", "HRD"],
            self.supervisor: ["CS1", "CS1-T1", "CS1-T2"],
            self.team_lead: ["CS1-T1"],
            self.agent: ["CS1-T1"],  # her own unit only
            self.outsider: ["CS2", "CS2-T1"],
        }
        for user, codes in expected.items():
            with self.subTest(user=user.username):
                response = self.assertApi(user, "get", "/org-units", 200)
                self.assertEqual(sorted(u["code"] for u in response.json()), sorted(codes))

    def test_list_shape(self):
        response = self.assertApi(self.team_lead, "get", "/org-units", 200)
        self.assertEqual(response.json(), [{
            "code": "CS1-T1", "name": "一部一組", "kind": "team", "parent": "CS1",
            "is_customer_service": True, "active": True,
        }])

    def test_list_query_count_does_not_grow_with_the_units(self):
        """Issue 9: the list reads as many queries for 8 units as for 16, under several parents."""
        self.assertApi(self.hr, "get", "/org-units", 200)  # the token's last-use write
        with CaptureQueriesContext(connection) as few:
            self.assertApi(self.hr, "get", "/org-units", 200)
        for i, parent in enumerate([self.cs1, self.cs2, self.cs1_t1, self.cs2] * 2):
            make_unit(f"QX{i}", f"查詢組{i}", "team", parent)
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.assertApi(self.hr, "get", "/org-units", 200)
        self.assertEqual(len(response.json()), 8 + 8)
        self.assertIn({"QX2": "CS1-T1"}, [{u["code"]: u["parent"]} for u in response.json()])

    def test_list_anonymous_401(self):
        self.assertApi(None, "get", "/org-units", 401)

    # --- detail ---
    def test_detail(self):
        response = self.assertApi(self.supervisor, "get", "/org-units/CS1-T2", 200)
        self.assertEqual(response.json()["parent"], "CS1")
        self.assertEqual(self.assertApi(self.hr, "get", "/org-units/CO", 200).json()["parent"], None)
        self.assertApi(self.supervisor, "get", "/org-units/CS2", 404)
        self.assertApi(self.agent, "get", "/org-units/CS1", 404)
        self.assertApi(self.hr, "get", "/org-units/NOPE", 404)
        self.assertApi(None, "get", "/org-units/CS1", 401)

    # --- create ---
    def test_hr_creates_a_team(self):
        body = {"code": "CS1-T3", "name": "一部三組", "kind": "team", "parent": "CS1", "is_customer_service": True}
        response = self.assertApi(self.hr, "post", "/org-units", 201, body)
        self.assertEqual(response.json(), body | {"active": True})
        unit = OrgUnit.objects.get(code="CS1-T3")
        self.assertEqual(unit.path, f"{self.cs1.path}{unit.pk}/")
        self.assertTrue(AuditEntry.objects.filter(action="orgunit.create", object_id=str(unit.pk),
                                                  actor=self.hr).exists())

    def test_create_refused(self):
        body = {"code": "CS1-T3", "name": "一部三組", "kind": "team", "parent": "CS1"}
        self.assertApi(self.supervisor, "post", "/org-units", 403, body)
        self.assertApi(self.agent, "post", "/org-units", 403, body)
        self.assertApi(self.leadership, "post", "/org-units", 403, body)
        self.assertApi(None, "post", "/org-units", 401, body)
        # HR of CS2 cannot hang a unit under CS1, which she does not even see.
        self.assertFieldError(self.api("post", "/org-units", self.hr_cs2, body), "parent")
        self.assertFalse(OrgUnit.objects.filter(code="CS1-T3").exists())

    def test_create_validation_names_the_field(self):
        base = {"code": "X1", "name": "X", "kind": "team", "parent": "CS1"}
        self.assertFieldError(self.api("post", "/org-units", self.hr, base | {"kind": "division"}), "kind")
        self.assertFieldError(self.api("post", "/org-units", self.hr, base | {"code": "CS2"}), "code")
        self.assertFieldError(self.api("post", "/org-units", self.hr, base | {"parent": "ZZZ"}), "parent")
        # A team cannot sit under a team (the service's tree rule).
        self.assertFieldError(self.api("post", "/org-units", self.hr, base | {"parent": "CS1-T1"}), "parent")
        self.assertFieldError(self.api("post", "/org-units", self.hr, {"name": "X", "kind": "team", "parent": "CS1"}),
                              "code")
        self.assertFalse(OrgUnit.objects.filter(code="X1").exists())

    # --- update ---
    def test_hr_renames_and_moves_a_team(self):
        response = self.assertApi(self.hr, "patch", "/org-units/CS1-T2", 200,
                                  {"name": "一部貳組", "parent": "CS2", "reason": "reorganisation"})
        self.assertEqual(response.json()["name"], "一部貳組")
        self.assertEqual(response.json()["parent"], "CS2")
        self.cs1_t2.refresh_from_db()
        self.assertEqual(self.cs1_t2.path, f"{self.cs2.path}{self.cs1_t2.pk}/")
        entry = AuditEntry.objects.get(action="orgunit.update", object_id=str(self.cs1_t2.pk))
        self.assertEqual(entry.reason, "reorganisation")
        self.assertEqual(entry.changes["name"], ["一部二組", "一部貳組"])

    def test_update_allowed_404_403_401(self):
        self.assertApi(self.hr_cs2, "patch", "/org-units/CS2-T1", 200, {"name": "二部壹組"})
        self.assertApi(self.hr_cs2, "patch", "/org-units/CS1-T1", 404, {"name": "x"})  # outside her scope
        self.assertApi(self.supervisor, "patch", "/org-units/CS1-T1", 403, {"name": "x"})  # sees, may not change
        self.assertApi(self.supervisor, "patch", "/org-units/CS2-T1", 404, {"name": "x"})
        self.assertApi(self.agent, "patch", "/org-units/CS1-T1", 403, {"name": "x"})
        self.assertApi(None, "patch", "/org-units/CS1-T1", 401, {"name": "x"})
        self.assertEqual(OrgUnit.objects.get(code="CS1-T1").name, "一部一組")

    def test_update_cannot_move_out_of_scope_or_to_the_top(self):
        self.assertFieldError(self.api("patch", "/org-units/CS2-T1", self.hr_cs2, {"parent": "CS1"}), "parent")
        self.assertFieldError(self.api("patch", "/org-units/CS2-T1", self.hr_cs2, {"parent": None}), "parent")
        self.assertFieldError(self.api("patch", "/org-units/CS2-T1", self.hr_cs2, {"name": None}), "name")
        self.cs2_t1.refresh_from_db()
        self.assertEqual((self.cs2_t1.parent_id, self.cs2_t1.name), (self.cs2.pk, "二部一組"))

    def test_ended_role_loses_access(self):
        RoleAssignment.objects.filter(user=self.hr_cs2).update(end_date=datetime.date(2024, 2, 1))
        self.assertApi(self.hr_cs2, "patch", "/org-units/CS2-T1", 404, {"name": "x"})
