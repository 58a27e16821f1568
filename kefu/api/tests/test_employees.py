"""/employees: list, read, create, update, upsert (PUT), onboard, offboard — scope, errors, queries."""

import datetime

from kefu.api.testing import ApiTestCase
from kefu.core.models import AuditEntry
from kefu.people.models import Employee, Role
from kefu.people.testing import make_person, make_unit

NEW = {
    "employee_no": "CS1100", "name": "蔡依琳", "gender": "F", "hire_date": "2024-07-01", "org_unit": "CS1-T2",
    "position": "客服專員", "email": "cai@example.com", "phone": "13800000000",
}


def audit_count(employee_no: str) -> int:
    pk = Employee.objects.get(employee_no=employee_no).pk
    return AuditEntry.objects.filter(object_type="people.employee", object_id=str(pk)).count()


class EmployeeApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.hr_cs2 = make_person("hr_cs2", "何美華", cls.cs2, (Role.HR, cls.cs2), employee_no="CS2900")

    # --- list ---
    def test_list_is_the_visible_scope(self):
        cs1 = ["CS1001", "CS1002", "CS1003", "CS1004", "CS1005"]
        expected = {
            self.agent: ["CS1001"],
            self.team_lead: ["CS1001", "CS1002"],
            self.supervisor: cs1,
            self.dept_head: cs1,
            self.outsider: ["CS2001", "CS2002", "CS2900"],
        }
        for user, numbers in expected.items():
            with self.subTest(user=user.username):
                response = self.assertApi(user, "get", "/employees", 200)
                self.assertEqual([e["employee_no"] for e in response.json()["items"]], numbers)
                self.assertEqual(response.json()["count"], len(numbers))
        self.assertEqual(self.assertApi(self.hr, "get", "/employees", 200).json()["count"], 13)

    def test_list_item_shape(self):
        response = self.assertApi(self.agent, "get", "/employees", 200)
        self.assertEqual(response.json(), {"count": 1, "items": [{
            "employee_no": "CS1001", "name": "王小美", "gender": "F", "hire_date": "2023-03-01",
            "leave_date": None, "status": "active", "org_unit": "CS1-T1", "position": "",
            "email": "agent@example.com", "phone": "",
        }]})

    def test_list_filters(self):
        def numbers(query, user=self.hr):
            return [e["employee_no"] for e in self.assertApi(user, "get", f"/employees?{query}", 200).json()["items"]]

        self.assertEqual(numbers("org_unit=CS1"), ["CS1001", "CS1002", "CS1003", "CS1004", "CS1005"])  # subtree
        self.assertEqual(numbers("org_unit=CS1-T2"), ["CS1005"])
        self.assertEqual(numbers("q=王小"), ["CS1001"])
        self.assertEqual(numbers("q=cs200"), ["CS2001", "CS2002"])
        self.assertEqual(numbers("status=pending"), [])
        self.assertEqual(numbers("status=active&org_unit=CS2-T1"), ["CS2002"])
        # The supervisor's filter stays inside her scope.
        self.assertEqual(numbers("org_unit=CS1-T1", self.supervisor), ["CS1001", "CS1002"])
        self.assertFieldError(self.api("get", "/employees?org_unit=CS2", self.supervisor), "org_unit")
        self.assertFieldError(self.api("get", "/employees?status=gone", self.hr), "status")

    def test_list_pages(self):
        response = self.assertApi(self.hr, "get", "/employees?limit=2&offset=3", 200)
        self.assertEqual([e["employee_no"] for e in response.json()["items"]], ["CO0001", "CS1001"])
        self.assertEqual(response.json()["count"], 13)

    def test_list_anonymous_401(self):
        self.assertApi(None, "get", "/employees", 401)

    def test_list_query_count_does_not_grow_with_the_rows(self):
        team = make_unit("QT", "查詢組", "team", self.cs1)

        def add(start, stop):
            Employee.objects.bulk_create([
                Employee(employee_no=f"Q{i:04d}", name=f"員工{i}", gender="F", hire_date=datetime.date(2024, 1, 1),
                         org_unit=team, status=Employee.Status.ACTIVE)
                for i in range(start, stop)
            ])

        def list_unit(expected_count: int) -> None:
            self.assertApi(self.supervisor, "get", "/employees?org_unit=QT", 200)  # the token's last-use write
            # token, her role assignments (employee and unit scopes), her own employee (unit scope), the unit,
            # count, page
            with self.assertNumQueries(6):
                response = self.assertApi(self.supervisor, "get", "/employees?org_unit=QT&status=active", 200)
            self.assertEqual(response.json()["count"], expected_count)
            self.assertEqual(len(response.json()["items"]), expected_count)

        add(0, 5)
        list_unit(5)
        add(5, 50)
        list_unit(50)

    # --- detail ---
    def test_detail_allowed_404_401(self):
        self.assertEqual(self.assertApi(self.team_lead, "get", "/employees/CS1001", 200).json()["name"], "王小美")
        self.assertApi(self.team_lead, "get", "/employees/CS1005", 404)  # another team
        self.assertApi(self.agent, "get", "/employees/CS1002", 404)
        self.assertApi(self.outsider, "get", "/employees/CS1001", 404)
        self.assertApi(self.hr, "get", "/employees/NOPE", 404)
        self.assertApi(None, "get", "/employees/CS1001", 401)

    # --- create ---
    def test_hr_creates_a_pending_employee(self):
        response = self.assertApi(self.hr, "post", "/employees", 201, NEW | {"reason": "spring hiring"})
        self.assertEqual(response.json(), NEW | {"status": "pending", "leave_date": None})
        entry = AuditEntry.objects.get(action="employee.create",
                                       object_id=str(Employee.objects.get(employee_no="CS1100").pk))
        self.assertEqual((entry.actor, entry.reason), (self.hr, "spring hiring"))

    def test_create_allowed_403_401(self):
        self.assertApi(self.sysadmin, "post", "/employees", 201, NEW)
        self.assertApi(self.supervisor, "post", "/employees", 403, NEW | {"employee_no": "CS1101"})
        self.assertApi(self.leadership, "post", "/employees", 403, NEW | {"employee_no": "CS1101"})
        self.assertApi(self.agent, "post", "/employees", 403, NEW | {"employee_no": "CS1101"})
        self.assertApi(None, "post", "/employees", 401, NEW | {"employee_no": "CS1101"})
        # HR of CS2 may not place anyone in CS1.
        self.assertFieldError(self.api("post", "/employees", self.hr_cs2, NEW | {"employee_no": "CS1101"}), "org_unit")
        self.assertFalse(Employee.objects.filter(employee_no="CS1101").exists())

    def test_create_validation_names_the_field(self):
        cases = [
            ({"gender": "X"}, "gender"),
            ({"org_unit": "NOPE"}, "org_unit"),
            ({"hire_date": "01/07/2024"}, "hire_date"),
            ({"hire_date": "2024-02-30"}, "hire_date"),
            ({"email": "not-an-address"}, "email"),
            ({"employee_no": "CS1001"}, "employee_no"),  # taken
            ({"name": ""}, "name"),
        ]
        for change, field in cases:
            with self.subTest(field=field, change=change):
                self.assertFieldError(self.api("post", "/employees", self.hr, NEW | change), field)
        missing = dict(NEW)
        del missing["hire_date"]
        self.assertFieldError(self.api("post", "/employees", self.hr, missing), "hire_date")
        self.assertFalse(Employee.objects.filter(employee_no="CS1100").exists())

    def test_body_that_is_not_json_is_400(self):
        response = self.client.post("/api/v1/employees", "{not json", content_type="application/json",
                                    headers={"Authorization": f"Bearer {self.token(self.hr)}"})
        self.assertEqual(response.status_code, 400)
        self.assertIsInstance(response.json()["detail"], str)

    # --- update ---
    def test_hr_updates_fields(self):
        response = self.assertApi(self.hr, "patch", "/employees/CS1001", 200,
                                  {"position": "資深客服", "org_unit": "CS1-T2", "reason": "promotion"})
        self.assertEqual((response.json()["position"], response.json()["org_unit"]), ("資深客服", "CS1-T2"))
        self.assertEqual(response.json()["name"], "王小美")  # untouched
        entry = AuditEntry.objects.filter(action="employee.update").latest("id")
        self.assertEqual(entry.changes["org_unit_id"], [self.cs1_t1.pk, self.cs1_t2.pk])
        self.assertEqual(entry.reason, "promotion")

    def test_update_allowed_404_403_401(self):
        self.assertApi(self.hr_cs2, "patch", "/employees/CS2002", 200, {"phone": "1"})
        self.assertApi(self.hr_cs2, "patch", "/employees/CS1001", 404, {"phone": "1"})  # outside her scope
        self.assertApi(self.supervisor, "patch", "/employees/CS1001", 403, {"phone": "1"})  # sees, may not change
        self.assertApi(self.agent, "patch", "/employees/CS1001", 403, {"phone": "1"})  # her own record
        self.assertApi(self.supervisor, "patch", "/employees/CS2002", 404, {"phone": "1"})
        self.assertApi(None, "patch", "/employees/CS1001", 401, {"phone": "1"})
        self.assertEqual(Employee.objects.get(employee_no="CS1001").phone, "")

    def test_update_validation(self):
        self.assertFieldError(self.api("patch", "/employees/CS1001", self.hr, {"gender": "Q"}), "gender")
        self.assertFieldError(self.api("patch", "/employees/CS1001", self.hr, {"name": None}), "name")
        self.assertFieldError(self.api("patch", "/employees/CS2002", self.hr_cs2, {"org_unit": "CS1-T1"}), "org_unit")
        self.assertFieldError(self.api("patch", "/employees/CS1001", self.hr, {"hire_date": "yesterday"}), "hire_date")
        self.assertEqual(Employee.objects.get(employee_no="CS2002").org_unit, self.cs2_t1)

    # --- upsert ---
    def test_put_creates_then_updates_then_changes_nothing(self):
        body = {k: v for k, v in NEW.items() if k != "employee_no"}
        first = self.assertApi(self.hr, "put", "/employees/CS1100", 201, body)
        self.assertEqual(first.json()["status"], "pending")
        self.assertEqual(audit_count("CS1100"), 1)
        again = self.assertApi(self.hr, "put", "/employees/CS1100", 200, body)
        self.assertEqual(again.json(), first.json())
        self.assertEqual(Employee.objects.filter(employee_no="CS1100").count(), 1)
        self.assertEqual(audit_count("CS1100"), 1)  # unchanged data: no entry
        changed = self.assertApi(self.hr, "put", "/employees/CS1100", 200, body | {"phone": "13900000000"})
        self.assertEqual(changed.json()["phone"], "13900000000")
        self.assertEqual(audit_count("CS1100"), 2)

    def test_put_replaces_the_record(self):
        body = {"name": "王小美", "gender": "F", "hire_date": "2023-03-01", "org_unit": "CS1-T1"}
        response = self.assertApi(self.hr, "put", "/employees/CS1001", 200, body)
        # Left-out optional fields are emptied, as the HR system holds none.
        self.assertEqual(response.json()["email"], "")
        self.assertEqual(response.json()["status"], "active")  # status does not move by PUT

    def test_put_allowed_404_403_401(self):
        body = {"name": "鄭惠如", "gender": "F", "hire_date": "2023-03-01", "org_unit": "CS2-T1"}
        self.assertApi(self.hr_cs2, "put", "/employees/CS2002", 200, body)
        self.assertApi(self.hr_cs2, "put", "/employees/CS1001", 404, body | {"org_unit": "CS2-T1"})
        self.assertApi(self.outsider, "put", "/employees/CS2002", 403, body)  # sees, may not change
        self.assertApi(self.outsider, "put", "/employees/CS9999", 404, body)  # no such one, and not an editor
        self.assertApi(self.agent, "put", "/employees/CS1001", 403, body | {"org_unit": "CS1-T1"})
        self.assertApi(None, "put", "/employees/CS2002", 401, body)
        self.assertFieldError(self.api("put", "/employees/CS9999", self.hr_cs2, body | {"org_unit": "CS1-T1"}),
                              "org_unit")
        self.assertFalse(Employee.objects.filter(employee_no="CS9999").exists())

    def test_put_number_in_body_must_match_the_path(self):
        response = self.api("put", "/employees/CS1100", self.hr, NEW | {"employee_no": "CS1101"})
        self.assertFieldError(response, "employee_no")
        self.assertFalse(Employee.objects.filter(employee_no__in=["CS1100", "CS1101"]).exists())
        self.assertApi(self.hr, "put", "/employees/CS1100", 201, NEW)

    def test_put_validation(self):
        body = {"name": "x", "gender": "F", "hire_date": "not a date", "org_unit": "CS1-T1"}
        self.assertFieldError(self.api("put", "/employees/CS1100", self.hr, body), "hire_date")

    # --- onboard / offboard ---
    def test_onboard_a_pending_hire(self):
        self.assertApi(self.hr, "post", "/employees", 201, NEW)
        self.assertApi(self.supervisor, "post", "/employees/CS1100/onboard", 403)
        self.assertApi(self.outsider, "post", "/employees/CS1100/onboard", 404)
        self.assertApi(self.hr_cs2, "post", "/employees/CS1100/onboard", 404)
        self.assertApi(None, "post", "/employees/CS1100/onboard", 401)
        response = self.assertApi(self.hr, "post", "/employees/CS1100/onboard", 200, {"on": "2024-07-01"})
        self.assertEqual(response.json()["status"], "active")
        # Onboarding twice is an illegal transition, explained.
        again = self.api("post", "/employees/CS1100/onboard", self.hr)
        self.assertEqual(again.status_code, 422)
        self.assertEqual(again.json()["detail"][0]["field"], None)

    def test_offboard(self):
        agent_token = self.token(self.agent)
        self.assertApi(self.supervisor, "post", "/employees/CS1001/offboard", 403, {"leave_date": "2024-06-30"})
        self.assertApi(self.outsider, "post", "/employees/CS1001/offboard", 404, {"leave_date": "2024-06-30"})
        self.assertApi(None, "post", "/employees/CS1001/offboard", 401, {"leave_date": "2024-06-30"})
        self.assertFieldError(self.api("post", "/employees/CS1001/offboard", self.hr, {"leave_date": "2020-01-01"}),
                              "leave_date")
        self.assertFieldError(self.api("post", "/employees/CS1001/offboard", self.hr, {}), "leave_date")
        response = self.assertApi(self.hr, "post", "/employees/CS1001/offboard", 200,
                                  {"leave_date": "2024-06-30", "reason": "resigned"})
        self.assertEqual((response.json()["status"], response.json()["leave_date"]), ("left", "2024-06-30"))
        self.agent.refresh_from_db()
        self.assertFalse(self.agent.is_active)
        # Her login is disabled, and so is her API token.
        self.assertEqual(self.api("get", "/employees", token=agent_token).status_code, 401)
