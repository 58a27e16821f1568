"""Policy parameters: effective dating, validation and ``services.policy_set`` (POLICY.md, last table)."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kefu.core import policy, services
from kefu.core.models import AuditEntry, PolicyValue
from kefu.people.testing import KefuTestCase

D = Decimal


class PolicyGetTests(KefuTestCase):
    def set(self, key, value, on, note="set in a test"):
        return services.policy_set(key=key, value=value, effective_from=on, actor=self.sysadmin, note=note)

    def test_default_before_any_value(self):
        # POLICY.md defaults: E1.3 first reply 2 working hours; U2.1 two sets; E2.2 weights 30/30/20/20.
        self.assertEqual(policy.get("sla.first_reply_hours", on=datetime.date(2025, 1, 1)), D("2"))
        self.assertEqual(policy.get("uniforms.sets_per_new_hire", on=datetime.date(2025, 1, 1)), 2)
        self.assertEqual(
            policy.get("evaluation.monthly_weights", on=datetime.date(2025, 1, 1)),
            {"attitude": 30, "ability": 30, "efficiency": 20, "teamwork": 20},
        )

    def test_new_value_applies_from_its_date_and_the_old_one_before(self):
        # policy E2.3: excellent at most [X] %, here changed from the default 20 to 15 from 1 July 2025.
        self.set("annual.excellent_max_pct", "15", datetime.date(2025, 7, 1))
        self.assertEqual(policy.get("annual.excellent_max_pct", on=datetime.date(2025, 6, 30)), D(20))
        self.assertEqual(policy.get("annual.excellent_max_pct", on=datetime.date(2025, 7, 1)), D(15))
        self.assertEqual(policy.get("annual.excellent_max_pct", on=datetime.date(2030, 1, 1)), D(15))
        self.set("annual.excellent_max_pct", "12.5", datetime.date(2026, 1, 1))
        self.assertEqual(policy.get("annual.excellent_max_pct", on=datetime.date(2025, 12, 31)), D(15))
        self.assertEqual(policy.get("annual.excellent_max_pct", on=datetime.date(2026, 1, 1)), D("12.5"))

    def test_get_refuses_an_instant(self):
        with self.assertRaises(TypeError):
            policy.get("sla.resolution_days", on=timezone.now())

    def test_unknown_parameter(self):
        with self.assertRaises(policy.UnknownParameter):
            policy.get("no.such.thing", on=datetime.date(2025, 1, 1))

    def test_current_values_in_one_query_match_get(self):
        self.set("sla.resolution_days", "4", datetime.date(2025, 1, 1))
        self.set("sla.resolution_days", "5", datetime.date(2025, 6, 1))
        self.set("annual.thresholds", {"excellent": "92", "good": "80", "pass": "60"}, datetime.date(2025, 3, 1))
        on = datetime.date(2025, 5, 31)
        with self.assertNumQueries(1):
            values = policy.current_values(on=on)
        self.assertEqual(set(values), set(policy.PARAMETERS))
        self.assertEqual(values["sla.resolution_days"], 4)
        self.assertEqual(values["annual.thresholds"], {"excellent": 92, "good": 80, "pass": 60})
        self.assertEqual(values["uniforms.sets_per_new_hire"], 2)
        for key in policy.PARAMETERS:
            self.assertEqual(values[key], policy.get(key, on=on), key)

    def test_overview_names_the_scheduled_values(self):
        self.set("procurement.min_quotes", "4", datetime.date(2025, 1, 1))
        self.set("procurement.min_quotes", "5", datetime.date(2025, 9, 1))
        self.set("procurement.min_quotes", "6", datetime.date(2026, 1, 1))
        state = policy.overview(on=datetime.date(2025, 8, 31))["procurement.min_quotes"]
        self.assertEqual(state.value, 4)
        self.assertEqual(state.current.effective_from, datetime.date(2025, 1, 1))
        self.assertEqual([r.effective_from for r in state.scheduled], [datetime.date(2025, 9, 1), datetime.date(2026, 1, 1)])
        self.assertEqual(state.next_value, 5)


class PolicySetTests(KefuTestCase):
    future = datetime.date(2099, 1, 1)

    def setUp(self):
        self.enterContext(translation.override("en"))

    def assertRejected(self, key, value, field, *fragments, on=None, note=""):
        with self.assertRaises(ValidationError) as caught:
            services.policy_set(key=key, value=value, effective_from=on or self.future, actor=self.sysadmin, note=note)
        messages = caught.exception.message_dict.get(field, [])
        self.assertTrue(messages, caught.exception.message_dict)
        for fragment in fragments:
            self.assertTrue(any(fragment in m for m in messages), messages)
        self.assertFalse(PolicyValue.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())

    def test_set_writes_a_row_and_an_audit_entry(self):
        row = services.policy_set(key="uniforms.sets_per_new_hire", value="3", effective_from=self.future,
                                  actor=self.sysadmin, note="Three sets from 2099")
        self.assertEqual((row.value, row.created_by, row.note), (3, self.sysadmin, "Three sets from 2099"))
        entry = AuditEntry.objects.get()
        self.assertEqual((entry.action, entry.actor, entry.reason), ("policy.set", self.sysadmin, "Three sets from 2099"))
        self.assertEqual(entry.changes["value"], [None, 3])
        self.assertEqual(entry.changes["effective_from"], [None, "2099-01-01"])

    def test_same_date_replaces_the_value_and_logs_both(self):
        services.policy_set(key="sla.resolution_days", value="4", effective_from=self.future, actor=self.sysadmin)
        services.policy_set(key="sla.resolution_days", value="5", effective_from=self.future, actor=self.sysadmin,
                            note="corrected")
        self.assertEqual(PolicyValue.objects.get().value, 5)
        second = AuditEntry.objects.order_by("id").last()
        self.assertEqual(second.changes, {"value": [4, 5], "note": ["", "corrected"]})

    def test_thresholds_must_fall(self):
        # E2.3 grades: excellent above good above pass.
        self.assertRejected("annual.thresholds", {"excellent": "80", "good": "85", "pass": "60"}, "value",
                            "excellent above good above pass")
        self.assertRejected("annual.thresholds", {"excellent": "90", "good": "60", "pass": "60"}, "value",
                            "excellent above good above pass")

    def test_weights_must_add_up_to_100(self):
        # E2.2: attitude 30, ability 30, efficiency 20, teamwork 20 = 100; here 30+30+20+30 = 110.
        self.assertRejected("evaluation.monthly_weights",
                            {"attitude": "30", "ability": "30", "efficiency": "20", "teamwork": "30"},
                            "value", "100", "110")

    def test_a_bad_part_is_named(self):
        self.assertRejected("annual.weights", {"monthly": "sixty", "satisfaction": "20", "achievements": "20"},
                            "value", "Monthly results", "Enter a number.")

    def test_a_missing_part_is_named(self):
        self.assertRejected("annual.weights", {"monthly": "80", "satisfaction": "20"}, "value", "Work achievements")

    def test_text_in_a_number_and_limits(self):
        self.assertRejected("sla.first_reply_hours", "two", "value", "Enter a number.")
        self.assertRejected("uniforms.sets_per_new_hire", "2.5", "value", "Enter a whole number.")
        self.assertRejected("annual.fail_min_pct", "101", "value", "100")
        self.assertRejected("sla.first_reply_hours", "0.1", "value", "0.25")

    def test_choice_must_be_listed(self):
        self.assertRejected("annual.quota_rounding", "sometimes", "value", "Choose one of the listed values.")
        row = services.policy_set(key="annual.quota_rounding", value="lenient", effective_from=self.future,
                                  actor=self.sysadmin)
        self.assertEqual(row.value, "lenient")

    def test_past_date_needs_a_note(self):
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        self.assertRejected("procurement.min_quotes", "4", "note", on=yesterday)
        self.assertRejected("procurement.min_quotes", "4", "note", on=yesterday, note="   ")
        row = services.policy_set(key="procurement.min_quotes", value="4", effective_from=yesterday,
                                  actor=self.sysadmin, note="Board decision of last week")
        self.assertEqual(row.effective_from, yesterday)

    def test_today_and_later_need_no_note(self):
        today = timezone.localdate()
        services.policy_set(key="procurement.min_quotes", value="4", effective_from=today, actor=self.sysadmin)
        self.assertEqual(policy.get("procurement.min_quotes", on=today), 4)
