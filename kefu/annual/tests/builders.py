"""Hand-built facts for the annual tests: final monthly evaluations and survey answers."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tests.builders import monthly_draft
from kefu.people.models import Employee
from kefu.service.tests.builders import answer, interaction, local


def final_months(agent: Employee, year: int, totals: list[str], *, first_month: int = 1) -> None:
    """One final monthly evaluation per total, from ``first_month`` on (setup data, not the flow)."""
    for i, total in enumerate(totals):
        ev = monthly_draft(agent, year, first_month + i)
        MonthlyEvaluation.objects.filter(pk=ev.pk).update(
            status=MonthlyEvaluation.Status.FINAL, total=Decimal(total), finalised_at=timezone.now())


def ratings(agent: Employee, when_ratings: list[tuple[tuple[int, ...], int]]) -> None:
    """Survey answers: ((year, month, day, hour, minute), rating) in company local time."""
    for when, rating in when_ratings:
        at = local(*when)
        answer(interaction(agent, at, resolved_at=at, resolver=agent), rating, at)
