"""Calibration sessions (issue 4 item 5): creation, blind scoring, closing, the result and its pages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kefu.core.audit import entries_for
from kefu.core.models import Notification
from kefu.evaluations import services
from kefu.evaluations.models import CalibrationScore, CalibrationSession
from kefu.people.models import Role
from kefu.people.testing import KefuTestCase, make_person
from kefu.service.tests.builders import interaction, local


class CalibrationData(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.card = services.scorecard_ensure_default()
        cls.warm = cls.card.criteria.get(code="proactive_warm")
        cls.lead2 = make_person("lead2", "周子涵", cls.cs1_t2, (Role.TEAM_LEAD, cls.cs1_t2), employee_no="CS1012")
        cls.i1 = interaction(cls.agent.employee, local(2026, 3, 2, 10), source="CC", external_id="A-1",
                             subject="查詢帳單明細")
        cls.i2 = interaction(cls.teammate_other_team.employee, local(2026, 3, 3, 11), source="CC", external_id="A-2")
        cls.foreign = interaction(cls.other_agent.employee, local(2026, 3, 3, 11), source="CC", external_id="B-1")

    def create(self, **kwargs):
        args = {"actor": self.supervisor, "title": "三月校準", "scorecard": self.card,
                "interactions": [self.i1, self.i2],
                "evaluators": [self.team_lead.employee, self.supervisor.employee, self.lead2.employee]}
        return services.calibration_create(**(args | kwargs))

    def score(self, user, session, item, level):
        services.calibration_scores_save(actor=user, session=session, interaction=item,
                                         levels={self.warm.pk: level})

    def score_all(self, session):
        # Interaction 1: 4, 4, 2; interaction 2: 2, 2, 2 (see test_calibration_alpha: α = 3/8).
        for user, first in ((self.team_lead, 4), (self.supervisor, 4), (self.lead2, 2)):
            self.score(user, session, self.i1, first)
            self.score(user, session, self.i2, 2)


class CreateTests(CalibrationData):
    def test_a_session_asks_its_evaluators(self):
        session = self.create()
        assert list(session.items.values_list("interaction_id", flat=True)) == [self.i1.pk, self.i2.pk]
        assert session.evaluators.count() == 3
        for user in (self.team_lead, self.supervisor, self.lead2):
            assert Notification.objects.filter(recipient=user, title__contains="三月校準").exists()
        assert [e.action for e in entries_for(session)] == ["calibration.create"]

    def test_needs_two_evaluators_and_one_interaction(self):
        with self.assertRaises(ValidationError) as ctx:
            self.create(evaluators=[self.team_lead.employee], interactions=[], title=" ")
        assert set(ctx.exception.message_dict) == {"evaluators", "interactions", "title"}
        assert not CalibrationSession.objects.exists()

    def test_only_within_the_creators_scope(self):
        with self.assertRaises(ValidationError) as ctx:
            self.create(interactions=[self.i1, self.foreign],
                        evaluators=[self.team_lead.employee, self.outsider.employee])
        errors = ctx.exception.message_dict
        assert "CC:B-1" in " ".join(errors["interactions"])
        assert "吳俊傑" in " ".join(errors["evaluators"])
        # An agent is no evaluator.
        with self.assertRaises(ValidationError):
            self.create(evaluators=[self.team_lead.employee, self.agent.employee])

    def test_who_may_create(self):
        for user in (self.agent, self.team_lead, self.dept_head, self.inspector):
            with self.assertRaises(PermissionDenied):
                self.create(actor=user)
        # HR covers the whole company.
        session = self.create(actor=self.hr, interactions=[self.i1, self.foreign],
                              evaluators=[self.team_lead.employee, self.outsider.employee])
        assert session.items.count() == 2

    def test_create_page(self):
        url = reverse("evaluations:calibration_create")
        for user in (self.agent, self.team_lead, self.inspector):
            self.assertStatus(user, "get", url, 403)
        self.assertStatus(self.supervisor, "get", url, 200)
        self.login(self.supervisor)
        response = self.client.post(url, {
            "title": "四月校準", "scorecard": self.card.pk,
            "evaluators": [self.team_lead.employee.pk, self.lead2.employee.pk],
            "refs": "CC:A-1\nCC:A-2",
        })
        session = CalibrationSession.objects.get(title="四月校準")
        assert response.status_code == 302
        assert session.items.count() == 2
        response = self.client.post(url, {
            "title": "五月校準", "scorecard": self.card.pk,
            "evaluators": [self.team_lead.employee.pk, self.lead2.employee.pk], "refs": "CC:B-1 nonsense",
        })
        assert response.status_code == 200
        assert "nonsense" in " ".join(response.context["form"].errors["refs"])
        response = self.client.post(url, {
            "title": "六月校準", "scorecard": self.card.pk,
            "evaluators": [self.team_lead.employee.pk, self.lead2.employee.pk], "draw": "5",
            "draw_from": "2026-03-01", "draw_to": "2026-03-31",
        })
        # Only the two CS1 interactions lie in her scope.
        assert set(CalibrationSession.objects.get(title="六月校準").items.values_list("interaction_id", flat=True)) \
            == {self.i1.pk, self.i2.pk}


class BlindTests(CalibrationData):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.session = services.calibration_create(
            actor=cls.supervisor, title="三月校準", scorecard=cls.card, interactions=[cls.i1, cls.i2],
            evaluators=[cls.team_lead.employee, cls.supervisor.employee, cls.lead2.employee])
        services.calibration_scores_save(actor=cls.team_lead, session=cls.session, interaction=cls.i1,
                                         levels={cls.warm.pk: 1})

    def test_others_scores_are_not_shown_while_open(self):
        results = reverse("evaluations:calibration_results", args=[self.session.pk])
        for user in (self.team_lead, self.supervisor, self.lead2, self.hr, self.inspector):
            self.assertStatus(user, "get", results, 403)
        self.assertStatus(self.outsider, "get", results, 404)
        # lead2's own sheet shows nothing of the team lead's level 1.
        self.login(self.lead2)
        response = self.client.get(reverse("evaluations:calibration_score", args=[self.session.pk]))
        assert response.status_code == 200
        cells = [c for r in response.context["rows"] for c in r["cells"]]
        assert all(c["value"] == "" for c in cells)
        assert 'value="1" selected' not in response.content.decode()
        # The session page shows counts only.
        response = self.client.get(reverse("evaluations:calibration_detail", args=[self.session.pk]))
        progress = {r["e"].pk: r["done"] for r in response.context["evaluators"]}
        assert progress[self.team_lead.employee.pk] == 1
        # The audit entry says that she scored, not what.
        entry = entries_for(self.session).first()
        assert entry.action == "calibration.score"
        assert "level" not in str(entry.changes) and entry.changes["criteria_scored"] == [None, 1]

    def test_own_sheet(self):
        self.login(self.team_lead)
        response = self.client.get(reverse("evaluations:calibration_score", args=[self.session.pk]))
        values = {c["key"]: c["value"] for r in response.context["rows"] for c in r["cells"]}
        assert values[f"s-{self.i1.pk}-{self.warm.pk}"] == "1"

    def test_page_access(self):
        detail = reverse("evaluations:calibration_detail", args=[self.session.pk])
        score = reverse("evaluations:calibration_score", args=[self.session.pk])
        close = reverse("evaluations:calibration_close", args=[self.session.pk])
        for user in (self.team_lead, self.supervisor, self.lead2, self.hr, self.inspector, self.leadership):
            self.assertStatus(user, "get", detail, 200)
        for user in (self.outsider, self.agent, self.dept_head, self.admin_clerk):
            self.assertStatus(user, "get", detail, 404)
            self.assertStatus(user, "get", score, 404)
            self.assertStatus(user, "post", close, 404)
        # Seen, but not an evaluator / not hers to close.
        self.assertStatus(self.hr, "get", score, 403)
        self.assertStatus(self.inspector, "get", score, 403)
        self.assertStatus(self.team_lead, "post", close, 403)
        self.assertStatus(self.inspector, "post", close, 403)
        self.client.logout()
        assert self.client.get(detail).status_code == 302
        self.assertStatus(self.team_lead, "get", reverse("evaluations:calibration_list"), 200)
        self.assertStatus(self.agent, "get", reverse("evaluations:calibration_list"), 200)

    def test_scoring_through_the_page(self):
        self.login(self.lead2)
        url = reverse("evaluations:calibration_score", args=[self.session.pk])
        response = self.client.post(url, {f"s-{self.i1.pk}-{self.warm.pk}": "3",
                                          f"s-{self.i2.pk}-{self.warm.pk}": "2"})
        assert response.status_code == 302
        assert sorted(CalibrationScore.objects.filter(evaluator=self.lead2.employee).values_list("level", flat=True)) \
            == [2, 3]
        # A level off the scale is refused and nothing of the form is saved.
        response = self.client.post(url, {f"s-{self.i1.pk}-{self.warm.pk}": "9",
                                          f"s-{self.i2.pk}-{self.warm.pk}": "5"})
        assert response.status_code == 200 and response.context["errors"]
        assert sorted(CalibrationScore.objects.filter(evaluator=self.lead2.employee).values_list("level", flat=True)) \
            == [2, 3]

    def test_a_non_evaluator_cannot_score(self):
        with self.assertRaises(PermissionDenied):
            services.calibration_scores_save(actor=self.hr, session=self.session, interaction=self.i1,
                                             levels={self.warm.pk: 3})


class CloseTests(CalibrationData):
    def test_close_computes_the_agreement_and_tells_the_supervision_group(self):
        session = self.create()
        self.score_all(session)
        session = services.calibration_close(actor=self.supervisor, session=session)
        result = session.result
        # α = 3/8 (worked out in test_calibration_alpha), below 0.667: disagree.
        assert result["alpha"] == 0.375
        assert result["reading"] == "disagree"
        lenient = {e["name"]: e["leniency"] for e in result["evaluators"]}
        assert lenient == {"李建國": 0.333, "陳淑芬": 0.333, "周子涵": -0.667}
        note = Notification.objects.get(recipient=self.inspector)
        assert "0.375" in note.title
        assert "calibration meeting" in note.body
        assert session.closed_at is not None
        # Closed: no more scoring, and the results are readable.
        with self.assertRaises(ValidationError):
            self.score(self.team_lead, session, self.i1, 5)
        url = reverse("evaluations:calibration_results", args=[session.pk])
        for user in (self.team_lead, self.lead2, self.hr, self.inspector):
            self.assertStatus(user, "get", url, 200)
        self.assertStatus(self.outsider, "get", url, 404)
        self.login(self.inspector)
        body = self.client.get(url, headers={"accept-language": "en"}).content.decode()
        assert "α = 1 − D_o / D_e" in body
        assert "hold a calibration meeting" in body
        assert "0.375" in body

    def test_close_through_the_page_with_one_evaluator_scoring(self):
        session = self.create()
        self.score(self.team_lead, session, self.i1, 4)
        self.login(self.supervisor)
        response = self.client.post(reverse("evaluations:calibration_close", args=[session.pk]))
        assert response.status_code == 302
        session.refresh_from_db()
        assert session.status == CalibrationSession.Status.CLOSED
        assert session.result["alpha"] is None and session.result["reading"] == "undefined"
        body = self.client.get(reverse("evaluations:calibration_results", args=[session.pk]),
                               headers={"accept-language": "en"}).content.decode()
        assert "at least two evaluators" in body
