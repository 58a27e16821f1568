"""Evaluation pages: allowed / 404 / 403 / anonymous for each, and the team board's query count."""

from __future__ import annotations

import datetime
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.evaluations import services, views
from kefu.evaluations.models import Appeal, WeeklyEvaluation
from kefu.evaluations.tests.builders import local_dt, monthly_draft, scores, submitted_weekly
from kefu.people.models import Employee, Role, RoleAssignment
from kefu.people.testing import START, KefuTestCase, make_person
from kefu.service.tests.builders import interaction, local

W = (2026, 10)


class PageAccessTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.agent_e = self.agent.employee
        self.weekly = submitted_weekly(self.team_lead, self.agent_e, *W)
        self.draft = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent_e, iso_year=2026,
                                                      iso_week=11)
        self.monthly = monthly_draft(self.agent_e, 2026, 3, supervisor=self.supervisor.employee)
        services.monthly_submit(actor=self.supervisor, evaluation=self.monthly, now=local_dt(2026, 4, 2))
        self.appeal = services.monthly_appeal(actor=self.agent, evaluation=self.monthly, reason="too low",
                                              now=local_dt(2026, 4, 3))

    def test_my_evaluations(self):
        url = reverse("evaluations:mine")
        self.assertStatus(None, "get", url, 302)
        self.login(self.agent)
        response = self.client.get(url)
        self.assertContains(response, "2026-W10")
        self.assertNotContains(response, "2026-W11")  # a draft is the evaluator's, not hers
        self.assertContains(response, "2026-03")
        # someone with no evaluations gets an honest empty page
        self.login(self.other_agent)
        self.assertContains(self.client.get(url), 'data-testid="empty-weekly"')

    def test_weekly_detail(self):
        url = reverse("evaluations:weekly_detail", args=[self.weekly.pk])
        self.assertStatus(None, "get", url, 302)
        for user in (self.agent, self.team_lead, self.supervisor, self.dept_head, self.hr, self.inspector):
            self.assertStatus(user, "get", url, 200)
        for user in (self.other_agent, self.teammate_other_team, self.outsider, self.admin_clerk):
            self.assertStatus(user, "get", url, 404)
        # the agent never sees a draft
        self.assertStatus(self.agent, "get", reverse("evaluations:weekly_detail", args=[self.draft.pk]), 404)

    def test_weekly_edit(self):
        url = reverse("evaluations:weekly_edit", args=[self.draft.pk])
        self.assertStatus(None, "get", url, 302)
        self.assertStatus(self.team_lead, "get", url, 200)
        self.assertStatus(self.supervisor, "get", url, 200)
        self.assertStatus(self.dept_head, "get", url, 403)  # sees it, may not change it
        self.assertStatus(self.hr, "get", url, 403)
        self.assertStatus(self.outsider, "get", url, 404)
        self.assertStatus(self.agent, "get", url, 404)
        # a submitted one is not editable
        self.assertStatus(self.team_lead, "get", reverse("evaluations:weekly_edit", args=[self.weekly.pk]), 403)

    def test_weekly_start_scope(self):
        url = reverse("evaluations:weekly_start")
        other = {"agent": self.teammate_other_team.employee.employee_no, "week": "2026-W12"}
        self.assertStatus(self.team_lead, "post", url, 404, other)  # another team's agent
        self.assertStatus(self.team_lead, "post", url, 404, {"agent": "CS1002", "week": "2026-W12"})  # herself
        self.assertStatus(self.agent, "post", url, 403, {"agent": "CS1001", "week": "2026-W12"})
        self.assertStatus(None, "post", url, 302, other)
        self.assertFalse(WeeklyEvaluation.objects.filter(iso_week=12).exists())
        self.login(self.team_lead)
        response = self.client.post(url, {"agent": "CS1001", "week": "2026-W12"})
        ev = WeeklyEvaluation.objects.get(iso_week=12)
        self.assertRedirects(response, reverse("evaluations:weekly_edit", args=[ev.pk]))

    def test_weekly_board(self):
        url = reverse("evaluations:weekly_board")
        self.assertStatus(None, "get", url, 302)
        self.assertStatus(self.team_lead, "get", url, 200)
        self.assertStatus(self.supervisor, "get", url, 200)
        for user in (self.agent, self.hr, self.dept_head, self.admin_clerk):
            self.assertStatus(user, "get", url, 403)

    def test_agent_answers(self):
        ack = reverse("evaluations:weekly_acknowledge", args=[self.weekly.pk])
        self.assertStatus(self.team_lead, "post", ack, 403)
        self.assertStatus(self.other_agent, "post", ack, 404)
        self.assertStatus(self.agent, "post", ack, 302)
        self.weekly.refresh_from_db()
        self.assertEqual(self.weekly.status, "acknowledged")

    def test_monthly_detail(self):
        url = reverse("evaluations:monthly_detail", args=[self.monthly.pk])
        self.assertStatus(None, "get", url, 302)
        for user in (self.agent, self.team_lead, self.supervisor, self.dept_head, self.hr, self.leadership):
            self.assertStatus(user, "get", url, 200)
        for user in (self.other_agent, self.outsider, self.admin_clerk):
            self.assertStatus(user, "get", url, 404)
        self.login(self.agent)
        response = self.client.get(url)
        self.assertContains(response, "too low")
        self.assertContains(response, 'data-testid="appeal-deadline"')

    def test_appeals_pages(self):
        self.assertStatus(None, "get", reverse("evaluations:appeals"), 302)
        self.assertStatus(self.dept_head, "get", reverse("evaluations:appeals"), 200)
        for user in (self.agent, self.supervisor, self.hr):
            self.assertStatus(user, "get", reverse("evaluations:appeals"), 403)
        url = reverse("evaluations:appeal_decide", args=[self.appeal.pk])
        self.assertStatus(self.dept_head, "get", url, 200)
        self.assertStatus(self.agent, "get", url, 200)  # her own appeal, read only
        self.assertStatus(self.outsider, "get", url, 404)
        self.assertStatus(self.agent, "post", url, 403, {"decision": "uphold", "reason": "self-serving"})
        self.assertStatus(self.supervisor, "post", url, 403, {"decision": "uphold", "reason": "x"})
        self.assertStatus(self.outsider, "post", url, 404, {"decision": "uphold", "reason": "x"})
        self.appeal.refresh_from_db()
        self.assertEqual(self.appeal.status, Appeal.Status.OPEN)
        self.login(self.dept_head)
        response = self.client.post(url, {"decision": "adjust", "reason": "ok", "adjust_teamwork": "25"})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "20", status_code=422)
        response = self.client.post(url, {"decision": "adjust", "reason": "Training led", "adjust_teamwork": "19"})
        self.assertRedirects(response, reverse("evaluations:monthly_detail", args=[self.monthly.pk]))
        self.monthly.refresh_from_db()
        self.assertEqual(str(self.monthly.total), "84.50")

    def test_hr_reopen_page(self):
        services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision="uphold", reason="ok")
        url = reverse("evaluations:monthly_reopen", args=[self.monthly.pk])
        self.assertStatus(self.supervisor, "post", url, 403, {"reason": "x"})  # sees it, may not reopen it
        self.monthly.refresh_from_db()
        self.assertEqual(self.monthly.status, "final")
        self.assertStatus(self.outsider, "post", url, 404, {"reason": "x"})
        self.assertStatus(self.hr, "post", url, 302, {"reason": "Customer withdrew the complaint"})
        self.monthly.refresh_from_db()
        self.assertEqual(self.monthly.status, "draft")

    def test_scorecards(self):
        card = services.scorecard_ensure_default()
        self.assertStatus(None, "get", reverse("evaluations:scorecards"), 302)
        self.assertStatus(self.agent, "get", reverse("evaluations:scorecards"), 200)
        self.login(self.agent)
        response = self.client.get(reverse("evaluations:scorecard_detail", args=[card.pk]))
        self.assertContains(response, "Patient and careful")
        self.assertStatus(self.agent, "get", reverse("evaluations:scorecard_detail", args=[99999]), 404)

    def test_scorecards_list_counts_and_its_query_count(self):
        """Issue 9: each count a subquery (two joined Counts multiplied criteria by evaluations)."""
        import re

        card = services.scorecard_ensure_default()
        url = reverse("evaluations:scorecards")
        self.login(self.hr)

        def counts(response) -> tuple[int, int]:
            found = re.search(rf'scorecards/{card.pk}/">[^<]*</a></td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
                              response.content.decode())
            assert found is not None
            return int(found[1]), int(found[2])

        with CaptureQueriesContext(connection) as few:
            response = self.client.get(url)
        few_queries = len(few.captured_queries)
        criteria = card.criteria.count()
        self.assertGreater(criteria, 1)
        self.assertEqual(counts(response), (criteria, WeeklyEvaluation.objects.filter(scorecard=card).count()))
        for week in (12, 13, 14):
            submitted_weekly(self.team_lead, self.agent_e, 2026, week)
        with self.assertNumQueries(few_queries):
            response = self.client.get(url)
        self.assertEqual(counts(response), (criteria, WeeklyEvaluation.objects.filter(scorecard=card).count()))
        self.assertEqual(counts(response)[1], 5)  # W10, the W11 draft, W12–W14

    def test_appeals_page_query_count_does_not_grow(self):
        url = reverse("evaluations:appeals")
        services.appeal_decide(actor=self.dept_head, appeal=self.appeal, decision=Appeal.Decision.UPHOLD,
                               reason="The scores stand", now=local_dt(2026, 4, 5))
        self.login(self.dept_head)
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        few_queries = len(few.captured_queries)
        for month in (1, 2):  # two more appeals, one of them decided
            ev = monthly_draft(self.agent_e, 2026, month, supervisor=self.supervisor.employee)
            services.monthly_submit(actor=self.supervisor, evaluation=ev, now=local_dt(2026, month + 1, 2))
            appeal = services.monthly_appeal(actor=self.agent, evaluation=ev, reason="too low",
                                             now=local_dt(2026, month + 1, 3))
        services.appeal_decide(actor=self.dept_head, appeal=appeal, decision=Appeal.Decision.UPHOLD,
                               reason="The scores stand", now=local_dt(2026, 3, 5))
        with self.assertNumQueries(few_queries):
            response = self.client.get(url)
        self.assertEqual(len(response.context["open_list"]), 1)
        self.assertEqual(len(response.context["page"].object_list), 2)

    def test_attachment_download_scope(self):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import override_settings

        with override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}):
            att = services.weekly_attachment_add(actor=self.team_lead, evaluation=self.draft,
                                                 upload=SimpleUploadedFile("n.pdf", b"%PDF-1.4 x"))
            url = reverse("core:attachment", args=[att.pk])
            self.assertStatus(self.team_lead, "get", url, 200)
            self.assertStatus(self.agent, "get", url, 404)  # draft
            self.assertStatus(self.outsider, "get", url, 404)
            self.assertStatus(None, "get", url, 302)
            # The edit page links the file to the core download and offers the removal.
            self.login(self.team_lead)
            page = self.client.get(reverse("evaluations:weekly_edit", args=[self.draft.pk])).content.decode()
            self.assertIn(f'href="{url}"', page)
            remove = reverse("evaluations:attachment_remove", args=[att.pk])
            self.assertIn(f'action="{remove}"', page)
            self.assertStatus(self.outsider, "post", remove, 404)
            self.assertStatus(self.agent, "post", remove, 404)  # she does not see the draft
            self.login(self.team_lead)
            self.assertRedirects(self.client.post(remove),
                                 reverse("evaluations:weekly_edit", args=[self.draft.pk]) + "#attachments",
                                 fetch_redirect_response=False)
            self.assertFalse(self.draft.attachments.exists())
            self.assertStatus(self.team_lead, "get", url, 404)


class WeeklyFormTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.agent_e = self.agent.employee
        self.ev = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent_e, iso_year=2026,
                                                   iso_week=10)
        self.call = interaction(self.agent_e, local(2026, 3, 3, 10), channel="chat", subject="退款查詢")
        self.login(self.team_lead)
        self.url = reverse("evaluations:weekly_edit", args=[self.ev.pk])

    def post_form(self, action, **extra):
        data = {"action": action, "method_chat": "on", "notes": "Listened to two chats."}
        for pk, given in scores(self.ev.scorecard).items():
            data[f"score_{pk}"] = "na" if given.na else str(given.level)
        data.update(extra)
        return self.client.post(self.url, data)

    def test_picker_lists_her_week_and_submit_needs_evidence(self):
        response = self.client.get(self.url)
        self.assertContains(response, self.call.external_id)
        response = self.post_form("submit")
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, 'data-testid="evidence-error"', status_code=422)
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, "draft")
        self.assertEqual(self.ev.notes, "Listened to two chats.")  # the draft was kept
        self.client.post(reverse("evaluations:weekly_evidence_add", args=[self.ev.pk]), {"interaction": [self.call.pk]})
        response = self.post_form("submit")
        self.assertRedirects(response, reverse("evaluations:weekly_detail", args=[self.ev.pk]))
        self.ev.refresh_from_db()
        self.assertEqual(self.ev.status, "submitted")

    def test_bad_level_keeps_what_was_typed(self):
        c = self.ev.scorecard.criteria.get(code="communication")
        response = self.post_form("save", **{f"score_{c.pk}": "9", f"comment_{c.pk}": "clear"})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, 'value="clear"', status_code=422)
        self.assertFalse(self.ev.scores.exists())

    def test_draw_adds_evidence_with_seed(self):
        interaction(self.agent_e, local(2026, 3, 4, 10))
        response = self.client.post(reverse("evaluations:weekly_evidence_draw", args=[self.ev.pk]),
                                    {"n": "1", "seed": "123"})
        self.assertEqual(response.status_code, 302)
        evidence = self.ev.evidence.get()
        self.assertEqual(evidence.draw_seed, 123)


class BoardQueryTests(KefuTestCase):
    """The board runs the same number of queries for 2 agents as for 12."""

    def add_agents(self, n):
        for i in range(n):
            make_person(f"extra{i}", f"客服{i}", self.cs1_t1, (Role.AGENT, self.cs1_t1), employee_no=f"CS19{i:02d}")

    def board_queries(self):
        self.login(self.team_lead)
        url = reverse("evaluations:weekly_board") + "?week=2026-W10"
        self.client.get(url)  # warm caches (sessions, content types)
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(ctx.captured_queries), response

    def test_query_count_does_not_grow(self):
        submitted_weekly(self.team_lead, self.agent.employee, 2026, 10)
        small, response = self.board_queries()
        self.assertContains(response, 'data-state="submitted"')
        self.add_agents(10)
        for i in range(5):
            submitted_weekly(self.team_lead, Employee.objects.get(employee_no=f"CS19{i:02d}"), 2026, 9)
        large, response = self.board_queries()
        self.assertEqual(response.content.decode().count('data-testid="board-row"'), 11)
        self.assertEqual(small, large)
        self.assertLessEqual(small, 10)  # the page's agents with their count in one query, their evaluations

    def test_pages_past_the_end_and_not_numbers(self):
        # The page's rows carry the count; a page past the end (or below 1) still shows the last page,
        # a page that is not a number the first, as Paginator.get_page does.
        self.add_agents(6)  # with the agent: 7, so 2 pages of 5
        self.login(self.team_lead)
        url = reverse("evaluations:weekly_board") + "?week=2026-W10&page="
        with mock.patch.object(views, "PER_PAGE", 5):
            for page, rows, label in (("", 5, "Page 1 of 2"), ("2", 2, "Page 2 of 2"), ("9", 2, "Page 2 of 2"),
                                      ("0", 2, "Page 2 of 2"), ("abc", 5, "Page 1 of 2")):
                body = self.client.get(url + page, headers={"accept-language": "en"}).content.decode()
                self.assertEqual(body.count('data-testid="board-row"'), rows, page)
                self.assertIn(label, body, page)

    def test_cells_states(self):
        today = timezone.localdate()
        this_monday = today - datetime.timedelta(days=today.weekday())
        iso = this_monday.isocalendar()
        self.login(self.team_lead)
        response = self.client.get(reverse("evaluations:weekly_board"))
        body = response.content.decode()
        self.assertIn(f'data-week="{iso.year}-W{iso.week:02d}" data-state="due"', body)
        last = (this_monday - datetime.timedelta(days=7)).isocalendar()
        self.assertIn(f'data-week="{last.year}-W{last.week:02d}" data-state="late"', body)

    def test_agent_who_left_the_role_is_not_listed(self):
        RoleAssignment.objects.filter(user=self.agent, role=Role.AGENT).update(end_date=START)
        self.login(self.team_lead)
        response = self.client.get(reverse("evaluations:weekly_board"))
        self.assertContains(response, 'data-testid="empty-state"')


class ScorecardEditPageTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.card = services.scorecard_ensure_default()
        self.url = reverse("evaluations:scorecard_edit", args=[self.card.pk])

    def form_data(self, **changes):
        self.login(self.hr)
        data = {"description": self.card.description, "reason": "wording"}
        for c in self.card.criteria.all():
            data[f"c{c.pk}_name"] = c.name
            data[f"c{c.pk}_description"] = c.description
            if c.critical:
                data[f"c{c.pk}_critical"] = "on"
                data[f"c{c.pk}_fail"] = str(c.fail_at_or_below)
            if c.allow_na:
                data[f"c{c.pk}_allow_na"] = "on"
            for lv in c.levels:
                data[f"c{c.pk}_level{lv['level']}"] = lv["description"]
        data.update(changes)
        return data

    def test_access(self):
        self.assertStatus(None, "get", self.url, 302)
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 200)
        for user in (self.agent, self.team_lead, self.dept_head):
            self.assertStatus(user, "get", self.url, 403)
        self.assertStatus(self.hr, "get", reverse("evaluations:scorecard_edit", args=[9999]), 404)

    def test_edit_of_used_scorecard_makes_version_two(self):
        submitted_weekly(self.team_lead, self.agent.employee, 2026, 10)
        comm = self.card.criteria.get(code="communication")
        response = self.client.post(self.url, self.form_data(**{f"c{comm.pk}_name": "溝通技巧"}))
        from kefu.evaluations.models import Scorecard

        new = Scorecard.objects.get(name="E1", version=2)
        self.assertRedirects(response, reverse("evaluations:scorecard_detail", args=[new.pk]))
        self.assertEqual(new.criteria.get(code="communication").name, "溝通技巧")
        self.assertEqual(self.card.criteria.get(code="communication").name, "Communication")
        # the old version can no longer be edited
        self.assertStatus(self.hr, "get", self.url, 302)

    def test_bad_fail_level_reported_and_nothing_saved(self):
        patient = self.card.criteria.get(code="patient_careful")
        response = self.client.post(self.url, self.form_data(**{f"c{patient.pk}_fail": "5"}))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, 'data-testid="form-errors"', status_code=422)
        patient.refresh_from_db()
        self.assertEqual(patient.fail_at_or_below, 1)
