"""Who is calling the API: a personal token (``Authorization: Bearer kefu_…``) or the session.

A token is looked up by its SHA-256 (kefu.core.services.api_token_user); a revoked token or
an inactive user is refused. The session serves the logged-in browser, e.g. the docs page's
"try it out", and needs the CSRF token on unsafe methods like any form. A request that
presents a bad token is refused outright rather than falling back to its session cookie.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from kefu.core.services import api_token_user


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header)
        if not header:
            return None
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise AuthenticationError(message=_("Use \"Authorization: Bearer <token>\"."))
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(token)
        if user is None:
            raise AuthenticationError(message=_("The API token is unknown, revoked, or its user is inactive."))
        # Services and access rules read request.user, as on the pages.
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            # No CSRF check without a session: an anonymous POST is 401, not 403.
            return None
        return super().__call__(request)  # checks CSRF on unsafe methods


token_auth = TokenAuth()
session_auth = SessionAuth(csrf=True)


def request_user(request: HttpRequest) -> Any:
    """The caller by token or session, or None. Raises AuthenticationError for a bad token."""
    user = token_auth(request)
    if user is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
    return user

