"""Appeals of a published annual result (policy G3.1) and the workbench to-dos of pay and appeals.

Windows by hand (5 working days, the publication day not counted, close of business 18:00):
- published Wed 2026-09-30: 1–7 Oct National Day off; Thu 8 (1), Fri 9 (2), Sat 10 Oct is an adjusted
  working day (3), Sun 11 off, Mon 12 (4), Tue 13 (5) → Tue 2026-10-13 18:00.
- published Fri 2026-11-20: Sat/Sun off; Mon 23 (1) … Fri 27 (5) → Fri 2026-11-27 18:00.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from kefu.annual import appeals, services, todos_pay
from kefu.annual.models import AnnualAppeal, AnnualCycle, PayProposal
from kefu.annual.tests.builders import final_months
from kefu.annual.tests.test_pay import AFTER_WINDOW, PUBLISHED, PayTestCase
from kefu.core.models import AuditEntry, Notification
from kefu.people.testing import build_company
from kefu.service.tests.builders import local

IN_WINDOW = local(2026, 10, 13, 17, 59)


class WindowTests(PayTestCase):
    def test_deadline_across_national_day_and_adjusted_saturday(self):
        cycle = self.publish()
        self.assertEqual(appeals.appeal_deadline(cycle), local(2026, 10, 13, 18, 0))

    def test_deadline_across_a_weekend(self):
        cycle = self.publish()
        AnnualCycle.objects.filter(pk=cycle.pk).update(published_at=local(2026, 11, 20, 15, 0))
        cycle.refresh_from_db()
        self.assertEqual(appeals.appeal_deadline(cycle), local(2026, 11, 27, 18, 0))

    def test_late_appeal_refused(self):
        cycle = self.publish()
        mine = self.result(cycle, self.agent)
        with self.assertRaises(ValidationError) as e:
            appeals.appeal_file(actor=self.agent, result=mine, reason="unfair", now=local(2026, 10, 13, 18, 1))
        self.assertIn("closed on 2026-10-13 18:00", e.exception.messages[0])
        appeal = appeals.appeal_file(actor=self.agent, result=mine, reason="unfair", now=IN_WINDOW)
        self.assertEqual((appeal.status, appeal.old_grade, appeal.deadline),
                         ("open", "excellent", local(2026, 10, 13, 18, 0)))


class FileTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()
        self.mine = self.result(self.cycle, self.agent)

    def test_one_open_appeal_double_submit_once(self):
        appeals.appeal_file(actor=self.agent, result=self.mine, reason="My March was lost", now=IN_WINDOW)
        with self.assertRaises(ValidationError) as e:
            appeals.appeal_file(actor=self.agent, result=self.mine, reason="My March was lost", now=IN_WINDOW)
        self.assertIn("already with HR", e.exception.messages[0])
        self.assertEqual(AnnualAppeal.objects.count(), 1)
        self.assertEqual(AuditEntry.objects.filter(action="annual_appeal.file").count(), 1)
        # HR is told
        self.assertTrue(Notification.objects.filter(recipient=self.hr, url=reverse("annual:appeals")).exists())

    def test_only_her_own_published_result(self):
        for user in (self.other_agent, self.hr, self.supervisor):
            with self.assertRaises(PermissionDenied):
                appeals.appeal_file(actor=user, result=self.mine, reason="x", now=IN_WINDOW)
        with self.assertRaises(ValidationError):
            appeals.appeal_file(actor=self.agent, result=self.mine, reason="   ", now=IN_WINDOW)
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(status=AnnualCycle.Status.APPROVED)
        with self.assertRaises(ValidationError):
            appeals.appeal_file(actor=self.agent, result=self.mine, reason="x", now=IN_WINDOW)
        self.assertFalse(AnnualAppeal.objects.exists())


class DecideTests(PayTestCase):
    def setUp(self):
        super().setUp()
        self.cycle = self.publish()
        self.set_both(self.cycle)  # agent excellent 8,000.00 → 400.00; other_agent fail 6,543.21 → −196.30
        self.hers = self.result(self.cycle, self.other_agent)
        self.appeal = appeals.appeal_file(actor=self.other_agent, result=self.hers, reason="Sick leave in May",
                                          now=IN_WINDOW)

    def test_adjusted_changes_final_grade_and_pay(self):
        appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="adjusted", new_grade="pass",
                              note="May was sick leave; months re-checked")
        self.hers.refresh_from_db()
        self.assertEqual(self.hers.final_grade, "pass")
        self.assertIn("May was sick leave", self.hers.change_reason)
        p = self.proposal(self.cycle, self.other_agent)
        self.assertEqual((p.grade, p.pct, p.amount), ("pass", Decimal("0.00"), Decimal("0.00")))  # 6,543.21 × 0
        appeal = AnnualAppeal.objects.get(pk=self.appeal.pk)
        self.assertEqual((appeal.status, appeal.decision, appeal.old_grade, appeal.new_grade, appeal.decided_by),
                         ("decided", "adjusted", "fail", "pass", self.hr))
        self.assertTrue(Notification.objects.filter(recipient=self.other_agent, title__contains="adjusted").exists())
        self.assertTrue(AuditEntry.objects.filter(action="annual_result.appeal_adjust").exists())
        self.assertTrue(AuditEntry.objects.filter(action="annual_pay.recompute").exists())

    def test_adjusted_to_good_pays_two_percent(self):
        appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="adjusted", new_grade="good",
                              note="re-check")
        # 6,543.21 × 2 % = 130.8642 → 130.86
        self.assertEqual(self.proposal(self.cycle, self.other_agent).amount, Decimal("130.86"))

    def test_upheld_keeps_grade(self):
        appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="upheld", note="The months stand")
        self.hers.refresh_from_db()
        self.assertEqual(self.hers.final_grade, "fail")
        self.assertEqual(self.proposal(self.cycle, self.other_agent).amount, Decimal("-196.30"))
        self.assertTrue(Notification.objects.filter(recipient=self.other_agent, title__contains="stands").exists())

    def test_decided_once(self):
        appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="upheld", note="The months stand")
        with self.assertRaises(ValidationError) as e:
            appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="adjusted", new_grade="pass", note="x")
        self.assertIn("already decided", e.exception.messages[0])
        self.assertEqual(AuditEntry.objects.filter(action="annual_appeal.decide").count(), 1)
        self.hers.refresh_from_db()
        self.assertEqual(self.hers.final_grade, "fail")

    def test_decision_needs_reasons_and_a_new_grade(self):
        for kwargs in ({"decision": "upheld", "note": " "}, {"decision": "adjusted", "note": "x"},
                       {"decision": "adjusted", "note": "x", "new_grade": "fail"},
                       {"decision": "maybe", "note": "x"}):
            with self.assertRaises(ValidationError, msg=kwargs):
                appeals.appeal_decide(actor=self.hr, appeal=self.appeal, **kwargs)
        self.assertEqual(AnnualAppeal.objects.get(pk=self.appeal.pk).status, "open")

    def test_only_hr_decides(self):
        for user in (self.supervisor, self.dept_head, self.leadership, self.other_agent):
            with self.assertRaises(PermissionDenied):
                appeals.appeal_decide(actor=user, appeal=self.appeal, decision="upheld", note="x")

    def test_adjustment_refused_once_pay_is_approved(self):
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(pay_approved_at=AFTER_WINDOW)  # setup: locked pay
        with self.assertRaises(ValidationError) as e:
            appeals.appeal_decide(actor=self.hr, appeal=self.appeal, decision="adjusted", new_grade="pass", note="x")
        self.assertIn("already approved", e.exception.messages[0])
        self.hers.refresh_from_db()
        self.assertEqual(self.hers.final_grade, "fail")


class TodoTests(PayTestCase):
    def test_hr_and_agent_todos(self):
        cycle = self.publish()
        # Publication set to an hour ago (setup): her window is open now, whatever today is.
        AnnualCycle.objects.filter(pk=cycle.pk).update(published_at=timezone.now() - timezone.timedelta(hours=1))
        titles = [str(t.title) for t in todos_pay.agent_to_do(self.agent)]
        self.assertEqual(len(titles), 1)
        self.assertIn("Read your 2026 annual result", titles[0])
        self.assertEqual(todos_pay.agent_to_do(self.teammate_other_team), [])  # not rated
        hr = todos_pay.hr_to_do(self.hr)
        self.assertEqual([str(t.title) for t in hr], ["Approve the 2026 pay proposals"])
        appeals.appeal_file(actor=self.agent, result=self.result(cycle, self.agent), reason="x")
        self.assertEqual(todos_pay.agent_to_do(self.agent), [])  # appealed: nothing left for her
        hr = {str(t.title): t.count for t in todos_pay.hr_to_do(self.hr)}
        self.assertEqual(hr["Annual appeals to decide"], 1)
        self.assertEqual(todos_pay.hr_to_do(self.supervisor), [])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL")
class ConcurrentTests(TransactionTestCase):
    """Two requests at once (a double click, a retry): one appeal, one decision, one approval."""

    def setUp(self):
        self.c = build_company()
        final_months(self.c.agent.employee, 2026, ["80", "82", "84", "86", "88", "90"])
        final_months(self.c.other_agent.employee, 2026, ["70"] * 7)
        cycle = services.cycle_open(actor=self.c.hr, year=2026)
        services.cycle_calibrate(actor=self.c.hr, cycle=cycle)
        services.cycle_submit(actor=self.c.hr, cycle=cycle)
        services.cycle_approve(actor=self.c.leadership, cycle=cycle)
        services.cycle_publish(actor=self.c.hr, cycle=cycle)
        AnnualCycle.objects.filter(pk=cycle.pk).update(published_at=PUBLISHED)
        self.cycle = AnnualCycle.objects.get(pk=cycle.pk)
        self.mine = self.cycle.results.get(employee=self.c.agent.employee)

    def twice(self, fn) -> tuple[list, list[BaseException]]:
        barrier = threading.Barrier(2)
        done: list = []
        errors: list[BaseException] = []

        def work():
            try:
                barrier.wait()
                done.append(fn())
            except BaseException as e:  # counted by the caller
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return done, errors

    def test_appeal_and_decision_once(self):
        done, errors = self.twice(lambda: appeals.appeal_file(actor=self.c.agent, result=self.mine, reason="x",
                                                              now=IN_WINDOW))
        self.assertEqual((len(done), [type(e) for e in errors]), (1, [ValidationError]))
        self.assertEqual(AnnualAppeal.objects.count(), 1)
        appeal = AnnualAppeal.objects.get()
        done, errors = self.twice(lambda: appeals.appeal_decide(actor=self.c.hr, appeal=appeal, decision="adjusted",
                                                                new_grade="good", note="re-checked"))
        self.assertEqual((len(done), [type(e) for e in errors]), (1, [ValidationError]))
        self.assertEqual(AuditEntry.objects.filter(action="annual_appeal.decide").count(), 1)

    def test_pay_approved_once(self):
        from kefu.annual import pay

        pay.proposals_prepare(actor=self.c.hr, cycle=self.cycle)
        for p in PayProposal.objects.all():
            pay.base_pay_set(actor=self.c.hr, proposal=p, base_pay="5000")
        done, errors = self.twice(lambda: pay.pay_approve(actor=self.c.hr, cycle=self.cycle, now=AFTER_WINDOW))
        self.assertEqual((len(done), [type(e) for e in errors]), (1, [ValidationError]))
        self.assertEqual(AuditEntry.objects.filter(action="annual_pay.approve").count(), 1)
