"""Scrap pages (U4.2): the 《制服報廢申請表》, her department head's signature, admin's review,
the printable form, and centralised disposal in batches."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.people.access import employee_of, has_role, scope_q
from kefu.people.models import Employee
from kefu.uniforms import access as uaccess
from kefu.uniforms import pdf, services
from kefu.uniforms.forms_requisitions import EmployeePickForm
from kefu.uniforms.forms_scrap import DisposalForm, ScrapDecisionForm, ScrapFilterForm, ScrapForm
from kefu.uniforms.models import DisposalBatch, DisposalLine, Holding, ScrapRequest, ScrapRequestLine
from kefu.uniforms.views import _add_errors, _page, _query_without_page, _require_role
from kefu.uniforms.views_requisitions import _pdf_response


def scrap_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = access.visible(user, ScrapRequest)
    form = ScrapFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(number__icontains=term) | Q(employee__name__icontains=term)
                           | Q(employee__employee_no__icontains=term))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
    qs = qs.select_related("employee__org_unit").annotate(items=Count("lines")).order_by("-id")
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "uniforms/scrap_list.html", {
        "page": _page(request, qs), "form": form, "query": _query_without_page(request), "filtered": filtered,
        "can_create": employee_of(user) is not None or has_role(user, *uaccess.UNIFORM_ADMINS),
        "is_admin": has_role(user, *uaccess.UNIFORM_ADMINS),
    })


def _applicant(request: HttpRequest) -> tuple[Employee | None, EmployeePickForm | None]:
    user = request.user
    own = employee_of(user)
    wanted = request.GET.get("employee")
    if has_role(user, *uaccess.UNIFORM_ADMINS) and (wanted is not None or own is None or request.GET.get("pick")):
        managed = Employee.objects.filter(scope_q(user, uaccess.UNIFORM_ADMINS))
        pick = EmployeePickForm({"employee": wanted} if wanted is not None else None, employees=managed)
        if wanted is not None and pick.is_valid():
            return pick.cleaned_data["employee"], None
        return None, pick
    if own is None:
        raise PermissionDenied
    return own, None


def scrap_create(request: HttpRequest) -> HttpResponse:
    employee, pick = _applicant(request)
    if employee is None:
        return render(request, "uniforms/scrap_pick.html", {"form": pick})
    busy = ScrapRequestLine.objects.filter(scrap_request__status__in=services.OPEN_SCRAP_STATUSES).values("holding")
    holdings = list(Holding.objects.filter(employee=employee, status=Holding.Status.HELD).exclude(pk__in=busy)
                    .select_related("sku__style", "sku__size").order_by("renewal_due_on", "id"))
    form = ScrapForm(request.POST or None, holdings=holdings)
    if request.method == "POST" and form.is_valid():
        try:
            scrap = services.scrap_request_create(
                actor=request.user, employee=employee, items=form.cleaned_data["items"],
                reason=form.cleaned_data["reason"], idempotency_key=form.idempotency_key("form"))
        except ValidationError as e:
            _add_errors(form, e, {"items": "__all__"})
        else:
            messages.success(request, _("Scrap form %(number)s is submitted to the department head.")
                             % {"number": scrap.number})
            return redirect("uniforms:scrap_detail", scrap.number)
    return render(request, "uniforms/scrap_form.html", {
        "form": form, "employee": employee, "department": services.department_name(employee)})


def _scrap(request: HttpRequest, number: str) -> ScrapRequest:
    return access.get_for_view(request.user, ScrapRequest.objects.select_related(
        "employee__org_unit", "employee__user", "filled_by__employee", "head_signed_by__employee",
        "admin_reviewed_by__employee"), number=number)


def scrap_detail(request: HttpRequest, number: str) -> HttpResponse:
    scrap = _scrap(request, number)
    user = request.user
    S = ScrapRequest.Status
    lines = scrap.lines.select_related("holding__sku__style", "holding__sku__size", "disposal_batch").order_by("id")
    applicant = uaccess.is_self(user, scrap.employee) or scrap.filled_by_id == user.pk
    return render(request, "uniforms/scrap_detail.html", {
        "scrap": scrap,
        "lines": lines,
        "department": services.department_name(scrap.employee),
        "can_sign": scrap.status == S.SUBMITTED and uaccess.may_sign_for(user, scrap.employee),
        "can_review": (scrap.status == S.HEAD_APPROVED and not uaccess.is_self(user, scrap.employee)
                       and uaccess.is_admin_for(user, scrap.employee)),
        "can_submit": scrap.status == S.DRAFT and applicant,
        "decision_form": ScrapDecisionForm(),
    })


def _decide(request: HttpRequest, number: str, step: str) -> HttpResponse:
    scrap = _scrap(request, number)
    # U4.2: her department head signs, admin staff review (never her own form): refused before the form is read.
    may = (uaccess.may_sign_for(request.user, scrap.employee) if step == "head" else
           not uaccess.is_self(request.user, scrap.employee) and uaccess.is_admin_for(request.user, scrap.employee))
    if not may:
        raise PermissionDenied
    form = ScrapDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("uniforms:scrap_detail", scrap.number)
    approve = form.cleaned_data["decision"] == "approve"
    run = {
        ("head", True): services.scrap_request_head_approve,
        ("head", False): services.scrap_request_head_reject,
        ("admin", True): services.scrap_request_admin_approve,
        ("admin", False): services.scrap_request_admin_reject,
    }[(step, approve)]
    try:
        scrap = run(actor=request.user, scrap=scrap, comment=form.cleaned_data["comment"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("Scrap form %(number)s: %(status)s.") % {
            "number": scrap.number, "status": scrap.get_status_display()})
    return redirect("uniforms:scrap_detail", scrap.number)


@require_POST
def scrap_sign(request: HttpRequest, number: str) -> HttpResponse:
    return _decide(request, number, "head")


@require_POST
def scrap_review(request: HttpRequest, number: str) -> HttpResponse:
    return _decide(request, number, "admin")


@require_POST
def scrap_submit(request: HttpRequest, number: str) -> HttpResponse:
    scrap = _scrap(request, number)
    if not (uaccess.is_self(request.user, scrap.employee) or scrap.filled_by_id == request.user.pk):
        raise PermissionDenied  # U4.2: she (or who filled it in for her) submits; refused whatever its status
    try:
        services.scrap_request_submit(actor=request.user, scrap=scrap)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    return redirect("uniforms:scrap_detail", scrap.number)


def scrap_pdf(request: HttpRequest, number: str) -> HttpResponse:
    scrap = access.get_for_view(request.user, ScrapRequest.objects.select_related(
        "employee__org_unit", "head_signed_by__employee", "admin_reviewed_by__employee").prefetch_related(
        "lines__holding__sku__style", "lines__holding__sku__size"), number=number)
    data = pdf.scrap_pdf(scrap, language=translation.get_language() or "zh-hant")
    return _pdf_response(data, f"{scrap.number}.pdf")


# ---- disposal ----------------------------------------------------------------------------------------


def disposal_list(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *uaccess.READ_ALL)
    batches = (access.visible(request.user, DisposalBatch).select_related("recorded_by__employee")
               .annotate(items=Count("lines")).order_by("-disposed_on", "-id"))
    waiting = services.holdings_awaiting_disposal().count()
    return render(request, "uniforms/scrap_disposal_list.html", {
        "page": _page(request, batches), "waiting": waiting, "query": _query_without_page(request),
        "is_admin": has_role(request.user, *uaccess.UNIFORM_ADMINS)})


def disposal_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *uaccess.UNIFORM_ADMINS)
    waiting = (services.holdings_awaiting_disposal()
               .select_related("employee", "sku__style", "sku__size").order_by("ended_on", "id"))
    form = DisposalForm(request.POST or None, holdings=waiting)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.disposal_batch_create(
                actor=request.user, holdings=data["holdings"], disposed_on=data["disposed_on"], method=data["method"],
                performed_by=data["performed_by"], note=data["note"])
        except ValidationError as e:
            _add_errors(form, e, {})
        else:
            messages.success(request, _("Disposal %(number)s is recorded.") % {"number": batch.number})
            return redirect("uniforms:disposal_detail", batch.number)
    return render(request, "uniforms/scrap_disposal_form.html", {"form": form, "waiting": waiting})


def disposal_detail(request: HttpRequest, number: str) -> HttpResponse:
    _require_role(request.user, *uaccess.READ_ALL)
    batch = access.get_for_view(request.user, DisposalBatch.objects.select_related("recorded_by__employee"),
                                number=number)
    lines = (DisposalLine.objects.filter(batch=batch)
             .select_related("holding__employee", "sku__style", "sku__size").order_by("id"))
    return render(request, "uniforms/scrap_disposal_detail.html", {"batch": batch, "lines": lines})
