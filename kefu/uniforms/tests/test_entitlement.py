"""Entitlement on onboarding (U2.1) and renewal dates (U4.1), under the parameters in force on the day."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError

from kefu.core.services import policy_set
from kefu.people import services as people
from kefu.people.models import Employee, OrgUnit
from kefu.people.testing import make_unit
from kefu.uniforms import services
from kefu.uniforms.models import Entitlement, Holding, Issuance, IssuanceLine, Requisition
from kefu.uniforms.testing import UniformsTestCase

D = datetime.date


class OnboardingEntitlementTests(UniformsTestCase):
    def hire(self, no: str, unit: OrgUnit) -> Employee:
        return Employee.objects.create(employee_no=no, name=f"新人{no}", gender="F", hire_date=D(2025, 6, 1),
                                       org_unit=unit)

    def test_cs_new_hire_is_owed_the_sets_in_force_on_her_onboarding_day(self):
        policy_set(key="uniforms.sets_per_new_hire", value=3, effective_from=D(2025, 7, 1), actor=self.sysadmin,
                   note="U2.1: three sets from July")
        before = self.hire("N1", self.cs1_t1)
        after = self.hire("N2", self.cs1_t1)
        people.employee_onboard(actor=self.hr, employee=before, on=D(2025, 6, 30))
        people.employee_onboard(actor=self.hr, employee=after, on=D(2025, 7, 1))
        self.assertEqual(Entitlement.objects.get(employee=before).sets_owed, 2)  # the default (POLICY.md: 2)
        ent = Entitlement.objects.get(employee=after)
        self.assertEqual((ent.sets_owed, ent.sets_issued, ent.reason, ent.granted_on),
                         (3, 0, Entitlement.Reason.NEW_HIRE, D(2025, 7, 1)))

    def test_cs_is_decided_by_the_unit_or_any_unit_above_it(self):
        plain_team = make_unit("CS1-T9", "一部九組", OrgUnit.Kind.TEAM, self.cs1, cs=False)  # CS1 above is CS
        e = self.hire("N3", plain_team)
        people.employee_onboard(actor=self.hr, employee=e, on=D(2025, 5, 5))
        self.assertEqual(Entitlement.objects.filter(employee=e).count(), 1)

    def test_non_cs_hire_gets_no_uniform_entitlement(self):
        e = self.hire("N4", self.admin_dept)
        people.employee_onboard(actor=self.hr, employee=e, on=D(2025, 5, 5))
        self.assertFalse(Entitlement.objects.filter(employee=e).exists())

    def test_zero_sets_parameter_grants_nothing(self):
        policy_set(key="uniforms.sets_per_new_hire", value=0, effective_from=D(2025, 1, 1), actor=self.sysadmin,
                   note="pause")
        e = self.hire("N5", self.cs2_t1)
        people.employee_onboard(actor=self.hr, employee=e, on=D(2025, 5, 5))
        self.assertFalse(Entitlement.objects.filter(employee=e).exists())


class RenewalDateTests(UniformsTestCase):
    def test_default_two_years(self):
        self.assertEqual(services.renewal_due_on(D(2025, 3, 15)), D(2027, 3, 15))

    def test_leap_day_clamps(self):
        self.assertEqual(services.renewal_due_on(D(2024, 2, 29)), D(2026, 2, 28))

    def test_cycle_in_force_on_the_issue_date(self):
        policy_set(key="uniforms.renewal_years", value="1.5", effective_from=D(2025, 7, 1), actor=self.sysadmin,
                   note="U4.1 shortened")
        self.assertEqual(services.renewal_due_on(D(2025, 6, 30)), D(2027, 6, 30))  # still 2 years
        self.assertEqual(services.renewal_due_on(D(2025, 7, 1)), D(2027, 1, 1))  # 18 months

    def test_fractional_years_become_whole_months_half_up(self):
        cases = [("1.25", D(2026, 4, 10)),   # 15 months
                 ("1.04", D(2026, 1, 10)),   # 12.48 → 12 months
                 ("1.125", D(2026, 3, 10))]  # 13.5 → 14 months
        for i, (years, expected) in enumerate(cases):
            policy_set(key="uniforms.renewal_years", value=years, effective_from=D(2020, 1, 1 + i),
                       actor=self.sysadmin, note="test")
            self.assertEqual(services.renewal_due_on(D(2025, 1, 10)), expected, years)

    def test_month_end_issue_with_a_fractional_cycle(self):
        policy_set(key="uniforms.renewal_years", value="0.75", effective_from=D(2020, 1, 1), actor=self.sysadmin,
                   note="test")
        # 31 May + 9 months = 29 February 2028 (a leap year): clamped to the month's last day.
        self.assertEqual(services.renewal_due_on(D(2027, 5, 31)), D(2028, 2, 29))


class HoldingFromIssueTests(UniformsTestCase):
    def issuance_line(self, quantity: int, issued_at: datetime.datetime) -> IssuanceLine:
        employee = self.agent.employee
        req = Requisition.objects.create(number="RQ-T-1", employee=employee, filled_by=self.agent,
                                         reason=Requisition.Reason.NEW_HIRE)
        issuance = Issuance.objects.create(number="IS-T-1", requisition=req, employee=employee,
                                           employee_name=employee.name, department_name="客服一部",
                                           location=self.main, issued_by=self.admin_clerk, issued_at=issued_at)
        return IssuanceLine.objects.create(issuance=issuance, sku=self.top_m, quantity=quantity, style_name="夏季女襯衫",
                                           size_code="M", unit_cost=Decimal("54.00"))

    def test_one_holding_per_piece_due_per_the_cycle_of_the_issue_date(self):
        policy_set(key="uniforms.renewal_years", value="3", effective_from=D(2025, 9, 1), actor=self.sysadmin,
                   note="U4.1 longer")
        line = self.issuance_line(2, datetime.datetime(2025, 8, 20, 3, 0, tzinfo=datetime.UTC))
        rows = services.holding_create_from_issue(actor=self.admin_clerk, issuance_line=line, issued_on=D(2025, 8, 20))
        self.assertEqual(len(rows), 2)
        for h in Holding.objects.filter(issuance_line=line):
            self.assertEqual((h.employee_id, h.sku_id, h.status, h.renewal_due_on, h.unit_cost),
                             (self.agent.employee.pk, self.top_m.pk, "held", D(2027, 8, 20), Decimal("54.00")))
        with self.assertRaises(ValidationError):  # a retried issuance creates nothing twice
            services.holding_create_from_issue(actor=self.admin_clerk, issuance_line=line, issued_on=D(2025, 8, 20))
        self.assertEqual(Holding.objects.count(), 2)
