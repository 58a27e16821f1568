"""The department monthly board, the draft form, the export and the printable sheet (issue 4 item 6)."""

import datetime
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kefu.core.pdf import pdf_text
from kefu.evaluations import access as eaccess
from kefu.evaluations import services
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tests.monthly_data import AFTER_MARCH, MONTH, YEAR, build_march, draft_of
from kefu.people.models import Role
from kefu.people.testing import KefuTestCase, make_person

D = Decimal
BOARD = reverse("evaluations:monthly_board") + "?period=2026-03"
EXPORT = reverse("evaluations:monthly_export") + "?period=2026-03"


class BoardTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)

    def test_access(self):
        for user in (self.supervisor, self.dept_head, self.hr, self.leadership, self.inspector, self.outsider):
            self.assertStatus(user, "get", BOARD, 200)
        for user in (self.agent, self.team_lead, self.admin_clerk, self.sysadmin):
            self.assertStatus(user, "get", BOARD, 403)
            self.assertStatus(user, "get", EXPORT, 403)
        self.client.logout()
        response = self.client.get(BOARD)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_the_supervisor_sees_her_department_only(self):
        self.login(self.supervisor)
        response = self.client.get(BOARD)
        rows = response.context["rows"]
        assert [r["agent"].employee_no for r in rows] == ["CS1001", "CS1005"]
        assert response.context["counts"]["draft"] == 2
        assert response.context["counts"]["completion"] == 0
        body = response.content.decode()
        assert "王小美" in body and "鄭惠如" not in body
        assert 'data-testid="missing-badge"' in body
        self.login(self.outsider)
        rows = self.client.get(BOARD).context["rows"]
        assert [r["agent"].employee_no for r in rows] == ["CS2002"]

    def test_completion_and_distribution(self):
        ev = draft_of(self.agent.employee)
        ev = services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"teamwork": D("18")},
                                           require_all=True)
        services.monthly_submit(actor=self.supervisor, evaluation=ev)
        self.login(self.supervisor)
        response = self.client.get(BOARD)
        counts = response.context["counts"]
        # One of two submitted: 50 %.
        assert (counts["submitted"], counts["draft"], counts["completion"]) == (1, 1, 50)
        chart = response.context["chart"]
        # The total 79 falls in the 75–80 band (index 4), as "submitted".
        submitted = next(s for s in chart["series"] if s["key"] == "submitted")
        assert submitted["data"] == [0, 0, 0, 0, 1, 0, 0, 0, 0]
        assert chart["labels"][4] == "75–80"
        assert 'id="monthly-distribution"' in response.content.decode()
        assert "<script>" not in response.content.decode()  # data via json_script only (CSP)

    def test_query_count_does_not_grow_with_the_agents(self):
        self.login(self.hr)
        with CaptureQueriesContext(connection) as small:
            assert self.client.get(BOARD).status_code == 200
        with CaptureQueriesContext(connection) as small_export:
            assert self.client.get(EXPORT).status_code == 200
        for i in range(12):
            make_person(f"extra{i}", f"客服{i}", self.cs1_t2, (Role.AGENT, self.cs1_t2), employee_no=f"CS19{i:02d}")
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)
        assert MonthlyEvaluation.objects.count() == 3 + 12
        with CaptureQueriesContext(connection) as large:
            response = self.client.get(BOARD)
        assert len(response.context["rows"]) == 15
        with CaptureQueriesContext(connection) as large_export:
            response = self.client.get(EXPORT)
        assert len(small.captured_queries) == len(large.captured_queries)
        assert len(small_export.captured_queries) == len(large_export.captured_queries)
        # One query for the counts, the distribution and the paginator; the page's agents; their evaluations.
        assert len(large.captured_queries) <= 12, len(large.captured_queries)
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet.max_row == 1 + 15

    def test_every_board_reader_reads_the_evaluations_on_the_board(self):
        # The board counts its agents' evaluations without a visibility filter of its own (one query):
        # right only while every role that reads the board also reads the evaluations of its scope.
        assert eaccess.MONTHLY_BOARD_READERS <= eaccess.READERS

    def test_export_content(self):
        ev = draft_of(self.agent.employee)
        services.monthly_draft_update(actor=self.supervisor, evaluation=ev, points={"teamwork": D("18")})
        self.login(self.supervisor)
        response = self.client.get(EXPORT, headers={"accept-language": "en"})
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        header, first = rows[0], rows[1]
        assert len(rows) == 3  # 王小美 and 林雅婷; nobody from CS2
        data = dict(zip(header, first, strict=True))
        assert data["Employee number"] == "CS1001" and data["Name"] == "王小美"
        assert data["Service attitude (suggested)"] == 25.5
        assert data["Total"] == 79
        assert data["Missing weeks"] == "2026-W12, 2026-W13"


class DraftPageTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)
        cls.ev = draft_of(cls.agent.employee)
        cls.url = reverse("evaluations:monthly_edit", args=[cls.ev.pk])

    def test_access(self):
        self.assertStatus(self.supervisor, "get", self.url, 200)
        # A draft is not shown to the agent; another department's supervisor does not see it.
        self.assertStatus(self.agent, "get", self.url, 404)
        self.assertStatus(self.outsider, "get", self.url, 404)
        self.assertStatus(self.admin_clerk, "get", self.url, 404)
        # Seen but not theirs to change.
        for user in (self.dept_head, self.hr, self.team_lead, self.inspector):
            self.assertStatus(user, "get", self.url, 403)
            self.assertStatus(user, "post", self.url, 403, {"action": "save", "teamwork": "10"})
        self.client.logout()
        assert self.client.get(self.url).status_code == 302

    def test_the_form_shows_the_facts_and_the_missing_weeks(self):
        self.login(self.supervisor)
        body = self.client.get(self.url, headers={"accept-language": "en"}).content.decode()
        assert 'data-testid="missing-weeks"' in body and "2026-W12, 2026-W13" in body
        assert 'data-testid="suggested-attitude">25.5<' in body
        assert "70.00 %" in body  # the SLA rate
        assert "Weekly efficiency 60 % blended with the SLA rate 70 %" in body

    def test_a_large_move_without_reason_is_refused_with_a_field_error(self):
        self.login(self.supervisor)
        response = self.client.post(self.url, {"action": "save", "attitude": "20", "ability": "22.5",
                                               "efficiency": "13", "teamwork": "18"})
        assert response.status_code == 200
        assert response.context["form"].errors["attitude_reason"]
        assert 'data-testid="error-attitude_reason"' in response.content.decode()
        assert draft_of(self.agent.employee).teamwork is None  # nothing saved

    def test_save_then_submit(self):
        self.login(self.supervisor)
        response = self.client.post(self.url, {"action": "save", "attitude": "20", "attitude_reason": "態度欠佳",
                                               "ability": "22.5", "efficiency": "13", "teamwork": "18"})
        assert response.status_code == 302
        ev = draft_of(self.agent.employee)
        assert (ev.attitude, ev.total, ev.attitude_reason) == (D("20.00"), D("73.50"), "態度欠佳")
        response = self.client.post(self.url, {"action": "submit", "attitude": "20", "attitude_reason": "態度欠佳",
                                               "ability": "22.5", "efficiency": "13", "teamwork": "18"})
        assert response.status_code == 302
        assert response["Location"] == reverse("evaluations:monthly_detail", args=[ev.pk])
        assert draft_of(self.agent.employee).status == MonthlyEvaluation.Status.SUBMITTED
        # A submitted one is no longer a draft: the edit page sends to its page.
        assert self.client.get(self.url).status_code == 302

    def test_submit_without_teamwork_names_the_field(self):
        self.login(self.supervisor)
        response = self.client.post(self.url, {"action": "submit", "attitude": "25.5", "ability": "22.5",
                                               "efficiency": "13"})
        assert response.status_code == 200
        assert response.context["form"].errors["teamwork"]
        assert draft_of(self.agent.employee).status == MonthlyEvaluation.Status.DRAFT

    def test_make_drafts_button(self):
        url = reverse("evaluations:monthly_drafts_make")
        self.assertStatus(self.team_lead, "post", url, 403, {"period": "2026-03"})
        self.assertStatus(self.agent, "post", url, 403, {"period": "2026-03"})
        MonthlyEvaluation.objects.filter(agent=self.teammate_other_team.employee).delete()
        self.login(self.supervisor)
        response = self.client.post(url, {"period": "2026-03"})
        assert response.status_code == 302
        assert MonthlyEvaluation.objects.filter(agent=self.teammate_other_team.employee).exists()
        # Nothing for a month that has not ended.
        today = datetime.date.today()
        self.client.post(url, {"period": f"{today.year}-{today.month:02d}"})
        assert not MonthlyEvaluation.objects.filter(year=today.year, month=today.month).exists()


class SheetTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)
        ev = services.monthly_draft_update(
            actor=cls.supervisor, evaluation=draft_of(cls.agent.employee),
            points={"attitude": D("20"), "teamwork": D("18")}, reasons={"attitude": "兩次被投訴態度不佳"},
            comment="本月需加強服務態度", require_all=True)
        cls.ev = services.monthly_submit(actor=cls.supervisor, evaluation=ev)
        cls.url = reverse("evaluations:monthly_pdf", args=[cls.ev.pk])

    def test_the_pdf_carries_the_chinese_text(self):
        self.login(self.supervisor)
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        for expected in ("王小美", "CS1001", "客服一部 / 一部一組", "陳淑芬", "兩次被投訴態度不佳", "本月需加強服務態度",
                         "2026-03", "73.5", "2026-W12, 2026-W13"):
            assert expected in text, expected

    def test_access(self):
        # The agent prints her own once submitted; outsiders get 404.
        self.assertStatus(self.agent, "get", self.url, 200)
        self.assertStatus(self.dept_head, "get", self.url, 200)
        self.assertStatus(self.outsider, "get", self.url, 404)
        self.assertStatus(self.teammate_other_team, "get", self.url, 404)
        self.client.logout()
        assert self.client.get(self.url).status_code == 302
