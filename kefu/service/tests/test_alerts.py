"""SLA alerts (policy E1.3; issue 3 item 7): near-breach and breach, once per interaction and deadline.

Working hours are the default Monday–Friday 09:00–12:00 and 13:00–18:00; 10 March 2026 is a Tuesday.
"""

from __future__ import annotations

import datetime
import io
import threading
import unittest

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import TransactionTestCase, override_settings
from django.utils import timezone, translation
from django.utils.translation import ngettext

from kefu.core.models import Notification
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase, build_company
from kefu.service import alerts
from kefu.service.alerts import sla_alerts_run, sla_alerts_task
from kefu.service.models import SlaAlert, SlaStored
from kefu.service.tests.builders import interaction, local

MET, PENDING = SlaStored.MET, SlaStored.PENDING
NOW = local(2026, 3, 10, 10)


def near(n: int) -> str:
    """The title in the company's language, as the job writes it."""
    with translation.override(settings.LANGUAGE_CODE):
        return ngettext("%(n)s deadline is close to breaching", "%(n)s deadlines are close to breaching", n) % {"n": n}


def breached(n: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return ngettext("%(n)s deadline was breached", "%(n)s deadlines were breached", n) % {"n": n}


def titles(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("title", flat=True))


class AlertTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        A = Employee.objects.get(employee_no="CS1001")  # CS1-T1: her team lead is "lead"
        B = Employee.objects.get(employee_no="CS1005")  # CS1-T2: no team lead
        cls.n1 = interaction(A, local(2026, 3, 10, 9, 20), external_id="n1", fr=PENDING,
                             fr_due=local(2026, 3, 10, 10, 20), subject="查詢")
        cls.n2 = interaction(A, local(2026, 3, 10, 9, 45), external_id="n2", fr=PENDING,
                             fr_due=local(2026, 3, 10, 10, 45))
        cls.n3 = interaction(A, local(2026, 3, 4, 10), external_id="n3", fr=MET, res=PENDING,
                             res_due=local(2026, 3, 9, 18))
        cls.n4 = interaction(A, local(2026, 1, 26, 10), external_id="n4", fr=MET, res=PENDING,
                             res_due=local(2026, 1, 29, 18))  # overdue for six weeks: backlog, no alert
        cls.n5 = interaction(A, local(2026, 3, 10, 8), external_id="n5", fr=MET, fr_due=local(2026, 3, 10, 10, 10))
        cls.n6 = interaction(A, local(2026, 3, 10, 8), external_id="n6", fr=PENDING, fr_due=NOW)  # due this instant
        cls.b1 = interaction(B, local(2026, 3, 10, 9), external_id="b1", fr=PENDING,
                             fr_due=local(2026, 3, 10, 10, 15))

    def alerts(self) -> set[tuple[str, str, str]]:
        return set(SlaAlert.objects.values_list("interaction__external_id", "deadline", "kind"))

    def test_first_run_tells_the_agent_and_her_team_lead(self):
        run = sla_alerts_run(now=NOW)
        # Within 30 working minutes (up to 10:30): n1 (10:20), n6 (10:00), b1 (10:15); n2 (10:45) is not.
        # Breached: n3's resolution (due yesterday 18:00); n4 is older than the 7-day look-back.
        self.assertEqual((run.near, run.breach), (3, 1))
        self.assertEqual(self.alerts(), {
            ("n1", "first_reply", "near"), ("n6", "first_reply", "near"), ("b1", "first_reply", "near"),
            ("n3", "resolution", "breach"),
        })
        # One message per person and kind: the agent and her lead get two each, B one (CS1-T2 has no lead).
        self.assertEqual(run.notifications, 5)
        self.assertEqual(titles(self.agent), sorted([near(2), breached(1)]))
        self.assertEqual(titles(self.team_lead), sorted([near(2), breached(1)]))
        self.assertEqual(titles(self.teammate_other_team), [near(1)])
        self.assertEqual(titles(self.supervisor), [])
        body = Notification.objects.get(recipient=self.agent, title=near(2)).body
        self.assertIn("TEST:n1", body)
        self.assertIn("查詢", body)

    def test_the_second_run_sends_nothing(self):
        sla_alerts_run(now=NOW)
        before = Notification.objects.count()
        run = sla_alerts_run(now=NOW)
        self.assertEqual((run.near, run.breach, run.notifications), (0, 0, 0))
        self.assertEqual(Notification.objects.count(), before)

    def test_a_near_deadline_that_passes_gets_its_breach_alert_once(self):
        sla_alerts_run(now=NOW)
        run = sla_alerts_run(now=local(2026, 3, 10, 10, 25))
        # Now breached: n1 (10:20), n6 (10:00), b1 (10:15); newly near: n2 (10:45 ≤ 10:55).
        self.assertEqual((run.near, run.breach), (1, 3))
        self.assertEqual(SlaAlert.objects.filter(interaction=self.n1).count(), 2)
        self.assertEqual(sla_alerts_run(now=local(2026, 3, 10, 10, 26)).sent, 0)

    def test_done_deadlines_are_not_alerted(self):
        run = sla_alerts_run(now=local(2026, 3, 10, 10, 5))
        self.assertNotIn("n5", {a[0] for a in self.alerts()})
        self.assertEqual(run.breach, 2)  # n6 (due 10:00) and n3

    def test_working_minutes_skip_the_lunch_break(self):
        lunch = interaction(Employee.objects.get(employee_no="CS1001"), local(2026, 3, 10, 11), external_id="lunch",
                            fr=PENDING, fr_due=local(2026, 3, 10, 13, 10))
        # At 11:45, 30 working minutes reach 13:15: a deadline at 13:10 is close, although 85 minutes away.
        sla_alerts_run(now=local(2026, 3, 10, 11, 45))
        self.assertTrue(SlaAlert.objects.filter(interaction=lunch, kind=SlaAlert.Kind.NEAR).exists())

    @override_settings(KEFU_SLA_ALERT_WORKING_MINUTES=60)
    def test_the_warning_is_a_setting(self):
        run = sla_alerts_run(now=NOW)
        self.assertEqual(run.near, 4)  # n2 (10:45) too
        self.assertEqual(alerts.warning_minutes(), 60)

    def test_a_concurrent_winner_is_not_notified_twice(self):
        # Another worker inserted n1's alert a moment ago (and told them): this run must not.
        SlaAlert.objects.create(interaction=self.n1, deadline="first_reply", kind="near", sent_at=timezone.now())
        run = sla_alerts_run(now=NOW)
        self.assertEqual(run.near, 2)  # n6, b1
        body = Notification.objects.get(recipient=self.agent, title=near(1)).body
        self.assertNotIn("TEST:n1", body)

    def test_the_task_and_the_command(self):
        result = sla_alerts_task.enqueue()  # the immediate backend in tests; real time: nothing due now
        self.assertEqual(result.return_value, {"near": 0, "breach": 0, "notifications": 0})
        due_soon = interaction(Employee.objects.get(employee_no="CS1001"), timezone.now() - datetime.timedelta(hours=1),
                               external_id="soon", fr=PENDING, fr_due=timezone.now() + datetime.timedelta(minutes=10))
        out = io.StringIO()
        call_command("sla_alerts", stdout=out)
        self.assertTrue(SlaAlert.objects.filter(interaction=due_soon, kind="near").exists())
        self.assertIn("1", out.getvalue())
        self.assertEqual(len(titles(self.agent)), 1)


@unittest.skipUnless(connection.vendor == "postgresql", "concurrent writers need PostgreSQL")
class ConcurrentAlertTests(TransactionTestCase):
    def test_two_workers_at_once_send_each_alert_once(self):
        company = build_company()
        agent = Employee.objects.get(employee_no="CS1001")
        for n in range(20):
            interaction(agent, local(2026, 3, 10, 9), external_id=f"c{n}", fr=PENDING,
                        fr_due=local(2026, 3, 10, 10, 5 + n % 20))
        barrier = threading.Barrier(2)
        results = []

        def work():
            try:
                barrier.wait()
                results.append(sla_alerts_run(now=NOW))
            finally:
                close_old_connections()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sum(r.near for r in results), 20)
        self.assertEqual(SlaAlert.objects.count(), 20)
        # The agent and her team lead: each told about each interaction once, in all.
        self.assertEqual(sum(r.by_recipient.get(company.agent.pk, 0) for r in results), 20)
        self.assertEqual(sum(r.by_recipient.get(company.team_lead.pk, 0) for r in results), 20)
