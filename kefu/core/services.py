"""Core writes: policy parameters, notifications, calendar, API tokens, files on records (attachments.py).

Every function here is keyword-only, runs in a transaction, validates, and
writes an audit entry; side effects (mail) run on commit.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import audit, calendar, policy, registry
from kefu.core.models import ApiToken, CalendarDay, CalendarYear, Notification, PolicyValue, WorkingPeriod


@transaction.atomic
def policy_set(*, key: str, value: Any, effective_from: datetime.date, actor, note: str = "") -> PolicyValue:
    """Set a parameter from a date on (policy: every [X] is effective-dated).

    A value for the same key and date replaces the earlier one, with both in the audit log.
    A value effective before today needs a note: results already computed for
    those dates are not recomputed, so the log must say why the past changed.
    """
    try:
        parsed = policy.validate(key, value)
    except ValidationError as e:
        raise ValidationError({"value": e.messages}) from e
    note = (note or "").strip()
    if effective_from < timezone.localdate() and not note:
        raise ValidationError({"note": _("A value effective in the past needs a note saying why.")})
    param = policy.definition(key)
    row = PolicyValue.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
    before = audit.snapshot(row, ["value", "note"]) if row else None
    created = row is None
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
        changes=audit.diff(before, audit.snapshot(row, ["value", "note"]))
        | ({"effective_from": [None, str(effective_from)]} if created else {}),
        reason=note,
    )
    registry.policy_changed(key=key, effective_from=effective_from)
    return row


# Listeners of notify() (e.g. kefu.integrations' chat bots), added in an AppConfig.ready():
# ``hook(*, recipients, title, body, url, event)`` returns a callable (or None) that runs once the
# transaction commits, beside the e-mail; it must not raise (a failure there never undoes the action).
notification_hooks: list[Any] = []


def notify(*, recipients: Iterable[Any], title: str, body: str = "", url: str = "", email: bool = True,
           event: str = "notification") -> list[Notification]:
    """In-app notifications, with an e-mail copy after the transaction commits.

    ``event`` names the kind of notification (chat bots choose events and a message template by it).
    """
    users = [u for u in recipients if u is not None]
    rows = Notification.objects.bulk_create(
        [Notification(recipient=u, title=str(title)[:200], body=str(body), url=url) for u in users]
    )
    after_commit = [
        job for hook in notification_hooks
        if (job := hook(recipients=users, title=str(title), body=str(body), url=url, event=event)) is not None
    ]
    addresses = [u.email for u in users if getattr(u, "email", "")] if email else []
    if addresses or after_commit:
        link = f"{settings.SITE_ROOT.rstrip('/')}{url}" if url else ""
        message = "\n\n".join(part for part in (str(body), link) if part)

        def _send() -> None:
            if addresses:
                send_mail(str(title), message, None, addresses, fail_silently=True)
            for job in after_commit:
                job()

        transaction.on_commit(_send)
    return rows


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all of them when no ids are given)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


# API tokens. The plaintext is "kefu_<prefix>_<secret>"; only its SHA-256 is stored, and
# the plaintext is returned once, by api_token_create. Audit entries never hold it.
TOKEN_SCHEME = "kefu"
TOKEN_FIELDS = ["user_id", "name", "prefix", "revoked_at"]
# last_used_at is bookkeeping, not a change: written at most this often per token, never audited.
TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=1)


def api_token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _require_token_manager(actor, user) -> None:
    """A person manages her own tokens; a system admin (or the command line) anyone's."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return  # the system itself, e.g. manage.py create_api_token
    if actor.pk != user.pk and "sysadmin" not in registry.roles_of(actor):
        raise PermissionDenied


@transaction.atomic
def api_token_create(*, actor, user, name: str) -> tuple[ApiToken, str]:
    """A new personal API token for ``user``. Returns (token, plaintext); the plaintext is not kept."""
    _require_token_manager(actor, user)
    if not user.is_active:
        raise ValidationError({"user": _("This user is not active.")})
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user=user, name=(name or "").strip(), prefix=prefix, key_hash=api_token_hash(plaintext))
    token.full_clean()
    token.save()
    audit.record(actor=actor, action="api_token.create", obj=token,
                 changes=audit.diff(None, audit.snapshot(token, TOKEN_FIELDS)))
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token for good. Revoking a revoked token changes nothing (a double-submitted form)."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _require_token_manager(actor, token.user)
    if token.revoked_at is not None:
        return token
    before = audit.snapshot(token, TOKEN_FIELDS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="api_token.revoke", obj=token,
                 changes=audit.diff(before, audit.snapshot(token, TOKEN_FIELDS)), reason=reason)
    return token


def api_token_user(plaintext: str):
    """The active user a presented token belongs to, or None (unknown, revoked, inactive user)."""
    if not plaintext or not plaintext.startswith(f"{TOKEN_SCHEME}_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(plaintext), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # A conditional update: concurrent requests do not each write.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - TOKEN_TOUCH_INTERVAL).update(
            last_used_at=now
        )
    return token.user


# --- work calendar (see kefu/core/calendar.py for how a date is decided) ------------------------

CALENDAR_DAY_FIELDS = ["date", "kind", "hours", "note"]


def _ranges_or_error(raw: Iterable[Any] | None, field: str) -> list[tuple[datetime.time, datetime.time]]:
    try:
        return calendar.clean_ranges(list(raw or []))
    except ValidationError as e:
        raise ValidationError({field: e.messages}) from e


@transaction.atomic
def calendar_day_set(
    *, actor, date: datetime.date, kind: str, hours: Iterable[Any] | None = None, note: str = ""
) -> CalendarDay:
    """Override one date: a company day off, an extra working day, or other hours.

    Replaces an earlier override of the same date. ``hours`` are ``[["09:00", "12:00"], ...]``:
    required for kind=hours, optional for kind=working (empty: the weekday's hours, see
    calendar.py), not allowed for a day off. Also how a year chinesecalendar lacks is entered.
    """
    if kind not in CalendarDay.Kind.values:
        raise ValidationError({"kind": _("Choose day off, working day or other hours.")})
    ranges = _ranges_or_error(hours, "hours")
    if kind == CalendarDay.Kind.OFF and ranges:
        raise ValidationError({"hours": _("A day off has no working hours; leave the hours empty.")})
    if kind == CalendarDay.Kind.HOURS and not ranges:
        raise ValidationError({"hours": _("Enter this day's working hours, e.g. 09:00-12:00, 13:00-17:00.")})
    row = CalendarDay.objects.select_for_update().filter(date=date).first()
    before = audit.snapshot(row, CALENDAR_DAY_FIELDS) if row else None
    if row is None:
        row = CalendarDay(date=date)
    row.kind = kind
    row.hours = calendar.ranges_to_json(ranges)
    row.note = note
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="calendar_day.set",
        obj=row,
        changes=audit.diff(before, audit.snapshot(row, CALENDAR_DAY_FIELDS)),
        reason=note,
    )
    calendar.changed()
    registry.calendar_changed(since=date, until=date)
    return row


@transaction.atomic
def calendar_day_delete(*, actor, date: datetime.date, reason: str = "") -> None:
    """Remove the company override of one date; the date falls back to the statutory/weekly calendar."""
    from django.utils.formats import date_format

    row = CalendarDay.objects.select_for_update().filter(date=date).first()
    if row is None:
        raise ValidationError(
            {"date": _("There is no calendar override on %(date)s.") % {"date": date_format(date, "SHORT_DATE_FORMAT")}}
        )
    audit.record(
        actor=actor,
        action="calendar_day.delete",
        obj=row,
        changes=audit.diff(audit.snapshot(row, CALENDAR_DAY_FIELDS), None),
        reason=reason,
    )
    row.delete()
    calendar.changed()
    registry.calendar_changed(since=date, until=date)


@transaction.atomic
def working_periods_set(*, actor, weekday: int, ranges: Iterable[Any], reason: str = "") -> list[WorkingPeriod]:
    """Replace the ordinary working hours of one weekday (0 = Monday); no ranges: no work that weekday.

    Ranges are pairs of ``"HH:MM"`` strings or times; each must end after it starts, and
    they must not overlap. An unchanged list writes nothing.
    """
    from django.utils.dates import WEEKDAYS

    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValidationError({"weekday": _("Choose a weekday.")})
    new = _ranges_or_error(ranges, "ranges")
    existing = list(WorkingPeriod.objects.select_for_update().filter(weekday=weekday).order_by("start"))
    old = [(p.start, p.end) for p in existing]
    if old == new:
        return existing
    WorkingPeriod.objects.filter(weekday=weekday).delete()
    rows = [WorkingPeriod(weekday=weekday, start=start, end=end) for start, end in new]
    for row in rows:
        row.full_clean()
        row.save()
    audit.record(
        actor=actor,
        action="working_periods.set",
        # The first new row names the weekday's set of hours (the first old one when all were removed).
        obj=rows[0] if rows else existing[0],
        object_repr=str(WEEKDAYS[weekday]),
        changes={"weekday": [weekday, weekday], "ranges": [calendar.ranges_to_json(old), calendar.ranges_to_json(new)]},
        reason=reason,
    )
    calendar.changed()
    registry.calendar_changed(since=None, until=None)  # weekly hours apply to every date
    return rows


@transaction.atomic
def calendar_year_confirm(*, actor, year: int, note: str = "") -> CalendarYear:
    """Confirm a hand-entered year (one chinesecalendar does not cover) so the calendar computes with it.

    Refused for a year the package covers, and for a year without a single day off entered
    (every Chinese year has statutory holidays: confirming an empty year is a mistake).
    Confirming a confirmed year again changes nothing.
    """
    if isinstance(year, bool) or not isinstance(year, int) or not calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
        raise ValidationError(
            {"year": _("Enter a year from %(min)s to %(max)s.") % {"min": calendar.MIN_YEAR, "max": calendar.MAX_YEAR}}
        )
    if calendar.package_covers(year):
        raise ValidationError(
            {"year": _("%(year)s is in the built-in statutory holiday table; it needs no confirmation.") % {"year": year}}
        )
    existing = CalendarYear.objects.select_for_update().filter(year=year).first()
    if existing is not None:
        return existing
    entered = CalendarDay.objects.filter(date__year=year)
    days_off = entered.filter(kind=CalendarDay.Kind.OFF).count()
    if days_off == 0:
        raise ValidationError(
            {
                "year": _(
                    "No days off are entered for %(year)s yet. Enter the year's statutory holidays and adjusted "
                    "working days as calendar overrides first, then confirm."
                )
                % {"year": year}
            }
        )
    working = entered.exclude(kind=CalendarDay.Kind.OFF).count()
    user = actor if getattr(actor, "is_authenticated", False) else None
    row = CalendarYear(year=year, confirmed_by=user, note=note)
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="calendar_year.confirm",
        obj=row,
        changes={"year": [None, year], "days_off": [None, days_off], "working_days": [None, working]},
        reason=note,
    )
    calendar.changed()
    registry.calendar_changed(since=datetime.date(year, 1, 1), until=datetime.date(year, 12, 31))
    return row
