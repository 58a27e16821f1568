"""Inspection pages (policy S1-S3): plans, inspections (checklist, sample, findings), the group, the report.

Access (``inspections.access``): the supervision group (inspectors) writes; HR and leadership read;
everyone else gets 404. A reader who may not change an object gets 403 on its forms.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.views import flash_errors
from kefu.inspections import access as iaccess
from kefu.inspections import selectors, services
from kefu.inspections.forms import (
    CompleteForm,
    FindingForm,
    InspectionForm,
    ItemRecordForm,
    PlanForm,
    SampleForm,
)
from kefu.inspections.models import (
    Finding,
    Inspection,
    InspectionItem,
    InspectionPlan,
    Method,
    SampleKind,
    Topic,
)
from kefu.people.forms import add_service_errors

PER_PAGE = 50


def _require_reader(request: HttpRequest) -> None:
    if not iaccess.reads_inspections(request.user):
        raise Http404


def _require_inspector(request: HttpRequest) -> None:
    _require_reader(request)
    if not iaccess.is_inspector(request.user):
        raise PermissionDenied



# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def plan_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    plans = (access.visible(request.user, InspectionPlan).select_related("org_unit")
             .annotate(n_items=Count("items", distinct=True), n_inspections=Count("inspections", distinct=True))
             .prefetch_related("inspectors__employee").order_by("-active", "title", "id"))
    return render(request, "inspections/plan_list.html", {
        "plans": plans, "is_inspector": iaccess.is_inspector(request.user),
        "method_labels": dict(Method.choices)})


def _plan_from_form(request: HttpRequest, form: PlanForm, plan: InspectionPlan | None) -> InspectionPlan | None:
    data = form.cleaned_data
    common = dict(actor=request.user, title=data["title"], topic=data["topic"], recurrence=data["recurrence"],
                  methods=data["methods"], org_unit=data["org_unit"], sample_sizes=form.sizes(),
                  inspectors=data["inspectors"], template=data["template"], active=data["active"])
    try:
        if plan is None:
            return services.plan_create(items=data["item_rows"] or None, **common)
        return services.plan_update(plan=plan, items=data["item_rows"] or None, reason=data.get("reason", ""),
                                    **common)
    except ValidationError as e:
        add_service_errors(form, e)
        return None


def plan_new(request: HttpRequest) -> HttpResponse:
    _require_inspector(request)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        plan = _plan_from_form(request, form, None)
        if plan is not None:
            messages.success(request, _("Plan saved."))
            return redirect("inspections:plan_detail", pk=plan.pk)
    return render(request, "inspections/plan_form.html", {"form": form, "plan": None})


def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access.get_for_change(request.user, InspectionPlan, pk=pk)
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        saved = _plan_from_form(request, form, plan)
        if saved is not None:
            messages.success(request, _("Plan saved."))
            return redirect("inspections:plan_detail", pk=plan.pk)
    return render(request, "inspections/plan_form.html", {"form": form, "plan": plan})


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access.get_for_view(request.user, InspectionPlan.objects.select_related("org_unit", "created_by"), pk=pk)
    inspections = (plan.inspections.select_related("lead_inspector__employee")
                   .annotate(n_fail=Count("items", filter=Q(items__result="fail")))
                   .order_by("-period_start", "-id")[:50])
    return render(request, "inspections/plan_detail.html", {
        "plan": plan, "items": plan.items.order_by("order", "id"),
        "inspectors": plan.inspectors.select_related("employee").order_by("username"),
        "inspections": inspections, "can_change": access.can_change(request.user, plan),
        "methods": [Method(m).label for m in plan.methods if m in Method.values],
        "sizes": [(SampleKind(k).label, n) for k, n in plan.sample_sizes.items() if k in SampleKind.values],
    })


# ---------------------------------------------------------------------------------------------
# Inspections
# ---------------------------------------------------------------------------------------------


def inspection_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    status = request.GET.get("status", "")
    qs = (access.visible(request.user, Inspection).select_related("org_unit", "lead_inspector__employee", "plan")
          .annotate(n_items=Count("items", distinct=True),
                    n_fail=Count("items", filter=Q(items__result="fail"), distinct=True),
                    n_findings=Count("findings", distinct=True))
          .order_by("-period_start", "-id"))
    if status in Inspection.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inspections/inspection_list.html", {
        "page": page, "inspections": page.object_list, "status": status, "statuses": Inspection.Status.choices,
        "is_inspector": iaccess.is_inspector(request.user),
        "query": f"status={status}" if status else ""})


def inspection_new(request: HttpRequest) -> HttpResponse:
    """A new inspection: from a plan (``?plan=``) or an unannounced spot check (S1)."""
    _require_inspector(request)
    plan = None
    plan_id = request.GET.get("plan") or request.POST.get("plan")
    if plan_id:
        plan = access.get_for_view(request.user, InspectionPlan, pk=plan_id)
    form = InspectionForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = services.inspection_create(
                actor=request.user, plan=plan, title=data["title"], topic=data["topic"], org_unit=data["org_unit"],
                methods=data["methods"], sample_sizes=form.sizes(), period_start=data["period_start"],
                period_end=data["period_end"], template=data["template"], items=data["item_rows"] or None,
                start=data["start"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Inspection created."))
            return redirect("inspections:inspection_detail", pk=inspection.pk)
    return render(request, "inspections/inspection_form.html", {"form": form, "plan": plan})


def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = access.get_for_view(request.user, selectors.inspection_for_page(Inspection.objects), pk=pk)
    can_change = access.can_change(request.user, inspection)
    running = can_change and inspection.status == Inspection.Status.IN_PROGRESS
    items = list(inspection.items.all())
    return render(request, "inspections/inspection_detail.html", {
        "inspection": inspection, "items": items, "counts": selectors.counts(inspection),
        "samples": selectors.sample_rows(inspection), "findings": selectors.findings_with_rectification(inspection),
        "hits": inspection.compliance_hits.order_by("check_key", "id"),
        "can_change": can_change, "running": running, "is_inspector": iaccess.is_inspector(request.user),
        "sample_form": SampleForm(inspection=inspection) if running else None,
        "finding_form": FindingForm(initial={"org_unit": inspection.org_unit_id}) if running else None,
        "complete_form": CompleteForm() if running else None,
        "results": [c for c in InspectionItem.Result.choices if c[0]],
        "methods": [Method(m).label for m in inspection.methods if m in Method.values],
        "S": Inspection.Status,
    })


def _inspection_for_change(request: HttpRequest, pk: int) -> Inspection:
    return access.get_for_change(request.user, Inspection, pk=pk)


def _back(inspection: Inspection, anchor: str = "") -> HttpResponse:
    url = reverse("inspections:inspection_detail", args=[inspection.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
def inspection_start(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection_for_change(request, pk)
    try:
        services.inspection_start(actor=request.user, inspection=inspection)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Inspection started."))
    return _back(inspection)


@require_POST
def inspection_complete(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection_for_change(request, pk)
    form = CompleteForm(request.POST)
    form.is_valid()
    try:
        services.inspection_complete(actor=request.user, inspection=inspection,
                                     summary=form.cleaned_data.get("summary", ""))
    except ValidationError as e:
        flash_errors(request, e)
        return _back(inspection, "checklist")
    messages.success(request, _("Inspection completed."))
    return _back(inspection)


@require_POST
def sample_draw(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection_for_change(request, pk)
    form = SampleForm(request.POST, inspection=inspection)
    if not form.is_valid():
        for message in form.errors.get_json_data().values():
            for entry in message:
                messages.error(request, entry["message"])
        return _back(inspection, "sample")
    data = form.cleaned_data
    fresh = request.POST.get("mode") == "fresh"
    sizes = None if request.POST.get("mode") == "repeat" else form.sizes()
    try:
        records = services.sample_draw(actor=request.user, inspection=inspection, sizes=sizes, seed=data["seed"],
                                       fresh=fresh, reason=data["reason"])
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("%(n)s records drawn.") % {"n": len(records)})
    return _back(inspection, "sample")


@require_POST
def item_record(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_for_view(request.user, InspectionItem.objects.select_related("inspection"), pk=pk)
    access.require_change(request.user, item.inspection)
    form = ItemRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose pass, fail or not applicable."))
        return _back(item.inspection, f"item-{item.pk}")
    try:
        services.item_record(actor=request.user, item=item, result=form.cleaned_data["result"],
                             notes=form.cleaned_data["notes"], uploads=request.FILES.getlist("files"))
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Recorded: %(item)s") % {"item": item.text})
    return _back(item.inspection, f"item-{item.pk}")


@require_POST
def finding_new(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection_for_change(request, pk)
    form = FindingForm(request.POST)
    if not form.is_valid():
        for message in form.errors.get_json_data().values():
            for entry in message:
                messages.error(request, entry["message"])
        return _back(inspection, "findings")
    data = form.cleaned_data
    try:
        services.finding_create(actor=request.user, inspection=inspection, title=data["title"],
                                detail=data["detail"], org_unit=data["org_unit"], employee=data["employee"])
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Finding added."))
    return _back(inspection, "findings")


def finding_edit(request: HttpRequest, pk: int) -> HttpResponse:
    finding = access.get_for_change(request.user, Finding.objects.select_related("inspection", "item"), pk=pk)
    form = FindingForm(request.POST or None, initial={
        "title": finding.title, "detail": finding.detail, "org_unit": finding.org_unit_id,
        "employee": finding.employee_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.finding_update(actor=request.user, finding=finding, title=data["title"], detail=data["detail"],
                                    org_unit=data["org_unit"], employee=data["employee"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Finding saved."))
            return _back(finding.inspection, "findings")
    return render(request, "inspections/finding_form.html", {"form": form, "finding": finding})


def inspection_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable inspection report (S2/S3), in the reader's language."""
    from kefu.inspections.pdf import inspection_report

    inspection = access.get_for_view(request.user, selectors.inspection_for_page(Inspection.objects), pk=pk)
    data = inspection_report(inspection, language=translation.get_language() or "zh-hant")
    response = HttpResponse(data, content_type="application/pdf")
    stamp = inspection.period_start.strftime("%Y%m%d")
    response["Content-Disposition"] = f'inline; filename="inspection-{inspection.pk}-{stamp}.pdf"'
    return response


# ---------------------------------------------------------------------------------------------
# The supervision group (S1)
# ---------------------------------------------------------------------------------------------


def group(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    members = selectors.supervision_group()
    return render(request, "inspections/group.html", {
        "group": members, "sides": selectors.SIDES, "today": timezone.localdate(),
        "topics": Topic.choices})
