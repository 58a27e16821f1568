"""Policy parameters (POLICY.md, last table): the list by clause, and one parameter's history.

Every role but the agent reads them; only the system admin sets a value
(``access_rules``). A value applies from its date on; results already computed
stay as they were (DESIGN.md: results are computed under the parameters in
force on the date they concern), which the page says where it matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import audit, policy, services
from kefu.core.access_rules import edits_policy, reads_policy
from kefu.core.forms_policy import PolicyValueForm
from kefu.core.models import PolicyValue

# The clauses parameters belong to, by their POLICY.md headings.
CLAUSE_TITLES = {
    "G3.1": gettext_lazy("Fair and impartial"),
    "E1.1": gettext_lazy("Service attitude"),
    "E1.3": gettext_lazy("Work efficiency"),
    "E2.2": gettext_lazy("Monthly evaluation"),
    "E2.3": gettext_lazy("Annual evaluation"),
    "E3.1": gettext_lazy("Pay"),
    "E3.3": gettext_lazy("Training and coaching"),
    "U1.2": gettext_lazy("Procurement"),
    "U2.1": gettext_lazy("Issuance standard"),
    "U3.2": gettext_lazy("Use and maintenance"),
    "U4.1": gettext_lazy("Renewal and scrapping"),
    "S2": gettext_lazy("Inspection plan"),
    "S3": gettext_lazy("Rectification"),
}
# POLICY.md's order: §1 general, §2 evaluation, §3 uniforms, §4 supervision.
SECTION_ORDER = {"G": 1, "E": 2, "U": 3, "S": 4}


def clause_sort_key(clause: str) -> tuple:
    letter, numbers = clause[:1], re.findall(r"\d+", clause)
    return (SECTION_ORDER.get(letter, 9), letter, *(int(n) for n in numbers))


@dataclass(frozen=True)
class ValuePart:
    label: Any  # None for a single value
    value: Any


def value_parts(param: policy.Parameter, value: Any) -> list[ValuePart]:
    """A value as labelled pieces for display; numbers stay numbers so templates localise them."""
    if param.kind == "parts" and isinstance(value, dict):
        return [ValuePart(label, value.get(name)) for name, label in param.parts]
    if param.kind == "choice":
        return [ValuePart(None, dict(param.choices).get(value, value))]
    return [ValuePart(None, value)]


def stored_parts(param: policy.Parameter, row: PolicyValue) -> list[ValuePart]:
    try:
        return value_parts(param, param.parse(row.value))
    except ValidationError:
        # A value stored under older rules: show it as it is rather than fail the page.
        return [ValuePart(None, row.value)]


def _require_reader(user) -> None:
    if not reads_policy(user):
        raise PermissionDenied


def _parameter(key: str) -> policy.Parameter:
    try:
        return policy.definition(key)
    except policy.UnknownParameter as e:
        raise Http404 from e


def policy_list(request):
    _require_reader(request.user)
    today = timezone.localdate()
    groups: dict[str, list[dict[str, Any]]] = {}
    for key, state in policy.overview(on=today).items():
        param = state.param
        groups.setdefault(param.clause, []).append({
            "key": key,
            "param": param,
            "parts": value_parts(param, state.value),
            "since": state.current.effective_from if state.current else None,
            "next": state.scheduled[0] if state.scheduled else None,
            "next_parts": stored_parts(param, state.scheduled[0]) if state.scheduled else [],
        })
    clauses = [
        {"clause": clause, "title": CLAUSE_TITLES.get(clause, ""), "rows": groups[clause]}
        for clause in sorted(groups, key=clause_sort_key)
    ]
    return render(request, "core/policy_list.html", {
        "clauses": clauses, "today": today, "can_edit": edits_policy(request.user),
    })


def policy_detail(request, key: str):
    _require_reader(request.user)
    param = _parameter(key)
    can_edit = edits_policy(request.user)
    today = timezone.localdate()
    form = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = PolicyValueForm(param, request.POST)
        if form.is_valid():
            try:
                row = services.policy_set(
                    key=key, value=form.raw_value(), effective_from=form.cleaned_data["effective_from"],
                    actor=request.user, note=form.cleaned_data["note"],
                )
            except ValidationError as e:
                form.add_service_errors(e)
            else:
                if row.effective_from < today:
                    messages.warning(request, _(
                        "Saved. The value applies from %(date)s, in the past: results already computed for "
                        "those dates were not recomputed."
                    ) % {"date": formats.date_format(row.effective_from, "SHORT_DATE_FORMAT")})
                else:
                    messages.success(request, _("Saved. The value applies from %(date)s.")
                                     % {"date": formats.date_format(row.effective_from, "SHORT_DATE_FORMAT")})
                return redirect("core:policy_detail", key=key)
    rows = list(audit.select_user_names(PolicyValue.objects.filter(key=key), "created_by").order_by("-effective_from"))
    in_force = next((r for r in rows if r.effective_from <= today), None)
    history = [
        {
            "row": r,
            "parts": stored_parts(param, r),
            "state": "scheduled" if r.effective_from > today else ("current" if r is in_force else "past"),
        }
        for r in rows
    ]
    current_value = param.default if in_force is None else param.parse(in_force.value)
    if can_edit and form is None:
        form = PolicyValueForm(param, current=current_value)
    return render(request, "core/policy_detail.html", {
        "param": param,
        "key": key,
        "clause_title": CLAUSE_TITLES.get(param.clause, ""),
        "current_parts": value_parts(param, current_value),
        "default_parts": value_parts(param, param.default),
        "default_in_force": in_force is None,
        "history": history,
        "form": form,
        "can_edit": can_edit,
        "today": today,
    })
