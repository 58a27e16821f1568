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


# E3.1 pay proposals (helper "pay") ------------------------------------------------------------------


class PayProposalOut(Schema):
    employee_no: str
    name: str
    department: str
    year: int
    grade: str
    pay_change_pct: str
    base_pay: Optional[str]  # noqa: UP045
    pay_change_amount: Optional[str]  # noqa: UP045
    approved: bool


@router.get("/annual/{int:year}/pay", response={200: list[PayProposalOut], 401: ErrorOut, 403: ErrorOut,
                                                 404: ErrorOut},
            summary="A year's pay proposals (HR only, within HR's scope; policy E3.1)")
def annual_pay(request: HttpRequest, year: int):
    from django.core.exceptions import PermissionDenied

    from kefu.annual import pay
    from kefu.annual.access import HR
    from kefu.people.access import has_role

    user = caller(request)
    if not has_role(user, *HR):
        raise PermissionDenied
    cycle = access.visible(user, AnnualCycle).filter(year=year).first()
    if cycle is None:
        raise Http404
    rows = access.visible(user, pay.proposals(cycle))
    return [PayProposalOut(employee_no=p.result.employee.employee_no, name=p.result.employee.name,
                           department=p.result.employee.org_unit.name, year=cycle.year, grade=p.grade,
                           pay_change_pct=f"{p.pct:.2f}", base_pay=_dec(p.base_pay), pay_change_amount=_dec(p.amount),
                           approved=cycle.pay_approved_at is not None)
            for p in rows]
