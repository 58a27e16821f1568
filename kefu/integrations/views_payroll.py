"""The monthly payroll page for HR (issue 11, item 4): a month picker, the preview with totals, and the files.
Parse, call payroll.py, render."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kefu.integrations import payroll


def payroll_page(request: HttpRequest) -> HttpResponse:
    """``?month=YYYY-MM`` (default: this month, company local time); HR only (403 for everyone else)."""
    raw = request.GET.get("month") or f"{timezone.localdate():%Y-%m}"
    error = ""
    try:
        month = payroll.parse_month(raw)
    except ValueError as e:
        error, month = str(e), timezone.localdate().replace(day=1)
    pm = payroll.payroll_month(user=request.user, month=month)
    return render(request, "integrations/payroll.html", {
        "pm": pm, "month_error": error, "columns_text": ", ".join(payroll.COLUMNS),
        "pay_type": payroll.PAY_ADJUSTMENT, "formats": [("xlsx", "Excel (.xlsx)"), ("csv", "CSV (UTF-8)"),
                                                        ("csv-gbk", "CSV (GBK)")],
    })


def payroll_download(request: HttpRequest, month: str, fmt: str) -> HttpResponse:
    """The file of ``month`` (YYYY-MM) as xlsx, csv (UTF-8 with BOM) or csv-gbk; a bad month or format is 404."""
    if fmt not in payroll.FORMATS:
        raise Http404
    try:
        first = payroll.parse_month(month)
    except ValueError as e:
        raise Http404 from e
    pm = payroll.payroll_month(user=request.user, month=first)
    data, content_type = payroll.export(pm, fmt)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{payroll.filename(pm, fmt)}"'
    return response
