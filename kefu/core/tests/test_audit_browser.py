"""The audit log in a real browser, on a phone: filters and entries fit the screen."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.core import services
from kefu.people.demo import build_demo


@pytest.fixture
def demo(live_server):
    return build_demo()


def test_hr_reads_and_filters_the_log_on_a_phone(demo, live_server, phone_page):
    services.policy_set(key="procurement.min_quotes", value="4", effective_from=datetime.date(2099, 1, 1),
                        actor=demo.users["sysadmin"], note="三家以上報價")
    page = phone_page
    login(page, live_server.url, "hr")
    page.goto(live_server.url + reverse("core:audit_log"))
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()
    page.locator("#id_action").fill("policy.")
    with page.expect_navigation():
        page.get_by_test_id("audit-filters").locator("button[type=submit]").click()
    expect(page.get_by_test_id("audit-entry")).to_have_count(1)
    expect(page.get_by_test_id("audit-changes")).to_contain_text("4")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "audit-log-hr-phone-zh-hant")
    assert console_errors(page) == []
