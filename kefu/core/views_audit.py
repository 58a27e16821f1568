"""The audit log pages: the filtered log, one entry, and an Excel export of the filtered log.

For HR, the supervision group and system admins (``access_rules.AUDIT_READERS``).
Anyone else gets 403 for the log (a page, not an object) and 404 for an entry.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import conditional_escape as esc
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access, audit, tabular
from kefu.core.access_rules import reads_audit
from kefu.core.links import pk_url
from kefu.core.models import AuditEntry
from kefu.core.templatetags.kefu_audit import changes_text, object_type_label, resolve_references

PER_PAGE = 50
EXPORT_LIMIT = 50_000
FILTER_FIELDS = ("date_from", "date_to", "actor", "action", "object_type", "object_id", "q")


def object_type_choices() -> list[tuple[str, str]]:
    """Kefu's own models and the user model, by their names: what audit entries are about."""
    user_model = get_user_model()
    models = [m for m in apps.get_models() if m.__module__.startswith("kefu.") or m is user_model]
    choices = sorted(((m._meta.label_lower, str(m._meta.verbose_name)) for m in models), key=lambda c: c[1])
    return [("", _("Any")), *choices]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d")


def _text_input(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control form-control-sm", **attrs})


def _attrs(attrs: dict[str, Any]) -> str:
    """HTML attributes as Django's ``attrs.html`` writes them (True: the bare name; False: left out)."""
    return "".join(
        f" {esc(name)}" if value is True else f' {esc(name)}="{esc(value)}"'
        for name, value in attrs.items() if value is not False
    )


class _ManyOptionsSelect(forms.Select):
    """A select of a hundred options (the object types) written in Python: the same markup as Django's
    ``select.html``, without rendering a template for each option on every view of the log."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{esc(group_name)}">')
            parts.extend(f'\n  <option value="{esc(option["value"])}"{_attrs(option["attrs"])}>'
                         f'{esc(option["label"])}</option>\n' for option in group_choices)  # the include's newline
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value is escaped above


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=_date_input())
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=_date_input())
    actor = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=150,
                            widget=_text_input(placeholder=gettext_lazy("name or login")))
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=80,
                             widget=_text_input(placeholder="employee.update"))
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False,
                                    widget=_ManyOptionsSelect(attrs={"class": "form-select form-select-sm"}))
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64, widget=_text_input())
    q = forms.CharField(label=gettext_lazy("Text"), required=False, max_length=200,
                        widget=_text_input(placeholder=gettext_lazy("in the reason or the object")))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        object_type = self.fields["object_type"]
        assert isinstance(object_type, forms.ChoiceField)
        object_type.choices = object_type_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filter(self, qs: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        # Dates are the company's local days: [00:00 of the first, 00:00 after the last).
        if data.get("date_from"):
            qs = qs.filter(at__gte=datetime.datetime.combine(data["date_from"], datetime.time.min, tzinfo=tz))
        if data.get("date_to"):
            day_after = data["date_to"] + datetime.timedelta(days=1)
            qs = qs.filter(at__lt=datetime.datetime.combine(day_after, datetime.time.min, tzinfo=tz))
        if actor := data.get("actor", "").strip():
            match = (Q(actor_repr__icontains=actor) | Q(actor__first_name__icontains=actor)
                     | Q(actor__last_name__icontains=actor))
            if _users_have_employees():
                match |= Q(actor__employee__name__icontains=actor)
            qs = qs.filter(match)
        if action := data.get("action", "").strip():
            qs = qs.filter(action__istartswith=action)
        if data.get("object_type"):
            qs = qs.filter(object_type=data["object_type"])
        if object_id := data.get("object_id", "").strip():
            qs = qs.filter(object_id=object_id)
        if text := data.get("q", "").strip():
            qs = qs.filter(Q(reason__icontains=text) | Q(object_repr__icontains=text))
        return qs

    def querystring(self) -> str:
        """The filters as a query string, for paging and export links."""
        if not self.is_bound or not self.is_valid():
            return ""
        return urlencode([(name, self.data[name]) for name in FILTER_FIELDS if self.data.get(name)])


def _users_have_employees() -> bool:
    try:
        get_user_model()._meta.get_field("employee")
    except FieldDoesNotExist:
        return False
    return True


def _require_reader(user) -> None:
    if not reads_audit(user):
        raise PermissionDenied


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filtered(request) -> tuple[AuditFilterForm, QuerySet[AuditEntry] | None]:
    form = AuditFilterForm(request.GET or None)
    qs = audit.select_user_names(access.visible(request.user, AuditEntry))
    if not form.is_bound:
        return form, qs
    if not form.is_valid():
        return form, None
    return form, form.filter(qs)


def audit_log(request):
    """The audit log, newest first, a page at a time by id (no COUNT over millions of rows)."""
    _require_reader(request.user)
    form, qs = _filtered(request)
    entries: list[AuditEntry] = []
    has_newer = has_older = False
    before, after = _cursor(request.GET.get("before")), _cursor(request.GET.get("after"))
    if qs is not None:
        if after is not None:
            rows = list(qs.filter(id__gt=after).order_by("id")[: PER_PAGE + 1])
            has_newer = len(rows) > PER_PAGE
            entries = rows[:PER_PAGE][::-1]
            has_older = qs.filter(id__lte=after).exists()
        else:
            if before is not None:
                qs_page = qs.filter(id__lt=before)
                has_newer = qs.filter(id__gte=before).exists()
            else:
                qs_page = qs
            rows = list(qs_page.order_by("-id")[: PER_PAGE + 1])
            has_older = len(rows) > PER_PAGE
            entries = rows[:PER_PAGE]
    query = form.querystring()
    entry_url = pk_url("core:audit_entry")
    for e in entries:
        e.url = entry_url(e.pk)  # type: ignore[attr-defined]
    return render(request, "core/audit_log.html", {
        "form": form,
        "entries": resolve_references(entries),
        "filtered": form.is_bound and qs is not None and bool(query),
        "query": query,
        "newer_url": _page_url(query, after=entries[0].pk) if has_newer and entries else "",
        "older_url": _page_url(query, before=entries[-1].pk) if has_older and entries else "",
        "first_url": _page_url(query) if before is not None or after is not None else "",
    })


def _page_url(query: str, **cursor: int) -> str:
    parts = [p for p in (query, urlencode(cursor)) if p]
    return "?" + "&".join(parts) if parts else "?"


def audit_entry(request, pk: int):
    entry = access.get_for_view(request.user, audit.select_user_names(AuditEntry.objects.all()), pk=pk)
    return render(request, "core/audit_entry.html", {
        "entry": resolve_references([entry])[0],
        "hash_ok": audit.entry_hash(entry) == entry.hash,
        "object_type_label": object_type_label(entry.object_type),
        "object_log_query": urlencode({"object_type": entry.object_type, "object_id": entry.object_id}),
    })


def audit_export(request):
    """The filtered log as an .xlsx file, newest first, at most EXPORT_LIMIT rows."""
    _require_reader(request.user)
    form, qs = _filtered(request)
    if qs is None:
        return render(request, "core/audit_log.html", {"form": form, "entries": [], "query": ""}, status=400)
    headers = [_("No."), _("Time"), _("Who"), _("Login"), _("Action"), _("Object type"), _("Object id"),
               _("Object"), _("Changes"), _("Reason")]

    def rows():
        count = 0
        for e in qs.order_by("-id")[: EXPORT_LIMIT + 1].iterator(chunk_size=2000):
            count += 1
            if count > EXPORT_LIMIT:
                yield ["", "", "", "", "", "", "", "", _("Only the newest %(n)s entries are included; narrow the "
                                                        "filters to see older ones.") % {"n": EXPORT_LIMIT}, ""]
                return
            employee = getattr(e.actor, "employee", None) if e.actor_id and _users_have_employees() else None
            yield [
                e.pk, timezone.localtime(e.at).replace(tzinfo=None), getattr(employee, "name", "") or e.actor_repr,
                e.actor_repr, e.action, object_type_label(e.object_type), e.object_id, e.object_repr,
                changes_text(e), e.reason,
            ]

    content = tabular.write_xlsx(headers, rows(), sheet_title=_("Audit log"))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.xlsx"'
    return response
