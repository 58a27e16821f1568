"""An agent appeals her published result and HR decides it; HR imports base pay, approves and exports (E3.1, G3.1).

By hand: 王小美 (CS1001) calibrated to excellent, 鄭惠如 (CS2002) fail. Her appeal is adjusted to pass:
6,543.21 × 0 % = 0.00; his 8,000.00 × 5 % = 400.00.
"""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from kefu.annual import services
from kefu.annual.models import AnnualCycle
from kefu.annual.tests.builders import final_months, ratings
from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.people.testing import PASSWORD, build_company
from kefu.service.tests.builders import local


@pytest.fixture
def published(live_server):
    c = build_company()
    final_months(c.agent.employee, 2026, ["80", "82", "84", "86", "88", "90"])
    final_months(c.other_agent.employee, 2026, ["70"] * 7)
    ratings(c.agent.employee, [((2026, 3, 2, 10), 5), ((2026, 5, 6, 11), 3)])
    cycle = services.cycle_open(actor=c.hr, year=2026)
    services.cycle_calibrate(actor=c.hr, cycle=cycle)
    services.grade_change(actor=c.hr, result=cycle.results.get(employee=c.agent.employee), grade="excellent",
                          reason="Top of the team")
    services.cycle_submit(actor=c.hr, cycle=cycle)
    services.cycle_approve(actor=c.leadership, cycle=cycle)
    services.cycle_publish(actor=c.hr, cycle=cycle)
    # setup: published an hour ago, so the appeal window is open now
    AnnualCycle.objects.filter(pk=cycle.pk).update(published_at=timezone.now() - datetime.timedelta(hours=1))
    return c


def test_appeal_then_pay(published, live_server, page, phone_page):
    # The fail-graded agent appeals from her phone.
    login(phone_page, live_server.url, "agent3", PASSWORD)
    switch_language(phone_page, "en")
    phone_page.goto(live_server.url + reverse("annual:mine"))
    card = phone_page.get_by_test_id("appeal-2026")
    expect(card).to_contain_text("You may appeal this grade until")
    card.locator("textarea[name=reason]").fill("I was on sick leave in May")
    with phone_page.expect_navigation():
        card.get_by_role("button", name="Appeal").click()
    expect(phone_page.get_by_test_id("appeal-2026")).to_contain_text("Your appeal is with HR.")
    screenshot(phone_page, "annual-appeal-filed-phone")
    assert not console_errors(phone_page), console_errors(phone_page)

    # HR decides it: adjusted to pass.
    login(page, live_server.url, "hr", PASSWORD)
    switch_language(page, "en")
    page.goto(live_server.url + reverse("annual:appeals"))
    box = page.locator("[data-testid^=appeal-]").filter(has_text="I was on sick leave in May")
    box.locator("select[name=decision]").select_option("adjusted")
    box.locator("select[name=new_grade]").select_option("pass")
    box.locator("input[name=note]").fill("May re-checked")
    with page.expect_navigation():
        box.get_by_role("button", name="Decide").click()
    expect(box.get_by_test_id("appeal-decision")).to_contain_text("Fail → Pass")
    screenshot(page, "annual-appeal-decided-desktop")

    phone_page.goto(live_server.url + reverse("annual:mine"))
    expect(phone_page.get_by_test_id("result-2026")).to_contain_text("Pass")
    expect(phone_page.get_by_test_id("my-appeal")).to_contain_text("May re-checked")

    # setup: time passes — publication moved to Wed 2026-09-30, so the window closed on 2026-10-13.
    AnnualCycle.objects.filter(year=2026).update(published_at=local(2026, 9, 30, 10, 0))

    page.goto(live_server.url + reverse("annual:pay", args=[2026]))
    page.set_input_files("#pay-file", files=[{"name": "base-pay.csv", "mimeType": "text/csv",
                                              "buffer": "工號,底薪\nCS1001,8000\nCS2002,6543.21\n".encode("gbk")}])
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("pay-CS1001").get_by_test_id("amount")).to_have_text("400.00")
    expect(page.get_by_test_id("pay-CS2002").get_by_test_id("amount")).to_have_text("0.00")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve the pay proposals").click()
    expect(page.get_by_test_id("pay-status")).to_have_text("Approved")
    screenshot(page, "annual-pay-approved-desktop")
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = download.value.path()
    rows = list(load_workbook(io.BytesIO(open(path, "rb").read())).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "employee_no" and rows[0][-1] == "pay_change_amount"
    assert [(r[0], r[4], float(r[7])) for r in rows[1:]] == [("CS1001", "excellent", 400.0), ("CS2002", "pass", 0.0)]
    assert not console_errors(page), console_errors(page)
