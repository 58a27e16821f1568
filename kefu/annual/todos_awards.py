"""Workbench to-dos of the awards (policy E3.2): leadership decides the nominations HR made (one query)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.annual import awards
from kefu.core.registry import Todo


def nominations_to_decide(user) -> list[Todo]:
    return [Todo(title=_("Decide the award nominations of %(year)s") % {"year": year},
                 url=reverse("annual:awards", args=[year]) + "#nominations", count=n, kind=_("Annual awards"))
            for year, n in awards.nominations_to_decide(user)]
