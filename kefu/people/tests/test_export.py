"""employee_export: the xlsx content, the user's scope, a fixed number of queries."""

import datetime
import io

from django.utils import translation
from openpyxl import load_workbook

from kefu.core import access
from kefu.people import services
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase


def read(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


class EmployeeExportTests(KefuTestCase):
    def test_content(self):
        with translation.override("en"):
            rows = read(services.employee_export(employees=access.visible(self.hr, Employee)))
        self.assertEqual(rows[0], ["Employee number", "Name", "Gender", "Hire date", "Leave date", "Org unit code",
                                   "Position", "E-mail", "Phone", "Status"])
        self.assertEqual(len(rows), 1 + 12)
        agent = next(r for r in rows if r[0] == "CS1001")
        self.assertEqual(agent, ["CS1001", "王小美", "Female", datetime.datetime(2023, 3, 1), None, "CS1-T1", None,
                                 "agent@example.com", None, "Active"])
        self.assertEqual([r[0] for r in rows[1:]], sorted(r[0] for r in rows[1:]))

    def test_chinese_headers_come_from_the_catalogue(self):
        # Whatever the language, each header is the column label in that language.
        with translation.override("zh-hans"):
            header = read(services.employee_export(employees=Employee.objects.none()))[0]
            self.assertEqual(header[0], str(translation.gettext("Employee number")))

    def test_supervisor_exports_only_cs1(self):
        rows = read(services.employee_export(employees=access.visible(self.supervisor, Employee)))
        self.assertEqual({r[0] for r in rows[1:]}, {"CS1001", "CS1002", "CS1003", "CS1004", "CS1005"})

    def test_agent_exports_herself(self):
        rows = read(services.employee_export(employees=access.visible(self.agent, Employee)))
        self.assertEqual([r[0] for r in rows[1:]], ["CS1001"])

    def test_formula_in_a_name_is_neutralised(self):
        Employee.objects.filter(employee_no="CS1001").update(name="=HYPERLINK(\"x\")", phone="+8613800000000")
        rows = read(services.employee_export(employees=Employee.objects.filter(employee_no="CS1001")))
        self.assertEqual(rows[1][1], "'=HYPERLINK(\"x\")")
        self.assertEqual(rows[1][8], "'+8613800000000")

    def test_one_query_whatever_the_size(self):
        qs = access.visible(self.hr, Employee)  # the scope lookup happens here, before the export
        with self.assertNumQueries(1):
            services.employee_export(employees=qs)
        Employee.objects.bulk_create(
            Employee(employee_no=f"B{i:04d}", name=f"批量{i}", gender="F", hire_date=datetime.date(2024, 1, 1),
                     org_unit=self.cs2_t1)
            for i in range(150)
        )
        qs = access.visible(self.hr, Employee)
        with self.assertNumQueries(1):
            data = services.employee_export(employees=qs)
        self.assertEqual(len(read(data)), 1 + 12 + 150)
