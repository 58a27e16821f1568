"""Compensation (U3.2): the residual value of an item lost or damaged through her own fault —
unit cost × days of the renewal cycle still to run ÷ days in the cycle, clamped to [min %, max %]
of the unit cost (parameters in force on the assessment date), rounded half up to the cent — her
confirmation, the payroll deduction export, and items a leaver did not return (item 8).

Every expected amount below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kefu.core import services as core_services
from kefu.people import services as people
from kefu.uniforms import services
from kefu.uniforms.models import Compensation, DamageReport, Holding, ReturnLine
from kefu.uniforms.tests.test_requisitions import RequisitionTestCase

D = datetime.date
ISSUED = D(2026, 1, 1)
DUE = D(2028, 1, 1)  # + 2 years (U4.1 default): 365 + 365 = 730 days, no 29 February in between
P10, P100 = Decimal(10), Decimal(100)


class ResidualValueArithmeticTests(RequisitionTestCase):
    def value(self, unit_cost: str, on: D, *, low=P10, high=P100) -> Decimal:
        amount, _figures = services.residual_value(unit_cost=Decimal(unit_cost), issued_on=ISSUED,
                                                   renewal_due_on=DUE, on=on, min_pct=low, max_pct=high)
        return amount

    def test_lost_after_half_a_year(self):
        # 2026-01-01 → 2026-07-01 is 31+28+31+30+31+30 = 181 days; 730 − 181 = 549 days left.
        # 200.00 × 549 / 730 = 109800 / 730 = 150.4109… → 150.41 (between 20.00 and 200.00).
        self.assertEqual(self.value("200.00", D(2026, 7, 1)), Decimal("150.41"))
        # 80.00 × 549 / 730 = 43920 / 730 = 60.1643… → 60.16.
        self.assertEqual(self.value("80.00", D(2026, 7, 1)), Decimal("60.16"))

    def test_the_figures_it_came_from_are_kept(self):
        _amount, figures = services.residual_value(unit_cost=Decimal("200.00"), issued_on=ISSUED, renewal_due_on=DUE,
                                                   on=D(2026, 7, 1), min_pct=P10, max_pct=P100)
        self.assertEqual((figures["cycle_days"], figures["remaining_days"], figures["clamped"]), (730, 549, ""))

    def test_half_a_cent_rounds_up(self):
        # 2027-01-01 is 365 days in: 365 left. 100.01 × 365 / 730 = 50.005 exactly → 50.01 (half up, not 50.00).
        self.assertEqual(self.value("100.01", D(2027, 1, 1)), Decimal("50.01"))

    def test_raised_to_the_minimum(self):
        # 2027-12-01 → 2028-01-01: 31 days left. 200.00 × 31 / 730 = 8.4931… < 10 % of 200.00 = 20.00.
        self.assertEqual(self.value("200.00", D(2027, 12, 1)), Decimal("20.00"))
        # Past the renewal date nothing is left: still the minimum.
        self.assertEqual(self.value("200.00", D(2028, 3, 1)), Decimal("20.00"))

    def test_capped_at_the_maximum(self):
        # Lost the day it was issued: 730/730 → 200.00; with a 50 % cap → 100.00.
        self.assertEqual(self.value("200.00", ISSUED), Decimal("200.00"))
        self.assertEqual(self.value("200.00", ISSUED, high=Decimal(50)), Decimal("100.00"))
        # 150.41 from above, capped at 60 % = 120.00; a 25 % floor leaves 150.41 alone.
        self.assertEqual(self.value("200.00", D(2026, 7, 1), high=Decimal(60)), Decimal("120.00"))
        self.assertEqual(self.value("200.00", D(2026, 7, 1), low=Decimal(25)), Decimal("150.41"))

    def test_the_minimum_applies_with_odd_cents(self):
        # 33.33 × 10 % = 3.333 → 3.33; 31 days left: 33.33 × 31 / 730 = 1.4154… → raised to 3.33.
        self.assertEqual(self.value("33.33", D(2027, 12, 1)), Decimal("3.33"))


class CompensationTestCase(RequisitionTestCase):
    def setUp(self) -> None:
        self.receive(self.top_m, 3, "200.00")  # the moving-average cost becomes 200.00
        self.holding = services.holding_register(actor=self.admin_clerk, employee=self.agent_employee,
                                                 sku=self.top_m, quantity=1, issued_on=ISSUED)[0]
        self.assertEqual((self.holding.unit_cost, self.holding.renewal_due_on), (Decimal("200.00"), DUE))

    def lose(self, cause=DamageReport.Cause.AT_FAULT) -> DamageReport:
        report = services.damage_report_create(actor=self.agent, holding=self.holding, kind=DamageReport.Kind.LOSS,
                                               description="搭地鐵時遺失", occurred_on=D(2026, 7, 1))
        return services.damage_assess(actor=self.admin_clerk, report=report, cause=cause, notes="本人保管不當")


class CompensationFlowTests(CompensationTestCase):
    def test_her_fault_gives_the_residual_value_to_confirm(self):
        report = self.lose()
        compensation = Compensation.objects.get(damage_report=report)
        self.assertEqual(compensation.amount, Decimal("150.41"))  # see test_lost_after_half_a_year
        self.assertEqual(compensation.status, Compensation.Status.PENDING)
        self.assertEqual(report.status, DamageReport.Status.ASSESSED)
        self.holding.refresh_from_db()
        self.assertEqual(self.holding.status, Holding.Status.LOST)

    def test_not_her_fault_owes_nothing_and_closes_the_report(self):
        report = self.lose(DamageReport.Cause.NOT_AT_FAULT)
        self.assertFalse(Compensation.objects.exists())
        self.assertEqual(report.status, DamageReport.Status.CLOSED)

    def test_the_maximum_in_force_on_the_assessment_date_applies(self):
        today = timezone.localdate()
        core_services.policy_set(key="uniforms.compensation_max_pct", value="50", effective_from=today,
                                 actor=self.sysadmin)
        core_services.policy_set(key="uniforms.compensation_max_pct", value="30",
                                 effective_from=today + datetime.timedelta(days=1), actor=self.sysadmin)
        report = self.lose()
        # 150.41 capped at 50 % of 200.00 = 100.00 (tomorrow's 30 % is not yet in force).
        self.assertEqual(Compensation.objects.get(damage_report=report).amount, Decimal("100.00"))

    def test_she_confirms_nobody_else_does_while_she_is_here(self):
        compensation = Compensation.objects.get(damage_report=self.lose())
        for user in (self.admin_clerk, self.dept_head, self.other_agent):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.compensation_confirm(actor=user, compensation=compensation)
        services.compensation_confirm(actor=self.agent, compensation=compensation)
        compensation.refresh_from_db()
        self.assertEqual(compensation.status, Compensation.Status.CONFIRMED)
        self.assertEqual(compensation.damage_report.status, DamageReport.Status.COMPENSATION_CONFIRMED)

    def test_waived_with_a_reason_by_admin_staff(self):
        compensation = Compensation.objects.get(damage_report=self.lose())
        with self.assertRaises(ValidationError):
            services.compensation_waive(actor=self.admin_clerk, compensation=compensation, reason="")
        with self.assertRaises(PermissionDenied):
            services.compensation_waive(actor=self.agent, compensation=compensation, reason="我不想賠")
        services.compensation_waive(actor=self.admin_clerk, compensation=compensation, reason="首次遺失，酌情免賠")
        compensation.refresh_from_db()
        self.assertEqual(compensation.status, Compensation.Status.WAIVED)

    def test_payroll_export_per_month(self):
        compensation = Compensation.objects.get(damage_report=self.lose())
        self.assertEqual(services.compensations_export(actor=self.admin_clerk, month=D(2026, 7, 15)), 0)  # pending
        services.compensation_confirm(actor=self.agent, compensation=compensation)
        self.assertEqual(services.compensations_export(actor=self.admin_clerk, month=D(2026, 7, 15)), 1)
        self.assertEqual(services.compensations_export(actor=self.admin_clerk, month=D(2026, 7, 15)), 0)
        compensation.refresh_from_db()
        self.assertEqual((compensation.status, compensation.payroll_month), (Compensation.Status.EXPORTED,
                                                                             D(2026, 7, 1)))
        self.assertEqual(compensation.damage_report.status, DamageReport.Status.CLOSED)
        url = reverse("uniforms:compensation_payroll", args=[2026, 7])
        for user in (self.agent, self.dept_head, self.leadership):
            self.assertStatus(user, "get", url, 403)
        self.login(self.admin_clerk)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment;", response["Content-Disposition"])
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(len(rows), 2)
        number, name, department, amount, why, report = rows[1]
        self.assertEqual((number, name, department, report), ("CS1001", "王小美", "客服一部 / 一部一組",
                                                              compensation.damage_report.number))
        self.assertAlmostEqual(float(amount), 150.41)
        self.assertIn("夏季女襯衫", why)
        # Another month's file is empty but for the header.
        other = load_workbook(io.BytesIO(self.client.get(reverse("uniforms:compensation_payroll", args=[2026, 8]))
                                         .content)).active
        self.assertEqual(len(list(other.iter_rows(values_only=True))), 1)

    def test_payroll_file_runs_a_fixed_number_of_queries(self):
        """Issue 9: the payroll deduction file reads as many queries for 1 row as for 5."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        services.compensation_confirm(actor=self.agent, compensation=Compensation.objects.get(damage_report=self.lose()))
        services.compensations_export(actor=self.admin_clerk, month=D(2026, 7, 15))
        url = reverse("uniforms:compensation_payroll", args=[2026, 7])
        self.login(self.admin_clerk)
        self.client.get(url)

        def count():
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get(url)
            return len(ctx.captured_queries), len(list(load_workbook(io.BytesIO(response.content)).active.iter_rows()))

        few, rows = count()
        self.assertEqual(rows, 1 + 1)
        self.receive(self.trs_m, 4, "100.00")
        for holding in services.holding_register(actor=self.admin_clerk, employee=self.other_employee, sku=self.trs_m,
                                                 quantity=4, issued_on=ISSUED):
            report = services.damage_report_create(actor=self.other_agent, holding=holding,
                                                   kind=DamageReport.Kind.LOSS, description="遺失",
                                                   occurred_on=D(2026, 7, 1))
            services.damage_assess(actor=self.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT,
                                   notes="保管不當")
            services.compensation_confirm(actor=self.other_agent,
                                          compensation=Compensation.objects.get(damage_report=report))
        self.assertEqual(services.compensations_export(actor=self.admin_clerk, month=D(2026, 7, 15)), 4)
        many, rows = count()
        self.assertEqual(rows, 1 + 5)
        self.assertEqual(few, many)

    def test_compensation_pages(self):
        compensation = Compensation.objects.get(damage_report=self.lose())
        url = reverse("uniforms:compensation_list")
        self.login(self.other_agent)
        self.assertContains(self.client.get(url), 'data-testid="empty-state"')
        confirm = reverse("uniforms:compensation_confirm", args=[compensation.pk])
        self.assertStatus(self.other_agent, "post", confirm, 404)
        self.assertStatus(self.dept_head, "post", confirm, 403)
        self.assertStatus(None, "post", confirm, 302)
        self.login(self.agent)
        page = self.client.get(url)
        self.assertContains(page, "150.41")
        self.assertContains(page, 'data-testid="confirm-compensation"')
        self.client.post(confirm)
        compensation.refresh_from_db()
        self.assertEqual(compensation.status, Compensation.Status.CONFIRMED)
        export = reverse("uniforms:compensation_export")
        self.assertStatus(self.agent, "post", export, 403, {"month": "2026-07"})
        self.login(self.admin_clerk)
        response = self.client.post(export, {"month": "2026-07"})
        self.assertRedirects(response, f"{url}?month=2026-07")
        compensation.refresh_from_db()
        self.assertEqual(compensation.payroll_month, D(2026, 7, 1))


class UnreturnedOnLeavingTests(CompensationTestCase):
    def test_an_item_not_returned_on_leaving_owes_its_residual_value(self):
        leaver = people.employee_offboard(actor=self.hr, employee=self.agent_employee, leave_date=D(2026, 7, 1),
                                          reason="個人原因")
        services.return_check_in(actor=self.admin_clerk, employee=leaver, on=D(2026, 7, 1),
                                 lines=[{"holding": self.holding, "outcome": ReturnLine.Outcome.NOT_RETURNED}])
        compensation = Compensation.objects.get(holding=self.holding)
        self.assertEqual(compensation.amount, Decimal("150.41"))
        self.assertIsNone(compensation.damage_report)
        # She has left: admin staff confirm for her, saying how it was agreed.
        with self.assertRaises(ValidationError):
            services.compensation_confirm(actor=self.admin_clerk, compensation=compensation)
        services.compensation_confirm(actor=self.admin_clerk, compensation=compensation, note="離職結算時本人簽字同意")
        compensation.refresh_from_db()
        self.assertEqual(compensation.status, Compensation.Status.CONFIRMED)

    def test_calling_it_twice_for_one_item_gives_one_compensation(self):
        first = services.compensation_for_unreturned(actor=self.admin_clerk, holding=self.holding, on=D(2026, 7, 1))
        second = services.compensation_for_unreturned(actor=self.admin_clerk, holding=self.holding, on=D(2026, 7, 1))
        self.assertEqual(first.pk, second.pk)
