"""The system admin adds a signed DingTalk bot on the page; the delivery log shows a failed message."""

from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot, switch_language
from kefu.integrations import services
from kefu.integrations.models import ChatHook, Delivery
from kefu.people.testing import PASSWORD, build_company


def test_sysadmin_adds_a_bot_and_reads_the_delivery_log(live_server, page):
    c = build_company()
    wecom = services.hook_save(actor=c.sysadmin, name="二部群", org_unit=c.cs2, kind=ChatHook.Kind.WECOM,
                               url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    Delivery.objects.create(hook=wecom, event="evaluation.published", text="x", status=Delivery.Status.FAILED,
                            attempts=5, last_error="HTTP 502: Bad Gateway")
    login(page, live_server.url, "sysadmin", PASSWORD)
    switch_language(page, "en")
    page.goto(live_server.url + reverse("integrations:hooks"))
    page.locator("#id_hook-name").fill("客服一部群")
    page.locator("#id_hook-org_unit").select_option(label="客服一部")
    page.locator("#id_hook-kind").select_option("dingtalk")
    page.locator("#id_hook-url").fill("https://oapi.dingtalk.com/robot/send?access_token=abc")
    page.locator("#id_hook-secret").fill("SECsecret")
    page.locator("#id_hook-events").fill("evaluation.published")
    with page.expect_navigation():
        page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("hook-list")).to_contain_text("客服一部群")
    expect(page.get_by_test_id("hook-list")).to_contain_text("DingTalk custom robot")
    assert "SECsecret" not in page.content()
    screenshot(page, "integrations-chat-bots-desktop")
    page.goto(live_server.url + reverse("integrations:deliveries"))
    expect(page.get_by_test_id("delivery-list")).to_contain_text("HTTP 502: Bad Gateway")
    screenshot(page, "integrations-delivery-log-desktop")
    assert not console_errors(page), console_errors(page)
