"""Calibration session pages (issue 4 item 5): list, create, score blind, close, results.

Access: a session is seen by its creator, its evaluators, HR, the inspectors and leadership
(``access.calibration_visible``; anyone else 404). Only its evaluators score it (403 for the
others who see it). While it is open nobody sees anybody else's levels: the session page
shows progress as counts, the scoring page only the evaluator's own levels, and the results
page answers 403 until the session closes.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.evaluations import access as eaccess
from kefu.evaluations import calibration, services
from kefu.evaluations.forms_monthly import CalibrationCreateForm
from kefu.evaluations.models import CalibrationScore, CalibrationSession, Scorecard
from kefu.people.access import employee_of, units_in_scope
from kefu.people.forms import add_service_errors
from kefu.service.models import Interaction

NOT_APPLICABLE = "na"


def _sessions(user):
    return access.visible(user, CalibrationSession)


def calibration_list(request: HttpRequest) -> HttpResponse:
    me = employee_of(request.user)
    sessions = list(
        _sessions(request.user).select_related("scorecard", "created_by__employee")
        .annotate(n_items=Count("items", distinct=True), n_evaluators=Count("evaluators", distinct=True))
        .order_by("-created_at", "-id")[:200]
    )
    mine = dict(
        CalibrationScore.objects.filter(session__in=[s.pk for s in sessions], evaluator=me).order_by()
        .values_list("session_id").annotate(n=Count("pk"))
    ) if me is not None and sessions else {}
    criteria = dict(
        Scorecard.objects.filter(pk__in={s.scorecard_id for s in sessions}).order_by()
        .annotate(n=Count("criteria", filter=Q(criteria__dimension__in=services.WEEKLY_DIMENSIONS)))
        .values_list("pk", "n")
    ) if sessions else {}
    evaluator_of = set(
        CalibrationSession.evaluators.through.objects.filter(
            calibrationsession_id__in=[s.pk for s in sessions], employee=me).values_list("calibrationsession_id", flat=True)
    ) if me is not None and sessions else set()
    rows = []
    for s in sessions:
        expected = s.n_items * criteria.get(s.scorecard_id, 0)
        rows.append({"s": s, "is_evaluator": s.pk in evaluator_of, "mine": mine.get(s.pk, 0), "expected": expected})
    return render(request, "evaluations/calibration_list.html", {
        "rows": rows, "can_create": eaccess.creates_calibration(request.user),
    })


def _resolve_refs(user, refs: list[tuple[str, str]]) -> tuple[list[Interaction], list[str]]:
    """The interactions named as (source, external_id), in order; and the references not found in scope."""
    if not refs:
        return [], []
    q = Q(pk__in=[])
    for source, external in refs:
        q |= Q(source=source, external_id=external)
    found = {(i.source, i.external_id): i for i in eaccess.calibration_interactions(user).filter(q)}
    return [found[r] for r in refs if r in found], [f"{s}:{e}" for s, e in refs if (s, e) not in found]


def calibration_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not eaccess.creates_calibration(user):
        raise PermissionDenied
    today = timezone.localdate()
    form = CalibrationCreateForm(
        request.POST or None,
        initial={"draw_from": today - datetime.timedelta(days=30), "draw_to": today},
        scorecards=Scorecard.objects.filter(is_current=True).order_by("name"),
        evaluators=eaccess.evaluator_candidates(user).select_related("org_unit").order_by("org_unit__path", "name"),
        units=units_in_scope(user, eaccess.CALIBRATION_CREATORS).filter(is_customer_service=True).order_by("path"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        interactions, unknown = _resolve_refs(user, data.get("refs") or [])
        if unknown:
            form.add_error("refs", _("Not found among the interactions in your scope: %(refs)s")
                           % {"refs": ", ".join(unknown[:10])})
        if data.get("draw") and not form.errors:
            pool = eaccess.calibration_interactions(user).exclude(pk__in=[i.pk for i in interactions])
            if data.get("draw_unit"):
                pool = pool.filter(agent__org_unit__path__startswith=data["draw_unit"].path)
            if data.get("draw_from"):
                pool = pool.filter(local_date__gte=data["draw_from"])
            if data.get("draw_to"):
                pool = pool.filter(local_date__lte=data["draw_to"])
            drawn = list(pool.order_by("?")[: data["draw"]])
            if not drawn:
                form.add_error("draw", _("No interactions to draw from in that unit and time."))
            interactions += drawn
        if not form.errors:
            try:
                session = services.calibration_create(
                    actor=user, title=data["title"], scorecard=data["scorecard"], interactions=interactions,
                    evaluators=list(data["evaluators"]), notes=data.get("notes") or "",
                )
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(request, _("Session created; the evaluators have been asked to score."))
                return redirect("evaluations:calibration_detail", pk=session.pk)
    return render(request, "evaluations/calibration_create.html", {"form": form})


def _session_context(request: HttpRequest, session: CalibrationSession) -> dict[str, Any]:
    items = list(session.items.select_related("interaction__agent").order_by("order", "id"))
    criteria = services.calibration_criteria(session.scorecard)
    evaluators = list(session.evaluators.select_related("org_unit").order_by("name", "employee_no"))
    progress = dict(
        session.scores.order_by().values_list("evaluator_id").annotate(n=Count("pk"))
    )
    me = employee_of(request.user)
    return {
        "session": session, "items": items, "criteria": criteria,
        "expected": len(items) * len(criteria),
        "evaluators": [{"e": e, "done": progress.get(e.pk, 0)} for e in evaluators],
        "is_evaluator": me is not None and any(e.pk == me.pk for e in evaluators),
        "can_close": access.can_change(request.user, session),
    }


def calibration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = access.get_for_view(request.user, CalibrationSession.objects.select_related("scorecard", "created_by"),
                                  pk=pk)
    return render(request, "evaluations/calibration_detail.html", _session_context(request, session))


def _parse_levels(post, items, criteria) -> tuple[dict[int, dict[int, int | None]], dict[str, str]]:
    levels: dict[int, dict[int, int | None]] = defaultdict(dict)
    errors: dict[str, str] = {}
    for item in items:
        for c in criteria:
            key = f"s-{item.interaction_id}-{c.pk}"
            raw = (post.get(key) or "").strip()
            if raw == "":
                continue
            if raw == NOT_APPLICABLE:
                levels[item.interaction_id][c.pk] = None
            elif raw.isdigit():
                levels[item.interaction_id][c.pk] = int(raw)
            else:
                errors[key] = _("Choose a level.")
    return levels, errors


def calibration_score(request: HttpRequest, pk: int) -> HttpResponse:
    """The evaluator's own scoring sheet: every interaction × the weekly criteria, blind."""
    session = access.get_for_view(request.user, CalibrationSession.objects.select_related("scorecard"), pk=pk)
    me = employee_of(request.user)
    if me is None or not session.evaluators.filter(pk=me.pk).exists():
        raise PermissionDenied
    items = list(session.items.select_related("interaction").order_by("order", "id"))
    criteria = services.calibration_criteria(session.scorecard)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if session.status != CalibrationSession.Status.OPEN:
            messages.error(request, _("This calibration session is closed: its scores are final."))
            return redirect("evaluations:calibration_results", pk=session.pk)
        levels, errors = _parse_levels(request.POST, items, criteria)
        if not errors:
            try:
                with transaction.atomic():
                    for item in items:
                        if levels.get(item.interaction_id):
                            services.calibration_scores_save(actor=request.user, session=session,
                                                             interaction=item.interaction,
                                                             levels=levels[item.interaction_id])
            except ValidationError as e:
                for key, msgs in getattr(e, "message_dict", {"": e.messages}).items():
                    errors[key] = " ".join(msgs)
            else:
                messages.success(request, _("Your scores are saved. Nobody sees them until the session closes."))
                return redirect("evaluations:calibration_score", pk=session.pk)
    own = {
        (s.interaction_id, s.criterion_id): (NOT_APPLICABLE if s.level is None else str(s.level))
        for s in CalibrationScore.objects.filter(session=session, evaluator=me)
    }
    posted = request.POST if request.method == "POST" else {}
    rows = []
    for item in items:
        cells = []
        for c in criteria:
            key = f"s-{item.interaction_id}-{c.pk}"
            value = posted.get(key, own.get((item.interaction_id, c.pk), "")) if posted else own.get(
                (item.interaction_id, c.pk), "")
            cells.append({"key": key, "criterion": c, "value": value, "error": errors.get(key, ""),
                          "levels": [(lv, c.level_description(lv)) for lv in range(c.scale_min, c.scale_max + 1)]})
        rows.append({"item": item, "cells": cells})
    done = sum(1 for v in own.values() if v != "")
    return render(request, "evaluations/calibration_score.html", {
        "session": session, "rows": rows, "criteria": criteria, "errors": errors,
        "open": session.status == CalibrationSession.Status.OPEN, "done": done,
        "expected": len(items) * len(criteria), "NA": NOT_APPLICABLE,
    })


@require_POST
def calibration_close(request: HttpRequest, pk: int) -> HttpResponse:
    session = access.get_for_change(request.user, CalibrationSession, pk=pk)
    try:
        services.calibration_close(actor=request.user, session=session)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect("evaluations:calibration_detail", pk=session.pk)
    messages.success(request, _("Session closed; the result went to the supervision group."))
    return redirect("evaluations:calibration_results", pk=session.pk)


def calibration_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Agreement (Krippendorff's alpha), leniency and the items to discuss — after the session closes."""
    session = access.get_for_view(request.user, CalibrationSession.objects.select_related("scorecard"), pk=pk)
    if session.status != CalibrationSession.Status.CLOSED:
        raise PermissionDenied(_("The results are shown when the session closes: scoring is blind until then."))
    result = session.result or {}
    context = _session_context(request, session)
    matrix: dict[tuple[int, int, int], int | None] = {
        (s.interaction_id, s.criterion_id, s.evaluator_id): s.level for s in session.scores.all()
    }
    evaluators = [e["e"] for e in context["evaluators"]]
    table = []
    for item in context["items"]:
        for c in context["criteria"]:
            table.append({
                "item": item, "criterion": c,
                "levels": [matrix.get((item.interaction_id, c.pk, e.pk), "") for e in evaluators],
            })
    names = {c.pk: c.display_name for c in context["criteria"]}
    for c in result.get("criteria") or []:
        c["name"] = names.get(c.get("id"), c.get("name"))
    for d in result.get("discuss") or []:
        d["criterion_name"] = names.get(d.get("criterion"), d.get("criterion_name"))
    lenient = result.get("evaluators") or []
    scale = max((c.scale_max - c.scale_min for c in context["criteria"]), default=4) or 4
    for e in lenient:
        value = e.get("leniency")
        e["bar_left"], e["bar_width"] = _bar(value, scale)
    return render(request, "evaluations/calibration_results.html", context | {
        "result": result, "reading": calibration.reading_text(result), "formula": calibration.FORMULA,
        "table": table, "evaluator_list": evaluators, "lenient": lenient,
        "alpha_pct": None if result.get("alpha") is None else max(0, min(100, round(result["alpha"] * 100))),
    })


def _bar(value: float | None, scale: int) -> tuple[float, float]:
    """A centred bar for a leniency on ±half the scale: (left %, width %)."""
    if value is None:
        return 50.0, 0.0
    half = scale / 2
    share = max(-1.0, min(1.0, value / half)) * 50
    return (50.0 + share, -share) if share < 0 else (50.0, share)
