"""Audit display: ``{% audit_changes entry %}`` and ``{% object_history obj %}``.

    {% load kefu_audit %}
    {% object_history employee %}

``object_history`` lists what the audit log holds about one object, newest
first. It does not check access: the page that shows the object already did.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from typing import Any

from django import template
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import conditional_escape as esc
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.access_rules import reads_audit
from kefu.core.models import AuditEntry

register = template.Library()

HISTORY_LIMIT = 20


@dataclass(frozen=True)
class ChangeRow:
    field: str
    label: str
    before: str | None  # None: there was no value
    after: str | None


def model_for(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    model = model_for(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    return _fields_by_name(model).get(name)


@functools.cache
def _fields_by_name(model: type[models.Model]) -> dict[str, models.Field]:
    """A model's concrete fields by name and by column attribute (``org_unit`` and ``org_unit_id``)."""
    fields: dict[str, models.Field] = {}
    for f in reversed(model._meta.concrete_fields):  # the first field of a name wins, as in a scan in order
        fields[f.attname] = f
        fields[f.name] = f
    return fields


def _choice_labels(field: models.Field) -> dict[str, str]:
    """``{stored value: label}`` of a field with choices, in the active language (once per field and language)."""
    key = (field, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = _CHOICE_LABELS[key] = {str(k): str(v) for k, v in field.flatchoices}
    return labels


_CHOICE_LABELS: dict[tuple[models.Field, str | None], dict[str, str]] = {}


def _pair(value: Any) -> tuple[Any, Any]:
    return (value[0], value[1]) if isinstance(value, list) and len(value) == 2 else (None, value)


def resolve_references(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Name the records the entries' foreign keys point at (a team, a finding, a person), one query per
    related model for the whole list; ``change_rows`` shows the names instead of bare ids."""
    wanted: dict[type[models.Model], set[str]] = {}
    for entry in entries:
        model = model_for(entry.object_type)
        for name, pair in (entry.changes.items() if isinstance(entry.changes, dict) else ()):
            field = _field(model, name)
            if isinstance(field, models.ForeignKey):
                wanted.setdefault(field.related_model, set()).update(  # type: ignore[arg-type]
                    str(v) for v in _pair(pair) if v not in (None, "")
                )
    names: dict[tuple[type[models.Model], str], str] = {}
    user_model = get_user_model()
    for related, ids in wanted.items():
        manager: Any = related._default_manager
        if related is user_model:
            manager = manager.select_related("employee")  # a person by her name, not her login
        try:
            found = manager.in_bulk([i for i in ids if i.isdigit()])
        except (ValueError, TypeError):  # a key that is not a number: leave the ids as they are
            continue
        names.update(((related, str(pk)), getattr(getattr(obj, "employee", None), "name", None) or str(obj))
                     for pk, obj in found.items())
    for entry in entries:
        entry.reference_names = names  # type: ignore[attr-defined]
    return entries


def display_value(field: models.Field | None, value: Any,
                  names: dict[tuple[type[models.Model], str], str] | None = None) -> str | None:
    """A stored audit value as people read it: choice labels, local dates, Yes/No, named records."""
    if value is None or value == "":
        return None
    if names and isinstance(field, models.ForeignKey) and (field.related_model, str(value)) in names:
        return names[(field.related_model, str(value))]  # type: ignore[index]
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        return ", ".join(str(v["name"]) for v in value)  # files: their names
    if field is not None and field.choices:
        labels = _choice_labels(field)
        if str(value) in labels:
            return labels[str(value)]
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    elif isinstance(field, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if isinstance(day, datetime.date):
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def change_rows(entry: AuditEntry) -> list[ChangeRow]:
    """The entry's field-level changes, labelled with the fields' names where the model is known."""
    model = model_for(entry.object_type)
    names = getattr(entry, "reference_names", None)  # set by resolve_references
    rows = []
    changes = entry.changes if isinstance(entry.changes, dict) else {"": [None, entry.changes]}
    for name, pair in changes.items():
        before, after = _pair(pair)
        field = _field(model, name)
        label = str(field.verbose_name) if field is not None else name
        rows.append(ChangeRow(name, label, display_value(field, before, names), display_value(field, after, names)))
    return rows


def changes_text(entry: AuditEntry) -> str:
    """The changes on one line, for exports."""
    return "; ".join(f"{r.label}: {r.before or '—'} → {r.after or '—'}" for r in change_rows(entry))


@register.filter
def audit_object_type(object_type: str) -> str:
    return object_type_label(object_type)


@register.simple_tag
def audit_changes(entry: AuditEntry) -> SafeString:
    """The entry's change rows as a list (built here, not by a template: the log shows hundreds of rows)."""
    rows = change_rows(entry)
    if not rows:
        return format_html('<span class="small text-muted">{}</span>\n', _("No field changes recorded."))
    before, after = escape(_("before")), escape(_("after"))
    no_before = mark_safe(f'<span class="text-muted" title="{before}">—</span>')
    no_after = mark_safe(f'<span class="text-muted" title="{after}">—</span>')
    arrow = mark_safe(f'<i class="bi bi-arrow-right text-muted" aria-label="{escape(_("changed to"))}"></i>')
    parts = ['\n<dl class="audit-changes row mb-0 gx-2" data-testid="audit-changes">\n  ']
    for row in rows:
        was = no_before if row.before is None else f'<del title="{before}">{esc(row.before)}</del>'
        now = no_after if row.after is None else f'<ins title="{after}">{esc(row.after)}</ins>'
        parts.append(f'\n  <dt class="col-12 col-sm-4 col-xl-3 fw-normal text-muted text-break">{esc(row.label)}</dt>\n'
                     f'  <dd class="col-12 col-sm-8 col-xl-9 mb-1 text-break">\n    {was}\n    {arrow}\n    {now}\n  </dd>\n  ')
    parts.append("\n</dl>\n\n")
    return mark_safe("".join(parts))  # every part is escaped above


@register.inclusion_tag("includes/object_history.html", takes_context=True)
def object_history(context, obj: models.Model | None, limit: int = HISTORY_LIMIT) -> dict[str, Any]:
    if obj is None or obj.pk is None:
        return {"entries": [], "more": False, "obj": obj}
    rows = resolve_references(list(audit.select_user_names(audit.entries_for(obj))[: limit + 1]))
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "entries": rows[:limit],
        "more": len(rows) > limit,
        "limit": limit,
        "obj": obj,
        "object_type": audit.object_type_of(obj),
        "object_id": str(obj.pk),
        "can_read_log": user is not None and reads_audit(user),
    }
