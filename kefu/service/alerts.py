"""SLA alerts (policy E1.3 "no delay, no backlog"; issue 3 item 7).

A scheduled job — the django-tasks task ``sla_alerts_task`` or ``manage.py sla_alerts``
from cron, every few minutes — tells the handling agent and her team lead(s) about
deadlines that are close to breaching (due within ``KEFU_SLA_ALERT_WORKING_MINUTES``
working minutes, default 30) and about deadlines that have been breached (not done,
past due). Each alert goes out once per interaction, deadline and kind: a ``SlaAlert``
row is inserted first, and its unique constraint decides — two jobs running at once
insert it once, and only the job whose row went in sends the message.

Breaches older than ``KEFU_SLA_ALERT_LOOKBACK_DAYS`` (default 7) are left to the backlog
figures: a first run over years of imported history must not flood anyone's inbox.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from kefu.core import calendar
from kefu.core.services import notify
from kefu.people.models import Role, RoleAssignment
from kefu.service.models import Interaction, SlaAlert, SlaStored

DEADLINES: dict[str, tuple[str, str]] = {
    SlaAlert.Deadline.FIRST_REPLY: ("first_reply_status", "first_reply_due_at"),
    SlaAlert.Deadline.RESOLUTION: ("resolution_status", "resolution_due_at"),
}
# Messages list at most this many interactions; the rest are counted.
LISTED = 20


def warning_minutes() -> int:
    return int(getattr(settings, "KEFU_SLA_ALERT_WORKING_MINUTES", 30))


def lookback_days() -> int:
    return int(getattr(settings, "KEFU_SLA_ALERT_LOOKBACK_DAYS", 7))


@dataclass
class AlertRun:
    near: int = 0
    breach: int = 0
    notifications: int = 0
    by_recipient: dict[int, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.near + self.breach


def _horizon(now: datetime.datetime) -> datetime.datetime:
    """The due time up to which a deadline counts as close: ``now`` plus the warning's working minutes."""
    try:
        return calendar.add_working_hours(now, warning_minutes() / 60)
    except calendar.CalendarNotCovered:
        # The calendar of this year is not entered yet: fall back to clock minutes, still warn.
        return now + datetime.timedelta(minutes=warning_minutes())


def _candidates(deadline: str, kind: str, now: datetime.datetime, horizon: datetime.datetime):
    status, due = DEADLINES[deadline]
    already = SlaAlert.objects.filter(interaction=OuterRef("pk"), deadline=deadline, kind=kind)
    qs = Interaction.objects.filter(**{status: SlaStored.PENDING}).exclude(Exists(already))
    if kind == SlaAlert.Kind.NEAR:
        qs = qs.filter(**{f"{due}__gte": now, f"{due}__lte": horizon})
    else:
        qs = qs.filter(**{f"{due}__lt": now, f"{due}__gte": now - datetime.timedelta(days=lookback_days())})
    return qs.order_by().values_list("pk", flat=True)


def _team_leads(unit_paths: set[str], on: datetime.date) -> dict[str, list[Any]]:
    """The users holding a team-lead role over each unit path (one query)."""
    prefixes = {p for path in unit_paths for p in _prefixes(path)}
    rows = (
        RoleAssignment.objects.filter(role=Role.TEAM_LEAD, org_unit__path__in=prefixes, start_date__lte=on,
                                      user__is_active=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("user", "org_unit")
    )
    leads: dict[str, list[Any]] = defaultdict(list)
    for assignment in rows:
        for path in unit_paths:
            if path.startswith(assignment.org_unit.path) and assignment.user not in leads[path]:
                leads[path].append(assignment.user)
    return leads


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _link(interaction: Interaction) -> str:
    try:
        return reverse("service:interaction_detail", args=[interaction.pk])
    except NoReverseMatch:
        return reverse("service:kpi_mine")


def sla_alerts_run(*, now: datetime.datetime | None = None) -> AlertRun:
    """Send the alerts that are due at ``now``; safe to run often and from several workers at once."""
    now = now or timezone.now()
    horizon = _horizon(now)
    result = AlertRun()
    # (recipient, kind) -> [(interaction, deadline)], so each person gets one message per kind and run.
    inbox: dict[tuple[int, str], list[tuple[Interaction, str]]] = defaultdict(list)
    users: dict[int, Any] = {}
    with transaction.atomic():
        won: list[tuple[int, str, str]] = []
        for deadline in DEADLINES:
            for kind in (str(SlaAlert.Kind.NEAR), str(SlaAlert.Kind.BREACH)):
                ids = list(_candidates(deadline, kind, now, horizon))
                if not ids:
                    continue
                # Each run stamps its rows with its own instant: the rows carrying our stamp after the
                # insert are the ones this run won (a concurrent run's conflicting insert is skipped).
                stamp = timezone.now()
                SlaAlert.objects.bulk_create(
                    [SlaAlert(interaction_id=i, deadline=deadline, kind=kind, sent_at=stamp) for i in ids],
                    ignore_conflicts=True, batch_size=1000,
                )
                mine = SlaAlert.objects.filter(interaction_id__in=ids, deadline=deadline, kind=kind, sent_at=stamp)
                won.extend((i, deadline, kind) for i in mine.values_list("interaction_id", flat=True))
        if not won:
            return result
        interactions = {
            i.pk: i
            for i in Interaction.objects.filter(pk__in={w[0] for w in won})
            .select_related("agent__user", "agent__org_unit")
        }
        leads = _team_leads({i.agent.org_unit.path for i in interactions.values()}, timezone.localdate(now))
        for interaction_id, deadline_key, kind_key in won:
            interaction = interactions[interaction_id]
            if kind_key == SlaAlert.Kind.NEAR:
                result.near += 1
            else:
                result.breach += 1
            recipients = [interaction.agent.user, *leads.get(interaction.agent.org_unit.path, [])]
            for user in recipients:
                if user is None or not user.is_active:
                    continue
                users[user.pk] = user
                if (interaction, deadline_key) not in inbox[user.pk, kind_key]:
                    inbox[user.pk, kind_key].append((interaction, deadline_key))
        with translation.override(settings.LANGUAGE_CODE):
            for (user_id, kind_key), items in inbox.items():
                title, body = _message(kind_key, items)
                notify(recipients=[users[user_id]], title=title, body=body, url=_link(items[0][0]))
                result.notifications += 1
                result.by_recipient[user_id] = result.by_recipient.get(user_id, 0) + len(items)
    return result


def _message(kind: str, items: list[tuple[Interaction, str]]) -> tuple[str, str]:
    n = len(items)
    if kind == SlaAlert.Kind.NEAR:
        title = ngettext("%(n)s deadline is close to breaching", "%(n)s deadlines are close to breaching", n) % {"n": n}
    else:
        title = ngettext("%(n)s deadline was breached", "%(n)s deadlines were breached", n) % {"n": n}
    labels = dict(SlaAlert.Deadline.choices)
    lines = []
    for interaction, deadline in items[:LISTED]:
        _status, due_field = DEADLINES[deadline]
        due = timezone.localtime(getattr(interaction, due_field))
        lines.append(_("%(deadline)s of %(ref)s “%(subject)s” (%(agent)s): due %(due)s") % {
            "deadline": labels[deadline], "ref": str(interaction), "subject": interaction.subject or "—",
            "agent": interaction.agent.name, "due": formats.date_format(due, "SHORT_DATETIME_FORMAT"),
        })
    if n > LISTED:
        lines.append(_("… and %(n)s more.") % {"n": n - LISTED})
    return title, "\n".join(lines)


@task()
def sla_alerts_task() -> dict[str, int]:
    """The scheduled job (policy E1.3): enqueue it every few minutes, or run ``manage.py sla_alerts``."""
    result = sla_alerts_run()
    return {"near": result.near, "breach": result.breach, "notifications": result.notifications}
