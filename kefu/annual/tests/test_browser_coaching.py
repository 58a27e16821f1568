"""The supervisor fills in a draft coaching plan, records a session, closes it unmet; HR decides the case (E3.3)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kefu.annual import coaching
from kefu.annual.models import CoachingPlan, HrCase
from kefu.annual.tests.test_coaching import month_eval
from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.people.testing import PASSWORD, build_company


@pytest.fixture
def plan(live_server):
    c = build_company()
    month_eval(c.agent.employee, 2026, 1, "50")  # 50.00 < 60: owes a plan
    coaching.coaching_sync()
    return CoachingPlan.objects.get()


def test_supervisor_runs_a_plan_and_hr_decides(plan, live_server, page, phone_page):
    due = timezone.localdate() + datetime.timedelta(days=30)
    login(page, live_server.url, "supervisor", PASSWORD)
    switch_language(page, "en")  # the button names below are the English msgids
    page.goto(live_server.url + reverse("annual:coaching_list") + "?status=draft")
    row = page.get_by_test_id("plan-CS1001")
    expect(row).to_contain_text("Draft")
    screenshot(page, "coaching-list-desktop")
    with page.expect_navigation():
        row.get_by_role("link", name="王小美").click()
    expect(page.get_by_test_id("facts")).to_contain_text("totals 50.00, under the coaching trigger of 60")
    form = page.get_by_test_id("activate-form")
    form.get_by_label("Goals").fill("A monthly total of 70 or more by the due date")
    form.get_by_label("Coach").select_option(label="李建國")
    form.get_by_label("Due date").fill(due.isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name="Start the plan").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Active")
    expect(page.get_by_test_id("goals")).to_contain_text("70 or more")

    session = page.get_by_test_id("session-form")
    session.get_by_label("Notes").fill("Listened to five calls together; practised the apology script")
    with page.expect_navigation():
        session.get_by_role("button", name="Record the session").click()
    expect(page.get_by_test_id("session")).to_have_count(1)

    close = page.get_by_test_id("close-form")
    close.get_by_label("Goal not met: open an HR case").check()
    close.get_by_label("Follow-up note").fill("October total 55: no progress on the goal")
    close.get_by_label("Follow-up monthly total (optional)").fill("55")
    with page.expect_navigation():
        close.get_by_role("button", name="Close the plan").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Closed, goal not met")
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    expect(page.get_by_test_id("decide-form")).to_have_count(0)  # the supervisor does not decide
    screenshot(page, "coaching-plan-closed-unmet-desktop")
    assert not console_errors(page), console_errors(page)

    login(phone_page, live_server.url, "hr", PASSWORD)
    switch_language(phone_page, "en")
    phone_page.goto(live_server.url + reverse("annual:hr_cases"))
    with phone_page.expect_navigation():
        phone_page.get_by_test_id("case-CS1001").get_by_role("link", name="王小美").click()
    decide = phone_page.get_by_test_id("decide-form")
    decide.get_by_label("Decision under the company's rules").fill("Written warning; second plan with HR")
    with phone_page.expect_navigation():
        decide.get_by_role("button", name="Record the decision").click()
    expect(phone_page.get_by_test_id("case-status")).to_have_text("Decided")
    expect(phone_page.get_by_test_id("case-decision")).to_contain_text("Written warning")
    screenshot(phone_page, "coaching-hr-case-decided-phone")
    assert not console_errors(phone_page), console_errors(phone_page)
    assert HrCase.objects.get().status == HrCase.Status.DECIDED
