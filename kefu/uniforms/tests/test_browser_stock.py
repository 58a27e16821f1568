"""The stock side in a real browser: low stock shows, a clerk counts, another clerk approves,
the ledger shows the variance; the agent reads her uniforms on a phone."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.models import Role, RoleAssignment
from kefu.people.testing import PASSWORD, START, build_company
from kefu.uniforms import services
from kefu.uniforms.models import StockCount, StockLevel
from kefu.uniforms.testing import build_catalogue


@pytest.fixture
def shop(live_server):
    c = build_company()
    cat = build_catalogue(c.admin_clerk)
    c.clerk2 = get_user_model().objects.create_user(username="clerk2", password=PASSWORD)
    RoleAssignment.objects.create(user=c.clerk2, role=Role.ADMIN_STAFF, org_unit=c.company, start_date=START)
    for code, qty, cost in (("TOP-S-M", 10, "85.00"), ("TOP-S-S", 6, "85.00"), ("TRS-M", 2, "120.00"),
                            ("TIE-M", 12, "35.50"), ("SCF-M", 9, "48.00")):
        services.stock_receive(actor=c.admin_clerk, sku=cat["sku"][code], location=cat["main"], quantity=qty,
                               unit_cost=cost)
    services.sku_update(actor=c.admin_clerk, sku=cat["sku"]["TRS-M"], reorder_point=3)
    for code in ("TOP-S-M", "TRS-M", "TIE-M"):
        services.holding_register(actor=c.admin_clerk, employee=c.agent.employee, sku=cat["sku"][code], quantity=1,
                                  issued_on=datetime.date(2024, 9, 1))
    c.cat = cat
    return c


def test_count_approved_by_a_second_clerk(shop, live_server, page):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server.url, "clerk", PASSWORD)
    page.goto(live_server.url + reverse("uniforms:stock_levels"))
    low = page.locator("[data-testid=stock-row][data-low='1']")
    expect(low).to_have_count(1)
    expect(low).to_contain_text("TRS-M")
    screenshot(page, "uniforms-stock-levels-desktop")

    page.get_by_test_id("uniforms-subnav").locator(f"a[href='{reverse('uniforms:counts')}']").click()
    page.get_by_test_id("new-count").click()
    with page.expect_navigation():
        page.get_by_test_id("uniforms-form").locator("button[type=submit]").click()
    count = StockCount.objects.get()
    assert page.url.endswith(reverse("uniforms:count_detail", args=[count.pk]))
    lines = {line.sku.code: line for line in count.lines.select_related("sku")}
    for code, line in lines.items():
        page.locator(f"input[name=line_{line.pk}]").fill(str(8 if code == "TOP-S-M" else line.expected))
    with page.expect_navigation():
        page.get_by_test_id("submit-count").click()
    expect(page.get_by_test_id("count-status")).to_have_attribute("data-status", "submitted")
    expect(page.get_by_test_id("variance-count")).to_have_text("1")
    expect(page.get_by_test_id("approve-count")).to_be_visible()  # she sees the buttons, but…
    with page.expect_navigation():
        page.get_by_test_id("approve-count").click()
    expect(page.locator("main .alert-danger")).to_be_visible()  # …may not approve her own count
    assert StockLevel.objects.get(sku=shop.cat["sku"]["TOP-S-M"], location=shop.cat["main"]).on_hand == 10

    page.context.clear_cookies()
    login(page, live_server.url, "clerk2", PASSWORD)
    page.goto(live_server.url + reverse("uniforms:count_detail", args=[count.pk]))
    page.locator("textarea[name=comment]").fill("複點無誤")
    with page.expect_navigation():
        page.get_by_test_id("approve-count").click()
    expect(page.get_by_test_id("count-status")).to_have_attribute("data-status", "approved")
    screenshot(page, "uniforms-count-approved-desktop")
    assert StockLevel.objects.get(sku=shop.cat["sku"]["TOP-S-M"], location=shop.cat["main"]).on_hand == 8

    page.goto(live_server.url + reverse("uniforms:ledger") + "?kind=count")
    rows = page.get_by_test_id("ledger-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("TOP-S-M")
    expect(rows.first).to_contain_text("-2")
    screenshot(page, "uniforms-ledger-desktop")
    assert not console_errors(page), console_errors(page)


def test_agent_reads_her_uniforms_on_a_phone(shop, live_server, phone_page):
    page = phone_page
    login(page, live_server.url, "agent", PASSWORD)
    page.goto(live_server.url + reverse("uniforms:home"))
    expect(page.get_by_test_id("my-uniforms")).to_contain_text("3")
    screenshot(page, "uniforms-home-phone")
    page.goto(live_server.url + reverse("uniforms:holdings"))
    expect(page.get_by_test_id("holding-row")).to_have_count(3)
    screenshot(page, "uniforms-holdings-phone")
    page.goto(live_server.url + reverse("uniforms:my_size_profile"))
    page.locator("select[name=size_top]").select_option(label="M")
    with page.expect_navigation():
        page.get_by_test_id("size-profile-form").locator("button[type=submit]").click()
    expect(page.locator("main .alert-success")).to_be_visible()
    screenshot(page, "uniforms-sizes-phone")
    page.goto(live_server.url + reverse("uniforms:catalogue"))
    expect(page.get_by_test_id("style-card")).to_have_count(5)
    screenshot(page, "uniforms-catalogue-phone")
    assert not console_errors(page), console_errors(page)
