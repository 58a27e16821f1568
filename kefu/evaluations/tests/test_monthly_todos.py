"""Workbench to-dos of the monthly drafts and calibration sessions; the scheduled task."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.evaluations import services
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tasks_monthly import monthly_drafts_task
from kefu.evaluations.tests.monthly_data import AFTER_MARCH, MONTH, YEAR, build_march
from kefu.evaluations.todos_monthly import calibration_to_do, monthly_drafts_to_do
from kefu.people.testing import KefuTestCase
from kefu.service.tests.builders import interaction, local


class TodoTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)

    def test_drafts_wait_on_the_supervisors_workbench(self):
        todos = monthly_drafts_to_do(self.supervisor)
        assert [(t.count, t.url) for t in todos] == [(2, reverse("evaluations:monthly_board") + "?period=2026-03")]
        assert [t.count for t in monthly_drafts_to_do(self.outsider)] == [1]
        assert monthly_drafts_to_do(self.team_lead) == []
        assert monthly_drafts_to_do(self.agent) == []
        # Submitted: off the list.
        ev = MonthlyEvaluation.objects.get(agent=self.other_agent.employee)
        ev = services.monthly_draft_update(actor=self.outsider, evaluation=ev,
                                           points={"attitude": 20, "ability": 20, "efficiency": 15, "teamwork": 15})
        services.monthly_submit(actor=self.outsider, evaluation=ev)
        assert monthly_drafts_to_do(self.outsider) == []

    def test_calibration_scoring_waits_until_done(self):
        card = services.scorecard_ensure_default()
        item = interaction(self.agent.employee, local(2026, 3, 2, 10), source="CC", external_id="T-1")
        session = services.calibration_create(actor=self.supervisor, title="校準", scorecard=card,
                                              interactions=[item],
                                              evaluators=[self.team_lead.employee, self.supervisor.employee])
        criteria = services.calibration_criteria(card)
        assert [t.count for t in calibration_to_do(self.team_lead)] == [len(criteria)]  # 8 to score
        services.calibration_scores_save(actor=self.team_lead, session=session, interaction=item,
                                         levels={c.pk: 3 for c in criteria})
        assert calibration_to_do(self.team_lead) == []
        assert [t.count for t in calibration_to_do(self.supervisor)] == [len(criteria)]
        assert calibration_to_do(self.agent) == []

    def test_calibration_list_queries_are_bounded(self):
        card = services.scorecard_ensure_default()
        item = interaction(self.agent.employee, local(2026, 3, 2, 10), source="CC", external_id="T-2")

        def make():
            services.calibration_create(actor=self.supervisor, title="校準", scorecard=card, interactions=[item],
                                        evaluators=[self.team_lead.employee, self.supervisor.employee])

        make()
        self.login(self.team_lead)
        url = reverse("evaluations:calibration_list")
        with CaptureQueriesContext(connection) as one:
            assert self.client.get(url).status_code == 200
        for _n in range(5):
            make()
        with CaptureQueriesContext(connection) as six:
            response = self.client.get(url)
        assert len(response.context["rows"]) == 6
        assert len(one.captured_queries) == len(six.captured_queries)


class TaskTests(KefuTestCase):
    def test_the_task_makes_the_months_drafts(self):
        build_march(self)
        result = monthly_drafts_task.enqueue(year=2026, month=3)  # the immediate backend in tests
        assert result.return_value == {"agents": 3, "created": 3, "existing": 0, "without_supervisor": 0}
        assert MonthlyEvaluation.objects.filter(year=2026, month=3).count() == 3
