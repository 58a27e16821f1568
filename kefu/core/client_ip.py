"""The client's address for the login lockout (django-axes ``AXES_CLIENT_IP_CALLABLE``; issue 10).

Directly reachable, it is REMOTE_ADDR. Behind ``KEFU_PROXY_COUNT`` trusted proxies (BEHIND_PROXY:
nginx appends the address it saw to X-Forwarded-For), it is the entry that many places from the
right; what a client writes into the header itself stands further left and is ignored, so nobody
can dodge the per-address lockout by sending a made-up X-Forwarded-For.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = int(getattr(settings, "KEFU_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote
    return chain[-count]
