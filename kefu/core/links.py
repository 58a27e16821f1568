"""Links to many rows of one kind, reversed once (a list page's rows each link to their own page)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

_PK = 2_147_483_647  # a key no row has, replaced by each row's


def pk_url(name: str) -> Callable[[int], str]:
    """``pk -> reverse(name, args=[pk])`` for a URL whose only argument is an integer key."""
    pattern = reverse(name, args=[_PK])
    marker = str(_PK)
    return lambda pk: pattern.replace(marker, str(int(pk)))
