"""Chat-app bots against a local HTTP server that records what it receives."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from kefu.core import services as core
from kefu.core.models import AuditEntry, Notification
from kefu.integrations import services
from kefu.integrations.models import ChatHook, Delivery, MessageTemplate
from kefu.integrations.tests.hookserver import HookServer
from kefu.integrations.tests.slapd import free_port
from kefu.people.testing import KefuTestCase, build_company

FAST = override_settings(KEFU_CHAT_BACKOFF_SECONDS=0, KEFU_CHAT_MAX_ATTEMPTS=3, KEFU_CHAT_TIMEOUT_SECONDS=5)


@FAST
class ChatDeliveryTests(KefuTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = HookServer().__enter__()
        self.addCleanup(self.server.__exit__)

    def hook(self, unit, kind, path, secret="", events=(), enabled=True, name="bot") -> ChatHook:
        return services.hook_save(actor=self.sysadmin, name=name, org_unit=unit, kind=kind,
                                  url=f"{self.server.url}{path}", secret=secret, events=list(events), enabled=enabled)

    def notify_agent(self, event="evaluation.published", title="Your evaluation is out", body="Score 92"):
        with self.captureOnCommitCallbacks(execute=True):
            core.notify(recipients=[self.agent], title=title, body=body, url="/evaluations/7/", event=event)

    def by_path(self, path):
        return [r for r in self.server.received if r.path == path]

    def test_each_provider_gets_its_own_payload_and_the_dingtalk_signature_checks_out(self):
        # The agent works in CS1-T1, under CS1, under the company CO: bots on all three reach her.
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/cgi-bin/webhook/send")
        self.hook(self.company, ChatHook.Kind.DINGTALK, "/robot/send", secret="SECdingtalk-secret")
        self.hook(self.cs1_t1, ChatHook.Kind.FEISHU, "/open-apis/bot/v2/hook/abc", secret="feishu-secret")
        before = time.time()
        self.notify_agent()
        after = time.time()
        self.assertEqual(len(self.server.received), 3)
        text = "【Kefu】Your evaluation is out\nScore 92\nhttp://127.0.0.1:8000/evaluations/7/"

        (wecom,) = self.by_path("/cgi-bin/webhook/send")
        self.assertEqual(wecom.body, {"msgtype": "text", "text": {"content": text}})
        self.assertEqual(wecom.query, {})

        (ding,) = self.by_path("/robot/send")
        self.assertEqual(ding.body, {"msgtype": "text", "text": {"content": text}})
        timestamp = ding.query["timestamp"][0]
        self.assertTrue(before * 1000 - 1 <= int(timestamp) <= after * 1000 + 1)
        # DingTalk's documented check, done here from the secret alone: HMAC-SHA256 keyed with the secret
        # over "timestamp\nsecret", base64; the URL carries it url-encoded (parse_qs decoded it).
        expected = base64.b64encode(hmac.new(b"SECdingtalk-secret", f"{timestamp}\nSECdingtalk-secret".encode(),
                                             hashlib.sha256).digest()).decode()
        self.assertEqual(ding.query["sign"], [expected])

        (feishu,) = self.by_path("/open-apis/bot/v2/hook/abc")
        self.assertEqual(feishu.body["msg_type"], "text")
        self.assertEqual(feishu.body["content"], {"text": text})
        ts = feishu.body["timestamp"]
        self.assertTrue(int(before) <= int(ts) <= int(after) + 1)
        self.assertEqual(feishu.body["sign"], base64.b64encode(
            hmac.new(f"{ts}\nfeishu-secret".encode(), b"", hashlib.sha256).digest()).decode())
        self.assertEqual(set(Delivery.objects.values_list("status", flat=True)), {Delivery.Status.SENT})

    def test_unsigned_bots_send_no_signature(self):
        self.hook(self.cs1, ChatHook.Kind.DINGTALK, "/robot/send?access_token=t1")
        self.hook(self.cs1, ChatHook.Kind.FEISHU, "/hook/f")
        self.notify_agent()
        (ding,) = self.by_path("/robot/send")
        self.assertEqual(ding.query, {"access_token": ["t1"]})
        (feishu,) = self.by_path("/hook/f")
        self.assertNotIn("sign", feishu.body)

    def test_only_the_recipients_departments_bots_for_the_event(self):
        self.hook(self.cs2, ChatHook.Kind.WECOM, "/other-department")
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/other-event", events=["uniforms.order"])
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/disabled", enabled=False)
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/this-event", events=["evaluation.published", "x"])
        self.notify_agent()
        self.assertEqual([r.path for r in self.server.received], ["/this-event"])

    def test_one_message_per_bot_naming_every_recipient(self):
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/cs1")
        services.template_save(actor=self.sysadmin, event="evaluation.published",
                               text="{{ recipients }}: {{ title }} ({{ event }})")
        with self.captureOnCommitCallbacks(execute=True):
            core.notify(recipients=[self.agent, self.team_lead, self.other_agent], title="Out",
                        event="evaluation.published")
        (got,) = self.server.received
        # other_agent is in CS2, which this bot does not cover.
        self.assertEqual(got.body["text"]["content"], "王小美、李建國: Out (evaluation.published)")

    def test_existing_callers_without_an_event_use_the_default_event(self):
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/all")
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/default-only", events=["notification"])
        with self.captureOnCommitCallbacks(execute=True):
            core.notify(recipients=[self.agent], title="Hello")
        self.assertEqual(sorted(r.path for r in self.server.received), ["/all", "/default-only"])
        self.assertEqual(Delivery.objects.filter(event="notification").count(), 2)

    def test_a_500_is_retried_then_sent(self):
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/flaky")
        self.server.responses = [(500, {"error": "busy"})]
        self.notify_agent()
        self.assertEqual(len(self.server.received), 2)
        delivery = Delivery.objects.get()
        self.assertEqual((delivery.status, delivery.attempts), (Delivery.Status.SENT, 2))
        self.assertIsNotNone(delivery.sent_at)

    def test_an_error_code_in_a_200_answer_is_a_failure_too(self):
        self.hook(self.cs1, ChatHook.Kind.DINGTALK, "/robot/send", secret="s")
        self.server.responses = [(200, {"errcode": 310000, "errmsg": "sign not match"})]
        self.notify_agent()
        delivery = Delivery.objects.get()
        self.assertEqual((delivery.status, delivery.attempts), (Delivery.Status.SENT, 2))

    def test_gives_up_after_the_maximum_attempts_and_logs_the_error(self):
        self.hook(self.cs1, ChatHook.Kind.FEISHU, "/down")
        self.server.default = (500, {"code": 9499, "msg": "down"})
        self.notify_agent()
        self.assertEqual(len(self.server.received), 3)  # KEFU_CHAT_MAX_ATTEMPTS=3
        delivery = Delivery.objects.get()
        self.assertEqual((delivery.status, delivery.attempts), (Delivery.Status.FAILED, 3))
        self.assertIn("HTTP 500", delivery.last_error)
        self.assertIsNone(delivery.next_attempt_at)

    def test_a_retry_not_yet_due_waits_for_chat_retry(self):
        import datetime
        import io

        from django.core.management import call_command
        from django.utils import timezone

        from kefu.integrations import chat

        hook = self.hook(self.cs1, ChatHook.Kind.WECOM, "/later")
        soon = timezone.now() + datetime.timedelta(minutes=10)
        delivery = Delivery.objects.create(hook=hook, event="e", text="hello", status=Delivery.Status.RETRYING,
                                           attempts=1, next_attempt_at=soon, last_error="HTTP 502")
        self.assertEqual(chat.attempt(delivery.pk), Delivery.Status.RETRYING)
        call_command("chat_retry", stdout=io.StringIO())
        self.assertEqual(self.server.received, [])
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
        out = io.StringIO()
        call_command("chat_retry", stdout=out)
        self.assertIn("1 deliveries queued", out.getvalue())
        self.assertEqual([r.body["text"]["content"] for r in self.server.received], ["hello"])
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts), (Delivery.Status.SENT, 2))

    def test_nothing_is_sent_before_commit_nor_for_a_rolled_back_action(self):
        self.hook(self.cs1, ChatHook.Kind.WECOM, "/x")
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            core.notify(recipients=[self.agent], title="t")
        self.assertEqual(self.server.received, [])
        self.assertFalse(Delivery.objects.exists())
        self.assertTrue(callbacks)


@pytest.mark.django_db(transaction=True)
@FAST
def test_the_action_commits_even_when_the_bot_is_down():
    c = build_company()
    services.hook_save(actor=c.sysadmin, name="down", org_unit=c.cs1, kind=ChatHook.Kind.WECOM,
                       url=f"http://127.0.0.1:{free_port()}/send")
    with transaction.atomic():
        _token, _plain = core.api_token_create(actor=c.agent, user=c.agent, name="mine")
        core.notify(recipients=[c.agent], title="A token was created", event="api_token.created")
    # Committed: the action and its notification stand; the delivery failed on its own.
    assert c.agent.api_tokens.filter(name="mine").exists()
    assert Notification.objects.filter(recipient=c.agent, title="A token was created").exists()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 3)
    assert delivery.last_error


@FAST
class ChatAdminPageTests(KefuTestCase):
    def test_only_the_system_admin_manages_bots(self):
        for user in (self.hr, self.agent, self.leadership):
            self.assertStatus(user, "get", "/integrations/chat-bots/", 403)
            self.assertStatus(user, "get", "/integrations/chat-bots/deliveries/", 403)
        hook = services.hook_save(actor=self.sysadmin, name="b", org_unit=self.cs1, kind=ChatHook.Kind.WECOM,
                                  url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
        self.assertStatus(self.hr, "get", f"/integrations/chat-bots/{hook.pk}/", 404)
        self.assertStatus(self.sysadmin, "get", f"/integrations/chat-bots/{hook.pk}/", 200)

    def test_admin_adds_a_signed_bot_on_the_page_and_the_secret_stays_hidden(self):
        self.login(self.sysadmin)
        response = self.client.post("/integrations/chat-bots/", {
            "hook-name": "客服一部群", "hook-org_unit": self.cs1.pk, "hook-kind": "dingtalk",
            "hook-url": "https://oapi.dingtalk.com/robot/send?access_token=abc", "hook-secret": "SECtop",
            "hook-events": "evaluation.published， uniforms.order", "hook-enabled": "on"})
        self.assertRedirects(response, "/integrations/chat-bots/")
        hook = ChatHook.objects.get()
        self.assertEqual((hook.secret, hook.events), ("SECtop", ["evaluation.published", "uniforms.order"]))
        entry = AuditEntry.objects.get(action="chat_hook.create")
        self.assertNotIn("SECtop", str(entry.changes))
        page = self.client.get("/integrations/chat-bots/")
        self.assertContains(page, "客服一部群")
        self.assertNotContains(page, "SECtop")
        # Editing without typing the secret keeps it.
        self.client.post(f"/integrations/chat-bots/{hook.pk}/", {
            "hook-name": "renamed", "hook-org_unit": self.cs1.pk, "hook-kind": "dingtalk",
            "hook-url": hook.url, "hook-secret": "", "hook-events": "", "hook-enabled": "on"})
        hook.refresh_from_db()
        self.assertEqual((hook.name, hook.secret, hook.events), ("renamed", "SECtop", []))

    def test_wecom_takes_no_secret(self):
        from django.core.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            services.hook_save(actor=self.sysadmin, name="w", org_unit=self.cs1, kind=ChatHook.Kind.WECOM,
                               url="https://qyapi.weixin.qq.com/x", secret="nope")

    def test_the_bots_page_query_count_does_not_grow_with_the_bots(self):
        """Issue 9: the bots page reads as many queries for 1 bot as for 7, of several units."""
        def add(i, unit):
            services.hook_save(actor=self.sysadmin, name=f"群{i}", org_unit=unit, kind=ChatHook.Kind.WECOM,
                               url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k{i}")

        add(0, self.cs1)
        self.login(self.sysadmin)
        self.client.get("/integrations/chat-bots/")  # warm the session
        with CaptureQueriesContext(connection) as few:
            self.client.get("/integrations/chat-bots/")
        for i, unit in enumerate([self.cs1_t1, self.cs2, self.cs2_t1, self.cs1_t2, self.cs1, self.cs2], start=1):
            add(i, unit)
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get("/integrations/chat-bots/")
        for i in range(7):
            self.assertContains(response, f"群{i}")

    def test_delivery_log_shows_status_attempts_and_error_in_bounded_queries(self):
        hook = services.hook_save(actor=self.sysadmin, name="b", org_unit=self.cs1, kind=ChatHook.Kind.WECOM,
                                  url="https://example.invalid/x")
        for i in range(5):
            Delivery.objects.create(hook=hook, event="e", text=f"m{i}", status=Delivery.Status.FAILED, attempts=5,
                                    last_error=f"HTTP 502: bad gateway {i}")
        self.login(self.sysadmin)
        self.client.get("/integrations/chat-bots/deliveries/")  # warm the session and nav caches
        with CaptureQueriesContext(connection) as five:
            response = self.client.get("/integrations/chat-bots/deliveries/")
        self.assertContains(response, "HTTP 502: bad gateway 4")
        self.assertContains(response, "Failed", count=5)
        other = services.hook_save(actor=self.sysadmin, name="c", org_unit=self.cs2, kind=ChatHook.Kind.WECOM,
                                   url="https://example.invalid/y")
        for _i in range(10):
            Delivery.objects.create(hook=other, event="e", text="m", status=Delivery.Status.SENT, attempts=1)
        # Fifteen rows over two bots: the same number of queries (one for the log itself).
        with self.assertNumQueries(len(five)):
            response = self.client.get("/integrations/chat-bots/deliveries/")
        self.assertContains(response, "Sent", count=10)

    def test_message_template_saved_on_the_page(self):
        self.login(self.sysadmin)
        self.client.post("/integrations/chat-bots/templates/", {"tpl-event": "evaluation.published",
                                                               "tpl-text": "{{ title }}!"})
        self.assertEqual(MessageTemplate.objects.get().text, "{{ title }}!")
        self.client.post("/integrations/chat-bots/templates/", {"tpl-event": "evaluation.published", "tpl-text": ""})
        self.assertFalse(MessageTemplate.objects.exists())
        self.assertEqual(get_user_model().objects.filter(username="sysadmin").count(), 1)
