"""Reports of the annual evaluation (issue 5 item 6): grade distribution per department and year over
year, and one person's history of monthly totals, annual grades and outcomes (policy E2.2, E2.3, E3).

Reads only, through the access rules: a reader sees the results ``core.access.visible`` gives her
(HR, leadership and inspectors all; CS supervisors and department heads their department; an agent her
own published results). Each selector runs a fixed number of queries whatever the number of people.

A person's department is the department her org unit lies in today (results do not keep the unit
they were graded in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.annual import access as aaccess
from kefu.annual.models import AnnualCycle, AnnualResult, AwardNomination, CoachingPlan, Grade, PayProposal
from kefu.core import access
from kefu.people.access import scope_q
from kefu.people.models import Employee, OrgUnit

GRADES = list(Grade.values)
TENTH = Decimal("0.1")


def share(n: int, total: int) -> Decimal | None:
    """n of total as a percentage with one decimal, half up (None when there is nobody)."""
    if not total:
        return None
    return (Decimal(n) * 100 / Decimal(total)).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class Counts:
    """People per final grade in one department and one cycle."""

    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    not_rated: int = 0

    @property
    def rated(self) -> int:
        return sum(self.grades.values())

    def cells(self) -> list[dict[str, Any]]:
        return [{"grade": g, "n": self.grades[g], "share": share(self.grades[g], self.rated)} for g in GRADES]

    def add(self, other: Counts) -> None:
        for g in GRADES:
            self.grades[g] += other.grades[g]
        self.not_rated += other.not_rated


@dataclass
class Distribution:
    cycles: list[AnnualCycle]
    departments: list[OrgUnit | None]  # None: people in no department (placed at the company itself)
    table: dict[tuple[int, int | None], Counts]  # (year, department id) → counts
    totals: dict[int, Counts]  # year → all departments the reader sees

    def get(self, year: int, dept: OrgUnit | None) -> Counts:
        return self.table.get((year, dept.pk if dept else None), Counts())

    def rows_for(self, year: int) -> list[tuple[OrgUnit | None, Counts]]:
        return [(d, self.get(year, d)) for d in self.departments if (year, d.pk if d else None) in self.table]

    def year_over_year(self) -> list[tuple[OrgUnit | None, list[tuple[AnnualCycle, Counts]]]]:
        return [(d, [(c, self.get(c.year, d)) for c in self.cycles if (c.year, d.pk if d else None) in self.table])
                for d in self.departments]


def _department_finder() -> tuple[list[OrgUnit], Any]:
    """Every department (one query) and a function unit path → its department (None outside any)."""
    departments = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).order_by("path"))
    by_length = sorted(departments, key=lambda d: len(d.path), reverse=True)

    def find(path: str) -> OrgUnit | None:
        return next((d for d in by_length if path.startswith(d.path)), None)

    return departments, find


def reads_reports(user) -> bool:
    """The distribution report is for the board's readers (HR, leadership, inspectors, supervisors, heads)."""
    return aaccess.reads_board(user)


def distribution(user) -> Distribution:
    """Final grades per department for every cycle the reader sees (4 queries)."""
    cycles = list(access.visible(user, AnnualCycle).order_by("year"))
    results = access.visible(user, AnnualResult.objects.filter(cycle__in=[c.pk for c in cycles]))
    grouped = (results.order_by().values("cycle__year", "employee__org_unit__path", "rated", "final_grade")
               .annotate(n=Count("pk")))
    departments, find = _department_finder()
    table: dict[tuple[int, int | None], Counts] = {}
    totals: dict[int, Counts] = {c.year: Counts() for c in cycles}
    seen: set[int | None] = set()
    for row in grouped:
        dept = find(row["employee__org_unit__path"])
        key = (row["cycle__year"], dept.pk if dept else None)
        seen.add(key[1])
        counts = table.setdefault(key, Counts())
        if row["rated"] and row["final_grade"] in counts.grades:
            counts.grades[row["final_grade"]] += row["n"]
            totals[key[0]].grades[row["final_grade"]] += row["n"]
        else:
            counts.not_rated += row["n"]
            totals[key[0]].not_rated += row["n"]
    shown: list[OrgUnit | None] = [d for d in departments if d.pk in seen]
    if None in seen:
        shown.append(None)
    return Distribution(cycles=cycles, departments=shown, table=table, totals=totals)


def distribution_headers() -> list[str]:
    head = [_("Year"), _("Cycle status"), _("Department"), _("Rated"), _("Not rated")]
    for label in Grade.labels:
        head += [str(label), _("%(grade)s share (%%)") % {"grade": label}]
    return head


def distribution_rows(dist: Distribution) -> list[list[Any]]:
    """One row per cycle and department, then the cycle's total (the Excel export)."""
    rows: list[list[Any]] = []
    for cycle in dist.cycles:
        lines = [(d.name if d else _("No department"), c) for d, c in dist.rows_for(cycle.year)]
        lines.append((_("All departments"), dist.totals[cycle.year]))
        for name, counts in lines:
            row: list[Any] = [cycle.year, str(cycle.get_status_display()), name, counts.rated, counts.not_rated]
            for cell in counts.cells():
                row += [cell["n"], float(cell["share"]) if cell["share"] is not None else None]
            rows.append(row)
    return rows


# ---- one person's history ---------------------------------------------------------------------------

def history_person(user, employee_no: str) -> Employee | None:
    """The person whose history ``user`` may read: herself, or someone in her board scope (else None → 404)."""
    if not aaccess._signed_in(user):
        return None
    own = Q(user=user)
    scoped = scope_q(user, aaccess.BOARD_ROLES, field="org_unit")
    return (Employee.objects.select_related("org_unit").filter(own | scoped)
            .filter(employee_no=employee_no).first())


@dataclass
class History:
    employee: Employee
    years: list[int]
    months: dict[int, list[Any]]  # year → 12 cells (a final monthly evaluation or None)
    results: list[AnnualResult]  # each with .pay_proposal and .awards attached
    coaching: list[CoachingPlan]


def _visible(user, qs: QuerySet) -> QuerySet:
    """The outcome rows the model's own rule lets ``user`` see; without a rule, all of them (the caller
    has already narrowed ``qs`` to results or a person she may read)."""
    if access._rule(qs.model) is not None:
        return access.visible(user, qs)
    return qs


def history(user, employee: Employee) -> History:
    """Monthly totals across the years, annual results and their outcomes (6 queries at most)."""
    from kefu.evaluations.models import MonthlyEvaluation

    evaluations = list(access.visible(user, MonthlyEvaluation.objects.filter(
        agent=employee, status=MonthlyEvaluation.Status.FINAL)).order_by("year", "month"))
    results = list(access.visible(user, AnnualResult.objects.filter(employee=employee))
                   .select_related("cycle").order_by("-cycle__year"))
    years = sorted({e.year for e in evaluations} | {r.cycle.year for r in results}, reverse=True)
    months: dict[int, list[Any]] = {y: [None] * 12 for y in years}
    for ev in evaluations:
        months[ev.year][ev.month - 1] = ev
    ids = [r.pk for r in results]
    pay: dict[int, PayProposal] = {}
    awards: dict[int, list[AwardNomination]] = {}
    if ids:
        proposals = _visible(user, PayProposal.objects.filter(result_id__in=ids))
        if employee.user_id == getattr(user, "pk", None):  # her own: only once HR has approved the pay (E3.1)
            proposals = proposals.filter(result__cycle__pay_approved_at__isnull=False)
        pay = {p.result_id: p for p in proposals}
        for a in _visible(user, AwardNomination.objects.filter(result_id__in=ids)).order_by("kind"):
            awards.setdefault(a.result_id, []).append(a)
    for r in results:
        r.pay_proposal = pay.get(r.pk)  # type: ignore[attr-defined]
        r.awards = awards.get(r.pk, [])  # type: ignore[attr-defined]
    coaching = list(_visible(user, CoachingPlan.objects.filter(employee=employee))
                    .select_related("annual_result__cycle", "monthly_evaluation").order_by("-created_at", "-pk"))
    return History(employee=employee, years=years, months=months, results=results, coaching=coaching)
