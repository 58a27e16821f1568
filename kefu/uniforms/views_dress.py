"""Dress-code spot checks (U3.1): supervisors and the supervision group record them; violations are
listed per person and department, with counts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.people.access import employee_of, has_role, scope_q
from kefu.people.models import Employee, OrgUnit
from kefu.uniforms import access as uaccess
from kefu.uniforms import selectors, services
from kefu.uniforms.forms_dress import DressCheckForm, DressFilterForm
from kefu.uniforms.views import _add_errors, _page, _query_without_page, _require_role


def dress_list(request: HttpRequest) -> HttpResponse:
    """Checks she may see (her own, or her scope's), filtered; counts per criterion, person and department."""
    user = request.user
    units = access.visible(user, OrgUnit).order_by("path")
    form = DressFilterForm(request.GET or None, units=units)
    filters: dict = {"user": user}
    only_violations = False
    term = ""
    if form.is_valid():
        data = form.cleaned_data
        filters.update(date_from=data.get("date_from"), date_to=data.get("date_to"), unit=data.get("unit"))
        only_violations = bool(data.get("violations"))
        term = (data.get("q") or "").strip()
    checks = selectors.dress_checks(**filters)
    if term:
        checks = checks.filter(Q(employee__employee_no__icontains=term) | Q(employee__name__icontains=term))
    summary = selectors.dress_summary(checks)
    listed = checks.filter(selectors.DRESS_VIOLATION_Q) if only_violations else checks
    listed = listed.select_related("employee__org_unit", "checked_by__employee").order_by("-checked_on", "-id")
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    criteria = [(name, selectors.DressCheck._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
                for name in selectors.DRESS_CRITERIA]
    return render(request, "uniforms/dress_list.html", {
        "page": _page(request, listed), "form": form, "query": _query_without_page(request), "filtered": filtered,
        "summary": summary, "can_check": has_role(user, *uaccess.DRESS_CHECKERS),
        "wide": has_role(user, *uaccess.DRESS_VIEWERS), "me": employee_of(user),
        "criteria": criteria,
        "criteria_counts": [(label, summary["totals"][name]) for name, label in criteria],
    })


def dress_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _require_role(user, *uaccess.DRESS_CHECKERS)
    employees = Employee.objects.filter(scope_q(user, uaccess.DRESS_CHECKERS),
                                        status=Employee.Status.ACTIVE).exclude(user_id=user.pk)
    initial = {"employee": request.GET.get("employee", "")}
    form = DressCheckForm(request.POST or None, employees=employees, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check = services.dress_check_record(
                actor=user, employee=data["employee"], checked_on=data["checked_on"],
                **{name: data[name] for name in DressCheckForm.CHECKS}, notes=data["notes"])
        except ValidationError as e:
            _add_errors(form, e, {})
        else:
            if check.violations:
                messages.warning(request, _("Recorded: %(name)s did not meet the dress code; she is told.")
                                 % {"name": check.employee.name})
            else:
                messages.success(request, _("Recorded: %(name)s met the dress code.") % {"name": check.employee.name})
            return redirect("uniforms:dress_list")
    return render(request, "uniforms/dress_form.html", {"form": form})
