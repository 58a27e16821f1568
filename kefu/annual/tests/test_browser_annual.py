"""HR opens the year, calibrates a grade with a reason, submits; leadership approves (issue 5 tests)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.annual.tests.builders import final_months, ratings
from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.people.testing import PASSWORD, build_company


@pytest.fixture
def company(live_server):
    c = build_company()
    final_months(c.agent.employee, 2026, ["80", "82", "84", "86", "88", "90"])
    final_months(c.other_agent.employee, 2026, ["70"] * 7)
    final_months(c.teammate_other_team.employee, 2026, ["95"] * 5)
    ratings(c.agent.employee, [((2026, 3, 2, 10), 5), ((2026, 5, 6, 11), 3)])
    return c


def test_hr_calibrates_and_leadership_approves(company, live_server, page, phone_page):
    login(page, live_server.url, "hr", PASSWORD)
    switch_language(page, "en")  # the button names below are the English msgids
    page.goto(live_server.url + reverse("annual:cycles"))
    page.locator("#year").fill("2026")
    with page.expect_navigation():
        page.get_by_role("button", name="Open the cycle").click()
    expect(page.get_by_test_id("cycle-status")).to_contain_text("Open")
    # 王小美: months mean 85, ratings mean 4 → 75: (60 × 85 + 20 × 75) ÷ 100 = 66.00
    expect(page.get_by_test_id("result-CS1001")).to_contain_text("66.00")
    expect(page.get_by_test_id("result-CS1005")).to_contain_text("6 needed")
    with page.expect_navigation():
        page.get_by_role("button", name="Start calibration").click()
    row = page.get_by_test_id("result-CS1001")
    row.locator("select[name=grade]").select_option("good")
    row.locator("input[name=reason]").fill("Strong second half")
    with page.expect_navigation():
        row.get_by_role("button", name="Change").click()
    expect(page.get_by_test_id("result-CS1001")).to_contain_text("Strong second half")
    screenshot(page, "annual-board-calibrating-desktop")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("cycle-status")).to_contain_text("Submitted")
    assert not console_errors(page), console_errors(page)

    login(phone_page, live_server.url, "boss", PASSWORD)
    switch_language(phone_page, "en")
    phone_page.goto(live_server.url + reverse("annual:board", args=[2026]))
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Approve").click()
    expect(phone_page.get_by_test_id("cycle-status")).to_contain_text("Approved")
    screenshot(phone_page, "annual-board-approved-phone")
    assert not console_errors(phone_page), console_errors(phone_page)
