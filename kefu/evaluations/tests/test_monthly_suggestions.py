"""The monthly suggestion arithmetic and the point rules (policy E2.2), worked out by hand."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.core import services as core_services
from kefu.evaluations import monthly
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.monthly import MonthRules, round_to_step, sla_rate_pct, suggest
from kefu.people.testing import KefuTestCase

D = Decimal
DEFAULT = MonthRules(on=datetime.date(2026, 3, 31),
                     weights={"attitude": D(30), "ability": D(30), "efficiency": D(20), "teamwork": D(20)},
                     sla_share_pct=D(50), reason_threshold=D(3), step=D("0.5"))


@pytest.mark.parametrize(("value", "step", "expected"), [
    (D("25.5"), D("0.5"), D("25.50")),
    (D("25.25"), D("0.5"), D("25.50")),  # exactly half a step: up
    (D("25.24"), D("0.5"), D("25.00")),
    (D("25.74"), D("0.5"), D("25.50")),
    (D("25.75"), D("0.5"), D("26.00")),
    (D("13"), D("0.5"), D("13.00")),
    (D("25.5"), D("1"), D("26.00")),
    (D("7.3"), D("0.25"), D("7.25")),
    (D("26.25"), D("0.5"), D("26.50")),
])
def test_round_to_step(value, step, expected):
    assert round_to_step(value, step) == expected


@given(st.decimals(min_value=0, max_value=100, places=4), st.sampled_from([D("0.5"), D("1"), D("0.25"), D("2")]))
def test_rounding_lands_on_the_step_within_half_a_step(value, step):
    rounded = round_to_step(value, step)
    assert monthly.on_step(rounded, step)
    assert abs(rounded - value) <= step / 2


def test_attitude_and_ability_are_the_mean_weekly_percent_scaled():
    # attitude 80 % and 90 % → 85 % × 30 = 25.5; ability 70 % and 80 % → 75 % × 30 = 22.5.
    s = suggest(weekly_means={"attitude": D(85), "ability": D(75), "efficiency": D(60)},
                weeks_counted={"attitude": 2, "ability": 2, "efficiency": 2}, sla_pct=D(70), rules=DEFAULT)
    assert s["attitude"].points == D("25.50")
    assert s["ability"].points == D("22.50")
    # efficiency: (60 × 50 + 70 × 50) / 100 = 65 % × 20 = 13.0
    assert s["efficiency"].points == D("13.00")
    assert s["efficiency"].basis == "blend"
    assert s["teamwork"].points is None
    assert s["teamwork"].basis == "supervisor"


def test_the_blend_follows_the_share():
    # Share 25 %: (60 × 75 + 70 × 25) / 100 = 62.5 % × 20 = 12.5.
    rules = MonthRules(DEFAULT.on, DEFAULT.weights, D(25), D(3), D("0.5"))
    s = suggest(weekly_means={"attitude": None, "ability": None, "efficiency": D(60)},
                weeks_counted={}, sla_pct=D(70), rules=rules)
    assert s["efficiency"].points == D("12.50")
    # Share 100 %: the SLA rate alone, 70 % × 20 = 14.
    rules = MonthRules(DEFAULT.on, DEFAULT.weights, D(100), D(3), D("0.5"))
    s = suggest(weekly_means={"efficiency": D(60)}, weeks_counted={}, sla_pct=D(70), rules=rules)
    assert s["efficiency"].points == D("14.00")


def test_no_weekly_data_means_no_suggestion():
    s = suggest(weekly_means={"attitude": None, "ability": None, "efficiency": None},
                weeks_counted={}, sla_pct=D(95), rules=DEFAULT)
    for dim in ("attitude", "ability", "efficiency"):
        assert s[dim].points is None
        assert s[dim].basis == "no_weekly"
    assert "No submitted weekly evaluation" in monthly.suggestion_text(s["efficiency"].as_json())


def test_weekly_efficiency_alone_when_no_sla_deadline_was_decided():
    # 60 % × 20 = 12, and the facts say why the SLA rate is missing.
    s = suggest(weekly_means={"efficiency": D(60)}, weeks_counted={}, sla_pct=None, rules=DEFAULT)
    assert s["efficiency"].points == D("12.00")
    assert s["efficiency"].basis == "weekly_no_sla"


def test_sla_rate_is_the_mean_of_the_two_rates():
    # First reply 9/10 = 90 %, resolution 7/10 = 70 % → 80 %.
    assert sla_rate_pct(9, 10, 7, 10) == D(80)
    # Not pooled: 1/1 and 1/3 → (100 + 33.33…) / 2 = 66.66…, not 2/4 = 50.
    assert round(sla_rate_pct(1, 1, 1, 3), 2) == D("66.67")
    # Only the first reply has decided deadlines: its rate alone.
    assert sla_rate_pct(3, 4, 0, 0) == D(75)
    assert sla_rate_pct(0, 0, 0, 0) is None


class PointRuleTests(KefuTestCase):
    def evaluation(self, **points) -> MonthlyEvaluation:
        ev = MonthlyEvaluation(agent=self.agent.employee, year=2026, month=3,
                               attitude_suggested=D("25.5"), ability_suggested=D("22.5"),
                               efficiency_suggested=D("13"), teamwork_suggested=None)
        for key, value in points.items():
            setattr(ev, key, value)
        return ev

    def test_a_move_of_exactly_the_threshold_needs_no_reason(self):
        # 25.5 → 22.5 moves 3 points: not more than 3.
        assert monthly.point_errors(self.evaluation(attitude=D("22.5"))) == {}

    def test_a_larger_move_needs_a_reason(self):
        # 25.5 → 22.0 moves 3.5 points: the reason field gets the error.
        errors = monthly.point_errors(self.evaluation(attitude=D("22.0")))
        assert list(errors) == ["attitude_reason"]
        assert "3.5" in errors["attitude_reason"][0] and "25.5" in errors["attitude_reason"][0]
        ok = self.evaluation(attitude=D("22.0"), attitude_reason="Two justified complaints this month.")
        assert monthly.point_errors(ok) == {}

    def test_upwards_too(self):
        errors = monthly.point_errors(self.evaluation(efficiency=D("17")))  # 13 → 17: 4 points
        assert list(errors) == ["efficiency_reason"]

    def test_teamwork_has_no_suggestion_so_no_reason(self):
        assert monthly.point_errors(self.evaluation(teamwork=D("3"))) == {}

    def test_range_and_step(self):
        errors = monthly.point_errors(self.evaluation(attitude=D("30.5"), ability=D("-1"), teamwork=D("15.3")))
        assert set(errors) == {"attitude", "ability", "teamwork"}
        assert "0" in errors["attitude"][0] and "30" in errors["attitude"][0]
        assert "0.5" in errors["teamwork"][0]

    def test_submitting_needs_every_dimension(self):
        errors = monthly.point_errors(self.evaluation(attitude=D("25.5"), ability=D("22.5"), efficiency=D("13")),
                                      require_all=True)
        assert list(errors) == ["teamwork"]

    def test_the_parameters_of_the_month_apply(self):
        # From 1 March 2026 the threshold is 1 point and the step 1: 25.5 → 24 needs a reason,
        # and 24.5 is off the step. A change dated April does not apply to March.
        core_services.policy_set(key="evaluation.reason_threshold_points", value="1",
                                 effective_from=datetime.date(2026, 3, 1), actor=self.sysadmin, note="test")
        core_services.policy_set(key="evaluation.point_step", value="1",
                                 effective_from=datetime.date(2026, 3, 1), actor=self.sysadmin, note="test")
        core_services.policy_set(key="evaluation.monthly_weights",
                                 value={"attitude": 40, "ability": 20, "efficiency": 20, "teamwork": 20},
                                 effective_from=datetime.date(2026, 4, 1), actor=self.sysadmin, note="test")
        assert list(monthly.point_errors(self.evaluation(attitude=D("24")))) == ["attitude_reason"]
        assert list(monthly.point_errors(self.evaluation(attitude=D("24.5")))) == ["attitude"]
        rules = monthly.rules_for(2026, 3)
        assert rules.weights["attitude"] == 30 and rules.step == 1 and rules.reason_threshold == 1
        assert monthly.rules_for(2026, 4).weights["attitude"] == 40
