"""The policy parameter pages: the list by clause, one parameter's history, and setting a value."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core import policy, services
from kefu.core.models import AuditEntry, PolicyValue
from kefu.people.testing import KefuTestCase

LIST = reverse("core:policy")


def detail(key: str) -> str:
    return reverse("core:policy_detail", args=[key])


class PolicyPageTestCase(KefuTestCase):
    readers = ("team_lead", "supervisor", "dept_head", "admin_clerk", "hr", "inspector", "leadership", "sysadmin",
               "outsider")

    def setUp(self):
        self.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def set(self, key, value, on, note="set in a test"):
        return services.policy_set(key=key, value=value, effective_from=on, actor=self.sysadmin, note=note)


class PolicyAccessTests(PolicyPageTestCase):
    def test_anonymous_is_sent_to_login(self):
        for url in (LIST, detail("sla.resolution_days")):
            self.assertRedirects(self.client.get(url), f"{reverse('login')}?next={url}", fetch_redirect_response=False)
        self.client.post(detail("sla.resolution_days"), {"effective_from": "2099-01-01", "value": "9"})
        self.assertFalse(PolicyValue.objects.exists())

    def test_agents_are_refused(self):
        for agent in (self.agent, self.other_agent, self.teammate_other_team):
            self.assertStatus(agent, "get", LIST, 403)
            self.assertStatus(agent, "get", detail("sla.resolution_days"), 403)

    def test_every_other_role_reads(self):
        for name in self.readers:
            self.assertStatus(getattr(self, name), "get", LIST, 200)
            self.assertStatus(getattr(self, name), "get", detail("sla.resolution_days"), 200)

    def test_unknown_parameter_is_not_found(self):
        self.assertStatus(self.sysadmin, "get", detail("no.such.parameter"), 404)

    def test_only_the_system_admin_may_set(self):
        data = {"effective_from": "2099-01-01", "value": "9", "note": ""}
        for name in self.readers:
            if name != "sysadmin":
                self.assertStatus(getattr(self, name), "post", detail("sla.resolution_days"), 403, data)
        self.assertStatus(self.agent, "post", detail("sla.resolution_days"), 403, data)
        self.assertFalse(PolicyValue.objects.exists())
        self.assertStatus(self.sysadmin, "post", detail("sla.resolution_days"), 302, data)
        self.assertEqual(PolicyValue.objects.get().value, 9)

    def test_form_shown_only_to_the_system_admin(self):
        self.login(self.hr)
        self.assertNotContains(self.client.get(detail("sla.resolution_days")), 'data-testid="policy-form"')
        self.login(self.sysadmin)
        self.assertContains(self.client.get(detail("sla.resolution_days")), 'data-testid="policy-form"')

    def test_navigation_entry_for_readers_only(self):
        self.login(self.supervisor)
        self.assertContains(self.client.get(reverse("core:workbench")), f'href="{LIST}"')
        self.login(self.agent)
        self.assertNotContains(self.client.get(reverse("core:workbench")), f'href="{LIST}"')


class PolicyListTests(PolicyPageTestCase):
    def test_every_parameter_is_listed_under_its_clause(self):
        self.login(self.hr)
        response = self.client.get(LIST)
        html = response.content.decode()
        for key, param in policy.PARAMETERS.items():
            self.assertIn(f'data-key="{key}"', html)
            self.assertIn(f'data-testid="policy-clause-{param.clause}"', html)
        # Clauses in POLICY.md order: evaluation (§2) before uniforms (§3) before supervision (§4).
        self.assertLess(html.index('policy-clause-E1.3"'), html.index('policy-clause-E2.2"'))
        self.assertLess(html.index('policy-clause-E3.3"'), html.index('policy-clause-U1.2"'))
        self.assertLess(html.index('policy-clause-U4.1"'), html.index('policy-clause-S2"'))
        self.assertLess(html.index('policy-clause-S2"'), html.index('policy-clause-S3"'))

    def row_html(self, html: str, key: str) -> str:
        start = html.index(f'data-key="{key}"')
        return html[start:html.index("</li>", start)]

    def test_current_and_scheduled_values(self):
        today = timezone.localdate()
        self.set("inspections.rectification_days", "20", today - datetime.timedelta(days=10))
        self.set("inspections.rectification_days", "25", today + datetime.timedelta(days=30))
        self.login(self.hr)
        html = self.client.get(LIST).content.decode()
        row = self.row_html(html, "inspections.rectification_days")
        self.assertIn('<span class="fw-semibold">20</span> <span class="text-muted">days</span>', row)
        self.assertIn('data-testid="policy-scheduled"', row)
        self.assertIn('<span class="fw-semibold">25</span>', row)
        # An untouched parameter shows its POLICY.md default: U2.1, 2 sets.
        row = self.row_html(html, "uniforms.sets_per_new_hire")
        self.assertIn('<span class="fw-semibold">2</span> <span class="text-muted">sets</span>', row)
        self.assertIn("default", row)
        self.assertNotIn("policy-scheduled", row)

    def test_parts_are_shown_with_their_labels(self):
        self.login(self.hr)
        row = self.row_html(self.client.get(LIST).content.decode(), "evaluation.monthly_weights")
        self.assertIn('Service attitude <span class="fw-semibold">30</span>', row)
        self.assertIn('Teamwork <span class="fw-semibold">20</span>', row)

    def test_queries_do_not_grow_with_values(self):
        self.login(self.hr)
        with CaptureQueriesContext(connection) as ctx:
            self.assertEqual(self.client.get(LIST).status_code, 200)
        base = datetime.date(2024, 1, 1)
        for i, key in enumerate(["sla.resolution_days", "procurement.min_quotes", "annual.min_population"]):
            for months in range(6):
                self.set(key, str(5 + i + months), base + datetime.timedelta(days=31 * months))
        self.set("annual.weights", {"monthly": "50", "satisfaction": "25", "achievements": "25"}, datetime.date(2099, 1, 1))
        with self.assertNumQueries(len(ctx.captured_queries)):
            self.client.get(LIST)


class PolicyDetailTests(PolicyPageTestCase):
    def test_history_lists_every_value_with_who_and_note(self):
        today = timezone.localdate()
        self.set("coaching.monthly_trigger", "55", today - datetime.timedelta(days=100), note="Softer first")
        self.set("coaching.monthly_trigger", "65", today + datetime.timedelta(days=5), note="Stricter next")
        self.login(self.inspector)
        response = self.client.get(detail("coaching.monthly_trigger"))
        html = response.content.decode()
        self.assertEqual(html.count('data-testid="policy-history-row"'), 2)
        self.assertIn("Softer first", html)
        self.assertIn("Stricter next", html)
        self.assertIn("孫浩然", html)  # set by the system admin, by name
        self.assertLess(html.index("Stricter next"), html.index("Softer first"))  # newest date first
        self.assertIn("scheduled", html)
        self.assertIn("in force", html)
        self.assertIn('<span class="fw-semibold">55</span>', html.split('data-testid="policy-current"')[1][:200])

    def test_default_in_force_without_values(self):
        self.login(self.hr)
        response = self.client.get(detail("uniforms.renewal_years"))
        self.assertContains(response, "Before any value")
        self.assertNotContains(response, 'data-testid="policy-history-row"')

    def test_history_queries_do_not_grow_with_values(self):
        self.login(self.hr)
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(detail("sla.resolution_days"))
        for months in range(12):
            self.set("sla.resolution_days", str(2 + months), datetime.date(2024, 1, 1) + datetime.timedelta(days=31 * months))
        with self.assertNumQueries(len(ctx.captured_queries)):
            self.client.get(detail("sla.resolution_days"))


class PolicySetFormTests(PolicyPageTestCase):
    future = "2099-01-01"

    def setUp(self):
        super().setUp()
        self.login(self.sysadmin)

    def post(self, key, data):
        return self.client.post(detail(key), data)

    def assertNothingSaved(self):
        self.assertFalse(PolicyValue.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())

    def test_sets_a_value_with_an_audit_entry(self):
        response = self.post("sla.first_reply_hours", {"effective_from": self.future, "value": "1.5", "note": "Faster"})
        self.assertRedirects(response, detail("sla.first_reply_hours"), fetch_redirect_response=False)
        row = PolicyValue.objects.get()
        self.assertEqual((row.key, row.value, row.effective_from), ("sla.first_reply_hours", "1.5", datetime.date(2099, 1, 1)))
        self.assertEqual(policy.get("sla.first_reply_hours", on=datetime.date(2099, 1, 1)), Decimal("1.5"))
        entry = AuditEntry.objects.get()
        self.assertEqual((entry.action, entry.actor, entry.reason), ("policy.set", self.sysadmin, "Faster"))
        self.assertContains(self.client.get(detail("sla.first_reply_hours")), "Saved.")

    def test_text_in_a_number_is_named_by_the_field(self):
        response = self.post("sla.first_reply_hours", {"effective_from": self.future, "value": "two hours"})
        self.assertEqual(response.status_code, 200)
        self.assertRegex(response.content.decode(), r'(?s)id="id_value".*?invalid-feedback d-block">Enter a number.<')
        self.assertNothingSaved()

    def test_weights_not_adding_to_100_are_refused(self):
        data = {"effective_from": self.future, "part_attitude": "40", "part_ability": "30",
                "part_efficiency": "20", "part_teamwork": "20"}
        response = self.post("evaluation.monthly_weights", data)
        self.assertContains(response, "The parts must add up to 100; they add up to 110.")
        self.assertContains(response, 'data-testid="parts-errors"')
        self.assertNothingSaved()

    def test_a_bad_part_is_shown_by_its_input(self):
        data = {"effective_from": self.future, "part_attitude": "30", "part_ability": "abc",
                "part_efficiency": "20", "part_teamwork": "20"}
        response = self.post("evaluation.monthly_weights", data)
        self.assertRegex(response.content.decode(),
                         r'(?s)id="id_part_ability".*?invalid-feedback d-block">Business ability: Enter a number.<')
        self.assertNothingSaved()

    def test_parts_that_add_up_are_saved(self):
        data = {"effective_from": self.future, "part_attitude": "25", "part_ability": "35",
                "part_efficiency": "20", "part_teamwork": "20"}
        self.assertEqual(self.post("evaluation.monthly_weights", data).status_code, 302)
        self.assertEqual(policy.get("evaluation.monthly_weights", on=datetime.date(2099, 1, 1)),
                         {"attitude": 25, "ability": 35, "efficiency": 20, "teamwork": 20})

    def test_thresholds_out_of_order_are_refused(self):
        data = {"effective_from": self.future, "part_excellent": "80", "part_good": "80", "part_pass": "60"}
        self.assertContains(self.post("annual.thresholds", data), "Thresholds must fall")
        self.assertNothingSaved()

    def test_choice_is_a_select(self):
        self.assertContains(self.client.get(detail("annual.quota_rounding")), '<select name="value"')
        response = self.post("annual.quota_rounding", {"effective_from": self.future, "value": "whatever"})
        self.assertContains(response, "Select a valid choice.")
        self.assertNothingSaved()
        self.post("annual.quota_rounding", {"effective_from": self.future, "value": "lenient"})
        self.assertEqual(PolicyValue.objects.get().value, "lenient")

    def test_past_date_needs_a_note_and_warns(self):
        past = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
        response = self.post("procurement.min_quotes", {"effective_from": past, "value": "4"})
        self.assertRegex(response.content.decode(),
                         r'(?s)id="id_note".*?invalid-feedback d-block">A value effective in the past needs a note')
        self.assertNothingSaved()
        response = self.post("procurement.min_quotes", {"effective_from": past, "value": "4", "note": "Late decision"},)
        self.assertEqual(response.status_code, 302)
        self.assertContains(self.client.get(detail("procurement.min_quotes")), "were not recomputed")

    def test_missing_date_is_named(self):
        response = self.post("procurement.min_quotes", {"effective_from": "", "value": "4"})
        self.assertRegex(response.content.decode(), r'(?s)id="id_effective_from".*?This field is required.')
        self.assertNothingSaved()

    def test_form_starts_from_the_value_in_force(self):
        self.set("annual.weights", {"monthly": "50", "satisfaction": "30", "achievements": "20"},
                 timezone.localdate() - datetime.timedelta(days=1))
        html = self.client.get(detail("annual.weights")).content.decode()
        self.assertRegex(html, r'name="part_monthly" value="50"')
        self.assertRegex(html, r'name="part_satisfaction" value="30"')
