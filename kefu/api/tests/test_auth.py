"""How a caller gets into the API: token, session (with CSRF), or 401."""

import datetime
import hashlib

from django.test import Client

from kefu.api.testing import API, ApiTestCase
from kefu.core import services
from kefu.core.models import ApiToken, AuditEntry


class TokenAuthTests(ApiTestCase):
    def test_valid_token_answers_as_its_user(self):
        response = self.assertApi(self.agent, "get", "/employees", 200)
        # The agent sees exactly herself: the token acted as her, not as anyone broader.
        self.assertEqual([e["employee_no"] for e in response.json()["items"]], ["CS1001"])

    def test_missing_credentials_are_401_json(self):
        response = self.api("get", "/employees")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        self.assertIsInstance(response.json()["detail"], str)
        self.assertIn("Bearer", response["WWW-Authenticate"])

    def test_unsafe_method_without_credentials_is_401_not_a_csrf_403(self):
        response = self.api("post", "/employees", data={"employee_no": "X"})
        self.assertEqual(response.status_code, 401)

    def test_wrong_token_is_401(self):
        good = self.token(self.hr)
        for bad in [good[:-1] + ("A" if good[-1] != "A" else "B"), "kefu_00000000_nope", "not-a-kefu-token", ""]:
            with self.subTest(bad=bad):
                self.assertEqual(self.api("get", "/employees", token=bad).status_code, 401)

    def test_other_scheme_is_401(self):
        response = self.client.get(f"{API}/employees", headers={"Authorization": f"Token {self.token(self.hr)}"})
        self.assertEqual(response.status_code, 401)

    def test_revoked_token_is_401(self):
        plaintext = self.token(self.hr)
        self.assertApi(self.hr, "get", "/employees", 200)
        token = ApiToken.objects.get(key_hash=hashlib.sha256(plaintext.encode()).hexdigest())
        services.api_token_revoke(actor=self.hr, token=token)
        self.assertEqual(self.api("get", "/employees", token=plaintext).status_code, 401)

    def test_inactive_user_token_is_401(self):
        plaintext = self.token(self.supervisor)
        self.assertApi(self.supervisor, "get", "/org-units", 200)
        self.supervisor.is_active = False
        self.supervisor.save(update_fields=["is_active"])
        self.assertEqual(self.api("get", "/org-units", token=plaintext).status_code, 401)

    def test_bad_token_does_not_fall_back_to_the_session(self):
        self.client.force_login(self.hr)
        self.assertEqual(self.api("get", "/employees", token="kefu_00000000_nope").status_code, 401)

    def test_last_used_is_written_at_most_once_a_minute(self):
        plaintext = self.token(self.agent)
        token = ApiToken.objects.get(key_hash=hashlib.sha256(plaintext.encode()).hexdigest())
        self.assertIsNone(token.last_used_at)
        self.assertApi(self.agent, "get", "/org-units", 200)
        token.refresh_from_db()
        first = token.last_used_at
        self.assertIsNotNone(first)
        self.assertApi(self.agent, "get", "/org-units", 200)
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, first)
        # Two minutes later it is written again.
        earlier = first - datetime.timedelta(minutes=2)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
        self.assertApi(self.agent, "get", "/org-units", 200)
        token.refresh_from_db()
        self.assertGreater(token.last_used_at, earlier + datetime.timedelta(minutes=1))

    def test_token_post_needs_no_csrf(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            f"{API}/employees/CS1001/offboard", {"leave_date": "2024-06-30"}, content_type="application/json",
            headers={"Authorization": f"Bearer {self.token(self.hr)}"},
        )
        self.assertEqual(response.status_code, 200, response.content)


class TokenServiceTests(ApiTestCase):
    def test_create_stores_only_the_hash_and_audits_without_the_secret(self):
        token, plaintext = services.api_token_create(actor=self.hr, user=self.hr, name="HR sync")
        scheme, prefix, secret = plaintext.split("_", 2)
        self.assertEqual((scheme, prefix), ("kefu", token.prefix))
        self.assertGreaterEqual(len(secret), 40)
        self.assertEqual(token.key_hash, hashlib.sha256(plaintext.encode()).hexdigest())
        entry = AuditEntry.objects.get(action="api_token.create", object_id=str(token.pk))
        self.assertEqual(entry.actor, self.hr)
        self.assertEqual(entry.changes["name"], [None, "HR sync"])
        stored = str(entry.changes) + entry.object_repr + entry.reason
        self.assertNotIn(secret, stored)
        self.assertNotIn(token.key_hash, stored)

    def test_revoke_twice_revokes_once(self):
        token, _plaintext = services.api_token_create(actor=self.hr, user=self.hr, name="x")
        services.api_token_revoke(actor=self.hr, token=token)
        token.refresh_from_db()
        first = token.revoked_at
        services.api_token_revoke(actor=self.hr, token=token)
        token.refresh_from_db()
        self.assertEqual(token.revoked_at, first)
        self.assertEqual(AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).count(), 1)

    def test_blank_name_is_refused_naming_the_field(self):
        from django.core.exceptions import ValidationError

        with self.assertRaises(ValidationError) as caught:
            services.api_token_create(actor=self.hr, user=self.hr, name="  ")
        self.assertIn("name", caught.exception.message_dict)
        self.assertFalse(ApiToken.objects.filter(user=self.hr).exists())

    def test_nobody_makes_tokens_for_someone_else_but_the_system_admin(self):
        from django.core.exceptions import PermissionDenied

        with self.assertRaises(PermissionDenied):
            services.api_token_create(actor=self.supervisor, user=self.agent, name="x")
        token, _plaintext = services.api_token_create(actor=self.sysadmin, user=self.agent, name="x")
        with self.assertRaises(PermissionDenied):
            services.api_token_revoke(actor=self.supervisor, token=token)


class SessionAuthTests(ApiTestCase):
    def test_session_reads(self):
        self.client.force_login(self.supervisor)
        response = self.client.get(f"{API}/org-units")
        self.assertEqual(response.status_code, 200)
        self.assertEqual([u["code"] for u in response.json()], ["CS1", "CS1-T1", "CS1-T2"])

    def test_session_write_needs_the_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.hr)
        url = f"{API}/employees/CS1001/offboard"
        body = {"leave_date": "2024-06-30"}
        refused = client.post(url, body, content_type="application/json")
        self.assertEqual(refused.status_code, 403)
        self.assertIsInstance(refused.json()["detail"], str)
        # The docs page hands out the CSRF token the way swagger's "try it out" sends it.
        client.get(f"{API}/docs")
        csrf = client.cookies["csrftoken"].value
        allowed = client.post(url, body, content_type="application/json", headers={"X-CSRFToken": csrf})
        self.assertEqual(allowed.status_code, 200, allowed.content)
        self.assertEqual(allowed.json()["status"], "left")

    def test_logged_out_session_is_401(self):
        self.client.force_login(self.hr)
        self.client.logout()
        self.assertEqual(self.client.get(f"{API}/employees").status_code, 401)


class OpenApiTests(ApiTestCase):
    PATHS = {
        "/api/v1/org-units": {"get", "post"},
        "/api/v1/org-units/{code}": {"get", "patch"},
        "/api/v1/employees": {"get", "post"},
        "/api/v1/employees/{employee_no}": {"get", "patch", "put"},
        "/api/v1/employees/{employee_no}/onboard": {"post"},
        "/api/v1/employees/{employee_no}/offboard": {"post"},
    }

    def test_schema_lists_every_path_with_token_or_session(self):
        response = self.api("get", "/openapi.json", self.agent)
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        self.assertTrue(schema["openapi"].startswith("3."))
        for path, methods in self.PATHS.items():
            with self.subTest(path=path):
                self.assertIn(path, schema["paths"])
                self.assertEqual(set(schema["paths"][path]) & {"get", "post", "put", "patch", "delete"}, methods)
        tags = {tag for ops in schema["paths"].values() for op in ops.values() for tag in op.get("tags", [])}
        self.assertLessEqual({"org units", "employees"}, tags)
        self.assertIn("EmployeeOut", schema["components"]["schemas"])
        self.client.force_login(self.agent)
        self.assertEqual(self.client.get(f"{API}/openapi.json").status_code, 200)

    def test_schema_needs_authentication(self):
        self.assertEqual(self.client.get(f"{API}/openapi.json").status_code, 401)
        self.assertEqual(self.api("get", "/openapi.json", token="kefu_00000000_nope").status_code, 401)


class DocsPageTests(ApiTestCase):
    def test_docs_page_loads_only_from_our_own_origin(self):
        import re

        self.client.force_login(self.agent)
        response = self.client.get(f"{API}/docs")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("swagger-ui-bundle.js", html)
        refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        self.assertTrue(refs)
        for ref in refs:
            self.assertFalse(re.match(r"^(https?:)?//", ref), f"external reference {ref}")
        # No inline script to run: the only <script> bodies are JSON data.
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            if body.strip():
                self.assertIn('type="application/json"', attrs)
        self.assertIn("script-src 'self'", response["Content-Security-Policy"])

    def test_docs_page_sends_anonymous_visitors_to_log_in(self):
        response = self.client.get(f"{API}/docs")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/?next="))

    def test_docs_page_accepts_a_token_too(self):
        self.assertEqual(self.api("get", "/docs", self.hr).status_code, 200)

    def test_docs_static_files_are_served_by_the_app(self):
        from django.contrib.staticfiles import finders

        for name in ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]:
            with self.subTest(name=name):
                self.assertIsNotNone(finders.find(name))

