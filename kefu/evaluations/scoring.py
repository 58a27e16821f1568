"""Weekly scoring arithmetic (policy E1, E2.1) and how weeks fall into months (E2.2).

A weekly evaluation scores each criterion of the attitude, ability and efficiency
dimensions with a level of its rubric (an integer scale, usually 1-5), or marks it
not applicable (N/A) where the criterion allows it.

**Criterion fraction.** A level ``L`` on the scale ``min..max`` is worth
``(L - min) / (max - min)``: the bottom of the scale is 0, the top is 1, a 3 on a
1-5 scale is 0.5. The bottom of a rubric describes unacceptable work, so it earns
nothing.

**Dimension percent** (``weekly_dimension_scores``). For each dimension: 100 × the
plain mean of the fractions of its scored criteria (every criterion weighs the
same; N/A criteria are left out of the mean, not counted as zero), rounded half up
to 2 decimals. If a **critical** criterion of the dimension is failed (scored at or
below its ``fail_at_or_below`` level) the dimension is **0**, whatever the others
say. A dimension with no scored criterion (all N/A, or none scored yet) is ``None``
— "no information", which the monthly suggestion must skip, not treat as zero.

Example: attitude has three criteria on 1-5, scored 5, 4 and N/A → fractions 1 and
0.75 → mean 0.875 → 87.50 %. If the 4 had been a 1 on a critical criterion failing
at 1 → 0.00 %.

The submitted weekly evaluation stores these percents on its row
(``attitude_pct``, ``ability_pct``, ``efficiency_pct``) so that monthly suggestions
and boards average them in SQL. The monthly suggestion (services, bottom half)
scales the month's mean percent to the dimension's monthly maximum
(``evaluation.monthly_weights``): e.g. a mean of 87.5 % of attitude's 30 points is
26.25, then rounded to the point step.

**Weeks and months.** An ISO week belongs to the month of its Thursday — the same
rule that gives an ISO week its year — so every week counts in exactly one month
(``month_of_week``, ``weeks_of_month``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from kefu.evaluations.models import WEEKLY_DIMENSIONS, Criterion, WeeklyEvaluation

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def criterion_fraction(criterion: Criterion, level: int) -> Decimal:
    """The level's worth on 0..1 (see the module docstring)."""
    span = Decimal(criterion.scale_max - criterion.scale_min)
    return Decimal(level - criterion.scale_min) / span


def is_failed(criterion: Criterion, level: int | None) -> bool:
    """A critical criterion scored at or below its fail level (E1: "a failed critical criterion")."""
    return (
        criterion.critical and level is not None and criterion.fail_at_or_below is not None
        and level <= criterion.fail_at_or_below
    )


def dimension_scores(
    scored: Iterable[tuple[Criterion, int | None]], dimensions: Iterable[str] = WEEKLY_DIMENSIONS,
) -> dict[str, Decimal | None]:
    """``{dimension: percent or None}`` from (criterion, level) pairs; level None is N/A.

    Criteria of other dimensions than ``dimensions`` are ignored.
    """
    wanted = list(dimensions)
    fractions: dict[str, list[Decimal]] = {d: [] for d in wanted}
    failed: set[str] = set()
    for criterion, level in scored:
        if criterion.dimension not in fractions or level is None:
            continue
        if is_failed(criterion, level):
            failed.add(criterion.dimension)
        fractions[criterion.dimension].append(criterion_fraction(criterion, level))
    out: dict[str, Decimal | None] = {}
    for dim in wanted:
        if dim in failed:
            out[dim] = Decimal("0.00")
        elif not fractions[dim]:
            out[dim] = None
        else:
            mean = sum(fractions[dim], Decimal(0)) / len(fractions[dim])
            out[dim] = (mean * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return out


def weekly_dimension_scores(evaluation: WeeklyEvaluation) -> dict[str, Decimal | None]:
    """``{"attitude": Decimal percent | None, "ability": …, "efficiency": …}`` of one weekly evaluation.

    Computed from its scores (one query); see the module docstring for the arithmetic.
    """
    rows = evaluation.scores.select_related("criterion")
    return dimension_scores((row.criterion, row.level) for row in rows)


# --- weeks and months -------------------------------------------------------------------------


def week_start(iso_year: int, iso_week: int) -> datetime.date:
    return datetime.date.fromisocalendar(iso_year, iso_week, 1)


def month_of_week(iso_year: int, iso_week: int) -> tuple[int, int]:
    """(year, month) of the week's Thursday."""
    thursday = datetime.date.fromisocalendar(iso_year, iso_week, 4)
    return thursday.year, thursday.month


def weeks_of_month(year: int, month: int) -> list[tuple[int, int]]:
    """The ISO weeks (iso_year, iso_week) whose Thursday lies in the month, in order (4 or 5 of them)."""
    day = datetime.date(year, month, 1)
    # The first Thursday on or after the 1st.
    day += datetime.timedelta(days=(3 - day.weekday()) % 7)
    weeks = []
    while day.month == month:
        iso = day.isocalendar()
        weeks.append((iso.year, iso.week))
        day += datetime.timedelta(days=7)
    return weeks


def month_week_starts(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """[first Monday, last Monday] of the month's weeks, for ``week_start__range`` queries."""
    weeks = weeks_of_month(year, month)
    return week_start(*weeks[0]), week_start(*weeks[-1])
