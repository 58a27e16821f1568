"""Evaluations in a real browser (Chromium through Playwright):

1. a team lead evaluates last week of her agent from the team board, with evidence picked and
   drawn from the agent's interactions, and submits; the agent reads and acknowledges it;
2. an agent appeals her submitted monthly evaluation; her department head adjusts it; it is final.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.evaluations import services
from kefu.evaluations.models import Appeal, MonthlyEvaluation, WeeklyEvaluation
from kefu.people.demo import build_demo
from kefu.service.tests.builders import interaction


@pytest.fixture
def demo(live_server):
    return build_demo(agents_per_team=3)


def _last_week() -> tuple[datetime.date, str]:
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    iso = monday.isocalendar()
    return monday, f"{iso.year}-W{iso.week:02d}"


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def test_team_lead_evaluates_a_week_with_evidence(demo, live_server, page, new_context):
    agent = demo.users["agent"].employee
    monday, week_key = _last_week()
    chats = [interaction(agent, _at(monday + datetime.timedelta(days=d), 10), channel="chat",
                         subject=subject, recording_url=f"https://helpdesk.example.com/chat/{d}")
             for d, subject in ((0, "退款進度查詢"), (1, "帳單地址變更"), (2, "產品保固問題"))]
    interaction(agent, _at(monday + datetime.timedelta(days=3), 15), channel="phone", kind="complaint",
                subject="送貨延誤投訴")

    login(page, live_server.url, "lead")
    page.goto(live_server.url + reverse("evaluations:weekly_board"))
    expect(page.get_by_test_id("page-title")).to_be_visible()
    row = page.locator(f"[data-testid=board-row][data-agent='{agent.employee_no}']")
    cell = row.locator(f"[data-testid=cell][data-week='{week_key}']")
    expect(cell).to_have_attribute("data-state", "late")  # last week, not done: late
    screenshot(page, "evaluations-weekly-board-before")
    with page.expect_navigation():
        cell.get_by_test_id("start").click()
    assert "/edit/" in page.url

    # Evidence: draw one of her chats at random (chat channel filter), then tick another one.
    page.get_by_test_id("picker-filters").locator("select").select_option("chat")
    with page.expect_navigation():
        page.get_by_test_id("picker-filters").locator("button[type=submit]").click()
    expect(page.get_by_test_id("candidates-row")).to_have_count(3)  # the complaint call is filtered out
    page.locator("#draw-n").fill("1")
    with page.expect_navigation():
        page.get_by_test_id("draw").click()
    expect(page.get_by_test_id("chosen-row")).to_have_count(1)
    expect(page.get_by_test_id("candidates-row")).to_have_count(2)  # the filter is kept
    page.get_by_test_id("candidates-row").first.locator("input[type=checkbox]").check()
    with page.expect_navigation():
        page.get_by_test_id("add-evidence").click()
    expect(page.get_by_test_id("chosen-row")).to_have_count(2)
    assert set(WeeklyEvaluation.objects.get(agent=agent).evidence.values_list("interaction_id", flat=True)) <= {
        c.pk for c in chats}

    # Methods and scores: 4 everywhere, customer satisfaction not applicable, one comment.
    form = page.get_by_test_id("evaluation-form")
    form.locator("label[for=m-chat]").click()
    ev = WeeklyEvaluation.objects.get(agent=agent)
    for c in ev.scorecard.criteria.filter(dimension__in=["attitude", "ability", "efficiency"]):
        value = "na" if c.code == "customer_satisfaction" else "4"
        form.locator(f"label[for=s{c.pk}-{value}]").click()
    comm = ev.scorecard.criteria.get(code="communication")
    form.locator(f"#comment-{comm.pk}").fill("解釋退款流程清楚，語氣親切。")
    form.locator("#notes").fill("抽查兩段聊天記錄。")
    screenshot(page, "evaluations-weekly-form")
    with page.expect_navigation():
        form.get_by_test_id("submit").click()
    expect(page.get_by_test_id("weekly-fields")).to_be_visible()  # the evaluation's page
    ev.refresh_from_db()
    assert ev.status == WeeklyEvaluation.Status.SUBMITTED
    # attitude: 4, 4, N/A → 75 %; ability 4, 4, 4 → 75 %; efficiency 4, 4 → 75 %
    assert (ev.attitude_pct, ev.ability_pct, ev.efficiency_pct) == (Decimal("75.00"),) * 3
    assert ev.evidence.count() == 2 and ev.evidence.filter(draw_seed__isnull=False).count() == 1
    expect(page.get_by_test_id("pct-attitude")).to_contain_text("75.00")
    expect(page.get_by_test_id("evidence-row")).to_have_count(2)
    screenshot(page, "evaluations-weekly-detail-lead")
    assert not console_errors(page), console_errors(page)

    page.goto(live_server.url + reverse("evaluations:weekly_board"))
    expect(row.locator(f"[data-testid=cell][data-week='{week_key}']")).to_have_attribute("data-state", "submitted")

    # The agent reads it from her list and acknowledges it.
    agent_page = new_context(phone=True).new_page()  # agents read theirs on the phone
    login(agent_page, live_server.url, "agent")
    agent_page.goto(live_server.url + reverse("evaluations:mine"))
    expect(agent_page.get_by_test_id("weekly-row")).to_have_count(1)
    with agent_page.expect_navigation():
        agent_page.get_by_test_id("weekly-row").locator("a").first.click()
    expect(agent_page.get_by_test_id("score-communication")).to_contain_text("解釋退款流程清楚")
    with agent_page.expect_navigation():
        agent_page.get_by_test_id("acknowledge").click()
    ev.refresh_from_db()
    assert ev.status == WeeklyEvaluation.Status.ACKNOWLEDGED
    screenshot(agent_page, "evaluations-weekly-detail-agent")
    assert not console_errors(agent_page), console_errors(agent_page)


def test_agent_appeals_a_monthly_evaluation(demo, live_server, page, new_context):
    agent = demo.users["agent"].employee
    supervisor = demo.users["supervisor"]
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month = first - datetime.timedelta(days=1)
    # Seeded through the services: the month's drafts, the supervisor's points, her submission.
    services.monthly_drafts_create(actor=supervisor, year=last_month.year, month=last_month.month)
    ev = MonthlyEvaluation.objects.get(agent=agent, year=last_month.year, month=last_month.month)
    services.monthly_draft_update(actor=supervisor, evaluation=ev, points={
        "attitude": Decimal("24"), "ability": Decimal("25.5"), "efficiency": Decimal("15"), "teamwork": Decimal("14"),
    }, comment="本月表現穩定。")
    ev = services.monthly_submit(actor=supervisor, evaluation=ev)

    login(page, live_server.url, "agent")
    # The workbench asks her to acknowledge or appeal.
    expect(page.locator("main")).to_contain_text(ev.period_label)
    page.goto(live_server.url + reverse("evaluations:mine"))
    with page.expect_navigation():
        page.get_by_test_id("monthly-row").locator("a").first.click()
    expect(page.get_by_test_id("total")).to_have_text("78.50")
    expect(page.get_by_test_id("appeal-deadline")).to_be_visible()
    page.locator("#appeal-reason").fill("本月團隊培訓由我主講，團隊協作分數偏低。")
    screenshot(page, "evaluations-monthly-appeal-form")
    with page.expect_navigation():
        page.get_by_test_id("appeal").click()
    ev.refresh_from_db()
    assert ev.status == MonthlyEvaluation.Status.APPEALED
    expect(page.get_by_test_id("appeal")).to_contain_text("團隊培訓")
    screenshot(page, "evaluations-monthly-appealed-agent")
    assert not console_errors(page), console_errors(page)

    head_page = new_context().new_page()
    login(head_page, live_server.url, "head")
    head_page.goto(live_server.url + reverse("evaluations:appeals"))
    with head_page.expect_navigation():
        head_page.get_by_test_id("open-appeal").locator("a").first.click()
    head_page.locator("#adjust-teamwork").fill("17.5")
    head_page.locator("label[for=d-adjust]").click()
    head_page.locator("#decision-reason").fill("培訓記錄屬實，團隊協作調整為 17.5 分。")
    screenshot(head_page, "evaluations-appeal-decide")
    with head_page.expect_navigation():
        head_page.get_by_test_id("decide").click()
    ev.refresh_from_db()
    assert (ev.status, ev.total, ev.teamwork) == (MonthlyEvaluation.Status.FINAL, Decimal("82.00"), Decimal("17.50"))
    assert Appeal.objects.get(evaluation=ev).decision == Appeal.Decision.ADJUST
    expect(head_page.get_by_test_id("total")).to_have_text("82.00")
    screenshot(head_page, "evaluations-monthly-final")
    assert not console_errors(head_page), console_errors(head_page)
