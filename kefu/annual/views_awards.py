"""Award pages (policy E3.2): nominations with the candidates and their facts, leadership's decisions,
the certificate PDF, and the promotion priority list with its Excel export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.annual import access as aaccess
from kefu.annual import awards as svc
from kefu.annual.models import AnnualCycle, AwardKind, AwardNomination
from kefu.core import access, tabular
from kefu.core.views import flash_errors
from kefu.people.access import has_role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def _cycle(request: HttpRequest, year: int) -> AnnualCycle:
    if not aaccess.reads_board(request.user):
        raise PermissionDenied
    return access.get_for_view(request.user, AnnualCycle, year=year)


def awards(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle(request, year)
    published = cycle.status == AnnualCycle.Status.PUBLISHED
    is_hr = has_role(request.user, *aaccess.HR)
    approved = svc.approved_counts(cycle)
    kinds = [{"kind": k, "label": label, "quota": svc.quota(cycle, k), "approved": approved.get(k, 0)}
             for k, label in AwardKind.choices]
    return render(request, "annual/awards.html", {
        "cycle": cycle, "published": published, "kinds": kinds,
        "nominations": list(svc.nominations(cycle, request.user)) if published else [],
        "outstanding": svc.outstanding_candidates(cycle, request.user) if published else [],
        "stars": svc.service_star_ranking(cycle, request.user) if published else [],
        "can_nominate": is_hr and published,
        "can_decide": has_role(request.user, *aaccess.LEADERSHIP),
        "me": request.user.pk,
        "N": AwardNomination.Status, "K": AwardKind,
    })


@require_POST
def nominate(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle(request, year)
    kind = request.POST.get("kind", "")
    try:
        result = access.get_for_view(request.user, cycle.results.all(), pk=int(request.POST.get("result", "")))
    except ValueError as e:
        raise Http404 from e
    try:
        nomination = svc.nomination_create(actor=request.user, cycle=cycle, kind=kind, result=result,
                                           reason=request.POST.get("reason", ""))
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("%(name)s is nominated for the %(award)s.") % {
            "name": result.employee.name, "award": nomination.get_kind_display()})
    anchor = "#stars" if kind == AwardKind.SERVICE_STAR else "#outstanding"
    return redirect(reverse("annual:awards", args=[year]) + anchor)


@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = access.get_for_view(request.user, AwardNomination.objects.select_related("cycle"), pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        svc.nomination_decide(actor=request.user, nomination=nomination, approve=decision == "approve",
                              note=request.POST.get("note", ""))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect(reverse("annual:awards", args=[nomination.cycle.year]) + "#nominations")


def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.annual.awards_pdf import certificate as render_certificate

    nomination = access.get_for_view(
        request.user, AwardNomination.objects.filter(status=AwardNomination.Status.APPROVED)
        .select_related("cycle", "result__employee"), pk=pk)
    data = render_certificate(nomination, language=translation.get_language() or "zh-hant")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{nomination.certificate_no}-{nomination.result.employee.employee_no}.pdf"')
    return response


def promotion(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle(request, year)
    return render(request, "annual/promotion.html", {
        "cycle": cycle, "rows": svc.promotion_list(cycle, request.user),
        "published": cycle.status == AnnualCycle.Status.PUBLISHED,
    })


def promotion_export(request: HttpRequest, year: int) -> HttpResponse:
    cycle = _cycle(request, year)
    if cycle.status != AnnualCycle.Status.PUBLISHED:
        raise Http404
    rows = svc.promotion_rows(svc.promotion_list(cycle, request.user))
    data = tabular.write_xlsx(svc.promotion_headers(), rows, sheet_title=_("Promotion priority %(year)s") % {
        "year": year})
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="promotion-priority-{year}.xlsx"'
    return response
