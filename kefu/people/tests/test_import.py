"""employee_import: all-or-nothing, every bad row named; CSV (UTF-8, BOM, GBK) and xlsx."""

import csv
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook

from kefu.core import access
from kefu.core.models import AuditEntry
from kefu.core.tabular import ImportRejected
from kefu.people import services
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import KefuTestCase

D = datetime.date
HEADER_TW = ["工號", "姓名", "性別", "入職日期", "離職日期", "部門", "職位", "郵箱", "電話"]
HEADER_CN = ["员工编号", "姓名", "性别", "入职日期", "离职日期", "部门", "职位", "邮箱", "手机"]
TWO_NEW = [
    ["N1001", "周杰", "男", "2024-03-01", "", "CS1-T1", "客服專員", "zhou@example.com", "13800000001"],
    ["N1002", "蔡依林", "F", "2024/3/4", "", "CS2-T1", "", "", ""],
]


def csv_file(rows, *, encoding="utf-8", name="people.csv", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding))


def xlsx_file(rows, name="people.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


class ImportFormatTests(KefuTestCase):
    def assertTwoCreated(self, report):
        self.assertEqual((report.rows_read, report.created, report.updated, report.unchanged), (2, 2, 0, 0))
        zhou = Employee.objects.get(employee_no="N1001")
        self.assertEqual((zhou.name, zhou.gender, zhou.hire_date, zhou.org_unit, zhou.status),
                         ("周杰", "M", D(2024, 3, 1), self.cs1_t1, Employee.Status.PENDING))
        self.assertEqual((zhou.position, zhou.email, zhou.phone), ("客服專員", "zhou@example.com", "13800000001"))
        cai = Employee.objects.get(employee_no="N1002")
        self.assertEqual((cai.gender, cai.hire_date, cai.org_unit, cai.email), ("F", D(2024, 3, 4), self.cs2_t1, ""))
        entries = AuditEntry.objects.filter(action="employee.create", object_id__in=[str(zhou.pk), str(cai.pk)])
        self.assertEqual(entries.count(), 2)
        self.assertEqual({e.actor_id for e in entries}, {self.hr.pk})
        self.assertTrue(all("people.csv" in e.reason for e in entries))

    def test_utf8_csv_traditional_headers(self):
        self.assertTwoCreated(services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, *TWO_NEW])))

    def test_utf8_bom_csv(self):
        buffer = io.StringIO()
        csv.writer(buffer).writerows([HEADER_TW, *TWO_NEW])
        upload = SimpleUploadedFile("people.csv", buffer.getvalue().encode("utf-8-sig"))
        self.assertTwoCreated(services.employee_import(actor=self.hr, file=upload))

    def test_gbk_csv_simplified_headers(self):
        rows = [[c.replace("專員", "专员") for c in r] for r in TWO_NEW]
        report = services.employee_import(actor=self.hr, file=csv_file([HEADER_CN, *rows], encoding="gbk"))
        self.assertEqual(report.created, 2)
        self.assertEqual(Employee.objects.get(employee_no="N1001").position, "客服专员")

    def test_xlsx_with_excel_dates_and_numbers(self):
        rows = [
            HEADER_TW,
            [1001, "周杰", "male", datetime.datetime(2024, 3, 1), None, "CS1-T1", None, None, 13800000001],
            ["N1002", "蔡依林", "女", 45355, None, "cs2-t1", None, None, None],  # serial 45355 = 2024-03-04
        ]
        report = services.employee_import(actor=self.hr, file=xlsx_file(rows))
        self.assertEqual(report.created, 2)
        zhou = Employee.objects.get(employee_no="1001")
        self.assertEqual((zhou.hire_date, zhou.gender, zhou.phone), (D(2024, 3, 1), "M", "13800000001"))
        cai = Employee.objects.get(employee_no="N1002")
        self.assertEqual((cai.hire_date, cai.org_unit), (D(2024, 3, 4), self.cs2_t1))

    def test_english_headers_and_unit_by_name_with_unknown_column_warned(self):
        header = ["Employee number", "Name", "Gender", "Hire date", "Org unit code", "Notes"]
        with translation.override("en"):
            report = services.employee_import(actor=self.hr, file=csv_file([header, ["N1", "A", "O", "2024-01-02", "一部二組", "x"]]))
        self.assertEqual(Employee.objects.get(employee_no="N1").org_unit, self.cs1_t2)
        self.assertEqual(len(report.warnings), 1)
        self.assertIn("Notes", report.warnings[0])


class AllOrNothingTests(KefuTestCase):
    def test_every_bad_row_is_named_and_nothing_is_saved(self):
        rows = [
            HEADER_TW,
            ["N1", "好人", "F", "2024-01-02", "", "CS1-T1", "", "", ""],            # 2: fine
            ["N2", "壞性別", "X", "2024-01-02", "", "CS1-T1", "", "", ""],          # 3: gender
            ["N3", "無部門", "F", "2024-01-02", "", "NOPE", "", "", ""],            # 4: unit
            ["N4", "", "F", "2024-13-02", "", "CS1-T1", "", "not-an-email", ""],   # 5: name, date, e-mail
            ["N5", "早離", "M", "2024-05-01", "2024-04-30", "CS1-T1", "", "", ""],  # 6: leave before hire
            ["", "無工號", "F", "2024-01-02", "", "CS1-T1", "", "", ""],            # 7: number
            ["N6", "缺入職", "F", "", "", "CS1-T1", "", "", ""],                    # 8: hire date
        ]
        before_employees = Employee.objects.count()
        before_audit = AuditEntry.objects.count()
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file(rows))
        report = caught.exception.report
        self.assertEqual(
            [(e.row, e.field) for e in report.errors],
            [(3, "gender"), (4, "org_unit"), (5, "name"), (5, "hire_date"), (5, "email"), (6, "leave_date"),
             (7, "employee_no"), (8, "hire_date")],
        )
        self.assertIn("NOPE", report.errors[1].message)
        self.assertEqual(report.bad_rows, [3, 4, 5, 6, 7, 8])
        self.assertEqual(Employee.objects.count(), before_employees)
        self.assertFalse(Employee.objects.filter(employee_no="N1").exists())
        self.assertEqual(AuditEntry.objects.count(), before_audit)

    def test_duplicate_number_in_file(self):
        rows = [HEADER_TW, TWO_NEW[0], TWO_NEW[1], [*TWO_NEW[0][:1], "又一個", *TWO_NEW[0][2:]]]
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file(rows))
        errors = caught.exception.report.errors
        self.assertEqual([(e.row, e.field) for e in errors], [(4, "employee_no")])
        self.assertIn("2", errors[0].message)
        self.assertFalse(Employee.objects.filter(employee_no__in=["N1001", "N1002"]).exists())

    def test_missing_column_and_empty_files(self):
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file([["工號", "姓名"], ["N1", "A"]]))
        self.assertEqual({e.field for e in caught.exception.report.errors}, {"gender", "hire_date", "org_unit"})
        with self.assertRaises(ImportRejected):
            services.employee_import(actor=self.hr, file=SimpleUploadedFile("e.csv", b""))
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file([HEADER_TW]))
        self.assertEqual(caught.exception.report.errors[0].row, None)

    def test_dry_run_reports_and_saves_nothing(self):
        rows = [HEADER_TW, *TWO_NEW, ["CS1001", "王小美", "F", "2023-03-01", "", "CS1-T2", "", "agent@example.com", ""]]
        report = services.employee_import(actor=self.hr, file=csv_file(rows), dry_run=True)
        self.assertEqual((report.created, report.updated, report.unchanged), (2, 1, 0))
        self.assertTrue(report.dry_run)
        self.assertEqual([(c.row, c.action) for c in report.changes], [(2, "create"), (3, "create"), (4, "update")])
        self.assertEqual(report.changes[2].changes, {"org_unit": ("CS1-T1", "CS1-T2")})
        self.assertFalse(Employee.objects.filter(employee_no="N1001").exists())
        self.assertEqual(Employee.objects.get(employee_no="CS1001").org_unit, self.cs1_t1)


class UpdateTests(KefuTestCase):
    def test_reimporting_the_same_file_changes_nothing(self):
        services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, *TWO_NEW]))
        stamp = Employee.objects.get(employee_no="N1001").updated_at
        entries = AuditEntry.objects.count()
        report = services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, *TWO_NEW]))
        self.assertEqual((report.created, report.updated, report.unchanged), (0, 0, 2))
        self.assertEqual(AuditEntry.objects.count(), entries)
        self.assertEqual(Employee.objects.get(employee_no="N1001").updated_at, stamp)

    def test_update_by_number_keeps_columns_the_file_lacks(self):
        header = ["工號", "姓名", "性別", "入職日期", "部門", "職位"]
        rows = [header, ["CS1001", "王小美", "女", "2023-03-01", "CS1-T2", "組長助理"]]
        report = services.employee_import(actor=self.hr, file=csv_file(rows))
        self.assertEqual((report.created, report.updated), (0, 1))
        agent = Employee.objects.get(employee_no="CS1001")
        self.assertEqual((agent.org_unit, agent.position, agent.email), (self.cs1_t2, "組長助理", "agent@example.com"))
        entry = AuditEntry.objects.get(action="employee.update", object_id=str(agent.pk))
        self.assertEqual(entry.changes, {"org_unit_id": [self.cs1_t1.pk, self.cs1_t2.pk], "position": ["", "組長助理"]})

    def test_leave_date_offboards_an_active_employee(self):
        rows = [HEADER_TW, ["CS1002", "李建國", "M", "2023-03-01", "2024-02-29", "CS1-T1", "", "lead@example.com", ""]]
        report = services.employee_import(actor=self.hr, file=csv_file(rows))
        self.assertEqual(report.updated, 1)
        lead = Employee.objects.get(employee_no="CS1002")
        self.assertEqual((lead.status, lead.leave_date), (Employee.Status.LEFT, D(2024, 2, 29)))
        self.team_lead.refresh_from_db()
        self.assertFalse(self.team_lead.is_active)
        self.assertEqual(RoleAssignment.objects.get(user=self.team_lead).end_date, D(2024, 2, 29))
        self.assertTrue(AuditEntry.objects.filter(action="employee.offboard", object_id=str(lead.pk)).exists())

    def test_leave_date_rules(self):
        future = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
        row = ["CS1002", "李建國", "M", "2023-03-01", future, "CS1-T1", "", "", ""]
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, row]))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "leave_date")])
        lead = Employee.objects.get(employee_no="CS1002")
        services.employee_offboard(actor=self.hr, employee=lead, leave_date=D(2024, 2, 29))
        row[4] = ""
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, row]))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "leave_date")])
        row[4] = "2024-03-15"  # a correction of a leaver's date is a plain update
        services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, row]))
        self.assertEqual(Employee.objects.get(employee_no="CS1002").leave_date, D(2024, 3, 15))

    def test_new_past_employee_is_created_as_left(self):
        row = ["OLD1", "舊同事", "F", "2020-01-01", "2021-06-30", "CS1-T1", "", "", ""]
        services.employee_import(actor=self.hr, file=csv_file([HEADER_TW, row]))
        self.assertEqual(Employee.objects.get(employee_no="OLD1").status, Employee.Status.LEFT)


class ImportScopeTests(KefuTestCase):
    def test_editor_limited_to_cs2(self):
        RoleAssignment.objects.create(user=self.other_agent, role=Role.HR, org_unit=self.cs2, start_date=D(2024, 1, 1))
        rows = [
            HEADER_TW,
            ["N1", "一部新人", "F", "2024-01-02", "", "CS1-T1", "", "", ""],      # 2: unit outside her scope
            ["CS1001", "王小美", "F", "2023-03-01", "", "CS2-T1", "", "", ""],   # 3: employee outside her scope
            ["N2", "二部新人", "F", "2024-01-02", "", "CS2-T1", "", "", ""],      # 4: fine
        ]
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.other_agent, file=csv_file(rows))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "org_unit"), (3, "employee_no")])
        report = services.employee_import(actor=self.other_agent, file=csv_file([HEADER_TW, rows[3]]))
        self.assertEqual(report.created, 1)

    def test_supervisor_cannot_import(self):
        with self.assertRaises(ImportRejected) as caught:
            services.employee_import(actor=self.supervisor, file=csv_file([HEADER_TW, TWO_NEW[0]]))
        self.assertEqual([e.field for e in caught.exception.report.errors], ["org_unit"])


class ExportRoundTripTests(KefuTestCase):
    def test_export_imports_again_unchanged(self):
        data = services.employee_export(employees=access.visible(self.hr, Employee))
        report = services.employee_import(actor=self.hr, file=SimpleUploadedFile("export.xlsx", data))
        self.assertEqual((report.rows_read, report.created, report.updated, report.unchanged), (12, 0, 0, 12))
        self.assertEqual(len(report.warnings), 1)
        self.assertIn(services.employee_column_labels()["status"], report.warnings[0])
