"""Limit/offset pagination with the offset bounded in the schema: an offset past any real list answers
422 naming the parameter, never a database overflow (a 500 the fuzzing test found,
kefu/api/tests/test_fuzz.py: ``?offset=38165981328971659248402432``). The limit is clamped to the
endpoint's ``max_limit`` before it reaches the database, as in ninja's own class."""

from __future__ import annotations

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 1_000_000_000


class BoundedPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(getattr(settings, "NINJA_PAGINATION_PER_PAGE", 100), ge=1)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
