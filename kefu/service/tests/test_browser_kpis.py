"""In a real browser: an agent reads her KPI page with its trend charts; a customer answers a
survey on a phone; a team lead draws evaluation evidence (issue 3 items 4–6).

Runs Debian's Chromium through Playwright against the live server (kefu/browser_testing.py);
the demo company and its six months of interactions are seeded for each test.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.demo import build_demo
from kefu.people.models import Employee
from kefu.service import surveys
from kefu.service.demo import build_service_demo
from kefu.service.models import EvidenceDraw, Interaction, SurveyAnswer


@pytest.fixture
def demo(live_server):
    report = build_demo()
    build_service_demo()
    return report


def test_agent_reads_her_kpis_with_trend_charts(demo, live_server, page):
    login(page, live_server.url, "agent")
    menu = page.get_by_test_id("nav-service")  # the app's pages sit in one menu
    menu.click()
    menu.get_by_role("link", name=re.compile("我的績效|My KPIs")).click()
    expect(page.get_by_test_id("page-title")).to_be_visible()
    assert page.url.startswith(live_server.url + reverse("service:kpi_mine"))
    # The cards carry her figures; the charts are drawn (ECharts renders an <svg> into each).
    expect(page.get_by_test_id("kpi-handled")).to_be_visible()
    handled = page.get_by_test_id("kpi-handled").locator(".kpi-value").inner_text()
    assert handled.strip().isdigit()
    for chart in ("chart-sla", "chart-volume", "chart-minutes", "chart-rating"):
        expect(page.locator(f"#{chart} svg")).to_have_count(1)
    # Last month, then weeks: the trend table follows.
    page.get_by_test_id("period-previous").click()
    expect(page.get_by_test_id("kpi-trend-table").locator("tbody tr")).to_have_count(6)
    screenshot(page, "kpis-agent-desktop-zh-hant")
    page.get_by_test_id("kind-week").click()
    expect(page.get_by_test_id("kpi-trend-table").locator("tbody tr")).to_have_count(12)
    expect(page.locator("#chart-volume svg")).to_have_count(1)
    assert not console_errors(page), console_errors(page)
    # Her own only: a colleague's page is not found.
    other = Employee.objects.exclude(user__username="agent").filter(employee_no__startswith="CS").last()
    response = page.goto(live_server.url + reverse("service:kpi_agent", args=[other.employee_no]))
    assert response.status == 404


def test_agent_kpis_on_a_phone(demo, live_server, phone_page):
    page = phone_page
    login(page, live_server.url, "agent")
    page.goto(live_server.url + reverse("service:kpi_mine"))
    expect(page.locator("#chart-sla svg")).to_have_count(1)
    screenshot(page, "kpis-agent-phone-zh-hant")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not console_errors(page), console_errors(page)


def test_customer_answers_a_survey_on_a_phone(demo, live_server, phone_page):
    agent = Employee.objects.get(user__username="agent")
    interaction = (Interaction.objects.filter(agent=agent, resolved_at__isnull=False, survey_answer__isnull=True)
                   .order_by("-resolved_at").first())
    invitation = surveys.survey_issue(actor=demo.users["agent"], interaction=interaction)
    page = phone_page
    page.goto(live_server.url + surveys.survey_path(invitation))  # no login
    expect(page.get_by_test_id("survey-form")).to_be_visible()
    # Sending without stars is refused by the browser's own check first; the stars are big enough to tap.
    box = page.get_by_test_id("star-4").bounding_box()
    assert box and box["width"] >= 40 and box["height"] >= 40
    page.get_by_test_id("star-4").tap()
    expect(page.locator("#rating-4")).to_be_checked()
    page.locator("#survey-comment").fill("回覆很快，謝謝！")
    screenshot(page, "survey-phone-form-zh-hant")
    page.get_by_test_id("survey-submit").tap()
    expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    screenshot(page, "survey-phone-thanks-zh-hant")
    saved = SurveyAnswer.objects.get(interaction=interaction)
    assert (saved.rating, saved.comment, saved.agent_id) == (4, "回覆很快，謝謝！",
                                                             interaction.resolver_id or interaction.agent_id)
    page.reload()  # the browser asks to post again: the answer stays one
    page.goto(live_server.url + surveys.survey_path(invitation))
    expect(page.get_by_test_id("survey-closed")).to_have_attribute("data-reason", "answered")
    assert SurveyAnswer.objects.filter(interaction=interaction).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not console_errors(page), console_errors(page)


def test_team_lead_draws_evidence(demo, live_server, page):
    login(page, live_server.url, "lead")
    page.goto(live_server.url + reverse("service:kpi_team"))
    expect(page.get_by_test_id("team-row").first).to_be_visible()
    screenshot(page, "kpis-team-desktop-zh-hant")
    page.get_by_test_id("team-row").first.locator("a[href*='/evidence/']").click()
    expect(page.get_by_test_id("page-title")).to_be_visible()
    page.get_by_test_id("period-label").wait_for()
    # Last week (a full one), then draw three.
    page.locator("a[title]").filter(has=page.locator(".bi-chevron-left")).first.click()
    page.locator("#draw-n").fill("3")
    page.get_by_test_id("draw-submit").click()
    expect(page.get_by_test_id("draw-result")).to_be_visible()
    expect(page.get_by_test_id("drawn-table").get_by_test_id("evidence-row")).to_have_count(3)
    seed = page.get_by_test_id("draw-seed").inner_text()
    draw = EvidenceDraw.objects.get()
    assert str(draw.seed) == seed
    screenshot(page, "evidence-desktop-zh-hant")
    assert not console_errors(page), console_errors(page)
