"""Pay proposals from the annual grade (policy E3.1): amounts, snapshot, import, approval, export.

Facts (tests/test_services.py): 王小美 (agent, CS1001) composite 66.00 → pass, HR calibrates her to excellent;
鄭惠如 (other_agent) composite 52.50 → fail. Parameters in force: excellent +5 %, good +2 %, pass 0, fail −3 %.
Amounts by hand: 8,000.00 × 5 % = 400.00; 6,543.21 × −3 % = −196.2963 → −196.30 (half up);
8,000.25 × 2 % = 160.005 → 160.01 half up (half-even would give 160.00).
The cycle is published on Wed 2026-09-30 10:00 (setup); the window closes Tue 2026-10-13 18:00 (test_appeals).
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from kefu.annual import appeals, pay, services
from kefu.annual.models import AnnualCycle, PayProposal
from kefu.annual.tests.test_services import AnnualTestCase
from kefu.core import tabular
from kefu.core.models import AuditEntry
from kefu.core.services import policy_set
from kefu.service.tests.builders import local

PUBLISHED = local(2026, 9, 30, 10, 0)
AFTER_WINDOW = local(2026, 10, 14, 9, 0)


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


class PayTestCase(AnnualTestCase):
    def publish(self, *, excellent: bool = True) -> AnnualCycle:
        cycle = self.open()
        services.cycle_calibrate(actor=self.hr, cycle=cycle)
        if excellent:
            services.grade_change(actor=self.hr, result=self.result(cycle, self.agent), grade="excellent",
                                  reason="Top of the team all year")
        services.cycle_submit(actor=self.hr, cycle=cycle)
        services.cycle_approve(actor=self.leadership, cycle=cycle)
        services.cycle_publish(actor=self.hr, cycle=cycle)
        AnnualCycle.objects.filter(pk=cycle.pk).update(published_at=PUBLISHED)  # setup: a known publication day
        cycle.refresh_from_db()
        return cycle

    def proposal(self, cycle: AnnualCycle, user) -> PayProposal:
        return PayProposal.objects.get(result__cycle=cycle, result__employee__user=user)

    def set_both(self, cycle: AnnualCycle) -> None:
        pay.proposals_prepare(actor=self.hr, cycle=cycle)
        pay.base_pay_set(actor=self.hr, proposal=self.proposal(cycle, self.agent), base_pay="8000.00")
        pay.base_pay_set(actor=self.hr, proposal=self.proposal(cycle, self.other_agent), base_pay="6543.21")


class AmountTests(PayTestCase):
    def test_amount_for_by_hand(self):
        self.assertEqual(pay.amount_for(Decimal("8000.00"), Decimal("5")), Decimal("400.00"))
        self.assertEqual(pay.amount_for(Decimal("6543.21"), Decimal("-3")), Decimal("-196.30"))
        self.assertEqual(pay.amount_for(Decimal("8000.25"), Decimal("2")), Decimal("160.01"))
        self.assertEqual(pay.amount_for(Decimal("5000.00"), Decimal("0")), Decimal("0.00"))
        self.assertIsNone(pay.amount_for(None, Decimal("5")))

    def test_proposals_follow_final_grade_and_base_pay(self):
        cycle = self.publish()
        self.assertEqual(pay.proposals_prepare(actor=self.hr, cycle=cycle), 2)
        self.assertEqual(pay.proposals_prepare(actor=self.hr, cycle=cycle), 0)  # idempotent
        mine = self.proposal(cycle, self.agent)
        self.assertEqual((mine.grade, mine.pct, mine.base_pay, mine.amount), ("excellent", Decimal("5.00"), None, None))
        self.set_both(cycle)
        mine, hers = self.proposal(cycle, self.agent), self.proposal(cycle, self.other_agent)
        self.assertEqual((mine.base_pay, mine.amount), (Decimal("8000.00"), Decimal("400.00")))
        self.assertEqual((hers.grade, hers.pct, hers.amount), ("fail", Decimal("-3.00"), Decimal("-196.30")))
        self.assertTrue(AuditEntry.objects.filter(action="annual_pay.base_pay").exists())

    def test_only_after_publication_and_only_hr(self):
        cycle = self.open()
        with self.assertRaises(ValidationError):
            pay.proposals_prepare(actor=self.hr, cycle=cycle)
        cycle = AnnualCycle.objects.get(pk=cycle.pk)
        for user in (self.supervisor, self.leadership, self.agent):
            with self.assertRaises(PermissionDenied):
                pay.proposals_prepare(actor=user, cycle=cycle)

    def test_bad_base_pay(self):
        cycle = self.publish()
        pay.proposals_prepare(actor=self.hr, cycle=cycle)
        p = self.proposal(cycle, self.agent)
        for bad in ("abc", "-1", "8000.123", ""):
            with self.assertRaises(ValidationError, msg=bad):
                pay.base_pay_set(actor=self.hr, proposal=p, base_pay=bad)
        self.assertIsNone(self.proposal(cycle, self.agent).base_pay)
        pay.base_pay_set(actor=self.hr, proposal=p, base_pay="8,000.25")
        self.assertEqual(self.proposal(cycle, self.agent).base_pay, Decimal("8000.25"))


class SnapshotTests(PayTestCase):
    def test_percentages_snapshotted_on_the_cycle(self):
        cycle = self.publish()
        self.assertEqual(cycle.parameters["pay_change_pct"],
                         {"excellent": "5", "good": "2", "pass": "0", "fail": "-3"})
        self.assertEqual(cycle.parameters["award_quota"], {"outstanding": "3", "service_star": "5"})
        # A later change to the parameter, even back-dated into the year, does not move this cycle's pay.
        policy_set(key="annual.pay_change_pct", value={"excellent": "8", "good": "3", "pass": "0", "fail": "-5"},
                   effective_from=datetime.date(2026, 12, 1), actor=self.sysadmin, note="new pay rules")
        self.set_both(cycle)
        self.assertEqual(self.proposal(cycle, self.agent).amount, Decimal("400.00"))
        self.assertEqual(self.proposal(cycle, self.other_agent).amount, Decimal("-196.30"))


class ImportTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()
        self.me_no, self.her_no = self.agent.employee.employee_no, self.other_agent.employee.employee_no

    def rejected(self, data: bytes, name: str) -> list[tabular.RowError]:
        with self.assertRaises(tabular.ImportRejected) as e:
            pay.base_pay_import(actor=self.hr, cycle=self.cycle, source=data, name=name)
        # all or nothing: no base pay saved
        self.assertFalse(PayProposal.objects.filter(result__cycle=self.cycle, base_pay__isnull=False).exists())
        return e.exception.report.errors

    def test_csv_import(self):
        data = f"employee_no,base_pay\n{self.me_no},8000\n{self.her_no},\"6,543.21\"\n".encode()
        report = pay.base_pay_import(actor=self.hr, cycle=self.cycle, source=data, name="pay.csv")
        self.assertEqual((report.rows_read, report.updated), (2, 2))
        self.assertEqual(self.proposal(self.cycle, self.agent).amount, Decimal("400.00"))
        self.assertEqual(self.proposal(self.cycle, self.other_agent).amount, Decimal("-196.30"))
        entry = AuditEntry.objects.get(action="annual_pay.import")
        self.assertEqual(entry.changes[self.me_no], [None, "8000.00"])
        again = pay.base_pay_import(actor=self.hr, cycle=self.cycle, source=data, name="pay.csv")
        self.assertEqual((again.updated, again.unchanged), (0, 2))

    def test_gbk_csv_with_chinese_headers(self):
        data = f"工號,底薪\r\n{self.me_no},8000.00\r\n{self.her_no},6543.21\r\n".encode("gbk")
        pay.base_pay_import(actor=self.hr, cycle=self.cycle, source=data, name="底薪.csv")
        self.assertEqual(self.proposal(self.cycle, self.other_agent).base_pay, Decimal("6543.21"))

    def test_xlsx_import(self):
        data = xlsx_bytes([["employee_no", "base_pay"], [self.me_no, 8000], [self.her_no, 6543.21]])
        pay.base_pay_import(actor=self.hr, cycle=self.cycle, source=data, name="pay.xlsx")
        self.assertEqual(self.proposal(self.cycle, self.agent).amount, Decimal("400.00"))
        self.assertEqual(self.proposal(self.cycle, self.other_agent).amount, Decimal("-196.30"))

    def test_row_errors_named_and_nothing_saved(self):
        data = (f"employee_no,base_pay\n{self.me_no},8000\nCS9999,5000\n{self.her_no},lots\n{self.me_no},8100\n"
                f"{self.teammate_other_team.employee.employee_no},7000\n").encode()
        errors = self.rejected(data, "pay.csv")
        got = sorted((e.row, e.field) for e in errors)
        # row 3 unknown; row 4 bad number; row 5 duplicate of row 2; row 6 not rated (not in the cycle's pay)
        self.assertEqual(got, [(3, "employee_no"), (4, "base_pay"), (5, "employee_no"), (6, "employee_no")])
        messages = {e.row: e.message for e in errors}
        self.assertIn("CS9999", messages[3])
        self.assertIn("row 2", messages[5])
        self.assertIn("lots", messages[4])

    def test_empty_file_and_no_rows_and_missing_column(self):
        self.assertIn("empty", self.rejected(b"", "pay.csv")[0].message)
        self.assertIn("no data rows", self.rejected(b"employee_no,base_pay\n", "pay.csv")[0].message)
        self.assertIn("base_pay", self.rejected(f"employee_no\n{self.me_no}\n".encode(), "pay.csv")[0].message)

    def test_hr_only(self):
        with self.assertRaises(PermissionDenied):
            pay.base_pay_import(actor=self.supervisor, cycle=self.cycle, source=b"employee_no,base_pay\n", name="x.csv")


class ApprovalTests(PayTestCase):
    def test_waits_for_window_appeals_and_base_pay(self):
        cycle = self.publish()
        pay.proposals_prepare(actor=self.hr, cycle=cycle)
        with self.assertRaises(ValidationError) as e:  # inside the window, base pay missing
            pay.pay_approve(actor=self.hr, cycle=cycle, now=local(2026, 10, 13, 17, 59))
        text = " ".join(e.exception.messages)
        self.assertIn("appeal window is open until 2026-10-13 18:00", text)
        self.assertIn("Base pay missing for", text)
        self.set_both(cycle)
        appeal = appeals.appeal_file(actor=self.agent, result=self.result(cycle, self.agent), reason="x",
                                     now=local(2026, 10, 13, 17, 0))
        with self.assertRaises(ValidationError) as e:
            pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        self.assertIn("1 appeal(s) still to decide", " ".join(e.exception.messages))
        appeals.appeal_decide(actor=self.hr, appeal=appeal, decision="upheld", note="Grade stands")
        cycle = pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        self.assertEqual((cycle.pay_approved_by, cycle.pay_approved_at), (self.hr, AFTER_WINDOW))
        entry = AuditEntry.objects.get(action="annual_pay.approve")
        self.assertEqual(entry.changes["total_change"], [None, "203.70"])  # 400.00 − 196.30

    def test_approval_locks_and_takes_effect_once(self):
        cycle = self.publish()
        self.set_both(cycle)
        pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        with self.assertRaises(ValidationError):
            pay.pay_approve(actor=self.hr, cycle=cycle, now=AFTER_WINDOW)
        self.assertEqual(AuditEntry.objects.filter(action="annual_pay.approve").count(), 1)
        with self.assertRaises(ValidationError):
            pay.base_pay_set(actor=self.hr, proposal=self.proposal(cycle, self.agent), base_pay="9000")
        with self.assertRaises(ValidationError):
            pay.base_pay_import(actor=self.hr, cycle=cycle, name="p.csv",
                                source=f"employee_no,base_pay\n{self.agent.employee.employee_no},9000\n".encode())
        with self.assertRaises(ValidationError):
            pay.proposals_prepare(actor=self.hr, cycle=cycle)
        self.assertEqual(self.proposal(cycle, self.agent).base_pay, Decimal("8000.00"))

    def test_only_hr_approves(self):
        cycle = self.publish()
        self.set_both(cycle)
        for user in (self.supervisor, self.leadership, self.dept_head):
            with self.assertRaises(PermissionDenied):
                pay.pay_approve(actor=user, cycle=cycle, now=AFTER_WINDOW)


class ExportTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()
        self.set_both(self.cycle)
        # A name that a spreadsheet would run as a formula must come out as text.
        emp = self.other_agent.employee
        emp.name = "=HYPERLINK(\"http://x\")"
        emp.save(update_fields=["name"])

    def test_export_refused_before_approval(self):
        with self.assertRaises(ValidationError):
            pay.export_xlsx(self.cycle)
        with self.assertRaises(ValidationError):
            pay.export_csv(self.cycle)

    def test_xlsx_read_back(self):
        pay.pay_approve(actor=self.hr, cycle=self.cycle, now=AFTER_WINDOW)
        self.cycle.refresh_from_db()
        ws = load_workbook(io.BytesIO(pay.export_xlsx(self.cycle))).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        self.assertEqual(list(rows[0]), ["employee_no", "name", "department", "year", "grade", "pay_change_pct",
                                         "base_pay", "pay_change_amount"])
        by_no = {r[0]: r for r in rows[1:]}
        mine = by_no[self.agent.employee.employee_no]
        self.assertEqual(mine[1:5], ("王小美", self.agent.employee.org_unit.name, 2026, "excellent"))
        self.assertEqual([Decimal(str(v)) for v in mine[5:]], [Decimal(5), Decimal("8000"), Decimal("400")])
        hers = by_no[self.other_agent.employee.employee_no]
        self.assertEqual(hers[1], "'=HYPERLINK(\"http://x\")")
        self.assertEqual(Decimal(str(hers[7])), Decimal("-196.3"))
        self.assertEqual(len(rows), 3)

    def test_csv_utf8_bom_and_gbk(self):
        pay.pay_approve(actor=self.hr, cycle=self.cycle, now=AFTER_WINDOW)
        self.cycle.refresh_from_db()
        data = pay.export_csv(self.cycle)
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(rows[0][-2:], ["base_pay", "pay_change_amount"])
        by_no = {r[0]: r for r in rows[1:]}
        self.assertEqual(by_no[self.agent.employee.employee_no][4:],
                         ["excellent", "5.00", "8000.00", "400.00"])
        hers = by_no[self.other_agent.employee.employee_no]
        self.assertEqual(hers[1], "'=HYPERLINK(\"http://x\")")
        self.assertEqual(hers[4:], ["fail", "-3.00", "6543.21", "-196.30"])  # numbers not quoted
        gbk = pay.export_csv(self.cycle, encoding="gbk")
        self.assertFalse(gbk.startswith(b"\xef\xbb\xbf"))
        text = gbk.decode("gbk")
        self.assertIn("王小美", text)
        self.assertEqual(list(csv.reader(io.StringIO(text)))[1:], rows[1:])
