"""Chat-app group bots: WeCom (企業微信), DingTalk and Feishu / Lark, beside e-mail.

A notification (kefu.core.services.notify) reaches the bots of the recipients' departments — a bot set
on a unit covers every unit below it — after the transaction commits. Each message to each bot is a
Delivery row, sent by the task worker (tasks.deliver_chat_message) and retried with exponential backoff
up to KEFU_CHAT_MAX_ATTEMPTS times. Nothing here can block or roll back the action that notified:
the work starts after commit, and every failure is caught and written to the delivery log.

Provider formats (plain-text messages):

- WeCom group robot: POST ``{"msgtype": "text", "text": {"content": …}}`` to the webhook URL
  (``…/cgi-bin/webhook/send?key=…``); success is ``{"errcode": 0}``.
- DingTalk custom robot: the same shape to ``…/robot/send?access_token=…``; with a signing secret,
  ``&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")))>``
  is added to the URL; success is ``{"errcode": 0}``.
- Feishu / Lark custom bot: POST ``{"msg_type": "text", "content": {"text": …}}``; with a signature
  secret, ``"timestamp": "<seconds>"`` and ``"sign": base64(HMAC-SHA256(key="<timestamp>\\n<secret>",
  msg=""))`` go in the body; success is ``{"code": 0}`` (older bots: ``{"StatusCode": 0}``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template import Context, Engine
from django.utils import timezone

from kefu.integrations.models import ChatHook, Delivery, MessageTemplate
from kefu.people.models import Employee

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "【Kefu】{{ title }}\n{{ body }}\n{{ link }}"
_engine = Engine(autoescape=False)


def max_attempts() -> int:
    return int(getattr(settings, "KEFU_CHAT_MAX_ATTEMPTS", 5))


def backoff(attempts: int) -> datetime.timedelta:
    """Wait before the next try after ``attempts`` failures: base × 2^(attempts−1)."""
    base = float(getattr(settings, "KEFU_CHAT_BACKOFF_SECONDS", 30))
    return datetime.timedelta(seconds=base * 2 ** max(attempts - 1, 0))


# ---- messages ----------------------------------------------------------------------------------


def render(template: str, *, event: str, title: str, body: str, url: str, recipients: list[str]) -> str:
    link = f"{settings.SITE_ROOT.rstrip('/')}{url}" if url else ""
    context = Context({"event": event, "title": title, "body": body, "link": link,
                       "recipients": "、".join(recipients)})
    text = _engine.from_string(template).render(context)
    return "\n".join(line for line in text.splitlines() if line.strip()).strip()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed request: urlencode(base64(HMAC-SHA256(secret, "timestamp\\nsecret")))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64(HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build_request(hook: ChatHook, text: str, *, now: float | None = None) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body to POST for ``hook``."""
    now = time.time() if now is None else now
    url = hook.url
    if hook.kind == ChatHook.Kind.FEISHU:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if hook.secret:
            ts = int(now)
            payload = {"timestamp": str(ts), "sign": feishu_sign(hook.secret, ts), **payload}
        return url, payload
    payload = {"msgtype": "text", "text": {"content": text}}
    if hook.kind == ChatHook.Kind.DINGTALK and hook.secret:
        ts_ms = int(now * 1000)
        url += ("&" if "?" in url else "?") + f"timestamp={ts_ms}&sign={dingtalk_sign(hook.secret, ts_ms)}"
    return url, payload


class DeliveryError(Exception):
    pass


def post(hook: ChatHook, text: str) -> None:
    """Send one message; raises DeliveryError with the reason when the bot did not take it."""
    url, payload = build_request(hook, text)
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    timeout = float(getattr(settings, "KEFU_CHAT_TIMEOUT_SECONDS", 10))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"HTTP {e.code}: {e.read(500).decode(errors='replace')}") from e
    except (urllib.error.URLError, OSError) as e:
        raise DeliveryError(str(getattr(e, "reason", e))) from e
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        return
    for key in ("errcode", "code", "StatusCode"):
        if key in answer and answer[key] not in (0, "0"):
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            raise DeliveryError(f"{key} {answer[key]}: {message}")


# ---- from a notification to deliveries -----------------------------------------------------------


def on_notified(*, recipients: list[Any], title: str, body: str, url: str, event: str) -> Callable[[], None] | None:
    """notify()'s hook: the job that queues the chat messages once the action has committed."""
    user_ids = [u.pk for u in recipients if getattr(u, "pk", None)]
    if not user_ids:
        return None

    def _queue() -> None:
        try:
            queue_deliveries(user_ids=user_ids, title=title, body=body, url=url, event=event)
        except Exception:  # never let a chat bot break the action that notified
            log.exception("Could not queue chat deliveries for %s", event)

    return _queue


def _ancestors(path: str) -> list[str]:
    """A unit's materialised path and those of every unit above it: "/1/4/9/" → "/1/", "/1/4/", "/1/4/9/"."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def hooks_for_units(paths: list[str], event: str) -> list[ChatHook]:
    """The enabled bots set on any of the units (by materialised path) or above them, for ``event``."""
    ancestors = {a for path in paths for a in _ancestors(path)}
    hooks = ChatHook.objects.filter(enabled=True, org_unit__path__in=ancestors).select_related("org_unit")
    return [h for h in hooks if h.wants(event)]


def queue_deliveries(*, user_ids: list[int], title: str, body: str, url: str, event: str) -> list[Delivery]:
    """One delivery per bot that covers any recipient (naming those it covers), in a fixed number of queries."""
    from kefu.integrations.tasks import deliver_chat_message

    people = list(Employee.objects.filter(user_id__in=user_ids).values_list("name", "org_unit__path"))
    hooks = hooks_for_units([path for _name, path in people], event)
    by_hook: dict[int, tuple[ChatHook, list[str]]] = {}
    for hook in hooks:
        names = [name for name, path in people if hook.org_unit.path in _ancestors(path)]
        if names:
            by_hook[hook.pk] = (hook, names)
    if not by_hook:
        return []
    template = MessageTemplate.objects.filter(event=event).values_list("text", flat=True).first() or DEFAULT_TEMPLATE
    with transaction.atomic():
        rows = Delivery.objects.bulk_create([
            Delivery(hook=hook, event=event,
                     text=render(template, event=event, title=title, body=body, url=url, recipients=names))
            for hook, names in by_hook.values()
        ])
    if any(d.pk is None for d in rows):
        rows = list(Delivery.objects.filter(hook_id__in=by_hook, event=event).order_by("-pk")[: len(rows)])
    for delivery in rows:
        transaction.on_commit(partial(_enqueue, deliver_chat_message, delivery.pk, None))
    return rows


def _enqueue(task: Any, delivery_id: int, run_after: datetime.datetime | None) -> None:
    try:
        if run_after is not None and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(delivery_id)
    except Exception:
        log.exception("Could not queue chat delivery %s", delivery_id)


def attempt(delivery_id: int) -> str:
    """One try of a delivery (the task's body). Returns the delivery's status afterwards."""
    from kefu.integrations.tasks import deliver_chat_message

    delivery = Delivery.objects.select_related("hook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (Delivery.Status.SENT, Delivery.Status.FAILED):
        return delivery.status if delivery else "missing"
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now():
        # Not due yet: a backend that cannot defer ran it early, or a duplicate; chat_retry queues it when due.
        return delivery.status
    # Claim this attempt: a second worker running the same task finds the count moved and stops.
    tried = delivery.attempts + 1
    claimed = Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts,
                                      status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING]
                                      ).update(attempts=tried)
    if not claimed:
        return Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)
    if not delivery.hook.enabled:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, last_error="bot disabled")
        return Delivery.Status.FAILED
    try:
        post(delivery.hook, delivery.text)
    except DeliveryError as e:
        error = str(e)[:2000]
    except Exception as e:  # anything else is a failed try too, never a crashed worker
        error = f"{type(e).__name__}: {e}"[:2000]
    else:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now(),
                                                       next_attempt_at=None)
        return Delivery.Status.SENT
    if tried >= max_attempts():
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, last_error=error,
                                                       next_attempt_at=None)
        log.warning("Chat delivery %s failed for good after %d attempts: %s", delivery.pk, tried, error)
        return Delivery.Status.FAILED
    when = timezone.now() + backoff(tried)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.RETRYING, last_error=error,
                                                   next_attempt_at=when)
    _enqueue(deliver_chat_message, delivery.pk, when)
    return Delivery.Status.RETRYING


def retry_due(*, now: datetime.datetime | None = None) -> int:
    """Queue again the deliveries whose next try is due (``manage.py chat_retry``, for a backend
    that cannot defer tasks or a queue that lost them)."""
    from kefu.integrations.tasks import deliver_chat_message

    now = now or timezone.now()
    lost = now - datetime.timedelta(minutes=5)  # queued but never tried: the queue lost it
    ids = list(Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
               .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=lost))
               .values_list("pk", flat=True))
    for pk in ids:
        _enqueue(deliver_chat_message, pk, None)
    return len(ids)
