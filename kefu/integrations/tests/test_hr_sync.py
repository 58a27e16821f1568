"""HR sync: drop folder (manage.py hr_sync) and POST /api/v1/hr-sync, through kefu/people's import."""

from __future__ import annotations

import csv
import datetime
import io
import json
import shutil
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from kefu.api.testing import ApiTestCase
from kefu.core.models import AuditEntry
from kefu.integrations.models import HrSyncRun
from kefu.people.models import Employee, OrgUnit, RoleAssignment
from kefu.people.testing import KefuTestCase

UNITS = [
    ["代碼", "名稱", "類型", "上級", "客服"],
    ["CS1-T3", "一部三組", "team", "CS1", "是"],
    ["CS2", "客服二部（南）", "department", "CO", "是"],
]
EMPLOYEE_HEADER = ["员工编号", "姓名", "性别", "入职日期", "离职日期", "部门", "职位", "邮箱", "手机"]


def employees_rows(yesterday: datetime.date) -> list[list[str]]:
    return [
        EMPLOYEE_HEADER,
        # New, in the team the units file creates.
        ["N2001", "周杰", "男", "2026-11-02", "", "CS1-T3", "客服专员", "", ""],
        # Changed phone.
        ["CS1001", "王小美", "女", "2023-03-01", "", "CS1-T1", "", "agent@example.com", "13900000000"],
        # Moved from CS1-T2 to CS1-T1.
        ["CS1005", "林雅婷", "女", "2023-03-01", "", "CS1-T1", "", "agent2@example.com", ""],
        # Leaves yesterday.
        ["CS2002", "鄭惠如", "女", "2023-03-01", yesterday.isoformat(), "CS2-T1", "", "agent3@example.com", ""],
    ]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


class DropFolderTests(KefuTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix="kefu-hr-sync-"))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.yesterday = timezone.localdate() - datetime.timedelta(days=1)
        # The employees file sorts first by name, but the units file runs first.
        (self.folder / "a_employees.csv").write_bytes(csv_bytes(employees_rows(self.yesterday), "gbk"))
        (self.folder / "units.csv").write_bytes(csv_bytes(UNITS))

    def sync(self, *args: str) -> str:
        out = io.StringIO()
        call_command("hr_sync", "--folder", str(self.folder), *args, stdout=out)
        return out.getvalue()

    def test_dry_run_reports_every_change_and_changes_nothing(self):
        audit_before = AuditEntry.objects.count()
        self.sync("--dry-run")
        self.assertFalse(OrgUnit.objects.filter(code="CS1-T3").exists())
        self.assertEqual(OrgUnit.objects.get(code="CS2").name, "客服二部")
        self.assertFalse(Employee.objects.filter(employee_no="N2001").exists())
        self.assertEqual(Employee.objects.get(employee_no="CS1001").phone, "")
        self.assertEqual(Employee.objects.get(employee_no="CS1005").org_unit, self.cs1_t2)
        leaver = Employee.objects.get(employee_no="CS2002")
        self.assertEqual((leaver.status, leaver.leave_date), (Employee.Status.ACTIVE, None))
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        self.assertEqual(sorted(p.name for p in self.folder.iterdir()), [".hr_sync.lock", "a_employees.csv", "units.csv"])

        units_run, people_run = HrSyncRun.objects.order_by("pk")
        self.assertEqual((units_run.file_name, units_run.status), ("units.csv", HrSyncRun.Status.DRY_RUN))
        units = units_run.report["org_units"]
        self.assertEqual((units["created"], units["updated"], units["unchanged"]), (1, 1, 0))
        self.assertEqual(units["new"], [{"row": 2, "code": "CS1-T3", "name": "一部三組"}])
        self.assertEqual(units["changed"][0]["fields"], {"name": ["客服二部", "客服二部（南）"]})
        report = people_run.report["employees"]
        self.assertEqual((people_run.file_name, people_run.status), ("a_employees.csv", HrSyncRun.Status.DRY_RUN))
        self.assertEqual([(n["employee_no"], n["row"]) for n in report["new"]], [("N2001", 2)])
        self.assertEqual(report["changed"], [{"row": 3, "employee_no": "CS1001", "name": "王小美",
                                              "fields": {"phone": ["", "13900000000"]}}])
        self.assertEqual(report["moved"], [{"row": 4, "employee_no": "CS1005", "name": "林雅婷",
                                            "from": "CS1-T2", "to": "CS1-T1"}])
        self.assertEqual(report["leavers"], [{"row": 5, "employee_no": "CS2002", "name": "鄭惠如",
                                              "leave_date": self.yesterday.isoformat()}])

    def test_apply_creates_updates_moves_and_offboards_the_leaver(self):
        self.sync()
        t3 = OrgUnit.objects.get(code="CS1-T3")
        self.assertEqual((t3.parent, t3.kind, t3.is_customer_service), (self.cs1, OrgUnit.Kind.TEAM, True))
        self.assertEqual(OrgUnit.objects.get(code="CS2").name, "客服二部（南）")
        new = Employee.objects.get(employee_no="N2001")
        self.assertEqual((new.name, new.gender, new.org_unit, new.status), ("周杰", "M", t3, Employee.Status.PENDING))
        self.assertEqual(Employee.objects.get(employee_no="CS1001").phone, "13900000000")
        self.assertEqual(Employee.objects.get(employee_no="CS1005").org_unit, self.cs1_t1)
        # The leaver went through people's offboarding: status, leave date, roles ended, login off.
        leaver = Employee.objects.select_related("user").get(employee_no="CS2002")
        self.assertEqual((leaver.status, leaver.leave_date), (Employee.Status.LEFT, self.yesterday))
        self.assertFalse(leaver.user.is_active)
        self.assertFalse(RoleAssignment.objects.filter(user=leaver.user, end_date__isnull=True).exists())
        self.assertTrue(AuditEntry.objects.filter(action="employee.offboard", object_id=str(leaver.pk)).exists())
        # Each file once: moved to done/ with its report.
        done = sorted(p.name for p in (self.folder / "done").iterdir())
        self.assertEqual(len(done), 4)
        self.assertTrue(done[0].endswith("_a_employees.csv") and done[2].endswith("_units.csv"))
        report = json.loads((self.folder / "done" / done[1]).read_text(encoding="utf-8"))
        self.assertEqual(report["employees"]["created"], 1)
        self.assertEqual(sorted(p.name for p in self.folder.iterdir()), [".hr_sync.lock", "done"])
        self.assertEqual(set(HrSyncRun.objects.values_list("status", flat=True)), {HrSyncRun.Status.APPLIED})
        # Nothing left to do the second time.
        self.assertIn("No files to sync.", self.sync())

    def test_a_bad_row_rejects_the_whole_file_naming_the_rows(self):
        (self.folder / "units.csv").unlink()
        (self.folder / "a_employees.csv").write_bytes(csv_bytes([
            EMPLOYEE_HEADER,
            ["N3001", "好人", "女", "2026-01-05", "", "CS1-T1", "", "", ""],
            ["N3002", "壞性別", "X", "2026-01-05", "", "CS1-T1", "", "", ""],
            ["N3003", "沒部門", "女", "2026-01-05", "", "NOPE", "", "", ""],
        ], "gbk"))
        with self.assertRaises(CommandError):
            self.sync()
        self.assertFalse(Employee.objects.filter(employee_no__startswith="N300").exists())
        failed = sorted(p.name for p in (self.folder / "failed").iterdir())
        self.assertEqual(len(failed), 2)
        report = json.loads((self.folder / "failed" / failed[1]).read_text(encoding="utf-8"))
        self.assertFalse(report["ok"])
        self.assertEqual([(e["row"], e["field"]) for e in report["errors"]], [(3, "gender"), (4, "org_unit")])
        self.assertEqual(HrSyncRun.objects.get().status, HrSyncRun.Status.REJECTED)

    def test_gbk_names_arrive_intact(self):
        self.sync()
        self.assertEqual(Employee.objects.get(employee_no="N2001").position, "客服专员")

    def test_a_units_file_with_a_parent_after_its_child_and_a_bad_kind(self):
        (self.folder / "a_employees.csv").unlink()
        (self.folder / "units.csv").write_bytes(csv_bytes([
            ["code", "name", "kind", "parent"],
            ["CS3-T1", "三部一組", "團隊", "CS3"],
            ["CS3", "客服三部", "部门", "CO"],
        ]))
        self.sync()
        self.assertEqual(OrgUnit.objects.get(code="CS3-T1").parent.code, "CS3")
        (self.folder / "units.csv").write_bytes(csv_bytes([["code", "name", "kind"], ["X1", "x", "squad"]]))
        with self.assertRaises(CommandError):
            self.sync()
        self.assertFalse(OrgUnit.objects.filter(code="X1").exists())

    def test_missing_folder_is_a_clear_error(self):
        with self.assertRaisesMessage(CommandError, "does not exist"):
            call_command("hr_sync", "--folder", str(self.folder / "nope"), stdout=io.StringIO())


class HrSyncApiTests(ApiTestCase):
    def post(self, user, *, dry_run: bool, units: bytes | None = None, employees: bytes | None = None):
        data: dict = {"dry_run": "true" if dry_run else "false"}
        if units is not None:
            data["org_units"] = SimpleUploadedFile("units.csv", units)
        if employees is not None:
            data["employees"] = SimpleUploadedFile("people.csv", employees)
        return self.client.post("/api/v1/hr-sync", data, headers={"Authorization": f"Bearer {self.token(user)}"})

    def test_dry_run_then_apply(self):
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        files = {"units": csv_bytes(UNITS), "employees": csv_bytes(employees_rows(yesterday), "gbk")}
        response = self.post(self.hr, dry_run=True, **files)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["status"], "dry_run")
        self.assertEqual([m["employee_no"] for m in body["report"]["employees"]["moved"]], ["CS1005"])
        self.assertFalse(Employee.objects.filter(employee_no="N2001").exists())
        self.assertFalse(OrgUnit.objects.filter(code="CS1-T3").exists())

        response = self.post(self.hr, dry_run=False, **files)
        self.assertEqual(response.json()["status"], "applied")
        self.assertEqual(Employee.objects.get(employee_no="N2001").org_unit.code, "CS1-T3")
        self.assertEqual(Employee.objects.get(employee_no="CS2002").status, Employee.Status.LEFT)
        run = HrSyncRun.objects.order_by("-pk").first()
        self.assertEqual((run.source, run.created_by), (HrSyncRun.Source.API, self.hr))

    def test_rejected_file_answers_422_with_rows(self):
        response = self.post(self.hr, dry_run=False, employees=csv_bytes([
            EMPLOYEE_HEADER, ["N4001", "名字", "?", "2026-01-05", "", "CS1-T1", "", "", ""]]))
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["detail"][0]["row"], 2)
        self.assertEqual(response.json()["detail"][0]["field"], "gender")

    def test_only_people_editors(self):
        response = self.post(self.agent, dry_run=True, units=csv_bytes(UNITS))
        self.assertEqual(response.status_code, 403)
        response = self.client.post("/api/v1/hr-sync", {"dry_run": "true"})
        self.assertEqual(response.status_code, 401)

    def test_only_company_wide_people_editors_change_org_units(self):
        from kefu.people.models import Role

        # An HR officer whose scope is one department may sync its employees, not the org tree.
        RoleAssignment.objects.filter(user=self.hr).update(org_unit=self.cs1)
        response = self.post(self.hr, dry_run=True, units=csv_bytes(UNITS))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(RoleAssignment.objects.get(user=self.hr).role, Role.HR)

    def test_no_file_is_422(self):
        response = self.post(self.hr, dry_run=True)
        self.assertEqual(response.status_code, 422)


class HrSyncPageTests(KefuTestCase):
    def test_hr_runs_a_dry_run_on_the_page_and_reads_the_report(self):
        self.login(self.hr)
        response = self.client.post("/integrations/hr-sync/", {
            "org_units": SimpleUploadedFile("units.csv", csv_bytes(UNITS)), "dry_run": "on"})
        run = HrSyncRun.objects.get()
        self.assertRedirects(response, f"/integrations/hr-sync/{run.pk}/")
        page = self.client.get(f"/integrations/hr-sync/{run.pk}/")
        self.assertContains(page, "CS1-T3")
        self.assertFalse(OrgUnit.objects.filter(code="CS1-T3").exists())

    def test_others_cannot(self):
        self.assertStatus(self.agent, "get", "/integrations/hr-sync/", 403)
        run = HrSyncRun.objects.create(source="api", status="dry_run", report={})
        self.assertStatus(self.agent, "get", f"/integrations/hr-sync/{run.pk}/", 404)
        self.assertStatus(self.sysadmin, "get", f"/integrations/hr-sync/{run.pk}/", 200)

    def test_the_runs_page_query_count_does_not_grow_with_the_runs(self):
        """Issue 9: the runs page reads as many queries for 1 run as for 7, run by several people."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def add(i, by):
            HrSyncRun.objects.create(source="api", status="dry_run", file_name=f"units{i}.csv", created_by=by,
                                     report={})

        add(0, self.hr)
        self.login(self.hr)
        self.client.get("/integrations/hr-sync/")  # warm the session
        with CaptureQueriesContext(connection) as few:
            self.client.get("/integrations/hr-sync/")
        for i, by in enumerate([self.sysadmin, None, self.hr, self.sysadmin, self.hr, None], start=1):
            add(i, by)
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get("/integrations/hr-sync/")
        for i in range(7):
            self.assertContains(response, f"units{i}.csv")
