"""The JSON API, version 1, at /api/v1/ (docs at /api/v1/docs, schema at /api/v1/openapi.json).

Callers authenticate with a personal token (``Authorization: Bearer kefu_…``, made on the
"API tokens" page or with ``manage.py create_api_token``) or with the logged-in session.
The same access rules as the pages apply: 404 for what you may not see, 403 for what you
see but may not change.

Errors are JSON: ``{"detail": "…"}`` for 401, 403 and 404, and for invalid input (422)
``{"detail": [{"field": "hire_date", "message": "…"}, …]}``, where ``field`` is null
when the error concerns the request as a whole.

Retries take effect once. ``POST /uniforms/requisitions`` and ``POST /interactions/bulk`` take an
``Idempotency-Key`` header: the same key from the same caller answers with the first call's result
and creates nothing; the same key with a different body answers 422. The other writes are idempotent
by nature: ``PUT``/``PATCH`` set values (sent again, they set the same values); ``POST /org-units`` and
``POST /employees`` create under a unique code or number (a retry creates nothing and answers 422 naming
it); ``onboard``/``offboard`` are state changes a retry finds done (422, nothing changes);
``POST /survey-answers/bulk`` upserts by (source, external_id); ``POST /hr-sync`` brings the directory
to the file's state, so the same file again changes nothing.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.views import openapi_view
from ninja.parser import Parser

from kefu.annual.api import router as annual_router
from kefu.api.auth import request_user, session_auth, token_auth
from kefu.api.routers import employees, org_units
from kefu.evaluations.api import router as evaluations_router
from kefu.integrations.api import router as integrations_router
from kefu.procurement.api import router as procurement_router
from kefu.service.api import router as service_router
from kefu.uniforms.api import router as uniforms_router


def docs_access(view):
    """openapi.json and the docs page need a token or a session; the page sends others to log in."""
    is_page = getattr(view, "func", None) is openapi_view

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            user = request_user(request)
        except AuthenticationError as e:
            return api.on_exception(request, e)
        if user is None:
            if is_page:
                return redirect_to_login(request.get_full_path())
            return api.on_exception(request, AuthenticationError())
        return view(request, *args, **kwargs)

    return wrapped


def _unstorable(value: Any, path: str = "") -> str | None:
    """The path of the first text that no database can store: a NUL character (PostgreSQL refuses it)
    or half of a surrogate pair (not encodable as UTF-8). JSON lets a client send both."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return path
    elif isinstance(value, dict):
        for key, item in value.items():
            if _unstorable(key) is not None:  # a bad key names its parent
                return path
            found = _unstorable(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _unstorable(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


class TextCheckingParser(Parser):
    """JSON bodies and query strings with text no database can store answer 422 naming the field,
    not a 500 from the database (the fuzzing test sent both)."""

    def _check(self, data: Any) -> Any:
        path = _unstorable(data)
        if path is not None:
            raise DjangoValidationError({path or NON_FIELD_ERRORS: _(
                "Text may not contain NUL characters or unpaired surrogates.")})
        return data

    def parse_body(self, request: HttpRequest) -> Any:
        return self._check(super().parse_body(request))

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        return self._check(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    title="Kefu API",
    parser=TextCheckingParser(),
    version="1",
    description=__doc__ or "",
    urls_namespace="api",
    auth=[token_auth, session_auth],
    # Swagger UI from ninja's own static files (no CDN); its init script is a static file too,
    # so the page works under our Content-Security-Policy (script-src 'self').
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_decorator=docs_access,
)
api.add_router("", org_units.router)
api.add_router("", employees.router)
api.add_router("", service_router)
api.add_router("", evaluations_router)
api.add_router("", uniforms_router)
api.add_router("", procurement_router)
api.add_router("", annual_router)
api.add_router("", integrations_router)


# --- errors: one JSON shape everywhere --------------------------------------------------------

# pydantic error types → messages in our catalogue (pydantic's own are English only).
PYDANTIC_MESSAGES = {
    "missing": lambda ctx: _("This field is required."),
    "date_parsing": lambda ctx: _("Enter a valid date as YYYY-MM-DD."),
    "date_from_datetime_parsing": lambda ctx: _("Enter a valid date as YYYY-MM-DD."),
    "date_from_datetime_inexact": lambda ctx: _("Enter a valid date as YYYY-MM-DD."),
    "date_type": lambda ctx: _("Enter a valid date as YYYY-MM-DD."),
    "enum": lambda ctx: _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")},
    "literal_error": lambda ctx: _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")},
    "string_type": lambda ctx: _("Enter text."),
    "bool_type": lambda ctx: _("Enter true or false."),
    "bool_parsing": lambda ctx: _("Enter true or false."),
    "int_type": lambda ctx: _("Enter a whole number."),
    "int_parsing": lambda ctx: _("Enter a whole number."),
    "greater_than_equal": lambda ctx: _("Must be at least %(min)s.") % {"min": ctx.get("ge", "")},
    "less_than_equal": lambda ctx: _("Must be at most %(max)s.") % {"max": ctx.get("le", "")},
    "json_invalid": lambda ctx: _("The request body is not valid JSON."),
    "model_attributes_type": lambda ctx: _("Send a JSON object."),
    "dict_type": lambda ctx: _("Send a JSON object."),
}


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """The input field an error is about: ninja's ``loc`` starts with the source ("body",
    "query", "path", …) and, for a body, the view's parameter name, before the field itself."""
    parts = [str(p) for p in loc]
    parts = parts[2:] if parts[:1] == ["body"] else parts[1:]
    return ".".join(parts) or None


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        translate = PYDANTIC_MESSAGES.get(error.get("type", ""))
        message = translate(error.get("ctx") or {}) if translate else error.get("msg", "")
        out.append({"field": _field_of(error.get("loc", ())), "message": str(message)})
    return out


def _json(request: HttpRequest, status: int, detail: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(NinjaValidationError)
def on_input_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return _json(request, 422, field_errors(exc.errors))


@api.exception_handler(DjangoValidationError)
def on_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"field": None if name == NON_FIELD_ERRORS else name, "message": str(message)}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        detail = [{"field": None, "message": str(message)} for message in exc.messages]
    return _json(request, 422, detail)


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # A path parameter with a NUL character reaches the database (bodies and query strings are
    # checked by TextCheckingParser); any other data error is a bug and stays a 500.
    if "NUL" in str(exc):
        return _json(request, 422, [{"field": None, "message": str(_(
            "Text may not contain NUL characters or unpaired surrogates."))}])
    raise exc


@api.exception_handler(UnicodeEncodeError)
def on_unencodable(request: HttpRequest, exc: UnicodeEncodeError) -> HttpResponse:
    return _json(request, 422, [{"field": None, "message": str(_(
        "Text may not contain NUL characters or unpaired surrogates."))}])


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _json(request, 403, _("You may see this but not change it, or this action is not part of your role."))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else _(
        "Authentication required: send \"Authorization: Bearer <token>\" or log in."
    )
    response = _json(request, 401, str(message))
    response["WWW-Authenticate"] = 'Bearer realm="kefu"'
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403 and str(exc).startswith("CSRF"):
        # ninja's session auth found no valid CSRF token on an unsafe request.
        return _json(request, 403, _("CSRF check failed: send the X-CSRFToken header with a session request."))
    if exc.status_code == 400 and isinstance(exc.__cause__, DjangoValidationError):
        # TextCheckingParser refused the body's text: ninja reports any parser error as a 400.
        return on_validation_error(request, exc.__cause__)
    if exc.status_code == 400:
        # ninja's parser could not read the body.
        return _json(request, 400, _("The request body is not valid JSON."))
    return _json(request, exc.status_code, str(exc))
