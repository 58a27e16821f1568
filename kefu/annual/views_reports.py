"""Report pages (issue 5 item 6): grade distribution per department and year over year (with an Excel
export), and one person's history of monthly totals, annual grades and outcomes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.annual import reports
from kefu.core import tabular
from kefu.people.access import employee_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(request: HttpRequest, years: list[int]) -> int | None:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return years[-1] if years else None
    return year if year in years else (years[-1] if years else None)


def distribution(request: HttpRequest) -> HttpResponse:
    if not reports.reads_reports(request.user):
        raise PermissionDenied
    dist = reports.distribution(request.user)
    years = [c.year for c in dist.cycles]
    year = _year(request, years)
    return render(request, "annual/report_distribution.html", {
        "dist": dist, "year": year, "years": years,
        "rows": [(d, c.cells(), c) for d, c in dist.rows_for(year)] if year else [],
        "total": dist.totals.get(year) if year else None,
        "yoy": [(d, [(cy, c.cells(), c) for cy, c in lines]) for d, lines in dist.year_over_year()],
        "grades": reports.Grade.choices,
        "chart": {"years": [str(y) for y in years], "series": [
            {"key": g, "name": str(label),
             "data": [float(dist.totals[y].cells()[i]["share"] or 0) for y in years]}
            for i, (g, label) in enumerate(reports.Grade.choices)]},
    })


def distribution_export(request: HttpRequest) -> HttpResponse:
    if not reports.reads_reports(request.user):
        raise PermissionDenied
    dist = reports.distribution(request.user)
    data = tabular.write_xlsx(reports.distribution_headers(), reports.distribution_rows(dist),
                              sheet_title=_("Grade distribution"))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="annual-grade-distribution.xlsx"'
    return response


def history(request: HttpRequest, employee_no: str) -> HttpResponse:
    employee = reports.history_person(request.user, employee_no)
    if employee is None:
        raise Http404
    h = reports.history(request.user, employee)
    return render(request, "annual/history.html", {
        "h": h, "employee": employee, "month_numbers": range(1, 13),
        "month_rows": [(y, h.months[y]) for y in h.years],
    })


def my_history(request: HttpRequest) -> HttpResponse:
    me = employee_of(request.user)
    if me is None:
        raise Http404
    return redirect("annual:history", employee_no=me.employee_no)
