"""The workbench in a real browser: every demo role logs in and reads it in three languages.

Runs Debian's Chromium through Playwright against the live server (see
kefu/browser_testing.py). The live server's database is flushed after each
test, so each test seeds the demo company through its builder.
"""

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.people.demo import DEMO_LOGINS, build_demo
from kefu.people.models import Role

TITLES = {"zh-hant": "工作台", "zh-hans": "工作台", "en": "Workbench"}
SCREENSHOT_ROLES = {Role.AGENT, Role.HR}


@pytest.fixture
def demo(live_server):
    return build_demo()


@pytest.mark.parametrize("role", list(DEMO_LOGINS), ids=list(DEMO_LOGINS))
def test_role_logs_in_and_reads_the_workbench_in_each_language(demo, live_server, page, role):
    username = DEMO_LOGINS[role]
    login(page, live_server.url, username)
    assert page.url == live_server.url + reverse("core:workbench")
    user = demo.users[username]
    expect(page.get_by_test_id("user-menu")).to_contain_text(user.employee.name)
    if role in SCREENSHOT_ROLES:
        screenshot(page, f"workbench-{role}-desktop-zh-hant")

    # Every language is checked before the test fails, so one missing catalogue
    # does not hide what the others show.
    problems = []
    for code in ["zh-hant", "zh-hans", "en"]:
        if code != "zh-hant":  # zh-Hant is the default: no switch needed
            switch_language(page, code)
        lang = page.locator("html").get_attribute("lang")
        title = page.get_by_test_id("page-title").inner_text().strip()
        if lang != code:
            problems.append(f"{code}: <html lang> is {lang!r}")
        if title != TITLES[code]:
            problems.append(f"{code}: the title reads {title!r}, expected {TITLES[code]!r}")
        if page.get_by_test_id("role-list").locator("li").count() < 1:
            problems.append(f"{code}: no role listed")
    # Back in English, the role list names this user's role.
    with translation.override("en"):
        expect(page.get_by_test_id("role-list")).to_contain_text(str(Role(role).label))
    assert not console_errors(page), console_errors(page)
    assert not problems, "; ".join(problems)


def test_wrong_password_shows_the_error_and_no_session(demo, live_server, page):
    login(page, live_server.url, "agent", "not-the-password", expect_success=False)
    assert reverse("login") in page.url
    expect(page.locator("main .alert-danger[role=alert]")).to_be_visible()
    expect(page.locator("#id_username")).to_have_value("agent")
    page.goto(live_server.url + reverse("core:workbench"))
    assert reverse("login") in page.url, "the workbench must not open without a login"
    expect(page.get_by_test_id("page-title")).to_have_count(0)


def test_logout_from_the_user_menu(demo, live_server, page):
    login(page, live_server.url, "agent")
    page.get_by_test_id("user-menu").click()
    logout = page.locator(f"form[action='{reverse('logout')}'] button[type=submit]")
    expect(logout).to_be_visible()
    with page.expect_navigation():
        logout.click()
    assert reverse("login") in page.url
    page.goto(live_server.url + reverse("core:workbench"))
    assert page.url.startswith(live_server.url + reverse("login")), page.url
    assert not console_errors(page), console_errors(page)


@pytest.mark.parametrize("role", sorted(SCREENSHOT_ROLES))
def test_phone_layout_folds_the_navigation(demo, live_server, phone_page, role):
    page = phone_page
    login(page, live_server.url, DEMO_LOGINS[role])
    toggler = page.locator("nav .navbar-toggler")
    expect(toggler).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()
    # The demo inboxes are not empty, and the folded menu still says so.
    unread = demo.users[DEMO_LOGINS[role]].notifications.filter(read_at__isnull=True).count()
    assert unread >= 1
    expect(page.get_by_test_id("unread-count-folded")).to_be_visible()
    expect(page.get_by_test_id("unread-count-folded")).to_contain_text(str(unread))
    screenshot(page, f"workbench-{role}-phone-zh-hant")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    toggler.click()
    expect(page.locator("#mainnav")).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    assert not console_errors(page), console_errors(page)
