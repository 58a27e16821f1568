from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kefu.core import services
from kefu.core.models import Attachment, Notification
from kefu.core.registry import attachment_targets
from kefu.core.registry import workbench as workbench_registry


def flash_errors(request: HttpRequest, error: ValidationError) -> None:
    """A service's refusal as one message per reason on the next page (action views redirect back)."""
    for message in error.messages:
        messages.error(request, message)


def workbench(request):
    """工作台: the signed-in user's to-dos from every app that registered a provider."""
    return render(
        request,
        "core/workbench.html",
        {
            "todos": workbench_registry.todos(request.user),
            "my_assignments": request.user.role_assignments.select_related("org_unit").order_by("role"),
        },
    )


def notifications(request):
    qs = Notification.objects.filter(recipient=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@require_POST
def notifications_mark_read(request):
    ids = request.POST.getlist("id") or None
    services.notification_mark_read(user=request.user, notification_ids=[int(i) for i in ids if i.isdigit()] if ids else None)
    return redirect("core:notifications")


@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A file on a record, to those the record's app lets see it (``registry.attachment_targets``); 404 for
    anyone else, for a file that does not exist, and for one whose record is gone. Always a download
    (issue 10): never rendered in place, and the browser may not guess another type from its bytes."""
    row = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    model = row.content_type.model_class() if row is not None else None
    if row is None or model is None:
        raise Http404
    target = model._default_manager.filter(pk=row.object_id).first()
    if target is None or not attachment_targets.may_see(request.user, target):
        raise Http404
    try:
        handle = row.file.open("rb")
    except (FileNotFoundError, ValueError) as e:
        raise Http404 from e
    response = FileResponse(handle, content_type=row.mime_type or "application/octet-stream", as_attachment=True,
                            filename=row.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
