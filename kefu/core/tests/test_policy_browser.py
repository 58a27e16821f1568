"""The policy parameter pages in a real browser, on a phone: reading, the running total, saving."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.core import policy
from kefu.people.demo import build_demo


@pytest.fixture
def demo(live_server):
    return build_demo()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_system_admin_sets_weights_on_a_phone(demo, live_server, phone_page):
    page = phone_page
    login(page, live_server.url, "sysadmin")
    page.goto(live_server.url + reverse("core:policy"))
    expect(page.get_by_test_id("policy-clause-E2.2")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "policy-list-sysadmin-phone-zh-hant")

    page.goto(live_server.url + reverse("core:policy_detail", args=["evaluation.monthly_weights"]))
    form = page.get_by_test_id("policy-form")
    form.locator("#id_effective_from").fill("2099-01-01")
    form.locator("#id_part_attitude").fill("40")
    # The running total: 40 + 30 + 20 + 20 = 110, not the 100 E2.2 requires.
    expect(form.locator(".js-parts-sum")).to_have_text("110")
    expect(form.locator(".js-parts-sum")).to_have_class("js-parts-sum fw-semibold text-danger")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("parts-errors")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "policy-detail-error-phone-zh-hant")

    form = page.get_by_test_id("policy-form")
    form.locator("#id_part_ability").fill("20")
    expect(form.locator(".js-parts-sum")).to_have_text("100")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("policy-history-row")).to_have_count(1)
    assert policy.get("evaluation.monthly_weights", on=datetime.date(2099, 1, 1)) == {
        "attitude": 40, "ability": 20, "efficiency": 20, "teamwork": 20,
    }
    assert console_errors(page) == []
