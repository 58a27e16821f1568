"""Schemathesis against /api/v1/openapi.json (issue 10): generated requests for every operation, as an
HR user and as an agent (Bearer tokens); no answer is a 5xx and every answer matches the schema
(status code, content type, headers, body).

The app is called in-process through Django's WSGI handler, inside the test's transaction (pytest-django
rolls it back). Examples per operation are bounded so the whole module runs in well under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kefu.core import services as core_services
from kefu.people.testing import build_company

EXAMPLES = 5  # per operation and caller: 41 operations x 2 callers x 5 stays well under two minutes
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def wsgi_app(db):
    # The real handler closes "old" connections around each request; here the request shares the
    # test's connection and transaction, which must stay open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    company = build_company()
    return {who: core_services.api_token_create(actor=user, user=user, name="fuzz")[1]
            for who, user in (("hr", company.hr), ("agent", company.agent))}


@pytest.fixture
def api_schema(wsgi_app, tokens):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app,
                                          headers={"Authorization": f"Bearer {tokens['hr']}"})


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def fuzz(schema, token: str) -> list[str]:
    """Every operation with generated input; returns what went wrong, one line per operation."""
    problems = []
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, "the schema lost its operations"
    for operation in operations:
        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            problems.append(f"{operation.label}: {str(e)[:2000]}")
    return problems


def test_api_as_hr(api_schema, tokens):
    problems = fuzz(api_schema, tokens["hr"])
    assert not problems, "\n\n".join(problems)


def test_api_as_agent(api_schema, tokens):
    problems = fuzz(api_schema, tokens["agent"])
    assert not problems, "\n\n".join(problems)


@pytest.mark.django_db
def test_text_no_database_can_store_is_422_naming_the_field(client, tokens):
    """What the fuzzing found on PostgreSQL: a NUL character or half a surrogate pair in a JSON body
    (or a query string) was a 500 from the database; it is the caller's mistake."""
    headers = {"Authorization": f"Bearer {tokens['hr']}"}
    body = '{"name": "王\\u0000小美", "gender": "F", "hire_date": "2023-03-01", "org_unit": "CS1-T1"}'
    response = client.put("/api/v1/employees/CS1001", body, content_type="application/json", headers=headers)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["field"] == "name"
    body = '{"name": "\\ud83d", "gender": "F", "hire_date": "2023-03-01", "org_unit": "CS1-T1"}'
    response = client.put("/api/v1/employees/CS1001", body, content_type="application/json", headers=headers)
    assert (response.status_code, response.json()["detail"][0]["field"]) == (422, "name")
    response = client.get("/api/v1/employees", {"q": "a\x00b"}, headers=headers)
    assert response.status_code == 422, response.content
    from kefu.people.models import Employee

    assert Employee.objects.get(employee_no="CS1001").name == "王小美"
