"""The audit log: append-only, hash-chained entries written by every service.

    audit.record(actor=user, action="employee.update", obj=employee,
                 changes=audit.diff(before, after), reason="…")

Each entry stores the hash of the one before; ``manage.py audit_verify``
recomputes the chain and names the first entry that was altered or removed.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from kefu.core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value, stable across databases."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as ids), for diff()."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Field-level changes as {field: [before, after]}; unchanged fields are left out."""
    before, after = before or {}, after or {}
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = [old, new]
    return changes


def entry_hash(entry: AuditEntry) -> str:
    payload = {
        "at": _plain(entry.at),
        "actor": entry.actor_id,
        "actor_repr": entry.actor_repr,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "reason": entry.reason,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.label_lower


def record(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    object_repr: str | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the service's transaction."""
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        entry = AuditEntry(
            # Microseconds are kept: entries are ordered by id, and the hash covers the time exactly.
            at=timezone.now(),
            actor=user,
            actor_repr=(user.get_username() if user else str(actor or "system"))[:150],
            action=action,
            object_type=object_type_of(obj),
            object_id=str(obj.pk),
            object_repr=(object_repr if object_repr is not None else str(obj))[:200],
            changes=_plain(changes or {}),
            reason=reason or "",
            prev_hash=head.last_hash,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        head.last_hash = entry.hash
        head.save(update_fields=["last_hash"])
    return entry


def verify() -> tuple[int, AuditEntry | None, str]:
    """Walk the chain in id order. Returns (entries checked, first bad entry or None, why)."""
    prev = GENESIS
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.prev_hash != prev:
            return count, entry, "prev_hash does not match the entry before it (an entry was removed or reordered)"
        if entry_hash(entry) != entry.hash:
            return count, entry, "content does not match its hash (the entry was altered)"
        prev = entry.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != prev:
        return count, None, "the last entries of the chain were removed"
    return count, None, ""
