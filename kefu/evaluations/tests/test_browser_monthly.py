"""A CS supervisor does the month's evaluation in a real browser: board → draft → reason → submit.

And the calibration results page as the supervision group reads it. Chromium through Playwright
against the live server (kefu/browser_testing.py); the database is flushed after each test, so
each test builds its own data.
"""

from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.evaluations import services
from kefu.evaluations.models import MonthlyEvaluation
from kefu.evaluations.tests.monthly_data import AFTER_MARCH, MONTH, YEAR, build_march, draft_of
from kefu.people.models import Role
from kefu.people.testing import PASSWORD, build_company, make_person
from kefu.service.tests.builders import interaction, local


def _working_hours(actor) -> None:
    """A flushed live-server database has lost migration 0002's weekly hours; the appeal window needs them."""
    from kefu.core import services as core_services
    from kefu.core.models import WorkingPeriod

    if not WorkingPeriod.objects.exists():
        for weekday in range(5):
            core_services.working_periods_set(actor=actor, weekday=weekday,
                                              ranges=[("09:00", "12:00"), ("13:00", "18:00")], reason="test")


@pytest.fixture
def company(live_server):
    c = build_company()
    _working_hours(c.sysadmin)
    build_march(SimpleNamespace(**vars(c)))
    services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)
    return c


def test_supervisor_completes_a_monthly_evaluation(company, live_server, page, phone_page):
    login(page, live_server.url, "supervisor", PASSWORD)
    page.goto(f"{live_server.url}{reverse('evaluations:monthly_board')}?period=2026-03")
    expect(page.get_by_test_id("page-title")).to_be_visible()
    expect(page.get_by_test_id("board-row")).to_have_count(2)
    expect(page.get_by_test_id("completion")).to_have_text("0 %")
    row = page.get_by_test_id("board-row").filter(has_text="王小美")
    expect(row.get_by_test_id("missing-badge")).to_be_visible()
    row.get_by_test_id("row-open").click()

    # The draft: the suggestion, the facts beside it, the missing weeks.
    expect(page.get_by_test_id("missing-weeks")).to_contain_text("2026-W12, 2026-W13")
    expect(page.get_by_test_id("suggested-attitude")).to_have_text("25.5")
    expect(page.get_by_test_id("suggested-efficiency")).to_have_text("13")
    expect(page.get_by_test_id("sla")).to_contain_text("70.00 %")
    screenshot(page, "monthly-draft-desktop")

    # 25.5 → 20 moves 5.5 points: more than 3, so a reason is asked for.
    page.get_by_test_id("points-attitude").fill("20")
    page.get_by_test_id("points-teamwork").fill("18")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error-attitude_reason")).to_be_visible()
    assert draft_of(company.agent.employee).status == MonthlyEvaluation.Status.DRAFT
    screenshot(page, "monthly-draft-reason-needed")
    page.get_by_test_id("reason-attitude").fill("本月兩次被投訴服務態度不佳")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**{reverse('evaluations:monthly_detail', args=[draft_of(company.agent.employee).pk])}")
    ev = draft_of(company.agent.employee)
    assert ev.status == MonthlyEvaluation.Status.SUBMITTED
    assert str(ev.total) == "73.50"  # 20 + 22.5 + 13 + 18

    # Back on the board: half done, the distribution drawn.
    page.goto(f"{live_server.url}{reverse('evaluations:monthly_board')}?period=2026-03")
    expect(page.get_by_test_id("completion")).to_have_text("50 %")
    expect(page.locator("#chart-distribution[data-rendered='1']")).to_be_attached()
    expect(page.locator("#chart-distribution svg")).to_be_attached()
    screenshot(page, "monthly-board-desktop")
    assert not console_errors(page), console_errors(page)

    login(phone_page, live_server.url, "supervisor", PASSWORD)
    phone_page.goto(f"{live_server.url}{reverse('evaluations:monthly_board')}?period=2026-03")
    expect(phone_page.get_by_test_id("board-row")).to_have_count(2)
    screenshot(phone_page, "monthly-board-phone")
    phone_page.goto(f"{live_server.url}{reverse('evaluations:monthly_edit', args=[draft_of(company.teammate_other_team.employee).pk])}")
    expect(phone_page.get_by_test_id("basis-attitude")).to_be_visible()
    screenshot(phone_page, "monthly-draft-phone")
    assert not console_errors(phone_page), console_errors(phone_page)


def test_calibration_results_read_plainly(live_server, page, new_context):
    c = build_company()
    card = services.scorecard_ensure_default()
    lead2 = make_person("lead2", "周子涵", c.cs1_t2, (Role.TEAM_LEAD, c.cs1_t2), employee_no="CS1012")
    items = [interaction(c.agent.employee, local(2026, 3, d, 10), source="CC", external_id=f"A-{d}",
                         subject=s, channel="chat") for d, s in ((2, "查詢帳單明細"), (3, "退款進度"), (4, "修改地址"))]
    session = services.calibration_create(actor=c.supervisor, title="三月校準會", scorecard=card, interactions=items,
                                          evaluators=[c.team_lead.employee, c.supervisor.employee, lead2.employee])
    criteria = list(services.calibration_criteria(card))
    levels = {c.team_lead: [4, 3, 5], c.supervisor: [4, 4, 4], lead2: [2, 3, 3]}
    for user, per_item in levels.items():
        for item, base in zip(items, per_item, strict=True):
            services.calibration_scores_save(actor=user, session=session, interaction=item,
                                             levels={k.pk: min(k.scale_max, base + (i % 2)) for i, k in
                                                     enumerate(criteria)})
    login(page, live_server.url, "lead2", PASSWORD)
    page.goto(f"{live_server.url}{reverse('evaluations:calibration_score', args=[session.pk])}")
    expect(page.get_by_test_id("score-item")).to_have_count(3)
    screenshot(page, "calibration-score-desktop")
    services.calibration_close(actor=c.supervisor, session=session)
    page = new_context().new_page()
    login(page, live_server.url, "inspector", PASSWORD)
    page.goto(f"{live_server.url}{reverse('evaluations:calibration_results', args=[session.pk])}")
    expect(page.get_by_test_id("alpha")).to_contain_text("α =")
    expect(page.get_by_test_id("formula")).to_contain_text("D_o")
    expect(page.get_by_test_id("leniency-row")).to_have_count(3)
    screenshot(page, "calibration-results-desktop")
    assert not console_errors(page), console_errors(page)
