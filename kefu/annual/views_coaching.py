"""Coaching pages (policy E3.3): the plans list, a plan with its steps, "my coaching", the HR cases.

Each step is a POST to its own URL; on bad input the plan page is shown again with the form's errors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.annual import access as aaccess
from kefu.annual import access_coaching as caccess
from kefu.annual import coaching
from kefu.annual.forms_coaching import (
    ActivateForm,
    CancelForm,
    CaseFilterForm,
    CloseForm,
    DecideForm,
    PlanFilterForm,
    SessionForm,
)
from kefu.annual.models import CoachingPlan, HrCase
from kefu.core import access
from kefu.people.access import employee_of, has_role, units_in_scope
from kefu.people.forms import add_service_errors
from kefu.people.models import OrgUnit

PER_PAGE = 50
P = CoachingPlan.Status
PLAN_RELATED = ("employee__org_unit", "employee__user", "coach__employee", "annual_result__cycle",
                "monthly_evaluation", "closed_by__employee")


def _page(request: HttpRequest, qs):
    return Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _departments(user):
    return (units_in_scope(user, caccess.READERS)
            .filter(kind=OrgUnit.Kind.DEPARTMENT, is_customer_service=True).order_by("path"))


def coaching_list(request: HttpRequest) -> HttpResponse:
    """The plans in the user's scope (and those she coaches), filtered; a bounded number of queries."""
    if not caccess.reads_list(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    qs = access.visible(request.user, CoachingPlan).exclude(employee__user_id=request.user.pk or 0)
    form = PlanFilterForm(request.GET or None, departments=_departments(request.user))
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("source"):
            qs = qs.filter(source=data["source"])
        if data.get("department"):
            qs = qs.filter(employee__org_unit__path__startswith=data["department"].path)
        if data.get("overdue"):
            qs = qs.filter(status=P.ACTIVE, due_date__lt=today)
    qs = (qs.select_related(*PLAN_RELATED).annotate(n_sessions=Count("sessions"))
          .order_by("-created_at", "-pk"))
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "annual/coaching_list.html", {
        "page": _page(request, qs), "form": form, "query": _query_without_page(request), "filtered": filtered,
        "today": today, "P": P, "can_sync": has_role(request.user, *caccess.HR),
    })


def coaching_mine(request: HttpRequest) -> HttpResponse:
    """An agent's own plans (active and after), read-only."""
    me = employee_of(request.user)
    if me is None:
        raise PermissionDenied
    plans = list(access.visible(request.user, CoachingPlan.objects.filter(employee=me))
                 .select_related(*PLAN_RELATED).annotate(n_sessions=Count("sessions")).order_by("-created_at", "-pk"))
    return render(request, "annual/coaching_mine.html", {"plans": plans, "P": P, "today": timezone.localdate()})


def _facts(user, plan: CoachingPlan) -> dict[str, Any]:
    """What triggered the plan, with a link to it."""
    own = plan.employee.user_id == user.pk
    if plan.monthly_evaluation is not None:
        ev = plan.monthly_evaluation
        return {"kind": "monthly", "evaluation": ev, "period": f"{ev.year}-{ev.month:02d}",
                "trigger": coaching.trigger_for(ev.year, ev.month),
                "url": reverse("evaluations:monthly_detail", args=[ev.pk])}
    if plan.annual_result is not None:
        result = plan.annual_result
        url = (reverse("annual:mine") if own else
               reverse("annual:board", args=[result.cycle.year]) if aaccess.reads_board(user) else "")
        return {"kind": "annual", "result": result, "url": url}
    return {}


def _render_detail(request: HttpRequest, plan: CoachingPlan, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    manages = coaching.manages(user, plan.employee)
    is_coach = plan.coach_id == user.pk and plan.employee.user_id != user.pk
    hr = coaching.decides_cases(user, plan.employee)
    case = access.visible(user, HrCase.objects.filter(plan=plan)).select_related("decided_by__employee").first()
    ctx: dict[str, Any] = {
        "plan": plan, "P": P, "today": today, "facts": _facts(user, plan),
        "sessions": list(plan.sessions.select_related("coach__employee")), "case": case,
        "overdue": plan.status == P.ACTIVE and plan.due_date is not None and plan.due_date < today,
    }
    if manages and plan.status == P.DRAFT:
        ctx["activate_form"] = forms.get("activate_form") or ActivateForm(
            initial={"coach": plan.coach_id}, coaches=coaching.coach_choices(plan.employee))
    if (manages or is_coach) and plan.status == P.ACTIVE:
        ctx["session_form"] = forms.get("session_form") or SessionForm(initial={"held_on": today})
    if manages and plan.status == P.ACTIVE:
        ctx["close_form"] = forms.get("close_form") or CloseForm()
    if (manages or hr) and plan.status in (P.DRAFT, P.ACTIVE):
        ctx["cancel_form"] = forms.get("cancel_form") or CancelForm()
    if case is not None and case.status == HrCase.Status.OPEN and hr:
        ctx["decide_form"] = forms.get("decide_form") or DecideForm()
    for name, form in forms.items():
        if name not in ctx:  # the step is no longer offered (a double submit): say why on the page
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    return render(request, "annual/coaching_detail.html", ctx, status=status)


def _plan(request: HttpRequest, pk: int) -> CoachingPlan:
    return access.get_for_view(request.user, CoachingPlan.objects.select_related(*PLAN_RELATED), pk=pk)


def coaching_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _plan(request, pk))


@require_POST
def coaching_activate(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not coaching.manages(request.user, plan.employee):
        raise PermissionDenied
    form = ActivateForm(request.POST, coaches=coaching.coach_choices(plan.employee))
    if form.is_valid():
        data = form.cleaned_data
        try:
            coaching.plan_activate(actor=request.user, plan=plan, goals=data["goals"], coach=data["coach"],
                                   due_date=data["due_date"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The plan is active; %(name)s and the coach are told.")
                             % {"name": plan.employee.name})
            return redirect("annual:coaching_detail", pk=plan.pk)
    return _render_detail(request, _plan(request, pk), activate_form=form)


@require_POST
def coaching_session(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    is_coach = plan.coach_id == request.user.pk and plan.employee.user_id != request.user.pk
    if not (coaching.manages(request.user, plan.employee) or is_coach):
        raise PermissionDenied  # E3.3: her supervisor or her coach; refused before the form is read
    form = SessionForm(request.POST)
    if form.is_valid():
        try:
            coaching.session_add(actor=request.user, plan=plan, held_on=form.cleaned_data["held_on"],
                                 notes=form.cleaned_data["notes"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Session recorded."))
            return redirect("annual:coaching_detail", pk=plan.pk)
    return _render_detail(request, _plan(request, pk), session_form=form)


@require_POST
def coaching_close(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not coaching.manages(request.user, plan.employee):
        raise PermissionDenied  # E3.3: her CS supervisor closes the plan; refused before the form is read
    form = CloseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            total = coaching.parse_total(data["follow_up_total"])
            coaching.plan_close(actor=request.user, plan=plan, met=data["outcome"] == "met",
                                note=data["follow_up_note"], follow_up_total=total)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The follow-up evaluation is recorded."))
            return redirect("annual:coaching_detail", pk=plan.pk)
    return _render_detail(request, _plan(request, pk), close_form=form)


@require_POST
def coaching_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not (coaching.manages(request.user, plan.employee) or coaching.decides_cases(request.user, plan.employee)):
        raise PermissionDenied  # her supervisor or HR; refused before the form is read
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            coaching.plan_cancel(actor=request.user, plan=plan, reason=form.cleaned_data["cancel_reason"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The plan is cancelled."))
            return redirect("annual:coaching_detail", pk=plan.pk)
    return _render_detail(request, _plan(request, pk), cancel_form=form)


@require_POST
def coaching_sync_now(request: HttpRequest) -> HttpResponse:
    """HR makes the owed drafts now instead of waiting for the nightly run (idempotent)."""
    if not has_role(request.user, *caccess.HR):
        raise PermissionDenied
    run = coaching.coaching_sync(actor=request.user)
    messages.success(request, _("%(n)s coaching plan(s) made: %(annual)s for fail grades, %(monthly)s for low "
                                "monthly totals.") % {"n": run.created, "annual": run.annual, "monthly": run.monthly})
    return redirect("annual:coaching_list")


def hr_cases(request: HttpRequest) -> HttpResponse:
    """The HR cases opened by unmet coaching goals (E3.3) in the user's scope."""
    if not caccess.reads_list(request.user):
        raise PermissionDenied
    qs = access.visible(request.user, HrCase).exclude(plan__employee__user_id=request.user.pk or 0)
    form = CaseFilterForm(request.GET or None)
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    qs = qs.select_related("plan__employee__org_unit", "plan__closed_by__employee",
                           "decided_by__employee").order_by("status", "-opened_at", "-pk")
    return render(request, "annual/coaching_hr_cases.html", {
        "page": _page(request, qs), "form": form, "query": _query_without_page(request), "S": HrCase.Status,
    })


@require_POST
def hr_case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_for_view(request.user, HrCase.objects.select_related("plan"), pk=pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            coaching.hr_case_decide(actor=request.user, case=case, decision=form.cleaned_data["decision"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("annual:coaching_detail", pk=case.plan_id)
    return _render_detail(request, _plan(request, case.plan_id), decide_form=form)
