"""The interaction import in a real browser: a broken file is refused with every bad row listed,
the corrected file goes in, and the agent reads her interaction with its SLA deadlines on a phone."""

from __future__ import annotations

import tempfile

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.testing import PASSWORD, build_company
from kefu.service import ingest

HEADER = ",".join(ingest.HEADERS)
GOOD = [
    "callcenter,CC-1001,phone,normal,inquiry,C-88001,Invoice question,2026-03-02 09:15,2026-03-02 10:00,"
    "2026-03-06 16:20,CS1001,,,https://cc.example.com/rec/1001",
    "callcenter,CC-1002,chat,urgent,complaint,C-88002,Double charge,2026-03-02 11:00,2026-03-02 11:20,,CS1001,CS1002,,",
]
BROKEN = [
    GOOD[0],
    "callcenter,CC-1002,chat,urgent,complaint,C-88002,Double charge,2026-03-02 11:00,2026-03-02 10:20,,CS1001,,,",
    "callcenter,CC-1003,fax,normal,inquiry,,,2026-03-02 12:00,,,CS9999,,,",
]


def csv_file(name: str, lines: list[str]) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": ("\n".join([HEADER, *lines]) + "\n").encode()}


@pytest.fixture
def company(live_server):
    return build_company()


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="kefu-browser-media-"))
def test_import_then_read_the_interaction(company, live_server, page, phone_page):
    login(page, live_server.url, "sysadmin", PASSWORD)
    page.goto(live_server.url + reverse("service:import_upload"))
    expect(page.get_by_test_id("import-columns")).to_contain_text("first_responder_no")

    page.locator("input[type=file]").set_input_files(csv_file("march-broken.csv", BROKEN))
    with page.expect_navigation():
        page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-progress")).to_have_attribute("data-status", "rejected")
    errors = page.get_by_test_id("import-error")
    expect(errors).to_have_count(3)  # row 3: reply before receipt; row 4: bad channel and unknown agent
    expect(page.get_by_test_id("import-errors")).to_contain_text("CS9999")
    screenshot(page, "service-import-rejected-desktop")

    page.goto(live_server.url + reverse("service:import_upload"))
    page.locator("input[type=file]").set_input_files(csv_file("march.csv", GOOD))
    with page.expect_navigation():
        page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-progress")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("import-counts")).to_contain_text("2")
    screenshot(page, "service-import-done-desktop")
    assert not console_errors(page), console_errors(page)

    # The agent reads her urgent complaint on her phone.
    login(phone_page, live_server.url, "agent", PASSWORD)
    phone_page.goto(live_server.url + reverse("service:interaction_list") + "?start=2026-03-01&end=2026-03-31")
    rows = phone_page.get_by_test_id("interaction-row")
    expect(rows).to_have_count(2)
    with phone_page.expect_navigation():
        rows.filter(has_text="CC-1002").locator("a").first.click()
    sla = phone_page.get_by_test_id("sla-first-reply")
    expect(sla).to_contain_text("11:15")  # urgent: 15 minutes after 11:00
    expect(phone_page.get_by_test_id("sla-resolution")).to_contain_text("18:00")
    screenshot(phone_page, "service-interaction-phone")
    assert not console_errors(phone_page), console_errors(phone_page)
