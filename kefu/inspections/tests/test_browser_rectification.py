"""The inspector requests a rectification from a finding, the person responsible submits her evidence,
the inspector verifies it (issue 8 item 5, policy S3) — in the browser."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.core.models import Notification
from kefu.inspections.models import Rectification
from kefu.inspections.tests.builders_rectification import make_finding
from kefu.inspections.tests.test_rectification import IN_MEMORY, PNG
from kefu.people.testing import PASSWORD, build_company


@pytest.fixture
def company(live_server, settings):
    settings.STORAGES = IN_MEMORY
    c = build_company()
    c.finding = make_finding(inspector=c.inspector, unit=c.cs1_t1, title="十一月日常考評缺證據")
    return c


def test_request_submit_verify(company, live_server, page, phone_page):
    url = live_server.url
    login(page, url, "inspector", PASSWORD)
    switch_language(page, "en")  # the button names below are the English msgids
    # From the finding on its inspection's page.
    page.goto(url + reverse("inspections:inspection_detail", args=[company.finding.inspection_id]))
    with page.expect_navigation():
        page.get_by_test_id("finding-request-rectification").click()
    expect(page.get_by_test_id("finding")).to_contain_text("十一月日常考評缺證據")
    page.locator("#id_responsible").select_option(label="李建國 (CS1002) · 一部一組")
    page.locator("#id_requirement").fill("補齊十一月每週考評的證據")
    deadline = timezone.localdate() + datetime.timedelta(days=15)  # policy S3 default: 15 days
    with page.expect_navigation():
        page.get_by_role("button", name="Request the rectification").click()
    expect(page.get_by_test_id("rect-status")).to_contain_text("Open")
    expect(page.get_by_test_id("deadline")).to_have_text(deadline.isoformat())
    expect(page.get_by_test_id("responsible")).to_have_text("李建國")
    screenshot(page, "rectification-requested-desktop")
    assert not console_errors(page), console_errors(page)
    rect = Rectification.objects.get()
    assert Notification.objects.filter(recipient=company.team_lead, url__endswith=f"/{rect.pk}/").exists()

    # The team lead, on her phone: from "my rectifications" to the evidence.
    login(phone_page, url, "lead", PASSWORD)
    switch_language(phone_page, "en")
    phone_page.goto(url + reverse("inspections:rectification_mine"))
    with phone_page.expect_navigation():
        phone_page.get_by_role("link", name="十一月日常考評缺證據").click()
    with phone_page.expect_navigation():
        phone_page.get_by_test_id("start").click()
    expect(phone_page.get_by_test_id("rect-status")).to_contain_text("In progress")
    phone_page.locator("#id_evidence").fill("已補齊第 45–48 週的錄音與評分表")
    phone_page.locator("#id_attachments").set_input_files(
        [{"name": "scores.png", "mimeType": "image/png", "buffer": PNG}])
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Submit for verification").click()
    expect(phone_page.get_by_test_id("rect-status")).to_contain_text("Submitted")
    expect(phone_page.get_by_test_id("attachments")).to_contain_text("scores.png")
    expect(phone_page.get_by_test_id("verify-card")).to_have_count(0)
    screenshot(phone_page, "rectification-submitted-phone")
    assert not console_errors(phone_page), console_errors(phone_page)

    # The inspector verifies.
    page.reload()
    expect(page.get_by_test_id("evidence")).to_contain_text("已補齊第 45–48 週")
    with page.expect_navigation():
        page.get_by_role("button", name="Verify and close").click()
    expect(page.get_by_test_id("rect-status")).to_contain_text("Verified and closed")
    expect(page.get_by_test_id("verified-by")).to_contain_text("趙文華")
    screenshot(page, "rectification-closed-desktop")
    assert not console_errors(page), console_errors(page)

    page.goto(url + reverse("inspections:rectification_dashboard"))
    expect(page.get_by_test_id("count-closed")).to_have_text("1")
    expect(page.get_by_test_id("departments-chart")).to_have_attribute("data-rendered", "1")
    screenshot(page, "rectification-dashboard-desktop")
    assert not console_errors(page), console_errors(page)
