from django.apps import apps
from django.conf import settings

from kefu.core import registry
from kefu.core.models import Notification
from kefu.core.registry import nav


def nav_groups(items):
    """The user's navigation, one menu per app: a plain link when the app gives her one page,
    a dropdown named after the app when it gives her several (so the bar fits on one line)."""
    groups: dict[str, dict] = {}
    for item in items:
        key = item.group or item.url_name.split(":")[0]
        if key not in groups:
            try:
                label = apps.get_app_config(key).verbose_name
            except LookupError:
                label = key
            groups[key] = {"key": key, "label": label, "items": []}
        groups[key]["items"].append(item)
    return list(groups.values())


def shell(request):
    """What the base layout needs: navigation for the user's roles, unread count, languages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": [], "unread_count": 0, "kefu_languages": settings.LANGUAGES}
    roles = registry.roles_of(user)
    return {
        "nav_groups": nav_groups(nav.for_roles(roles)),
        "user_roles": sorted(roles),
        "unread_count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "kefu_languages": settings.LANGUAGES,
    }
