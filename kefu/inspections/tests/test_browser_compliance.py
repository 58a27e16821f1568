"""An inspector runs the compliance checks from the dashboard, opens a check's hits and attaches one
to an inspection in progress (issue 8 item 4)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.inspections import compliance
from kefu.inspections.models import ComplianceRun, Finding, Inspection
from kefu.people.testing import PASSWORD, build_company
from kefu.uniforms.models import Holding, ItemType, Size, Sku, Style


@pytest.fixture
def company(live_server):
    c = build_company()
    style = Style.objects.create(code="TOP", name="夏季女襯衫", item_type=ItemType.TOP)
    sku = Sku.objects.create(style=style, size=Size.objects.create(code="M"), code="TOP-M")
    due = timezone.localdate() - datetime.timedelta(days=30)
    for e in (c.agent.employee, c.other_agent.employee):  # two people overdue for renewal (U4.1)
        Holding.objects.create(employee=e, sku=sku, issued_on=due - datetime.timedelta(days=730), renewal_due_on=due,
                               unit_cost=Decimal("80.00"))
        if e == c.agent.employee:  # last night's run saw only the first of them
            compliance.compliance_run(actor=None, trigger="scheduled")
            ComplianceRun.objects.update(started_at=timezone.now() - datetime.timedelta(hours=8))
    today = timezone.localdate()
    c.inspection = Inspection.objects.create(title="第四季制服管理抽查", topic="uniforms", status="in_progress",
                                             period_start=today.replace(day=1), period_end=today,
                                             lead_inspector=c.inspector, created_by=c.inspector)
    return c


def test_inspector_runs_the_checks_and_opens_a_checks_hits(company, live_server, page):
    login(page, live_server.url, "inspector", PASSWORD)
    switch_language(page, "en")  # the button names below are the English msgids
    page.goto(live_server.url + reverse("inspections:compliance_dashboard"))
    expect(page.get_by_test_id("count-renewal_overdue")).to_have_text("1")
    with page.expect_navigation():
        page.get_by_test_id("run-now").click()
    expect(page.get_by_test_id("count-renewal_overdue")).to_have_text("2")
    expect(page.get_by_test_id("delta-renewal_overdue")).to_contain_text("+1")
    expect(page.get_by_test_id("check-renewal_overdue")).to_contain_text("U4.1")
    expect(page.get_by_test_id("trend-chart")).to_have_attribute("data-rendered", "1")
    screenshot(page, "compliance-dashboard-desktop")

    with page.expect_navigation():
        page.get_by_test_id("open-renewal_overdue").click()
    expect(page.get_by_test_id("page-title")).to_contain_text("Renewals overdue")
    rows = page.get_by_test_id("hits").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("hits")).to_contain_text("王小美 (CS1001)")

    # Only CS2's hit when filtered by its department.
    page.locator("#id_unit").select_option(label="客服二部")
    with page.expect_navigation():
        page.get_by_test_id("filter").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("hits")).to_contain_text("鄭惠如")
    screenshot(page, "compliance-hits-desktop")

    with page.expect_navigation():
        page.get_by_role("button", name="Attach as a finding").click()
    expect(page.get_by_test_id("attached")).to_have_text("第四季制服管理抽查")
    finding = Finding.objects.get()
    assert (finding.inspection_id, finding.employee_id) == (company.inspection.pk, company.other_agent.employee.pk)

    # The hit links to the record it concerns: her holdings.
    with page.expect_navigation():
        page.get_by_test_id("hit-link").click()
    assert "/uniforms/holdings/" in page.url and "q=CS2002" in page.url
    assert not console_errors(page), console_errors(page)
