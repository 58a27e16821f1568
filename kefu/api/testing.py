"""A test case for the API: the named people of KefuTestCase, each calling with her own token.

    class EmployeeApiTests(ApiTestCase):
        def test_hr_reads_an_employee(self):
            response = self.assertApi(self.hr, "get", "/employees/CS1001", 200)
"""

from __future__ import annotations

import json
from typing import Any

from kefu.core import services
from kefu.people.testing import KefuTestCase

API = "/api/v1"


class ApiTestCase(KefuTestCase):
    def setUp(self) -> None:
        super().setUp()
        self._tokens: dict[int, str] = {}

    def token(self, user) -> str:
        """A live token of ``user`` (one per user and test)."""
        if user.pk not in self._tokens:
            _token, plaintext = services.api_token_create(actor=user, user=user, name="test")
            self._tokens[user.pk] = plaintext
        return self._tokens[user.pk]

    def api(self, method: str, path: str, user=None, data: Any = None, *, token: str | None = None):
        """Call ``/api/v1<path>`` as ``user`` (by her token), or with ``token``, or anonymously."""
        headers = {}
        if token is None and user is not None:
            token = self.token(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs.update(data=json.dumps(data), content_type="application/json")
        elif method != "get":
            kwargs.update(data="", content_type="application/json")  # no body at all, as curl -X POST sends
        return getattr(self.client, method)(API + path, **kwargs)

    def assertApi(self, user, method: str, path: str, expected: int, data: Any = None):
        response = self.api(method, path, user, data)
        self.assertEqual(
            response.status_code, expected,
            f"{method.upper()} {path} as {getattr(user, 'username', 'anonymous')}: expected {expected}, "
            f"got {response.status_code}: {response.content[:500]!r}",
        )
        return response

    def assertFieldError(self, response, field: str | None, *, status: int = 422) -> str:
        """The answer is ``status`` and names ``field``; returns that field's message."""
        self.assertEqual(response.status_code, status, response.content)
        detail = response.json()["detail"]
        fields = [d["field"] for d in detail]
        self.assertIn(field, fields, detail)
        return next(d["message"] for d in detail if d["field"] == field)
