"""The annual grade proposal: threshold grades, then the quotas of policy E2.3.

    proposal = propose_grades(scores, excellent_max_pct=Decimal(20), fail_min_pct=Decimal(5),
                              thresholds={"excellent": Decimal(90), "good": Decimal(80), "pass": Decimal(60)})
    proposal[person].grade, proposal[person].flags, proposal.floor_met

A pure function: no database, Decimal arithmetic only, and the same input always
gives the same output (ties are decided by score groups, never by the order of
the mapping). The rules:

1. Threshold grades: at or above ``excellent`` → excellent, at or above ``good`` →
   good, at or above ``pass`` → pass, else fail.
2. The quotas over the n people (E2.3: "excellent at most X %, fail at least Y %"):
   the cap is floor(n·X/100) and the floor ceil(n·Y/100) with ``rounding="strict"``;
   ceil for the cap and floor for the floor with ``"lenient"``.
3. Over the cap, the highest scores keep excellent and the rest become good
   (``capped``). When people tied on one score straddle the cap, all of them become
   good (``tie_at_cap``): the proposal never exceeds the cap.
4. Under the floor, the lowest-scoring people not yet fail become fail
   (``forced_fail``) until the floor is met. When people tied on one score straddle
   the floor, none of them is made fail (``tie_at_floor``) and the proposal reports
   the floor unmet: nobody fails on a coin toss.
5. With fewer than ``min_population`` people the quotas are not forced: threshold
   grades stand, and everyone whose grade the quotas would change is flagged
   ``quota_would_apply`` (the result says ``forced=False``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)

EXCELLENT, GOOD, PASS, FAIL = "excellent", "good", "pass", "fail"
GRADES = (EXCELLENT, GOOD, PASS, FAIL)

# Flags
CAPPED = "capped"  # was excellent by threshold, over the cap: good
TIE_AT_CAP = "tie_at_cap"  # tied with others across the cap: all of the tie became good
FORCED_FAIL = "forced_fail"  # made fail to meet the floor
TIE_AT_FLOOR = "tie_at_floor"  # tied with others across the floor: none of the tie made fail
QUOTA_WOULD_APPLY = "quota_would_apply"  # population under the minimum: the quota would change this grade

Rounding = Literal["strict", "lenient"]


@dataclass(frozen=True)
class GradeResult:
    score: Decimal
    grade: str
    flags: frozenset[str] = frozenset()


@dataclass(eq=False)
class GradeProposal(dict[K, GradeResult], Generic[K]):
    """person → GradeResult, with what the quotas were and whether they were met."""

    n: int = 0
    excellent_cap: int = 0
    fail_floor: int = 0
    forced: bool = True
    floor_met: bool = True
    cap_met: bool = True
    messages: list[str] = field(default_factory=list)

    def count(self, grade: str) -> int:
        return sum(1 for r in self.values() if r.grade == grade)


def _quota(n: int, pct: Decimal, direction: str) -> int:
    return int((Decimal(n) * pct / Decimal(100)).to_integral_value(rounding=direction))


def quotas(n: int, *, excellent_max_pct: Decimal, fail_min_pct: Decimal, rounding: Rounding = "strict") -> tuple[int, int]:
    """(cap on excellent, floor on fail) for n people."""
    if rounding == "strict":
        return _quota(n, excellent_max_pct, ROUND_FLOOR), _quota(n, fail_min_pct, ROUND_CEILING)
    if rounding == "lenient":
        return _quota(n, excellent_max_pct, ROUND_CEILING), _quota(n, fail_min_pct, ROUND_FLOOR)
    raise ValueError(f"rounding must be 'strict' or 'lenient', not {rounding!r}")


def _as_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return result


def threshold_grade(score: Decimal, thresholds: Mapping[str, Decimal]) -> str:
    if score >= thresholds[EXCELLENT]:
        return EXCELLENT
    if score >= thresholds[GOOD]:
        return GOOD
    if score >= thresholds[PASS]:
        return PASS
    return FAIL


def _apply_quotas(
    scores: dict[K, Decimal], grades: dict[K, str], cap: int, floor: int
) -> tuple[dict[K, str], dict[K, set[str]], bool, bool]:
    """The forced grades and flags; (grades, flags, cap met, floor met)."""
    grades = dict(grades)
    flags: dict[K, set[str]] = {k: set() for k in scores}

    # Cap on excellent: keep the highest `cap`; a tie across the boundary all goes to good.
    excellent = sorted((k for k in scores if grades[k] == EXCELLENT), key=lambda k: scores[k], reverse=True)
    if len(excellent) > cap:
        boundary = scores[excellent[cap]]  # the best score that does not fit under the cap
        tie_straddles = any(scores[k] == boundary for k in excellent[:cap])
        for k in excellent:
            if scores[k] > boundary:
                continue  # all of these sit before the boundary, so they fit
            grades[k] = GOOD
            flags[k].add(CAPPED)
            if scores[k] == boundary and tie_straddles:
                flags[k].add(TIE_AT_CAP)
    cap_met = sum(1 for k in scores if grades[k] == EXCELLENT) <= cap

    # Floor on fail: the lowest not-yet-fail people, by whole score groups.
    need = floor - sum(1 for k in scores if grades[k] == FAIL)
    floor_met = need <= 0
    if need > 0:
        candidates = sorted((k for k in scores if grades[k] != FAIL), key=lambda k: scores[k])
        by_score: dict[Decimal, list[K]] = {}
        for k in candidates:
            by_score.setdefault(scores[k], []).append(k)
        for score in sorted(by_score):
            group = by_score[score]
            if len(group) <= need:
                for k in group:
                    grades[k] = FAIL
                    flags[k].add(FORCED_FAIL)
                need -= len(group)
            else:
                for k in group:
                    flags[k].add(TIE_AT_FLOOR)
                break
            if need == 0:
                break
        floor_met = need == 0
    return grades, flags, cap_met, floor_met


def propose_grades(
    scores: Mapping[K, Decimal],
    *,
    excellent_max_pct: Decimal,
    fail_min_pct: Decimal,
    thresholds: Mapping[str, Decimal],
    rounding: Rounding = "strict",
    min_population: int = 20,
) -> GradeProposal[K]:
    """Propose a grade for every person (policy E2.3); see the module docstring for the rules."""
    clean = {k: _as_decimal(f"score of {k!r}", v) for k, v in scores.items()}
    x = _as_decimal("excellent_max_pct", excellent_max_pct)
    y = _as_decimal("fail_min_pct", fail_min_pct)
    if not (0 <= x <= 100 and 0 <= y <= 100):
        raise ValueError("the quota percentages must lie between 0 and 100")
    limits = {g: _as_decimal(f"thresholds[{g!r}]", thresholds[g]) for g in (EXCELLENT, GOOD, PASS)}
    if not limits[EXCELLENT] >= limits[GOOD] >= limits[PASS]:
        raise ValueError("thresholds must not rise: excellent ≥ good ≥ pass")

    n = len(clean)
    cap, floor = quotas(n, excellent_max_pct=x, fail_min_pct=y, rounding=rounding)
    by_threshold = {k: threshold_grade(s, limits) for k, s in clean.items()}
    forced_grades, forced_flags, cap_met, floor_met = _apply_quotas(clean, by_threshold, cap, floor)

    proposal: GradeProposal[K] = GradeProposal(n=n, excellent_cap=cap, fail_floor=floor)
    if n >= min_population:
        for k, s in clean.items():
            proposal[k] = GradeResult(s, forced_grades[k], frozenset(forced_flags[k]))
        proposal.cap_met, proposal.floor_met = cap_met, floor_met
    else:
        proposal.forced = False
        for k, s in clean.items():
            flags = {QUOTA_WOULD_APPLY} if forced_grades[k] != by_threshold[k] else set()
            proposal[k] = GradeResult(s, by_threshold[k], frozenset(flags))
        proposal.cap_met = sum(1 for g in by_threshold.values() if g == EXCELLENT) <= cap
        proposal.floor_met = sum(1 for g in by_threshold.values() if g == FAIL) >= floor
    return proposal
