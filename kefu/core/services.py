"""Core writes: policy parameters, notifications, calendar, API tokens.

Every function here is keyword-only, runs in a transaction, validates, and
writes an audit entry; side effects (mail) run on commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kefu.core import audit, policy
from kefu.core.models import Notification, PolicyValue


@transaction.atomic
def policy_set(*, key: str, value: Any, effective_from: datetime.date, actor, note: str = "") -> PolicyValue:
    """Set a parameter from a date on (policy: every [X] is effective-dated).

    A value for the same key and date replaces the earlier one, with both in the audit log.
    """
    try:
        parsed = policy.validate(key, value)
    except ValidationError as e:
        raise ValidationError({"value": e.messages}) from e
    param = policy.definition(key)
    row = PolicyValue.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
    before = audit.snapshot(row, ["value", "note"]) if row else None
    if row is None:
        row = PolicyValue(key=key, effective_from=effective_from)
    row.value = param.to_json(parsed)
    row.note = note
    row.created_by = actor
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="policy.set",
        obj=row,
        changes=audit.diff(before, audit.snapshot(row, ["value", "note"])) | {"effective_from": [None, str(effective_from)]},
        reason=note,
    )
    return row


def notify(*, recipients: Iterable[Any], title: str, body: str = "", url: str = "", email: bool = True) -> list[Notification]:
    """In-app notifications, with an e-mail copy after the transaction commits."""
    users = [u for u in recipients if u is not None]
    rows = Notification.objects.bulk_create(
        [Notification(recipient=u, title=str(title)[:200], body=str(body), url=url) for u in users]
    )
    if email:
        addresses = [u.email for u in users if getattr(u, "email", "")]
        if addresses:
            link = f"{settings.SITE_ROOT.rstrip('/')}{url}" if url else ""
            message = "\n\n".join(part for part in (str(body), link) if part)

            def _send() -> None:
                send_mail(str(title), message, None, addresses, fail_silently=True)

            transaction.on_commit(_send)
    return rows


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all of them when no ids are given)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())
