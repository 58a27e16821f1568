"""Procurement in a real browser, from plan to receipt (U1.2): admin drafts a plan with Kefu's
proposal and submits it; leadership approves it from the workbench; admin invites three suppliers,
records their quotes, compares them, awards the lowest, issues the order, and checks the delivery
(one size fails the quality check, with a photo); the accepted units are in stock and the budget
chart is drawn."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.testing import PASSWORD, build_company
from kefu.procurement.models import PurchaseOrder, PurchasePlan, Receipt, Rfq, SupplierIssue
from kefu.procurement.testing import PNG, make_supplier
from kefu.uniforms import services as uniforms
from kefu.uniforms.models import StockLevel
from kefu.uniforms.testing import build_catalogue


@pytest.fixture
def shop(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = build_company()
    cat = build_catalogue(c.admin_clerk)
    # Only the summer top and the tie are bought this season (the other styles are retired).
    for code in ("TRS", "SKT", "SCF"):
        uniforms.style_save(actor=c.admin_clerk, style=cat["styles"][code], active=False)
    for code, qty, cost in (("TOP-S-M", 2, "85.00"), ("TIE-M", 3, "35.00"), ("TOP-S-S", 1, "85.00"),
                            ("TOP-S-L", 1, "85.00"), ("TIE-S", 1, "35.00"), ("TIE-L", 1, "35.00")):
        uniforms.stock_receive(actor=c.admin_clerk, sku=cat["sku"][code], location=cat["main"], quantity=qty,
                               unit_cost=cost)
    c.suppliers = [make_supplier(c.admin_clerk, code, name) for code, name in
                   (("S1", "華美製衣"), ("S2", "錦繡服飾"), ("S3", "恒達紡織"))]
    c.cat = cat
    return c


def go(page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_test_id("page-title")).to_be_visible()


def submit(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def test_plan_to_receipt(shop, live_server, page, new_context):
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    # 1. Admin drafts the spring plan; Kefu proposes the quantities.
    login(page, base, "clerk", PASSWORD)
    go(page, base + reverse("procurement:home"))
    submit(page, page.get_by_test_id("new-plan"))
    form = page.get_by_test_id("procurement-form")
    form.locator("#id_title").fill("2027 春季制服採購計劃")
    form.locator("#id_season").select_option("spring")
    form.locator("#id_year").fill("2027")
    form.locator("#id_horizon_start").fill("2027-03-01")
    form.locator("#id_horizon_end").fill("2027-08-31")
    form.locator("#id_expected_new_hires").fill("9")
    submit(page, page.get_by_test_id("save"))
    plan = PurchasePlan.objects.get()
    expect(page.get_by_test_id("plan-status")).to_have_attribute("data-status", "draft")
    expect(page.get_by_test_id("plan-line")).to_have_count(2)
    # No size profiles yet: 9 hires × 2 sets × 1 piece, spread over 3 sizes = 6 each, less stock on hand.
    expect(page.get_by_test_id("plan-line").first).to_contain_text("6")
    expect(page.get_by_test_id("derivation").first).to_be_visible()
    screenshot(page, "procurement-1-plan-proposed")

    # Admin changes a quantity and the tie's target price, then submits.
    tie_line = plan.lines.get(style__code="TIE")
    page.locator(f"#line-{tie_line.pk}").get_by_test_id("edit-line").click()
    expect(page.get_by_test_id("line-form")).to_be_visible()
    page.locator(f"#id_qty_{shop.cat['sku']['TIE-M'].pk}").fill("10")
    page.locator("#id_target_unit_price").fill("36.00")
    submit(page, page.get_by_test_id("save"))
    submit(page, page.get_by_test_id("submit-plan"))
    expect(page.get_by_test_id("plan-status")).to_have_attribute("data-status", "submitted")
    plan.refresh_from_db()
    # TOP-S: (6−1) + (6−2) + (6−1) = 14 × 85.00 = 1,190.00; TIE: 5 + 10 + 5 = 20 × 36.00 = 720.00
    assert plan.total_budget == 1910
    page.get_by_test_id("user-menu").click()
    submit(page, page.locator("form[action$='/logout/'] button"))

    # 2. Leadership approves it from her workbench.
    login(page, base, "boss", PASSWORD)
    todo = page.locator(f"a[href='{reverse('procurement:plans')}?status=pending']")
    expect(todo).to_have_count(1)
    screenshot(page, "procurement-2-workbench-leadership")
    submit(page, todo)
    submit(page, page.get_by_test_id("plan-row").get_by_role("link", name=plan.number))
    expect(page.get_by_test_id("decision-form")).to_be_visible()
    expect(page.get_by_test_id("edit-line")).to_have_count(0)  # leadership reads, does not edit
    page.locator("#id_comment").fill("同意，注意色牢度。")
    submit(page, page.get_by_test_id("approve"))
    expect(page.get_by_test_id("plan-status")).to_have_attribute("data-status", "approved")
    screenshot(page, "procurement-2-plan-approved")
    page.get_by_test_id("user-menu").click()
    submit(page, page.locator("form[action$='/logout/'] button"))

    # 3. Admin invites three suppliers and records their quotes.
    login(page, base, "clerk", PASSWORD)
    go(page, base + reverse("procurement:plan_detail", args=[plan.number]))
    submit(page, page.get_by_test_id("start-rfq"))
    for supplier in shop.suppliers:
        page.get_by_label(f"{supplier.name} ({supplier.code})").check()
    submit(page, page.get_by_test_id("send-rfq"))
    rfq = Rfq.objects.get()
    expect(page.get_by_test_id("invitation")).to_have_count(3)
    prices = {"S1": ("82.00", "34.00"), "S2": ("80.00", "37.00"), "S3": ("84.00", "35.00")}
    top, tie = plan.lines.get(style__code="TOP-S"), plan.lines.get(style__code="TIE")
    for code, (p_top, p_tie) in prices.items():
        go(page, base + reverse("procurement:quote_record", args=[rfq.number, code]))
        page.locator(f"#id_price_{top.pk}").fill(p_top)
        page.locator(f"#id_lead_{top.pk}").fill("15")
        page.locator(f"#id_price_{tie.pk}").fill(p_tie)
        page.locator(f"#id_lead_{tie.pk}").fill("10")
        page.locator("#id_valid_until").fill((timezone.localdate() + datetime.timedelta(days=30)).isoformat())
        submit(page, page.get_by_test_id("save"))
    # Totals: S1 14 × 82 + 20 × 34 = 1,148 + 680 = 1,828; S2 1,120 + 740 = 1,860; S3 1,176 + 700 = 1,876.
    submit(page, page.get_by_test_id("compare"))
    expect(page.get_by_test_id("lowest-total")).to_have_count(1)
    expect(page.get_by_test_id("total-S1")).to_contain_text("1,828.00")
    expect(page.get_by_test_id("total-S1").get_by_test_id("lowest-total")).to_have_count(1)
    expect(page.get_by_test_id("lowest-price")).to_have_count(2)  # S2's top, S1's tie
    screenshot(page, "procurement-3-comparison")
    phone = new_context(phone=True).new_page()
    login(phone, base, "clerk", PASSWORD)
    go(phone, base + reverse("procurement:rfq_compare", args=[rfq.number]))
    screenshot(phone, "procurement-3-comparison-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1

    # Award to S2 (not the lowest total) without a reason: refused, naming the field; then to S1.
    page.locator("#id_supplier").select_option(label="錦繡服飾 (S2)")
    submit(page, page.get_by_test_id("award"))
    expect(page.get_by_test_id("award-form").locator(".invalid-feedback")).to_have_count(1)
    assert not PurchaseOrder.objects.exists()
    page.locator("#id_supplier").select_option(label="華美製衣 (S1)")
    submit(page, page.get_by_test_id("award"))
    order = PurchaseOrder.objects.get()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "draft")

    # 4. The order: address and quality standard, issued, printable.
    submit(page, page.get_by_test_id("edit-order"))
    page.locator("#id_delivery_address").fill("上海市浦東新區客服中心 行政部倉庫")
    page.locator("#id_quality_standard").fill("GB/T 2660-2017 一等品")
    submit(page, page.get_by_test_id("save"))
    submit(page, page.get_by_test_id("issue-order"))
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "issued")
    pdf = page.request.get(base + reverse("procurement:order_pdf", args=[order.number]))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    screenshot(page, "procurement-4-order-issued")

    # 5. The delivery: 2 tops in M fail the quality check (photo); everything else passes.
    submit(page, page.get_by_test_id("receive"))
    lines = {line.sku.code: line for line in order.lines.select_related("sku")}
    for line in lines.values():
        page.locator(f"#id_delivered_{line.pk}").fill(str(line.quantity))
    m = lines["TOP-S-M"]
    page.locator(f"#id_accepted_{m.pk}").fill(str(m.quantity - 2))
    page.locator(f"#id_quality_ok_{m.pk}").uncheck()
    page.locator(f"#id_notes_{m.pk}").fill("2 件領口開線")
    page.locator(f"#id_photos_{m.pk}").set_input_files([{"name": "collar.png", "mimeType": "image/png", "buffer": PNG}])
    screenshot(page, "procurement-5-receipt-form")
    submit(page, page.get_by_test_id("post-receipt"))
    receipt = Receipt.objects.get()
    expect(page.get_by_test_id("receipt-status")).to_have_attribute("data-status", "posted")
    expect(page.locator("[data-testid=line-result].text-bg-danger")).to_have_count(1)
    expect(page.locator("[data-testid=line-result].text-bg-success")).to_have_count(len(lines) - 1)
    screenshot(page, "procurement-6-receipt-posted")
    assert receipt.status == "posted"
    # Stock: TOP-S-M had 2, +2 accepted (4 ordered − 2 rejected); the rejected units are a supplier issue.
    assert StockLevel.objects.get(sku=shop.cat["sku"]["TOP-S-M"], location=shop.cat["main"]).on_hand == 2 + (m.quantity - 2)
    issue = SupplierIssue.objects.get()
    assert issue.quantity == 2

    # 6. The budget page draws the chart from its data.
    go(page, base + reverse("procurement:plan_budget", args=[plan.number]))
    expect(page.get_by_test_id("budget-chart").locator("canvas")).to_have_count(1)
    screenshot(page, "procurement-7-budget")
    go(page, base + reverse("procurement:issue_detail", args=[issue.number]))
    screenshot(page, "procurement-8-issue")
    assert not console_errors(page), console_errors(page)
    assert not console_errors(phone), console_errors(phone)
