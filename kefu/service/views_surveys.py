"""Survey pages (policy E1.1; issue 3 item 4): the customer's answer page (no login), issuing a
link for a resolved interaction, and the upload of answers from outside survey tools."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.tabular import ImportRejected
from kefu.people.forms import ImportUploadForm
from kefu.service import surveys
from kefu.service.access import imports_survey_answers
from kefu.service.models import ImportBatch, Interaction, SurveyAnswer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERROR_LIMIT = 1000


def _closed(request: HttpRequest, reason: str, *, status: int, interaction: Interaction | None = None) -> HttpResponse:
    return render(request, "service/survey_closed.html", {"reason": reason, "interaction": interaction}, status=status)


@login_not_required
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: 1–5 stars and a comment. Works on a phone; no login."""
    invitation = surveys.invitation_for_token(token)
    if invitation is None:
        return _closed(request, "invalid", status=404)
    interaction = invitation.interaction
    if SurveyAnswer.objects.filter(interaction=interaction).exists():
        return _closed(request, "answered", status=200, interaction=interaction)
    if timezone.now() >= invitation.expires_at:
        return _closed(request, "expired", status=410, interaction=interaction)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"rating": "", "comment": ""}
    if request.method == "POST":
        values = {"rating": request.POST.get("rating", ""), "comment": request.POST.get("comment", "")}
        try:
            surveys.survey_answer(invitation=invitation, rating=values["rating"], comment=values["comment"])
        except surveys.SurveyClosed as e:
            status = 410 if e.code == "expired" else 200
            return _closed(request, e.code or "answered", status=status, interaction=interaction)
        except ValidationError as e:
            errors = e.message_dict if hasattr(e, "error_dict") else {"rating": e.messages}
        else:
            return render(request, "service/survey_thanks.html", {"interaction": interaction})
    return render(request, "service/survey_form.html", {
        "interaction": interaction,
        "invitation": invitation,
        "values": values,
        "errors": errors,
        "stars": [5, 4, 3, 2, 1],
    }, status=422 if errors else 200)


@require_POST
def survey_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue (or show again) the survey link of a resolved interaction the user may see."""
    interaction = access.get_for_view(request.user, Interaction.objects.select_related("agent", "resolver"), pk=pk)
    try:
        invitation = surveys.survey_issue(actor=request.user, interaction=interaction)
    except ValidationError as e:
        return render(request, "service/survey_issued.html", {
            "interaction": interaction, "error": " ".join(e.messages),
        }, status=422)
    return render(request, "service/survey_issued.html", {
        "interaction": interaction,
        "invitation": invitation,
        "link": surveys.survey_link(invitation),
    })


def survey_import(request: HttpRequest) -> HttpResponse:
    """Upload answers from an outside survey tool: all or nothing, every bad row listed."""
    if not imports_survey_answers(request.user):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"columns": _columns()}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = surveys.survey_answers_import(actor=request.user, file=upload, via=ImportBatch.Via.UPLOAD)
        except ImportRejected as e:
            context |= {"report": e.report, "errors": e.report.errors[:ERROR_LIMIT],
                        "more_errors": max(0, len(e.report.errors) - ERROR_LIMIT)}
        else:
            context |= {"report": report, "done": True, "file_name": upload.name}
            form = ImportUploadForm()
    context["form"] = form
    context["recent"] = (
        ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY_ANSWERS, created_by_id=request.user.pk)
        .order_by("-created_at")[:5]
    )
    status = 422 if context.get("errors") else 200
    return render(request, "service/survey_import.html", context, status=status)


def _columns() -> list[dict[str, Any]]:
    labels = {
        "source": _("Source system"),
        "external_id": _("External id of the interaction"),
        "rating": _("Rating (1–5)"),
        "comment": _("Comment"),
        "answered_at": _("Answered at (company time if no zone; empty: now)"),
    }
    return [
        {"key": key, "label": labels[key], "aliases": "、".join(aliases), "required": key in surveys.ANSWER_REQUIRED}
        for key, aliases in surveys.ANSWER_COLUMNS.items()
    ]


def survey_import_template(request: HttpRequest) -> HttpResponse:
    if not imports_survey_answers(request.user):
        raise PermissionDenied
    response = HttpResponse(surveys.survey_answers_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="survey-answers-template.xlsx"'
    return response

