"""HR sync by API: ``POST /api/v1/hr-sync`` (multipart: ``org_units`` and/or ``employees`` CSV or .xlsx
files, ``dry_run``). HR and system admins only; the answer is the run's report.

The monthly payroll file: ``GET /api/v1/payroll/{yyyy-mm}`` (HR only; ``?format=xlsx|csv|csv-gbk`` for the file).

(No ``from __future__ import annotations`` here: django-ninja reads the annotations at import.)
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from kefu.api.common import caller, require_people_editor
from kefu.api.schemas import ErrorOut, ValidationErrorOut
from kefu.integrations import hrsync, payroll
from kefu.integrations.models import HrSyncRun

router = Router(tags=["HR sync"])


class RowErrorOut(Schema):
    row: int | None
    field: str | None
    message: str


class HrSyncRejectedOut(Schema):
    detail: list[RowErrorOut]


class HrSyncOut(Schema):
    id: int
    status: str
    report: dict[str, Any]


@router.post("/hr-sync", response={200: HrSyncOut, 401: ErrorOut, 403: ErrorOut, 422: HrSyncRejectedOut | ValidationErrorOut},
             summary="Sync org units and employees from HR files")
def hr_sync(request: HttpRequest, dry_run: Form[bool] = False, org_units: File[UploadedFile | None] = None,
            employees: File[UploadedFile | None] = None):
    """Org units first, then employees; all or nothing. ``dry_run`` reports what would change (new,
    changed fields, moved units, leavers) and saves nothing. A rejected file answers 422 with the rows."""
    user = caller(request)
    require_people_editor(user)
    if org_units is None and employees is None:
        raise ValidationError({"employees": _("Send an org_units or an employees file.")})
    names = ", ".join(f.name or "" for f in (org_units, employees) if f is not None)
    run = hrsync.sync(actor=user, units=org_units, employees=employees, dry_run=dry_run,
                      source=HrSyncRun.Source.API, file_name=names)
    if run.status == HrSyncRun.Status.REJECTED:
        return Status(422, {"detail": [{"field": e["field"] or None, "message": e["message"], "row": e["row"]}
                                       for e in run.report["errors"]]})
    return Status(200, {"id": run.pk, "status": run.status, "report": run.report})


# ---- payroll (issue 11 item 4) -------------------------------------------------------------------------


class PayrollLineOut(Schema):
    employee_no: str
    name: str
    department: str
    month: str
    item_type: str
    reference: str
    amount: str  # "-150.41": two places, deductions negative
    currency: str
    base_pay: str | None
    new_base_pay: str | None
    note: str


class PayrollTotalsOut(Schema):
    employees: int
    pay_adjustment: str
    uniform_compensation: str
    net: str


class PayrollOut(Schema):
    month: str
    columns: list[str]
    lines: list[PayrollLineOut]
    totals: PayrollTotalsOut


def _dec(value) -> str | None:
    return None if value is None else f"{value:.2f}"


@router.get("/payroll/{month}", response={200: PayrollOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                          422: ValidationErrorOut},
            tags=["Payroll"], summary="The payroll file of a month (HR only; policy E3.1, U3.2)")
def payroll_file(request: HttpRequest, month: str, format: str = "json"):
    """Pay adjustments of approved annual cycles due in the month and uniform compensation confirmed in it
    (company local time), per employee in HR's scope; ``month`` is ``YYYY-MM``. ``format=xlsx``, ``csv``
    (UTF-8 with BOM) or ``csv-gbk`` answers the file instead of JSON. Layout: docs/payroll.md."""
    user = caller(request)
    try:
        first = payroll.parse_month(month)
    except ValueError as e:
        raise ValidationError({"month": str(e)}) from None
    if format != "json" and format not in payroll.FORMATS:
        raise Http404
    pm = payroll.payroll_month(user=user, month=first)
    if format != "json":
        data, content_type = payroll.export(pm, format)
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{payroll.filename(pm, format)}"'
        return response
    return Status(200, {
        "month": pm.label, "columns": list(payroll.COLUMNS),
        "lines": [{"employee_no": line.employee_no, "name": line.name, "department": line.department,
                   "month": line.month, "item_type": line.item_type, "reference": line.reference,
                   "amount": _dec(line.amount), "currency": payroll.CURRENCY, "base_pay": _dec(line.base_pay),
                   "new_base_pay": _dec(line.new_base_pay), "note": line.note} for line in pm.lines],
        "totals": {"employees": pm.employees, "pay_adjustment": _dec(pm.pay_total),
                   "uniform_compensation": _dec(pm.deduction_total), "net": _dec(pm.net_total)},
    })
