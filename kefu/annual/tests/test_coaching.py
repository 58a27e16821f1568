"""Coaching plans and HR cases (policy E3.3): what owes a plan, the sync's idempotency, the steps.

Facts (worked out by hand; the trigger ``coaching.monthly_trigger`` defaults to 60):
- 王小美 (agent, CS1-T1): 2026-01 final 59.50 → owes a plan (59.50 < 60); 2026-02 final 60.00 → none
  (not under 60); 2026-03 a draft totalling 40.00 and 2026-04 a submitted one of 40.00 → none (not final).
- The default coach is the CS supervisor of the nearest unit above: 陳淑芬 (supervisor) for CS1 people,
  吳俊傑 (outsider) for CS2 people.
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.test import TransactionTestCase
from django.utils import timezone

from kefu.annual import coaching, services
from kefu.annual.models import CoachingPlan, HrCase
from kefu.annual.tests.builders import final_months
from kefu.core.models import AuditEntry, Notification
from kefu.core.services import policy_set
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tests.builders import monthly_draft
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase, build_company

P = CoachingPlan.Status
TODAY = timezone.localdate()


def month_eval(agent: Employee, year: int, month: int, total: str, status: str = MonthlyEvaluation.Status.FINAL):
    """A monthly evaluation in ``status`` with ``total`` (setup data, not the monthly flow)."""
    ev = monthly_draft(agent, year, month)
    final = status == MonthlyEvaluation.Status.FINAL
    MonthlyEvaluation.objects.filter(pk=ev.pk).update(status=status, total=Decimal(total),
                                                      finalised_at=timezone.now() if final else None)
    return ev


def monthly_plan_periods() -> list[tuple[str, str]]:
    return sorted(CoachingPlan.objects.filter(source=CoachingPlan.Source.MONTHLY_LOW).values_list(
        "employee__employee_no", "monthly_evaluation__month"))


class CoachingTestCase(KefuTestCase):
    def plan_for(self, user, **extra) -> CoachingPlan:
        """An owed plan made by the sync for a final month of 50.00 (2026-01) of ``user``."""
        ev = month_eval(user.employee, 2026, extra.pop("month", 1), "50")
        coaching.coaching_sync()
        return CoachingPlan.objects.get(monthly_evaluation=ev)

    def active_plan(self, user=None) -> CoachingPlan:
        plan = self.plan_for(user or self.agent)
        return coaching.plan_activate(actor=self.supervisor, plan=plan, goals="Monthly total of 70 or more",
                                      coach=self.team_lead, due_date=TODAY + datetime.timedelta(days=30))


class TriggerTests(CoachingTestCase):
    def test_monthly_totals_against_the_trigger(self):
        me = self.agent.employee
        jan = month_eval(me, 2026, 1, "59.5")
        month_eval(me, 2026, 2, "60.00")
        month_eval(me, 2026, 3, "40", MonthlyEvaluation.Status.DRAFT)
        month_eval(me, 2026, 4, "40", MonthlyEvaluation.Status.SUBMITTED)
        run = coaching.coaching_sync()
        self.assertEqual((run.annual, run.monthly), (0, 1))
        plan = CoachingPlan.objects.get()
        self.assertEqual((plan.monthly_evaluation_id, plan.employee_id, plan.source, plan.status),
                         (jan.pk, me.pk, CoachingPlan.Source.MONTHLY_LOW, P.DRAFT))
        self.assertEqual(plan.coach, self.supervisor)  # CS1's supervisor
        self.assertIsNone(plan.created_by)  # made by the job
        self.assertTrue(AuditEntry.objects.filter(action="coaching_plan.create", object_id=str(plan.pk)).exists())
        # The supervisor is told one draft waits for her.
        note = Notification.objects.get(recipient=self.supervisor)
        self.assertIn("1 coaching plan", note.title)

    def test_trigger_changed_mid_year_applies_by_the_months_last_day(self):
        # 70 from 15 June, 50 from 1 August, 80 from 30 September (the last day of September).
        for value, day in (("70", datetime.date(2026, 6, 15)), ("50", datetime.date(2026, 8, 1)),
                           ("80", datetime.date(2026, 9, 30))):
            policy_set(key="coaching.monthly_trigger", value=value, effective_from=day, actor=self.sysadmin,
                       note="Coaching trigger changed")
        me = self.agent.employee
        month_eval(me, 2026, 5, "65")  # 31 May: 60 in force → 65 is not under it
        month_eval(me, 2026, 6, "65")  # 30 June: 70 (from 15 June) → plan
        month_eval(me, 2026, 7, "65")  # 31 July: still 70 → plan
        month_eval(me, 2026, 8, "55")  # 31 August: 50 → none
        month_eval(me, 2026, 9, "75")  # 30 September: 80 (from that very day) → plan
        month_eval(me, 2026, 10, "79.99")  # 31 October: 80 → plan
        month_eval(me, 2026, 11, "80")  # 80 is not under 80 → none
        coaching.coaching_sync()
        self.assertEqual(monthly_plan_periods(), [("CS1001", 6), ("CS1001", 7), ("CS1001", 9), ("CS1001", 10)])
        self.assertEqual(coaching.trigger_for(2026, 6), Decimal("70"))
        self.assertEqual(coaching.trigger_for(2026, 5), Decimal("60"))

    def test_two_values_in_one_month_the_later_wins(self):
        policy_set(key="coaching.monthly_trigger", value="70", effective_from=datetime.date(2026, 3, 5),
                   actor=self.sysadmin, note="first")
        policy_set(key="coaching.monthly_trigger", value="55", effective_from=datetime.date(2026, 3, 20),
                   actor=self.sysadmin, note="second")
        month_eval(self.agent.employee, 2026, 3, "58")  # 31 March: 55 → not under
        month_eval(self.agent.employee, 2026, 2, "58")  # 28 February: 60 → plan
        coaching.coaching_sync()
        self.assertEqual(monthly_plan_periods(), [("CS1001", 2)])

    def test_published_fail_grade_owes_a_plan_made_on_publication(self):
        # 鄭惠如 (CS2): seven months of 70 and no ratings → (60 × 70) ÷ 80 = 52.50 → fail; 王小美 66.00 → pass.
        final_months(self.other_agent.employee, 2026, ["70"] * 7)
        final_months(self.agent.employee, 2026, ["80", "82", "84", "86", "88", "90"])
        cycle = services.cycle_open(actor=self.hr, year=2026)
        services.cycle_calibrate(actor=self.hr, cycle=cycle)
        services.cycle_submit(actor=self.hr, cycle=cycle)
        services.cycle_approve(actor=self.leadership, cycle=cycle)
        self.assertEqual(coaching.coaching_sync().created, 0)  # approved, not published: nothing owed yet
        with self.captureOnCommitCallbacks(execute=True):
            services.cycle_publish(actor=self.hr, cycle=cycle)
        plan = CoachingPlan.objects.get()
        result = cycle.results.get(employee=self.other_agent.employee)
        self.assertEqual(result.final_grade, "fail")
        self.assertEqual((plan.source, plan.annual_result_id, plan.employee_id, plan.coach),
                         (CoachingPlan.Source.ANNUAL_FAIL, result.pk, result.employee_id, self.outsider))
        self.assertEqual(coaching.coaching_sync().created, 0)

    def test_people_who_left_are_not_coached(self):
        mate = self.teammate_other_team.employee
        month_eval(mate, 2026, 1, "30")
        Employee.objects.filter(pk=mate.pk).update(status=Employee.Status.LEFT)
        self.assertEqual(coaching.coaching_sync().created, 0)

    def test_no_supervisor_no_default_coach(self):
        from kefu.people.models import RoleAssignment

        RoleAssignment.objects.filter(user=self.outsider).update(end_date=TODAY - datetime.timedelta(days=1))
        month_eval(self.other_agent.employee, 2026, 1, "30")
        run = coaching.coaching_sync()
        self.assertEqual((run.monthly, run.without_coach), (1, 1))
        self.assertIsNone(CoachingPlan.objects.get().coach)


class IdempotencyTests(CoachingTestCase):
    def test_second_run_makes_nothing(self):
        month_eval(self.agent.employee, 2026, 1, "10")
        month_eval(self.other_agent.employee, 2026, 1, "20")
        self.assertEqual(coaching.coaching_sync().monthly, 2)
        self.assertEqual(coaching.coaching_sync().monthly, 0)
        self.assertEqual(CoachingPlan.objects.count(), 2)

    def test_a_plan_made_by_a_concurrent_run_is_skipped(self):
        # The unique constraint is the guard: inserting the same owed plan again is refused quietly.
        ev = month_eval(self.agent.employee, 2026, 1, "10")
        coaching.coaching_sync()
        again = CoachingPlan(employee=self.agent.employee, source=CoachingPlan.Source.MONTHLY_LOW,
                             monthly_evaluation=ev)
        self.assertFalse(coaching._create(again, actor=None, reason="race"))
        self.assertEqual(CoachingPlan.objects.count(), 1)

    def test_command(self):
        from io import StringIO

        month_eval(self.agent.employee, 2026, 1, "10")
        out = StringIO()
        call_command("coaching_sync", stdout=out)
        self.assertIn("1 for low monthly totals", out.getvalue())
        call_command("coaching_sync", stdout=out)
        self.assertEqual(CoachingPlan.objects.count(), 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and concurrent inserts: PostgreSQL")
class ConcurrentSyncTests(TransactionTestCase):
    def test_two_runs_at_once_make_each_plan_once(self):
        c = build_company()
        for month in range(1, 7):
            month_eval(c.agent.employee, 2026, month, "10")
            month_eval(c.other_agent.employee, 2026, month, "20")
        barrier = threading.Barrier(2)
        runs: list[coaching.SyncRun] = []
        errors: list[BaseException] = []

        def work():
            try:
                barrier.wait()
                runs.append(coaching.coaching_sync())
            except BaseException as e:  # reported by the assertion below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(CoachingPlan.objects.count(), 12)
        self.assertEqual(sum(r.monthly for r in runs), 12)


class StepTests(CoachingTestCase):
    def test_activate(self):
        plan = self.plan_for(self.agent)
        due = TODAY + datetime.timedelta(days=30)
        with self.assertRaises(ValidationError) as e:
            coaching.plan_activate(actor=self.supervisor, plan=plan, goals=" ", coach=None, due_date=None)
        self.assertEqual(set(e.exception.message_dict), {"goals", "coach", "due_date"})
        with self.assertRaises(ValidationError) as e:
            coaching.plan_activate(actor=self.supervisor, plan=plan, goals="g", coach=self.team_lead, due_date=TODAY)
        self.assertIn("after today", str(e.exception))
        with self.assertRaises(ValidationError) as e:  # another department's agent cannot coach her
            coaching.plan_activate(actor=self.supervisor, plan=plan, goals="g", coach=self.other_agent, due_date=due)
        self.assertIn("coach", e.exception.message_dict)
        for user in (self.outsider, self.hr, self.dept_head, self.team_lead, self.agent):
            with self.assertRaises(PermissionDenied):
                coaching.plan_activate(actor=user, plan=plan, goals="g", coach=self.team_lead, due_date=due)
        plan = coaching.plan_activate(actor=self.supervisor, plan=plan, goals="Monthly total of 70 or more",
                                      coach=self.team_lead, due_date=due)
        plan.refresh_from_db()
        self.assertEqual((plan.status, plan.coach, plan.due_date), (P.ACTIVE, self.team_lead, due))
        # The person and the coach are told.
        self.assertEqual(set(Notification.objects.filter(title__startswith="Coaching plan for")
                             .values_list("recipient__username", flat=True)), {"agent", "lead"})
        with self.assertRaises(ValidationError) as e:  # a double submit: the step happened once
            coaching.plan_activate(actor=self.supervisor, plan=plan, goals="x", coach=self.team_lead, due_date=due)
        self.assertIn("this step needs it Draft", str(e.exception))

    def test_sessions(self):
        draft = self.plan_for(self.agent, month=2)
        with self.assertRaises(ValidationError):  # a draft has no sessions
            coaching.session_add(actor=self.supervisor, plan=draft, held_on=TODAY, notes="n")
        plan = self.active_plan()
        with self.assertRaises(ValidationError) as e:
            coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY + datetime.timedelta(days=1),
                                 notes="")
        self.assertEqual(set(e.exception.message_dict), {"held_on", "notes"})
        with self.assertRaises(PermissionDenied):
            coaching.session_add(actor=self.dept_head, plan=plan, held_on=TODAY, notes="n")
        with self.assertRaises(PermissionDenied):
            coaching.session_add(actor=self.agent, plan=plan, held_on=TODAY, notes="n")
        first = coaching.session_add(actor=self.team_lead, plan=plan, held_on=TODAY, notes="Went through 3 calls")
        again = coaching.session_add(actor=self.team_lead, plan=plan, held_on=TODAY, notes="Went through 3 calls")
        self.assertEqual(first.pk, again.pk)  # a double submit records one session
        coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="Role play")
        self.assertEqual(plan.sessions.count(), 2)
        self.assertEqual(first.coach, self.team_lead)  # who held (and recorded) each session
        self.assertEqual(plan.sessions.get(notes="Role play").coach, self.supervisor)

    def test_close_met(self):
        plan = self.active_plan()
        with self.assertRaises(ValidationError) as e:
            coaching.plan_close(actor=self.supervisor, plan=plan, met=True, note="Fine")
        self.assertIn("at least one coaching session", str(e.exception))
        coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="n")
        with self.assertRaises(ValidationError) as e:
            coaching.plan_close(actor=self.supervisor, plan=plan, met=True, note=" ")
        self.assertIn("follow_up_note", e.exception.message_dict)
        with self.assertRaises(ValidationError):
            coaching.plan_close(actor=self.supervisor, plan=plan, met=True, note="n",
                                follow_up_total=Decimal("100.5"))
        with self.assertRaises(PermissionDenied):  # the coach records sessions; the supervisor closes
            coaching.plan_close(actor=self.team_lead, plan=plan, met=True, note="n")
        plan = coaching.plan_close(actor=self.supervisor, plan=plan, met=True, note="Reached 72",
                                   follow_up_total=Decimal("72"))
        plan.refresh_from_db()
        self.assertEqual((plan.status, plan.follow_up_total, plan.closed_by), (P.CLOSED_MET, Decimal("72.00"),
                                                                            self.supervisor))
        self.assertFalse(HrCase.objects.exists())

    def test_unmet_opens_an_hr_case_and_hr_decides(self):
        plan = self.active_plan()
        coaching.session_add(actor=self.supervisor, plan=plan, held_on=TODAY, notes="n")
        coaching.plan_close(actor=self.supervisor, plan=plan, met=False, note="Still at 55",
                            follow_up_total=Decimal("55"))
        case = HrCase.objects.get(plan=plan)
        self.assertEqual(case.status, HrCase.Status.OPEN)
        self.assertTrue(Notification.objects.filter(recipient=self.hr, title__startswith="HR case").exists())
        with self.assertRaises(ValidationError):  # closed: no second close
            coaching.plan_close(actor=self.supervisor, plan=plan, met=False, note="again")
        for user in (self.supervisor, self.leadership, self.agent):
            with self.assertRaises(PermissionDenied):
                coaching.hr_case_decide(actor=user, case=case, decision="x")
        with self.assertRaises(ValidationError) as e:
            coaching.hr_case_decide(actor=self.hr, case=case, decision="  ")
        self.assertIn("decision", e.exception.message_dict)
        coaching.hr_case_decide(actor=self.hr, case=case, decision="Written warning; moved to the training pool")
        case.refresh_from_db()
        self.assertEqual((case.status, case.decided_by), (HrCase.Status.DECIDED, self.hr))
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__startswith="HR case decided").exists())
        with self.assertRaises(ValidationError):
            coaching.hr_case_decide(actor=self.hr, case=case, decision="again")
        self.assertEqual(AuditEntry.objects.filter(action__in=["hr_case.open", "hr_case.decide"]).count(), 2)

    def test_cancel(self):
        plan = self.plan_for(self.agent)
        with self.assertRaises(ValidationError):
            coaching.plan_cancel(actor=self.supervisor, plan=plan, reason="")
        with self.assertRaises(PermissionDenied):
            coaching.plan_cancel(actor=self.agent, plan=plan, reason="no")
        with self.assertRaises(PermissionDenied):
            coaching.plan_cancel(actor=self.outsider, plan=plan, reason="no")
        plan = coaching.plan_cancel(actor=self.hr, plan=plan, reason="Total corrected on appeal")
        self.assertEqual((plan.status, plan.cancel_reason), (P.CANCELLED, "Total corrected on appeal"))
        with self.assertRaises(ValidationError):
            coaching.plan_cancel(actor=self.supervisor, plan=plan, reason="again")
        # A cancelled plan still stands for its evaluation: the sync does not make another.
        self.assertEqual(coaching.coaching_sync().created, 0)
