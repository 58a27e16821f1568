"""The monthly payroll file (issue 11 item 4): pay adjustments (policy E3.1) and uniform compensation (U3.2).

Facts, every amount by hand:
- Cycle 2024, pay approved 2024-12-20 (local): 王小美 CS1001 good +2 % of 7,500.00 = 150.00 → new base 7,650.00;
  鄭惠如 CS2002 pass 0 % of 6,000.00 = 0.00 (not listed). Due January 2025 (annual.pay_effective_month = 1).
- Cycle 2025, pay approved late, 2026-07-10 (local): 王小美 excellent +5 % of 7,650.00 = 382.50 → 8,032.50;
  鄭惠如 fail −3 % of 6,543.21 = −196.2963 → −196.30 → 6,346.91. Due January 2026, listed July 2026.
- Cycle 2026, published, pay not approved: never listed.
- Uniform items issued 2026-01-01, renewal 2028-01-01 (730 days), lost 2026-07-01 (549 days left):
  王小美's top 200.00 × 549 / 730 = 150.4109… → 150.41, confirmed 2026-07-31 23:30 Shanghai (15:30 UTC) → July;
  鄭惠如's trousers 80.00 × 549 / 730 = 60.1643… → 60.16, confirmed 2026-08-01 00:10 Shanghai (still 31 July
  16:10 UTC) → August; 王小美's tie 50.00 → 37.60, confirmed in July then waived → never listed.
- July 2026: pay 382.50 − 196.30 = 186.20; deductions −150.41; net 186.20 − 150.41 = 35.79; 2 employees.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kefu.annual.models import AnnualCycle, AnnualResult, PayProposal
from kefu.api.testing import ApiTestCase
from kefu.core.models import PolicyValue
from kefu.integrations import payroll
from kefu.people.models import Employee
from kefu.service.tests.builders import local
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import Compensation, DamageReport
from kefu.uniforms.testing import UniformsTestCase

D = datetime.date
M = Decimal
JULY, AUGUST = D(2026, 7, 1), D(2026, 8, 1)


class PayrollTestCase(ApiTestCase, UniformsTestCase):
    @classmethod
    def _cycle(cls, year: int, approved: datetime.datetime | None,
               rows: list[tuple[Employee, str, str, str, str]]) -> AnnualCycle:
        """Setup: a published cycle as the annual app leaves it (rows: employee, grade, pct, base, amount)."""
        cycle = AnnualCycle.objects.create(year=year, status=AnnualCycle.Status.PUBLISHED, opened_by=cls.hr,
                                           pay_approved_by=cls.hr if approved else None, pay_approved_at=approved)
        for employee, grade, pct, base, amount in rows:
            result = AnnualResult.objects.create(cycle=cycle, employee=employee, rated=True, final_grade=grade,
                                                 proposed_grade=grade)
            PayProposal.objects.create(result=result, grade=grade, pct=M(pct), base_pay=M(base), amount=M(amount))
        return cycle

    @classmethod
    def _lose(cls, user, holding, *, confirmed: datetime.datetime) -> Compensation:
        report = uniforms.damage_report_create(actor=user, holding=holding, kind=DamageReport.Kind.LOSS,
                                               description="搭地鐵時遺失", occurred_on=D(2026, 7, 1))
        uniforms.damage_assess(actor=cls.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT,
                               notes="本人保管不當")
        compensation = Compensation.objects.get(damage_report=report)
        return uniforms.compensation_confirm(actor=user, compensation=compensation, at=confirmed)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.me = Employee.objects.get(user=cls.agent)
        cls.her = Employee.objects.get(user=cls.other_agent)
        cls._cycle(2024, local(2024, 12, 20, 10, 0), [(cls.me, "good", "2", "7500.00", "150.00"),
                                                      (cls.her, "pass", "0", "6000.00", "0.00")])
        cls._cycle(2025, local(2026, 7, 10, 9, 0), [(cls.me, "excellent", "5", "7650.00", "382.50"),
                                                    (cls.her, "fail", "-3", "6543.21", "-196.30")])
        cls._cycle(2026, None, [(cls.me, "excellent", "5", "8032.50", "401.63")])
        for sku, cost in ((cls.top_m, "200.00"), (cls.trs_m, "80.00"), (cls.tie_m, "50.00")):
            uniforms.stock_receive(actor=cls.admin_clerk, sku=sku, location=cls.main, quantity=2, unit_cost=cost)
        issued = D(2026, 1, 1)
        top = uniforms.holding_register(actor=cls.admin_clerk, employee=cls.me, sku=cls.top_m, quantity=1,
                                        issued_on=issued)[0]
        tie = uniforms.holding_register(actor=cls.admin_clerk, employee=cls.me, sku=cls.tie_m, quantity=1,
                                        issued_on=issued)[0]
        trousers = uniforms.holding_register(actor=cls.admin_clerk, employee=cls.her, sku=cls.trs_m, quantity=1,
                                             issued_on=issued)[0]
        cls.top = cls._lose(cls.agent, top, confirmed=local(2026, 7, 31, 23, 30))
        cls.trousers = cls._lose(cls.other_agent, trousers, confirmed=local(2026, 8, 1, 0, 10))
        cls.tie = cls._lose(cls.agent, tie, confirmed=local(2026, 7, 15, 12, 0))
        uniforms.compensation_waive(actor=cls.admin_clerk, compensation=cls.tie, reason="首次遺失，酌情免賠")

    def month(self, month: D, user=None) -> payroll.PayrollMonth:
        return payroll.payroll_month(user=user or self.hr, month=month)

    def cells(self, pm: payroll.PayrollMonth) -> list[tuple]:
        return [(line.employee_no, line.item_type, line.reference, line.amount, line.base_pay, line.new_base_pay)
                for line in pm.lines]


class AmountTests(PayrollTestCase):
    def test_setup_amounts_are_the_hand_worked_ones(self):
        self.assertEqual((self.top.amount, self.trousers.amount, self.tie.amount),
                         (M("150.41"), M("60.16"), M("37.60")))

    def test_july_2026(self):
        pm = self.month(JULY)
        report = self.top.damage_report.number
        self.assertEqual(self.cells(pm), [
            ("CS1001", "pay_adjustment", "2025", M("382.50"), M("7650.00"), M("8032.50")),
            ("CS1001", "uniform_compensation", report, M("-150.41"), None, None),
            ("CS2002", "pay_adjustment", "2025", M("-196.30"), M("6543.21"), M("6346.91")),
        ])
        self.assertEqual((pm.pay_total, pm.deduction_total, pm.net_total, pm.employees),
                         (M("186.20"), M("-150.41"), M("35.79"), 2))
        self.assertEqual({line.month for line in pm.lines}, {"2026-07"})
        self.assertEqual([line.department for line in pm.lines], [self.cs1.name, self.cs1.name, self.cs2.name])
        # Approved after January 2026, when it was due: the note says so (arrears are payroll's).
        self.assertIn("Due from 2026-01", pm.lines[0].note)

    def test_a_confirmation_at_00_10_local_belongs_to_the_next_month(self):
        self.assertEqual(self.cells(self.month(AUGUST)), [
            ("CS2002", "uniform_compensation", self.trousers.damage_report.number, M("-60.16"), None, None)])

    def test_the_earlier_cycle_is_listed_once_in_its_effective_month(self):
        self.assertEqual(self.cells(self.month(D(2025, 1, 1))), [
            ("CS1001", "pay_adjustment", "2024", M("150.00"), M("7500.00"), M("7650.00"))])  # the 0.00 left out
        for empty in (D(2024, 12, 1), D(2025, 2, 1), D(2026, 1, 1), D(2026, 6, 1), D(2026, 9, 1), D(2027, 1, 1)):
            with self.subTest(month=empty):
                self.assertEqual(self.month(empty).lines, [])

    def test_effective_month_parameter_in_force_on_31_december_of_the_cycle_year(self):
        # policy E3.1: 4 from 2024-06-01 → the 2024 cycle falls due April 2025; 9 from 2025-06-01 → the 2025
        # cycle falls due September 2026, after its approval (July), so it moves out of July.
        PolicyValue.objects.create(key="annual.pay_effective_month", effective_from=D(2024, 6, 1), value=4)
        PolicyValue.objects.create(key="annual.pay_effective_month", effective_from=D(2025, 6, 1), value=9)
        self.assertEqual(self.month(D(2025, 1, 1)).lines, [])
        self.assertEqual([line.amount for line in self.month(D(2025, 4, 1)).lines], [M("150.00")])
        self.assertEqual([line.amount for line in self.month(JULY).lines], [M("-150.41")])
        september = self.month(D(2026, 9, 1))
        self.assertEqual([line.amount for line in september.lines], [M("382.50"), M("-196.30")])
        self.assertNotIn("Due from", september.lines[0].note)

    def test_exported_compensation_still_counts_in_its_confirmation_month(self):
        uniforms.compensations_export(actor=self.admin_clerk, month=D(2026, 9, 1))
        self.assertEqual([line.amount for line in self.month(AUGUST).lines], [M("-60.16")])

    def test_months_parse_strictly(self):
        self.assertEqual(payroll.parse_month("2026-07"), JULY)
        for bad in ("2026-7", "2026-13", "2026-00", "202607", "July", ""):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                payroll.parse_month(bad)


class FileTests(PayrollTestCase):
    def setUp(self) -> None:
        super().setUp()
        Employee.objects.filter(pk=self.her.pk).update(name='=HYPERLINK("http://evil.example","鄭")')

    def test_csv_utf8_with_bom(self):
        data = payroll.export_csv(self.month(JULY))
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(rows[0], list(payroll.COLUMNS))
        self.assertEqual(rows[1][:9], ["CS1001", "王小美", self.cs1.name, "2026-07", "pay_adjustment", "2025", "382.50",
                                       "CNY", "7650.00"])
        self.assertEqual(rows[1][9], "8032.50")
        self.assertEqual(rows[2][6:10], ["-150.41", "CNY", "", ""])  # a negative number stays a plain number
        self.assertEqual(rows[3][1], "'=HYPERLINK(\"http://evil.example\",\"鄭\")")
        self.assertEqual(rows[3][6], "-196.30")
        self.assertEqual(len(rows), 4)

    def test_csv_gbk(self):
        data = payroll.export_csv(self.month(JULY), encoding="gbk")
        self.assertFalse(data.startswith(b"\xef\xbb\xbf"))
        text = data.decode("gbk")
        self.assertIn("王小美", text)
        self.assertIn("王小美".encode("gbk"), data)
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual([r[6] for r in rows[1:]], ["382.50", "-150.41", "-196.30"])

    def test_xlsx(self):
        sheet = load_workbook(io.BytesIO(payroll.export_xlsx(self.month(JULY)))).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(tuple(rows[0]), payroll.COLUMNS)
        self.assertEqual(rows[1][:6], ["CS1001", "王小美", self.cs1.name, "2026-07", "pay_adjustment", "2025"])
        self.assertEqual([M(str(r[6])) for r in rows[1:]], [M("382.50"), M("-150.41"), M("-196.30")])
        self.assertTrue(all(isinstance(r[6], (int, float)) for r in rows[1:]))  # numbers, not text
        self.assertEqual(rows[3][1], "'=HYPERLINK(\"http://evil.example\",\"鄭\")")
        self.assertEqual((rows[2][8], rows[2][9]), (None, None))


class AccessTests(PayrollTestCase):
    def test_page_hr_only(self):
        url = reverse("integrations:payroll") + "?month=2026-07"
        self.client.force_login(self.hr)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "35.79")
        self.assertContains(response, 'data-testid="payroll-row"', count=3)
        this_month = f"{timezone.localdate():%Y-%m}"  # no month asked: this month, company local time
        self.assertContains(self.client.get(reverse("integrations:payroll")), f'value="{this_month}"')
        for user in (self.agent, self.admin_clerk, self.outsider, self.sysadmin, self.leadership):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(self.client.get(url).status_code, 403)
                self.assertEqual(self.client.get(reverse("integrations:payroll_download",
                                                         args=["2026-07", "csv"])).status_code, 403)

    def test_downloads(self):
        self.client.force_login(self.hr)
        for fmt, name in (("xlsx", "payroll-2026-07.xlsx"), ("csv", "payroll-2026-07-utf8.csv"),
                          ("csv-gbk", "payroll-2026-07-gbk.csv")):
            with self.subTest(fmt=fmt):
                response = self.client.get(reverse("integrations:payroll_download", args=["2026-07", fmt]))
                self.assertEqual(response.status_code, 200)
                self.assertIn(name, response["Content-Disposition"])
        self.assertEqual(self.client.get(reverse("integrations:payroll_download", args=["2026-13", "csv"]))
                         .status_code, 404)
        self.assertEqual(self.client.get(reverse("integrations:payroll_download", args=["2026-07", "pdf"]))
                         .status_code, 404)

    def test_a_bad_month_on_the_page_says_so(self):
        self.client.force_login(self.hr)
        response = self.client.get(reverse("integrations:payroll") + "?month=2026-13")
        self.assertContains(response, 'data-testid="month-error"')

    def test_api(self):
        body = self.assertApi(self.hr, "get", "/payroll/2026-07", 200).json()
        self.assertEqual(body["month"], "2026-07")
        self.assertEqual([(r["employee_no"], r["amount"]) for r in body["lines"]],
                         [("CS1001", "382.50"), ("CS1001", "-150.41"), ("CS2002", "-196.30")])
        self.assertEqual(body["totals"], {"employees": 2, "pay_adjustment": "186.20",
                                          "uniform_compensation": "-150.41", "net": "35.79"})
        csv_bytes = self.assertApi(self.hr, "get", "/payroll/2026-07?format=csv", 200).content
        self.assertTrue(csv_bytes.startswith(b"\xef\xbb\xbf"))
        self.assertFieldError(self.api("get", "/payroll/2026-13", self.hr), "month")
        for user in (self.agent, self.admin_clerk, self.outsider, self.sysadmin):
            with self.subTest(user=user.username):
                self.assertApi(user, "get", "/payroll/2026-07", 403)
        self.assertApi(None, "get", "/payroll/2026-07", 401)

    def test_hr_scope_limits_the_people(self):
        from kefu.people.models import Role
        from kefu.people.testing import make_person

        hr_cs2 = make_person("hr2", "人資二", self.cs2, (Role.HR, self.cs2), employee_no="HR0002")
        self.assertEqual([line.employee_no for line in self.month(JULY, hr_cs2).lines], ["CS2002"])


class QueryTests(PayrollTestCase):
    def run_export(self) -> int:
        hr = type(self.hr).objects.get(pk=self.hr.pk)  # a fresh user: her roles are not cached yet
        with CaptureQueriesContext(connection) as ctx:
            pm = payroll.payroll_month(user=hr, month=JULY)
            payroll.export_xlsx(pm)
            payroll.export_csv(pm, encoding="gbk")
        return len(ctx.captured_queries)

    def add_four_pay_adjustments(self):
        """Pay adjustments of four more people, in several units."""
        cycle = AnnualCycle.objects.get(year=2025)
        for user, amount in ((self.team_lead, "100.00"), (self.supervisor, "120.00"),
                             (self.teammate_other_team, "80.00"), (self.dept_head, "90.00")):
            result = AnnualResult.objects.create(cycle=cycle, employee=user.employee, rated=True, final_grade="good")
            PayProposal.objects.create(result=result, grade="good", pct=M(2), base_pay=M(amount) * 50,
                                       amount=M(amount))

    def test_query_count_pinned_and_independent_of_rows(self):
        # her role assignments (roles and both scopes, read once), cycles, the parameter, proposals,
        # compensations, departments
        self.assertEqual(self.run_export(), 6)
        self.add_four_pay_adjustments()
        self.assertEqual(len(self.month(JULY).lines), 7)
        self.assertEqual(self.run_export(), 6)

    def test_the_page_the_downloads_and_the_api_do_not_grow_with_rows(self):
        """Issue 9: the payroll page, each download and the API read as many queries for 3 lines as for 9
        (pay adjustments of people in several units, and another person's uniform compensation)."""
        views = [reverse("integrations:payroll") + "?month=2026-07"] + [
            reverse("integrations:payroll_download", args=["2026-07", fmt]) for fmt in ("xlsx", "csv", "csv-gbk")]
        apis = ["/payroll/2026-07", "/payroll/2026-07?format=csv"]

        def counts() -> list[int]:
            out = []
            self.client.force_login(self.hr)
            for url in views:
                self.client.get(url)  # warm the session
                with CaptureQueriesContext(connection) as ctx:
                    self.assertEqual(self.client.get(url).status_code, 200)
                out.append(len(ctx.captured_queries))
            for path in apis:
                self.assertApi(self.hr, "get", path, 200)  # the token's last-use write
                with CaptureQueriesContext(connection) as ctx:
                    self.assertApi(self.hr, "get", path, 200)
                out.append(len(ctx.captured_queries))
            return out

        small = counts()
        self.add_four_pay_adjustments()
        uniforms.stock_receive(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=2,
                               unit_cost="200.00")
        for holding in uniforms.holding_register(actor=self.admin_clerk, employee=self.teammate_other_team.employee,
                                                 sku=self.top_m, quantity=2, issued_on=D(2026, 1, 1)):
            self._lose(self.teammate_other_team, holding, confirmed=local(2026, 7, 20, 10, 0))
        self.assertEqual(len(self.month(JULY).lines), 3 + 4 + 2)
        self.assertEqual(counts(), small)
