"""Production settings (issue 10 item 4): check --deploy, CSP, secure cookies, HSTS, where uploads live.

The production checks run ``manage.py`` in a subprocess with the environment README documents for a
deployment, because the settings are read from the environment when the process starts.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kefu.browser_testing import console_errors, login
from kefu.people.testing import PASSWORD, KefuTestCase, build_company

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "x7Kq2-production-like-secret-" + "a8Zr3mWp0vLt9sQe" * 4,
    "SECURE_COOKIES": "True",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_PROXY": "True",
    "ALLOWED_HOSTS": "kefu.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://kefu.example.com",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Not the test run's own switches (conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
    base = {k: v for k, v in os.environ.items()
            if k not in PRODUCTION_ENV and not k.startswith(("PYTEST", "DJANGO_SETTINGS", "DJANGO_ALLOW_ASYNC"))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, check=False, timeout=120)


def test_check_deploy_is_clean_with_the_production_environment():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_check_deploy_complains_without_it():
    """The same check fails on the development defaults: it really looks at the settings."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {"DEBUG": "True"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W009", "security.W012", "security.W016",
                  "security.W018"):
        assert check in output, check


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
https = client.get("/accounts/login/", secure=True, HTTP_HOST="kefu.example.com")
proxied = client.get("/accounts/login/", HTTP_HOST="kefu.example.com", HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/accounts/login/", HTTP_HOST="kefu.example.com")
csrf = https.cookies.get("csrftoken")
print(json.dumps({
    "https_status": https.status_code, "hsts": https.headers.get("Strict-Transport-Security"),
    "proxied_status": proxied.status_code, "proxied_hsts": proxied.headers.get("Strict-Transport-Security"),
    "plain_status": plain.status_code, "plain_location": plain.headers.get("Location"),
    "csp": https.headers.get("Content-Security-Policy"), "nosniff": https.headers.get("X-Content-Type-Options"),
    "frame": https.headers.get("X-Frame-Options"),
    "csrf_cookie_secure": bool(csrf and csrf["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE, "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "csrf_cookie_setting": settings.CSRF_COOKIE_SECURE,
}))
"""


def test_production_answers_carry_hsts_secure_cookies_and_the_csp():
    result = _run(["-c", PROBE], {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "kefu.settings"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["https_status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    # Behind nginx, which says the client came over HTTPS, Kefu answers as over HTTPS.
    assert seen["proxied_status"] == 200
    assert seen["proxied_hsts"] == "max-age=31536000; includeSubDomains"
    # A plain-HTTP request is sent to HTTPS.
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://kefu.example.com/accounts/login/"
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_secure"] is True
    assert seen["session_cookie_httponly"] is True
    assert seen["nosniff"] == "nosniff"
    assert seen["frame"] == "DENY"
    assert "script-src 'self'" in seen["csp"]


# ---- Content-Security-Policy -------------------------------------------------------------------------


def test_the_policy_forbids_inline_and_foreign_scripts():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    for name, sources in directives.items():
        for source in sources:
            assert source in {"'self'", "'none'", "'unsafe-inline'", "data:"}, (name, source)
        if name != "style-src":
            assert "'unsafe-inline'" not in sources, name


def _template_files() -> list[Path]:
    files = sorted((ROOT / "kefu").glob("**/templates/**/*.html"))
    assert len(files) > 50  # every app's templates are found
    return files


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\s(on[a-z]+)\s*=", re.I | re.S)
INLINE_JS = re.compile(r"javascript:|hx-on[:-]", re.I)


def inline_script_problems(name: str, text: str) -> list[str]:
    problems = []
    for match in SCRIPT_TAG.finditer(text):
        attrs = match.group(1)
        if "src=" not in attrs and "application/json" not in attrs:
            problems.append(f"{name}: inline <script{attrs}>")
    problems += [f"{name}: event handler {m.group(1)}=" for m in EVENT_HANDLER.finditer(text)]
    problems += [f"{name}: {m.group(0)}" for m in INLINE_JS.finditer(text)]
    return problems


def test_the_scanner_finds_inline_scripts():
    assert inline_script_problems("t", '<script>alert(1)</script>')
    assert inline_script_problems("t", '<button class="x"\n onclick="go()">')
    assert inline_script_problems("t", '<a href="javascript:go()">')
    assert inline_script_problems("t", '<div hx-on:click="go()">')
    assert not inline_script_problems("t", '<script src="{% static \'kefu.js\' %}" defer></script>')
    assert not inline_script_problems("t", '<script type="application/json" id="d">{}</script>')
    assert not inline_script_problems("t", '<input name="onboard_date" data-confirm="sure?">')


def test_no_template_has_an_inline_script_or_handler():
    problems = []
    for path in _template_files():
        problems += inline_script_problems(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_the_browser_gets_the_policy_and_breaks_none_of_it(live_server, page):
    build_company()
    login(page, live_server.url, "supervisor", PASSWORD)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    for name in ("core:workbench", "evaluations:weekly_board", "evaluations:monthly_board"):
        answer = page.goto(live_server.url + reverse(name))
        assert answer is not None and answer.status == 200
        policy = answer.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, name
        assert "frame-ancestors 'none'" in policy
    # An injected inline script is refused by the browser under this policy.
    page.evaluate("""() => { const s = document.createElement('div');
        s.innerHTML = '<img src="data:," onerror="window.__pwned = 1">'; document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned === undefined")
    assert any("Content Security Policy" in v for v in violations)
    assert [e for e in console_errors(page) if "Content Security Policy" not in e] == []


# ---- uploads ------------------------------------------------------------------------------------------


class UploadStorageTests(KefuTestCase):
    def test_uploads_live_outside_the_static_root_and_no_url_serves_them(self):
        media, static = Path(settings.MEDIA_ROOT).resolve(), Path(settings.STATIC_ROOT).resolve()
        assert media != static
        assert static not in media.parents and media not in static.parents
        for folder in settings.STATICFILES_DIRS:
            assert Path(folder).resolve() not in media.parents
        # /media/… is not a URL of Kefu: files go out only through access-checked views.
        self.client.force_login(self.sysadmin)
        assert self.client.get("/" + settings.MEDIA_URL + "evaluations/attachments/x.pdf").status_code == 404
