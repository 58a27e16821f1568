"""Pages of the system admin (chat bots, message templates, delivery log) and of HR (HR sync)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.integrations import hrsync, services
from kefu.integrations.access import is_admin, reads_sync
from kefu.integrations.forms import ChatHookForm, HrSyncForm, MessageTemplateForm
from kefu.integrations.models import ChatHook, Delivery, HrSyncRun, MessageTemplate
from kefu.people.access import PEOPLE_EDITORS, has_role
from kefu.people.forms import add_service_errors

DELIVERY_PAGE = 200


def _require_admin(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied


def _hook_data(form: ChatHookForm, hook: ChatHook | None) -> dict:
    data = {k: form.cleaned_data[k] for k in ("name", "org_unit", "kind", "url", "events", "enabled")}
    if form.cleaned_data["secret"]:
        data["secret"] = form.cleaned_data["secret"]
    elif form.cleaned_data["clear_secret"] or hook is None:
        data["secret"] = ""
    return data


def hooks(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = ChatHookForm(request.POST or None, prefix="hook")
    if request.method == "POST" and form.is_valid():
        try:
            hook = services.hook_save(actor=request.user, **_hook_data(form, None))
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The chat bot “%(name)s” was added.") % {"name": hook.name})
            return redirect("integrations:hooks")
    return render(request, "integrations/hooks.html", {
        "hooks": access.visible(request.user, ChatHook).select_related("org_unit"),
        "templates": access.visible(request.user, MessageTemplate),
        "form": form,
        "template_form": MessageTemplateForm(prefix="tpl"),
    })


def hook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    hook = access.get_for_change(request.user, ChatHook, pk=pk)
    initial = {"name": hook.name, "org_unit": hook.org_unit_id, "kind": hook.kind, "url": hook.url,
               "events": ", ".join(hook.events), "enabled": hook.enabled}
    form = ChatHookForm(request.POST or None, initial=initial, prefix="hook")
    if request.method == "POST" and form.is_valid():
        try:
            services.hook_save(actor=request.user, hook=hook, **_hook_data(form, hook))
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The chat bot was saved."))
            return redirect("integrations:hooks")
    return render(request, "integrations/hook_form.html", {"hook": hook, "form": form})


@require_POST
def hook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    hook = access.get_for_change(request.user, ChatHook, pk=pk)
    services.hook_delete(actor=request.user, hook=hook)
    messages.success(request, _("The chat bot was removed."))
    return redirect("integrations:hooks")


@require_POST
def template_save(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = MessageTemplateForm(request.POST, prefix="tpl")
    if form.is_valid():
        try:
            services.template_save(actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("The message template was saved."))
    else:
        messages.error(request, _("Name the event."))
    return redirect("integrations:hooks")


def deliveries(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    rows = (access.visible(request.user, Delivery).select_related("hook__org_unit")
            .order_by("-created_at", "-pk")[:DELIVERY_PAGE])
    return render(request, "integrations/deliveries.html", {"deliveries": rows, "limit": DELIVERY_PAGE})


def hr_sync_runs(request: HttpRequest) -> HttpResponse:
    if not reads_sync(request.user):
        raise PermissionDenied
    can_run = has_role(request.user, *PEOPLE_EDITORS)
    form = HrSyncForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        if form.is_valid():
            files = [f for f in (form.cleaned_data["org_units"], form.cleaned_data["employees"]) if f]
            run = hrsync.sync(actor=request.user, units=form.cleaned_data["org_units"],
                              employees=form.cleaned_data["employees"], dry_run=form.cleaned_data["dry_run"],
                              source=HrSyncRun.Source.API, file_name=", ".join(f.name for f in files))
            return redirect("integrations:hr_sync_run", pk=run.pk)
    runs = access.visible(request.user, HrSyncRun).select_related("created_by")[:100]
    return render(request, "integrations/hr_sync.html", {"runs": runs, "form": form, "can_run": can_run})


def hr_sync_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = access.get_for_view(request.user, HrSyncRun.objects.select_related("created_by"), pk=pk)
    return render(request, "integrations/hr_sync_run.html", {"run": run, "report": run.report})
