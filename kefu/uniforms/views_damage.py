"""Damage and loss pages (U3.2): her report, admin's assessment with photos, the compensation she
confirms, and the payroll deduction export."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.tabular import write_xlsx
from kefu.people.access import employee_of, has_role, scope_q
from kefu.people.models import Employee
from kefu.uniforms import access as uaccess
from kefu.uniforms import services
from kefu.uniforms.forms_damage import (
    AssessForm,
    AttachForm,
    CompensationFilterForm,
    DamageFilterForm,
    DamageReportForm,
    ExportForm,
    NoteForm,
)
from kefu.uniforms.forms_requisitions import EmployeePickForm
from kefu.uniforms.models import Compensation, DamageReport, Holding, Requisition
from kefu.uniforms.views import _add_errors, _page, _query_without_page, _require_role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- reports -----------------------------------------------------------------------------------------


def damage_list(request: HttpRequest) -> HttpResponse:
    qs = access.visible(request.user, DamageReport)
    form = DamageFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(number__icontains=term) | Q(employee__name__icontains=term)
                           | Q(employee__employee_no__icontains=term))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
    qs = qs.select_related("employee__org_unit", "holding__sku__style", "holding__sku__size").order_by("-id")
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "uniforms/damage_list.html", {
        "page": _page(request, qs), "form": form, "query": _query_without_page(request), "filtered": filtered,
        "can_report": employee_of(request.user) is not None or has_role(request.user, *uaccess.UNIFORM_ADMINS),
    })


def _reporter_for(request: HttpRequest) -> tuple[Employee | None, EmployeePickForm | None]:
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


def damage_create(request: HttpRequest) -> HttpResponse:
    employee, pick = _reporter_for(request)
    if employee is None:
        return render(request, "uniforms/damage_pick.html", {"form": pick})
    holdings = (Holding.objects.filter(employee=employee, status=Holding.Status.HELD)
                .select_related("sku__style", "sku__size").order_by("sku__style__item_type", "issued_on", "id"))
    initial = {}
    wanted = request.GET.get("holding")
    if wanted and wanted.isdigit():
        initial["holding"] = int(wanted)
    form = DamageReportForm(request.POST or None, request.FILES or None, holdings=holdings, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.damage_report_create(
                actor=request.user, holding=data["holding"], kind=data["kind"], description=data["description"],
                occurred_on=data["occurred_on"], attachments=data["attachments"],
                idempotency_key=form.idempotency_key("form"))
        except ValidationError as e:
            _add_errors(form, e, {})
        else:
            messages.success(request, _("Report %(number)s is sent to admin staff.") % {"number": report.number})
            return redirect("uniforms:damage_detail", report.number)
    return render(request, "uniforms/damage_form.html", {"form": form, "employee": employee,
                                                         "has_items": holdings.exists()})


def _report(request: HttpRequest, number: str) -> DamageReport:
    return access.get_for_view(request.user, DamageReport.objects.select_related(
        "employee__org_unit", "employee__user", "holding__sku__style", "holding__sku__size",
        "reported_by__employee", "assessed_by__employee"), number=number)


def damage_detail(request: HttpRequest, number: str) -> HttpResponse:
    report = _report(request, number)
    user = request.user
    is_admin = uaccess.is_admin_for(user, report.employee)
    files = report.attachments.order_by("id")
    compensation = Compensation.objects.filter(damage_report=report).first()
    replacement = (Requisition.objects.filter(damage_report=report, status__in=services.CLAIMING_STATUSES)
                   .order_by("-id").first())
    may_request = (report.status != DamageReport.Status.REPORTED and replacement is None
                   and (uaccess.is_self(user, report.employee) or is_admin))
    replacement_url = ""
    if may_request:
        replacement_url = f"{reverse('uniforms:requisition_new')}?damage_report={report.pk}"
        if not uaccess.is_self(user, report.employee):
            replacement_url += f"&employee={report.employee.employee_no}"
    return render(request, "uniforms/damage_detail.html", {
        "report": report,
        "files": files,
        "compensation": compensation,
        "replacement": replacement,
        "replacement_url": replacement_url,
        "can_assess": report.status == DamageReport.Status.REPORTED and is_admin,
        "can_attach": is_admin or (uaccess.is_self(user, report.employee)
                                   and report.status == DamageReport.Status.REPORTED),
        "assess_form": AssessForm(),
        "attach_form": AttachForm(),
        "department": services.department_name(report.employee),
    })


@require_POST
def damage_assess(request: HttpRequest, number: str) -> HttpResponse:
    report = _report(request, number)
    if not uaccess.is_admin_for(request.user, report.employee):
        raise PermissionDenied  # U3.2: admin staff assess; refused before the form is read
    form = AssessForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            text = " ".join(str(e) for e in errors)
            messages.error(request, f"{label}: {text}" if label else text)
        return redirect("uniforms:damage_detail", report.number)
    try:
        services.damage_assess(actor=request.user, report=report, cause=form.cleaned_data["cause"],
                               notes=form.cleaned_data["notes"], attachments=form.cleaned_data["attachments"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("Report %(number)s is assessed.") % {"number": report.number})
    return redirect("uniforms:damage_detail", report.number)


@require_POST
def damage_attach(request: HttpRequest, number: str) -> HttpResponse:
    report = _report(request, number)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("uniforms:damage_detail", report.number)
    try:
        rows = services.attachments_add(actor=request.user, report=report, uploads=form.cleaned_data["attachments"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("%(n)s file(s) added.") % {"n": len(rows)})
    return redirect("uniforms:damage_detail", report.number)


# ---- compensation ------------------------------------------------------------------------------------


def compensation_list(request: HttpRequest) -> HttpResponse:
    qs = access.visible(request.user, Compensation)
    form = CompensationFilterForm(request.GET or None)
    if form.is_valid():
        if form.cleaned_data.get("status"):
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data.get("month"):
            qs = qs.filter(payroll_month=services.month_start(form.cleaned_data["month"]))
    totals = {row["status"]: row for row in qs.values("status").annotate(n=Count("id"), amount=Sum("amount"))}
    qs = qs.select_related("employee", "damage_report", "holding__sku__style").order_by("-id")
    user = request.user
    is_admin = has_role(user, *uaccess.UNIFORM_ADMINS)
    page = _page(request, qs)
    me = employee_of(user)
    for row in page.object_list:
        row.mine = me is not None and row.employee_id == me.pk
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    months = list(access.visible(user, Compensation).filter(payroll_month__isnull=False)
                  .values_list("payroll_month", flat=True).distinct().order_by("-payroll_month")[:12])
    return render(request, "uniforms/damage_compensation_list.html", {
        "page": page, "form": form, "query": _query_without_page(request), "filtered": filtered,
        "is_admin": is_admin,
        # SQLite sums decimals as floats: back to cents for display.
        "totals": [(Compensation.Status(s).label, t["n"], Decimal(str(t["amount"] or 0)).quantize(Decimal("0.01")))
                   for s, t in totals.items()],
        "export_form": ExportForm(initial={"month": timezone.localdate()}), "note_form": NoteForm(),
        "months": months,
    })


@require_POST
def compensation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    compensation = access.get_for_change(request.user, Compensation.objects.select_related("employee__org_unit"), pk=pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.compensation_confirm(actor=request.user, compensation=compensation, note=note)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("Compensation of ¥%(amount)s is confirmed.") % {"amount": compensation.amount})
    return redirect("uniforms:compensation_list")


@require_POST
def compensation_waive(request: HttpRequest, pk: int) -> HttpResponse:
    compensation = access.get_for_view(request.user, Compensation.objects.select_related("employee__org_unit"), pk=pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.compensation_waive(actor=request.user, compensation=compensation, reason=note)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The compensation is waived."))
    return redirect("uniforms:compensation_list")


@require_POST
def compensation_export(request: HttpRequest) -> HttpResponse:
    """Put the confirmed compensations on a payroll month; the list then offers that month's file."""
    _require_role(request.user, *uaccess.UNIFORM_ADMINS)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the payroll month."))
        return redirect("uniforms:compensation_list")
    month = services.month_start(form.cleaned_data["month"])
    n = services.compensations_export(actor=request.user, month=month)
    messages.success(request, _("%(n)s compensation(s) added to the payroll deduction of %(month)s.")
                     % {"n": n, "month": month.strftime("%Y-%m")})
    return redirect(f"{reverse('uniforms:compensation_list')}?month={month:%Y-%m}")


def compensation_payroll(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """The payroll deduction file of one month (U3.2): employee number, name, department, amount,
    reason, report number. Re-downloading gives the same rows."""
    _require_role(request.user, *uaccess.UNIFORM_ADMINS)
    try:
        first = datetime.date(year, month, 1)
    except ValueError as e:
        raise Http404 from e
    rows = list(access.visible(request.user, Compensation).filter(payroll_month=first)
                .select_related("employee__org_unit", "damage_report", "holding__sku__style", "holding__sku__size")
                .order_by("employee__employee_no", "id"))
    departments = services.department_names([r.employee for r in rows])
    headers = [_("Employee number"), _("Name"), _("Department"), _("Amount"), _("Reason"), _("Report number")]
    data = write_xlsx(headers, [
        [r.employee.employee_no, r.employee.name, departments[r.employee_id], r.amount,
         r.computed_from.get("why", ""), r.damage_report.number if r.damage_report is not None else ""]
        for r in rows], sheet_title=f"{first:%Y-%m}")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="uniform-compensation-{first:%Y-%m}.xlsx"'
    return response
