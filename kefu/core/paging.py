"""Pages of a list without counting it twice (issue 9: the paginator's COUNT is a query of its own).

    page = counted_page(qs, 50, request.GET.get("page"))      # the count rides on the page's query
    page = CountedPaginator(qs, 50, count=n).get_page(number)  # n already counted with something else
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    """A paginator told its count (counted already, e.g. with the page's totals), so it does not count again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def counted_page(qs: QuerySet, per_page: int, number: Any) -> Page:
    """``Paginator(qs, per_page).get_page(number)`` in one query where it can: the page's rows carry the
    count of them all (COUNT(*) OVER ()). A page past the end, or an empty list, counts apart as before."""
    try:
        n = int(number) if number is not None else 1
    except (TypeError, ValueError):
        n = 1
    if n >= 1:
        rows = list(qs.annotate(list_count=Window(Count("pk")))[(n - 1) * per_page:n * per_page])
        if rows:
            return Page(rows, n, CountedPaginator(qs, per_page, count=rows[0].list_count))
    return Paginator(qs, per_page).get_page(number)
