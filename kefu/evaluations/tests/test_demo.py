"""The demo evaluations (issue 4 item 8): six months, consistent with the demo interactions, idempotent."""

from __future__ import annotations

import datetime
import random
import statistics
from decimal import Decimal

from django.db.models import Avg, Count, F
from django.test import TestCase
from django.utils import translation

from kefu.core.models import AuditEntry, Notification
from kefu.evaluations import monthly, scoring
from kefu.evaluations.demo import build_evaluations_demo
from kefu.evaluations.models import Appeal, MonthlyEvaluation, WeeklyEvaluation, WeeklyEvidence, WeeklyScore
from kefu.people.demo import build_demo
from kefu.people.models import Employee
from kefu.service import demo as service_demo
from kefu.service.demo import build_service_demo


class EvaluationsDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_demo()
        build_service_demo()
        with translation.override("en"):
            cls.created = build_evaluations_demo()
        cls.today = service_demo._first_run_date()

    def test_six_months(self):
        months = list(MonthlyEvaluation.objects.order_by().values_list("year", "month").distinct())
        assert len(months) == 6
        last = max(months)
        expected_last = (self.today.replace(day=1) - datetime.timedelta(days=1))
        assert last == (expected_last.year, expected_last.month)
        # The five older months are final; the last one is in flight (drafts, submitted, final).
        older = MonthlyEvaluation.objects.exclude(year=last[0], month=last[1])
        assert set(older.values_list("status", flat=True)) == {MonthlyEvaluation.Status.FINAL}
        current = set(MonthlyEvaluation.objects.filter(year=last[0], month=last[1]).values_list("status", flat=True))
        assert MonthlyEvaluation.Status.DRAFT in current and MonthlyEvaluation.Status.FINAL in current
        n_weekly = WeeklyEvaluation.objects.count()
        assert n_weekly > 20 * 50  # about 60 agents × 27 weeks, less the gaps
        assert self.created == {"weekly evaluations": n_weekly,
                                "monthly evaluations": MonthlyEvaluation.objects.count()}
        # Every weekly evaluation scores the 8 weekly criteria; evidence comes from her own interactions.
        assert WeeklyScore.objects.count() == 8 * n_weekly
        assert not WeeklyEvidence.objects.exclude(interaction__agent=F("evaluation__agent")).exists()

    def test_the_named_agent_has_one_to_answer_and_one_appeal_waits(self):
        ev = MonthlyEvaluation.objects.filter(agent__user__username="agent").order_by("-year", "-month").first()
        assert ev.status == MonthlyEvaluation.Status.SUBMITTED
        assert Appeal.objects.filter(status=Appeal.Status.OPEN).count() == 1
        assert Notification.objects.filter(recipient__username="agent", title__contains=ev.period_label).exists()

    def test_slow_agents_score_lower_on_efficiency(self):
        roster = service_demo._agents(random.Random(service_demo.SEED))  # the draw the service demo made
        ids = dict(Employee.objects.values_list("employee_no", "pk"))
        slow = {ids[a.employee_no] for a in roster if a.speed > 2}
        weekly = dict(WeeklyEvaluation.objects.exclude(efficiency_pct=None).order_by().values_list("agent_id")
                      .annotate(m=Avg("efficiency_pct")))
        others = statistics.median(float(v) for k, v in weekly.items() if k not in slow)
        assert statistics.median(float(weekly[k]) for k in slow) < others - 5
        monthly_eff = dict(MonthlyEvaluation.objects.exclude(efficiency=None).order_by().values_list("agent_id")
                           .annotate(m=Avg("efficiency")))
        others = statistics.median(float(v) for k, v in monthly_eff.items() if k not in slow)
        assert max(float(monthly_eff[k]) for k in slow) < others

    def test_suggestions_follow_the_weekly_scores(self):
        # Recomputed from the weekly rows: the attitude suggestion is the mean of the counted weeks'
        # percents × 30, rounded to the 0.5 step.
        checked = 0
        for ev in MonthlyEvaluation.objects.exclude(attitude_suggested=None).order_by("pk")[:40]:
            starts = [datetime.date.fromisocalendar(*w, 1) for w in scoring.weeks_of_month(ev.year, ev.month)]
            pcts = list(WeeklyEvaluation.objects.filter(agent=ev.agent, week_start__in=starts)
                        .exclude(status=WeeklyEvaluation.Status.DRAFT).exclude(attitude_pct=None)
                        .values_list("attitude_pct", flat=True))
            mean = sum(pcts, Decimal(0)) / len(pcts)
            assert ev.attitude_suggested == monthly.round_to_step(mean * 30 / 100, Decimal("0.5"))
            checked += 1
        assert checked == 40

    def test_some_drafts_warn_of_missing_weeks(self):
        assert MonthlyEvaluation.objects.exclude(facts__missing_weeks=[]).exists()

    def test_a_second_run_adds_nothing(self):
        before = (WeeklyEvaluation.objects.count(), MonthlyEvaluation.objects.count(), AuditEntry.objects.count(),
                  Notification.objects.count())
        assert build_evaluations_demo() == {}
        assert (WeeklyEvaluation.objects.count(), MonthlyEvaluation.objects.count(), AuditEntry.objects.count(),
                Notification.objects.count()) == before

    def test_one_audit_entry_per_bulk_batch(self):
        weeks = WeeklyEvaluation.objects.order_by().values("iso_year", "iso_week").distinct().count()
        assert AuditEntry.objects.filter(action="weekly_evaluation.demo_batch").count() == weeks
        assert AuditEntry.objects.filter(action="monthly_evaluation.demo_batch").count() == 5
        # The last month went through the services: one entry per draft at least.
        assert AuditEntry.objects.filter(action="monthly.draft_create").count() == \
            MonthlyEvaluation.objects.values("year", "month").annotate(n=Count("pk")).order_by("-year", "-month")[0]["n"]

