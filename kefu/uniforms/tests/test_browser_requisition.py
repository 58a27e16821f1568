"""The requisition workflow in a real browser (U2.2): an agent fills in her 《制服領用申請表》, her
department head approves it from his workbench, admin staff issue it from stock, and she confirms
receipt. Screenshots go to test-artifacts/ (requisition-*.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.demo import build_demo
from kefu.uniforms import services
from kefu.uniforms.models import Entitlement, Holding, Issuance, ItemType, Requisition
from kefu.uniforms.testing import build_catalogue


@pytest.fixture
def company(live_server):
    report = build_demo(agents_per_team=2)
    clerk = report.users["clerk"]
    cat = build_catalogue(clerk)
    for code, n in (("TOP-S-M", 6), ("SKT-M", 6), ("SCF-M", 6)):
        services.stock_receive(actor=clerk, sku=cat["sku"][code], location=cat["main"], quantity=n, unit_cost="50.00")
    agent = report.users["agent"].employee
    services.size_profile_set(actor=clerk, employee=agent, sizes={ItemType.TOP: cat["sizes"][1],
                                                                  ItemType.SKIRT: cat["sizes"][1]})
    assert Entitlement.objects.filter(employee=agent, reason=Entitlement.Reason.NEW_HIRE).exists()
    return report, cat


def _new_page(new_context):
    return new_context().new_page()


def test_agent_requests_head_approves_admin_issues(company, live_server, new_context):
    report, cat = company
    base = live_server.url

    # 1. The agent fills in the form (sizes come from her profile).
    agent = _new_page(new_context)
    login(agent, base, "agent")
    agent.goto(base + "/uniforms/")
    agent.get_by_test_id("home-new-requisition").click()
    expect(agent.get_by_test_id("requisition-form")).to_be_visible()
    agent.get_by_test_id("reason-choices").locator("input[value=new_hire]").check()
    top, skirt, scarf = (agent.locator(f"[data-testid=item-row][data-style={code}]") for code in ("TOP-S", "SKT", "SCF"))
    expect(top.locator("select")).to_have_value(str(cat["sku"]["TOP-S-M"].pk))
    top.locator("input[type=number]").fill("2")
    skirt.locator("input[type=number]").fill("2")
    scarf.locator("select").select_option(str(cat["sku"]["SCF-M"].pk))
    scarf.locator("input[type=number]").fill("2")
    screenshot(agent, "requisition-1-agent-form")
    with agent.expect_navigation():
        agent.get_by_test_id("submit-requisition").click()
    expect(agent.get_by_test_id("status-badge")).to_be_visible()
    number = agent.get_by_test_id("page-title").inner_text().split()[-1]
    requisition = Requisition.objects.get(number=number)
    assert requisition.status == Requisition.Status.SUBMITTED
    assert sorted((line.sku.code, line.quantity) for line in requisition.lines.all()) == [
        ("SCF-M", 2), ("SKT-M", 2), ("TOP-S-M", 2)]
    screenshot(agent, "requisition-2-agent-submitted")

    # 2. Her department head finds it on his workbench and approves it.
    head = _new_page(new_context)
    login(head, base, "head")
    todo = head.get_by_test_id("todo-list").locator("a[href*='view=approve']")
    expect(todo).to_be_visible()
    todo.click()
    head.get_by_role("link", name=number).click()
    expect(head.get_by_test_id("decision-card")).to_be_visible()
    head.get_by_test_id("decision-form").locator("textarea").fill("同意，新人兩套。")
    screenshot(head, "requisition-3-head-decides")
    with head.expect_navigation():
        head.get_by_test_id("approve").click()
    expect(head.locator(".alert-success")).to_be_visible()
    requisition.refresh_from_db()
    assert (requisition.status, requisition.approver.username) == (Requisition.Status.APPROVED, "head")

    # 3. Admin staff issue it from stock.
    clerk = _new_page(new_context)
    login(clerk, base, "clerk")
    clerk.get_by_test_id("todo-list").locator("a[href*='view=issue']").click()
    clerk.get_by_role("link", name=number).click()
    expect(clerk.get_by_test_id("issue-form")).to_be_visible()
    screenshot(clerk, "requisition-4-clerk-issue")
    with clerk.expect_navigation():
        clerk.get_by_test_id("issue").click()
    requisition.refresh_from_db()
    assert requisition.status == Requisition.Status.ISSUED
    issuance = Issuance.objects.get(requisition=requisition)
    assert (issuance.employee_name, issuance.issued_by.username) == (report.users["agent"].employee.name, "clerk")
    assert Holding.objects.filter(issuance_line__issuance=issuance).count() == 6
    expect(clerk.get_by_test_id("issuance-list")).to_contain_text(issuance.number)
    screenshot(clerk, "requisition-5-clerk-issued")

    # 4. She confirms receipt from her workbench.
    agent.goto(base + "/")
    agent.get_by_test_id("todo-list").locator("a[href*='unconfirmed=1']").click()
    agent.get_by_role("link", name=issuance.number).click()
    with agent.expect_navigation():
        agent.get_by_test_id("confirm-receipt").click()
    requisition.refresh_from_db()
    assert requisition.status == Requisition.Status.RECEIVED
    screenshot(agent, "requisition-6-agent-received")

    # The printable form opens for her.
    response = agent.request.get(base + f"/uniforms/requisitions/{number}/form.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    for page in (agent, head, clerk):
        assert not console_errors(page), console_errors(page)


def test_the_form_on_a_phone(company, live_server, phone_page):
    login(phone_page, live_server.url, "agent")
    phone_page.goto(live_server.url + "/uniforms/requisitions/new/")
    expect(phone_page.get_by_test_id("requisition-form")).to_be_visible()
    screenshot(phone_page, "requisition-7-phone-form")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not console_errors(phone_page), console_errors(phone_page)
