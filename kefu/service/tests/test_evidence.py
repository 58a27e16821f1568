"""The evidence picker for the weekly evaluation (policy E2.1; issue 3 item 6)."""

from __future__ import annotations

import random

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.core.models import AuditEntry
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase
from kefu.service import evidence
from kefu.service.evidence import EvidenceFilters
from kefu.service.kpis import parse_period
from kefu.service.models import EvidenceDraw, Interaction, SlaStored
from kefu.service.tests.builders import answer, interaction, local

MET, BREACHED, PENDING = SlaStored.MET, SlaStored.BREACHED, SlaStored.PENDING
W10 = parse_period("2026-W10")  # Monday 2 – Sunday 8 March 2026
NOW = local(2026, 3, 20, 12)


class EvidenceData(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        A = cls.a = Employee.objects.get(employee_no="CS1001")
        B = cls.b = Employee.objects.get(employee_no="CS1005")
        cls.rows = {}

        def add(name, who, when, **kw):
            cls.rows[name] = interaction(who, when, external_id=name, **kw)

        add("phone-ok", A, local(2026, 3, 2, 9, 30), channel="phone", fr=MET, res=MET)
        add("chat-ok", A, local(2026, 3, 2, 14), channel="chat", fr=MET, res=MET)
        add("chat-late", A, local(2026, 3, 3, 10), channel="chat", fr=BREACHED, res=MET)
        add("email-complaint", A, local(2026, 3, 4, 10), channel="email", kind="complaint", fr=MET, res=BREACHED)
        add("phone-complaint", A, local(2026, 3, 5, 10), channel="phone", kind="complaint", fr=MET, res=MET)
        # Still open at NOW, due before it: overdue — a breach in progress.
        add("phone-overdue", A, local(2026, 3, 6, 10), channel="phone", fr=MET, res=PENDING,
            res_due=local(2026, 3, 11, 18))
        # Open and not yet due at NOW.
        add("email-open", A, local(2026, 3, 8, 22), channel="email", fr=PENDING, res=PENDING,
            fr_due=local(2026, 3, 30, 11), res_due=local(2026, 3, 31, 18))
        add("next-week", A, local(2026, 3, 9, 10), channel="phone", fr=MET, res=MET)
        add("b-own", B, local(2026, 3, 3, 10), channel="phone", fr=MET, res=MET)
        # B's interaction that A resolved: part of A's week too.
        add("b-resolved-by-a", B, local(2026, 3, 4, 15), channel="chat", resolver=A, fr=MET, res=MET)
        answer(cls.rows["chat-ok"], 5, local(2026, 3, 3, 9))
        answer(cls.rows["chat-late"], 2, local(2026, 3, 4, 9))
        answer(cls.rows["phone-complaint"], 1, local(2026, 3, 6, 9))
        answer(cls.rows["b-resolved-by-a"], 3, local(2026, 3, 5, 9))

    def names(self, qs) -> set[str]:
        return set(qs.values_list("external_id", flat=True))


class EvidenceSelectorTests(EvidenceData):
    def test_her_week(self):
        self.assertEqual(self.names(evidence.evidence_interactions(self.a, W10, EvidenceFilters(), now=NOW)), {
            "phone-ok", "chat-ok", "chat-late", "email-complaint", "phone-complaint", "phone-overdue", "email-open",
            "b-resolved-by-a",
        })

    def test_filters(self):
        def pick(**kw):
            return self.names(evidence.evidence_interactions(self.a, W10, EvidenceFilters(**kw), now=NOW))

        self.assertEqual(pick(channel="chat"), {"chat-ok", "chat-late", "b-resolved-by-a"})
        self.assertEqual(pick(complaints=True), {"email-complaint", "phone-complaint"})
        self.assertEqual(pick(low_rating=True), {"chat-late", "phone-complaint"})  # 2 and 1 stars
        self.assertEqual(pick(breaches=True), {"chat-late", "email-complaint", "phone-overdue"})
        self.assertEqual(pick(channel="phone", complaints=True, low_rating=True), {"phone-complaint"})
        self.assertEqual(pick(channel="email", low_rating=True), set())

    def test_overdue_is_judged_at_the_given_time(self):
        before_due = local(2026, 3, 11, 12)
        self.assertEqual(self.names(evidence.evidence_interactions(
            self.a, W10, EvidenceFilters(breaches=True), now=before_due)), {"chat-late", "email-complaint"})

    def test_filters_from_a_form(self):
        filters = EvidenceFilters.from_data({"channel": "chat", "complaints": "1", "low_rating": "", "breaches": "on"})
        self.assertEqual(filters.as_dict(), {"channel": "chat", "complaints": True, "breaches": True})
        with self.assertRaises(ValidationError) as caught:
            EvidenceFilters.from_data({"channel": "fax"})
        self.assertIn("channel", caught.exception.message_dict)


class EvidenceDrawTests(EvidenceData):
    def test_a_draw_repeats_with_its_seed(self):
        draw = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, filters=EvidenceFilters(),
                                      n=3, now=NOW)
        self.assertEqual(len(draw.chosen_ids), 3)
        week_ids = set(evidence.evidence_interactions(self.a, W10, EvidenceFilters(), now=NOW).values_list("pk", flat=True))
        self.assertLessEqual(set(draw.chosen_ids), week_ids)
        self.assertEqual(draw.chosen_ids, sorted(draw.chosen_ids))
        self.assertEqual(evidence.replay(draw), draw.chosen_ids)
        # Another evaluator, later, with the same seed and filters: the same interactions.
        again = evidence.evidence_draw(actor=self.supervisor, agent=self.a, period=W10, filters=EvidenceFilters(),
                                       n=3, seed=draw.seed, now=local(2026, 3, 25, 9))
        self.assertEqual(again.chosen_ids, draw.chosen_ids)
        self.assertNotEqual(again.pk, draw.pk)
        # The documented method: random.Random(seed).sample over the sorted candidate ids.
        self.assertEqual(sorted(random.Random(draw.seed).sample(sorted(week_ids), 3)), draw.chosen_ids)
        entry = AuditEntry.objects.get(action="evidence.draw", object_id=str(draw.pk))
        self.assertEqual(entry.changes["seed"], [None, draw.seed])

    def test_seeds_choose_differently_and_stay_within_the_filters(self):
        chosen = set()
        for seed in range(1, 40):
            draw = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=2, seed=seed,
                                          filters=EvidenceFilters(breaches=True), now=NOW)
            self.assertLessEqual({Interaction.objects.get(pk=i).external_id for i in draw.chosen_ids},
                                 {"chat-late", "email-complaint", "phone-overdue"})
            chosen.add(tuple(draw.chosen_ids))
        self.assertEqual(len(chosen), 3)  # all three pairs of the three breaches come up

    def test_asking_for_more_than_there_are_gives_them_all(self):
        draw = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=10, seed=7,
                                      filters=EvidenceFilters(complaints=True), now=NOW)
        self.assertEqual({Interaction.objects.get(pk=i).external_id for i in draw.chosen_ids},
                         {"email-complaint", "phone-complaint"})

    def test_changed_data_shows_on_replay(self):
        draw = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=2, seed=11,
                                      filters=EvidenceFilters(), now=NOW)
        Interaction.objects.filter(pk=draw.chosen_ids[0]).update(local_date=local(2026, 3, 9).date())
        self.assertNotEqual(evidence.replay(draw), draw.chosen_ids)

    def test_bad_requests(self):
        for kwargs, field in [({"n": 0}, "n"), ({"n": 51}, "n"), ({"n": 2, "seed": -1}, "seed"),
                              ({"n": 2, "period": parse_period("2026-03")}, "week")]:
            with self.subTest(kwargs=kwargs), self.assertRaises(ValidationError) as caught:
                evidence.evidence_draw(actor=self.team_lead, agent=self.a, filters=EvidenceFilters(), now=NOW,
                                       **({"period": W10} | kwargs))
            self.assertIn(field, caught.exception.message_dict)
        with self.assertRaises(ValidationError):  # nothing matches
            evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=parse_period("2026-W20"), n=2,
                                   filters=EvidenceFilters(), now=NOW)
        with self.assertRaises(PermissionDenied):  # not her team
            evidence.evidence_draw(actor=self.team_lead, agent=self.b, period=W10, n=2,
                                   filters=EvidenceFilters(), now=NOW)
        self.assertFalse(EvidenceDraw.objects.exists())

    def test_a_double_click_is_one_draw(self):
        first = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=3,
                                       filters=EvidenceFilters(), now=NOW)
        second = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=3,
                                        filters=EvidenceFilters(), now=NOW)
        self.assertEqual(first.pk, second.pk)
        other_filters = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=3,
                                               filters=EvidenceFilters(channel="chat"), now=NOW)
        self.assertNotEqual(other_filters.pk, first.pk)


class EvidencePageTests(EvidenceData):
    def url(self, employee_no="CS1001"):
        return reverse("service:evidence", args=[employee_no])

    def test_access(self):
        self.assertStatus(self.team_lead, "get", self.url(), 200)
        self.assertStatus(self.supervisor, "get", self.url(), 200)
        self.assertStatus(self.supervisor, "get", self.url("CS1005"), 200)
        self.assertStatus(self.team_lead, "get", self.url("CS1005"), 404)  # another team
        self.assertStatus(self.outsider, "get", self.url(), 404)  # CS2's supervisor
        self.assertStatus(self.team_lead, "get", self.url("CS1002"), 404)  # herself: she is not her own evaluator
        for user in (self.agent, self.hr, self.dept_head, self.admin_clerk):
            with self.subTest(user=user.username):
                self.assertStatus(user, "get", self.url(), 403)
                self.assertStatus(user, "get", reverse("service:evidence_index"), 403)
                self.assertStatus(user, "post", reverse("service:evidence_draw", args=["CS1001"]), 403,
                                  {"week": "2026-W10", "n": "2"})
        self.assertStatus(self.team_lead, "post", reverse("service:evidence_draw", args=["CS1005"]), 404,
                          {"week": "2026-W10", "n": "2"})
        self.client.logout()
        self.assertEqual(self.client.get(self.url()).status_code, 302)
        self.assertFalse(EvidenceDraw.objects.exists())

    def test_index_lists_whom_she_evaluates(self):
        self.login(self.supervisor)
        response = self.client.get(reverse("service:evidence_index"), {"week": "2026-W10"})
        agents = [e.employee_no for e in response.context["page"].object_list]
        self.assertEqual(agents, ["CS1001", "CS1005"])  # the agents of her department, by team

    def test_index_query_count_does_not_grow_with_the_agents(self):
        """Issue 9: the index reads as many queries for 2 agents as for 8, in both of her teams."""
        from kefu.people.models import Role
        from kefu.people.testing import make_person

        url = reverse("service:evidence_index")
        self.login(self.supervisor)
        self.client.get(url, {"week": "2026-W10"})  # warm the session
        with CaptureQueriesContext(connection) as few:
            self.client.get(url, {"week": "2026-W10"})
        for i in range(6):
            team = self.cs1_t1 if i % 2 else self.cs1_t2
            make_person(f"ev{i}", f"客服{i}", team, (Role.AGENT, team), employee_no=f"CS17{i:02d}")
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get(url, {"week": "2026-W10"})
        self.assertEqual(len(response.context["page"].object_list), 2 + 6)

    def test_page_lists_the_filtered_week(self):
        self.login(self.team_lead)
        response = self.client.get(self.url(), {"week": "2026-W10", "channel": "chat"})
        self.assertEqual({i.external_id for i in response.context["page"].object_list},
                         {"chat-ok", "chat-late", "b-resolved-by-a"})
        self.assertContains(response, 'data-testid="evidence-row"', count=3)
        response = self.client.get(self.url(), {"week": "2026-03"})
        self.assertContains(response, 'data-testid="evidence-error"')

    def test_draw_through_the_page_and_repeat_it_by_seed(self):
        self.login(self.team_lead)
        response = self.client.post(reverse("service:evidence_draw", args=["CS1001"]),
                                    {"week": "2026-W10", "n": "2", "complaints": "1"})
        draw = EvidenceDraw.objects.get()
        self.assertEqual(draw.filters, {"complaints": True})
        self.assertEqual((draw.iso_year, draw.iso_week, draw.n), (2026, 10, 2))
        self.assertRedirects(response, f"{self.url()}?week=2026-W10&complaints=1&draw={draw.pk}")
        page = self.client.get(response["Location"])
        self.assertContains(page, str(draw.seed))
        self.assertContains(page, 'data-testid="drawn-table"')
        self.assertEqual(page.context["repeats"], True)
        response = self.client.post(reverse("service:evidence_draw", args=["CS1001"]),
                                    {"week": "2026-W10", "n": "2", "complaints": "1", "seed": str(draw.seed)})
        again = EvidenceDraw.objects.exclude(pk=draw.pk).get()
        self.assertEqual(again.chosen_ids, draw.chosen_ids)

    def test_bad_draw_requests_say_why(self):
        self.login(self.team_lead)
        for data in [{"week": "2026-W10", "n": "0"}, {"week": "2026-W10", "n": "x"},
                     {"week": "2026-W10", "n": "2", "seed": "abc"}, {"week": "2026-W10", "n": "2", "channel": "fax"}]:
            with self.subTest(data=data):
                response = self.client.post(reverse("service:evidence_draw", args=["CS1001"]), data, follow=True)
                self.assertContains(response, "alert-danger")
        self.assertFalse(EvidenceDraw.objects.exists())

    def test_query_count_does_not_grow(self):
        self.login(self.team_lead)
        draw = evidence.evidence_draw(actor=self.team_lead, agent=self.a, period=W10, n=3, seed=5,
                                      filters=EvidenceFilters(), now=NOW)
        params = {"week": "2026-W10", "draw": draw.pk}
        self.client.get(self.url(), params)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.url(), params)
        for n in range(40):
            i = interaction(self.a, local(2026, 3, 2 + n % 6, 10), channel="chat", fr=MET, res=MET)
            answer(i, 1 + n % 5, local(2026, 3, 9, 10))
        for seed in range(6, 12):
            evidence.evidence_draw(actor=self.supervisor, agent=self.a, period=W10, n=5, seed=seed,
                                   filters=EvidenceFilters(), now=NOW)
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(self.url(), params)
