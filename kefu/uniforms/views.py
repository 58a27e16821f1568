"""Uniform pages (6a): the hub, catalogue, stock levels, ledger, stock moves and counts,
renewal list, holdings, size profiles, and leavers' return check-in.

Objects are fetched only through kefu.core.access: 404 for what a user may not see, 403 for
what she sees but may not change; role pages answer 403 to other roles.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.people.access import employee_of, has_role
from kefu.people.models import Employee, OrgUnit
from kefu.uniforms import selectors, services
from kefu.uniforms.access import (
    COUNT_APPROVERS,
    PERSON_VIEWERS,
    READ_ALL,
    UNIFORM_ADMINS,
    employees_in_scope,
    is_uniform_admin,
)
from kefu.uniforms.forms import (
    CatalogueFilterForm,
    CountCreateForm,
    CountDecisionForm,
    CountFilterForm,
    HoldingFilterForm,
    LedgerFilterForm,
    LocationForm,
    RenewalFilterForm,
    ReturnCheckInForm,
    SetForm,
    SizeForm,
    SizeProfileForm,
    SkuForm,
    SkusAddForm,
    StockFilterForm,
    StockMoveForm,
    StyleForm,
    add_service_errors,
)
from kefu.uniforms.models import (
    Holding,
    ItemType,
    Location,
    SetDefinition,
    Size,
    SizeProfile,
    Sku,
    StockCount,
    StockLevel,
    StockMove,
    Style,
    item_type_order,
)

PER_PAGE = 50


def _require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _add_errors(form, error: ValidationError, rename: dict[str, str]) -> None:
    """A service's ValidationError on the form, with service field names mapped to form fields."""
    if hasattr(error, "error_dict"):
        for field, msgs in error.message_dict.items():
            name = rename.get(field, field)
            form.add_error(name if name in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def _page(request: HttpRequest, qs, per_page: int = PER_PAGE):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


# ---- hub ----------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    me = employee_of(request.user)
    mine = None
    if me is not None:
        mine = Holding.objects.filter(employee=me, status=Holding.Status.HELD).aggregate(
            items=Count("id"), next_due=Min("renewal_due_on"))
    return render(request, "uniforms/home.html", {
        "me": me,
        "mine": mine,
        "is_admin": is_uniform_admin(request.user),
        "reads_stock": has_role(request.user, *READ_ALL),
        "reads_people": has_role(request.user, *PERSON_VIEWERS),
    })


# ---- catalogue ----------------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET or None)
    styles = access.visible(request.user, Style).annotate(sku_count=Count("skus"))
    if not is_uniform_admin(request.user):
        styles = styles.filter(active=True)
    if form.is_valid():
        for name in ("item_type", "season", "gender"):
            if form.cleaned_data.get(name):
                styles = styles.filter(**{name: form.cleaned_data[name]})
    page = _page(request, styles.order_by(item_type_order(), "code"))
    return render(request, "uniforms/catalogue.html", {
        "form": form, "page": page, "query": _query_without_page(request),
        "filtered": form.is_valid() and any(form.cleaned_data.values()),
        "can_edit": is_uniform_admin(request.user),
        "sets": access.visible(request.user, SetDefinition).filter(active=True).prefetch_related("components"),
    })


def style_detail(request: HttpRequest, pk: int) -> HttpResponse:
    style = access.get_for_view(request.user, Style, pk=pk)
    can_edit = access.can_change(request.user, style)
    if not style.active and not can_edit:
        raise Http404
    reads_stock = has_role(request.user, *READ_ALL)
    skus = Sku.objects.filter(style=style).select_related("size").order_by("size__order", "size__code")
    if reads_stock:
        skus = selectors.skus_with_stock(skus)
    add_form = SkusAddForm(style=style) if can_edit else None
    return render(request, "uniforms/style_detail.html", {
        "style": style, "skus": skus, "can_edit": can_edit, "reads_stock": reads_stock, "add_form": add_form,
    })


def style_photo(request: HttpRequest, pk: int) -> FileResponse:
    style = access.get_for_view(request.user, Style, pk=pk)
    if not style.photo:
        raise Http404
    # issue 10: uploads are served as attachments (an <img> still shows it), never rendered in place.
    response = FileResponse(style.photo.open("rb"), content_type=style.photo_content_type or "application/octet-stream",
                            as_attachment=True, filename=f"style-{style.pk}.{(style.photo.name or '').rsplit('.', 1)[-1]}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _style_form(request: HttpRequest, style: Style | None) -> HttpResponse:
    form = StyleForm(request.POST or None, request.FILES or None, instance=style)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.style_save(
                actor=request.user, style=style, photo=form.cleaned_data.get("photo_file"),
                remove_photo=form.cleaned_data.get("remove_photo") or False,
                reason=form.cleaned_data.get("reason") or "", **form.service_data())
        except ValidationError as e:
            _add_errors(form, e, {"photo": "photo_file"})
        else:
            messages.success(request, _("Style %(code)s saved.") % {"code": saved.code})
            return redirect("uniforms:style_detail", saved.pk)
    return render(request, "uniforms/form.html", {
        "form": form, "multipart": True,
        "title": _("New style") if style is None else _("Edit style %(code)s") % {"code": style.code},
        "back": "uniforms:catalogue" if style is None else None, "back_obj": style,
    })


def style_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *UNIFORM_ADMINS)
    return _style_form(request, None)


def style_edit(request: HttpRequest, pk: int) -> HttpResponse:
    style = access.get_for_change(request.user, Style, pk=pk)
    return _style_form(request, style)


@require_POST
def skus_add(request: HttpRequest, pk: int) -> HttpResponse:
    style = access.get_for_change(request.user, Style, pk=pk)
    form = SkusAddForm(request.POST, style=style)
    if form.is_valid():
        try:
            created = services.skus_create(actor=request.user, style=style, sizes=form.cleaned_data["sizes"],
                                           reorder_point=form.cleaned_data["reorder_point"])
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("%(n)s SKUs added.") % {"n": len(created)})
    else:
        messages.error(request, " ".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect("uniforms:style_detail", style.pk)


def sku_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sku = access.get_for_change(request.user, Sku.objects.select_related("style", "size"), pk=pk)
    form = SkuForm(request.POST or None, instance=sku)
    if request.method == "POST" and form.is_valid():
        try:
            services.sku_update(actor=request.user, sku=sku, reason=form.cleaned_data.get("reason") or "",
                                **{k: form.cleaned_data[k] for k in ("code", "reorder_point", "active")})
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("SKU saved."))
            return redirect("uniforms:style_detail", sku.style_id)
    return render(request, "uniforms/form.html", {
        "form": form, "title": _("Edit SKU %(code)s") % {"code": sku.code}, "back_obj": sku.style,
    })


def sizes(request: HttpRequest) -> HttpResponse:
    can_edit = is_uniform_admin(request.user)
    form = SizeForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.size_save(actor=request.user, **form.cleaned_data)
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(request, _("Size added."))
                return redirect("uniforms:sizes")
    rows = access.visible(request.user, Size).annotate(sku_count=Count("skus")).order_by("order", "code")
    return render(request, "uniforms/sizes.html", {"sizes": rows, "form": form, "can_edit": can_edit})


def size_edit(request: HttpRequest, pk: int) -> HttpResponse:
    size = access.get_for_change(request.user, Size, pk=pk)
    form = SizeForm(request.POST or None, instance=size)
    if request.method == "POST" and form.is_valid():
        try:
            services.size_save(actor=request.user, size=size, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Size saved."))
            return redirect("uniforms:sizes")
    return render(request, "uniforms/form.html", {"form": form, "title": _("Edit size %(code)s") % {"code": size.code},
                                                  "back": "uniforms:sizes"})


def sets(request: HttpRequest) -> HttpResponse:
    rows = access.visible(request.user, SetDefinition).prefetch_related("components").order_by("name")
    if not is_uniform_admin(request.user):
        rows = rows.filter(active=True)
    return render(request, "uniforms/sets.html", {"sets": rows, "can_edit": is_uniform_admin(request.user)})


def _set_form(request: HttpRequest, obj: SetDefinition | None) -> HttpResponse:
    form = SetForm(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_definition_save(actor=request.user, set_definition=obj, components=form.components(),
                                         **form.service_data())
        except ValidationError as e:
            _add_errors(form, e, {"components": "line_0"})
        else:
            messages.success(request, _("Set saved."))
            return redirect("uniforms:sets")
    return render(request, "uniforms/set_form.html", {"form": form, "obj": obj})


def set_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *UNIFORM_ADMINS)
    return _set_form(request, None)


def set_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_form(request, access.get_for_change(request.user, SetDefinition, pk=pk))


# ---- stock --------------------------------------------------------------------------------------


def stock_levels(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    form = StockFilterForm(request.GET or None)
    in_stock = StockLevel.objects.filter(sku=OuterRef("pk"), on_hand__gt=0)
    skus = access.visible(request.user, Sku).filter(Q(active=True) | Exists(in_stock))
    if form.is_valid():
        q = form.cleaned_data.get("q")
        if q:
            skus = skus.filter(Q(code__icontains=q) | Q(style__name__icontains=q) | Q(style__code__icontains=q))
        if form.cleaned_data.get("item_type"):
            skus = skus.filter(style__item_type=form.cleaned_data["item_type"])
        if form.cleaned_data.get("low"):
            skus = skus.filter(low_stock_since__isnull=False)
    skus = selectors.skus_with_stock(skus.select_related("style", "size")).order_by(
        item_type_order("style__item_type"), "style__code", "size__order", "code")
    page = _page(request, skus)
    locations = list(access.visible(request.user, Location).filter(active=True).order_by("kind", "code"))
    levels = selectors.levels_by_sku(list(page.object_list), locations)
    rows = [(sku, [levels[sku.pk].get(loc.pk, 0) for loc in locations]) for sku in page.object_list]
    return render(request, "uniforms/stock_levels.html", {
        "form": form, "page": page, "rows": rows, "locations": locations, "query": _query_without_page(request),
        "filtered": form.is_valid() and any(form.cleaned_data.values()),
        "can_edit": is_uniform_admin(request.user),
        "low_count": Sku.objects.filter(active=True, low_stock_since__isnull=False).count(),
    })


def ledger(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    form = LedgerFilterForm(request.GET or None)
    moves = access.visible(request.user, StockMove)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            moves = moves.filter(sku__code__icontains=data["q"])
        if data.get("location"):
            moves = moves.filter(location=data["location"])
        if data.get("kind"):
            moves = moves.filter(kind=data["kind"])
        tz = timezone.get_current_timezone()
        if data.get("date_from"):
            moves = moves.filter(at__gte=datetime.datetime.combine(data["date_from"], datetime.time.min, tz))
        if data.get("date_to"):
            moves = moves.filter(at__lt=datetime.datetime.combine(data["date_to"] + datetime.timedelta(days=1),
                                                                 datetime.time.min, tz))
    moves = moves.select_related("sku__style", "sku__size", "location", "actor__employee").order_by("-id")
    page = _page(request, moves)
    return render(request, "uniforms/ledger.html", {
        "form": form, "page": page, "query": _query_without_page(request),
        "filtered": form.is_valid() and any(v not in (None, "") for v in form.cleaned_data.values()),
    })


def stock_move_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *UNIFORM_ADMINS)
    form = StockMoveForm(request.POST or None, initial={"location": services.default_location()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        common: dict[str, Any] = {"actor": request.user, "sku": d["sku"], "location": d["location"],
                                  "reason": d.get("reason") or ""}
        try:
            if d["kind"] == StockMove.Kind.RECEIVE:
                move = services.stock_receive(quantity=d["quantity"], unit_cost=d["unit_cost"], **common)
            elif d["kind"] == StockMove.Kind.SCRAP:
                move = services.stock_scrap(quantity=d["quantity"], **common)
            else:
                move = services.stock_adjust(quantity=d["quantity"], **common)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Recorded: %(kind)s %(qty)+d of %(sku)s; %(n)s now on hand at %(loc)s.") % {
                "kind": move.get_kind_display(), "qty": move.quantity, "sku": move.sku.code, "n": move.on_hand_after,
                "loc": move.location.name})
            return redirect("uniforms:ledger")
    return render(request, "uniforms/form.html", {"form": form, "title": _("Record a stock move"),
                                                  "back": "uniforms:stock_levels"})


def locations(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    can_edit = is_uniform_admin(request.user)
    form = LocationForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.location_save(actor=request.user, **form.cleaned_data)
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(request, _("Location added."))
                return redirect("uniforms:locations")
    rows = access.visible(request.user, Location).order_by("code")
    return render(request, "uniforms/locations.html", {"locations": rows, "form": form, "can_edit": can_edit})


def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    location = access.get_for_change(request.user, Location, pk=pk)
    form = LocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_save(actor=request.user, location=location, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Location saved."))
            return redirect("uniforms:locations")
    return render(request, "uniforms/form.html", {"form": form, "back": "uniforms:locations",
                                                  "title": _("Edit location %(code)s") % {"code": location.code}})


# ---- stock counts -------------------------------------------------------------------------------


def counts(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    form = CountFilterForm(request.GET or None)
    qs = access.visible(request.user, StockCount)
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    qs = qs.select_related("location", "created_by__employee").annotate(
        lines_n=Count("lines"),
        variances=Count("lines", filter=Q(lines__counted__isnull=False) & ~Q(lines__counted=F("lines__expected"))),
    ).order_by("-id")
    return render(request, "uniforms/counts.html", {
        "form": form, "page": _page(request, qs), "query": _query_without_page(request),
        "can_edit": is_uniform_admin(request.user),
    })


def count_create(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *UNIFORM_ADMINS)
    form = CountCreateForm(request.POST or None, initial={"counted_on": timezone.localdate(),
                                                         "location": services.default_location()})
    if request.method == "POST" and form.is_valid():
        try:
            count = services.stock_count_create(actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Count sheet %(number)s created: enter what you count.") % {
                "number": count.number})
            return redirect("uniforms:count_detail", count.pk)
    return render(request, "uniforms/form.html", {"form": form, "title": _("New stock count"), "back": "uniforms:counts"})


def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request.user, *READ_ALL)
    count = access.get_for_view(request.user, StockCount.objects.select_related(
        "location", "created_by__employee", "submitted_by__employee", "decided_by__employee"), pk=pk)
    lines = list(count.lines.select_related("sku__style", "sku__size").order_by(
        item_type_order("sku__style__item_type"), "sku__style__code", "sku__size__order", "sku__code"))
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in ("save", "submit"):
            access.require_change(user, count)
            counted: dict[int, int | None] = {}
            errors = []
            for line in lines:
                raw = request.POST.get(f"line_{line.pk}", "").strip()
                if raw == "":
                    counted[line.pk] = None
                    continue
                try:
                    counted[line.pk] = int(raw)
                except ValueError:
                    errors.append(_("%(sku)s: enter a whole number of zero or more.") % {"sku": line.sku.code})
            try:
                if errors:
                    raise ValidationError(errors)
                services.stock_count_enter(actor=user, count=count, counted=counted)
                if action == "submit":
                    services.stock_count_submit(actor=user, count=count)
                    messages.success(request, _("Count submitted for approval."))
                else:
                    messages.success(request, _("Counts saved."))
                return redirect("uniforms:count_detail", count.pk)
            except ValidationError as e:
                for m in e.messages:
                    messages.error(request, m)
        elif action in ("approve", "reject"):
            if not has_role(user, *COUNT_APPROVERS):
                raise PermissionDenied
            form = CountDecisionForm(request.POST)
            form.is_valid()
            comment = form.cleaned_data.get("comment", "")
            try:
                if action == "approve":
                    services.stock_count_approve(actor=user, count=count, comment=comment)
                    messages.success(request, _("Count approved; the variances are now stock moves."))
                else:
                    services.stock_count_reject(actor=user, count=count, comment=comment)
                    messages.success(request, _("Count rejected."))
                return redirect("uniforms:count_detail", count.pk)
            except ValidationError as e:
                for m in e.messages:
                    messages.error(request, m)
        else:
            raise PermissionDenied
        count.refresh_from_db()
    return render(request, "uniforms/count_detail.html", {
        "count": count, "lines": lines,
        "can_enter": count.status == StockCount.Status.DRAFT and access.can_change(user, count),
        "can_decide": count.status == StockCount.Status.SUBMITTED and has_role(user, *COUNT_APPROVERS),
        "decision_form": CountDecisionForm(),
        "variance_lines": sum(1 for line in lines if line.variance),
    })


# ---- people side: renewals, holdings, size profiles --------------------------------------------


def _units_for(user):
    return access.visible(user, OrgUnit).filter(kind__in=[OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.TEAM]).order_by("path")


def renewals(request: HttpRequest) -> HttpResponse:
    _require_role(request.user, *PERSON_VIEWERS)
    form = RenewalFilterForm(request.GET or None, units=_units_for(request.user))
    days, unit = 60, None
    if form.is_valid():
        if form.cleaned_data.get("days") is not None:
            days = int(form.cleaned_data["days"])
        unit = form.cleaned_data.get("unit")
    today = timezone.localdate()
    until = today + datetime.timedelta(days=days)
    path = unit.path if unit else None
    page = _page(request, selectors.renewals_due(request.user, until=until, unit_path=path))
    return render(request, "uniforms/renewals.html", {
        "form": form, "page": page, "query": _query_without_page(request), "days": days, "until": until,
        "today": today, "departments": selectors.renewals_by_department(request.user, until=until, unit_path=path),
    })


def holdings(request: HttpRequest) -> HttpResponse:
    user = request.user
    wide = has_role(user, *PERSON_VIEWERS)
    form = HoldingFilterForm(request.GET or None, units=_units_for(user))
    qs = selectors.holdings_visible(user)
    status = "held"
    if form.is_valid():
        data = form.cleaned_data
        status = data.get("status") or "held"
        if data.get("q"):
            qs = qs.filter(Q(employee__name__icontains=data["q"]) | Q(employee__employee_no__icontains=data["q"]))
        if data.get("unit"):
            qs = qs.filter(employee__org_unit__path__startswith=data["unit"].path)
    if status == "held":
        qs = qs.filter(status=Holding.Status.HELD)
    elif status == "ended":
        qs = qs.exclude(status=Holding.Status.HELD)
    qs = qs.select_related("employee__org_unit", "sku__style", "sku__size").order_by(
        "employee__employee_no", "issued_on", "id")
    return render(request, "uniforms/holdings.html", {
        "form": form, "page": _page(request, qs), "query": _query_without_page(request), "wide": wide,
        "today": timezone.localdate(), "filtered": form.is_valid() and any(form.cleaned_data.values()),
    })


def my_size_profile(request: HttpRequest) -> HttpResponse:
    me = employee_of(request.user)
    if me is None:
        raise Http404
    return redirect("uniforms:size_profile", me.employee_no)


def size_profile(request: HttpRequest, employee_no: str) -> HttpResponse:
    employee = access.get_for_view(request.user, employees_in_scope(request.user).select_related("org_unit"),
                                   employee_no=employee_no)
    profile = SizeProfile.objects.filter(employee=employee).first()
    can_edit = employee.user_id == request.user.pk or is_uniform_admin(request.user)
    entries = {e.item_type: e.size for e in profile.entries.select_related("size")} if profile else {}
    current = {item_type: size.pk for item_type, size in entries.items()}
    read_rows = [(label, entries.get(value)) for value, label in ItemType.choices]
    initial = {"height_cm": profile.height_cm, "notes": profile.notes} if profile else {}
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    form = SizeProfileForm(request.POST or None, current=current, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.size_profile_set(actor=request.user, employee=employee, sizes=form.sizes(),
                                      height_cm=form.cleaned_data.get("height_cm"),
                                      notes=form.cleaned_data.get("notes") or "")
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Sizes saved."))
            return redirect("uniforms:size_profile", employee.employee_no)
    return render(request, "uniforms/size_profile.html", {
        "employee": employee, "form": form, "can_edit": can_edit, "profile": profile, "read_rows": read_rows,
    })


# ---- leaving ------------------------------------------------------------------------------------


def returns(request: HttpRequest) -> HttpResponse:
    """Leavers who still hold uniform items (U4, item 8), for admin staff."""
    _require_role(request.user, *UNIFORM_ADMINS)
    rows = (selectors.holdings_visible(request.user)
            .filter(status=Holding.Status.HELD, employee__status=Employee.Status.LEFT)
            .values("employee__employee_no", "employee__name", "employee__org_unit__name", "employee__leave_date")
            .annotate(items=Count("id")).order_by("employee__leave_date", "employee__employee_no"))
    return render(request, "uniforms/returns.html", {"page": _page(request, rows), "query": _query_without_page(request)})


def return_check_in(request: HttpRequest, employee_no: str) -> HttpResponse:
    employee = access.get_for_view(request.user, employees_in_scope(request.user).select_related("org_unit"),
                                   employee_no=employee_no)
    _require_role(request.user, *UNIFORM_ADMINS)
    held = list(Holding.objects.filter(employee=employee, status=Holding.Status.HELD)
                .select_related("sku__style", "sku__size").order_by("sku__code", "id"))
    form = ReturnCheckInForm(request.POST or None, holdings=held,
                             initial={"checked_in_on": timezone.localdate(), "location": services.used_location()})
    if request.method == "POST" and form.is_valid():
        try:
            services.return_check_in(actor=request.user, employee=employee, lines=form.lines(),
                                     on=form.cleaned_data["checked_in_on"], note=form.cleaned_data.get("note") or "")
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Returns of %(name)s checked in.") % {"name": employee.name})
            return redirect("uniforms:return_check_in", employee.employee_no)
    past = (Holding.objects.filter(employee=employee).exclude(status=Holding.Status.HELD)
            .select_related("sku__style", "sku__size").order_by("-ended_on", "-id")[:100])
    return render(request, "uniforms/return_check_in.html", {
        "employee": employee, "form": form, "held": held, "past": past,
    })
