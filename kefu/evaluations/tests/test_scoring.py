"""Weekly scoring arithmetic (policy E1: critical criteria, N/A) and weeks-in-months, worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.evaluations import scoring
from kefu.evaluations.models import Criterion


def crit(dimension: str, *, critical: bool = False, fail: int | None = None, scale=(1, 5)) -> Criterion:
    return Criterion(dimension=dimension, code=f"c{id(object())}", name="x", critical=critical,
                     fail_at_or_below=fail, scale_min=scale[0], scale_max=scale[1])


class DimensionScoreTests(SimpleTestCase):
    def test_levels_map_from_bottom_zero_to_top_hundred(self):
        a = crit("attitude")
        # (L - 1) / 4: 1 → 0, 3 → 0.5, 5 → 1
        self.assertEqual(scoring.criterion_fraction(a, 1), Decimal(0))
        self.assertEqual(scoring.criterion_fraction(a, 3), Decimal("0.5"))
        self.assertEqual(scoring.criterion_fraction(a, 5), Decimal(1))

    def test_mean_with_na_left_out(self):
        a1, a2, a3 = crit("attitude"), crit("attitude"), crit("attitude")
        # 5 → 1, 4 → 0.75, N/A left out: mean 0.875 → 87.50 %; counting N/A as 0 would give 58.33
        result = scoring.dimension_scores([(a1, 5), (a2, 4), (a3, None)])
        self.assertEqual(result["attitude"], Decimal("87.50"))
        self.assertIsNone(result["ability"])
        self.assertIsNone(result["efficiency"])

    def test_all_na_is_none_not_zero(self):
        e = crit("efficiency")
        self.assertIsNone(scoring.dimension_scores([(e, None)])["efficiency"])

    def test_failed_critical_zeroes_its_dimension_only(self):
        patient = crit("attitude", critical=True, fail=1)
        warm = crit("attitude")
        knowledge = crit("ability")
        result = scoring.dimension_scores([(patient, 1), (warm, 5), (knowledge, 2)])
        self.assertEqual(result["attitude"], Decimal("0.00"))
        # ability untouched: (2 - 1) / 4 = 25 %
        self.assertEqual(result["ability"], Decimal("25.00"))

    def test_critical_passed_counts_normally(self):
        patient = crit("attitude", critical=True, fail=1)
        warm = crit("attitude")
        # 2 → 0.25, 5 → 1: mean 0.625 → 62.50 %
        self.assertEqual(scoring.dimension_scores([(patient, 2), (warm, 5)])["attitude"], Decimal("62.50"))

    def test_fail_level_above_bottom(self):
        c = crit("efficiency", critical=True, fail=2)
        self.assertEqual(scoring.dimension_scores([(c, 2)])["efficiency"], Decimal("0.00"))
        # 3 → 0.5 → 50 %
        self.assertEqual(scoring.dimension_scores([(c, 3)])["efficiency"], Decimal("50.00"))

    def test_rounding_half_up_to_two_places(self):
        a, b, c = crit("ability"), crit("ability"), crit("ability")
        # 0.75 + 0.75 + 0.5 = 2 / 3 = 0.6666… → 66.67 %
        self.assertEqual(scoring.dimension_scores([(a, 4), (b, 4), (c, 3)])["ability"], Decimal("66.67"))
        # other scale: 0..10, levels 1 and 0 → 0.1, 0 → 0.05 → 5.00 %
        d, e = crit("ability", scale=(0, 10)), crit("ability", scale=(0, 10))
        self.assertEqual(scoring.dimension_scores([(d, 1), (e, 0)])["ability"], Decimal("5.00"))

    def test_teamwork_is_ignored_weekly(self):
        t = crit("teamwork")
        self.assertNotIn("teamwork", scoring.dimension_scores([(t, 5)]))


class WeeksOfMonthTests(SimpleTestCase):
    def test_week_belongs_to_month_of_its_thursday(self):
        # 2026-W14 runs Mon 30 Mar – Sun 5 Apr; its Thursday is 2 April → April.
        self.assertEqual(scoring.month_of_week(2026, 14), (2026, 4))
        # 2026-W01 runs Mon 29 Dec 2025 – Sun 4 Jan 2026; Thursday 1 Jan 2026 → January 2026.
        self.assertEqual(scoring.month_of_week(2026, 1), (2026, 1))

    def test_weeks_of_march_and_april_2026(self):
        # Thursdays of March 2026: 5, 12, 19, 26 → W10..W13; of April: 2, 9, 16, 23, 30 → W14..W18.
        self.assertEqual(scoring.weeks_of_month(2026, 3), [(2026, 10), (2026, 11), (2026, 12), (2026, 13)])
        self.assertEqual(scoring.weeks_of_month(2026, 4), [(2026, w) for w in range(14, 19)])

    def test_every_week_in_exactly_one_month(self):
        weeks = [w for m in range(1, 13) for w in scoring.weeks_of_month(2026, m)]
        self.assertEqual(len(weeks), 53)  # 2026 has 53 ISO weeks
        self.assertEqual(len(set(weeks)), 53)

    def test_month_week_starts(self):
        # March 2026: W10 starts Mon 2 March, W13 starts Mon 23 March.
        import datetime

        self.assertEqual(scoring.month_week_starts(2026, 3), (datetime.date(2026, 3, 2), datetime.date(2026, 3, 23)))


class ScoringProperties(SimpleTestCase):
    """Properties of the dimension arithmetic over random score sets (hypothesis)."""

    levels = st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1, max_size=8)

    @settings(max_examples=200, deadline=None)
    @given(levels)
    def test_bounded_and_na_neutral(self, values):
        pairs = [(crit("ability"), v) for v in values]
        result = scoring.dimension_scores(pairs)["ability"]
        if all(v is None for v in values):
            self.assertIsNone(result)
            return
        self.assertTrue(Decimal(0) <= result <= Decimal(100))
        # one more N/A criterion never changes the result
        self.assertEqual(scoring.dimension_scores([*pairs, (crit("ability"), None)])["ability"], result)

    @settings(max_examples=200, deadline=None)
    @given(levels, st.integers(0, 7))
    def test_raising_a_level_never_lowers_the_dimension(self, values, index):
        values = [v if v is not None else 3 for v in values]
        i = index % len(values)
        if values[i] == 5:
            return
        before = scoring.dimension_scores([(crit("ability"), v) for v in values])["ability"]
        raised = [*values]
        raised[i] += 1
        after = scoring.dimension_scores([(crit("ability"), v) for v in raised])["ability"]
        self.assertGreater(after, before)
