"""Procurement pages (U1.2): suppliers, purchase plans, quotations and comparison, purchase
orders, receipts with acceptance, supplier issues, budgets.

Every page is for the readers of purchase data (admin staff, leadership, inspectors) and
answers 403 to other roles; objects come through kefu.core.access (404 for what a user may
not see, 403 for what she sees but may not change). Views parse input, call a service, render.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, IntegerField, Min, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access, policy
from kefu.core.models import Attachment
from kefu.core.views import flash_errors
from kefu.people.access import has_role
from kefu.procurement import pdf, selectors, services, todos
from kefu.procurement.access import ADMINS, READERS, is_approver, is_buyer
from kefu.procurement.forms import (
    AddStylesForm,
    AwardForm,
    CertificateForm,
    ContactForm,
    DecisionForm,
    InviteForm,
    IssueCloseForm,
    IssueKindForm,
    OrderForm,
    PlanForm,
    PlanLineForm,
    QuoteForm,
    ReasonForm,
    ReceiptForm,
    RfqCreateForm,
    StatusFilterForm,
    SupplierForm,
    SupplierStatusForm,
    issue_status_choices,
    order_status_choices,
    plan_status_choices,
    receipt_status_choices,
    rfq_status_choices,
    supplier_status_choices,
)
from kefu.procurement.models import (
    Award,
    Invitation,
    PlanDecision,
    PlanLine,
    PlanLineSize,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchasePlan,
    Quote,
    Receipt,
    ReceiptLine,
    Rfq,
    Supplier,
    SupplierCertificate,
    SupplierContact,
    SupplierIssue,
)

PER_PAGE = 50


# ---- helpers -------------------------------------------------------------------------------------------


def _require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied


def _reader(request: HttpRequest) -> None:
    _require_role(request.user, *READERS)


def _add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names, else on the form."""
    if hasattr(error, "error_dict"):
        for field, msgs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def _page(request: HttpRequest, qs):
    return Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _files_of(objects: list[Any]) -> dict[tuple[str, int], list[Attachment]]:
    """The attachments of several records in one query, keyed by (model, id)."""
    from django.contrib.contenttypes.models import ContentType

    if not objects:
        return {}
    types = ContentType.objects.get_for_models(*{type(o) for o in objects})
    q = Q(pk__in=[])
    for model, ct in types.items():
        q |= Q(content_type=ct, object_id__in=[o.pk for o in objects if type(o) is model])
    out: dict[tuple[str, int], list[Attachment]] = {}
    for a in Attachment.objects.filter(q).select_related("content_type"):
        out.setdefault((a.content_type.model, a.object_id), []).append(a)
    return out


def _attach_files(objects: list[Any]) -> None:
    files = _files_of(objects)
    for obj in objects:
        obj.files = files.get((obj._meta.model_name, obj.pk), [])


# ---- overview ------------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    _reader(request)
    plans = dict(PurchasePlan.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    orders = dict(PurchaseOrder.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return render(request, "procurement/home.html", {
        "plans": plans, "orders": orders,
        "pending_plans": plans.get(PurchasePlan.Status.SUBMITTED, 0) + plans.get(PurchasePlan.Status.AWAITING_SECOND, 0),
        "open_rfqs": Rfq.objects.filter(status=Rfq.Status.OPEN).count(),
        "pending_awards": Award.objects.filter(status=Award.Status.PENDING).count(),
        "draft_receipts": Receipt.objects.filter(status=Receipt.Status.DRAFT).count(),
        "open_issues": SupplierIssue.objects.filter(status=SupplierIssue.Status.OPEN).count(),
        "suppliers": Supplier.objects.filter(status=Supplier.Status.QUALIFIED).count(),
        "is_buyer": is_buyer(request.user), "is_approver": is_approver(request.user),
        "section": "home",
    })


# ---- suppliers -----------------------------------------------------------------------------------------


def suppliers(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=supplier_status_choices())
    qs = access.visible(request.user, Supplier)
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    today = timezone.localdate()
    expired = Exists(SupplierCertificate.objects.filter(supplier=OuterRef("pk"), withdrawn_at__isnull=True,
                                                        expires_on__lt=today))
    qs = selectors.suppliers_with_history(qs).annotate(has_expired=expired).order_by("code")
    page = _page(request, qs)
    for supplier in page.object_list:
        supplier.score = selectors.score_of(supplier)
    return render(request, "procurement/suppliers.html", {
        "form": form, "page": page, "query": _query_without_page(request), "is_buyer": is_buyer(request.user),
        "section": "suppliers", "filtered": bool(request.GET.get("status")),
    })


def _supplier_for_view(request: HttpRequest, code: str) -> Supplier:
    return access.get_for_view(request.user, Supplier, code=code)


def supplier_detail(request: HttpRequest, code: str) -> HttpResponse:
    _reader(request)
    supplier = _supplier_for_view(request, code)
    today = timezone.localdate()
    scored = selectors.suppliers_with_history(Supplier.objects.filter(pk=supplier.pk)).get()
    certificates = list(SupplierCertificate.objects.filter(supplier=supplier).select_related("uploaded_by__employee"))
    for c in certificates:
        c.expired = (c.withdrawn_at is None and c.expires_on is not None  # type: ignore[attr-defined]
                     and c.expires_on < today)
    buyer = is_buyer(request.user)
    return render(request, "procurement/supplier_detail.html", {
        "supplier": supplier, "score": selectors.score_of(scored), "history": scored,
        "problems": selectors.supplier_problems(supplier, on=today),
        "contacts": SupplierContact.objects.filter(supplier=supplier),
        "certificates": certificates,
        "orders": PurchaseOrder.objects.filter(supplier=supplier).select_related("plan").order_by("-id")[:20],
        "is_buyer": buyer, "contact_form": ContactForm() if buyer else None,
        "status_form": SupplierStatusForm() if buyer else None,
        "section": "suppliers",
    })


def supplier_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *ADMINS)
    form = SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            supplier = services.supplier_create(
                actor=request.user, code=d["code"], name=d["name"], credit_code=d["credit_code"], address=d["address"],
                notes=d["notes"], contact={"name": d["contact_name"], "phone": d["contact_phone"],
                                           "email": d["contact_email"]})
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Supplier %(name)s added. Upload its business licence, then qualify it.")
                             % {"name": supplier.name})
            return redirect("procurement:supplier_detail", supplier.code)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("New supplier"), "back": reverse("procurement:suppliers"), "section": "suppliers"})


def supplier_edit(request: HttpRequest, code: str) -> HttpResponse:
    _reader(request)
    supplier = access.get_for_change(request.user, Supplier, code=code)
    form = SupplierForm(request.POST or None, supplier=supplier)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            supplier = services.supplier_update(actor=request.user, supplier=supplier, reason=d["reason"],
                                                **{k: d[k] for k in ("code", "name", "credit_code", "address", "notes")})
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Supplier saved."))
            return redirect("procurement:supplier_detail", supplier.code)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("Edit supplier %(code)s") % {"code": supplier.code},
        "back": reverse("procurement:supplier_detail", args=[supplier.code]), "section": "suppliers"})


@require_POST
def supplier_status(request: HttpRequest, code: str) -> HttpResponse:
    _reader(request)
    supplier = access.get_for_change(request.user, Supplier, code=code)
    form = SupplierStatusForm(request.POST)
    if form.is_valid():
        action = {"qualify": services.supplier_qualify, "suspend": services.supplier_suspend,
                  "blacklist": services.supplier_blacklist, "lift": services.supplier_blacklist_lift}[
            form.cleaned_data["action"]]
        try:
            supplier = action(actor=request.user, supplier=supplier, reason=form.cleaned_data["reason"])
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("%(name)s is now %(status)s.") % {
                "name": supplier.name, "status": supplier.get_status_display()})
    return redirect("procurement:supplier_detail", supplier.code)


@require_POST
def contact_add(request: HttpRequest, code: str) -> HttpResponse:
    _reader(request)
    supplier = access.get_for_change(request.user, Supplier, code=code)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_add(actor=request.user, supplier=supplier, **form.cleaned_data)
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("Contact added."))
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(map(str, e))}" for f, e in form.errors.items()))
    return redirect("procurement:supplier_detail", supplier.code)


@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    contact = access.get_for_change(request.user, SupplierContact.objects.select_related("supplier"), pk=pk)
    code = contact.supplier.code
    services.contact_remove(actor=request.user, contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect("procurement:supplier_detail", code)


def certificate_add(request: HttpRequest, code: str) -> HttpResponse:
    _reader(request)
    supplier = access.get_for_change(request.user, Supplier, code=code)
    form = CertificateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            services.certificate_add(actor=request.user, supplier=supplier, idempotency_key=data.pop("token"), **data)
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Certificate added."))
            return redirect("procurement:supplier_detail", supplier.code)
    return render(request, "procurement/form.html", {
        "form": form, "multipart": True, "section": "suppliers",
        "title": _("New certificate of %(name)s") % {"name": supplier.name},
        "back": reverse("procurement:supplier_detail", args=[supplier.code])})


def certificate_scan(request: HttpRequest, pk: int) -> FileResponse:
    _reader(request)
    cert = access.get_for_view(request.user, SupplierCertificate, pk=pk)
    if not cert.scan:
        raise Http404
    return _file_response(cert.scan, cert.scan_type, cert.scan_name)


@require_POST
def certificate_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    cert = access.get_for_change(request.user, SupplierCertificate.objects.select_related("supplier"), pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.certificate_withdraw(actor=request.user, certificate=cert, reason=form.cleaned_data["reason"])
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("Certificate withdrawn."))
    else:
        messages.error(request, _("Say why the certificate is withdrawn."))
    return redirect("procurement:supplier_detail", cert.supplier.code)


def _file_response(field, content_type: str, name: str) -> FileResponse:
    response = FileResponse(field.open("rb"), content_type=content_type or "application/octet-stream",
                            as_attachment=True, filename=name)  # issue 10: never rendered in place
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---- plans ---------------------------------------------------------------------------------------------


def plans(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=plan_status_choices())
    qs = selectors.plans_with_money(access.visible(request.user, PurchasePlan)).select_related("created_by__employee")
    if form.is_valid() and form.cleaned_data.get("status"):
        status = form.cleaned_data["status"]
        qs = qs.filter(status__in=PurchasePlan.PENDING) if status == "pending" else qs.filter(status=status)
    page = _page(request, qs.order_by("-year", "-id"))
    return render(request, "procurement/plans.html", {
        "form": form, "page": page, "query": _query_without_page(request), "is_buyer": is_buyer(request.user),
        "section": "plans", "filtered": bool(request.GET.get("status")),
    })


def _plan(request: HttpRequest, number: str) -> PurchasePlan:
    return access.get_for_view(request.user, PurchasePlan.objects.select_related("submitted_by__employee",
                                                                                 "created_by__employee"),
                               number=number)


def plan_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *ADMINS)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=request.user, title=d["title"], season=d["season"], year=d["year"],
                horizon_start=d["horizon_start"], horizon_end=d["horizon_end"],
                expected_new_hires=d["expected_new_hires"], notes=d["notes"], idempotency_key=d["token"])
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Plan %(number)s drafted with Kefu's proposal; check each line.") % {
                "number": plan.number})
            return redirect("procurement:plan_detail", plan.number)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("New purchase plan"), "back": reverse("procurement:plans"), "section": "plans",
        "intro": _("Kefu proposes a quantity for each size of the season's styles from the expected new hires, "
                   "renewals falling due, back-orders, stock on hand and reorder points, split by the staff's "
                   "size profiles.")})


def plan_edit(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    if not (is_buyer(request.user) and plan.is_editable):
        raise PermissionDenied
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.plan_update(actor=request.user, plan=plan, reason=d["reason"], **{
                k: d[k] for k in ("title", "season", "year", "horizon_start", "horizon_end", "expected_new_hires",
                                  "notes")})
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Plan saved. Recompute the proposal if the period or hires changed."))
            return redirect("procurement:plan_detail", plan.number)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("Edit plan %(number)s") % {"number": plan.number}, "section": "plans",
        "back": reverse("procurement:plan_detail", args=[plan.number])})


def plan_detail(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    lines = list(PlanLine.objects.filter(plan=plan).select_related("style").prefetch_related(
        Prefetch("sizes", queryset=PlanLineSize.objects.select_related("sku__size").order_by("sku__size__order",
                                                                                           "sku__code")))
        .order_by("position", "id"))
    decisions = list(PlanDecision.objects.filter(plan=plan).select_related("decided_by__employee"))
    buyer, approver = is_buyer(request.user), is_approver(request.user)
    can_edit = buyer and plan.is_editable
    can_decide = (approver and plan.status in PurchasePlan.PENDING and plan.submitted_by_id != request.user.pk
                  and not any(d.round == plan.round and d.decided_by_id == request.user.pk for d in decisions))
    add_form = None
    if can_edit:
        missing = selectors.plan_styles(plan).exclude(pk__in=[line.style_id for line in lines])
        add_form = AddStylesForm(styles=missing) if missing.exists() else None
    rfq = Rfq.objects.filter(plan=plan).first()
    return render(request, "procurement/plan_detail.html", {
        "plan": plan, "lines": lines, "decisions": decisions, "can_edit": can_edit, "can_decide": can_decide,
        "decision_form": DecisionForm() if can_decide else None, "add_form": add_form, "rfq": rfq,
        "can_rfq": buyer and plan.status == PurchasePlan.Status.APPROVED and rfq is None,
        "approvals_this_round": [d for d in decisions if d.round == plan.round and d.decision == "approve"],
        "section": "plans",
    })


def _editable_plan(request: HttpRequest, number: str) -> PurchasePlan:
    plan = _plan(request, number)
    if not is_buyer(request.user):
        raise PermissionDenied
    return plan


def plan_line_edit(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    line = access.get_for_view(request.user, PlanLine.objects.select_related("style", "plan"), pk=pk, plan=plan)
    if not (is_buyer(request.user) and plan.is_editable):
        raise PermissionDenied
    sizes = list(PlanLineSize.objects.filter(line=line).select_related("sku__size").order_by("sku__size__order"))
    form = PlanLineForm(request.POST or None, line=line, sizes=sizes)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.plan_line_update(actor=request.user, line=line, quantities=form.quantities(),
                                      target_unit_price=d["target_unit_price"], colour=d["colour"],
                                      material=d["material"], note=d["note"])
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Line %(style)s saved.") % {"style": line.style.name})
            return redirect(reverse("procurement:plan_detail", args=[plan.number]) + f"#line-{line.pk}")
    return render(request, "procurement/plan_line_form.html", {"plan": plan, "line": line, "form": form,
                                                               "section": "plans"})


@require_POST
def plan_line_remove(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    _reader(request)
    plan = _editable_plan(request, number)
    line = access.get_for_view(request.user, PlanLine, pk=pk, plan=plan)
    try:
        services.plan_line_remove(actor=request.user, line=line)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Line removed."))
    return redirect("procurement:plan_detail", plan.number)


@require_POST
def plan_propose(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _editable_plan(request, number)
    styles = []
    if "styles" in request.POST:
        form = AddStylesForm(request.POST, styles=selectors.plan_styles(plan))
        if not form.is_valid():
            messages.error(request, _("Choose the styles to add."))
            return redirect("procurement:plan_detail", plan.number)
        styles = list(form.cleaned_data["styles"])
    try:
        services.plan_propose(actor=request.user, plan=plan, add_styles=styles, apply=request.POST.get("apply") == "1")
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Proposal recomputed."))
    return redirect("procurement:plan_detail", plan.number)


@require_POST
def plan_submit(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _editable_plan(request, number)
    try:
        plan = services.plan_submit(actor=request.user, plan=plan)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Plan %(number)s submitted to leadership.") % {"number": plan.number})
    return redirect("procurement:plan_detail", plan.number)


@require_POST
def plan_decide(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    if not is_approver(request.user):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    action = request.POST.get("action")
    service = {"approve": services.plan_approve, "reject": services.plan_reject, "return": services.plan_return}.get(
        action or "")
    if service is None or not form.is_valid():
        messages.error(request, _("Choose approve, reject or return."))
        return redirect("procurement:plan_detail", plan.number)
    try:
        plan = service(actor=request.user, plan=plan, comment=form.cleaned_data["comment"])
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Plan %(number)s: %(status)s.") % {"number": plan.number,
                                                                        "status": plan.get_status_display()})
    return redirect("procurement:plan_detail", plan.number)


def plan_budget(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    data = selectors.budget(plan)
    return render(request, "procurement/plan_budget.html", {"plan": plan, "budget": data, "chart": data.chart(),
                                                            "section": "plans"})


# ---- quotations ----------------------------------------------------------------------------------------


def rfqs(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=rfq_status_choices())
    qs = access.visible(request.user, Rfq).select_related("plan").annotate(invited=Count("invitations", distinct=True))
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    awaited = (Invitation.objects.filter(todos.quotes_awaited_q(), rfq=OuterRef("pk")).values("rfq")
               .annotate(n=Count("id")).values("n"))
    qs = qs.annotate(awaited=Coalesce(Subquery(awaited[:1], output_field=IntegerField()), Value(0)))
    page = _page(request, qs.order_by("-id"))
    return render(request, "procurement/rfqs.html", {
        "form": form, "page": page, "query": _query_without_page(request), "section": "rfqs",
        "filtered": bool(request.GET.get("status")),
    })


def rfq_create(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    plan = _plan(request, number)
    if not is_buyer(request.user):
        raise PermissionDenied
    existing = Rfq.objects.filter(plan=plan).first()
    if existing is not None:
        return redirect("procurement:rfq_detail", existing.number)
    today = timezone.localdate()
    eligible = selectors.eligible_suppliers(on=today).order_by("code")
    form = RfqCreateForm(request.POST or None, suppliers=eligible)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            rfq = services.rfq_create(actor=request.user, plan=plan, suppliers=d["suppliers"],
                                      quote_due_on=d["quote_due_on"], reason=d["reason"], notes=d["notes"])
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Request for quotation %(number)s sent to %(n)s suppliers.") % {
                "number": rfq.number, "n": rfq.invitations.count()})
            return redirect("procurement:rfq_detail", rfq.number)
    return render(request, "procurement/rfq_create.html", {
        "plan": plan, "form": form, "min_quotes": policy.get("procurement.min_quotes", on=today),
        "ineligible": Supplier.objects.exclude(pk__in=eligible.values("pk")).order_by("code"), "section": "rfqs"})


def _rfq(request: HttpRequest, number: str) -> Rfq:
    return access.get_for_view(request.user, Rfq.objects.select_related("plan"), number=number)


def rfq_detail(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    rfq = _rfq(request, number)
    today = timezone.localdate()
    invitations = list(Invitation.objects.filter(rfq=rfq).select_related("supplier").order_by("id"))
    quotes = list(Quote.objects.filter(rfq=rfq).select_related("recorded_by__employee").order_by("round", "id"))
    _attach_files(quotes)
    by_invitation: dict[int, list[Quote]] = {}
    for q in quotes:
        by_invitation.setdefault(q.invitation_id, []).append(q)
    for inv in invitations:
        quote_list = by_invitation.get(inv.pk, [])
        inv.quote_list = quote_list  # type: ignore[attr-defined]
        inv.current = next((q for q in quote_list if q.round == rfq.round), None)  # type: ignore[attr-defined]
    buyer = is_buyer(request.user)
    can_edit = buyer and rfq.status == Rfq.Status.OPEN
    invite_form = None
    if can_edit:
        candidates = selectors.eligible_suppliers(on=today).exclude(pk__in=[i.supplier_id for i in invitations])
        invite_form = InviteForm(suppliers=candidates.order_by("code")) if candidates.exists() else None
    awards = list(Award.objects.filter(rfq=rfq).select_related("supplier", "awarded_by__employee",
                                                               "decided_by__employee"))
    pending = next((a for a in awards if a.status == Award.Status.PENDING), None)
    return render(request, "procurement/rfq_detail.html", {
        "rfq": rfq, "invitations": invitations, "can_edit": can_edit, "invite_form": invite_form,
        "awards": awards, "pending_award": pending,
        "can_decide_award": pending is not None and is_approver(request.user) and pending.awarded_by_id != request.user.pk,
        "decision_form": DecisionForm(), "order": PurchaseOrder.objects.filter(award__rfq=rfq).first(),
        "section": "rfqs",
    })


@require_POST
def rfq_invite(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    rfq = access.get_for_change(request.user, Rfq, number=number)
    if not is_buyer(request.user):
        raise PermissionDenied
    form = InviteForm(request.POST, suppliers=Supplier.objects.all())
    if form.is_valid():
        try:
            services.rfq_invite(actor=request.user, rfq=rfq, supplier=form.cleaned_data["supplier"])
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("%(name)s invited.") % {"name": form.cleaned_data["supplier"].name})
    return redirect("procurement:rfq_detail", rfq.number)


def quote_record(request: HttpRequest, number: str, code: str) -> HttpResponse:
    _reader(request)
    rfq = _rfq(request, number)
    invitation = Invitation.objects.filter(rfq=rfq, supplier__code=code).select_related("supplier").first()
    if invitation is None:
        raise Http404
    if not (is_buyer(request.user) and rfq.status == Rfq.Status.OPEN):
        raise PermissionDenied
    lines = list(PlanLine.objects.filter(plan=rfq.plan, quantity__gt=0).select_related("style").order_by("position", "id"))
    current = Quote.objects.filter(invitation=invitation, round=rfq.round).first()
    previous = (Quote.objects.filter(invitation=invitation, round__lt=rfq.round).order_by("-round").first()
                if current is None else None)
    basis = current or previous
    existing = {ql.plan_line_id: ql for ql in basis.lines.all()} if basis else {}
    initial: dict[str, Any] = {"received_on": timezone.localdate()}
    if basis is not None:
        initial["valid_until"] = basis.valid_until
    if current is not None:
        initial.update(received_on=current.received_on, note=current.note)
    form = QuoteForm(request.POST or None, request.FILES or None, lines=lines, existing=existing, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.quote_record(actor=request.user, rfq=rfq, supplier=invitation.supplier,
                                  received_on=d["received_on"], valid_until=d["valid_until"], lines=form.lines(),
                                  note=d["note"], attachments=d["attachments"])
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Quote of %(name)s recorded (round %(round)s).") % {
                "name": invitation.supplier.name, "round": rfq.round})
            return redirect("procurement:rfq_detail", rfq.number)
    return render(request, "procurement/quote_form.html", {
        "rfq": rfq, "supplier": invitation.supplier, "form": form, "current": current, "previous": previous,
        "section": "rfqs"})


@require_POST
def rfq_next_round(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    rfq = access.get_for_change(request.user, Rfq, number=number)
    if not is_buyer(request.user):
        raise PermissionDenied
    try:
        rfq = services.rfq_next_round(actor=request.user, rfq=rfq, note=request.POST.get("note", ""))
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Negotiation round %(round)s started: record the revised quotes.") % {
            "round": rfq.round})
    return redirect("procurement:rfq_detail", rfq.number)


def rfq_compare(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    rfq = _rfq(request, number)
    today = timezone.localdate()
    comparison = selectors.comparison(rfq, on=today)
    can_award = is_buyer(request.user) and rfq.status == Rfq.Status.OPEN
    form = None
    if can_award:
        quoted = [c.supplier.pk for c in comparison.columns if c.quote is not None and c.quote.complete]
        form = AwardForm(request.POST or None, suppliers=Supplier.objects.filter(pk__in=quoted).order_by("code"))
        if request.method == "POST" and form.is_valid():
            try:
                award = services.rfq_award(actor=request.user, rfq=rfq, supplier=form.cleaned_data["supplier"],
                                           reason=form.cleaned_data["reason"])
            except ValidationError as e:
                _add_errors(form, e)
            else:
                if award.status == Award.Status.PENDING:
                    messages.warning(request, _("The award is over budget: it goes to leadership for approval."))
                    return redirect("procurement:rfq_detail", rfq.number)
                messages.success(request, _("Awarded to %(name)s; the purchase order is drafted.") % {
                    "name": award.supplier.name})
                return redirect("procurement:order_detail", award.order.number)
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "procurement/rfq_compare.html", {
        "rfq": rfq, "cmp": comparison, "form": form, "section": "rfqs",
        "award": Award.objects.filter(rfq=rfq).exclude(status=Award.Status.REJECTED).select_related("supplier").first(),
    })


@require_POST
def award_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    award = access.get_for_view(request.user, Award.objects.select_related("rfq"), pk=pk)
    if not is_approver(request.user):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    action = request.POST.get("action")
    if action not in ("approve", "reject") or not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("procurement:rfq_detail", award.rfq.number)
    try:
        if action == "approve":
            award = services.award_approve(actor=request.user, award=award, comment=form.cleaned_data["comment"])
        else:
            award = services.award_reject(actor=request.user, award=award, comment=form.cleaned_data["comment"])
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Award %(status)s.") % {"status": award.get_status_display()})
    return redirect("procurement:rfq_detail", award.rfq.number)


# ---- purchase orders -----------------------------------------------------------------------------------


def orders(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=order_status_choices())
    qs = access.visible(request.user, PurchaseOrder).select_related("supplier", "plan")
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    today = timezone.localdate()
    if request.GET.get("due"):
        qs = qs.filter(status__in=[PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED],
                       lines__delivery_date__lte=today + datetime.timedelta(days=todos.DUE_SOON_DAYS)).distinct()
    owed = Q(lines__accepted_quantity__lt=F("lines__quantity") - F("lines__settled_quantity"))
    qs = qs.annotate(
        ordered=Sum("lines__quantity"), accepted=Sum("lines__accepted_quantity"),
        next_due=Min("lines__delivery_date", filter=owed),
    )
    page = _page(request, qs.order_by("-id"))
    return render(request, "procurement/orders.html", {
        "form": form, "page": page, "query": _query_without_page(request), "today": today, "section": "orders",
        "filtered": bool(request.GET.get("status") or request.GET.get("due")),
    })


def _order(request: HttpRequest, number: str) -> PurchaseOrder:
    return access.get_for_view(request.user, PurchaseOrder.objects.select_related(
        "supplier", "plan", "award__rfq", "issued_by__employee"), number=number)


def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    order = _order(request, number)
    lines = list(PurchaseOrderLine.objects.filter(order=order).select_related("sku").order_by("id"))
    receipts = list(Receipt.objects.filter(order=order).annotate(
        delivered=Sum("lines__delivered"), accepted=Sum("lines__accepted"), rejected=Sum("lines__rejected"))
        .order_by("-delivered_on", "-id"))
    issues = list(SupplierIssue.objects.filter(order=order).select_related("order_line").order_by("-id"))
    buyer = is_buyer(request.user)
    return render(request, "procurement/order_detail.html", {
        "order": order, "lines": lines, "receipts": receipts, "issues": issues,
        "can_edit": buyer and order.status == PurchaseOrder.Status.DRAFT,
        "can_receive": buyer and order.status in (PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED),
        "today": timezone.localdate(), "section": "orders",
        "outstanding": sum(line.outstanding for line in lines),
    })


def order_edit(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    order = _order(request, number)
    if not (is_buyer(request.user) and order.status == PurchaseOrder.Status.DRAFT):
        raise PermissionDenied
    lines = list(PurchaseOrderLine.objects.filter(order=order).select_related("sku").order_by("id"))
    form = OrderForm(request.POST or None, order=order, lines=lines)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.order_update(actor=request.user, order=order, delivery_address=d["delivery_address"],
                                  quality_standard=d["quality_standard"], terms=d["terms"], lines=form.line_data())
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, _("Order saved."))
            return redirect("procurement:order_detail", order.number)
    return render(request, "procurement/order_form.html", {"order": order, "form": form, "section": "orders"})


@require_POST
def order_issue(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    order = access.get_for_change(request.user, PurchaseOrder, number=number)
    try:
        order = services.order_issue(actor=request.user, order=order)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Order %(number)s issued to the supplier.") % {"number": order.number})
    return redirect("procurement:order_detail", order.number)


def order_pdf(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    order = _order(request, number)
    from django.utils import translation

    data = pdf.order_pdf(order, language=translation.get_language() or "zh-hant")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.number}.pdf"'
    return response


# ---- receipts ------------------------------------------------------------------------------------------


def receipt_create(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    order = _order(request, number)
    if not is_buyer(request.user):
        raise PermissionDenied
    if order.status not in (PurchaseOrder.Status.ISSUED, PurchaseOrder.Status.PARTIALLY_RECEIVED):
        messages.error(request, _("Order %(number)s is %(status)s: nothing to receive.") % {
            "number": order.number, "status": order.get_status_display()})
        return redirect("procurement:order_detail", order.number)
    lines = [line for line in PurchaseOrderLine.objects.filter(order=order).select_related("sku").order_by("id")
             if line.outstanding > 0]
    form = ReceiptForm(request.POST or None, request.FILES or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            receipt = services.receipt_create(
                actor=request.user, order=order, delivered_on=d["delivered_on"], lines=form.lines(),
                delivery_note_no=d["delivery_note_no"], location=d["location"], note=d["note"],
                post=request.POST.get("action") == "post", idempotency_key=d["token"])
        except ValidationError as e:
            _add_errors(form, e)
        else:
            if receipt.status == Receipt.Status.POSTED:
                messages.success(request, _("Receipt %(number)s posted: accepted units are in stock.") % {
                    "number": receipt.number})
            else:
                messages.success(request, _("Receipt %(number)s saved; post it to put the accepted units in "
                                            "stock.") % {"number": receipt.number})
            return redirect("procurement:receipt_detail", receipt.number)
    return render(request, "procurement/receipt_form.html", {"order": order, "form": form, "section": "orders"})


def receipts(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=receipt_status_choices())
    qs = access.visible(request.user, Receipt).select_related("order__supplier", "created_by__employee")
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    qs = qs.annotate(delivered=Sum("lines__delivered"), accepted=Sum("lines__accepted"),
                     rejected=Sum("lines__rejected"))
    page = _page(request, qs.order_by("-delivered_on", "-id"))
    return render(request, "procurement/receipts.html", {
        "form": form, "page": page, "query": _query_without_page(request), "section": "receipts",
        "filtered": bool(request.GET.get("status"))})


def _receipt(request: HttpRequest, number: str) -> Receipt:
    return access.get_for_view(request.user, Receipt.objects.select_related(
        "order__supplier", "location", "created_by__employee", "posted_by__employee"), number=number)


def receipt_detail(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    receipt = _receipt(request, number)
    lines = list(ReceiptLine.objects.filter(receipt=receipt).select_related("order_line__sku", "issue")
                 .order_by("id"))
    _attach_files(lines)
    return render(request, "procurement/receipt_detail.html", {
        "receipt": receipt, "lines": lines, "section": "receipts",
        "can_post": is_buyer(request.user) and receipt.status == Receipt.Status.DRAFT,
    })


@require_POST
def receipt_post(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    receipt = _receipt(request, number)
    if not is_buyer(request.user):
        raise PermissionDenied
    try:
        receipt = services.receipt_post(actor=request.user, receipt=receipt)
    except ValidationError as e:
        flash_errors(request, e)
    else:
        messages.success(request, _("Receipt %(number)s posted: accepted units are in stock.") % {
            "number": receipt.number})
    return redirect("procurement:receipt_detail", receipt.number)


@require_POST
def receipt_discard(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    receipt = access.get_for_change(request.user, Receipt.objects.select_related("order"), number=number)
    order_number = receipt.order.number
    try:
        services.receipt_discard(actor=request.user, receipt=receipt, reason=request.POST.get("reason", ""))
    except ValidationError as e:
        flash_errors(request, e)
        return redirect("procurement:receipt_detail", receipt.number)
    messages.success(request, _("Receipt discarded."))
    return redirect("procurement:order_detail", order_number)


# ---- supplier issues -----------------------------------------------------------------------------------


def issues(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = StatusFilterForm(request.GET or None, choices=issue_status_choices())
    qs = access.visible(request.user, SupplierIssue).select_related("supplier", "order", "order_line")
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    page = _page(request, qs.order_by("-id"))
    return render(request, "procurement/issues.html", {
        "form": form, "page": page, "query": _query_without_page(request), "section": "issues",
        "filtered": bool(request.GET.get("status"))})


def _issue(request: HttpRequest, number: str) -> SupplierIssue:
    return access.get_for_view(request.user, SupplierIssue.objects.select_related(
        "supplier", "order", "order_line", "receipt_line__receipt", "opened_by__employee", "closed_by__employee"),
        number=number)


def issue_detail(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    issue = _issue(request, number)
    _attach_files([issue, issue.receipt_line])
    can_edit = is_buyer(request.user) and issue.status == SupplierIssue.Status.OPEN
    suggested = (issue.quantity - issue.replacement_received) * issue.order_line.unit_price
    return render(request, "procurement/issue_detail.html", {
        "issue": issue, "can_edit": can_edit, "section": "issues",
        "kind_form": IssueKindForm(initial={"kind": issue.kind}) if can_edit else None,
        "close_form": IssueCloseForm(initial={"credit_amount": suggested}) if can_edit else None,
    })


@require_POST
def issue_kind(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    issue = access.get_for_change(request.user, SupplierIssue, number=number)
    form = IssueKindForm(request.POST)
    if form.is_valid():
        try:
            services.issue_set_kind(actor=request.user, issue=issue, kind=form.cleaned_data["kind"],
                                    reason=form.cleaned_data["reason"])
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("Remedy changed."))
    return redirect("procurement:issue_detail", issue.number)


@require_POST
def issue_close(request: HttpRequest, number: str) -> HttpResponse:
    _reader(request)
    issue = access.get_for_change(request.user, SupplierIssue, number=number)
    form = IssueCloseForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.issue_close(actor=request.user, issue=issue, resolution=d["resolution"],
                                 credit_amount=d["credit_amount"], attachments=d["attachments"])
        except ValidationError as e:
            flash_errors(request, e)
        else:
            messages.success(request, _("Issue %(number)s closed.") % {"number": issue.number})
    else:
        messages.error(request, " ".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect("procurement:issue_detail", issue.number)

