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
import math
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
    if isinstance(value, float) and not math.isfinite(value):
        # PostgreSQL's jsonb has no NaN or Infinity.
        return str(value)
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


def _canonical_number(value: int | float) -> str:
    """A number as the same text whichever way the database hands it back.

    PostgreSQL's jsonb stores numbers as ``numeric``: ``1e+20`` comes back as the
    integer 100000000000000000000, ``-0.0`` as ``0.0``. Writing every number as
    its plain decimal value makes the hash survive that round trip.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)
    number = decimal.Decimal(repr(value) if isinstance(value, float) else value)
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, numbers as plain decimals (see above).

    For entries without floats it is exactly ``json.dumps(sort_keys=True, ...)``.
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _canonical_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted(((str(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


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
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


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
    """Append one entry. Must run inside the service's transaction.

    The chain head row stays locked until that transaction ends, so concurrent
    writers append one after another and ids follow the chain.
    """
    if obj.pk is None:
        # Django clears pk on delete(): record a deletion before deleting.
        raise ValueError("audit.record() needs a saved object; record a deletion before delete()")
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
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


class Verification(NamedTuple):
    checked: int
    broken: AuditEntry | None  # the first bad entry; None when all are fine or the tail is gone
    reason: str  # empty when the chain is intact

    @property
    def ok(self) -> bool:
        return not self.reason


def verify() -> Verification:
    """Walk the chain in id order and name the first entry that was altered or removed.

    The head is read before the walk: entries appended while the walk runs come
    after the head's entry, so they cannot make an intact chain look cut short.
    """
    head = _head_hash()
    prev = GENESIS
    count = 0
    last: AuditEntry | None = None
    head_seen = False
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.prev_hash != prev:
            return Verification(count, entry, _(
                "its link to the entry before it is broken: an entry before it was removed, or it was altered"
            ))
        if entry_hash(entry) != entry.hash:
            return Verification(count, entry, _("its content does not match its hash: the entry was altered"))
        head_seen = head_seen or entry.hash == head
        prev = entry.hash
        last = entry
    if head_seen or (count == 0 and head in (None, GENESIS)):
        return Verification(count, None, "")
    if head in (None, GENESIS) and _head_hash() not in (None, GENESIS):
        # The very first entries were written while we walked: nothing to hold the tail against yet.
        return Verification(count, None, "")
    if head is None:
        return Verification(count, None, _("the chain head row is missing"))
    if last is None:
        return Verification(count, None, _("the chain head names an entry, but there are no entries: all were removed"))
    return Verification(count, None, _(
        "the chain head does not match the last entry #%(id)s: entries after it were removed"
    ) % {"id": last.pk})


def _head_hash() -> str | None:
    return AuditChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first()


def select_user_names(qs: models.QuerySet, field: str = "actor") -> models.QuerySet:
    """``qs`` with the user in ``field`` and, when the people app links one, her employee record.

    Pages show a person's name (``user.employee.name``) rather than a login; joining it
    here keeps that one query however many rows there are. Core does not import people,
    so the link is looked up by name.
    """
    from django.contrib.auth import get_user_model
    from django.core.exceptions import FieldDoesNotExist

    try:
        get_user_model()._meta.get_field("employee")
    except FieldDoesNotExist:
        return qs.select_related(field)
    return qs.select_related(f"{field}__employee")


def entries_for(obj: models.Model) -> models.QuerySet[AuditEntry]:
    """The audit entries about one object, newest first."""
    return AuditEntry.objects.filter(object_type=object_type_of(obj), object_id=str(obj.pk)).order_by("-id")
