"""API (item 10): requisitions — create (she for herself, admin staff for anyone they manage; an
Idempotency-Key makes a retry safe) and read within scope; issuance records — read."""

from __future__ import annotations

import datetime
import json

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from kefu.api.testing import ApiTestCase
from kefu.people.models import Employee, Role
from kefu.people.testing import make_person
from kefu.uniforms import services
from kefu.uniforms.models import Entitlement, Requisition
from kefu.uniforms.testing import build_catalogue

D = datetime.date


@override_settings(LANGUAGE_CODE="en")
class RequisitionApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cat = build_catalogue(cls.admin_clerk)
        cls.main = cat["main"]
        cls.sku = cat["sku"]
        cls.agent_employee = Employee.objects.get(user=cls.agent)
        cls.cs2_head = make_person("head2", "何美華", cls.cs2, (Role.DEPT_HEAD, cls.cs2), employee_no="CS2009")
        services.entitlement_grant(actor=cls.hr, employee=cls.agent_employee, reason=Entitlement.Reason.NEW_HIRE,
                                   granted_on=D(2026, 1, 5), sets=2)

    def body(self, **extra):
        return {"reason": "new_hire", "lines": [{"sku": "TOP-S-M", "quantity": 2}, {"sku": "SKT-M", "quantity": 1}]} | extra

    def post(self, user, data, key=None):
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post("/api/v1/uniforms/requisitions", data=json.dumps(data),
                                content_type="application/json", headers=headers)

    def test_she_creates_her_own_and_reads_it(self):
        response = self.post(self.agent, self.body())
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["employee_no"], body["status"], body["reason"]), ("CS1001", "submitted", "new_hire"))
        self.assertEqual([(line["sku"], line["quantity"], line["issued"]) for line in body["lines"]],
                         [("TOP-S-M", 2, 0), ("SKT-M", 1, 0)])
        number = body["number"]
        self.assertApi(self.agent, "get", f"/uniforms/requisitions/{number}", 200)
        self.assertApi(self.dept_head, "get", f"/uniforms/requisitions/{number}", 200)
        self.assertApi(self.admin_clerk, "get", f"/uniforms/requisitions/{number}", 200)
        self.assertApi(self.cs2_head, "get", f"/uniforms/requisitions/{number}", 404)
        self.assertApi(self.other_agent, "get", f"/uniforms/requisitions/{number}", 404)
        self.assertApi(None, "get", f"/uniforms/requisitions/{number}", 401)

    def test_the_same_idempotency_key_gives_the_same_requisition(self):
        first = self.post(self.agent, self.body(), key="retry-1")
        second = self.post(self.agent, self.body(), key="retry-1")
        self.assertEqual((first.status_code, second.status_code), (201, 200))
        self.assertEqual(first.json()["number"], second.json()["number"])
        self.assertEqual(Requisition.objects.count(), 1)
        # Another caller's identical key is hers alone: it does not collide.
        other = self.post(self.admin_clerk, self.body(employee_no="CS1001", lines=[{"sku": "TIE-M", "quantity": 1}]),
                          key="retry-1")
        self.assertEqual(other.status_code, 201, other.content)

    def test_the_same_key_with_another_body_is_422_and_creates_nothing(self):
        first = self.post(self.agent, self.body(), key="retry-2")
        self.assertEqual(first.status_code, 201, first.content)
        changed = self.post(self.agent, self.body(lines=[{"sku": "TOP-S-M", "quantity": 1}]), key="retry-2")
        self.assertFieldError(changed, "Idempotency-Key")
        self.assertEqual(Requisition.objects.count(), 1)
        # The same lines in another order (and one SKU split over two lines) are the same request.
        again = self.post(self.agent, self.body(lines=[{"sku": "SKT-M", "quantity": 1}, {"sku": "TOP-S-M", "quantity": 1},
                                                       {"sku": "TOP-S-M", "quantity": 1}]), key="retry-2")
        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual(again.json()["number"], first.json()["number"])

    def test_over_the_entitlement_is_422_naming_the_lines(self):
        response = self.post(self.agent, self.body(lines=[{"sku": "TOP-S-M", "quantity": 3}]))
        self.assertFieldError(response, "lines")
        self.assertFalse(Requisition.objects.exists())

    def test_bad_input_names_the_field(self):
        self.assertFieldError(self.post(self.agent, self.body(lines=[{"sku": "NOPE", "quantity": 1}])), "lines.0.sku")
        self.assertFieldError(self.post(self.agent, self.body(lines=[])), "lines")
        self.assertFieldError(self.post(self.agent, self.body(reason="gift")), "reason")
        self.assertFieldError(self.post(self.agent, self.body(reason="extra")), "extra_reason")
        self.assertFieldError(self.post(self.agent, self.body(lines=[{"sku": "TOP-S-M", "quantity": 0}])),
                              "lines.0.quantity")

    def test_for_someone_else_only_admin_staff(self):
        # The agent cannot see CS2002: no such employee for her.
        self.assertFieldError(self.post(self.agent, self.body(employee_no="CS2002", reason="extra",
                                                              extra_reason="x")), "employee_no")
        # The department head sees CS1001 but does not fill in forms for her: 403.
        response = self.post(self.dept_head, self.body(employee_no="CS1001"))
        self.assertEqual(response.status_code, 403, response.content)
        response = self.post(self.admin_clerk, self.body(employee_no="CS1001"))
        self.assertEqual(response.status_code, 201, response.content)

    def test_list_within_scope(self):
        self.post(self.agent, self.body())
        self.post(self.admin_clerk, {"employee_no": "CS2002", "reason": "extra", "extra_reason": "備用",
                                     "lines": [{"sku": "TIE-M", "quantity": 1}]})

        def numbers(user, query=""):
            return [r["employee_no"] for r in self.assertApi(user, "get", f"/uniforms/requisitions{query}", 200)
                    .json()["items"]]
        self.assertEqual(numbers(self.agent), ["CS1001"])
        self.assertEqual(numbers(self.dept_head), ["CS1001"])
        self.assertEqual(numbers(self.cs2_head), ["CS2002"])
        self.assertEqual(numbers(self.admin_clerk), ["CS2002", "CS1001"])
        self.assertEqual(numbers(self.admin_clerk, "?reason=extra"), ["CS2002"])
        self.assertEqual(numbers(self.hr), [])

    def test_issuance_records_read_within_scope(self):
        number = self.post(self.agent, self.body()).json()["number"]
        requisition = Requisition.objects.get(number=number)
        services.requisition_approve(actor=self.dept_head, requisition=requisition)
        services.stock_receive(actor=self.admin_clerk, sku=self.sku["TOP-S-M"], location=self.main, quantity=5,
                               unit_cost="80.00")
        issuance = services.requisition_issue(actor=self.admin_clerk, requisition=requisition, location=self.main)
        body = self.assertApi(self.agent, "get", f"/uniforms/issuances/{issuance.number}", 200).json()
        self.assertEqual((body["employee_name"], body["department"], body["issued_by"], body["requisition"]),
                         ("王小美", "客服一部 / 一部一組", "clerk", number))
        self.assertEqual([(line["sku"], line["style"], line["quantity"]) for line in body["lines"]],
                         [("TOP-S-M", "夏季女襯衫", 2)])
        self.assertApi(self.other_agent, "get", f"/uniforms/issuances/{issuance.number}", 404)
        self.assertApi(None, "get", "/uniforms/issuances", 401)
        listed = self.assertApi(self.dept_head, "get", f"/uniforms/issuances?requisition={number}", 200).json()
        self.assertEqual([i["number"] for i in listed["items"]], [issuance.number])
        self.assertEqual(self.assertApi(self.cs2_head, "get", "/uniforms/issuances", 200).json()["items"], [])
        # Requisition after a partial issue: the skirt is back-ordered.
        body = self.assertApi(self.agent, "get", f"/uniforms/requisitions/{number}", 200).json()
        self.assertEqual(body["status"], "partially_issued")
        self.assertEqual([(line["sku"], line["issued"], line["backordered"]) for line in body["lines"]],
                         [("TOP-S-M", 2, 0), ("SKT-M", 0, 1)])

    def test_the_issuance_list_runs_a_fixed_number_of_queries(self):
        """Issue 9: the issuance records read as many queries for 1 record as for 5, of two people in two
        departments, each with its lines."""
        for code in ("TOP-S-M", "SKT-M", "TIE-M"):
            services.stock_receive(actor=self.admin_clerk, sku=self.sku[code], location=self.main, quantity=20,
                                   unit_cost="50.00")

        def issue(number, approver):
            requisition = Requisition.objects.get(number=number)
            services.requisition_approve(actor=approver, requisition=requisition)
            services.requisition_issue(actor=self.admin_clerk, requisition=requisition, location=self.main)

        issue(self.post(self.agent, self.body()).json()["number"], self.dept_head)
        self.assertApi(self.admin_clerk, "get", "/uniforms/issuances", 200)  # the token's last-use write
        with CaptureQueriesContext(connection) as few:
            self.assertApi(self.admin_clerk, "get", "/uniforms/issuances", 200)
        few_queries = len(few)  # now: the requests below reset the connection's query log
        for i in range(4):
            body = {"employee_no": "CS2002", "reason": "extra", "extra_reason": f"備用{i}",
                    "lines": [{"sku": "TIE-M", "quantity": 1}, {"sku": "TOP-S-M", "quantity": 1}]}
            issue(self.post(self.admin_clerk, body).json()["number"], self.cs2_head)
        with self.assertNumQueries(few_queries):
            response = self.assertApi(self.admin_clerk, "get", "/uniforms/issuances", 200)
        items = response.json()["items"]
        self.assertEqual(sorted({i["employee_no"] for i in items}), ["CS1001", "CS2002"])
        self.assertEqual(sum(len(i["lines"]) for i in items), 2 + 4 * 2)

    def test_the_list_runs_a_fixed_number_of_queries(self):
        self.post(self.agent, self.body())
        self.assertApi(self.admin_clerk, "get", "/uniforms/requisitions", 200)
        with CaptureQueriesContext(connection) as few:
            self.assertApi(self.admin_clerk, "get", "/uniforms/requisitions", 200)
        few_queries = len(few)  # now: the next requests reset the connection's query log it reads
        for i in range(6):
            self.post(self.admin_clerk, {"employee_no": "CS2002", "reason": "extra", "extra_reason": f"備用{i}",
                                         "lines": [{"sku": "TIE-M", "quantity": 1}, {"sku": "TOP-S-M", "quantity": 1}]})
        with CaptureQueriesContext(connection) as many:
            response = self.assertApi(self.admin_clerk, "get", "/uniforms/requisitions", 200)
        self.assertEqual(response.json()["count"], 7)
        self.assertEqual(few_queries, len(many))
