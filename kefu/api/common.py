"""Small helpers the routers share: the caller, role checks, looking up units by code."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.people.access import PEOPLE_EDITORS, has_role
from kefu.people.models import OrgUnit


def caller(request: HttpRequest) -> Any:
    """The authenticated user (token or session); the API's auth has run before any view."""
    return request.auth  # type: ignore[attr-defined]


def require_people_editor(user: Any) -> None:
    """HR and system admins create people data; everyone else gets 403."""
    if not has_role(user, *PEOPLE_EDITORS):
        raise PermissionDenied


def visible_unit(user: Any, code: str, *, field: str) -> OrgUnit:
    """The unit with ``code`` if the user may see it; otherwise a validation error on ``field``."""
    unit = access.visible(user, OrgUnit).filter(code=code).first()
    if unit is None:
        raise ValidationError({field: _("There is no org unit with the code “%(code)s”.") % {"code": code}})
    return unit


def changeable_unit(user: Any, code: str, *, field: str) -> OrgUnit:
    """A unit within the user's scope to change, for placing people or units in it."""
    unit = visible_unit(user, code, field=field)
    if not access.can_change(user, unit):
        raise ValidationError(
            {field: _("The org unit “%(code)s” is outside the units you manage.") % {"code": code}}
        )
    return unit
