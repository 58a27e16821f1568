"""Integration writes by the system admin: chat bots and message templates.

Keyword-only, in a transaction, validated, audited. A bot's secret never enters the audit log
(only whether it changed). Deliveries are written by chat.py (the notification hook and the worker).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.integrations.access import is_admin
from kefu.integrations.models import ChatHook, MessageTemplate

HOOK_FIELDS = ["org_unit_id", "name", "kind", "url", "events", "enabled"]
HOOK_EDITABLE = {"org_unit", "name", "kind", "url", "secret", "events", "enabled"}


def _require_admin(actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied


def _clean_events(events: Any) -> list[str]:
    if isinstance(events, str):
        events = events.replace("，", ",").split(",")
    return sorted({str(e).strip() for e in events or [] if str(e).strip()})


def _hook_snapshot(hook: ChatHook) -> dict[str, Any]:
    return audit.snapshot(hook, HOOK_FIELDS) | {"secret": "set" if hook.secret else ""}


@transaction.atomic
def hook_save(*, actor, hook: ChatHook | None = None, reason: str = "", **data: Any) -> ChatHook:
    """Create a bot (hook=None) or change one."""
    _require_admin(actor)
    unknown = set(data) - HOOK_EDITABLE
    if unknown:
        raise ValueError(f"hook_save cannot change {sorted(unknown)}")
    if "events" in data:
        data["events"] = _clean_events(data["events"])
    if hook is None:
        before = None
        hook = ChatHook()
    else:
        hook = ChatHook.objects.select_for_update().get(pk=hook.pk)
        before = _hook_snapshot(hook)
    for key, value in data.items():
        setattr(hook, key, value)
    if hook.kind == ChatHook.Kind.WECOM and hook.secret:
        raise ValidationError({"secret": _("WeCom group robots do not sign requests; leave the secret empty.")})
    hook.full_clean()
    hook.save()
    audit.record(actor=actor, action="chat_hook.create" if before is None else "chat_hook.update", obj=hook,
                 changes=audit.diff(before, _hook_snapshot(hook)), reason=reason)
    return hook


@transaction.atomic
def hook_delete(*, actor, hook: ChatHook, reason: str = "") -> None:
    _require_admin(actor)
    hook = ChatHook.objects.select_for_update().get(pk=hook.pk)
    audit.record(actor=actor, action="chat_hook.delete", obj=hook, changes=audit.diff(_hook_snapshot(hook), None),
                 reason=reason)
    hook.delete()


@transaction.atomic
def template_save(*, actor, event: str, text: str) -> MessageTemplate | None:
    """Set the chat message of ``event``; an empty text removes it (the default template applies)."""
    _require_admin(actor)
    event = (event or "").strip()
    if not event:
        raise ValidationError({"event": _("This field is required.")})
    row = MessageTemplate.objects.select_for_update().filter(event=event).first()
    before = audit.snapshot(row, ["event", "text"]) if row else None
    if not (text or "").strip():
        if row is not None:
            audit.record(actor=actor, action="message_template.delete", obj=row, changes=audit.diff(before, None))
            row.delete()
        return None
    from django.template import Engine, TemplateSyntaxError

    try:
        Engine(autoescape=False).from_string(text)
    except TemplateSyntaxError as e:
        raise ValidationError({"text": str(e)}) from e
    row = row or MessageTemplate(event=event)
    row.text = text
    row.full_clean()
    row.save()
    audit.record(actor=actor, action="message_template.set", obj=row,
                 changes=audit.diff(before, audit.snapshot(row, ["event", "text"])))
    return row
