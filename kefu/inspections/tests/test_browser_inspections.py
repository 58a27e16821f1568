"""An inspector starts a planned inspection, draws the sample, records the checklist (one failure → a
finding), completes it and downloads the report (issue 8 items 2, 3, 5, 6)."""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.core.pdf import pdf_text
from kefu.evaluations.models import WeeklyEvaluation
from kefu.evaluations.tests.monthly_data import weekly
from kefu.inspections import services
from kefu.inspections.models import Finding, Inspection
from kefu.people.testing import PASSWORD, build_company


@pytest.fixture
def setup(live_server):
    c = build_company()
    for week in (41, 42, 43, 44):
        weekly(c.agent.employee, c.team_lead.employee, week, WeeklyEvaluation.Status.SUBMITTED)
    plan = services.plan_create(
        actor=c.inspector, title="考評流程月檢", topic="process", recurrence="monthly",
        methods=["document_review", "sampling"], org_unit=c.cs1, sample_sizes={"weekly_evaluation": 2},
        inspectors=[c.inspector], items=["每週日常考評是否按時完成 | E2.1", "日常考評是否附有證據 | E2.1",
                                         "月度考評是否按時定稿 | E2.2"])
    c.inspection = services.inspection_create(actor=c.inspector, plan=plan, period_start=datetime.date(2026, 10, 1),
                                              period_end=datetime.date(2026, 10, 31), title="考評流程月檢 2026-10")
    return c


def test_an_inspector_runs_an_inspection_and_prints_the_report(setup, live_server, page, tmp_path: Path):
    c = setup
    login(page, live_server.url, "inspector", PASSWORD)
    page.goto(live_server.url + reverse("inspections:inspection_list"))
    expect(page.get_by_test_id("page-title")).to_be_visible()
    screenshot(page, "inspections-list-zh")
    switch_language(page, "en")  # the button names below are the English msgids
    with page.expect_navigation():
        page.get_by_role("link", name="考評流程月檢 2026-10").click()
    expect(page.get_by_test_id("inspection-status")).to_have_attribute("data-status", "planned")
    with page.expect_navigation():
        page.get_by_test_id("inspection-start").click()
    expect(page.get_by_test_id("inspection-status")).to_have_attribute("data-status", "in_progress")

    # The sample: two of the four October weekly evaluations, with seed 7.
    form = page.get_by_test_id("sample-form")
    form.locator("input[name=seed]").fill("7")
    with page.expect_navigation():
        page.get_by_test_id("sample-draw").click()
    expect(page.get_by_test_id("sample-seed")).to_have_text("7")
    expect(page.get_by_test_id("sample-row")).to_have_count(2)
    first = page.get_by_test_id("sample-row").first.get_attribute("data-object")

    # The checklist: pass, fail with notes (→ a finding), not applicable.
    def record(order: int, result: str, notes: str = "") -> None:
        item = page.get_by_test_id(f"item-{order}")
        item.locator(f"input[name=result][value={result}]").check()
        if notes:
            item.locator("textarea[name=notes]").fill(notes)
        with page.expect_navigation():
            item.get_by_test_id("item-save").click()
        expect(page.get_by_test_id(f"item-{order}")).to_have_attribute("data-result", result)

    record(1, "pass")
    # Completing too early names the items not recorded.
    with page.expect_navigation():
        page.get_by_test_id("inspection-complete").click()
    expect(page.locator(".alert-danger, .alert-error, [role=alert]").first).to_contain_text("2. 日常考評是否附有證據")
    record(2, "fail", "W42 的考評沒有附證據")
    record(3, "na", "十月的月度考評尚在申訴期")
    finding = Finding.objects.get()
    expect(page.get_by_test_id(f"finding-{finding.pk}")).to_contain_text("日常考評是否附有證據")
    expect(page.get_by_test_id("finding-request-rectification")).to_have_attribute(
        "href", reverse("inspections:rectification_new", args=[finding.pk]))
    screenshot(page, "inspection-recording-desktop")

    page.get_by_test_id("complete-form").locator("textarea[name=summary]").fill("一項不合格，待整改")
    with page.expect_navigation():
        page.get_by_test_id("inspection-complete").click()
    expect(page.get_by_test_id("inspection-status")).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("item-form")).to_have_count(0)
    screenshot(page, "inspection-completed-desktop")

    with page.expect_download() as info:
        page.get_by_test_id("inspection-pdf").click()
    target = tmp_path / "report.pdf"
    info.value.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data).replace("\n", " ")
    assert "考評流程月檢 2026-10" in text
    assert "W42 的考評沒有附證據" in text
    assert "Seed 7" in text
    inspection = Inspection.objects.get(pk=c.inspection.pk)
    assert inspection.status == "completed" and inspection.seed == 7
    assert str(inspection.samples.order_by("order").first().object_id) == first
    assert not console_errors(page), console_errors(page)

    # The plan and the group pages, and the report page on a phone.
    page.goto(live_server.url + reverse("inspections:plan_detail", args=[inspection.plan_id]))
    expect(page.get_by_test_id("plan-items").locator("li")).to_have_count(3)
    screenshot(page, "inspection-plan-desktop")
    page.goto(live_server.url + reverse("inspections:group"))
    expect(page.get_by_test_id("member-inspector")).to_contain_text("趙文華")
    expect(page.get_by_test_id("group-missing")).to_be_visible()
    screenshot(page, "inspection-group-desktop")
    assert not console_errors(page), console_errors(page)


def test_the_inspection_page_on_a_phone(setup, live_server, phone_page):
    login(phone_page, live_server.url, "inspector", PASSWORD)
    services.inspection_start(actor=setup.inspector, inspection=setup.inspection)
    phone_page.goto(live_server.url + reverse("inspections:inspection_detail", args=[setup.inspection.pk]))
    expect(phone_page.get_by_test_id("item-form")).to_have_count(3)
    screenshot(phone_page, "inspection-recording-phone")
    assert not console_errors(phone_page), console_errors(phone_page)


def test_an_inspector_writes_a_plan(live_server, page):
    build_company()
    services.ensure_default_templates()  # the live server's database is flushed between tests
    login(page, live_server.url, "inspector", PASSWORD)
    switch_language(page, "en")
    page.goto(live_server.url + reverse("inspections:plan_new"))
    form = page.get_by_test_id("plan-form")
    form.locator("#id_title").fill("制服管理季度檢查")
    form.locator("#id_topic").select_option("uniforms")
    form.locator("#id_recurrence").select_option("quarterly")
    form.get_by_label("On-site check").check()
    form.get_by_label("Sampling").check()
    form.get_by_label("趙文華 (inspector)").check()
    form.locator("#id_size_issuance").fill("5")
    form.locator("#id_size_sku_count").fill("10")
    screenshot(page, "inspection-plan-form-desktop")
    with page.expect_navigation():
        page.get_by_test_id("plan-save").click()
    expect(page.get_by_test_id("plan-topic")).to_have_text("Uniform management by the rules")
    expect(page.get_by_test_id("plan-items").locator("li")).to_have_count(8)  # the uniforms template
    assert not console_errors(page), console_errors(page)
