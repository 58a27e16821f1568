from django.conf import settings

from kefu.core import registry
from kefu.core.models import Notification
from kefu.core.registry import nav


def shell(request):
    """What the base layout needs: navigation for the user's roles, unread count, languages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0, "kefu_languages": settings.LANGUAGES}
    roles = registry.roles_of(user)
    return {
        "nav_items": nav.for_roles(roles),
        "user_roles": sorted(roles),
        "unread_count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "kefu_languages": settings.LANGUAGES,
    }
