"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Registered for every test module by ``pytest_plugins`` in the top-level
``conftest.py``, so a test just asks for the fixtures::

    from kefu.browser_testing import login, screenshot

    def test_agent_sees_her_workbench(page, live_server):
        build_demo()                      # live_server gives a transactional database
        login(page, live_server.url, "agent")
        expect(page.get_by_test_id("page-title")).to_be_visible()

Fixtures:

``browser``      one headless Chromium for the whole session (``KEFU_CHROMIUM``
                 names another executable; never ``playwright install``).
``new_context``  a factory of fresh browser contexts (cookies, viewport, locale);
                 all are closed after the test. ``new_context(phone=True)`` is a
                 375×812 touch phone.
``page``         a page in a fresh desktop context (1280×900), locale zh-TW,
                 time zone Asia/Shanghai.
``phone_page``   the same on a phone-sized viewport.

When a test fails, every page it opened is saved to ``test-artifacts/failures/``
(a PNG and the HTML). ``KEFU_SCREENSHOTS=all`` also saves every test's last
page to ``test-artifacts/pages/``. ``console_errors(page)`` lists the page's
JavaScript errors and console errors (a Content-Security-Policy violation is
one), which a test can assert to be empty.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

ARTIFACTS = Path(os.environ.get("KEFU_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# A browser that asks for Traditional Chinese, like most of Kefu's users; the company's time zone.
DEFAULT_LOCALE = "zh-TW"
DEFAULT_TIMEZONE = "Asia/Shanghai"
TIMEOUT_MS = 10_000

_console_errors: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:150]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the fixtures can tell a failed test at teardown.
    report = yield
    setattr(item, f"kefu_report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"kefu_report_{when}", None), "failed", False) for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not at {CHROMIUM}: run `make browser-deps` (or set KEFU_CHROMIUM).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _watch(page) -> None:
    errors: list[str] = []
    _console_errors[page] = errors
    def on_console(message) -> None:
        # A browser asks for /favicon.ico by itself; that is not the page's error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(TIMEOUT_MS)


def console_errors(page) -> list[str]:
    """JavaScript errors and console errors the page has logged so far."""
    return list(_console_errors.get(page, []))


@pytest.fixture
def new_context(browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``new_context(phone=False, **playwright_context_options)`` → a fresh context; closed after the test."""
    contexts: list[Any] = []

    def make(*, phone: bool = False, **options: Any):
        defaults: dict[str, Any] = {"locale": DEFAULT_LOCALE, "timezone_id": DEFAULT_TIMEZONE}
        if phone:
            defaults |= {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
        else:
            defaults |= {"viewport": DESKTOP}
        context = browser.new_context(**(defaults | options))
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", _watch)
        contexts.append(context)
        return context

    yield make

    failed = _failed(request)
    save_all = os.environ.get("KEFU_SCREENSHOTS", "") == "all"
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            if failed or save_all:
                name = f"{_slug(request.node.nodeid)}-{c}{p}"
                folder = ARTIFACTS / ("failures" if failed else "pages")
                try:
                    screenshot(page, name, folder=folder)
                    (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")
                except Exception as e:  # a crashed page must not hide the test's own failure
                    print(f"could not save {name}: {e}")
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def phone_page(new_context):
    return new_context(phone=True).new_page()


def screenshot(page, name: str, *, folder: Path | None = None, full_page: bool = True) -> Path:
    """Save a PNG of the page to test-artifacts/ (or ``folder``) and return its path."""
    folder = folder or ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_slug(name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page, live_server_url: str, username: str, password: str | None = None, *, expect_success: bool = True):
    """Log in through the real login form (the demo password by default) and wait for the answer."""
    if password is None:
        from kefu.people.demo import demo_password

        password = demo_password()
    login_url = reverse("login")
    page.goto(live_server_url.rstrip("/") + login_url)
    form = page.locator("main form").filter(has=page.locator("#id_password"))
    form.locator("#id_username").fill(username)
    form.locator("#id_password").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if expect_success and login_url in page.url:
        raise AssertionError(f"{username} could not log in: still on {page.url}")
    return page


def switch_language(page, code: str):
    """Choose a language in the footer's language form and wait for the page to come back."""
    with page.expect_navigation():
        page.get_by_test_id("language-form").locator("select").select_option(code)
    return page
