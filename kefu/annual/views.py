"""Pages: the cycles (HR opens one), the calibration board, an agent's own result."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.annual import access as aaccess
from kefu.annual import distribution, services
from kefu.annual.models import AnnualCycle, AnnualResult, Grade
from kefu.core import access
from kefu.core.links import pk_url
from kefu.core.paging import CountedPaginator
from kefu.core.views import flash_errors
from kefu.people.access import employee_of, has_role, scope_q


def cycles(request: HttpRequest) -> HttpResponse:
    if not aaccess.reads_board(request.user):
        raise PermissionDenied
    if request.method == "POST":
        if not has_role(request.user, *aaccess.HR):
            raise PermissionDenied
        try:
            year = int(request.POST.get("year", ""))
            cycle = services.cycle_open(actor=request.user, year=year)
        except ValueError:
            messages.error(request, _("Year: enter a year such as 2026."))
        except ValidationError as e:
            flash_errors(request, e)
        else:
            return redirect("annual:board", year=cycle.year)
    rows = access.visible(request.user, AnnualCycle).annotate(
        rated=Count("results", filter=Q(results__rated=True)),
        population=Count("results"))
    return render(request, "annual/cycles.html", {"cycles": rows, "can_open": has_role(request.user, *aaccess.HR)})


BOARD_PER_PAGE = 50  # as the other lists


def board(request: HttpRequest, year: int) -> HttpResponse:
    if not aaccess.reads_board(request.user):
        raise PermissionDenied
    cycle = access.get_for_view(request.user, AnnualCycle, year=year)
    visible = access.visible(request.user, cycle.results.all())
    # Issue 9: the table is paged (a company's year is thousands of rows); the distribution counts
    # everyone visible in one grouped query, which gives the paginator its count too.
    counts = dict.fromkeys(Grade.values, 0)
    proposed = dict.fromkeys(Grade.values, 0)
    total = 0
    for is_rated, final, proposal, k in (visible.order_by().values("rated", "final_grade", "proposed_grade")
                                         .annotate(k=Count("pk"))
                                         .values_list("rated", "final_grade", "proposed_grade", "k")):
        total += k
        if is_rated:
            counts[final] = counts.get(final, 0) + k
            proposed[proposal] = proposed.get(proposal, 0) + k
    page = CountedPaginator(visible.select_related("employee", "employee__org_unit")
                            .order_by("-rated", "-composite", "employee__employee_no"), BOARD_PER_PAGE,
                            count=total).get_page(request.GET.get("page"))
    results = list(page.object_list)
    p = cycle.parameters
    rated = sum(counts.values())
    all_counts = services.final_grade_counts(cycle)  # everyone's, for the quotas
    n = sum(all_counts.values())
    cap, floor = distribution.quotas(n, excellent_max_pct=Decimal(p["excellent_max_pct"]),
                                     fail_min_pct=Decimal(p["fail_min_pct"]), rounding=p["quota_rounding"])
    dist = [{"grade": g, "label": label, "count": counts[g], "proposed": proposed[g],
             "pct": (counts[g] * 200 + rated) // (2 * rated) if rated else 0}  # half up
            for g, label in Grade.choices]
    is_hr = has_role(request.user, *aaccess.HR)
    # The results this user enters achievements for (her CS supervisor scope), in one query.
    editable: set[int] = set()
    if cycle.status == AnnualCycle.Status.OPEN and has_role(request.user, *aaccess.ACHIEVEMENT_EDITORS):
        editable = set(cycle.results.filter(scope_q(request.user, aaccess.ACHIEVEMENT_EDITORS,
                                                    field="employee__org_unit"), rated=True)
                       .exclude(employee__user_id=getattr(request.user, "pk", 0)).values_list("pk", flat=True))
    # Per-row links and the grade menu built here once, not by template tags on every row.
    grade_form = is_hr and cycle.status == AnnualCycle.Status.CALIBRATING
    grade_url = pk_url("annual:grade") if grade_form else None
    achievements_url = pk_url("annual:achievements") if editable else None
    grades = [(v, str(label)) for v, label in Grade.choices]
    for r in results:
        r.flag_labels = [str(FLAG_LABELS.get(f, f)) for f in r.flags]  # type: ignore[attr-defined]
        r.enters_achievements = r.pk in editable  # type: ignore[attr-defined]
        r.history_url = reverse("annual:history", args=[r.employee.employee_no])  # type: ignore[attr-defined]
        if achievements_url and r.enters_achievements:  # type: ignore[attr-defined]
            r.achievements_url = achievements_url(r.pk)  # type: ignore[attr-defined]
        if grade_url:
            r.grade_url = grade_url(r.pk)  # type: ignore[attr-defined]
            r.grade_options = format_html_join(  # type: ignore[attr-defined]
                "", '<option value="{}"{}>{}</option>',
                ((v, mark_safe(" selected") if v == r.final_grade else "", label) for v, label in grades))
    return render(request, "annual/board.html", {
        "cycle": cycle, "results": results, "page": page, "rated_count": rated, "n": n, "cap": cap, "floor": floor, "dist": dist,
        "problems": services.check(cycle, all_counts) if cycle.status == AnnualCycle.Status.CALIBRATING else [],
        "is_hr": is_hr, "is_leadership": has_role(request.user, *aaccess.LEADERSHIP),
        "grades": Grade.choices, "min_population": p["min_population"], "S": AnnualCycle.Status,
        "chart": _chart(dist, cap=cap, floor=floor),
    })


def _chart(dist: list[dict], *, cap: int, floor: int) -> dict:
    """The board's bar chart (board_chart.js): proposed and final counts per grade, the cap and floor marked."""
    return {
        "labels": [str(d["label"]) for d in dist],
        "series": [{"key": "proposed", "name": _("Proposed"), "data": [d["proposed"] for d in dist]},
                   {"key": "final", "name": _("Final"), "data": [d["count"] for d in dist]}],
        # policy E2.3: at most the cap excellent (first bar), at least the floor fail (last bar)
        "marks": [{"key": "cap", "name": _("Excellent at most %(n)s") % {"n": cap}, "short": f"≤ {cap}",
                   "data": [cap if d["grade"] == Grade.EXCELLENT else None for d in dist]},
                  {"key": "floor", "name": _("Fail at least %(n)s") % {"n": floor}, "short": f"≥ {floor}",
                   "data": [floor if d["grade"] == Grade.FAIL else None for d in dist]}],
        "y_name": _("People"),
    }


FLAG_LABELS = {
    distribution.CAPPED: gettext_lazy("Over the excellent cap"),
    distribution.TIE_AT_CAP: gettext_lazy("Tied at the excellent cap"),
    distribution.FORCED_FAIL: gettext_lazy("Made fail to meet the floor"),
    distribution.TIE_AT_FLOOR: gettext_lazy("Tied at the fail floor"),
    distribution.QUOTA_WOULD_APPLY: gettext_lazy("The quota would change this grade"),
    services.NO_RATINGS: gettext_lazy("No survey answers: satisfaction left out"),
}

TRANSITIONS = {"calibrate": services.cycle_calibrate, "submit": services.cycle_submit,
               "approve": services.cycle_approve, "publish": services.cycle_publish}


@require_POST
def transition(request: HttpRequest, year: int) -> HttpResponse:
    cycle = access.get_for_view(request.user, AnnualCycle, year=year)
    step = TRANSITIONS.get(request.POST.get("step", ""))
    if step is None:
        raise Http404
    try:
        step(actor=request.user, cycle=cycle)
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("annual:board", year=year)


@require_POST
def grade(request: HttpRequest, pk: int) -> HttpResponse:
    result = access.get_for_view(request.user, AnnualResult.objects.select_related("cycle"), pk=pk)
    try:
        services.grade_change(actor=request.user, result=result, grade=request.POST.get("grade", ""),
                              reason=request.POST.get("reason", ""))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("annual:board", year=result.cycle.year)


@require_POST
def achievements(request: HttpRequest, pk: int) -> HttpResponse:
    result = access.get_for_view(request.user, AnnualResult.objects.select_related("cycle"), pk=pk)
    try:
        score: Decimal | None = Decimal(request.POST.get("score", ""))
    except InvalidOperation:
        score = None  # the service says so, after it has checked who is asking (403 before a form error)
    try:
        services.achievements_set(actor=request.user, result=result, score=score,
                                  evidence=request.POST.get("evidence", ""))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("annual:board", year=result.cycle.year)


def mine(request: HttpRequest) -> HttpResponse:
    me = employee_of(request.user)
    if me is None:
        raise PermissionDenied
    results = access.visible(request.user, AnnualResult.objects.filter(employee=me).select_related("cycle"))
    return render(request, "annual/mine.html", {"results": results})
