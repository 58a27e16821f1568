"""The customer-service demo data (issue 3 item 8): six months, realistic patterns, idempotent."""

from __future__ import annotations

import datetime
import io
import random
import statistics

from django.core.management import call_command
from django.db.models import Avg, Count, Max, Min, Q
from django.test import TestCase
from django.utils import translation

from kefu.core.models import AuditEntry
from kefu.people.demo import build_demo
from kefu.people.models import Employee
from kefu.service import demo, kpis
from kefu.service.demo import build_service_demo
from kefu.service.models import Interaction, Kind, SlaStored, SurveyAnswer


class ServiceDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_demo()
        with translation.override("en"):
            cls.created = build_service_demo()
        cls.today = demo._first_run_date()

    def test_six_months_of_interactions_and_answers(self):
        n = Interaction.objects.count()
        # 60 agents × about 5 a working day × about 125 working days, plus holiday chat and e-mail.
        self.assertGreater(n, 30_000)
        self.assertLess(n, 50_000)
        span = Interaction.objects.aggregate(first=Min("local_date"), last=Max("local_date"))
        first, last = span["first"], span["last"]
        self.assertLessEqual(first, self.today - datetime.timedelta(days=180))
        self.assertEqual(last, self.today - datetime.timedelta(days=1))
        answers = SurveyAnswer.objects.count()
        resolved = Interaction.objects.filter(resolved_at__isnull=False).count()
        self.assertGreater(answers, resolved * 0.15)  # about one customer in five answers
        self.assertLess(answers, resolved * 0.3)
        self.assertEqual(self.created, {"interactions": n, "survey answers": answers})
        # Through the real services: one audit entry for each import.
        self.assertTrue(AuditEntry.objects.filter(action="interactions.import").exists())
        self.assertTrue(AuditEntry.objects.filter(action="survey_answers.import").exists())

    def test_every_deadline_is_computed(self):
        self.assertFalse(Interaction.objects.filter(
            Q(first_reply_status=SlaStored.UNKNOWN) | Q(resolution_status=SlaStored.UNKNOWN)).exists())
        # The snapshot leaves the last days' work in flight: some still open, some already overdue.
        self.assertTrue(Interaction.objects.filter(resolution_status=SlaStored.PENDING).exists())

    def test_a_second_run_adds_nothing(self):
        before = (Interaction.objects.count(), SurveyAnswer.objects.count(), AuditEntry.objects.count())
        self.assertEqual(build_service_demo(), {})
        self.assertEqual((Interaction.objects.count(), SurveyAnswer.objects.count(), AuditEntry.objects.count()),
                         before)

    def test_slow_agents_are_slower(self):
        roster = demo._agents(random.Random(demo.SEED))  # the same draw the demo made
        slow = {a.employee_no for a in roster if a.speed > 2}
        self.assertEqual(len(slow), demo.SLOW_AGENTS)
        ids = dict(Employee.objects.values_list("employee_no", "pk"))
        period = kpis.period_of(self.today - datetime.timedelta(days=60), kpis.MONTH)
        table = kpis.agent_kpis([ids[a.employee_no] for a in roster], [period])

        def medians(attribute: str) -> tuple[float, float]:
            values = {a.employee_no: getattr(table.get(ids[a.employee_no], period), attribute) for a in roster}
            slow_ones = statistics.median(values[n] for n in slow if values[n] is not None)
            others = statistics.median(v for n, v in values.items() if n not in slow and v is not None)
            return slow_ones, others

        slow_ones, others = medians("resolution_median_minutes")
        self.assertGreater(slow_ones, 2 * others)
        # Calls are answered live whoever takes them, so first replies differ less, but still clearly.
        slow_ones, others = medians("first_reply_median_minutes")
        self.assertGreater(slow_ones, 1.5 * others)

    def test_complaints_cluster_in_the_billing_incident(self):
        team = Interaction.objects.filter(agent__org_unit__code=demo.INCIDENT_TEAM)
        start, end = demo.INCIDENT
        during = team.filter(local_date__range=(start, end)).aggregate(
            n=Count("pk"), c=Count("pk", filter=Q(kind=Kind.COMPLAINT)))
        before = team.filter(local_date__range=(start - datetime.timedelta(days=28), start - datetime.timedelta(days=1)))
        before = before.aggregate(n=Count("pk"), c=Count("pk", filter=Q(kind=Kind.COMPLAINT)))
        self.assertGreater(during["c"] / during["n"], 1.5 * before["c"] / before["n"])

    def test_national_day_leaves_a_backlog(self):
        agents = Employee.objects.filter(interactions__isnull=False).distinct()
        weeks = [kpis.parse_period(k) for k in ("2026-W37", "2026-W38", "2026-W39", "2026-W41")]
        table = kpis.agent_kpis(agents, weeks)
        backlog = {w.key: sum(table.get(a.pk, w).backlog for a in agents) for w in weeks}
        usual = statistics.mean(backlog[k] for k in ("2026-W37", "2026-W38", "2026-W39"))
        # Week 41 (5–11 October) ends with the holiday's arrivals still piling up.
        self.assertGreater(backlog["2026-W41"], 2.5 * usual)

    def test_complaints_are_rated_lower(self):
        by_kind = dict(SurveyAnswer.objects.values_list("interaction__kind").annotate(m=Avg("rating")))
        self.assertLess(by_kind[Kind.COMPLAINT] + 0.5, by_kind[Kind.INQUIRY])


class SeedDemoCommandTests(TestCase):
    def test_seed_demo_runs_the_service_step_once(self):
        out = io.StringIO()
        with translation.override("en"):
            call_command("seed_demo", stdout=out)
            self.assertIn("interactions:", out.getvalue())
            self.assertIn("survey answers:", out.getvalue())
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
        self.assertIn("already there", out.getvalue())
