"""KPI pages (issue 3 item 5): an agent's own figures with trend charts, the team table, its export.

Access: an agent reads only her own KPIs; team leads, supervisors, department heads, HR,
leadership and inspectors read those of the agents in the units their role covers
(``access.kpi_agents``) — anybody else gets 404 for an agent's page. The team table is for
those roles only (403 for the rest).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import tabular
from kefu.people.access import employee_of, scope_q
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment
from kefu.service import access as service_access
from kefu.service import kpis
from kefu.service.kpis import MONTH, WEEK, Kpis, Period, PeriodError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50  # as the other lists (issue 9: half the rows to draw)
TREND = {MONTH: 6, WEEK: 12}  # periods on the trend charts


def _period(request: HttpRequest, *, default_kind: str = MONTH) -> tuple[Period, str]:
    """The period asked for (``?period=2026-03`` or ``2026-W10``), else the current month or week."""
    text = (request.GET.get("period") or "").strip()
    kind = str(request.GET.get("kind")) if request.GET.get("kind") in (MONTH, WEEK) else default_kind
    if text:
        try:
            period = kpis.parse_period(text)
            return period, ""
        except PeriodError as e:
            return kpis.period_of(timezone.localdate(), kind), str(e)
    return kpis.period_of(timezone.localdate(), kind), ""


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _chart_data(periods: list[Period], figures: list[Kpis]) -> dict[str, Any]:
    def ratio(v: float | None) -> float | None:
        return None if v is None else round(v * 100, 1)

    def r(v: float | None, d: int) -> float | None:
        return None if v is None else round(v, d)

    return {
        "labels": [p.key for p in periods],
        "charts": [
            {"id": "chart-sla", "title": _("SLA rates"), "unit": "%", "max": 100, "series": [
                {"name": _("First reply"), "type": "line", "data": [ratio(f.first_reply_rate) for f in figures]},
                {"name": _("Resolution"), "type": "line", "data": [ratio(f.resolution_rate) for f in figures]},
                {"name": _("Rated 4–5"), "type": "line", "data": [ratio(f.satisfied_share) for f in figures]},
            ]},
            {"id": "chart-volume", "title": _("Interactions"), "unit": "", "series": [
                {"name": _("Handled"), "type": "bar", "data": [f.handled for f in figures]},
                {"name": _("Complaints"), "type": "bar", "data": [f.complaints for f in figures]},
                {"name": _("Backlog"), "type": "line", "data": [f.backlog for f in figures]},
            ]},
            # Minutes to a first reply and to resolution differ a hundredfold: one axis each.
            {"id": "chart-minutes", "title": _("Median working minutes"), "unit": _("min"), "dual": True, "series": [
                {"name": _("To first reply"), "type": "line",
                 "data": [r(f.first_reply_median_minutes, 1) for f in figures]},
                {"name": _("To resolution"), "type": "line",
                 "data": [r(f.resolution_median_minutes, 1) for f in figures]},
            ]},
            {"id": "chart-rating", "title": _("Mean rating"), "unit": "★", "max": 5, "series": [
                {"name": _("Mean rating"), "type": "line", "data": [r(f.rating_mean, 2) for f in figures]},
            ]},
        ],
    }


def _agent_page(request: HttpRequest, employee: Employee, *, mine: bool) -> HttpResponse:
    kind = request.GET.get("kind") if request.GET.get("kind") in (MONTH, WEEK) else None
    period, period_error = _period(request, default_kind=kind or MONTH)
    kind = period.kind
    periods = kpis.recent_periods(period, TREND[kind])
    table = kpis.agent_kpis([employee.pk], periods)
    figures = [table.get(employee.pk, p) for p in periods]
    current = figures[-1]
    return render(request, "service/kpi_agent.html", {
        "employee": employee,
        "mine": mine,
        "period": period,
        "period_error": period_error,
        "previous": period.shifted(-1),
        "next": period.shifted(1) if period.end <= timezone.localdate() else None,
        "kind": kind,
        "k": current,
        "cards": _cards(current),
        "chart_data": _chart_data(periods, figures),
        "rows": list(zip(reversed(periods), reversed(figures), strict=True)),
        "can_draw_evidence": service_access.evaluated_agents(request.user).filter(pk=employee.pk).exists(),
        "week_of_period": kpis.period_of(min(period.last_day, timezone.localdate()), WEEK).key,
    })


def _cards(k: Kpis) -> list[dict[str, Any]]:
    return [
        {"id": "handled", "label": _("Handled"), "value": str(k.handled),
         "note": _("%(n)s complaints") % {"n": k.complaints}},
        {"id": "first-reply-rate", "label": _("First reply on time"), "value": pct(k.first_reply_rate),
         "note": _("%(met)s met · %(breached)s late · %(overdue)s overdue")
         % {"met": k.first_reply_met, "breached": k.first_reply_breached, "overdue": k.first_reply_overdue}},
        {"id": "resolution-rate", "label": _("Resolved on time"), "value": pct(k.resolution_rate),
         "note": _("%(met)s met · %(breached)s late · %(overdue)s overdue")
         % {"met": k.resolution_met, "breached": k.resolution_breached, "overdue": k.resolution_overdue}},
        {"id": "median-first-reply", "label": _("Median to first reply"),
         "value": _num(k.first_reply_median_minutes), "note": _("working minutes")},
        {"id": "median-resolution", "label": _("Median to resolution"),
         "value": _num(k.resolution_median_minutes), "note": _("working minutes")},
        {"id": "backlog", "label": _("Backlog"), "value": str(k.backlog), "note": _("open past due")},
        {"id": "satisfaction", "label": _("Satisfaction"),
         "value": "—" if k.rating_mean is None else f"{k.rating_mean:.2f} ★",
         "note": _("%(share)s rated 4–5 · %(n)s answers") % {"share": pct(k.satisfied_share), "n": k.answers}},
    ]


def kpi_mine(request: HttpRequest) -> HttpResponse:
    """My KPIs: the signed-in agent's own figures."""
    employee = employee_of(request.user)
    if employee is None:
        raise Http404(_("Your login is not linked to an employee record."))
    employee = Employee.objects.select_related("org_unit").get(pk=employee.pk)
    return _agent_page(request, employee, mine=True)


def kpi_agent(request: HttpRequest, employee_no: str) -> HttpResponse:
    try:
        employee = service_access.kpi_agents(request.user, Employee.objects.select_related("org_unit")).get(
            employee_no=employee_no
        )
    except Employee.DoesNotExist:
        raise Http404 from None
    return _agent_page(request, employee, mine=employee.user_id == request.user.pk)


# ---- the team table ------------------------------------------------------------------------------


def team_agents(user, period: Period, unit: OrgUnit | None = None) -> QuerySet[Employee]:
    """The agents in ``user``'s KPI scope who worked as agents during ``period``."""
    agent_role = RoleAssignment.objects.filter(
        user=OuterRef("user"), role=Role.AGENT, start_date__lt=period.end,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
    qs = (
        Employee.objects.filter(scope_q(user, service_access.KPI_READERS), org_unit__is_customer_service=True,
                                hire_date__lt=period.end)
        .filter(Q(leave_date__isnull=True) | Q(leave_date__gte=period.start))
        .exclude(status=Employee.Status.PENDING)
        .filter(Exists(agent_role))
    )
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return qs


def _team_units(user) -> QuerySet[OrgUnit]:
    from kefu.people.access import units_in_scope

    return units_in_scope(user, service_access.KPI_READERS).filter(is_customer_service=True).order_by("path")


def _team_request(request: HttpRequest) -> tuple[Period, str, OrgUnit | None, QuerySet[OrgUnit]]:
    if not service_access.reads_team_kpis(request.user):
        raise PermissionDenied
    period, error = _period(request)
    units = _team_units(request.user)
    unit = None
    if request.GET.get("unit"):
        unit = units.filter(pk=request.GET["unit"]).first() if str(request.GET["unit"]).isdigit() else None
        if unit is None:
            error = error or _("Choose one of the listed units.")
    return period, error, unit, units


def kpi_team(request: HttpRequest) -> HttpResponse:
    """Team KPIs: one row per agent in the reader's scope, one period, paginated."""
    period, error, unit, units = _team_request(request)
    agents = team_agents(request.user, period, unit).select_related("org_unit").order_by("org_unit__path", "employee_no")
    page = Paginator(agents, PER_PAGE).get_page(request.GET.get("page"))
    employees = list(page.object_list)
    # More than one page: the team's totals need every agent's figures, which hold the page's too
    # (issue 9: one pass over the interactions, not two).
    totals = kpis.agent_kpis(agents.order_by(), [period]) if page.paginator.num_pages > 1 else None
    table = totals if totals is not None else kpis.agent_kpis([e.pk for e in employees], [period])
    rows = [{"employee": e, "k": table.get(e.pk, period)} for e in employees]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "service/kpi_team.html", {
        "period": period,
        "error": error,
        "unit": unit,
        "units": units,
        "page": page,
        "rows": rows,
        "team": _team_total(totals.rows.values() if totals else [r["k"] for r in rows]),
        "query": query.urlencode(),
        "previous": period.shifted(-1),
        "next": period.shifted(1) if period.end <= timezone.localdate() else None,
        "can_draw_evidence": service_access.is_evaluator(request.user),
        "week_of_period": kpis.period_of(min(period.last_day, timezone.localdate()), WEEK).key,
    })


def _team_total(figures) -> Kpis:
    """The team's counts added up (medians and means are not additive: left out)."""
    total = Kpis()
    answers_weighted = 0.0
    for k in figures:
        for name in ("handled", "complaints", "first_reply_met", "first_reply_breached", "first_reply_overdue",
                     "resolution_met", "resolution_breached", "resolution_overdue", "backlog", "answers",
                     "rating_high"):
            setattr(total, name, getattr(total, name) + getattr(k, name))
        if k.rating_mean is not None:
            answers_weighted += k.rating_mean * k.answers
    total.rating_mean = answers_weighted / total.answers if total.answers else None
    return total


def export_headers() -> list[str]:
    return [
        _("Employee number"), _("Name"), _("Org unit"), _("Period"), _("Handled"), _("Complaints"),
        _("First reply met"), _("First reply breached"), _("First reply overdue"), _("First-reply SLA rate"),
        _("Resolution met"), _("Resolution breached"), _("Resolution overdue"), _("Resolution SLA rate"),
        _("Median working minutes to first reply"), _("Median working minutes to resolution"),
        _("Backlog (open past due)"), _("Survey answers"), _("Mean rating"), _("Share rated 4–5"),
    ]


def kpi_team_export(request: HttpRequest) -> HttpResponse:
    """The team table of one period as .xlsx: every agent in scope (not only one page), a fixed number of queries."""
    period, _error, unit, _units = _team_request(request)
    agents = list(
        team_agents(request.user, period, unit).select_related("org_unit").order_by("org_unit__path", "employee_no")
    )
    table = kpis.agent_kpis(team_agents(request.user, period, unit), [period])

    def r(v: float | None, d: int) -> float | None:
        return None if v is None else round(v, d)

    rows = []
    for e in agents:
        k = table.get(e.pk, period)
        rows.append([
            e.employee_no, e.name, e.org_unit.name, period.key, k.handled, k.complaints,
            k.first_reply_met, k.first_reply_breached, k.first_reply_overdue, r(k.first_reply_rate, 4),
            k.resolution_met, k.resolution_breached, k.resolution_overdue, r(k.resolution_rate, 4),
            r(k.first_reply_median_minutes, 1), r(k.resolution_median_minutes, 1), k.backlog, k.answers,
            r(k.rating_mean, 2), r(k.satisfied_share, 4),
        ])
    data = tabular.write_xlsx(export_headers(), rows, sheet_title=period.key)
    response = HttpResponse(data, content_type=XLSX)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="team-kpis-{period.key}-{stamp}.xlsx"'
    return response
