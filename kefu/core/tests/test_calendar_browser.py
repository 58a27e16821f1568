"""The work calendar page in a real browser: readable on a phone, editable by the system admin."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.core import calendar, services
from kefu.core.models import CalendarDay, WorkingPeriod
from kefu.people.demo import build_demo


@pytest.fixture
def demo(live_server):
    company = build_demo()
    # A transactional test database is flushed between tests, which also removes the default
    # weekly hours that migration 0002 seeded; put them back as a system admin would.
    if not WorkingPeriod.objects.exists():
        for weekday in range(5):
            services.working_periods_set(actor=None, weekday=weekday, ranges=[["09:00", "12:00"], ["13:00", "18:00"]])
    return company


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_agent_reads_the_year_on_a_phone(demo, live_server, phone_page):
    page = phone_page
    login(page, live_server.url, "agent")
    page.goto(live_server.url + reverse("core:calendar") + "?year=2026")
    expect(page.get_by_test_id("calendar-months")).to_be_visible()
    expect(page.locator('td[data-date="2026-02-14"]')).to_have_class("day-adjusted")
    expect(page.locator('td[data-date="2026-10-01"]')).to_have_class("day-holiday")
    expect(page.get_by_test_id("override-form")).to_have_count(0)
    assert fits_the_screen(page)
    screenshot(page, "calendar-agent-phone-zh-hant")
    assert console_errors(page) == []


def test_system_admin_adds_and_removes_an_override(demo, live_server, page):
    page.on("dialog", lambda dialog: dialog.accept())  # the remove button asks "Remove this override?"
    login(page, live_server.url, "sysadmin")
    page.goto(live_server.url + reverse("core:calendar") + "?year=2026&day=2026-03-10")
    form = page.get_by_test_id("override-form")
    expect(form.locator("#id_date")).to_have_value("2026-03-10")
    form.locator("#id_kind").select_option("hours")
    form.locator("#id_hours").fill("13:00-09:00")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("override-form").locator(".invalid-feedback")).to_be_visible()
    assert not CalendarDay.objects.exists()
    screenshot(page, "calendar-sysadmin-error-desktop-zh-hant")

    form = page.get_by_test_id("override-form")
    form.locator("#id_hours").fill("09:00-12:00")
    form.locator("#id_note").fill("Half day")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator('td[data-date="2026-03-10"]')).to_have_class("day-company_work day-override day-selected")
    assert calendar.working_ranges(datetime.date(2026, 3, 10))[-1][1].hour == 12
    screenshot(page, "calendar-sysadmin-desktop-zh-hant")

    row = page.get_by_test_id("calendar-notable").locator('li[data-date="2026-03-10"]')
    with page.expect_navigation():
        row.get_by_role("button").click()
    expect(page.locator('td[data-date="2026-03-10"]')).to_have_class("day-work")
    assert not CalendarDay.objects.exists()
    assert console_errors(page) == []
