"""People pages: employees (list, detail, create, edit, onboard, offboard, import, export),
the org tree and role assignments. Objects are fetched only through kefu.core.access."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.tabular import ImportRejected, ImportReport
from kefu.people import services
from kefu.people.access import NON_AGENT_ROLES, PEOPLE_EDITORS, ROLE_VIEWERS, active_assignments, has_role
from kefu.people.forms import (
    EmployeeFilterForm,
    EmployeeForm,
    ImportUploadForm,
    OffboardForm,
    OrgUnitCreateForm,
    OrgUnitEditForm,
    RoleAssignForm,
    RoleEndForm,
    RoleFilterForm,
    add_service_errors,
)
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_SESSION_KEY = "people_import"
PREVIEW_LIMIT = 200
ERROR_LIMIT = 1000


def _require_role(user, *roles: str) -> None:
    """Pages (not objects) a role is for: anyone else gets 403."""
    if not has_role(user, *roles):
        raise PermissionDenied


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _scope_paths(user, roles) -> list[str]:
    return list(active_assignments(user).filter(role__in=list(roles)).values_list("org_unit__path", flat=True))


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---- employees ---------------------------------------------------------------------------------------


def _filtered_employees(request: HttpRequest):
    units = access.visible(request.user, OrgUnit).order_by("path")
    form = EmployeeFilterForm(request.GET or None, units=units)
    return form, form.filter(access.visible(request.user, Employee))


def employee_list(request):
    form, employees = _filtered_employees(request)
    page = Paginator(employees.select_related("org_unit").order_by("employee_no"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "people/employee_list.html", {
        "form": form,
        "page": page,
        "query": _query_without_page(request),
        "filtered": filtered,
        "can_edit": has_role(request.user, *PEOPLE_EDITORS),
    })


def employee_export(request):
    _form, employees = _filtered_employees(request)
    data = services.employee_export(employees=employees)
    return _xlsx_response(data, f"employees-{timezone.localdate():%Y%m%d}.xlsx")


def employee_detail(request, employee_no: str):
    employee = access.get_for_view(request.user, Employee.objects.select_related("org_unit", "user"),
                                   employee_no=employee_no)
    assignments = (
        RoleAssignment.objects.filter(user_id=employee.user_id).select_related("org_unit").order_by("-start_date", "role")
        if employee.user_id else RoleAssignment.objects.none()
    )
    today = timezone.localdate()
    return render(request, "people/employee_detail.html", {
        "employee": employee,
        "assignments": assignments,
        "today": today,
        "can_change": access.can_change(request.user, employee),
        "can_manage_roles": has_role(request.user, Role.SYSADMIN, Role.HR),
    })


def employee_create(request):
    _require_role(request.user, *PEOPLE_EDITORS)
    form = EmployeeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            employee = services.employee_create(actor=request.user, reason=form.cleaned_data["reason"],
                                                **form.service_data())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s was added as a pending hire; onboard her when she starts.")
                             % {"name": employee.name})
            return redirect("people:employee_detail", employee.employee_no)
    return render(request, "people/employee_form.html", {"form": form, "employee": None})


def employee_edit(request, employee_no: str):
    employee = access.get_for_change(request.user, Employee.objects.select_related("org_unit"), employee_no=employee_no)
    form = EmployeeForm(request.POST or None, instance=employee, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_update(actor=request.user, employee=employee, reason=form.cleaned_data["reason"],
                                     **form.service_data())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:employee_detail", employee.employee_no)
    employee.refresh_from_db()  # the form may have changed the instance in memory
    return render(request, "people/employee_form.html", {"form": form, "employee": employee})


@require_POST
def employee_onboard(request, employee_no: str):
    employee = access.get_for_change(request.user, Employee, employee_no=employee_no)
    try:
        services.employee_onboard(actor=request.user, employee=employee)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("%(name)s is onboarded and active.") % {"name": employee.name})
    return redirect("people:employee_detail", employee.employee_no)


def employee_offboard(request, employee_no: str):
    employee = access.get_for_change(request.user, Employee.objects.select_related("org_unit"), employee_no=employee_no)
    if employee.status == Employee.Status.LEFT:
        messages.info(request, _("%(name)s has already left.") % {"name": employee.name})
        return redirect("people:employee_detail", employee.employee_no)
    form = OffboardForm(request.POST or None, initial={"leave_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_offboard(actor=request.user, employee=employee, leave_date=form.cleaned_data["leave_date"],
                                       reason=form.cleaned_data["reason"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s is offboarded: her roles ended and her login is disabled.")
                             % {"name": employee.name})
            return redirect("people:employee_detail", employee.employee_no)
    return render(request, "people/employee_offboard.html", {"form": form, "employee": employee})


# ---- import ------------------------------------------------------------------------------------------


def _column_help() -> list[dict[str, Any]]:
    labels = services.employee_column_labels()
    return [
        {"key": key, "label": labels[key], "aliases": "、".join(aliases), "required": key in services.IMPORT_REQUIRED}
        for key, (_label, aliases) in services.EMPLOYEE_COLUMNS.items() if key in services.IMPORT_COLUMNS
    ]


def _report_context(report: ImportReport) -> dict[str, Any]:
    labels = services.employee_column_labels()
    errors = [
        {"row": e.row, "field": labels.get(e.field, e.field), "message": e.message} for e in report.errors[:ERROR_LIMIT]
    ]
    changes = [
        {
            "row": c.row, "key": c.key, "label": c.label, "action": c.action,
            "fields": [(labels.get(k, k), before, after) for k, (before, after) in c.changes.items()],
        }
        for c in report.changes[:PREVIEW_LIMIT]
    ]
    return {
        "report": report,
        "errors": errors,
        "more_errors": max(0, len(report.errors) - ERROR_LIMIT),
        "changes": changes,
        "more_changes": max(0, len(report.changes) - PREVIEW_LIMIT),
    }


IMPORT_DIR = "imports/people"
STALE_AFTER = datetime.timedelta(days=1)


def _sweep_stale_uploads() -> None:
    """Files checked but never confirmed (the session ended) are removed after a day."""
    try:
        _dirs, files = default_storage.listdir(IMPORT_DIR)
        cutoff = timezone.now() - STALE_AFTER
        for name in files:
            path = f"{IMPORT_DIR}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
    except (OSError, NotImplementedError):
        pass  # housekeeping only: an import never fails because of it


def _discard_pending(request: HttpRequest) -> None:
    pending = request.session.pop(IMPORT_SESSION_KEY, None)
    if pending and pending.get("path"):
        default_storage.delete(pending["path"])


def employee_import(request: HttpRequest) -> HttpResponse:
    """Upload → check (dry run: every bad row, or a preview of the changes) → confirm."""
    _require_role(request.user, *PEOPLE_EDITORS)
    context: dict[str, Any] = {"columns": _column_help()}
    if request.method == "POST" and request.POST.get("step") == "confirm":
        return _employee_import_confirm(request, context)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        _discard_pending(request)
        try:
            report = services.employee_import(actor=request.user, file=upload, dry_run=True)
        except ImportRejected as e:
            context |= _report_context(e.report)
        else:
            # Kept until she confirms; through the storage API so every app server can read it.
            suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
            token = uuid.uuid4().hex
            _sweep_stale_uploads()
            path = default_storage.save(f"{IMPORT_DIR}/{token}{suffix}", upload)
            request.session[IMPORT_SESSION_KEY] = {"token": token, "path": path, "name": upload.name}
            context |= _report_context(report) | {"token": token, "file_name": upload.name}
    context["form"] = form
    return render(request, "people/employee_import.html", context)


def _employee_import_confirm(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token") or not default_storage.exists(pending["path"]):
        messages.error(request, _("The checked file is not here any more; upload it again."))
        return redirect("people:employee_import")
    try:
        with default_storage.open(pending["path"], "rb") as handle:
            report = services.employee_import(actor=request.user, file=File(handle, name=pending["name"]))
    except ImportRejected as e:
        # The data changed since the check: show what is wrong now.
        _discard_pending(request)
        context |= _report_context(e.report) | {"form": ImportUploadForm()}
        return render(request, "people/employee_import.html", context)
    _discard_pending(request)
    messages.success(request, _("Import done: %(created)d added, %(updated)d changed, %(unchanged)d unchanged.")
                     % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged})
    return redirect("people:employee_list")


def employee_import_template(request):
    _require_role(request.user, *PEOPLE_EDITORS)
    return _xlsx_response(services.employee_import_template(), "employees-template.xlsx")


# ---- org units ---------------------------------------------------------------------------------------


def org_units(request: HttpRequest) -> HttpResponse:
    """The company tree with active head counts: the units, then one grouped count."""
    _require_role(request.user, *NON_AGENT_ROLES)
    visible = access.visible(request.user, OrgUnit)
    units = list(visible.order_by("path"))
    direct = dict(
        Employee.objects.filter(status=Employee.Status.ACTIVE, org_unit__in=visible)
        .values_list("org_unit").annotate(n=Count("pk")).values_list("org_unit", "n")
    )
    total: dict[int, int] = defaultdict(int)
    for unit in units:
        for ancestor in unit.path.strip("/").split("/"):
            total[int(ancestor)] += direct.get(unit.pk, 0)
    editor_paths = _scope_paths(request.user, PEOPLE_EDITORS)
    top = min((u.path.count("/") for u in units), default=0)
    rows = [
        {
            "unit": u,
            "depth": u.path.count("/") - top,
            "indent": 0.5 + (u.path.count("/") - top) * 1.25,
            "direct": direct.get(u.pk, 0),
            "total": total.get(u.pk, 0),
            "can_edit": any(u.path.startswith(p) for p in editor_paths),
        }
        for u in units
    ]
    return render(request, "people/org_units.html", {
        "rows": rows,
        "can_add": bool(editor_paths),
    })


def unit_create(request):
    _require_role(request.user, *PEOPLE_EDITORS)
    form = OrgUnitCreateForm(request.POST or None, user=request.user, initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.orgunit_create(actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The unit “%(name)s” was added.") % {"name": unit.name})
            return redirect("people:org_units")
    return render(request, "people/unit_form.html", {"form": form, "unit": None})


def unit_edit(request, pk: int):
    unit = access.get_for_change(request.user, OrgUnit.objects.select_related("parent"), pk=pk)
    initial = {"code": unit.code, "name": unit.name, "parent": unit.parent_id,
               "is_customer_service": unit.is_customer_service, "active": unit.active}
    form = OrgUnitEditForm(request.POST or None, user=request.user, unit=unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("people:org_units")
        try:
            services.orgunit_update(actor=request.user, unit=unit, reason=form.cleaned_data["reason"], **changes)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:org_units")
    return render(request, "people/unit_form.html", {"form": form, "unit": unit})


# ---- role assignments --------------------------------------------------------------------------------


def roles(request: HttpRequest) -> HttpResponse:
    """Who holds which role where. System admins assign and end them; HR reads."""
    _require_role(request.user, *ROLE_VIEWERS)
    can_assign = has_role(request.user, Role.SYSADMIN)
    assign_form = RoleAssignForm(request.POST or None, user=request.user) if can_assign else None
    if request.method == "POST":
        if assign_form is None:
            raise PermissionDenied
        if assign_form.is_valid():
            data = assign_form.cleaned_data
            try:
                services.role_assign(actor=request.user, user=data["person"], role=data["role"],
                                     org_unit=data["org_unit"], start_date=data["start_date"],
                                     end_date=data["end_date"], reason=data["reason"])
            except ValidationError as e:
                add_service_errors(assign_form, e)
            else:
                messages.success(request, _("The role was assigned."))
                return redirect("people:roles")

    today = timezone.localdate()
    filters = RoleFilterForm(request.GET or None)
    qs = access.visible(request.user, RoleAssignment).select_related("user", "user__employee", "org_unit")
    data = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    if data.get("show") != "all":
        qs = qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    if data.get("role"):
        qs = qs.filter(role=data["role"])
    if data.get("q"):
        term = data["q"].strip()
        qs = qs.filter(Q(user__username__icontains=term) | Q(user__employee__employee_no__icontains=term)
                       | Q(user__employee__name__icontains=term))
    page = Paginator(qs.order_by("user__username", "role", "start_date"), PER_PAGE).get_page(request.GET.get("page"))
    admin_paths = _scope_paths(request.user, [Role.SYSADMIN]) if can_assign else []
    rows = [
        {
            "a": a,
            "employee": getattr(a.user, "employee", None),
            "ended": a.end_date is not None and a.end_date < today,
            "can_end": any(a.org_unit.path.startswith(p) for p in admin_paths),
        }
        for a in page.object_list
    ]
    return render(request, "people/roles.html", {
        "filters": filters,
        "page": page,
        "rows": rows,
        "query": _query_without_page(request),
        "assign_form": assign_form,
        "today": today,
        "filtered": bool(data.get("q") or data.get("role")),
    })


@require_POST
def role_end(request, pk: int):
    assignment = access.get_for_change(request.user, RoleAssignment, pk=pk)
    form = RoleEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the role ends."))
        return redirect("people:roles")
    try:
        services.role_end(actor=request.user, assignment=assignment, end_date=form.cleaned_data["end_date"],
                          reason=form.cleaned_data["reason"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The role ends on %(date)s.")
                         % {"date": formats.date_format(form.cleaned_data["end_date"], "SHORT_DATE_FORMAT")})
    return redirect("people:roles")
