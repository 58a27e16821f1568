"""The access matrix (issue 10): every URL pattern and every API operation, asked by every role.

Each pattern needs an entry in ``access_matrix.PAGES`` / ``access_matrix.API``; a pattern without one
fails ``test_every_pattern_has_an_entry`` by name, so a new page cannot skip the matrix. Objects in
the URLs come from ``matrix_fixtures`` and belong to the agent's department (CS1): the outsider
(CS2's supervisor) asking for them must get 404 where the page hides them.

Action views (POST only): a GET answers 405, and a POST from a role that may not act answers 403 or
404 — never a success. Successful POSTs (state changes) are the apps' own tests.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from kefu.core import services as core_services
from kefu.core.tests import access_matrix as m
from kefu.core.tests.matrix_fixtures import build_fixtures
from kefu.procurement.testing import MEDIA, ProcurementTestCase


def walk(patterns: list[Any], prefix: str = "", ns: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = ns
            if p.namespace:
                inner = f"{ns}:{p.namespace}" if ns else p.namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield (f"{ns}:" if ns else "") + (p.name or str(p.pattern)), prefix + str(p.pattern)


def page_patterns() -> dict[str, str]:
    # The API's operations are checked through its schema (test_api); its schema, docs and root are pages.
    return {name: route for name, route in walk(get_resolver().url_patterns)
            if not name.startswith("api:") or name in m.API_PAGES}


def api_operations() -> list[str]:
    from kefu.api.api import api

    schema = api.get_openapi_schema()
    return [f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item]


@override_settings(MEDIA_ROOT=MEDIA)
class AccessMatrixTests(ProcurementTestCase):
    fx: Any  # matrix_fixtures.build_fixtures(): one object of each kind
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.fx = build_fixtures(cls)

    def people(self) -> dict[str, Any]:
        return {role: (getattr(self, m.ATTR[role]) if role != "anon" else None) for role in m.ROLES}

    def test_every_pattern_has_an_entry(self):
        missing = sorted(set(page_patterns()) - set(m.PAGES))
        stale = sorted(set(m.PAGES) - set(page_patterns()))
        self.assertEqual(missing, [], f"URL patterns without an entry in the access matrix: {missing}")
        self.assertEqual(stale, [], f"access matrix entries for patterns that no longer exist: {stale}")
        ops = api_operations()
        missing_ops = sorted(set(ops) - set(m.API))
        self.assertEqual(missing_ops, [], f"API operations without an entry in the access matrix: {missing_ops}")
        self.assertEqual(sorted(set(m.API) - set(ops)), [], "access matrix entries for gone API operations")

    def url(self, name: str) -> str:
        from django.urls import reverse

        entry = m.PAGES[name]
        return reverse(name, kwargs=entry.kwargs(self.fx) if entry.kwargs else None)

    def test_pages(self):
        people = self.people()
        self.client.raise_request_exception = False  # a crash is a 500 in the report, not the end of the run
        problems: list[str] = []
        dump = os.environ.get("MATRIX_DUMP")
        only_dump = os.environ.get("MATRIX_DUMP") == "todo"
        for name in sorted(page_patterns()):
            entry = m.PAGES.get(name)
            if entry is None or (only_dump and entry.spec != m.DUMP):
                continue  # a missing entry fails test_every_pattern_has_an_entry, by name
            url = self.url(name)
            expected = entry.expected()
            row = {}
            for role, user in people.items():
                self.client.logout()
                if user is not None:
                    self.client.force_login(user)
                got = self.client.get(url).status_code
                row[role] = got
                want = expected[role]
                if want == m.LOGIN:
                    response = self.client.get(url)
                    ok = response.status_code == 302 and response["Location"].startswith("/accounts/login/")
                elif isinstance(want, tuple):
                    ok = got in want
                else:
                    ok = got == want
                if not ok:
                    problems.append(f"GET {name} ({url}) as {role}: expected {want}, got {got}")
                if role in entry.deny and user is not None:
                    post = self.client.post(url, {}).status_code
                    if post not in (403, 404):
                        problems.append(f"POST {name} ({url}) as {role}: expected 403/404, got {post}")
            if dump:
                print(name.ljust(42), " ".join(f"{r}={s}" for r, s in row.items()))
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_api(self):
        tokens = {}
        for role, user in self.people().items():
            if user is not None:
                tokens[role] = core_services.api_token_create(actor=user, user=user, name="matrix")[1]
        problems: list[str] = []
        for op in api_operations():
            entry = m.API[op]
            method, path = op.split(" ", 1)
            url = (path.format(**entry.kwargs(self.fx)) if entry.kwargs else path) + entry.query
            for role, want in entry.expected().items():
                headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[role]}"} if role in tokens else {}
                if method == "GET":
                    got = self.client.get(url, **headers).status_code
                    ok = got in want if isinstance(want, tuple) else got == want
                    if not ok:
                        problems.append(f"{op} ({url}) as {role}: expected {want}, got {got}")
                    if os.environ.get("MATRIX_DUMP"):
                        print("API", op.ljust(50), role, got)
                elif role in entry.deny or role == "anon":
                    body = json.dumps(entry.body if entry.body is not None else {})
                    got = self.client.generic(method, url, body, content_type="application/json",
                                              **headers).status_code
                    if role == "anon":
                        allowed: tuple[int, ...] = (401,)
                    elif entry.body is None:  # no well-formed body at hand: any refusal, never a success
                        allowed = (403, 404, 422)
                    else:
                        allowed = (403, 404)
                    if got not in allowed:
                        problems.append(f"{op} ({url}) as {role}: expected {allowed}, got {got}")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))
