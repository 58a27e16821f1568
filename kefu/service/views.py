"""Interaction pages: the list and one interaction, and the import (upload → progress → report).

Large files are stored with their batch and imported by a background task
(``tasks.run_interactions_import``); the batch page polls its progress with htmx and
shows the report — every bad row — when the task ends.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access
from kefu.people.forms import BootstrapMixin, date_input
from kefu.service import ingest, services
from kefu.service.access import sees_interactions
from kefu.service.models import (
    Channel,
    ImportBatch,
    Interaction,
    Kind,
    Priority,
    SurveyAnswer,
    SurveyInvitation,
)

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_ERRORS_SHOWN = 1000


# ---- the list and one interaction ---------------------------------------------------------------


class InteractionFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("External id, customer, subject, agent")}))
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=date_input())
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=date_input())
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False,
                                choices=[("", gettext_lazy("All channels")), *Channel.choices])
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False,
                             choices=[("", gettext_lazy("Inquiries and complaints")), *Kind.choices])
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), required=False,
                                 choices=[("", gettext_lazy("All priorities")), *Priority.choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def interaction_list(request: HttpRequest) -> HttpResponse:
    """The interactions she may see, newest first; by default the last 30 days."""
    if not sees_interactions(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    form = InteractionFilterForm(request.GET or None)
    qs = access.visible(request.user, Interaction).select_related("agent")
    start, end = today - datetime.timedelta(days=29), today
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        start, end = data.get("start") or start, data.get("end") or end
        filtered = any(data.get(k) for k in ("q", "start", "end", "channel", "kind", "priority"))
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(external_id__icontains=term) | Q(customer_ref__icontains=term)
                           | Q(subject__icontains=term) | Q(agent__employee_no=term) | Q(agent__name__icontains=term))
        for key in ("channel", "kind", "priority"):
            if data.get(key):
                qs = qs.filter(**{key: data[key]})
    qs = qs.filter(local_date__gte=start, local_date__lte=end).order_by("-received_at", "-id")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {"obj": i, "first_reply": i.first_reply_state(now), "resolution": i.resolution_state(now)}
        for i in page.object_list
    ]
    return render(request, "service/interaction_list.html", {
        "form": form, "page": page, "rows": rows, "filtered": filtered, "query": _query_without_page(request),
        "start": start, "end": end, "can_import": services.may_import(request.user),
    })


def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = access.get_for_view(
        request.user, Interaction.objects.select_related("agent", "first_responder", "resolver"), pk=pk
    )
    now = timezone.now()
    survey_answer = SurveyAnswer.objects.filter(interaction=interaction).first()
    invitation = SurveyInvitation.objects.filter(interaction=interaction).first()
    return render(request, "service/interaction_detail.html", {
        "i": interaction,
        "first_reply_state": interaction.first_reply_state(now),
        "resolution_state": interaction.resolution_state(now),
        "first_reply_minutes": _minutes(interaction.first_reply_working_seconds),
        "resolution_minutes": _minutes(interaction.resolution_working_seconds),
        "survey_answer": survey_answer,
        "invitation": invitation,
        "invitation_live": invitation is not None and invitation.expires_at > now,
        "can_change": access.can_change(request.user, interaction),
    })


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else seconds // 60


# ---- import ------------------------------------------------------------------------------------------


class InteractionUploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("Excel (.xlsx) or CSV (UTF-8 or GBK)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = ingest.max_file_bytes()
        if upload.size > limit:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
        return upload


def _require_importer(user) -> None:
    if not services.may_import(user):
        raise PermissionDenied


def _columns() -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "aliases": "、".join(aliases), "required": key in ingest.REQUIRED}
        for key, (label, aliases) in ingest.COLUMNS.items()
    ]


def import_upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    form = InteractionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        digest = services.file_sha256(upload)
        with transaction.atomic():
            batch = services.import_batch_start(
                actor=request.user, via=ImportBatch.Via.UPLOAD, file_name=upload.name, file_sha256=digest, file=upload
            )
            transaction.on_commit(lambda: _enqueue(batch.pk))
        return redirect("service:import_batch", pk=batch.pk)
    recent = access.visible(request.user, ImportBatch).filter(
        kind=ImportBatch.Kind.INTERACTIONS, created_by_id=request.user.pk
    )[:10]
    return render(request, "service/import_upload.html", {
        "form": form, "columns": _columns(), "recent": recent,
        "max_mb": ingest.max_file_bytes() // (1024 * 1024),
    })


def _enqueue(batch_id: int) -> None:
    from kefu.service.tasks import run_interactions_import

    run_interactions_import.enqueue(batch_id)


def _batch_context(batch: ImportBatch) -> dict[str, Any]:
    running = batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    percent = 0
    if batch.status == ImportBatch.Status.DONE:
        percent = 100
    elif batch.rows_total:
        percent = min(99, int(100 * batch.rows_done / batch.rows_total))
    labels = {key: str(label) for key, (label, _aliases) in ingest.COLUMNS.items()}
    errors = [
        {"row": e.get("row"), "field": labels.get(e.get("field", ""), e.get("field", "")), "message": e.get("message")}
        for e in (batch.errors or [])[:REPORT_ERRORS_SHOWN]
    ]
    return {
        "batch": batch, "running": running, "percent": percent, "errors": errors,
        "more_errors": max(0, batch.error_count - len(errors)),
    }


def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_for_view(request.user, ImportBatch.objects.filter(kind=ImportBatch.Kind.INTERACTIONS), pk=pk)
    context = _batch_context(batch)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "service/_import_progress.html", context)
    return render(request, "service/import_batch.html", context)


def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's bad rows as a CSV file (UTF-8 with BOM, so Excel opens it), for fixing the source file."""
    import csv

    from kefu.core.tabular import neutralise

    batch = access.get_for_view(request.user, ImportBatch.objects.filter(kind=ImportBatch.Kind.INTERACTIONS), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in batch.errors or []:
        writer.writerow([error.get("row") or "", neutralise(error.get("field", "")), neutralise(error.get("message", ""))])
    return response


def import_template(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    response = HttpResponse(services.import_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="interactions-template.xlsx"'
    return response
