from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kefu.core import services
from kefu.core.models import Notification
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
