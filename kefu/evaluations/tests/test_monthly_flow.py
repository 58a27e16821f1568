"""The monthly flow (policy G3.1): submit → acknowledge or appeal within the window → the department
head upholds or adjusts → final and locked; HR reopens with a reason. Every step audited."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core import services as core_services
from kefu.core.models import AuditEntry, Notification
from kefu.evaluations import services
from kefu.evaluations.models import Appeal, MonthlyEvaluation
from kefu.evaluations.tests.builders import local_dt, monthly_draft
from kefu.people.testing import KefuTestCase

S = MonthlyEvaluation.Status


class MonthlyTestCase(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.agent_e = self.agent.employee
        self.ev = monthly_draft(self.agent_e, 2026, 3, supervisor=self.supervisor.employee)

    def submit(self, now=None, ev=None):
        return services.monthly_submit(actor=self.supervisor, evaluation=ev or self.ev,
                                       now=now or local_dt(2026, 4, 2, 10))


class SubmitTests(MonthlyTestCase):
    def test_submit_sets_total_deadline_and_tells_the_agent(self):
        ev = self.submit()
        self.assertEqual(ev.status, S.SUBMITTED)
        self.assertEqual(ev.total, Decimal("82.50"))  # 25.5 + 24 + 16 + 17
        self.assertEqual(ev.supervisor, self.supervisor.employee)
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__contains="2026-03").exists())
        self.assertTrue(AuditEntry.objects.filter(action="monthly_evaluation.submit", object_id=str(ev.pk)).exists())

    def test_appeal_deadline_across_qingming(self):
        # Submitted Thu 2 April 2026. Five working days, the day itself not counted:
        # Fri 3 (1); Sat 4 – Mon 6 Qingming holiday; Tue 7 (2), Wed 8 (3), Thu 9 (4), Fri 10 (5) → 18:00.
        ev = self.submit(now=local_dt(2026, 4, 2, 10))
        self.assertEqual(ev.appeal_deadline, local_dt(2026, 4, 10, 18, 0))

    def test_appeal_deadline_across_labour_day_and_adjusted_saturday(self):
        # Submitted Wed 29 April 2026: Thu 30 (1); 1–5 May holiday; Wed 6 (2), Thu 7 (3), Fri 8 (4),
        # Sat 9 May is an adjusted working day (5) → 18:00 that Saturday.
        ev = self.submit(now=local_dt(2026, 4, 29, 16))
        self.assertEqual(ev.appeal_deadline, local_dt(2026, 5, 9, 18, 0))

    def test_appeal_window_is_a_parameter(self):
        core_services.policy_set(key="evaluation.appeal_working_days", value=2,
                                 effective_from=datetime.date(2026, 1, 1), actor=self.sysadmin, note="shorter")
        # Thu 2 April + 2 working days: Fri 3 (1), Tue 7 (2)
        ev = self.submit(now=local_dt(2026, 4, 2, 10))
        self.assertEqual(ev.appeal_deadline, local_dt(2026, 4, 7, 18, 0))

    def test_only_her_cs_supervisor_submits(self):
        for user in (self.team_lead, self.dept_head, self.hr, self.outsider, self.agent):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.monthly_submit(actor=user, evaluation=self.ev, now=local_dt(2026, 4, 2))
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, S.DRAFT)

    def test_missing_points_refused(self):
        self.ev.teamwork = None
        self.ev.save()
        with self.assertRaises(ValidationError) as cm:
            self.submit()
        self.assertIn("teamwork", cm.exception.message_dict)

    def test_far_from_suggestion_needs_reason(self):
        # suggested 25.0, set 20.0: 5 points > the default threshold of 3
        ev = monthly_draft(self.teammate_other_team.employee, 2026, 3,
                           points={"attitude": "20", "ability": "24", "efficiency": "16", "teamwork": "17"},
                           suggested={"attitude": "25"})
        with self.assertRaises(ValidationError) as cm:
            services.monthly_submit(actor=self.supervisor, evaluation=ev, now=local_dt(2026, 4, 2))
        self.assertIn("attitude_reason", cm.exception.message_dict)

    def test_month_not_ended(self):
        with self.assertRaises(ValidationError):
            self.submit(now=local_dt(2026, 3, 31, 17))

    def test_double_submit_once(self):
        first = self.submit()
        again = self.submit(now=local_dt(2026, 4, 2, 10, 1))
        self.assertEqual(again.submitted_at, first.submitted_at)
        self.assertEqual(AuditEntry.objects.filter(action="monthly_evaluation.submit").count(), 1)


class AnswerTests(MonthlyTestCase):
    def test_acknowledge_makes_it_final_and_locked(self):
        self.submit()
        ev = services.monthly_acknowledge(actor=self.agent, evaluation=self.ev, now=local_dt(2026, 4, 3))
        self.assertEqual((ev.status, ev.final_via), (S.FINAL, MonthlyEvaluation.FinalVia.ACKNOWLEDGED))
        self.assertTrue(ev.is_locked)
        self.assertIsNotNone(ev.finalised_at)
        # locked: no appeal, no second submit, no edit of a final evaluation
        with self.assertRaises(ValidationError):
            services.monthly_appeal(actor=self.agent, evaluation=ev, reason="changed my mind")
        with self.assertRaises(ValidationError):
            self.submit()

    def test_only_the_agent_acknowledges_or_appeals(self):
        self.submit()
        for user in (self.supervisor, self.dept_head, self.hr):
            with self.subTest(user=user.username):
                with self.assertRaises(PermissionDenied):
                    services.monthly_acknowledge(actor=user, evaluation=self.ev)
                with self.assertRaises(PermissionDenied):
                    services.monthly_appeal(actor=user, evaluation=self.ev, reason="x")

    def test_draft_cannot_be_acknowledged(self):
        with self.assertRaises(ValidationError):
            services.monthly_acknowledge(actor=self.agent, evaluation=self.ev)

    def test_appeal_needs_a_reason(self):
        self.submit()
        with self.assertRaises(ValidationError) as cm:
            services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason=" ", now=local_dt(2026, 4, 3))
        self.assertIn("reason", cm.exception.message_dict)

    def test_appeal_at_the_last_moment_and_after(self):
        self.submit(now=local_dt(2026, 4, 2, 10))  # deadline Fri 10 April 18:00 (worked out above)
        with self.assertRaises(ValidationError):
            services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason="too late",
                                    now=local_dt(2026, 4, 10, 18, 1))
        appeal = services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason="The complaint on 12 March "
                                         "was not mine", now=local_dt(2026, 4, 10, 18, 0))
        self.assertEqual(appeal.status, Appeal.Status.OPEN)
        self.assertEqual(appeal.deadline, local_dt(2026, 4, 10, 18, 0))
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, S.APPEALED)
        self.assertTrue(Notification.objects.filter(recipient=self.dept_head, body__contains="12 March").exists())
        entry = AuditEntry.objects.get(action="monthly_evaluation.appeal")
        self.assertIn("12 March", entry.reason)

    def test_double_appeal_is_one(self):
        self.submit()
        a1 = services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason="wrong", now=local_dt(2026, 4, 3))
        a2 = services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason="wrong", now=local_dt(2026, 4, 3))
        self.assertEqual(a1.pk, a2.pk)
        self.assertEqual(Appeal.objects.count(), 1)

    def test_window_closes_into_final(self):
        self.submit(now=local_dt(2026, 4, 2, 10))
        self.assertEqual(services.monthly_close_appeal_windows(now=local_dt(2026, 4, 10, 18, 0)), 0)
        self.assertEqual(services.monthly_close_appeal_windows(now=local_dt(2026, 4, 10, 18, 1)), 1)
        self.ev.refresh_from_db()
        self.assertEqual((self.ev.status, self.ev.final_via), (S.FINAL, MonthlyEvaluation.FinalVia.WINDOW_CLOSED))
        self.assertEqual(services.monthly_close_appeal_windows(now=local_dt(2026, 4, 11)), 0)


class AppealDecisionTests(MonthlyTestCase):
    def setUp(self):
        super().setUp()
        self.submit()
        self.appeal = services.monthly_appeal(actor=self.agent, evaluation=self.ev, reason="Teamwork too low",
                                              now=local_dt(2026, 4, 3))

    def test_uphold(self):
        appeal = services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold",
                                        reason="The team lead's notes support 17.")
        self.ev.refresh_from_db()
        self.assertEqual((self.ev.status, self.ev.final_via), (S.FINAL, MonthlyEvaluation.FinalVia.APPEAL_UPHELD))
        self.assertEqual(self.ev.total, Decimal("82.50"))
        self.assertEqual(appeal.decided_by, self.dept_head.employee)
        self.assertTrue(Notification.objects.filter(recipient=self.agent, title__contains="upheld").exists())

    def test_adjust_changes_points_and_total(self):
        services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="adjust",
                               reason="She led the March team training.", adjusted={"teamwork": "19.5"})
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.teamwork, Decimal("19.50"))
        self.assertEqual(self.ev.total, Decimal("85.00"))  # 25.5 + 24 + 16 + 19.5
        self.assertEqual(self.ev.final_via, MonthlyEvaluation.FinalVia.APPEAL_ADJUSTED)
        self.appeal.refresh_from_db()
        self.assertEqual(self.appeal.adjusted, {"teamwork": "19.50"})
        entry = AuditEntry.objects.get(action="monthly_evaluation.appeal_decided")
        self.assertEqual(entry.changes["teamwork"], ["17.00", "19.50"])
        self.assertEqual(entry.reason, "She led the March team training.")

    def test_adjust_outside_maximum_or_step_refused(self):
        for value, field in (("21", "teamwork"), ("19.3", "teamwork"), ("abc", "teamwork")):
            with self.subTest(value=value), self.assertRaises(ValidationError) as cm:
                services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="adjust",
                                       reason="x", adjusted={field: value})
            self.assertIn(field, cm.exception.message_dict)
        with self.assertRaises(ValidationError):  # adjusting nothing is no adjustment
            services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="adjust", reason="x",
                                   adjusted={"teamwork": "17"})
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, S.APPEALED)

    def test_decision_needs_a_reason(self):
        with self.assertRaises(ValidationError) as cm:
            services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold", reason="")
        self.assertIn("reason", cm.exception.message_dict)

    def test_only_her_department_head_decides(self):
        for user in (self.supervisor, self.team_lead, self.hr, self.agent, self.outsider):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.appeal_decide(actor=user, appeal=self.appeal, decision="uphold", reason="x")

    def test_head_who_submitted_it_may_not_decide(self):
        self.ev.supervisor = self.dept_head.employee
        self.ev.save()
        with self.assertRaises(PermissionDenied):
            services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold", reason="x")

    def test_decided_twice(self):
        services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold", reason="ok")
        # the same click again: no change
        services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold", reason="ok")
        self.assertEqual(AuditEntry.objects.filter(action="appeal.decide").count(), 1)
        with self.assertRaises(ValidationError):
            services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="adjust", reason="no",
                                   adjusted={"teamwork": "20"})


class ReopenTests(MonthlyTestCase):
    def test_hr_reopens_final_with_reason_and_it_flows_again(self):
        self.submit()
        services.monthly_acknowledge(actor=self.agent, evaluation=self.ev)
        with self.assertRaises(ValidationError):
            services.monthly_reopen(actor=self.hr, evaluation=self.ev, reason="")
        ev = services.monthly_reopen(actor=self.hr, evaluation=self.ev, reason="Complaint later withdrawn by customer")
        self.assertEqual((ev.status, ev.reopen_count, ev.final_via), (S.DRAFT, 1, ""))
        self.assertIsNone(ev.finalised_at)
        entry = AuditEntry.objects.get(action="monthly_evaluation.reopen")
        self.assertEqual(entry.reason, "Complaint later withdrawn by customer")
        self.assertEqual(entry.changes["status"], ["final", "draft"])
        # and it goes through the flow again, with a fresh appeal window
        ev = self.submit(now=local_dt(2026, 4, 29, 16))
        self.assertEqual(ev.appeal_deadline, local_dt(2026, 5, 9, 18, 0))

    def test_only_hr_reopens(self):
        self.submit()
        services.monthly_acknowledge(actor=self.agent, evaluation=self.ev)
        for user in (self.supervisor, self.dept_head, self.agent, self.leadership):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.monthly_reopen(actor=user, evaluation=self.ev, reason="x")

    def test_only_final_reopens(self):
        self.submit()
        with self.assertRaises(ValidationError):
            services.monthly_reopen(actor=self.hr, evaluation=self.ev, reason="x")


class CloseWindowsCommandTests(MonthlyTestCase):
    def test_command_finalises_lapsed_windows(self):
        import io

        from django.core.management import call_command

        self.submit(now=local_dt(2026, 4, 2, 10))  # window closed 10 April 2026, long before today
        out = io.StringIO()
        call_command("close_appeal_windows", stdout=out)
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, S.FINAL)
        self.assertIn("1", out.getvalue())
        self.assertEqual(AuditEntry.objects.get(action="monthly_evaluation.window_closed").actor_id, None)
