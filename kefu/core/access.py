"""One place that answers "may this user see / change this object".

Each app registers, in its ``access.py``, a rule for each of its models:

    access.register(Employee, visible=employees_visible, can_change=employee_can_change)

``visible(user, queryset)`` narrows a queryset to what the user may see;
``can_change(user, obj)`` says whether she may change one object she sees.
Every page, export and API call goes through the helpers below, so the
answers are the same everywhere: **404** for what a user may not see, **403**
for what she sees but may not change. A model without a rule is visible to
nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)

VisibleFn = Callable[[Any, models.QuerySet], models.QuerySet]
ChangeFn = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Rule:
    visible: VisibleFn
    can_change: ChangeFn


_rules: dict[type[models.Model], Rule] = {}


def register(model: type[models.Model], *, visible: VisibleFn, can_change: ChangeFn) -> None:
    _rules[model] = Rule(visible=visible, can_change=can_change)


def _rule(model: type[models.Model]) -> Rule | None:
    return _rules.get(model)


def _queryset(model_or_qs: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
    if isinstance(model_or_qs, models.QuerySet):
        return model_or_qs
    return model_or_qs._default_manager.all()


def visible(user, model_or_qs: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
    """The objects ``user`` may see, as a queryset (for lists, exports, API lists)."""
    qs = _queryset(model_or_qs)
    rule = _rule(qs.model)
    if rule is None or user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    return rule.visible(user, qs)


def can_see(user, obj: models.Model) -> bool:
    return visible(user, type(obj)).filter(pk=obj.pk).exists()


def can_change(user, obj: models.Model) -> bool:
    rule = _rule(type(obj))
    if rule is None or user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(rule.can_change(user, obj))


def get_for_view(user, model_or_qs: type[M] | models.QuerySet[M], **lookup: Any) -> M:
    """The object, or 404 when it does not exist or the user may not see it."""
    try:
        return visible(user, model_or_qs).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as e:
        raise Http404 from e


def get_for_change(user, model_or_qs: type[M] | models.QuerySet[M], **lookup: Any) -> M:
    """The object if the user may change it; 404 if she may not see it, 403 if only see it."""
    obj = get_for_view(user, model_or_qs, **lookup)
    require_change(user, obj)
    return obj


def require_change(user, obj: models.Model) -> None:
    if not can_change(user, obj):
        raise PermissionDenied
