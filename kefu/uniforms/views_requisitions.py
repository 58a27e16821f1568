"""Requisition and issuance pages (U2.2): the 《制服領用申請表》, its approval by her department
head, issue from stock with back-orders, the issuance records (發放記錄) and her receipt.

Objects come only through kefu.core.access (404 outside her scope); the services answer 403
for a step that is not hers to take.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.people.access import employee_of, has_role, scope_q
from kefu.people.models import Employee
from kefu.uniforms import access as uaccess
from kefu.uniforms import pdf, services
from kefu.uniforms.forms_requisitions import (
    CloseForm,
    DecisionForm,
    EmployeePickForm,
    IssueForm,
    RequisitionFilterForm,
    RequisitionForm,
    styles_for,
)
from kefu.uniforms.models import (
    DamageReport,
    Issuance,
    IssuanceLine,
    Location,
    Requisition,
    RequisitionLine,
    SizeProfileEntry,
    Sku,
    StockLevel,
)
from kefu.uniforms.views import _add_errors, _page, _query_without_page, _require_role

REQ_FIELDS = {"lines": "__all__", "idempotency_key": "__all__", "employee": "__all__", "at": "__all__"}


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ---- list --------------------------------------------------------------------------------------------

VIEWS = {
    "mine": _("Mine"),
    "approve": _("To approve"),
    "issue": _("To issue"),
    "all": _("All I can see"),
}


def _views_for(user) -> list[str]:
    out = []
    if employee_of(user) is not None:
        out.append("mine")
    if has_role(user, *uaccess.SIGNERS):
        out.append("approve")
    if has_role(user, *uaccess.UNIFORM_ADMINS):
        out.append("issue")
    if has_role(user, *uaccess.PERSON_VIEWERS):
        out.append("all")
    return out or ["mine"]


def requisition_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    available = _views_for(user)
    view = request.GET.get("view") or ("approve" if "approve" in available else
                                       "issue" if "issue" in available else available[0])
    if view not in available:
        view = available[0]
    qs = access.visible(user, Requisition)
    if view == "mine":
        qs = qs.filter(Q(employee__user=user) | Q(filled_by=user))
    elif view == "approve":
        qs = qs.filter(status=Requisition.Status.SUBMITTED).filter(
            scope_q(user, uaccess.SIGNERS, field="employee__org_unit")).exclude(employee__user_id=user.pk)
    elif view == "issue":
        qs = qs.filter(status__in=[Requisition.Status.APPROVED, Requisition.Status.PARTIALLY_ISSUED])
    form = RequisitionFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(number__icontains=term) | Q(employee__name__icontains=term)
                           | Q(employee__employee_no__icontains=term))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("reason"):
            qs = qs.filter(reason=data["reason"])
    qs = (qs.select_related("employee__org_unit")
          .annotate(items=Coalesce(Sum("lines__quantity"), 0), owed=Coalesce(Sum("lines__backordered"), 0))
          .order_by("-id"))
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "uniforms/requisition_list.html", {
        "page": _page(request, qs),
        "form": form,
        "query": _query_without_page(request),
        "filtered": filtered,
        "view": view,
        "views": [(key, VIEWS[key]) for key in available],
        "can_create": employee_of(user) is not None or has_role(user, *uaccess.UNIFORM_ADMINS),
        "is_admin": has_role(user, *uaccess.UNIFORM_ADMINS),
    })


# ---- create ------------------------------------------------------------------------------------------


def _applicant(request: HttpRequest) -> tuple[Employee | None, EmployeePickForm | None]:
    """Whose form: admin staff pick anyone they manage (?employee=CS1001); anyone else files her own."""
    user = request.user
    own = employee_of(user)
    if has_role(user, *uaccess.UNIFORM_ADMINS):
        wanted = request.GET.get("employee")
        managed = Employee.objects.filter(scope_q(user, uaccess.UNIFORM_ADMINS),
                                          status=Employee.Status.ACTIVE)
        if wanted is None and own is not None and request.GET.get("pick") is None:
            return own, None
        pick = EmployeePickForm({"employee": wanted} if wanted is not None else None, employees=managed)
        if wanted is not None and pick.is_valid():
            return pick.cleaned_data["employee"], None
        return None, pick
    if own is None:
        raise PermissionDenied
    return own, None


def _requisition_form(request: HttpRequest, employee: Employee, data=None) -> RequisitionForm:
    styles = styles_for(employee)
    skus = list(Sku.objects.filter(style__in=styles, active=True).select_related("size").order_by("size__order",
                                                                                                "size__code"))
    profile = dict(SizeProfileEntry.objects.filter(profile__employee=employee).values_list("item_type", "size_id"))
    reports = (DamageReport.objects.filter(employee=employee)
               .exclude(status=DamageReport.Status.REPORTED)
               .exclude(replacement_requisitions__status__in=services.CLAIMING_STATUSES)
               .select_related("holding__sku__style", "holding__sku__size").order_by("-id"))
    initial: dict[str, Any] = {}
    prefill: dict[int, tuple[int, int]] = {}
    report_id = request.GET.get("damage_report")
    if data is None and report_id and report_id.isdigit():
        report = reports.filter(pk=int(report_id)).first()
        if report is not None:
            initial = {"reason": Requisition.Reason.REPLACEMENT, "damage_report": report.pk}
            prefill[report.holding.sku.style_id] = (report.holding.sku_id, 1)
    elif data is None and request.GET.get("reason") in Requisition.Reason.values:
        initial = {"reason": request.GET["reason"]}
    return RequisitionForm(data, employee=employee, styles=styles, skus=skus, profile_sizes=profile,
                           damage_reports=reports, prefill=prefill, initial=initial)


def _allowance_summary(employee: Employee) -> list[dict[str, Any]]:
    """What she may ask for under each reason, for the box beside the form."""
    out = []
    for reason in (Requisition.Reason.NEW_HIRE, Requisition.Reason.RENEWAL):
        allowance = services.requisition_allowance(employee=employee, reason=reason)
        out.append({"reason": Requisition.Reason(reason).label, "problem": allowance.problem,
                    "limits": [(label, most) for _types, most, label in allowance.limits or []],
                    "entitlement": allowance.entitlement})
    return out


def requisition_create(request: HttpRequest) -> HttpResponse:
    employee, pick = _applicant(request)
    if employee is None:
        return render(request, "uniforms/requisition_pick.html", {"form": pick})
    form = _requisition_form(request, employee, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            requisition = services.requisition_create(
                actor=request.user, employee=employee, reason=data["reason"], lines=data["lines"],
                extra_reason=data["extra_reason"], damage_report=data["damage_report"],
                idempotency_key=form.idempotency_key("form"))
        except ValidationError as e:
            _add_errors(form, e, REQ_FIELDS)
        else:
            messages.success(request, _("Requisition %(number)s is submitted to the department head.")
                             % {"number": requisition.number})
            return redirect("uniforms:requisition_detail", requisition.number)
    return render(request, "uniforms/requisition_form.html", {
        "form": form,
        "employee": employee,
        "on_behalf": employee.user_id != request.user.pk,
        "allowance": _allowance_summary(employee),
        "department": services.department_name(employee),
        "is_admin": has_role(request.user, *uaccess.UNIFORM_ADMINS),
    })


# ---- detail and its steps ----------------------------------------------------------------------------


def _get(request: HttpRequest, number: str) -> Requisition:
    return access.get_for_view(request.user, Requisition.objects.select_related(
        "employee__org_unit", "employee__user", "filled_by__employee", "approver__employee", "damage_report"),
        number=number)


def requisition_detail(request: HttpRequest, number: str) -> HttpResponse:
    requisition = _get(request, number)
    user = request.user
    lines = list(requisition.lines.select_related("sku__style", "sku__size").order_by("id"))
    issuances = list(requisition.issuances.select_related("issued_by__employee", "location")
                     .annotate(items=Sum("lines__quantity")).order_by("issued_at", "id"))
    S = Requisition.Status
    can_sign = requisition.status == S.SUBMITTED and uaccess.may_sign_for(user, requisition.employee)
    can_issue = requisition.status in (S.APPROVED, S.PARTIALLY_ISSUED) and uaccess.is_admin_for(
        user, requisition.employee)
    applicant = uaccess.is_self(user, requisition.employee) or requisition.filled_by_id == user.pk
    can_withdraw = requisition.status in (S.DRAFT, S.SUBMITTED) and applicant
    can_cancel_backorder = requisition.status == S.PARTIALLY_ISSUED and can_issue
    on_hand: dict[int, int] = {}
    issue_form = None
    if can_issue:
        issue_form = IssueForm(initial={"location": services.default_location()})
        on_hand = dict(StockLevel.objects.filter(sku__in=[line.sku_id for line in lines],
                                                 location__kind=Location.Kind.NEW, location__active=True)
                       .values("sku_id").annotate(n=Sum("on_hand")).values_list("sku_id", "n"))
    rows = [{"line": line, "on_hand": on_hand.get(line.sku_id, 0),
             "owed": line.quantity - line.issued_quantity} for line in lines]
    return render(request, "uniforms/requisition_detail.html", {
        "requisition": requisition,
        "rows": rows,
        "issuances": issuances,
        "department": services.department_name(requisition.employee),
        "can_sign": can_sign,
        "can_issue": can_issue,
        "can_withdraw": can_withdraw,
        "can_cancel_backorder": can_cancel_backorder,
        "can_submit": requisition.status == S.DRAFT and applicant,
        "decision_form": DecisionForm(),
        "issue_form": issue_form,
        "close_form": CloseForm(),
        "is_mine": uaccess.is_self(user, requisition.employee),
    })


def _step(request: HttpRequest, number: str, run, done: str) -> HttpResponse:
    """Run one transition for the requisition; 403 when it is not the user's, messages otherwise."""
    requisition = _get(request, number)
    try:
        run(requisition)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, done % {"number": requisition.number})
    return redirect("uniforms:requisition_detail", requisition.number)


@require_POST
def requisition_submit(request: HttpRequest, number: str) -> HttpResponse:
    return _step(request, number, lambda r: services.requisition_submit(actor=request.user, requisition=r),
                 _("Requisition %(number)s is submitted."))


@require_POST
def requisition_approve(request: HttpRequest, number: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return _step(request, number, lambda r: services.requisition_approve(actor=request.user, requisition=r,
                                                                         comment=comment),
                 _("Requisition %(number)s is approved; admin staff will issue it."))


@require_POST
def requisition_reject(request: HttpRequest, number: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return _step(request, number, lambda r: services.requisition_reject(actor=request.user, requisition=r,
                                                                        comment=comment),
                 _("Requisition %(number)s is rejected."))


@require_POST
def requisition_close(request: HttpRequest, number: str) -> HttpResponse:
    form = CloseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _step(request, number, lambda r: services.requisition_close(actor=request.user, requisition=r,
                                                                       reason=reason),
                 _("Requisition %(number)s is closed."))


@require_POST
def requisition_issue(request: HttpRequest, number: str) -> HttpResponse:
    requisition = _get(request, number)
    # Who may issue before what was sent: a role that may not issue gets 403, not a form error.
    if not uaccess.is_admin_for(request.user, requisition.employee):
        raise PermissionDenied
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the stock location to issue from."))
        return redirect("uniforms:requisition_detail", requisition.number)
    try:
        issuance = services.requisition_issue(
            actor=request.user, requisition=requisition, location=form.cleaned_data["location"],
            note=form.cleaned_data["note"], idempotency_key=form.idempotency_key("form"))
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect("uniforms:requisition_detail", requisition.number)
    requisition.refresh_from_db()
    if requisition.status == Requisition.Status.PARTIALLY_ISSUED:
        messages.warning(request, _("Issued %(issuance)s; stock was short, the rest is back-ordered.")
                         % {"issuance": issuance.number})
    else:
        messages.success(request, _("Issued %(issuance)s; %(name)s is asked to confirm receipt.")
                         % {"issuance": issuance.number, "name": requisition.employee.name})
    return redirect("uniforms:requisition_detail", requisition.number)


def requisition_pdf(request: HttpRequest, number: str) -> HttpResponse:
    requisition = access.get_for_view(request.user, Requisition.objects.select_related(
        "employee__org_unit", "approver__employee", "damage_report").prefetch_related(
        "lines__sku__style", "lines__sku__size", "issuances__issued_by__employee"), number=number)
    data = pdf.requisition_pdf(requisition, language=translation.get_language() or "zh-hant")
    return _pdf_response(data, f"{requisition.number}.pdf")


# ---- back-orders ----------------------------------------------------------------------------------------


def backorders(request: HttpRequest) -> HttpResponse:
    """Lines still owed on partly issued requisitions, with the new stock on hand for each (admin staff)."""
    _require_role(request.user, *uaccess.UNIFORM_ADMINS)
    visible = access.visible(request.user, Requisition).filter(status=Requisition.Status.PARTIALLY_ISSUED)
    on_hand = (StockLevel.objects.filter(sku=OuterRef("sku"), location__kind=Location.Kind.NEW, location__active=True)
               .values("sku").annotate(n=Sum("on_hand")).values("n"))
    lines = (RequisitionLine.objects.filter(requisition__in=visible.values("pk"), backordered__gt=0)
             .select_related("requisition__employee__org_unit", "sku__style", "sku__size")
             .annotate(on_hand=Coalesce(Subquery(on_hand), 0))
             .order_by("requisition__submitted_at", "requisition_id", "id"))
    summary = (RequisitionLine.objects.filter(requisition__in=visible.values("pk"), backordered__gt=0)
               .aggregate(requisitions=Count("requisition", distinct=True), items=Coalesce(Sum("backordered"), 0)))
    return render(request, "uniforms/requisition_backorders.html", {
        "page": _page(request, lines), "summary": summary, "query": _query_without_page(request)})


# ---- issuance records -----------------------------------------------------------------------------------


def issuance_list(request: HttpRequest) -> HttpResponse:
    qs = access.visible(request.user, Issuance)
    unconfirmed = request.GET.get("unconfirmed") == "1"
    if unconfirmed:
        qs = qs.filter(receipt_confirmed_at__isnull=True)
    term = (request.GET.get("q") or "").strip()[:100]
    if term:
        qs = qs.filter(Q(number__icontains=term) | Q(employee_name__icontains=term)
                       | Q(employee__employee_no__icontains=term) | Q(requisition__number__icontains=term))
    qs = (qs.select_related("employee", "requisition", "issued_by__employee")
          .annotate(items=Coalesce(Sum("lines__quantity"), 0)).order_by("-issued_at", "-id"))
    return render(request, "uniforms/issuance_list.html", {
        "page": _page(request, qs), "query": _query_without_page(request), "q": term,
        "unconfirmed": unconfirmed, "filtered": bool(term or unconfirmed)})


def issuance_detail(request: HttpRequest, number: str) -> HttpResponse:
    issuance = access.get_for_view(request.user, Issuance.objects.select_related(
        "employee", "requisition", "issued_by__employee", "receipt_confirmed_by__employee", "location"), number=number)
    lines = IssuanceLine.objects.filter(issuance=issuance).select_related("sku").order_by("id")
    return render(request, "uniforms/issuance_detail.html", {
        "issuance": issuance, "lines": lines,
        "can_confirm": issuance.receipt_confirmed_at is None and uaccess.is_self(request.user, issuance.employee),
        "today": timezone.localdate()})


@require_POST
def issuance_confirm(request: HttpRequest, number: str) -> HttpResponse:
    issuance = access.get_for_view(request.user, Issuance.objects.select_related("employee"), number=number)
    if not uaccess.is_self(request.user, issuance.employee):
        raise PermissionDenied
    services.issuance_confirm_receipt(actor=request.user, issuance=issuance)
    messages.success(request, _("Thank you: receipt of %(number)s is confirmed.") % {"number": issuance.number})
    return redirect("uniforms:issuance_detail", issuance.number)
