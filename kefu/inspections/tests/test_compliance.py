"""The automatic compliance checks (issue 8 item 4): for every check, crafted data where it must
fire and where it must not (boundaries included); the run stores hits and counts; attaching a hit
makes a finding.

"Today" is Friday 2026-11-27 throughout. The working days before it (no holidays in November
2026): Thu 26, Wed 25, Tue 24, Mon 23, Fri 20 — so with the default wait limit of 5 working
days (policy S2) something that started waiting on Thu 19 Nov has waited longer than 5 working
days (Fri 20, Mon 23 … Thu 26 are over), while something that started on Fri 20 Nov has not
(its fifth working day, Fri 27, is today and not over).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.annual.models import AnnualCycle, AnnualResult
from kefu.core import policy
from kefu.core.models import Attachment, AuditEntry
from kefu.evaluations import services as eservices
from kefu.evaluations.models import (
    Appeal,
    MonthlyEvaluation,
    WeeklyEvaluation,
    WeeklyEvidence,
)
from kefu.inspections import compliance
from kefu.inspections.models import ComplianceHit, Finding, Inspection
from kefu.people.models import Employee, Role
from kefu.people.testing import make_person
from kefu.procurement import services as pservices
from kefu.procurement.models import Award, PlanDecision, PurchaseOrder, PurchasePlan, SupplierCertificate
from kefu.procurement.testing import ProcurementTestCase
from kefu.service.models import Interaction
from kefu.uniforms.models import (
    DamageReport,
    Holding,
    Issuance,
    IssuanceLine,
    Requisition,
    ScrapRequest,
    StockCount,
    StockCountLine,
)

TODAY = datetime.date(2026, 11, 27)
SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime.datetime:
    return datetime.datetime(y, m, d, hh, mm, tzinfo=SH)


def mondays() -> list[datetime.date]:
    """The complete weeks of the window on TODAY: 91 days back is Fri 28 Aug, so the Mondays
    31 Aug … 16 Nov (12 weeks; the week of 23 Nov is not over)."""
    return [datetime.date(2026, 8, 31) + datetime.timedelta(weeks=i) for i in range(12)]


class ComplianceBase(ProcurementTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.card = eservices.scorecard_ensure_default()
        cls.lead_e = cls.team_lead.employee
        cls.sup_e = cls.supervisor.employee
        cls.agents = [cls.agent.employee, cls.teammate_other_team.employee, cls.other_agent.employee]

    def hits(self, key: str, today: datetime.date = TODAY) -> list[compliance.Hit]:
        return compliance.CHECKS[key].run(today)

    def weekly(self, agent: Employee, monday: datetime.date, *, evaluator: Employee | None = None,
               status: str = "submitted", submitted_at: datetime.datetime | None = None,
               pcts: tuple[Any, Any, Any] = ("80", "80", "80")) -> WeeklyEvaluation:
        iso = monday.isocalendar()
        return WeeklyEvaluation.objects.create(
            agent=agent, iso_year=iso.year, iso_week=iso.week, week_start=monday,
            evaluator=evaluator or self.sup_e, scorecard=self.card, status=status,
            submitted_at=None if status == "draft" else (submitted_at or at(monday.year, monday.month, monday.day, 15)
                                                        + datetime.timedelta(days=4)),
            attitude_pct=None if pcts[0] is None else Decimal(pcts[0]),
            ability_pct=None if pcts[1] is None else Decimal(pcts[1]),
            efficiency_pct=None if pcts[2] is None else Decimal(pcts[2]))


# ---------------------------------------------------------------------------------------------
# Evaluations
# ---------------------------------------------------------------------------------------------


class WeeklyMissingTests(ComplianceBase):
    def fill(self, skip: set[tuple[int, datetime.date]] = frozenset()) -> None:  # type: ignore[assignment]
        for monday in mondays():
            for agent in self.agents:
                if (agent.pk, monday) not in skip:
                    self.weekly(agent, monday)

    def test_every_week_done_on_time_fires_nothing(self):
        self.fill()
        self.assertEqual(self.hits("weekly_missing"), [])

    def test_one_week_missing_fires_once_for_that_agent_and_week(self):
        # policy E2.1: once a week. 2026-11-09 is ISO week 46.
        self.fill(skip={(self.agent.employee.pk, datetime.date(2026, 11, 9))})
        hits = self.hits("weekly_missing")
        self.assertEqual(len(hits), 1)
        h = hits[0]
        self.assertEqual((h.employee_id, h.details["kind"], h.details["week"]),
                         (self.agent.employee.pk, "missing", "2026-W46"))
        self.assertEqual(h.org_unit_id, self.cs1.pk)  # her department, not her team
        self.assertIs(h.target_model, Employee)
        self.assertIn("2026-W46", h.summary)

    def test_a_draft_does_not_count_and_is_the_target(self):
        self.fill(skip={(self.other_agent.employee.pk, datetime.date(2026, 11, 16))})
        draft = self.weekly(self.other_agent.employee, datetime.date(2026, 11, 16), status="draft")
        hits = self.hits("weekly_missing")
        self.assertEqual([(h.target_model, h.object_id, h.org_unit_id) for h in hits],
                         [(WeeklyEvaluation, draft.pk, self.cs2.pk)])

    def test_submitted_after_sunday_is_late_on_sunday_is_not(self):
        week = datetime.date(2026, 11, 2)
        self.fill(skip={(self.agent.employee.pk, week), (self.teammate_other_team.employee.pk, week)})
        self.weekly(self.agent.employee, week, submitted_at=at(2026, 11, 8, 23, 59))  # Sunday evening: in time
        late = self.weekly(self.teammate_other_team.employee, week, submitted_at=at(2026, 11, 9, 0, 1))
        hits = self.hits("weekly_missing")
        self.assertEqual(len(hits), 1)
        self.assertEqual((hits[0].object_id, hits[0].details["kind"], hits[0].details["days_late"]),
                         (late.pk, "late", 1))

    def test_the_current_week_and_people_not_agents_then_are_left_out(self):
        self.fill()
        # Hired on Monday 23 Nov: her first week is not over yet on the 27th.
        make_person("newbie", "新同事", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no="CS1099")
        Employee.objects.filter(employee_no="CS1099").update(hire_date=datetime.date(2026, 11, 23))
        self.assertEqual(self.hits("weekly_missing"), [])

    def test_weeks_after_she_left_are_not_owed(self):
        teammate = self.teammate_other_team.employee
        self.fill(skip={(teammate.pk, m) for m in (datetime.date(2026, 11, d) for d in (2, 9, 16))})
        Employee.objects.filter(pk=teammate.pk).update(status="left", leave_date=datetime.date(2026, 11, 8))
        # She worked until Sunday 8 Nov: week 45 (2-8 Nov) was owed, weeks 46 and 47 were not.
        self.assertEqual([(h.employee_id, h.details["week"]) for h in self.hits("weekly_missing")],
                         [(teammate.pk, "2026-W45")])

    def test_hired_on_the_sunday_counts_for_that_week(self):
        self.fill()
        make_person("newbie", "新同事", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no="CS1099")
        e = Employee.objects.get(employee_no="CS1099")
        e.hire_date = datetime.date(2026, 11, 22)  # the Sunday of week 47
        e.save()
        hits = self.hits("weekly_missing")
        self.assertEqual([(h.employee_id, h.details["week"]) for h in hits], [(e.pk, "2026-W47")])


class WeeklyNoEvidenceTests(ComplianceBase):
    def test_submitted_without_evidence_fires_with_attachment_or_as_draft_not(self):
        bare = self.weekly(self.agent.employee, datetime.date(2026, 11, 16))
        with_file = self.weekly(self.teammate_other_team.employee, datetime.date(2026, 11, 16))
        Attachment.objects.create(target=with_file, file="attachments/x.pdf", original_name="x.pdf",
                                  mime_type="application/pdf", size=10, sha256="0" * 64, uploaded_by=self.supervisor)
        self.weekly(self.other_agent.employee, datetime.date(2026, 11, 16), status="draft")
        hits = self.hits("weekly_no_evidence")
        self.assertEqual([h.object_id for h in hits], [bare.pk])
        self.assertEqual(hits[0].details["evaluator_id"], self.sup_e.pk)

    def test_an_evidence_interaction_counts_as_evidence(self):
        ev = self.weekly(self.agent.employee, datetime.date(2026, 11, 16))
        self.assertEqual([h.object_id for h in self.hits("weekly_no_evidence")], [ev.pk])
        interaction = Interaction.objects.create(source="crm", external_id="T-1", channel="phone",
                                                 received_at=at(2026, 11, 17), agent=self.agent.employee,
                                                 local_date=datetime.date(2026, 11, 17), imported_at=at(2026, 11, 18), updated_at=at(2026, 11, 18))
        WeeklyEvidence.objects.create(evaluation=ev, interaction=interaction, note="通話錄音")
        self.assertEqual(self.hits("weekly_no_evidence"), [])

    def test_older_than_the_window_is_left_out(self):
        self.weekly(self.agent.employee, datetime.date(2026, 8, 24))  # 95 days before the 27th
        self.assertEqual(self.hits("weekly_no_evidence"), [])


class MonthlyNotFinalTests(ComplianceBase):
    def monthly(self, agent: Employee, year: int, month: int, status: str = "final") -> MonthlyEvaluation:
        final = status == "final"
        return MonthlyEvaluation.objects.create(
            agent=agent, year=year, month=month, supervisor=self.sup_e, status=status,
            total=Decimal("80.00") if final else None, finalised_at=at(year, month, 28) if final else None,
            final_via="acknowledged" if final else "")

    def fill(self) -> None:
        for month in (8, 9, 10):
            for agent in self.agents:
                self.monthly(agent, 2026, month)

    def test_all_final_fires_nothing(self):
        self.fill()
        self.assertEqual(self.hits("monthly_not_final"), [])

    def test_not_final_after_the_deadline_fires(self):
        # October's deadline: the 10th working day after Sat 31 Oct is Fri 13 Nov (2-6, 9-13 Nov).
        self.fill()
        ev = MonthlyEvaluation.objects.get(agent=self.agent.employee, year=2026, month=10)
        ev.status, ev.finalised_at, ev.final_via = "submitted", None, ""
        ev.save()
        hits = self.hits("monthly_not_final")
        self.assertEqual([(h.object_id, h.details["deadline"]) for h in hits], [(ev.pk, datetime.date(2026, 11, 13))])

    def test_on_the_deadline_day_it_is_not_late_yet_the_day_after_it_is(self):
        self.fill()
        MonthlyEvaluation.objects.filter(agent=self.agent.employee, year=2026, month=10).delete()
        self.assertEqual([h for h in self.hits("monthly_not_final", datetime.date(2026, 11, 13))
                          if h.details["period"] == "2026-10"], [])
        hits = [h for h in self.hits("monthly_not_final", datetime.date(2026, 11, 14))
                if h.details["period"] == "2026-10"]
        self.assertEqual([(h.target_model, h.employee_id) for h in hits], [(Employee, self.agent.employee.pk)])

    def test_a_later_deadline_parameter_moves_the_boundary(self):
        self.fill()
        MonthlyEvaluation.objects.filter(agent=self.agent.employee, year=2026, month=10).delete()
        policy.PolicyValue.objects.create(key="inspections.monthly_final_working_days", value=15,
                                          effective_from=datetime.date(2026, 1, 1))
        # 15 working days after 31 Oct: 2-6, 9-13, 16-20 Nov → Fri 20 Nov; on the 20th not yet late.
        self.assertEqual([h for h in self.hits("monthly_not_final", datetime.date(2026, 11, 20))
                          if h.details["period"] == "2026-10"], [])
        self.assertEqual(len([h for h in self.hits("monthly_not_final", datetime.date(2026, 11, 21))
                              if h.details["period"] == "2026-10"]), 1)


class AppealOverdueTests(ComplianceBase):
    def appeal(self, agent: Employee, month: int, deadline: datetime.datetime, status: str = "open") -> Appeal:
        ev = MonthlyEvaluation.objects.create(agent=agent, year=2026, month=month, supervisor=self.sup_e,
                                              status="appealed", submitted_at=deadline - datetime.timedelta(days=7),
                                              appeal_deadline=deadline)
        decided = status == "decided"
        return Appeal.objects.create(evaluation=ev, filed_by=agent, reason="不服", filed_at=deadline
                                     - datetime.timedelta(days=1), deadline=deadline, status=status,
                                     decision="uphold" if decided else "", decided_at=deadline if decided else None)

    def test_open_after_its_deadline_fires(self):
        late = self.appeal(self.agent.employee, 10, at(2026, 11, 26, 18))
        self.appeal(self.teammate_other_team.employee, 10, at(2026, 11, 27, 18))  # today: not over yet
        self.appeal(self.other_agent.employee, 10, at(2026, 11, 20, 18), status="decided")
        hits = self.hits("appeal_overdue")
        self.assertEqual([h.object_id for h in hits], [late.pk])
        self.assertEqual(hits[0].details["days_over"], 1)


class EvaluatorTests(ComplianceBase):
    """Evaluators in CS1: the team lead and the supervisor; six extra CS1 agents give enough slots."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.extra = [make_person(f"a{i}", f"客服{i}", cls.cs1_t1, (Role.AGENT, cls.cs1_t1),
                                 employee_no=f"CS18{i:02d}").employee for i in range(6)]

    def series(self, evaluator: Employee, scores: list[Any], agents: list[Employee]) -> None:
        """One weekly evaluation per score, each dimension at that percent, agent by agent, week by week."""
        slots = [(a, m) for a in agents for m in mondays()]
        for (agent, monday), score in zip(slots, scores, strict=False):
            self.weekly(agent, monday, evaluator=evaluator, pcts=(score, score, score))

    def test_mean_two_standard_deviations_away_fires(self):
        # The supervisor: 72 and 82 four times each → mean 77, standard deviation 5.
        self.series(self.sup_e, ["72", "82"] * 4, self.extra[:1])
        # The team lead: eight at 87 → z = (87 − 77) / 5 = +2.00 → flagged (|z| ≥ 2).
        self.series(self.lead_e, ["87"] * 8, self.extra[1:2])
        hits = self.hits("evaluator_outlier")
        self.assertEqual([(h.employee_id, h.org_unit_id, h.details["z"], h.details["direction"]) for h in hits],
                         [(self.lead_e.pk, self.cs1.pk, 2.0, "lenient")])
        self.assertEqual((hits[0].details["mean"], hits[0].details["others_mean"], hits[0].details["others_sd"]),
                         (87.0, 77.0, 5.0))

    def test_just_under_two_does_not_fire(self):
        self.series(self.sup_e, ["72", "82"] * 4, self.extra[:1])
        self.series(self.lead_e, ["86.5"] * 8, self.extra[1:2])  # z = 9.5 / 5 = 1.9
        self.assertEqual(self.hits("evaluator_outlier"), [])

    def test_strict_evaluator_fires_too(self):
        self.series(self.sup_e, ["72", "82"] * 4, self.extra[:1])
        self.series(self.lead_e, ["60"] * 8, self.extra[1:2])  # z = −17 / 5 = −3.4
        hits = self.hits("evaluator_outlier")
        self.assertEqual([(h.employee_id, h.details["z"], h.details["direction"]) for h in hits],
                         [(self.lead_e.pk, -3.4, "strict")])

    def test_fewer_than_eight_evaluations_are_not_judged(self):
        self.series(self.sup_e, ["72", "82"] * 4, self.extra[:1])
        self.series(self.lead_e, ["99"] * 7, self.extra[1:2])
        self.assertEqual(self.hits("evaluator_outlier"), [])

    def test_other_departments_are_not_the_yardstick(self):
        # The supervisor's CS1 scores against the outsider's CS2 scores: different departments, no peers.
        self.series(self.sup_e, ["72", "82"] * 4, self.extra[:1])
        cs2 = [make_person(f"b{i}", f"二部{i}", self.cs2_t1, (Role.AGENT, self.cs2_t1),
                           employee_no=f"CS28{i:02d}").employee for i in range(1)]
        self.series(self.outsider.employee, ["99"] * 8, cs2)
        self.assertEqual(self.hits("evaluator_outlier"), [])

    def test_everything_at_the_maximum_fires(self):
        self.series(self.lead_e, ["100"] * 8, self.extra[:1])
        hits = self.hits("evaluator_all_max")
        self.assertEqual([(h.employee_id, h.details["n"]) for h in hits], [(self.lead_e.pk, 8)])

    def test_one_below_the_maximum_or_too_few_does_not_fire(self):
        self.series(self.lead_e, ["100"] * 7 + ["99.99"], self.extra[:1])
        self.series(self.sup_e, ["100"] * 7, self.extra[1:2])
        self.assertEqual(self.hits("evaluator_all_max"), [])

    def test_not_applicable_dimensions_are_left_out_of_the_maximum(self):
        for monday in mondays()[:8]:
            self.weekly(self.extra[0], monday, evaluator=self.lead_e, pcts=("100", None, "100"))
        self.assertEqual(len(self.hits("evaluator_all_max")), 1)


class AnnualQuotaTests(ComplianceBase):
    PARAMS = {"excellent_max_pct": "20", "fail_min_pct": "5", "min_population": 20, "quota_rounding": "strict"}

    def cycle(self, year: int, status: str, grades: list[str], params: dict[str, Any] | None = None) -> AnnualCycle:
        cycle = AnnualCycle.objects.create(year=year, status=status, opened_by=self.hr,
                                           parameters=params or self.PARAMS)
        people = Employee.objects.bulk_create([
            Employee(employee_no=f"Y{year}-{i:03d}", name=f"員工{i}", gender="F", hire_date=datetime.date(2024, 1, 1),
                     status="active", org_unit=self.cs1_t1) for i in range(len(grades))])
        AnnualResult.objects.bulk_create([AnnualResult(cycle=cycle, employee=e, rated=True, final_grade=g)
                                          for e, g in zip(people, grades, strict=True)])
        return cycle

    def test_breaking_the_cap_or_the_floor_fires(self):
        # 20 rated: cap = floor(20 × 20 %) = 4 excellent, floor = ceil(20 × 5 %) = 1 fail.
        c = self.cycle(2024, "approved", ["excellent"] * 5 + ["good"] * 15)
        hits = self.hits("annual_quota")
        self.assertEqual([(h.object_id, h.details["breach"], h.details["cap"], h.details["floor"]) for h in hits],
                         [(c.pk, "cap", 4, 1), (c.pk, "floor", 4, 1)])

    def test_within_the_quotas_or_still_calibrating_or_too_small_does_not_fire(self):
        self.cycle(2023, "published", ["excellent"] * 4 + ["fail"] + ["good"] * 15)
        self.cycle(2024, "calibrating", ["excellent"] * 10 + ["good"] * 10)
        self.cycle(2025, "submitted", ["excellent"] * 10 + ["good"] * 9)  # 19 < 20: quotas not forced
        self.assertEqual(self.hits("annual_quota"), [])


# ---------------------------------------------------------------------------------------------
# Uniforms
# ---------------------------------------------------------------------------------------------


class UniformHelpers(ComplianceBase):
    """Crafted uniform records (no tests of its own)."""

    n = 0

    def requisition(self, status: str, *, approved_at: datetime.datetime | None = None,
                    submitted_at: datetime.datetime | None = None) -> Requisition:
        type(self).n += 1
        return Requisition.objects.create(
            number=f"RQ-T{self.n:03d}", employee=self.agent.employee, filled_by=self.agent, reason="extra",
            extra_reason="測試", status=status, submitted_at=submitted_at or at(2026, 11, 2),
            approver=self.dept_head if approved_at else None, approved_at=approved_at)

    def issuance(self, requisition: Requisition, issued_at: datetime.datetime) -> Issuance:
        type(self).n += 1
        issuance = Issuance.objects.create(number=f"IS-T{self.n:03d}", requisition=requisition,
                                           employee=requisition.employee, employee_name="王小美",
                                           department_name="客服一部", location=self.main, issued_by=self.admin_clerk,
                                           issued_at=issued_at)
        IssuanceLine.objects.create(issuance=issuance, sku=self.top_m, quantity=1, style_name="夏季女襯衫", size_code="M",
                                    unit_cost=Decimal("80.00"))
        return issuance

    def count(self, status: str, lines: list[tuple[int, int | None]], counted_on: datetime.date) -> StockCount:
        type(self).n += 1
        c = StockCount.objects.create(number=f"SC-T{self.n:03d}", location=self.main, status=status,
                                      counted_on=counted_on, created_by=self.admin_clerk,
                                      submitted_at=at(counted_on.year, counted_on.month, counted_on.day))
        skus = [self.top_m, self.trs_m, self.tie_m]
        StockCountLine.objects.bulk_create([StockCountLine(count=c, sku=skus[i], expected=e, counted=n)
                                            for i, (e, n) in enumerate(lines)])
        return c

    def holding(self, employee: Employee, due: datetime.date, status: str = "held") -> Holding:
        return Holding.objects.create(employee=employee, sku=self.top_m, issued_on=due - datetime.timedelta(days=730),
                                      renewal_due_on=due, unit_cost=Decimal("80.00"), status=status,
                                      ended_on=None if status == "held" else due)

    def damage(self, reported_at: datetime.datetime, status: str = "reported") -> DamageReport:
        type(self).n += 1
        return DamageReport.objects.create(
            number=f"DM-T{self.n:03d}", employee=self.agent.employee,
            holding=self.holding(self.agent.employee, datetime.date(2027, 6, 1)), kind="damage",
            description="袖口破損", reported_by=self.agent, reported_at=reported_at, status=status)


class UniformChecksTests(UniformHelpers):
    def test_issue_without_an_approved_requisition_fires(self):
        ok = self.issuance(self.requisition("issued", approved_at=at(2026, 11, 3)), at(2026, 11, 4))
        never = self.issuance(self.requisition("submitted"), at(2026, 11, 4))
        after = self.issuance(self.requisition("issued", approved_at=at(2026, 11, 5)), at(2026, 11, 4))
        rejected = self.issuance(self.requisition("rejected"), at(2026, 11, 4))
        hits = self.hits("issue_without_approval")
        self.assertEqual(sorted(h.object_id for h in hits), sorted([never.pk, after.pk, rejected.pk]))
        self.assertNotIn(ok.pk, [h.object_id for h in hits])
        self.assertEqual({h.org_unit_id for h in hits}, {self.cs1.pk})

    def test_stock_count_with_variance_fires(self):
        off = self.count("approved", [(10, 9), (5, 7), (3, 3)], datetime.date(2026, 11, 2))
        self.count("approved", [(10, 10), (5, None)], datetime.date(2026, 11, 2))  # no variance
        self.count("draft", [(10, 1)], datetime.date(2026, 11, 2))  # not submitted
        self.count("approved", [(10, 1)], datetime.date(2026, 8, 20))  # before the window
        hits = self.hits("stock_count_variance")
        self.assertEqual([h.object_id for h in hits], [off.pk])
        # −1 and +2: two lines off, net +1, one over by 2, one short by 1.
        d = hits[0].details
        self.assertEqual((d["lines_off"], d["net"], d["over"], d["short"]), (2, 1, 2, 1))
        self.assertEqual(hits[0].org_unit_id, self.admin_dept.pk)

    def test_renewal_overdue_fires_per_employee(self):
        self.holding(self.agent.employee, datetime.date(2026, 11, 26))
        self.holding(self.agent.employee, datetime.date(2026, 10, 1))
        self.holding(self.teammate_other_team.employee, TODAY)  # due today: not overdue yet
        self.holding(self.other_agent.employee, datetime.date(2026, 1, 1), status="returned")
        hits = self.hits("renewal_overdue")
        self.assertEqual([(h.employee_id, h.details["items"], h.details["first_due"]) for h in hits],
                         [(self.agent.employee.pk, 2, datetime.date(2026, 10, 1))])

    def test_damage_report_not_assessed_beyond_the_wait_limit_fires(self):
        late = self.damage(at(2026, 11, 19, 17))
        self.damage(at(2026, 11, 20, 9))  # exactly at the limit: five working days, the fifth is today
        self.damage(at(2026, 11, 2), status="assessed")
        hits = self.hits("damage_not_assessed")
        self.assertEqual([h.object_id for h in hits], [late.pk])


# ---------------------------------------------------------------------------------------------
# Forms waiting for approval
# ---------------------------------------------------------------------------------------------


class ApprovalWaitingTests(UniformHelpers):
    def test_requisition_waiting_past_the_limit_fires_at_the_limit_not(self):
        late = self.requisition("submitted", submitted_at=at(2026, 11, 19, 23, 59))
        self.requisition("submitted", submitted_at=at(2026, 11, 20, 0, 0))
        self.requisition("approved", submitted_at=at(2026, 11, 2), approved_at=at(2026, 11, 3))
        hits = self.hits("approval_waiting")
        self.assertEqual([(h.target_model, h.object_id) for h in hits], [(Requisition, late.pk)])
        self.assertEqual(hits[0].details["limit_days"], 5)

    def test_a_longer_limit_lets_it_wait(self):
        self.requisition("submitted", submitted_at=at(2026, 11, 19, 10))
        policy.PolicyValue.objects.create(key="inspections.approval_wait_days", value=6,
                                          effective_from=datetime.date(2026, 1, 1))
        self.assertEqual(self.hits("approval_waiting"), [])

    def scrap(self, status: str, submitted_at: datetime.datetime, head_at: datetime.datetime | None = None):
        type(self).n += 1
        return ScrapRequest.objects.create(number=f"SR-T{self.n:03d}", employee=self.agent.employee,
                                           filled_by=self.agent, reason="破舊", status=status,
                                           submitted_at=submitted_at, head_signed_at=head_at,
                                           head_signed_by=self.dept_head if head_at else None)

    def test_scrap_forms_wait_for_the_head_then_for_admin(self):
        to_head = self.scrap("submitted", at(2026, 11, 18))
        to_admin = self.scrap("head_approved", at(2026, 11, 2), head_at=at(2026, 11, 19))
        self.scrap("head_approved", at(2026, 11, 2), head_at=at(2026, 11, 20))  # waiting for admin since the 20th
        hits = self.hits("approval_waiting")
        self.assertEqual(sorted(h.object_id for h in hits), sorted([to_head.pk, to_admin.pk]))

    def test_stock_count_appeal_and_plans_waiting(self):
        c = self.count("submitted", [(1, 1)], datetime.date(2026, 11, 10))
        ev = MonthlyEvaluation.objects.create(agent=self.agent.employee, year=2026, month=10, status="appealed",
                                              supervisor=self.sup_e, appeal_deadline=at(2026, 12, 1, 18))
        appeal = Appeal.objects.create(evaluation=ev, filed_by=self.agent.employee, reason="不服",
                                       filed_at=at(2026, 11, 16), deadline=at(2026, 12, 1, 18))
        plan = self.draft_plan()
        PurchasePlan.objects.filter(pk=plan.pk).update(status="submitted", round=1, submitted_at=at(2026, 11, 12))
        second = self.draft_plan(title="第二份")
        PurchasePlan.objects.filter(pk=second.pk).update(status="awaiting_second", round=1,
                                                         submitted_at=at(2026, 11, 2))
        PlanDecision.objects.create(plan=second, round=1, step=1, decision="approve", decided_by=self.leadership,
                                    decided_at=at(2026, 11, 20))  # first approval on the 20th: not waiting too long
        hits = self.hits("approval_waiting")
        self.assertEqual({(h.target_model, h.object_id) for h in hits},
                         {(StockCount, c.pk), (Appeal, appeal.pk), (PurchasePlan, plan.pk)})
        PlanDecision.objects.filter(plan=second).update(decided_at=at(2026, 11, 19))
        self.assertIn((PurchasePlan, second.pk), {(h.target_model, h.object_id) for h in self.hits("approval_waiting")})

    def test_award_over_budget_waiting_for_leadership(self):
        # Budget 10 × 100 + 10 × 20 = 1,200; the lowest quote 10 × 130 + 10 × 25 = 1,550 is over it, so
        # the award waits for leadership (U1.2).
        rfq = self.rfq_with_quotes(self.approved_plan(), {"S1": {"TOP-S": "130.00", "TIE": "25.00"},
                                                          "S2": {"TOP-S": "140.00", "TIE": "26.00"},
                                                          "S3": {"TOP-S": "150.00", "TIE": "27.00"}})
        award = pservices.rfq_award(actor=self.admin_clerk, rfq=rfq, supplier=self.s1, reason="最低價")
        self.assertEqual(award.status, Award.Status.PENDING)
        Award.objects.filter(pk=award.pk).update(awarded_at=at(2026, 11, 20, 8))
        self.assertEqual(self.hits("approval_waiting"), [])
        Award.objects.filter(pk=award.pk).update(awarded_at=at(2026, 11, 19, 18))
        self.assertEqual([(h.target_model, h.object_id) for h in self.hits("approval_waiting")], [(Award, award.pk)])


# ---------------------------------------------------------------------------------------------
# Procurement
# ---------------------------------------------------------------------------------------------


class OrderSupplierTests(ComplianceBase):
    def test_order_to_a_qualified_supplier_does_not_fire(self):
        self.issued_order()
        self.assertEqual(self.hits("order_unqualified_supplier"), [])

    def test_suspended_after_the_order_does_not_fire_suspended_before_does(self):
        order = self.issued_order()
        pservices.supplier_suspend(actor=self.admin_clerk, supplier=self.s1, reason="品質問題")
        # Qualified when the order was issued (the audit log says so), suspended only afterwards.
        self.assertEqual(self.hits("order_unqualified_supplier"), [])
        # Had the order gone out after the suspension, it would have gone to a suspended supplier.
        PurchaseOrder.objects.filter(pk=order.pk).update(issued_at=timezone.now() + datetime.timedelta(hours=1))
        hits = self.hits("order_unqualified_supplier")
        self.assertEqual([(h.object_id, h.details["status_then"]) for h in hits], [(order.pk, "suspended")])

    def test_expired_certificate_on_the_order_date_fires_valid_through_it_does_not(self):
        order = self.issued_order()
        licence = SupplierCertificate.objects.get(supplier=self.s1)
        SupplierCertificate.objects.filter(pk=licence.pk).update(expires_on=order.order_date)
        self.assertEqual(self.hits("order_unqualified_supplier"), [])
        SupplierCertificate.objects.filter(pk=licence.pk).update(
            expires_on=order.order_date - datetime.timedelta(days=1))
        hits = self.hits("order_unqualified_supplier")
        self.assertEqual([h.object_id for h in hits], [order.pk])
        self.assertEqual([p["msg"] for p in hits[0].details["problems"]], [compliance.PROBLEM_EXPIRED])

    def test_no_licence_on_file_when_ordered_fires(self):
        order = self.issued_order()
        SupplierCertificate.objects.filter(supplier=self.s1).update(withdrawn_at=order.issued_at)
        hits = self.hits("order_unqualified_supplier")
        self.assertEqual([p["msg"] for p in hits[0].details["problems"]], [compliance.PROBLEM_LICENCE])


# ---------------------------------------------------------------------------------------------
# The run and attaching
# ---------------------------------------------------------------------------------------------


class RunTests(UniformHelpers):
    def inspection(self, status: str = "in_progress") -> Inspection:
        return Inspection.objects.create(title="制服管理抽查", topic="uniforms", period_start=datetime.date(2026, 11, 1),
                                         period_end=datetime.date(2026, 11, 30), status=status,
                                         lead_inspector=self.inspector, created_by=self.inspector)

    def test_run_stores_every_hit_and_a_count_per_check_and_is_audited(self):
        self.holding(self.agent.employee, datetime.date(2026, 11, 1))
        self.holding(self.other_agent.employee, datetime.date(2026, 11, 2))
        self.requisition("submitted", submitted_at=at(2026, 11, 3))
        run = compliance.compliance_run(actor=self.inspector, today=TODAY)
        self.assertEqual(set(run.counts), set(compliance.CHECKS))
        self.assertEqual(run.counts["renewal_overdue"], 2)
        self.assertEqual(run.counts["approval_waiting"], 1)
        self.assertEqual(ComplianceHit.objects.filter(run=run).count(), sum(run.counts.values()))
        renewal = ComplianceHit.objects.filter(run=run, check_key="renewal_overdue").order_by("details__first_due")
        self.assertEqual([(h.employee_id, h.org_unit_id, h.clause) for h in renewal],
                         [(self.agent.employee.pk, self.cs1.pk, "U4.1"), (self.other_agent.employee.pk, self.cs2.pk,
                                                                          "U4.1")])
        self.assertEqual(renewal[0].details["link"]["query"], "q=CS1001")
        self.assertIsNotNone(run.finished_at)
        self.assertEqual((run.trigger, run.started_by), ("manual", self.inspector))
        self.assertTrue(AuditEntry.objects.filter(action="compliance_run.run", object_id=str(run.pk)).exists())

    def test_every_hit_links_to_a_record_the_inspector_can_open(self):
        self.holding(self.agent.employee, datetime.date(2026, 11, 1))
        self.issuance(self.requisition("submitted", submitted_at=at(2026, 11, 3)), at(2026, 11, 4))
        self.count("submitted", [(4, 3)], datetime.date(2026, 11, 10))
        self.damage(at(2026, 11, 2))
        self.weekly(self.agent.employee, datetime.date(2026, 11, 16))
        run = compliance.compliance_run(actor=self.inspector, today=TODAY)
        hits = list(ComplianceHit.objects.filter(run=run))
        kinds = {h.check_key for h in hits}
        self.assertLessEqual({"renewal_overdue", "issue_without_approval", "stock_count_variance",
                              "damage_not_assessed", "approval_waiting", "weekly_missing", "weekly_no_evidence",
                              "monthly_not_final"}, kinds)
        self.client.force_login(self.inspector)
        seen = set()
        for h in hits:
            url = compliance.link_of(h.details)
            self.assertTrue(url, h.summary)
            if url in seen:
                continue
            seen.add(url)
            self.assertEqual(self.client.get(url).status_code, 200, (h.check_key, url))

    def test_only_inspectors_run_it_the_schedule_runs_without_a_person(self):
        with self.assertRaises(PermissionDenied):
            compliance.compliance_run(actor=self.hr, today=TODAY)
        run = compliance.compliance_run(actor=None, trigger="scheduled", today=TODAY)
        self.assertEqual((run.trigger, run.started_by), ("scheduled", None))

    def test_attach_makes_a_finding_once(self):
        self.holding(self.agent.employee, datetime.date(2026, 11, 1))
        run = compliance.compliance_run(actor=self.inspector, today=TODAY)
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        inspection = self.inspection()
        finding = compliance.hit_attach(actor=self.inspector, hit=hit, inspection=inspection)
        self.assertEqual((finding.inspection, finding.hit, finding.org_unit, finding.employee),
                         (inspection, hit, self.cs1, self.agent.employee))
        self.assertIn("Renewals overdue", finding.title)
        hit.refresh_from_db()
        self.assertEqual((hit.inspection, hit.attached_by), (inspection, self.inspector))
        again = compliance.hit_attach(actor=self.inspector, hit=hit, inspection=inspection)
        self.assertEqual(again.pk, finding.pk)
        self.assertEqual(Finding.objects.filter(hit=hit).count(), 1)
        with self.assertRaises(ValidationError):
            compliance.hit_attach(actor=self.inspector, hit=hit, inspection=self.inspection())

    def test_attach_needs_an_inspector_an_inspection_in_progress_and_a_department(self):
        self.holding(self.agent.employee, datetime.date(2026, 11, 1))
        run = compliance.compliance_run(actor=self.inspector, today=TODAY)
        hit = ComplianceHit.objects.get(run=run, check_key="renewal_overdue")
        with self.assertRaises(PermissionDenied):
            compliance.hit_attach(actor=self.hr, hit=hit, inspection=self.inspection())
        with self.assertRaises(ValidationError):
            compliance.hit_attach(actor=self.inspector, hit=hit, inspection=self.inspection("completed"))
        ComplianceHit.objects.filter(pk=hit.pk).update(org_unit=None)
        hit.refresh_from_db()
        with self.assertRaises(ValidationError):
            compliance.hit_attach(actor=self.inspector, hit=hit, inspection=self.inspection())
        finding = compliance.hit_attach(actor=self.inspector, hit=hit, inspection=self.inspection(),
                                        org_unit=self.cs1)
        self.assertEqual(finding.org_unit, self.cs1)
        self.assertFalse(Finding.objects.exclude(pk=finding.pk).exists())


class WaitCutoffTests(ComplianceBase):
    def test_cutoff_is_the_start_of_the_nth_working_day_back(self):
        self.assertEqual(compliance.wait_cutoff(TODAY, 5), at(2026, 11, 20, 0))
        # Monday 30 Nov, 1 working day: Friday 27th is the last one over.
        self.assertEqual(compliance.wait_cutoff(datetime.date(2026, 11, 30), 1), at(2026, 11, 27, 0))
        # Across National Day (1-7 Oct 2026 off; Sat 10 Oct is an adjusted working day): 4 working days
        # back from Mon 12 Oct are Sat 10, Fri 9, Thu 8 and Wed 30 Sep.
        self.assertEqual(compliance.wait_cutoff(datetime.date(2026, 10, 12), 4), at(2026, 9, 30, 0))
