"""The annual cycle's services (policy E2.3): population, composite arithmetic, states and roles.

Facts used throughout (worked out by hand):
- 王小美 (agent, CS1): six final months 80, 82, 84, 86, 88, 90 → sum 510, mean 85.00; in 2026 the
  ratings 5, 4, 4, 3 → mean 4.00 → satisfaction (4 − 1) ÷ 4 × 100 = 75.00; a 1 on 31 Dec 2025 and a 1
  on 1 Jan 2027 (local time) lie outside the year. Composite with achievements 0:
  (60 × 85 + 20 × 75 + 20 × 0) ÷ 100 = 66.00 → pass; with achievements 90: 84.00 → good.
- 鄭惠如 (other_agent, CS2): seven final months of 70 → mean 70.00, no ratings, so satisfaction is left out
  and the weights rescaled: (60 × 70 + 20 × 0) ÷ 80 = 52.50 → fail.
- 林雅婷 (teammate_other_team): five final months and one draft → not rated (six needed).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from kefu.annual import services
from kefu.annual.models import AnnualCycle, AnnualResult
from kefu.annual.tests.builders import final_months, ratings
from kefu.core.models import AuditEntry
from kefu.evaluations.tests.builders import monthly_draft
from kefu.people.testing import KefuTestCase


class AnnualTestCase(KefuTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.me = cls.agent.employee
        cls.her = cls.other_agent.employee
        cls.mate = cls.teammate_other_team.employee
        final_months(cls.me, 2026, ["80", "82", "84", "86", "88", "90"])
        final_months(cls.her, 2026, ["70"] * 7)
        final_months(cls.mate, 2026, ["95"] * 5)
        monthly_draft(cls.mate, 2026, 6)
        final_months(cls.mate, 2025, ["95"] * 3, first_month=10)  # another year: does not count
        ratings(cls.me, [((2026, 3, 2, 10), 5), ((2026, 5, 6, 11), 4), ((2026, 8, 3, 9), 4),
                         ((2026, 12, 31, 23, 30), 3), ((2025, 12, 31, 23, 0), 1), ((2027, 1, 1, 0, 30), 1)])

    def open(self) -> AnnualCycle:
        return services.cycle_open(actor=self.hr, year=2026)

    def result(self, cycle: AnnualCycle, user) -> AnnualResult:
        return cycle.results.get(employee__user=user)


class CycleOpenTests(AnnualTestCase):
    def test_population_and_composites(self):
        cycle = self.open()
        self.assertEqual(cycle.status, AnnualCycle.Status.OPEN)
        self.assertEqual(cycle.parameters["min_final_months"], 6)
        # Agents only: the team lead, supervisors and department head hold no agent role and no month.
        self.assertEqual(sorted(cycle.results.values_list("employee__user__username", flat=True)),
                         ["agent", "agent2", "agent3"])
        me = self.result(cycle, self.agent)
        self.assertTrue(me.rated)
        self.assertEqual((me.final_months, me.monthly_mean), (6, Decimal("85.00")))
        self.assertEqual((me.rating_count, me.rating_mean, me.satisfaction_score), (4, Decimal("4.00"), Decimal("75.00")))
        self.assertEqual(me.composite, Decimal("66.00"))
        self.assertEqual((me.proposed_grade, me.final_grade), ("pass", "pass"))
        her = self.result(cycle, self.other_agent)
        self.assertEqual((her.monthly_mean, her.satisfaction_score, her.composite),
                         (Decimal("70.00"), None, Decimal("52.50")))
        self.assertEqual(her.proposed_grade, "fail")
        self.assertIn(services.NO_RATINGS, her.flags)
        # Two people, fewer than 20: quotas not forced; the cap floor(2 × 20 %) = 0 is not applied to anyone
        # excellent, and the floor ceil(2 × 5 %) = 1 is met by her threshold fail, so no quota flag.
        self.assertNotIn("quota_would_apply", me.flags)
        mate = self.result(cycle, self.teammate_other_team)
        self.assertFalse(mate.rated)
        self.assertEqual(mate.final_months, 5)
        self.assertIn("5 final monthly evaluations in 2026; 6 needed", mate.not_rated_reason)
        self.assertEqual((mate.composite, mate.final_grade), (None, ""))
        self.assertTrue(AuditEntry.objects.filter(action="annual_cycle.open").exists())

    def test_open_twice_and_wrong_roles(self):
        self.open()
        with self.assertRaises(ValidationError) as e:
            self.open()
        self.assertIn("year", e.exception.message_dict)
        self.assertEqual(AnnualCycle.objects.count(), 1)
        for user in (self.supervisor, self.leadership, self.agent):
            with self.assertRaises(PermissionDenied):
                services.cycle_open(actor=user, year=2025)

    def test_achievements_recompute_the_composite(self):
        cycle = self.open()
        me = services.achievements_set(actor=self.supervisor, result=self.result(cycle, self.agent),
                                       score=Decimal(90), evidence="Two commendations; led the FAQ rewrite")
        # (60 × 85 + 20 × 75 + 20 × 90) ÷ 100 = 84.00 → good
        self.assertEqual((me.composite, me.proposed_grade, me.final_grade), (Decimal("84.00"), "good", "good"))
        her = self.result(cycle, self.other_agent)
        # The CS1 supervisor does not cover CS2; the outsider (CS2's supervisor) does: (4200 + 2000) ÷ 80 = 77.50.
        with self.assertRaises(PermissionDenied):
            services.achievements_set(actor=self.supervisor, result=her, score=Decimal(100), evidence="x")
        her = services.achievements_set(actor=self.outsider, result=her, score=Decimal(100), evidence="Award")
        self.assertEqual(her.composite, Decimal("77.50"))
        with self.assertRaises(ValidationError) as e:
            services.achievements_set(actor=self.supervisor, result=me, score=Decimal(101), evidence="x")
        self.assertIn("achievements_score", e.exception.message_dict)
        with self.assertRaises(ValidationError) as e:
            services.achievements_set(actor=self.supervisor, result=me, score=Decimal(50), evidence=" ")
        self.assertIn("achievements_evidence", e.exception.message_dict)
        with self.assertRaises(PermissionDenied):
            services.achievements_set(actor=self.hr, result=me, score=Decimal(50), evidence="x")


class CycleStateTests(AnnualTestCase):
    def test_the_whole_way_and_wrong_roles(self):
        cycle = self.open()
        with self.assertRaises(ValidationError):
            services.cycle_submit(actor=self.hr, cycle=cycle)  # still open
        with self.assertRaises(PermissionDenied):
            services.cycle_calibrate(actor=self.supervisor, cycle=cycle)
        cycle = services.cycle_calibrate(actor=self.hr, cycle=cycle)
        self.assertEqual(cycle.status, AnnualCycle.Status.CALIBRATING)
        with self.assertRaises(ValidationError):  # achievements are locked once calibration starts
            services.achievements_set(actor=self.supervisor, result=self.result(cycle, self.agent),
                                      score=Decimal(90), evidence="late")
        with self.assertRaises(PermissionDenied):
            services.cycle_submit(actor=self.supervisor, cycle=cycle)  # a supervisor cannot finalise
        cycle = services.cycle_submit(actor=self.hr, cycle=cycle)  # 2 people < 20: quotas not forced
        with self.assertRaises(PermissionDenied):
            services.cycle_approve(actor=self.hr, cycle=cycle)
        with self.assertRaises(ValidationError):
            services.cycle_publish(actor=self.hr, cycle=cycle)  # not approved yet
        cycle = services.cycle_approve(actor=self.leadership, cycle=cycle)
        self.assertEqual((cycle.status, cycle.approved_by), (AnnualCycle.Status.APPROVED, self.leadership))
        with self.assertRaises(PermissionDenied):
            services.cycle_publish(actor=self.leadership, cycle=cycle)
        cycle = services.cycle_publish(actor=self.hr, cycle=cycle)
        self.assertEqual(cycle.status, AnnualCycle.Status.PUBLISHED)
        self.assertTrue(self.agent.notifications.filter(title__contains="2026").exists())
        with self.assertRaises(ValidationError):  # locked
            services.grade_change(actor=self.hr, result=self.result(cycle, self.agent), grade="good", reason="x")


class CalibrationTests(AnnualTestCase):
    def calibrating(self, min_population: int = 2) -> AnnualCycle:
        """Two people forced as if the minimum were 2: cap floor(2 × 20 %) = 0, floor ceil(2 × 5 %) = 1."""
        cycle = self.open()
        cycle.parameters["min_population"] = min_population
        cycle.save()
        return services.cycle_calibrate(actor=self.hr, cycle=cycle)

    def test_grade_change_needs_hr_and_a_reason(self):
        cycle = self.calibrating()
        me = self.result(cycle, self.agent)
        with self.assertRaises(PermissionDenied):
            services.grade_change(actor=self.supervisor, result=me, grade="good", reason="x")
        with self.assertRaises(ValidationError) as e:
            services.grade_change(actor=self.hr, result=me, grade="good", reason="  ")
        self.assertIn("change_reason", e.exception.message_dict)
        with self.assertRaises(ValidationError) as e:
            services.grade_change(actor=self.hr, result=me, grade="superb", reason="x")
        self.assertIn("final_grade", e.exception.message_dict)
        me = services.grade_change(actor=self.hr, result=me, grade="good", reason="Strong second half")
        self.assertEqual((me.proposed_grade, me.final_grade), ("pass", "good"))
        self.assertEqual(AuditEntry.objects.get(action="annual_result.grade_change").reason, "Strong second half")

    def test_submit_refuses_a_violated_quota(self):
        cycle = self.calibrating()
        services.grade_change(actor=self.hr, result=self.result(cycle, self.agent), grade="excellent", reason="r")
        services.grade_change(actor=self.hr, result=self.result(cycle, self.other_agent), grade="pass", reason="r")
        with self.assertRaises(ValidationError) as e:
            services.cycle_submit(actor=self.hr, cycle=cycle)
        text = " ".join(e.exception.messages)
        self.assertIn("1 excellent, more than the cap of 0", text)
        self.assertIn("0 fail, fewer than the floor of 1", text)
        cycle.refresh_from_db()
        self.assertEqual(cycle.status, AnnualCycle.Status.CALIBRATING)
        services.grade_change(actor=self.hr, result=self.result(cycle, self.agent), grade="good", reason="r")
        services.grade_change(actor=self.hr, result=self.result(cycle, self.other_agent), grade="fail", reason="r")
        self.assertEqual(services.cycle_submit(actor=self.hr, cycle=cycle).status, AnnualCycle.Status.SUBMITTED)

    def test_submit_refuses_an_unresolved_tie(self):
        cycle = self.calibrating()
        # Both on 66.00, both pass: the floor of 1 falls inside the tie, so nobody is failed, both flagged.
        cycle.results.filter(rated=True).update(composite=Decimal("66.00"))
        services.proposal_refresh(actor=self.hr, cycle=cycle)
        me, her = self.result(cycle, self.agent), self.result(cycle, self.other_agent)
        self.assertIn("tie_at_floor", me.flags)
        self.assertIn("tie_at_floor", her.flags)
        self.assertEqual((me.final_grade, her.final_grade), ("pass", "pass"))
        with self.assertRaises(ValidationError) as e:
            services.cycle_submit(actor=self.hr, cycle=cycle)
        self.assertIn("Tied scores to resolve", " ".join(e.exception.messages))
        services.grade_change(actor=self.hr, result=her, grade="fail", reason="More complaints upheld")
        with self.assertRaises(ValidationError):  # 王小美's tie is still undecided
            services.cycle_submit(actor=self.hr, cycle=cycle)
        services.grade_change(actor=self.hr, result=me, grade="pass", reason="Fewer complaints")
        self.assertEqual(services.cycle_submit(actor=self.hr, cycle=cycle).status, AnnualCycle.Status.SUBMITTED)

    def test_under_the_minimum_the_quotas_do_not_block(self):
        cycle = self.calibrating(min_population=20)
        services.grade_change(actor=self.hr, result=self.result(cycle, self.agent), grade="excellent", reason="r")
        self.assertEqual(services.cycle_submit(actor=self.hr, cycle=cycle).status, AnnualCycle.Status.SUBMITTED)
