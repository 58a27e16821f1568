"""In the browser: HR nominates, leadership approves, the certificate downloads (policy E3.2); the
distribution chart renders on the calibration board (issue 5 item 4); the reports open."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.annual.tests.test_awards import make_cycle, make_result, person
from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.core.pdf import pdf_text
from kefu.people.testing import PASSWORD, build_company


@pytest.fixture
def company(live_server):
    c = build_company()
    cycle = make_cycle(2026, c.hr)
    make_result(cycle, c.agent.employee, "excellent", "93", sat="90", ratings=10, monthly="80")
    make_result(cycle, c.teammate_other_team.employee, "good", "85", sat="95", ratings=4, monthly="82")
    make_result(cycle, c.other_agent.employee, "fail", "52", monthly="55")
    for i, grade in enumerate(["good", "pass", "pass"]):
        make_result(cycle, person(f"P{i}", c.cs2_t1), grade, f"8{i}", sat="70", ratings=2)
    last_year = make_cycle(2025, c.hr)
    make_result(last_year, c.agent.employee, "good", "86")
    make_result(last_year, c.other_agent.employee, "pass", "75")
    return c


def test_hr_nominates_leadership_approves_certificate_downloads(company, live_server, page, new_context, tmp_path):
    login(page, live_server.url, "hr", PASSWORD)
    switch_language(page, "en")
    page.goto(live_server.url + reverse("annual:awards", args=[2026]))
    expect(page.get_by_test_id("star-CS1005").get_by_test_id("star-rank")).to_have_text("1")  # satisfaction 95
    expect(page.get_by_test_id("star-CS1001").get_by_test_id("star-rank")).to_have_text("2")
    row = page.get_by_test_id("outstanding-CS1001")
    row.locator("input[name=reason]").fill("Top composite and 10 five-star answers")
    with page.expect_navigation():
        row.get_by_role("button", name="Nominate").click()
    expect(page.get_by_test_id("nomination-outstanding-CS1001")).to_contain_text("Nominated")
    screenshot(page, "annual-awards-nominated-desktop")
    assert not console_errors(page), console_errors(page)

    boss = new_context(phone=True).new_page()
    login(boss, live_server.url, "boss", PASSWORD)
    switch_language(boss, "en")
    expect(boss.get_by_text("Decide the award nominations of 2026")).to_be_visible()
    boss.goto(live_server.url + reverse("annual:awards", args=[2026]))
    nomination = boss.get_by_test_id("nomination-outstanding-CS1001")
    with boss.expect_navigation():
        nomination.get_by_role("button", name="Approve").click()
    expect(boss.get_by_test_id("nomination-outstanding-CS1001")).to_contain_text("2026-OUT-001")
    expect(boss.get_by_test_id("quota-outstanding")).to_contain_text("1 of 3 approved")
    screenshot(boss, "annual-awards-approved-phone")
    with boss.expect_download() as download_info:
        boss.get_by_test_id("nomination-outstanding-CS1001").get_by_role("link", name="Certificate").click()
    target = tmp_path / "certificate.pdf"
    download_info.value.save_as(target)
    text = pdf_text(Path(target).read_bytes())
    assert "王小美" in text and "2026-OUT-001" in text and "客服示範公司" in text
    assert not console_errors(boss), console_errors(boss)


def test_chart_renders_on_the_board_and_reports_open(company, live_server, page):
    login(page, live_server.url, "hr", PASSWORD)
    page.goto(live_server.url + reverse("annual:board", args=[2026]))
    chart = page.get_by_test_id("distribution-chart")
    expect(chart).to_have_attribute("data-rendered", "1")
    expect(chart.locator("svg")).to_have_count(1)
    # The fallback table holds the numbers: 1 excellent (cap floor(6 × 20 %) = 1), 1 fail (floor ceil(6 × 5 %) = 1).
    expect(page.get_by_test_id("dist-excellent")).to_contain_text("1")
    expect(page.get_by_test_id("dist-pass")).to_contain_text("2")
    screenshot(page, "annual-board-chart-desktop")
    assert not console_errors(page), console_errors(page)

    page.get_by_test_id("board-links").get_by_role("link").nth(2).click()  # the grade distribution report
    expect(page.get_by_test_id("yoy-CS2-2026")).to_be_visible()
    expect(page.get_by_test_id("yoy-chart")).to_have_attribute("data-rendered", "1")
    expect(page.get_by_test_id("yoy-chart").locator("svg")).to_have_count(1)
    screenshot(page, "annual-report-distribution-desktop")
    page.goto(live_server.url + reverse("annual:board", args=[2026]))
    page.get_by_test_id("result-CS1001").get_by_role("link", name="王小美").click()
    expect(page.get_by_test_id("annual-2026")).to_be_visible()
    screenshot(page, "annual-history-desktop")
    assert not console_errors(page), console_errors(page)
