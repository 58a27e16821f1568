"""Pages of pay proposals (E3.1) and appeals of annual results (G3.1): parse, call pay.py / appeals.py, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.annual import appeals as appeal_services
from kefu.annual import pay as pay_services
from kefu.annual.access import HR
from kefu.annual.models import AnnualAppeal, AnnualCycle, AnnualResult, Grade, PayProposal
from kefu.core import access, calendar, tabular
from kefu.core.views import flash_errors
from kefu.people.access import has_role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def _require_hr(request: HttpRequest) -> None:
    if not has_role(request.user, *HR):
        raise PermissionDenied


def pay_index(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    cycles = (access.visible(request.user, AnnualCycle).filter(status=AnnualCycle.Status.PUBLISHED)
              .annotate(n_pay=Count("results__pay"), n_rated=Count("results", filter=Q(results__rated=True)))
              .order_by("-year"))
    return render(request, "annual/pay_index.html", {"cycles": cycles})


def _pay_context(request: HttpRequest, cycle: AnnualCycle, **extra) -> dict:
    rows = list(access.visible(request.user, pay_services.proposals(cycle)))
    missing = (cycle.results.filter(rated=True, pay__isnull=True).count()
               if cycle.status == AnnualCycle.Status.PUBLISHED else 0)
    totals = access.visible(request.user, PayProposal.objects.filter(result__cycle=cycle)).aggregate(
        total=Sum("amount"), base=Sum("base_pay"))
    published = cycle.status == AnnualCycle.Status.PUBLISHED
    try:
        closes = pay_services.appeal_window_closes(cycle) if published else None
    except calendar.CalendarNotCovered:  # approval_problems names it
        closes = None
    return {
        "cycle": cycle, "rows": rows, "missing": missing, "totals": totals, "published": published,
        "locked": cycle.pay_approved_at is not None,
        "pct": pay_services.pct_table(cycle), "grades": Grade.choices,
        "closes": closes,
        "problems": pay_services.approval_problems(cycle) if published and not cycle.pay_approved_at else [],
        "columns": pay_services.EXPORT_COLUMNS, **extra,
    }


def pay(request: HttpRequest, year: int) -> HttpResponse:
    _require_hr(request)
    cycle = access.get_for_view(request.user, AnnualCycle.objects.select_related("pay_approved_by"), year=year)
    return render(request, "annual/pay.html", _pay_context(request, cycle))


def _cycle_for_change(request: HttpRequest, year: int) -> AnnualCycle:
    _require_hr(request)
    return access.get_for_view(request.user, AnnualCycle, year=year)


@require_POST
def pay_prepare(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle_for_change(request, year)
    try:
        n = pay_services.proposals_prepare(actor=request.user, cycle=cycle)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("%(n)s pay proposal(s) prepared.") % {"n": n})
    return redirect("annual:pay", year=year)


@require_POST
def pay_base(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = access.get_for_change(request.user, PayProposal.objects.select_related("result__cycle"), pk=pk)
    try:
        pay_services.base_pay_set(actor=request.user, proposal=proposal, base_pay=request.POST.get("base_pay", ""),
                                  note=request.POST.get("note"))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("annual:pay", year=proposal.result.cycle.year)


@require_POST
def pay_import(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle_for_change(request, year)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV or Excel file."))
        return redirect("annual:pay", year=year)
    try:
        report = pay_services.base_pay_import(actor=request.user, cycle=cycle, source=upload, name=upload.name)
    except tabular.ImportRejected as e:
        cycle.refresh_from_db()
        context = _pay_context(request, cycle, import_errors=e.report.errors)
        return render(request, "annual/pay.html", context, status=400)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Base pay imported: %(updated)s changed, %(unchanged)s unchanged.") % {
            "updated": report.updated, "unchanged": report.unchanged})
    return redirect("annual:pay", year=year)


@require_POST
def pay_approve(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle_for_change(request, year)
    try:
        pay_services.pay_approve(actor=request.user, cycle=cycle)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("The %(year)s pay proposals are approved.") % {"year": year})
    return redirect("annual:pay", year=year)


def pay_export(request: HttpRequest, year: int) -> HttpResponse:
    _require_hr(request)
    cycle = access.get_for_view(request.user, AnnualCycle, year=year)
    fmt = request.GET.get("format", "xlsx")
    try:
        if fmt == "csv":
            encoding = "gbk" if request.GET.get("encoding") == "gbk" else "utf-8"
            body = pay_services.export_csv(cycle, encoding=encoding)
            response = HttpResponse(body, content_type=f"text/csv; charset={'gb18030' if encoding == 'gbk' else 'utf-8'}")
            suffix = "-gbk" if encoding == "gbk" else ""
            response["Content-Disposition"] = f'attachment; filename="pay-{year}{suffix}.csv"'
        else:
            response = HttpResponse(pay_services.export_xlsx(cycle), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="pay-{year}.xlsx"'
    except ValidationError as e:
        flash_errors(request, e)
        return redirect("annual:pay", year=year)
    return response


# ---- appeals ------------------------------------------------------------------------------------------


@require_POST
def appeal_file(request: HttpRequest, pk: int) -> HttpResponse:
    result = access.get_for_view(request.user, AnnualResult.objects.select_related("cycle"), pk=pk)
    try:
        appeal_services.appeal_file(actor=request.user, result=result, reason=request.POST.get("reason", ""))
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Your appeal is with HR."))
    return redirect("annual:mine")


def appeals(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    rows = list(access.visible(request.user, AnnualAppeal.objects.select_related(
        "result__cycle", "result__employee__org_unit", "decided_by__employee")).order_by("status", "-filed_at", "-pk"))
    return render(request, "annual/appeals.html", {
        "rows": rows, "grades": Grade.choices, "decisions": AnnualAppeal.Decision.choices,
        "now": timezone.now()})


@require_POST
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = access.get_for_change(request.user, AnnualAppeal.objects.select_related("result__employee"), pk=pk)
    try:
        appeal_services.appeal_decide(actor=request.user, appeal=appeal, decision=request.POST.get("decision", ""),
                                      new_grade=request.POST.get("new_grade", ""),
                                      note=request.POST.get("note", ""))
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("The appeal is decided; the person is notified."))
    return redirect("annual:appeals")
