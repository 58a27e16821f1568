"""Rectification pages (policy S3, issue 8 items 5 and 6): the request from a finding, the
rectification page with its history and the steps of each role, "my rectifications", and the
rectification dashboard.

Objects come only through ``kefu.core.access`` (404 outside what the user may see); a step that
is not hers to take answers 403 (the services raise PermissionDenied).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.models import AuditEntry
from kefu.core.views import flash_errors
from kefu.inspections import access as _access  # also registers the access rules
from kefu.inspections import rectification as rect_services
from kefu.inspections.forms_rectification import (
    DashboardFilterForm,
    EvidenceForm,
    RectificationRequestForm,
    SendBackForm,
    VerifyForm,
)
from kefu.inspections.models import Finding, Rectification
from kefu.people.access import has_role, scope_q
from kefu.people.forms import add_service_errors
from kefu.people.models import OrgUnit, Role

Status = Rectification.Status
PER_PAGE = 50
LIST_LIMIT = 50  # rows in the dashboard's overdue and due-soon lists
DUE_SOON_DAYS = 7
# Who reads the dashboard: the supervision group, leadership, HR (whole company) and department heads
# (their departments: the list is narrowed by access.visible).
DASHBOARD_ROLES = frozenset({Role.INSPECTOR, Role.LEADERSHIP, Role.HR, Role.DEPT_HEAD})
# Who may be responsible or head a department: the nav shows them "My rectifications".
MINE_ROLES = frozenset({Role.TEAM_LEAD, Role.CS_SUPERVISOR, Role.DEPT_HEAD, Role.ADMIN_STAFF, Role.HR})


def _inspection_url(inspection_id: int) -> str:
    try:
        return reverse("inspections:inspection_detail", args=[inspection_id])
    except NoReverseMatch:
        return ""


def _base_qs(user) -> QuerySet[Rectification]:
    return access.visible(user, Rectification).select_related(
        "finding__inspection", "org_unit", "responsible__employee")


# ---- the request ----------------------------------------------------------------------------------


def rectification_new(request: HttpRequest, finding_pk: int) -> HttpResponse:
    """An inspector asks for a rectification of a finding (one per finding)."""
    user: Any = request.user
    finding = access.get_for_view(user, Finding.objects.select_related("org_unit", "inspection"), pk=finding_pk)
    if not rect_services.is_inspector(user):
        raise PermissionDenied
    existing = Rectification.objects.filter(finding=finding).values_list("pk", flat=True).first()
    if existing is not None:
        messages.info(request, _("This finding already has a rectification request."))
        return redirect("inspections:rectification_detail", existing)
    candidates = rect_services.responsible_candidates(finding.org_unit)
    default = rect_services.default_deadline()
    form = RectificationRequestForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rect = rect_services.rectification_request(
                actor=user, finding=finding, responsible=data["responsible"].user,
                requirement=data["requirement"], deadline=data["deadline"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Rectification requested; the person responsible has been told."))
            return redirect("inspections:rectification_detail", rect.pk)
    return render(request, "inspections/rectification_new.html", {
        "finding": finding, "form": form, "default_deadline": default,
        "inspection_url": _inspection_url(finding.inspection_id),
    })


# ---- the rectification page -----------------------------------------------------------------------


def _last_send_back(rect: Rectification) -> AuditEntry | None:
    if not rect.sent_back_count:
        return None
    return (AuditEntry.objects.filter(object_type="inspections.rectification", object_id=str(rect.pk),
                                      action="rectification.send_back").order_by("-id").first())


def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    rect = access.get_for_view(user, _base_qs(user).select_related("verified_by__employee", "created_by__employee"),
                               pk=pk)
    works = rect_services.can_work_on(user, rect)
    verifies = rect_services.can_verify(user, rect)
    today = timezone.localdate()
    return render(request, "inspections/rectification_detail.html", {
        "rect": rect, "S": Status, "today": today,
        "overdue": rect_services.is_overdue(rect, today),
        "attachments": list(rect.attachments.order_by("id")),
        "can_start": works and rect.status == Status.OPEN,
        "can_submit": works and rect.status in rect_services.WITH_DEPARTMENT,
        "can_verify": verifies and rect.status == Status.SUBMITTED,
        "evidence_form": EvidenceForm(initial={"evidence": rect.evidence}),
        "send_back_form": SendBackForm(), "verify_form": VerifyForm(),
        "last_send_back": _last_send_back(rect),
        "inspection_url": _inspection_url(rect.finding.inspection_id) if _access.reads_inspections(user) else "",
        "back_url": reverse("inspections:rectification_dashboard" if has_role(user, *DASHBOARD_ROLES)
                            else "inspections:rectification_mine"),
        "attachment_kinds": rect_services.ATTACHMENT_KINDS,
    })



def _for_step(request: HttpRequest, pk: int) -> Rectification:
    return access.get_for_view(request.user, Rectification, pk=pk)


@require_POST
def rectification_start(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _for_step(request, pk)
    try:
        rect_services.rectification_start(actor=request.user, rectification=rect)
        messages.success(request, _("Rectification started."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("inspections:rectification_detail", rect.pk)


@require_POST
def rectification_submit(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _for_step(request, pk)
    try:
        rect_services.rectification_submit(actor=request.user, rectification=rect,
                                           evidence=request.POST.get("evidence", ""),
                                           attachments=request.FILES.getlist("attachments"))
        messages.success(request, _("Evidence submitted; an inspector will verify it."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("inspections:rectification_detail", rect.pk)


@require_POST
def rectification_verify(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _for_step(request, pk)
    form = VerifyForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        rect_services.rectification_verify(actor=request.user, rectification=rect, note=note)
        messages.success(request, _("Rectification verified and closed."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("inspections:rectification_detail", rect.pk)


@require_POST
def rectification_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    rect = _for_step(request, pk)
    try:
        rect_services.rectification_send_back(actor=request.user, rectification=rect,
                                              reason=request.POST.get("reason", ""))
        messages.success(request, _("Rectification sent back to the department."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("inspections:rectification_detail", rect.pk)


# ---- my rectifications ----------------------------------------------------------------------------


def mine_qs(user) -> QuerySet[Rectification]:
    """Rectifications she is responsible for, or of the departments she heads."""
    return _base_qs(user).filter(Q(responsible=user) | scope_q(user, [Role.DEPT_HEAD], field="org_unit"))


def rectification_mine(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    show_closed = request.GET.get("closed") == "1"
    qs = mine_qs(user)
    if not show_closed:
        qs = qs.exclude(status=Status.CLOSED)
    page = Paginator(qs.order_by("deadline", "pk"), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inspections/rectification_mine.html", {
        "page": page, "today": timezone.localdate(), "show_closed": show_closed,
        "query": "closed=1" if show_closed else "",
    })


# ---- the dashboard --------------------------------------------------------------------------------


def _overdue_q(today: datetime.date) -> Q:
    return Q(status__in=rect_services.WITH_DEPARTMENT, deadline__lt=today)


def dashboard_counts(qs: QuerySet[Rectification], today: datetime.date) -> dict[str, int]:
    """Counts by status, overdue, due soon and escalation level — one query."""
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    active = Q(status__in=rect_services.WITH_DEPARTMENT)
    return qs.order_by().aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status=Status.OPEN)),
        in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
        submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
        sent_back=Count("pk", filter=active & Q(sent_back_count__gt=0)),
        overdue=Count("pk", filter=_overdue_q(today)),
        due_soon=Count("pk", filter=active & Q(deadline__gte=today, deadline__lte=soon)),
        level1=Count("pk", filter=~Q(status=Status.CLOSED) & Q(escalation_level=1)),
        level2=Count("pk", filter=~Q(status=Status.CLOSED) & Q(escalation_level=2)),
    )


def by_department(qs: QuerySet[Rectification], today: datetime.date) -> list[dict[str, Any]]:
    """One row per department responsible — one query."""
    return list(
        qs.order_by().values("org_unit_id", "org_unit__name", "org_unit__code", "org_unit__path")
        .annotate(total=Count("pk"),
                  active=Count("pk", filter=~Q(status=Status.CLOSED)),
                  submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
                  overdue=Count("pk", filter=_overdue_q(today)),
                  escalated=Count("pk", filter=~Q(status=Status.CLOSED) & Q(escalation_level__gt=0)),
                  closed=Count("pk", filter=Q(status=Status.CLOSED)))
        .order_by("org_unit__path")
    )


def rectification_dashboard(request: HttpRequest) -> HttpResponse:
    """The rectification dashboard (issue 8 item 6): counts, overdue, by department, due soon, escalation."""
    user: Any = request.user
    if not has_role(user, *DASHBOARD_ROLES):
        raise PermissionDenied
    today = timezone.localdate()
    visible = access.visible(user, Rectification)
    units = OrgUnit.objects.filter(pk__in=visible.order_by().values("org_unit_id")).order_by("path")
    form = DashboardFilterForm(request.GET or None, units=units)
    qs = visible
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("unit"):
            qs = qs.filter(org_unit__path__startswith=data["unit"].path)
        if data.get("level") not in (None, ""):
            qs = qs.filter(escalation_level=int(data["level"]))
        if data.get("overdue"):
            qs = qs.filter(_overdue_q(today))
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(finding__title__icontains=term) | Q(requirement__icontains=term)
                           | Q(responsible__employee__name__icontains=term)
                           | Q(responsible__username__icontains=term))
    counts = dashboard_counts(qs, today)
    departments = by_department(qs, today)
    rich = qs.select_related("finding", "org_unit", "responsible__employee")
    overdue = list(rich.filter(_overdue_q(today)).order_by("deadline", "pk")[:LIST_LIMIT])
    for r in overdue:
        r.days_overdue = (today - r.deadline).days  # type: ignore[attr-defined]
    due_soon = list(rich.filter(status__in=rect_services.WITH_DEPARTMENT, deadline__gte=today,
                                deadline__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
                    .order_by("deadline", "pk")[:LIST_LIMIT])
    page = Paginator(rich.order_by("status", "deadline", "pk"), PER_PAGE).get_page(request.GET.get("page"))
    chart = {
        "labels": [d["org_unit__name"] for d in departments],
        "series": [
            {"key": "in_hand", "name": _("In hand"),
             "data": [d["active"] - d["submitted"] - d["overdue"] for d in departments]},
            {"key": "overdue", "name": _("Overdue"), "data": [d["overdue"] for d in departments]},
            {"key": "submitted", "name": _("Submitted, to verify"), "data": [d["submitted"] for d in departments]},
            {"key": "closed", "name": _("Verified and closed"), "data": [d["closed"] for d in departments]},
        ],
    }
    query = request.GET.copy()
    query.pop("page", None)
    filtered = form.is_bound and form.is_valid() and any(v not in (None, "", False)
                                                         for v in form.cleaned_data.values())
    return render(request, "inspections/rectification_dashboard.html", {
        "form": form, "counts": counts, "departments": departments, "overdue": overdue, "due_soon": due_soon,
        "page": page, "query": query.urlencode(), "filtered": filtered, "today": today,
        "due_soon_days": DUE_SOON_DAYS, "list_limit": LIST_LIMIT, "S": Status, "chart": chart,
    })
