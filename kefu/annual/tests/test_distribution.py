"""propose_grades (policy E2.3): table tests worked out by hand, and property tests."""

import random
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.annual.distribution import (
    CAPPED,
    FORCED_FAIL,
    QUOTA_WOULD_APPLY,
    TIE_AT_CAP,
    TIE_AT_FLOOR,
    propose_grades,
    quotas,
)

T = {"excellent": D(90), "good": D(80), "pass": D(60)}


def run(scores, x=20, y=5, rounding="strict", min_population=20):
    people = {f"p{i:04d}": D(s) for i, s in enumerate(scores)}
    return people, propose_grades(
        people, excellent_max_pct=D(x), fail_min_pct=D(y), thresholds=T, rounding=rounding, min_population=min_population
    )


def counts(proposal):
    return {g: proposal.count(g) for g in ("excellent", "good", "pass", "fail")}


def grade_of(people, proposal, score):
    return {proposal[k].grade for k, s in people.items() if s == D(score)}


@pytest.mark.parametrize(
    ("n", "x", "y", "rounding", "cap", "floor"),
    [
        (1, 20, 5, "strict", 0, 1),
        (7, 20, 5, "strict", 1, 1),  # 1.4 → 1, 0.35 → 1
        (19, 20, 5, "strict", 3, 1),  # 3.8 → 3, 0.95 → 1
        (20, 20, 5, "strict", 4, 1),
        (21, 20, 5, "strict", 4, 2),  # 4.2 → 4, 1.05 → 2
        (21, 20, 5, "lenient", 5, 1),
        (100, 20, 5, "lenient", 20, 5),
        (1000, 20, 5, "strict", 200, 50),
        (20, 0, 0, "strict", 0, 0),
    ],
)
def test_quota_rounding(n, x, y, rounding, cap, floor):
    assert quotas(n, excellent_max_pct=D(x), fail_min_pct=D(y), rounding=rounding) == (cap, floor)


def test_threshold_grades_at_the_boundaries():
    people, p = run([90, D("89.99"), 80, 60, D("59.5"), 100, 0] + [70] * 13)
    assert grade_of(people, p, 90) == {"excellent"}
    assert grade_of(people, p, D("89.99")) == {"good"}
    assert grade_of(people, p, 80) == {"good"}
    assert grade_of(people, p, 60) == {"pass"}
    assert grade_of(people, p, D("59.5")) == {"fail"}


def test_n1_under_the_minimum_keeps_threshold_grade_and_says_the_quota_would_apply():
    _people, p = run([95])
    (result,) = p.values()
    # Forced, cap 0 would make her good and the floor of 1 would then make her fail.
    assert result.grade == "excellent"
    assert result.flags == {QUOTA_WOULD_APPLY}
    assert p.forced is False


def test_n7_only_the_person_the_cap_would_touch_is_flagged():
    people, p = run([95, 92, 85, 75, 65, 55, 40])
    assert [p[k].grade for k in people] == ["excellent", "excellent", "good", "pass", "pass", "fail", "fail"]
    flagged = [people[k] for k in people if p[k].flags]
    assert flagged == [D(92)]  # cap 1 keeps 95; two fails already meet the floor of 1


def test_n19_is_still_under_the_minimum():
    _people, p = run([95] * 19)
    assert counts(p) == {"excellent": 19, "good": 0, "pass": 0, "fail": 0}
    assert all(r.flags == {QUOTA_WOULD_APPLY} for r in p.values())


def test_n20_cap_and_floor_forced():
    # 100..81: eleven at or above 90, nine in the 80s, nobody under 60.
    people, p = run(range(100, 80, -1))
    assert counts(p) == {"excellent": 4, "good": 15, "pass": 0, "fail": 1}
    assert grade_of(people, p, 97) == {"excellent"}
    assert grade_of(people, p, 96) == {"good"} and CAPPED in p["p0004"].flags
    assert grade_of(people, p, 81) == {"fail"} and p["p0019"].flags == {FORCED_FAIL}
    assert p.floor_met and p.cap_met


def test_n21_strict_and_lenient_differ():
    scores = range(100, 79, -1)  # 100..80
    _, strict = run(scores, rounding="strict")
    _, lenient = run(scores, rounding="lenient")
    assert counts(strict) == {"excellent": 4, "good": 15, "pass": 0, "fail": 2}
    assert counts(lenient) == {"excellent": 5, "good": 15, "pass": 0, "fail": 1}


def test_n100_non_binding_quotas_change_nothing():
    _people, p = run(range(100))  # 0..99
    assert counts(p) == {"excellent": 10, "good": 10, "pass": 20, "fail": 60}
    assert all(not r.flags for r in p.values())


def test_n100_all_scores_equal_nobody_is_failed_on_a_coin_toss():
    _people, p = run([95] * 100)
    assert counts(p) == {"excellent": 0, "good": 100, "pass": 0, "fail": 0}
    assert all(r.flags == {CAPPED, TIE_AT_CAP, TIE_AT_FLOOR} for r in p.values())
    assert p.floor_met is False and p.cap_met is True


def test_n1000_forced_distribution():
    # 60.00, 60.04, …, 99.96: i ≥ 750 is excellent (250), 500 ≤ i < 750 good, the rest pass.
    _people, p = run([D(60) + D(i) * D("0.04") for i in range(1000)])
    assert counts(p) == {"excellent": 200, "good": 300, "pass": 450, "fail": 50}
    assert p["p0800"].grade == "excellent" and p["p0799"].grade == "good"
    assert p["p0049"].grade == "fail" and p["p0050"].grade == "pass"


def test_tie_straddling_the_cap_demotes_the_whole_tie():
    people, p = run([99, 98, 97, 96, 96, *list(range(61, 76))])
    assert [p[k].grade for k in list(people)[:5]] == ["excellent"] * 3 + ["good"] * 2
    assert p["p0003"].flags == {CAPPED, TIE_AT_CAP} and p["p0004"].flags == {CAPPED, TIE_AT_CAP}
    assert p.count("excellent") == 3  # under the cap of 4 rather than over it


def test_tie_straddling_the_floor_fails_nobody_of_the_tie():
    _people, p = run([50, 65, 65] + [85] * 17, y=10)  # floor 2, one fail already
    assert p["p0000"].grade == "fail" and p["p0000"].flags == set()
    assert p["p0001"].grade == p["p0002"].grade == "pass"
    assert p["p0001"].flags == {TIE_AT_FLOOR}
    assert p.floor_met is False


def test_below_the_tie_still_fails():
    _people, p = run([62, 70, 70] + [85] * 17, y=10)  # floor 2: 62 fails, the 70s tie for the second
    assert p["p0000"].grade == "fail" and p["p0000"].flags == {FORCED_FAIL}
    assert p["p0001"].flags == {TIE_AT_FLOOR} and p["p0001"].grade == "pass"
    assert p.floor_met is False


def test_x_zero_allows_no_excellent_and_no_tie_flag():
    _people, p = run([95, *list(range(70, 89))], x=0)
    assert p["p0000"].grade == "good" and p["p0000"].flags == {CAPPED}


def test_y_zero_forces_no_fail():
    _people, p = run(list(range(70, 90)), y=0)
    assert p.count("fail") == 0 and all(not r.flags for r in p.values())


def test_bad_input_is_refused():
    with pytest.raises(TypeError):
        propose_grades({"a": 91.5}, excellent_max_pct=D(20), fail_min_pct=D(5), thresholds=T)
    with pytest.raises(ValueError):
        propose_grades({"a": D(1)}, excellent_max_pct=D(120), fail_min_pct=D(5), thresholds=T)
    with pytest.raises(ValueError):
        propose_grades({"a": D(1)}, excellent_max_pct=D(20), fail_min_pct=D(5), thresholds=T, rounding="round")


scores_st = st.lists(st.integers(min_value=0, max_value=1000).map(lambda i: D(i) / 10), max_size=80)


@settings(max_examples=300, deadline=None)
@given(
    scores=scores_st,
    x=st.integers(0, 100),
    y=st.integers(0, 100),
    rounding=st.sampled_from(["strict", "lenient"]),
    min_population=st.integers(0, 30),
    seed=st.integers(0, 2**32),
)
def test_properties(scores, x, y, rounding, min_population, seed):
    people = {i: s for i, s in enumerate(scores)}
    kwargs = dict(excellent_max_pct=D(x), fail_min_pct=D(y), thresholds=T, rounding=rounding, min_population=min_population)
    p = propose_grades(people, **kwargs)
    cap, floor = quotas(len(people), excellent_max_pct=D(x), fail_min_pct=D(y), rounding=rounding)
    assert set(p) == set(people)
    if len(people) >= min_population:
        # The cap is never exceeded.
        assert p.count("excellent") <= cap
        # The floor is met whenever no tie straddles it.
        if not any(TIE_AT_FLOOR in r.flags for r in p.values()):
            assert p.count("fail") >= floor and p.floor_met
        # Nobody is both flagged into fail and kept out of it by a tie.
        assert not any({FORCED_FAIL, TIE_AT_FLOOR} <= r.flags for r in p.values())
        # Grades never invert scores: a higher score never gets a lower grade.
        order = {"fail": 0, "pass": 1, "good": 2, "excellent": 3}
        for a in p.values():
            for b in p.values():
                if a.score > b.score:
                    assert order[a.grade] >= order[b.grade]
    else:
        assert p.forced is False
    # Deterministic: the same people in another order get the same results.
    keys = list(people)
    random.Random(seed).shuffle(keys)
    again = propose_grades({k: people[k] for k in keys}, **kwargs)
    assert {k: (r.grade, r.flags) for k, r in again.items()} == {k: (r.grade, r.flags) for k, r in p.items()}
