"""The annual API (issue 5 item 7): a year's results within the caller's scope.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at import.
"""

from typing import Optional

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from kefu.annual.models import AnnualCycle, AnnualResult
from kefu.api.common import caller
from kefu.api.schemas import ErrorOut
from kefu.core import access

router = Router(tags=["annual"])


class AnnualResultOut(Schema):
    employee_no: str
    name: str
    rated: bool
    not_rated_reason: str
    composite: Optional[str]  # noqa: UP045
    proposed_grade: str
    final_grade: str
    flags: list[str]


def _dec(value) -> Optional[str]:  # noqa: UP045
    return None if value is None else f"{value:.2f}"


@router.get("/annual/{int:year}/results", response={200: list[AnnualResultOut], 401: ErrorOut, 404: ErrorOut},
            summary="A year's annual results you can see")
def annual_results(request: HttpRequest, year: int):
    user = caller(request)
    cycle = AnnualCycle.objects.filter(year=year).first()
    qs = access.visible(user, AnnualResult.objects.filter(cycle=cycle)) if cycle else AnnualResult.objects.none()
    rows = list(qs.select_related("employee").order_by("employee__employee_no"))
    if cycle is None or (not rows and not access.can_see(user, cycle)):
        raise Http404
    return [AnnualResultOut(employee_no=r.employee.employee_no, name=r.employee.name, rated=r.rated,
                            not_rated_reason=r.not_rated_reason, composite=_dec(r.composite),
                            proposed_grade=r.proposed_grade, final_grade=r.final_grade, flags=list(r.flags))
            for r in rows]
