"""Monthly pages for supervisors (issue 4 items 3 and 6): the department board, the draft form,
the Excel export, the printable sheet, and making the month's drafts on demand.

Access: the board and the export are for the roles that read monthly evaluations
(``access.MONTHLY_BOARD_READERS``; anyone else 403) and show the agents in the units their
role covers. A draft is edited by the agent's CS supervisor (``access.monthly_can_change``):
anyone who may not see it gets 404, one who sees it but may not change it 403. The sheet is
printed by anyone who may see the evaluation (the agent too, once it is submitted).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access, tabular
from kefu.core.links import pk_url
from kefu.core.paging import CountedPaginator
from kefu.evaluations import access as eaccess
from kefu.evaluations import monthly, services
from kefu.evaluations.forms_monthly import MonthlyDraftForm, parse_month, previous_month
from kefu.evaluations.models import MONTHLY_DIMENSIONS, Appeal, Dimension, MonthlyEvaluation
from kefu.people.access import active_assignments, has_role, scope_q, units_in_scope
from kefu.people.forms import add_service_errors
from kefu.people.models import Employee, OrgUnit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 100
# The score distribution: points bands (lower bound inclusive), the last one up to 100.
BANDS = [0, 60, 65, 70, 75, 80, 85, 90, 95]
SUBMITTED_OR_LATER = (MonthlyEvaluation.Status.SUBMITTED, MonthlyEvaluation.Status.APPEALED,
                      MonthlyEvaluation.Status.FINAL)


def _period(request: HttpRequest) -> tuple[int, int, str]:
    """The month asked for (``?period=2026-03``), else last month."""
    text = (request.GET.get("period") or request.POST.get("period") or "").strip()
    default = previous_month(timezone.localdate())
    if not text:
        return *default, ""
    parsed = parse_month(text)
    if parsed is None:
        return *default, _("“%(value)s” is not a month; write it as YYYY-MM (e.g. 2026-03).") % {"value": text}
    return *parsed, ""


def _shift(year: int, month: int, steps: int) -> str:
    index = year * 12 + month - 1 + steps
    return f"{index // 12}-{index % 12 + 1:02d}"


def _require_board(user) -> None:
    if not eaccess.reads_monthly_board(user):
        raise PermissionDenied


def _board_units(user) -> QuerySet[OrgUnit]:
    return units_in_scope(user, eaccess.MONTHLY_BOARD_READERS).filter(is_customer_service=True).order_by("path")


def _unit(request: HttpRequest, units: QuerySet[OrgUnit]) -> tuple[OrgUnit | None, str]:
    raw = request.GET.get("unit") or ""
    if not raw:
        return None, ""
    unit = units.filter(pk=raw).first() if raw.isdigit() else None
    return unit, "" if unit is not None else _("Choose one of the listed units.")


def board_agents(user, year: int, month: int, unit: OrgUnit | None = None) -> QuerySet[Employee]:
    """The agents on the board: in the reader's scope, CS agents of the month or with an evaluation for it."""
    has_eval = MonthlyEvaluation.objects.filter(agent=OuterRef("pk"), year=year, month=month)
    qs = Employee.objects.filter(scope_q(user, eaccess.MONTHLY_BOARD_READERS)).exclude(user=user).filter(
        monthly.month_agents_q(year, month) | Q(Exists(has_eval))
    )
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return qs


def _evaluations(user, year: int, month: int, agents: QuerySet[Employee]) -> QuerySet[MonthlyEvaluation]:
    return access.visible(user, MonthlyEvaluation).filter(year=year, month=month, agent__in=agents.values("pk"))


def _bands() -> list[str]:
    labels = []
    for i, low in enumerate(BANDS):
        high = BANDS[i + 1] if i + 1 < len(BANDS) else None
        labels.append(f"<{high}" if low == 0 and high is not None else f"{low}–{high}" if high else f"≥{low}")
    return labels


def _band_case(field: str = "total") -> Case:
    """The band index of ``field`` (BANDS); -1 where it is NULL (no total yet)."""
    whens = [When(**{f"{field}__gte": low}, then=Value(i)) for i, low in reversed(list(enumerate(BANDS)))]
    return Case(When(**{f"{field}__isnull": True}, then=Value(-1)), *whens, default=Value(0),
                output_field=IntegerField())


def _board_tally(agents: QuerySet[Employee], year: int, month: int) -> dict[tuple[str | None, int], int]:
    """(status, band) → number of the board's agents, in one query: the status is None for an agent
    without an evaluation of the month, the band -1 for one without a total.

    Each agent has at most one evaluation a month (monthly_evaluation_one_per_month), so the LEFT JOIN
    counts every agent once. Every evaluation of a board agent is visible to the reader
    (MONTHLY_BOARD_READERS ⊆ READERS, herself excluded from both), so no visibility filter is needed
    on the joined evaluation."""
    month_ev = FilteredRelation("monthly_evaluations",
                                condition=Q(monthly_evaluations__year=year, monthly_evaluations__month=month))
    rows = (agents.annotate(month_ev=month_ev).order_by()
            .values_list("month_ev__status", _band_case("month_ev__total")).annotate(n=Count("pk")))
    return {(status, band): n for status, band, n in rows}


def _editor_paths(user) -> list[str]:
    return list(active_assignments(user).filter(role__in=list(eaccess.MONTHLY_EVALUATORS))
                .values_list("org_unit__path", flat=True))


def detail_url(ev: MonthlyEvaluation) -> str:
    return reverse("evaluations:monthly_detail", args=[ev.pk])


# What a board row reads of the agent and of her evaluation (the template and the loop above).
_ROW_AGENT_FIELDS = ("employee_no", "name", "user_id", "org_unit__name", "org_unit__path")
_ROW_EVALUATION_FIELDS = ("agent_id", "status", "total", "facts", "supervisor__name")


def monthly_board(request: HttpRequest) -> HttpResponse:
    """Department monthly board: agents × status, completion and the distribution of totals (E2.2)."""
    user = request.user
    _require_board(user)
    year, month, error = _period(request)
    units = _board_units(user)
    unit, unit_error = _unit(request, units)
    agents = board_agents(user, year, month, unit)

    # The counts, the distribution and the paginator's count: one query (see _board_tally).
    tally = _board_tally(agents, year, month)
    expected = sum(tally.values())
    by_status: dict[str, int] = {}
    for (status, _band), n in tally.items():
        if status is not None:
            by_status[status] = by_status.get(status, 0) + n
    done = sum(by_status.get(s, 0) for s in SUBMITTED_OR_LATER)
    counts = {
        "expected": expected,
        "none": max(0, expected - sum(by_status.values())),
        "draft": by_status.get(MonthlyEvaluation.Status.DRAFT, 0),
        "submitted": by_status.get(MonthlyEvaluation.Status.SUBMITTED, 0),
        "appealed": by_status.get(MonthlyEvaluation.Status.APPEALED, 0),
        "final": by_status.get(MonthlyEvaluation.Status.FINAL, 0),
        "done": done,
        "completion": round(100 * done / expected) if expected else None,
    }
    # The distribution of the totals, by band and status.
    dist: dict[tuple[int, str], int] = {
        (band, status): n for (status, band), n in tally.items() if status is not None and band >= 0
    }
    labels = _bands()
    series_spec = [
        ("final", _("Final"), [MonthlyEvaluation.Status.FINAL]),
        ("submitted", _("Submitted or appealed"),
         [MonthlyEvaluation.Status.SUBMITTED, MonthlyEvaluation.Status.APPEALED]),
        ("draft", _("Draft"), [MonthlyEvaluation.Status.DRAFT]),
    ]
    chart = {
        "labels": labels,
        "title": _("Totals of %(period)s") % {"period": f"{year}-{month:02d}"},
        "x_name": _("Points"),
        "y_name": _("Agents"),
        "series": [
            {"key": key, "name": str(name), "data": [sum(dist.get((i, s), 0) for s in statuses)
                                                     for i in range(len(labels))]}
            for key, name, statuses in series_spec
        ],
    }
    has_totals = any(n for n in dist.values())

    page = CountedPaginator(
        agents.select_related("org_unit").only(*_ROW_AGENT_FIELDS).order_by("org_unit__path", "employee_no"),
        PER_PAGE, count=expected,
    ).get_page(request.GET.get("page"))
    page_agents = list(page.object_list)
    # The page's agents are board agents: their evaluations of the month, by their ids (no scope subquery again).
    evs = {
        ev.agent_id: ev
        for ev in access.visible(user, MonthlyEvaluation)
        .filter(year=year, month=month, agent__in=[a.pk for a in page_agents])
        .select_related("supervisor").only(*_ROW_EVALUATION_FIELDS).order_by()
    } if page_agents else {}
    paths: list[str] | None = None  # the units the reader edits drafts in: read once, and only for a draft
    edit_url, open_url = pk_url("evaluations:monthly_edit"), pk_url("evaluations:monthly_detail")
    pdf_url = pk_url("evaluations:monthly_pdf")
    status_labels = {value: str(label) for value, label in MonthlyEvaluation.Status.choices}
    rows = []
    for agent in page_agents:
        ev = evs.get(agent.pk)
        editable = False
        if ev is not None and ev.status == MonthlyEvaluation.Status.DRAFT and agent.user_id != user.pk:
            if paths is None:
                paths = _editor_paths(user) if has_role(user, *eaccess.MONTHLY_EVALUATORS) else []
            editable = any(agent.org_unit.path.startswith(p) for p in paths)
        supervisor = ev.supervisor if ev is not None else None
        rows.append({
            "agent": agent, "ev": ev, "editable": editable,
            "missing": len((ev.facts or {}).get("missing_weeks") or []) if ev else 0,
            "url": (edit_url(ev.pk) if editable else open_url(ev.pk)) if ev else "",
            # What the row shows, read here once rather than through attribute chains in the template.
            "name": agent.name, "employee_no": agent.employee_no, "unit_name": agent.org_unit.name,
            "supervisor_name": supervisor.name if supervisor is not None else None,
            "status": ev.status if ev else "", "status_label": status_labels.get(ev.status, ev.status) if ev else "",
            "total_text": monthly.number_text(ev.total if ev else None),
            "pdf_url": pdf_url(ev.pk) if ev else "",
        })
    today = timezone.localdate()
    ended = monthly.last_day(year, month) < today
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "evaluations/monthly_board.html", {
        "year": year, "month": month, "period": f"{year}-{month:02d}",
        "previous": _shift(year, month, -1),
        "next": _shift(year, month, 1) if monthly.last_day(year, month) < today.replace(day=1) else None,
        "error": error or unit_error, "unit": unit,
        # The unit filter's options: (pk, name, selected), decided here rather than once an option in the template.
        "unit_options": [(pk, name, unit is not None and pk == unit.pk) for pk, name in units.values_list("pk", "name")],
        "counts": counts, "chart": chart, "has_totals": has_totals,
        "page": page, "rows": rows, "query": query.urlencode(),
        "can_make_drafts": ended and has_role(user, *eaccess.MONTHLY_EVALUATORS),
        "ended": ended,
    })


@require_POST
def monthly_drafts_make(request: HttpRequest) -> HttpResponse:
    """Make the month's missing drafts for the agents in the supervisor's scope (E2.2), on demand."""
    user = request.user
    if not has_role(user, *eaccess.MONTHLY_EVALUATORS):
        raise PermissionDenied
    year, month, error = _period(request)
    target = reverse("evaluations:monthly_board") + f"?period={year}-{month:02d}"
    if error:
        messages.error(request, error)
        return redirect(target)
    try:
        run = services.monthly_drafts_create(
            actor=user, year=year, month=month,
            within=scope_q(user, eaccess.MONTHLY_EVALUATORS) & ~Q(user=user),
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(target)
    if run.created:
        messages.success(request, _("%(n)s draft(s) made for %(period)s; %(existing)s agent(s) already had one.")
                         % {"n": run.created, "period": f"{year}-{month:02d}", "existing": run.existing})
    else:
        messages.info(request, _("Every agent already has an evaluation for %(period)s; nothing to make.")
                      % {"period": f"{year}-{month:02d}"})
    return redirect(target)


def _facts_view(ev: MonthlyEvaluation, rules: monthly.MonthRules,
                form: MonthlyDraftForm | None = None) -> dict[str, Any]:
    facts = ev.facts or {}
    suggestions = facts.get("suggestions") or {}
    labels = dict(Dimension.choices)
    dims = []
    for dim in MONTHLY_DIMENSIONS:
        entry = suggestions.get(dim) or {}
        dims.append({
            "key": dim, "label": labels[dim], "max": rules.weights[dim], "suggested": ev.suggested(dim),
            "points": ev.points(dim), "reason": getattr(ev, f"{dim}_reason"),
            "field": form[dim] if form is not None else None,
            "reason_field": form[f"{dim}_reason"] if form is not None else None,
            "basis": monthly.suggestion_text(entry) if entry else
            (str(monthly.NO_SUGGESTION["supervisor"]) if dim == Dimension.TEAMWORK else ""),
        })
    return {
        "dims": dims, "facts": facts, "weeks": facts.get("weeks") or [],
        "missing": facts.get("missing_weeks") or [], "sla": facts.get("sla") or {},
        "sat": facts.get("satisfaction") or {}, "rules": rules,
    }


def monthly_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly draft: the supervisor's points with the facts beside (E2.2); submit hands it to the agent."""
    ev = access.get_for_view(request.user, MonthlyEvaluation.objects.select_related(
        "agent__org_unit", "supervisor"), pk=pk)
    if ev.status != MonthlyEvaluation.Status.DRAFT:
        return redirect(detail_url(ev)) if detail_url(ev) != request.path else _read_only(request, ev)
    access.require_change(request.user, ev)
    rules = monthly.rules_for(ev.year, ev.month)
    form = MonthlyDraftForm(request.POST or None, evaluation=ev, rules=rules)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "refresh":
            try:
                services.monthly_facts_refresh(actor=request.user, evaluation=ev)
                messages.success(request, _("The facts and suggestions were gathered again."))
            except ValidationError as e:
                messages.error(request, " ".join(e.messages))
            return redirect("evaluations:monthly_edit", pk=ev.pk)
        if form.is_valid():
            try:
                with transaction.atomic():
                    ev = services.monthly_draft_update(
                        actor=request.user, evaluation=ev, points=form.points(), reasons=form.reasons(),
                        comment=form.cleaned_data.get("comment") or "", require_all=action == "submit",
                    )
                    if action == "submit":
                        ev = services.monthly_submit(actor=request.user, evaluation=ev)
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                if action == "submit":
                    messages.success(request, _("Submitted: %(agent)s has been told and may acknowledge or appeal.")
                                     % {"agent": ev.agent.name})
                    return redirect(detail_url(ev))
                messages.success(request, _("Draft saved."))
                return redirect("evaluations:monthly_edit", pk=ev.pk)
    context = _facts_view(ev, rules, form) | {"ev": ev, "form": form, "editable": True}
    return render(request, "evaluations/monthly_edit.html", context)


def _read_only(request: HttpRequest, ev: MonthlyEvaluation) -> HttpResponse:
    rules = monthly.rules_for(ev.year, ev.month)
    return render(request, "evaluations/monthly_edit.html", _facts_view(ev, rules) | {"ev": ev, "editable": False})


def _export_rows(evaluations: QuerySet[MonthlyEvaluation]) -> list[list[Any]]:
    rows = []
    for ev in evaluations:
        facts = ev.facts or {}
        sla = facts.get("sla") or {}
        sat = facts.get("satisfaction") or {}
        row: list[Any] = [ev.agent.employee_no, ev.agent.name, ev.agent.org_unit.name, ev.period_label,
                          ev.supervisor.name if ev.supervisor is not None else "", str(ev.get_status_display()),
                          str(ev.get_final_via_display()) if ev.final_via else ""]
        for dim in MONTHLY_DIMENSIONS:
            row += [ev.suggested(dim), ev.points(dim), getattr(ev, f"{dim}_reason")]
        row += [
            ev.total, len(facts.get("missing_weeks") or []), ", ".join(facts.get("missing_weeks") or []),
            sla.get("rate_pct"), sat.get("answers"), sat.get("mean_rating"), facts.get("complaints"),
            timezone.localtime(ev.submitted_at).replace(tzinfo=None) if ev.submitted_at else None,
            timezone.localtime(ev.finalised_at).replace(tzinfo=None) if ev.finalised_at else None,
            ev.comment,
        ]
        rows.append(row)
    return rows


def export_headers() -> list[str]:
    labels = dict(Dimension.choices)
    headers = [_("Employee number"), _("Name"), _("Org unit"), _("Month"), _("CS supervisor"), _("Status"),
               _("Final by")]
    for dim in MONTHLY_DIMENSIONS:
        headers += [_("%(dimension)s (suggested)") % {"dimension": labels[dim]}, str(labels[dim]),
                    _("%(dimension)s: reason") % {"dimension": labels[dim]}]
    headers += [_("Total"), _("Missing weekly evaluations"), _("Missing weeks"), _("SLA rate %"),
                _("Survey answers"), _("Mean rating"), _("Complaints"), _("Submitted at"), _("Final at"),
                _("Supervisor's comment")]
    return headers


def monthly_export(request: HttpRequest) -> HttpResponse:
    """The month's evaluations in the reader's scope as .xlsx (a fixed number of queries)."""
    user = request.user
    _require_board(user)
    year, month, _error = _period(request)
    unit, _unit_error = _unit(request, _board_units(user))
    evaluations = (
        _evaluations(user, year, month, board_agents(user, year, month, unit))
        .select_related("agent__org_unit", "supervisor").order_by("agent__org_unit__path", "agent__employee_no")
    )
    data = tabular.write_xlsx(export_headers(), _export_rows(evaluations), sheet_title=f"{year}-{month:02d}")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="monthly-evaluations-{year}-{month:02d}.xlsx"'
    return response


def monthly_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable monthly evaluation sheet (PDF), in the reader's language."""
    from kefu.evaluations.pdf import monthly_sheet

    ev = access.get_for_view(request.user, MonthlyEvaluation.objects.select_related(
        "agent__org_unit__parent", "supervisor"), pk=pk)
    appeal = Appeal.objects.filter(evaluation=ev).select_related("decided_by").order_by("-filed_at", "-id").first()
    data = monthly_sheet(ev, language=translation.get_language() or "zh-hant", appeal=appeal)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="monthly-evaluation-{ev.agent.employee_no}-{ev.period_label}.pdf"')
    return response
