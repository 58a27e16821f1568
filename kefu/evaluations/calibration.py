"""Calibration sessions (issue 4 item 5; policy G3.1 "fixed standards": evaluators must score alike).

A supervisor (or HR) picks a set of interactions and a group of evaluators. Each evaluator
scores every interaction on the scorecard's weekly criteria (attitude, ability, efficiency —
teamwork cannot be judged from one interaction), **blind**: while the session is open an
evaluator sees only her own scores, and nobody sees the others'. When the session closes,
Kefu computes how far the evaluators agree and hands the result to the supervision group.

Agreement: Krippendorff's alpha with the interval metric
------------------------------------------------------------

A *unit* is one criterion of one interaction; its *values* are the levels the evaluators gave
it (a level left empty — not applicable — is not a value). Only units with at least two values
are *pairable*; ``n`` is the number of pairable values. With ``δ(c, k) = (c − k)²``:

    D_o = (1/n) · Σ_u  1/(m_u − 1) · Σ_{i≠j in u} δ(v_i, v_j)      observed disagreement
    D_e = 1/(n(n − 1)) · Σ_{i≠j over all pairable values} δ(v_i, v_j)    disagreement expected by chance
    α   = 1 − D_o / D_e

where ``m_u`` is the number of values in unit ``u`` and the sums run over ordered pairs of
values from different evaluators. (Krippendorff, *Computing Krippendorff's Alpha-Reliability*,
2011.) The sums of squared differences are computed from sums and sums of squares,
``Σ_{i≠j}(x_i − x_j)² = 2m·Σx² − 2(Σx)²``, exactly, with fractions.

α = 1 is perfect agreement, α = 0 is agreement no better than chance. α is undefined with
fewer than two evaluators' values on any unit, and when every value is the same (D_e = 0:
nothing to tell agreement from chance with). Krippendorff's guidance, which the page gives
in plain words: α ≥ 0.800 the evaluators can be relied on; 0.667 ≤ α < 0.800 tentative;
below 0.667 they disagree — hold a calibration meeting before their scores are compared.

Leniency: for every pairable unit, each evaluator's level minus the unit's mean level (the
group mean); her leniency is the mean of those deviations, in levels. Positive: she scores
higher than the group (lenient); negative: lower (strict).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext_lazy

Number = int | Decimal | Fraction

RELIABLE = Fraction(4, 5)  # α ≥ 0.800
TENTATIVE = Fraction(667, 1000)  # 0.667 ≤ α < 0.800
# Units listed as "discuss these first": the largest spread of levels.
DISCUSS_FIRST = 10

FORMULA = "α = 1 − D_o / D_e"
READINGS = {
    "reliable": gettext_lazy("Reliable: the evaluators agree (α ≥ 0.800); their scores can be compared."),
    "tentative": gettext_lazy(
        "Tentative: the evaluators agree only in part (0.667 ≤ α < 0.800); use their scores with care "
        "and go through the items they disagree on."
    ),
    "disagree": gettext_lazy(
        "The evaluators disagree (α < 0.667): hold a calibration meeting, agree on the rubric, "
        "and score a new set before comparing their evaluations."
    ),
    "undefined": gettext_lazy("Agreement cannot be computed: %(why)s"),
}
WHY_UNDEFINED = {
    "too_few": gettext_lazy("at least two evaluators must have scored the same item"),
    "no_variation": gettext_lazy("every score is the same, so agreement cannot be told apart from chance"),
}


@dataclass
class Agreement:
    """Krippendorff's alpha (interval metric) and the parts it is computed from."""

    alpha: Fraction | None
    observed: Fraction | None  # D_o
    expected: Fraction | None  # D_e
    pairable_values: int  # n
    pairable_units: int
    evaluators: int  # evaluators with at least one pairable value
    why_undefined: str = ""  # a key of WHY_UNDEFINED

    @property
    def reading(self) -> str:
        if self.alpha is None:
            return "undefined"
        if self.alpha >= RELIABLE:
            return "reliable"
        if self.alpha >= TENTATIVE:
            return "tentative"
        return "disagree"

    def reading_text(self) -> str:
        return reading_text({"reading": self.reading, "why_undefined": self.why_undefined})


def _squared_differences(values: list[Fraction]) -> Fraction:
    """Σ over ordered pairs i ≠ j of (x_i − x_j)²."""
    m = len(values)
    total = sum(values, Fraction(0))
    squares = sum((v * v for v in values), Fraction(0))
    return 2 * m * squares - 2 * total * total


def _fraction(value: Number) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value)


def krippendorff_alpha_interval(units: Mapping[Any, Mapping[Any, Number | None]]) -> Agreement:
    """α for ``units`` = {unit: {evaluator: value or None}} (None: no value — missing or not applicable)."""
    pairable: dict[Hashable, list[Fraction]] = {}
    coders: set[Hashable] = set()
    for unit, by_coder in units.items():
        values = {c: _fraction(v) for c, v in by_coder.items() if v is not None}
        if len(values) >= 2:
            pairable[unit] = list(values.values())
            coders.update(values)
    n = sum(len(v) for v in pairable.values())
    if len(coders) < 2 or not pairable:
        return Agreement(None, None, None, n, len(pairable), len(coders), "too_few")
    observed = sum((_squared_differences(v) / (len(v) - 1) for v in pairable.values()), Fraction(0)) / n
    everything = [x for v in pairable.values() for x in v]
    expected = _squared_differences(everything) / (n * (n - 1))
    if expected == 0:
        return Agreement(None, observed, expected, n, len(pairable), len(coders), "no_variation")
    return Agreement(1 - observed / expected, observed, expected, n, len(pairable), len(coders))


@dataclass
class Leniency:
    evaluator: Hashable
    mean_deviation: Fraction | None  # levels above (+) or below (−) the group mean
    units: int  # pairable units she scored


def leniency(units: Mapping[Any, Mapping[Any, Number | None]],
             evaluators: Iterable[Hashable] = ()) -> dict[Hashable, Leniency]:
    """Each evaluator's mean deviation from the group mean, over the pairable units she scored."""
    sums: dict[Hashable, Fraction] = defaultdict(Fraction)
    counts: dict[Hashable, int] = defaultdict(int)
    for by_coder in units.values():
        values = {c: _fraction(v) for c, v in by_coder.items() if v is not None}
        if len(values) < 2:
            continue
        mean = sum(values.values(), Fraction(0)) / len(values)
        for coder, value in values.items():
            sums[coder] += value - mean
            counts[coder] += 1
    out = {}
    for coder in list(evaluators) + [c for c in counts if c not in set(evaluators)]:
        count = counts.get(coder, 0)
        out[coder] = Leniency(coder, sums[coder] / count if count else None, count)
    return out


def spread(values: Iterable[Number | None]) -> Fraction:
    present = [_fraction(v) for v in values if v is not None]
    return max(present) - min(present) if len(present) >= 2 else Fraction(0)


# ---- the stored result --------------------------------------------------------------------------


def _num(value: Fraction | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


@dataclass
class ScoreRow:
    evaluator_id: int
    interaction_id: int
    criterion_id: int
    level: int | None


@dataclass
class ResultInput:
    evaluators: list[tuple[int, str]]  # (employee id, name), in the session's order
    criteria: list[tuple[int, str, str]]  # (criterion id, name, dimension)
    interactions: list[tuple[int, str]]  # (interaction id, label)
    scores: list[ScoreRow] = field(default_factory=list)


def compute_result(data: ResultInput) -> dict[str, Any]:
    """The session's result as stored in ``CalibrationSession.result`` (JSON, numbers as floats)."""
    units: dict[tuple[int, int], dict[int, int | None]] = {
        (i, c): {} for i, _label in data.interactions for c, _n, _d in data.criteria
    }
    for row in data.scores:
        key = (row.interaction_id, row.criterion_id)
        if key in units:
            units[key][row.evaluator_id] = row.level
    overall = krippendorff_alpha_interval(units)
    lenient = leniency(units, [e for e, _n in data.evaluators])
    scored: dict[int, int] = defaultdict(int)
    for row in data.scores:
        if row.level is not None:
            scored[row.evaluator_id] += 1

    criteria = []
    for cid, name, dimension in data.criteria:
        part = krippendorff_alpha_interval({k: v for k, v in units.items() if k[1] == cid})
        criteria.append({
            "id": cid, "name": name, "dimension": dimension, "alpha": _num(part.alpha),
            "reading": part.reading, "pairable_values": part.pairable_values,
        })
    labels = dict(data.interactions)
    names = {c: n for c, n, _d in data.criteria}
    evaluator_names = dict(data.evaluators)
    discuss = sorted(
        ((spread(v.values()), k) for k, v in units.items() if spread(v.values()) > 0),
        key=lambda item: (-item[0], item[1]),
    )[:DISCUSS_FIRST]
    return {
        "method": "krippendorff_alpha_interval",
        "formula": FORMULA,
        "alpha": _num(overall.alpha),
        "observed_disagreement": _num(overall.observed),
        "expected_disagreement": _num(overall.expected),
        "pairable_values": overall.pairable_values,
        "pairable_units": overall.pairable_units,
        "units": len(units),
        "reading": overall.reading,
        "why_undefined": overall.why_undefined,
        "evaluators": [
            {"id": eid, "name": name, "scored": scored.get(eid, 0),
             "leniency": _num(lenient[eid].mean_deviation, 3), "units": lenient[eid].units}
            for eid, name in data.evaluators
        ],
        "criteria": criteria,
        "discuss": [
            {"interaction": k[0], "interaction_label": labels.get(k[0], ""), "criterion": k[1],
             "criterion_name": names.get(k[1], ""), "spread": int(s),
             "levels": [{"evaluator": evaluator_names.get(e, str(e)), "level": lv}
                        for e, lv in sorted(units[k].items(), key=lambda kv: str(evaluator_names.get(kv[0], "")))]}
            for s, k in discuss
        ],
    }


def reading_text(result: Mapping[str, Any]) -> str:
    """The plain-language reading of a stored result (in the current language)."""
    reading = result.get("reading") or "undefined"
    text = str(READINGS.get(reading, READINGS["undefined"]))
    if reading == "undefined":
        return text % {"why": str(WHY_UNDEFINED.get(result.get("why_undefined") or "", WHY_UNDEFINED["too_few"]))}
    return text
