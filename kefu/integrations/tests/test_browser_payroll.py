"""HR opens the payroll file from the menu, picks July 2026, checks the preview and its totals, downloads the Excel.

By hand: the 2025 cycle's pay approved 2026-07-10 — 王小美 excellent +5 % of 7,650.00 = 382.50, 鄭惠如 fail −3 % of
6,543.21 = −196.2963 → −196.30; 王小美's top (200.00, issued 2026-01-01, 549 of 730 days left on 2026-07-01) lost:
200.00 × 549 / 730 = 150.4109… → 150.41, confirmed 2026-07-31 23:30 Shanghai → a July deduction of −150.41.
Net 382.50 − 196.30 − 150.41 = 35.79.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from kefu.annual.models import AnnualCycle, AnnualResult, PayProposal
from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.people.testing import PASSWORD, build_company
from kefu.service.tests.builders import local
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import Compensation, DamageReport
from kefu.uniforms.testing import build_catalogue


@pytest.fixture
def july(live_server):
    c = build_company()
    me, her = c.agent.employee, c.other_agent.employee
    # setup: an approved cycle as the annual app leaves it
    cycle = AnnualCycle.objects.create(year=2025, status=AnnualCycle.Status.PUBLISHED, opened_by=c.hr,
                                       pay_approved_by=c.hr, pay_approved_at=local(2026, 7, 10, 9, 0))
    for employee, grade, pct, base, amount in ((me, "excellent", "5", "7650.00", "382.50"),
                                               (her, "fail", "-3", "6543.21", "-196.30")):
        result = AnnualResult.objects.create(cycle=cycle, employee=employee, rated=True, final_grade=grade)
        PayProposal.objects.create(result=result, grade=grade, pct=Decimal(pct), base_pay=Decimal(base),
                                   amount=Decimal(amount))
    cat = build_catalogue(c.admin_clerk)
    uniforms.stock_receive(actor=c.admin_clerk, sku=cat["sku"]["TOP-S-M"], location=cat["main"], quantity=2,
                           unit_cost="200.00")
    top = uniforms.holding_register(actor=c.admin_clerk, employee=me, sku=cat["sku"]["TOP-S-M"], quantity=1,
                                    issued_on=datetime.date(2026, 1, 1))[0]
    report = uniforms.damage_report_create(actor=c.agent, holding=top, kind=DamageReport.Kind.LOSS,
                                           description="遺失", occurred_on=datetime.date(2026, 7, 1))
    uniforms.damage_assess(actor=c.admin_clerk, report=report, cause=DamageReport.Cause.AT_FAULT, notes="保管不當")
    uniforms.compensation_confirm(actor=c.agent, compensation=Compensation.objects.get(damage_report=report),
                                  at=local(2026, 7, 31, 23, 30))
    return c


def test_hr_previews_and_downloads_july(july, live_server, page):
    login(page, live_server.url, "hr", PASSWORD)
    switch_language(page, "en")
    page.get_by_role("button", name="Company integrations").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Payroll file").click()
    assert reverse("integrations:payroll") in page.url
    page.get_by_test_id("month").fill("2026-07")
    with page.expect_navigation():
        page.get_by_test_id("show").click()
    expect(page.get_by_test_id("page-title")).to_contain_text("2026-07")
    expect(page.get_by_test_id("payroll-row")).to_have_count(3)
    expect(page.get_by_test_id("amount")).to_have_text(["382.50", "-150.41", "-196.30"])
    expect(page.get_by_test_id("total-pay")).to_have_text("186.20")
    expect(page.get_by_test_id("total-deductions")).to_have_text("-150.41")
    expect(page.get_by_test_id("total-net")).to_have_text("35.79")
    expect(page.get_by_test_id("table-total")).to_have_text("35.79")
    screenshot(page, "integrations-payroll-july")
    with page.expect_download() as info:
        page.get_by_test_id("download-xlsx").click()
    download = info.value
    assert download.suggested_filename == "payroll-2026-07.xlsx"
    rows = list(load_workbook(io.BytesIO(open(download.path(), "rb").read())).active.iter_rows(values_only=True))
    assert [(r[0], r[4], Decimal(str(r[6]))) for r in rows[1:]] == [
        ("CS1001", "pay_adjustment", Decimal("382.50")), ("CS1001", "uniform_compensation", Decimal("-150.41")),
        ("CS2002", "pay_adjustment", Decimal("-196.30"))]
    assert not console_errors(page), console_errors(page)

    # June: nothing to pay or deduct.
    page.get_by_test_id("month").fill("2026-06")
    with page.expect_navigation():
        page.get_by_test_id("show").click()
    expect(page.get_by_test_id("empty")).to_be_visible()
    expect(page.get_by_test_id("total-net")).to_have_text("0.00")
