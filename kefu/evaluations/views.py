"""Evaluation pages: my evaluations, the weekly evaluation (form, evidence, detail), the team weekly
board, the monthly evaluation's page with its flow, appeals, scorecards (policy E1, E2.1, E2.2, G3.1).

Objects come through kefu.core.access: 404 for what a user may not see; the services answer 403
for a step that is not hers to take.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.links import pk_url
from kefu.core.models import Attachment
from kefu.core.paging import counted_page
from kefu.core.views import flash_errors
from kefu.evaluations import access as eaccess
from kefu.evaluations import scoring, services
from kefu.evaluations.models import (
    MONTHLY_DIMENSIONS,
    WEEKLY_DIMENSIONS,
    Appeal,
    Criterion,
    Dimension,
    MonthlyEvaluation,
    Scorecard,
    WeeklyEvaluation,
    WeeklyScore,
)
from kefu.people.access import employee_of, scope_q
from kefu.people.models import Employee
from kefu.service import evidence as picker
from kefu.service.kpis import WEEK, Period, parse_period, period_of
from kefu.service.models import Channel, EvidenceDraw, Interaction

PER_PAGE = 50
BOARD_WEEKS = 8
PICKER_LIMIT = 200



def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {k: list(v) for k, v in error.message_dict.items()}
    return {"__all__": list(error.messages)}


def _user(request: HttpRequest) -> Any:
    return request.user


def _this_week() -> Period:
    return period_of(timezone.localdate(), WEEK)


# ---- my evaluations (agent) -----------------------------------------------------------------------


def mine(request: HttpRequest) -> HttpResponse:
    """The agent's own weekly and monthly evaluations (submitted ones; drafts are the evaluator's)."""
    me = employee_of(request.user)
    weekly = WeeklyEvaluation.objects.none()
    monthly: list[MonthlyEvaluation] = []
    if me is not None:
        weekly = (access.visible(request.user, WeeklyEvaluation).filter(agent=me)
                  .select_related("evaluator").order_by("-week_start"))
        monthly = list(access.visible(request.user, MonthlyEvaluation).filter(agent=me)
                       .select_related("supervisor").order_by("-year", "-month")[:24])
    page = Paginator(weekly, 26).get_page(request.GET.get("page"))
    return render(request, "evaluations/mine.html", {
        "me": me, "page": page, "monthly": monthly, "now": timezone.now(),
        "to_acknowledge": sum(1 for w in page.object_list if w.status == WeeklyEvaluation.Status.SUBMITTED),
    })


# ---- team weekly board (team lead, CS supervisor) ------------------------------------------------


# The board cell's extra class by its state.
_CELL_CSS = {"late": " cell-late", "draft_late": " cell-late", "due": " cell-due"}


def _board_last_week(request: HttpRequest) -> Period:
    text = request.GET.get("week")
    if text:
        try:
            period = parse_period(text)
            if period.kind == WEEK:
                return period
        except ValueError:
            pass
        messages.warning(request, _("Write a week as YYYY-Www, e.g. 2026-W10; showing the current week."))
    return _this_week()


def weekly_board(request: HttpRequest) -> HttpResponse:
    """Agents × the last 8 ISO weeks, each cell the week's evaluation status (E2.1). Two queries
    (the agents of the page with the count of all, their evaluations of the weeks), whatever the size."""
    if not eaccess.is_weekly_evaluator(request.user):
        raise PermissionDenied
    last = _board_last_week(request)
    weeks = [last.shifted(-i) for i in range(BOARD_WEEKS - 1, -1, -1)]
    agents_qs = (eaccess.evaluable_agents(request.user, qs=Employee.objects.select_related("org_unit"))
                 .only("employee_no", "name", "hire_date", "leave_date", "org_unit__name")
                 .order_by("org_unit__path", "employee_no"))
    page = counted_page(agents_qs, PER_PAGE, request.GET.get("page"))  # the count rides on the page's query
    agents = list(page.object_list)
    found: dict[tuple[int, datetime.date], WeeklyEvaluation] = {}
    if agents:
        for ev in WeeklyEvaluation.objects.filter(
                agent__in=[a.pk for a in agents], week_start__gte=weeks[0].start, week_start__lte=weeks[-1].start,
        ).only("pk", "agent_id", "week_start", "status").order_by():
            found[(ev.agent_id, ev.week_start)] = ev
    today = timezone.localdate()
    # Resolved once for the page, not once a cell: the weeks' keys and days, the links, the status badges.
    week_days = [(w, w.key, w.start, w.last_day) for w in weeks]
    edit_url, detail_url = pk_url("evaluations:weekly_edit"), pk_url("evaluations:weekly_detail")
    badges: dict[str, str] = {}
    rows = []
    done = open_cells = 0
    for agent in agents:
        cells = []
        for w, key, start, last_day in week_days:
            cell_ev = found.get((agent.pk, start))
            href = badge = ""
            if cell_ev is not None:
                status = cell_ev.status
                state = "draft_late" if status == WeeklyEvaluation.Status.DRAFT and last_day < today else status
                href = edit_url(cell_ev.pk) if status == WeeklyEvaluation.Status.DRAFT else detail_url(cell_ev.pk)
                if status not in badges:
                    badges[status] = render_to_string("evaluations/includes/weekly_status.html", {"status": status})
                badge = badges[status]
                if status != WeeklyEvaluation.Status.DRAFT:
                    done += 1
            elif agent.hire_date > last_day or (agent.leave_date and agent.leave_date < start):
                state = "not_employed"
            elif start > today:
                state = "future"
            elif last_day < today:
                state = "late"
            else:
                state = "due"
            if state in ("due", "late", "draft", "draft_late"):
                open_cells += 1
            cells.append({"week": w, "key": key, "ev": cell_ev, "state": state, "href": href, "badge": badge,
                          "css": _CELL_CSS.get(state, "")})
        rows.append({"agent": agent, "cells": cells, "name": agent.name, "employee_no": agent.employee_no,
                     "unit_name": agent.org_unit.name})
    return render(request, "evaluations/weekly_board.html", {
        "weeks": weeks, "rows": rows, "page": page, "last": last,
        "previous": last.shifted(-BOARD_WEEKS), "next": last.shifted(BOARD_WEEKS),
        "this_week": _this_week(), "done": done, "open_cells": open_cells,
        "query": urlencode({"week": last.key}),
    })


@require_POST
def weekly_start(request: HttpRequest) -> HttpResponse:
    """Open the week's evaluation of an agent: the existing one, or a new draft."""
    if not eaccess.is_weekly_evaluator(request.user):
        raise PermissionDenied
    agent = access.get_for_view(request.user, eaccess.evaluable_agents(
        request.user, qs=Employee.objects.select_related("org_unit")), employee_no=request.POST.get("agent", ""))
    try:
        period = parse_period(request.POST.get("week", ""))
        if period.kind != WEEK:
            raise ValueError
    except ValueError:
        messages.error(request, _("Write a week as YYYY-Www, e.g. 2026-W10."))
        return redirect("evaluations:weekly_board")
    try:
        ev = services.weekly_evaluation_start(actor=request.user, agent=agent, iso_year=period.year,
                                              iso_week=period.number)
    except ValidationError as e:
        flash_errors(request, e)
        return redirect("evaluations:weekly_board")
    if ev.status == WeeklyEvaluation.Status.DRAFT and access.can_change(request.user, ev):
        return redirect("evaluations:weekly_edit", pk=ev.pk)
    return redirect("evaluations:weekly_detail", pk=ev.pk)


# ---- the weekly evaluation form ------------------------------------------------------------------


def _weekly_for_change(request: HttpRequest, pk: int) -> WeeklyEvaluation:
    qs = WeeklyEvaluation.objects.select_related("agent__org_unit", "agent__user", "scorecard", "evaluator")
    return access.get_for_change(request.user, qs, pk=pk)


def _criteria_rows(ev: WeeklyEvaluation, posted: dict[int, dict[str, str]] | None = None,
                   errors: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """The weekly criteria grouped by dimension, with what is entered (saved or just posted)."""
    saved = {s.criterion_id: s for s in ev.scores.all()}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in ev.scorecard.criteria.filter(dimension__in=WEEKLY_DIMENSIONS).order_by("order", "id"):
        if posted is not None:
            entry = posted.get(c.pk, {})
            value, comment = entry.get("value", ""), entry.get("comment", "")
        else:
            s = saved.get(c.pk)
            value = "" if s is None else ("na" if s.level is None else str(s.level))
            comment = s.comment if s else ""
        groups[c.dimension].append({
            "criterion": c, "value": value, "comment": comment,
            "levels": [(str(level), text) for level, text in reversed(c.rubric)],
            "errors": (errors or {}).get(f"score_{c.pk}", []),
        })
    return [{"dimension": d, "label": Dimension(d).label, "items": groups[d]} for d in WEEKLY_DIMENSIONS if groups[d]]


def _parse_scores(ev: WeeklyEvaluation, data) -> tuple[dict[int, services.ScoreIn], dict[int, dict[str, str]]]:
    scores: dict[int, services.ScoreIn] = {}
    posted: dict[int, dict[str, str]] = {}
    bad: list[int] = []
    for c in ev.scorecard.criteria.filter(dimension__in=WEEKLY_DIMENSIONS):
        value = (data.get(f"score_{c.pk}") or "").strip()
        comment = (data.get(f"comment_{c.pk}") or "").strip()
        posted[c.pk] = {"value": value, "comment": comment}
        if value == "na":
            scores[c.pk] = services.ScoreIn(na=True, comment=comment)
        elif value.isdigit():
            scores[c.pk] = services.ScoreIn(level=int(value), comment=comment)
        elif value:
            bad.append(c.pk)
        elif comment:
            scores[c.pk] = services.ScoreIn(comment=comment)
    if bad:
        raise ValidationError({f"score_{pk}": _("Choose one of the levels.") for pk in bad})
    return scores, posted


def _picker_context(request: HttpRequest, ev: WeeklyEvaluation) -> dict[str, Any]:
    """The evidence picker of kefu.service.evidence for the agent's week, with the chosen evidence."""
    from kefu.service.kpis import week

    period = week(ev.iso_year, ev.iso_week)
    try:
        filters = picker.EvidenceFilters.from_data(request.GET)
        filter_error = ""
    except ValidationError as e:
        filters, filter_error = picker.EvidenceFilters(), " ".join(e.messages)
    now = timezone.now()
    chosen_ids = list(ev.evidence.values_list("interaction_id", flat=True))
    chosen = list(Interaction.objects.filter(pk__in=chosen_ids).select_related("survey_answer")
                  .with_sla_state(now).order_by("received_at", "pk"))
    seeds = dict(ev.evidence.values_list("interaction_id", "draw_seed"))
    for i in chosen:
        i.draw_seed = seeds.get(i.pk)
    candidate_ids = picker.evidence_interactions(ev.agent, period, filters, now=now).exclude(
        pk__in=chosen_ids).values("pk")
    candidates_qs = (Interaction.objects.filter(pk__in=candidate_ids).select_related("survey_answer")
                     .with_sla_state(now).order_by("received_at", "pk"))
    candidates = list(candidates_qs[:PICKER_LIMIT + 1])
    draws = list(EvidenceDraw.objects.filter(agent=ev.agent, iso_year=ev.iso_year, iso_week=ev.iso_week)
                 .order_by("-created_at")[:5])
    return {
        "period": period, "filters": filters, "filter_error": filter_error, "channels": Channel.choices,
        "chosen": chosen, "candidates": candidates[:PICKER_LIMIT], "more": len(candidates) > PICKER_LIMIT,
        "picker_limit": PICKER_LIMIT, "draws": draws, "max_draw": picker.MAX_DRAW,
        "filter_query": urlencode({k: "1" if v is True else v for k, v in filters.as_dict().items()}),
    }


def weekly_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _weekly_for_change(request, pk)
    errors: dict[str, list[str]] = {}
    posted = None
    form_values: dict[str, Any] = {"method_onsite": ev.method_onsite, "method_recording": ev.method_recording,
                                   "method_chat": ev.method_chat, "notes": ev.notes}
    if request.method == "POST":
        form_values = {k: request.POST.get(k) == "on" for k in ("method_onsite", "method_recording", "method_chat")}
        form_values["notes"] = request.POST.get("notes", "")
        try:
            scores, posted = _parse_scores(ev, request.POST)
            services.weekly_evaluation_save(
                actor=request.user, evaluation=ev, scores=scores, method_onsite=form_values["method_onsite"],
                method_recording=form_values["method_recording"], method_chat=form_values["method_chat"],
                notes=form_values["notes"])
            if request.POST.get("action") == "submit":
                services.weekly_evaluation_submit(actor=request.user, evaluation=ev)
                messages.success(request, _("Weekly evaluation submitted; %(agent)s has been told.") % {
                    "agent": ev.agent.name})
                return redirect("evaluations:weekly_detail", pk=ev.pk)
            messages.success(request, _("Draft saved."))
            return redirect("evaluations:weekly_edit", pk=ev.pk)
        except ValidationError as e:
            errors = _field_errors(e)
            if posted is None:
                posted = {c: {"value": request.POST.get(f"score_{c}", ""),
                                           "comment": request.POST.get(f"comment_{c}", "")}
                                       for c in ev.scorecard.criteria.values_list("pk", flat=True)}
    context = {
        "ev": ev, "groups": _criteria_rows(ev, posted, errors), "errors": errors, "values": form_values,
        "general_errors": [m for k, msgs in errors.items() if not k.startswith("score_") for m in msgs],
        "attachments": list(ev.attachments.order_by("id")), "attachment_kinds": services.ATTACHMENT_KINDS,
        "preview": scoring.weekly_dimension_scores(ev),
    }
    context.update(_picker_context(request, ev))
    return render(request, "evaluations/weekly_form.html", context, status=422 if errors else 200)


def _back_to_edit(ev: WeeklyEvaluation, request: HttpRequest, anchor: str = "evidence") -> HttpResponse:
    query = request.POST.get("filter_query", "")
    return redirect(f"{reverse('evaluations:weekly_edit', args=[ev.pk])}{'?' + query if query else ''}#{anchor}")


def _ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise ValidationError({"evidence": _("Evidence is a list of interaction ids.")}) from None


@require_POST
def weekly_evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _weekly_for_change(request, pk)
    try:
        added = services.weekly_evidence_add(actor=request.user, evaluation=ev,
                                             interaction_ids=_ids(request.POST.getlist("interaction")))
        messages.success(request, _("%(n)s interaction(s) added as evidence.") % {"n": added})
    except ValidationError as e:
        flash_errors(request, e)
    return _back_to_edit(ev, request)


@require_POST
def weekly_evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _weekly_for_change(request, pk)
    try:
        interaction_id = int(request.POST.get("interaction", ""))
    except ValueError:
        raise Http404 from None
    try:
        services.weekly_evidence_remove(actor=request.user, evaluation=ev, interaction_id=interaction_id)
    except ValidationError as e:
        flash_errors(request, e)
    return _back_to_edit(ev, request)


@require_POST
def weekly_evidence_draw(request: HttpRequest, pk: int) -> HttpResponse:
    """Draw N of the week's interactions at random (service.evidence, seed recorded) and add them as evidence."""
    from kefu.service.kpis import week

    ev = _weekly_for_change(request, pk)
    try:
        filters = picker.EvidenceFilters.from_data(request.POST)
        try:
            n = int(request.POST.get("n", ""))
        except ValueError:
            n = 0
        seed_text = (request.POST.get("seed") or "").strip()
        if seed_text and not seed_text.isdigit():
            raise ValidationError({"seed": _("The seed is a whole number, as shown beside an earlier draw.")})
        draw = picker.evidence_draw(actor=request.user, agent=ev.agent, period=week(ev.iso_year, ev.iso_week),
                                    filters=filters, n=n, seed=int(seed_text) if seed_text else None)
        added = services.weekly_evidence_add(actor=request.user, evaluation=ev, interaction_ids=draw.chosen_ids,
                                             draw_seed=draw.seed)
        messages.success(request, _("Drew %(n)s interaction(s) with seed %(seed)s; %(added)s added as evidence.") % {
            "n": len(draw.chosen_ids), "seed": draw.seed, "added": added})
    except ValidationError as e:
        flash_errors(request, e)
    return _back_to_edit(ev, request)


@require_POST
def weekly_attach(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _weekly_for_change(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.weekly_attachment_add(actor=request.user, evaluation=ev, upload=upload)
            messages.success(request, _("%(name)s attached.") % {"name": upload.name})
        except ValidationError as e:
            flash_errors(request, e)
    return redirect(f"{reverse('evaluations:weekly_edit', args=[ev.pk])}#attachments")


@require_POST
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a file off a draft (the file is served by core:attachment; only this removal is the app's)."""
    att = Attachment.objects.filter(pk=pk, content_type=ContentType.objects.get_for_model(WeeklyEvaluation)).first()
    if att is None:
        raise Http404
    ev = _weekly_for_change(request, att.object_id)  # 404 if she may not see it, 403 if she may not change it
    try:
        services.weekly_attachment_remove(actor=request.user, attachment=att)
    except ValidationError as e:
        flash_errors(request, e)
    return redirect(f"{reverse('evaluations:weekly_edit', args=[ev.pk])}#attachments")


# ---- weekly evaluation page and the agent's answer ---------------------------------------------


def weekly_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, WeeklyEvaluation.objects.select_related(
        "agent__org_unit", "agent__user", "evaluator", "scorecard"), pk=pk)
    scores = {s.criterion_id: s for s in WeeklyScore.objects.filter(evaluation=ev)}
    groups = []
    for dim in WEEKLY_DIMENSIONS:
        items = []
        for c in ev.scorecard.criteria.filter(dimension=dim).order_by("order", "id"):
            s = scores.get(c.pk)
            items.append({"criterion": c, "score": s, "failed": s is not None and scoring.is_failed(c, s.level),
                          "description": c.level_description(s.level) if s and s.level is not None else ""})
        groups.append({"dimension": dim, "label": Dimension(dim).label, "items": items,
                       "pct": ev.dimension_pct(dim) if ev.status != "draft" else None})
    now = timezone.now()
    evidence = list(Interaction.objects.filter(pk__in=ev.evidence.values("interaction_id"))
                    .select_related("survey_answer").with_sla_state(now).order_by("received_at", "pk"))
    is_agent = eaccess.is_self(request.user, ev.agent)
    can_reopen = (not is_agent and ev.status != WeeklyEvaluation.Status.DRAFT
                  and eaccess.covers(request.user, eaccess.WEEKLY_EVALUATORS, ev.agent))
    return render(request, "evaluations/weekly_detail.html", {
        "ev": ev, "groups": groups, "evidence": evidence, "attachments": list(ev.attachments.order_by("id")),
        "is_agent": is_agent, "can_edit": access.can_change(request.user, ev), "can_reopen": can_reopen,
        "preview": scoring.weekly_dimension_scores(ev) if ev.status == "draft" else None,
    })


@require_POST
def weekly_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, WeeklyEvaluation, pk=pk)
    try:
        services.weekly_evaluation_acknowledge(actor=request.user, evaluation=ev)
        messages.success(request, _("Acknowledged."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:weekly_detail", pk=ev.pk)


@require_POST
def weekly_comment(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, WeeklyEvaluation, pk=pk)
    try:
        services.weekly_evaluation_comment(actor=request.user, evaluation=ev, comment=request.POST.get("comment", ""))
        messages.success(request, _("Your comment was sent to your evaluator."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:weekly_detail", pk=ev.pk)


@require_POST
def weekly_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, WeeklyEvaluation, pk=pk)
    try:
        services.weekly_evaluation_reopen(actor=request.user, evaluation=ev, reason=request.POST.get("reason", ""))
        messages.success(request, _("Reopened as a draft."))
        return redirect("evaluations:weekly_edit", pk=ev.pk)
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:weekly_detail", pk=ev.pk)


# ---- monthly evaluation page, its flow and appeals ----------------------------------------------


def monthly_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, MonthlyEvaluation.objects.select_related(
        "agent__org_unit", "agent__user", "supervisor", "scorecard"), pk=pk)
    appeals = list(ev.appeals.select_related("decided_by", "filed_by").order_by("-filed_at"))
    open_appeal = next((a for a in appeals if a.status == Appeal.Status.OPEN), None)
    rows = []
    for dim in MONTHLY_DIMENSIONS:
        rows.append({"dimension": dim, "label": Dimension(dim).label, "suggested": ev.suggested(dim),
                     "points": ev.points(dim), "reason": getattr(ev, f"{dim}_reason")})
    is_agent = eaccess.is_self(request.user, ev.agent)
    now = timezone.now()
    window_open = bool(ev.status == MonthlyEvaluation.Status.SUBMITTED and ev.appeal_deadline
                       and now <= ev.appeal_deadline)
    maxima = _maxima(ev)
    for row in rows:
        row["max"] = maxima.get(row["dimension"])
    return render(request, "evaluations/monthly_detail.html", {
        "ev": ev, "rows": rows, "appeals": appeals, "open_appeal": open_appeal, "is_agent": is_agent,
        "can_answer": is_agent and ev.status == MonthlyEvaluation.Status.SUBMITTED,
        "window_open": window_open,
        "can_decide": open_appeal is not None and access.can_change(request.user, open_appeal),
        "can_reopen": (ev.status == MonthlyEvaluation.Status.FINAL and not is_agent
                       and eaccess.covers(request.user, eaccess.REOPENERS, ev.agent)),
        "can_edit": access.can_change(request.user, ev),
        "missing_weeks": (ev.facts or {}).get("missing_weeks") or [],
        "total_max": sum(maxima.values()) if maxima else None,
    })


def _maxima(ev: MonthlyEvaluation) -> dict[str, Any]:
    from kefu.evaluations import monthly

    return dict(monthly.rules_for(ev.year, ev.month).weights)


@require_POST
def monthly_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, MonthlyEvaluation, pk=pk)
    try:
        services.monthly_acknowledge(actor=request.user, evaluation=ev)
        messages.success(request, _("Acknowledged: the evaluation is final."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:monthly_detail", pk=ev.pk)


@require_POST
def monthly_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, MonthlyEvaluation, pk=pk)
    try:
        services.monthly_appeal(actor=request.user, evaluation=ev, reason=request.POST.get("reason", ""))
        messages.success(request, _("Your appeal was sent to your department head."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:monthly_detail", pk=ev.pk)


@require_POST
def monthly_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    ev = access.get_for_view(request.user, MonthlyEvaluation, pk=pk)
    try:
        services.monthly_reopen(actor=request.user, evaluation=ev, reason=request.POST.get("reason", ""))
        messages.success(request, _("Reopened as a draft for the supervisor."))
    except ValidationError as e:
        flash_errors(request, e)
    return redirect("evaluations:monthly_detail", pk=ev.pk)


def appeals(request: HttpRequest) -> HttpResponse:
    """Department head: open appeals in her scope, then the recently decided."""
    if not eaccess.decides_appeals(request.user):
        raise PermissionDenied
    qs = (access.visible(request.user, Appeal)
          .filter(scope_q(request.user, eaccess.APPEAL_DECIDERS, field="evaluation__agent__org_unit"))
          .exclude(evaluation__agent__user=_user(request))
          .select_related("evaluation__agent__org_unit", "evaluation__supervisor", "decided_by"))
    open_list = list(qs.filter(status=Appeal.Status.OPEN).order_by("filed_at"))
    decided = Paginator(qs.filter(status=Appeal.Status.DECIDED).order_by("-decided_at"), PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "evaluations/appeals.html", {"open_list": open_list, "page": decided})


def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = access.get_for_view(request.user, Appeal.objects.select_related(
        "evaluation__agent__org_unit", "evaluation__supervisor", "decided_by"), pk=pk)
    ev = appeal.evaluation
    errors: dict[str, list[str]] = {}
    values = {"decision": request.POST.get("decision", ""), "reason": request.POST.get("reason", "")}
    adjusted = {d: request.POST.get(f"adjust_{d}", "") for d in MONTHLY_DIMENSIONS}
    if request.method == "POST":
        if not eaccess.decides_appeals(request.user):
            raise PermissionDenied
        if appeal.status == Appeal.Status.OPEN:
            access.require_change(request.user, appeal)
        try:
            services.appeal_decide(actor=request.user, appeal=appeal, decision=values["decision"],
                                   reason=values["reason"], adjusted=adjusted)
            messages.success(request, _("Appeal decided; the evaluation is final."))
            return redirect("evaluations:monthly_detail", pk=ev.pk)
        except ValidationError as e:
            errors = _field_errors(e)
    maxima = _maxima(ev)
    rows = [{"dimension": d, "label": Dimension(d).label, "points": ev.points(d), "suggested": ev.suggested(d),
             "reason": getattr(ev, f"{d}_reason"), "max": maxima.get(d), "adjusted": adjusted.get(d, ""),
             "errors": errors.get(d, [])} for d in MONTHLY_DIMENSIONS]
    return render(request, "evaluations/appeal_decide.html", {
        "appeal": appeal, "ev": ev, "rows": rows, "values": values, "errors": errors,
        "can_decide": appeal.status == Appeal.Status.OPEN and access.can_change(request.user, appeal),
        "general_errors": [m for k, msgs in errors.items() if k not in MONTHLY_DIMENSIONS for m in msgs],
    }, status=422 if errors else 200)


# ---- scorecards ------------------------------------------------------------------------------------


def _count_per_card(model: type[models.Model]) -> Coalesce:
    """The number of ``model`` rows of the outer query's scorecard, as a subquery."""
    rows = (model._default_manager.filter(scorecard=OuterRef("pk")).order_by().values("scorecard")
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows), 0)


def scorecards(request: HttpRequest) -> HttpResponse:
    # Each count its own subquery: two Counts over two joins would multiply a card's criteria by its
    # evaluations (a year of weekly evaluations, row by row) before DISTINCT took them apart (issue 9).
    cards = (access.visible(request.user, Scorecard).annotate(
        criteria_count=_count_per_card(Criterion),
        weekly_count=_count_per_card(WeeklyEvaluation),
    ).order_by("name", "-version"))
    return render(request, "evaluations/scorecards.html", {"cards": cards})


def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = access.get_for_view(request.user, Scorecard.objects.select_related("previous", "created_by"), pk=pk)
    groups = []
    criteria = list(card.criteria.order_by("order", "id"))
    for dim in MONTHLY_DIMENSIONS:
        groups.append({"label": Dimension(dim).label, "items": [c for c in criteria if c.dimension == dim],
                       "weekly": dim in WEEKLY_DIMENSIONS})
    later = Scorecard.objects.filter(name=card.name, version__gt=card.version).order_by("version").first()
    return render(request, "evaluations/scorecard_detail.html", {
        "card": card, "groups": groups, "later": later,
        "can_edit": card.is_current and access.can_change(request.user, card),
    })



def scorecard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """HR and CS supervisors edit the criteria texts and rules of the current version. A used scorecard
    is frozen: saving makes a new version, and earlier evaluations keep theirs (E1, G3.1)."""
    card = access.get_for_change(request.user, Scorecard, pk=pk)
    criteria = list(card.criteria.order_by("order", "id"))
    errors: list[str] = []
    if not card.is_current:
        messages.error(request, _("Only the current version of a scorecard can be edited."))
        return redirect("evaluations:scorecard_detail", pk=card.pk)
    if request.method == "POST":
        rows = []
        for c in criteria:
            p = f"c{c.pk}_"
            fail = (request.POST.get(p + "fail") or "").strip()
            rows.append({
                "dimension": c.dimension, "code": c.code, "order": c.order,
                "name": (request.POST.get(p + "name") or "").strip(),
                "description": (request.POST.get(p + "description") or "").strip(),
                "critical": request.POST.get(p + "critical") == "on",
                "fail_at_or_below": int(fail) if fail.isdigit() else None,
                "allow_na": request.POST.get(p + "allow_na") == "on",
                "scale_min": c.scale_min, "scale_max": c.scale_max,
                "levels": [{"level": lv, "description": (request.POST.get(f"{p}level{lv}") or "").strip()}
                           for lv in range(c.scale_min, c.scale_max + 1)],
            })
        try:
            result = services.scorecard_revise(actor=request.user, scorecard=card, criteria=rows,
                                               description=(request.POST.get("description") or "").strip(),
                                               reason=(request.POST.get("reason") or "").strip())
        except ValidationError as e:
            errors = list(e.messages)
            for c, row in zip(criteria, rows, strict=True):
                for key in ("name", "description", "critical", "fail_at_or_below", "allow_na", "levels"):
                    setattr(c, key, row[key])
        else:
            if result.pk != card.pk:
                messages.success(request, _("The scorecard was in use: saved as version %(v)s; earlier evaluations "
                                            "keep version %(old)s.") % {"v": result.version, "old": card.version})
            else:
                messages.success(request, _("Scorecard saved."))
            return redirect("evaluations:scorecard_detail", pk=result.pk)
    # The stored texts, as written (the default scorecard's are English msgids shown translated elsewhere).
    rows_out = [{"c": c, "levels": [(lv, next((x.get("description", "") for x in c.levels if x.get("level") == lv), ""))
                                    for lv in range(c.scale_min, c.scale_max + 1)],
                 "label": Dimension(c.dimension).label} for c in criteria]
    return render(request, "evaluations/scorecard_form.html", {
        "card": card, "rows": rows_out, "errors": errors,
        "description": request.POST.get("description", card.description) if request.method == "POST"
        else card.description,
    }, status=422 if errors else 200)
