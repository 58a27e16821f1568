"""Krippendorff's alpha (interval metric) and leniency, checked against hand computations.

The reference data is the example of Krippendorff, *Computing Krippendorff's Alpha-Reliability*
(2011), section C: four observers, twelve units, values 1–5, some missing. Its published
interval alpha is 0.849. Worked by hand (unit 12 has one value and drops out; n = 40):

- D_o: only units 2 (2,2,3,2), 6 (1,2,3,4) and 8 (1,1,2,1) disagree. Ordered-pair sums of squared
  differences: 6, 40 and 6, each divided by m_u − 1 = 3 → 2 + 40/3 + 2 = 52/3; D_o = (52/3)/40 = 13/30.
- D_e: value counts n_1..n_5 = 9, 13, 10, 5, 3. Σ_{c<k} n_c n_k (c−k)² = 117 + 360 + 405 + 432 + 130
  + 260 + 351 + 50 + 120 + 15 = 2240, ordered 4480; D_e = 4480 / (40 · 39) = 112/39.
- α = 1 − (13/30)/(112/39) = 1 − 169/1120 = 951/1120 = 0.8491…
"""

from fractions import Fraction

import pytest

from kefu.evaluations.calibration import (
    READINGS,
    ResultInput,
    ScoreRow,
    compute_result,
    krippendorff_alpha_interval,
    leniency,
    reading_text,
)

_ = None
A = [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _]
B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3]
C = [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _]
D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _]
KRIPPENDORFF = {u: {"A": A[u], "B": B[u], "C": C[u], "D": D[u]} for u in range(12)}


def test_krippendorffs_published_example():
    result = krippendorff_alpha_interval(KRIPPENDORFF)
    assert result.pairable_values == 40
    assert result.pairable_units == 11
    assert result.observed == Fraction(13, 30)
    assert result.expected == Fraction(112, 39)
    assert result.alpha == Fraction(951, 1120)
    assert round(float(result.alpha), 3) == 0.849  # the published value
    assert result.reading == "reliable"


def test_leniency_by_hand():
    # C: +0.75 on unit 2 (3 vs mean 2.25), +0.5 on unit 6 (3 vs 2.5), +0.75 on unit 8 (2 vs 1.25),
    # 0 on her seven other pairable units → 2/10 = 0.2 levels above the group.
    # A: −0.25 (unit 2), −1.5 (unit 6: 1 vs 2.5), −0.25 (unit 8) over 9 units → −2/9.
    result = leniency(KRIPPENDORFF, ["A", "B", "C", "D"])
    assert result["C"].mean_deviation == Fraction(1, 5)
    assert result["C"].units == 10
    assert result["A"].mean_deviation == Fraction(-2, 9)
    assert result["A"].units == 9
    # The deviations on each unit add up to zero, so the weighted leniencies do too.
    assert sum(r.mean_deviation * r.units for r in result.values()) == 0


def test_perfect_agreement_is_one():
    units = {1: {"x": 1, "y": 1, "z": 1}, 2: {"x": 4, "y": 4, "z": 4}, 3: {"x": 2, "y": 2}}
    result = krippendorff_alpha_interval(units)
    assert result.alpha == 1
    assert result.observed == 0
    assert result.reading == "reliable"


def test_one_evaluator_is_undefined():
    units = {1: {"x": 1}, 2: {"x": 5}, 3: {"x": 3}}
    result = krippendorff_alpha_interval(units)
    assert result.alpha is None
    assert result.why_undefined == "too_few"
    assert result.reading == "undefined"
    assert "at least two evaluators" in result.reading_text()


def test_no_variation_at_all_is_undefined():
    # Every value is 3: D_e = 0, agreement cannot be told apart from chance (Krippendorff: 0/0).
    result = krippendorff_alpha_interval({1: {"x": 3, "y": 3}, 2: {"x": 3, "y": 3}})
    assert result.alpha is None
    assert result.why_undefined == "no_variation"


def test_systematic_disagreement_is_negative():
    # Two evaluators who invert each other: unit values (1,5) and (5,1).
    # D_o = (1/4)·[2·16/1 + 2·16/1] = 16; values 1,5,1,5: D_e = (2·4·52 − 2·144)/(4·3) = 128/12 = 32/3.
    # α = 1 − 16/(32/3) = 1 − 3/2 = −1/2.
    result = krippendorff_alpha_interval({1: {"x": 1, "y": 5}, 2: {"x": 5, "y": 1}})
    assert result.alpha == Fraction(-1, 2)
    assert result.reading == "disagree"


@pytest.mark.parametrize(("alpha", "reading"), [
    (Fraction(4, 5), "reliable"), (Fraction(799, 1000), "tentative"), (Fraction(667, 1000), "tentative"),
    (Fraction(666, 1000), "disagree"),
])
def test_reading_thresholds(alpha, reading):
    from kefu.evaluations.calibration import Agreement

    assert Agreement(alpha, None, None, 0, 0, 2).reading == reading


def test_not_applicable_is_no_value():
    units = {1: {"x": 2, "y": None, "z": 2}, 2: {"x": 4, "y": 4, "z": None}}
    result = krippendorff_alpha_interval(units)
    assert result.pairable_values == 4
    assert result.alpha == 1


def test_stored_result_names_the_formula_and_readings():
    data = ResultInput(
        evaluators=[(1, "甲"), (2, "乙"), (3, "丙")],
        criteria=[(10, "Proactive and warm", "attitude")],
        interactions=[(100, "S:1"), (101, "S:2")],
        scores=[ScoreRow(1, 100, 10, 4), ScoreRow(2, 100, 10, 4), ScoreRow(3, 100, 10, 2),
                ScoreRow(1, 101, 10, 2), ScoreRow(2, 101, 10, 2), ScoreRow(3, 101, 10, 2)],
    )
    result = compute_result(data)
    # Unit 100: 4,4,2 → ordered sum 2·3·36 − 2·100 = 16, /2 = 8; unit 101: 0. D_o = 8/6 = 4/3.
    # All values 4,4,2,2,2,2: Σx = 16, Σx² = 48 → 2·6·48 − 2·256 = 64; D_e = 64/30 = 32/15.
    # α = 1 − (4/3)/(32/15) = 1 − 5/8 = 3/8 = 0.375.
    assert result["alpha"] == 0.375
    assert result["formula"] == "α = 1 − D_o / D_e"
    assert result["reading"] == "disagree"
    # Leniency of 丙: unit 100 mean 10/3 → 2 − 10/3 = −4/3; unit 101: 0 → −2/3 ≈ −0.667.
    by_name = {e["name"]: e for e in result["evaluators"]}
    assert by_name["丙"]["leniency"] == -0.667
    assert by_name["甲"]["leniency"] == 0.333
    assert result["discuss"][0]["interaction"] == 100 and result["discuss"][0]["spread"] == 2
    assert reading_text(result) == str(READINGS["disagree"])
