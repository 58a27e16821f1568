"""The evidence picker pages (policy E2.1; issue 3 item 6).

Only the agent's evaluators — a team lead or CS supervisor whose role covers her unit — use
them: any other role gets 403, and an evaluator asking for an agent outside her scope 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kefu.people.models import Employee, Role, RoleAssignment
from kefu.service import evidence, kpis
from kefu.service.access import evaluated_agents, is_evaluator
from kefu.service.evidence import EvidenceFilters
from kefu.service.kpis import WEEK, Period, PeriodError
from kefu.service.models import Channel, EvidenceDraw, Interaction, InteractionQuerySet

PER_PAGE = 100


def _agent(request: HttpRequest, employee_no: str) -> Employee:
    if not is_evaluator(request.user):
        raise PermissionDenied
    try:
        return evaluated_agents(request.user, Employee.objects.select_related("org_unit")).get(employee_no=employee_no)
    except Employee.DoesNotExist:
        raise Http404 from None


def _week(text: str | None) -> tuple[Period, str]:
    this_week = kpis.period_of(timezone.localdate(), WEEK)
    if not text:
        return this_week, ""
    try:
        period = kpis.parse_period(text)
    except PeriodError as e:
        return this_week, str(e)
    if period.kind != WEEK:
        return this_week, _("Evidence is picked from one ISO week: write it as YYYY-Www, e.g. 2026-W10.")
    return period, ""


def _filters(data: Any) -> tuple[EvidenceFilters, str]:
    try:
        return EvidenceFilters.from_data(data), ""
    except ValidationError as e:
        return EvidenceFilters(), " ".join(e.messages)


def evidence_index(request: HttpRequest) -> HttpResponse:
    """The agents the evaluator scores, each linked to her evidence for the chosen week."""
    if not is_evaluator(request.user):
        raise PermissionDenied
    period, error = _week(request.GET.get("week"))
    is_agent = RoleAssignment.objects.filter(user=OuterRef("user"), role=Role.AGENT, start_date__lt=period.end)
    is_agent = is_agent.filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
    agents = evaluated_agents(request.user, Employee.objects.select_related("org_unit")).filter(
        Exists(is_agent), org_unit__is_customer_service=True,
    ).exclude(status=Employee.Status.PENDING).order_by("org_unit__path", "employee_no")
    page = Paginator(agents, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "service/evidence_index.html", {
        "period": period, "error": error, "page": page,
        "previous": period.shifted(-1), "next": period.shifted(1),
    })


def evidence_page(request: HttpRequest, employee_no: str) -> HttpResponse:
    agent = _agent(request, employee_no)
    period, error = _week(request.GET.get("week"))
    filters, filter_error = _filters(request.GET)
    now = timezone.now()
    qs = cast(InteractionQuerySet, evidence.evidence_interactions(agent, period, filters, now=now))
    qs = qs.select_related("survey_answer").order_by("received_at", "pk")
    page = Paginator(qs.with_sla_state(now), PER_PAGE).get_page(request.GET.get("page"))
    draws = list(
        EvidenceDraw.objects.filter(agent=agent, iso_year=period.year, iso_week=period.number)
        .select_related("created_by__employee").order_by("-created_at")[:10]
    )
    shown = None
    chosen: list[Interaction] = []
    repeats = None
    draw_id = request.GET.get("draw")
    if draw_id and str(draw_id).isdigit():
        shown = next((d for d in draws if d.pk == int(draw_id)), None) or (
            EvidenceDraw.objects.filter(pk=int(draw_id), agent=agent).first()
        )
        if shown is not None:
            picked = cast(InteractionQuerySet, Interaction.objects.filter(pk__in=shown.chosen_ids))
            chosen = list(
                picked.select_related("survey_answer").with_sla_state(shown.created_at).order_by("received_at", "pk")
            )
            repeats = evidence.replay(shown) == list(shown.chosen_ids)
    query = {k: v for k, v in filters.as_dict().items()}
    return render(request, "service/evidence_page.html", {
        "agent": agent,
        "period": period,
        "error": error or filter_error,
        "filters": filters,
        "channels": Channel.choices,
        "page": page,
        "draws": draws,
        "shown": shown,
        "chosen": chosen,
        "repeats": repeats,
        "query": urlencode({"week": period.key, **{k: "1" if v is True else v for k, v in query.items()}}),
        "previous": period.shifted(-1),
        "next": period.shifted(1),
        "max_draw": evidence.MAX_DRAW,
    })


@require_POST
def evidence_draw(request: HttpRequest, employee_no: str) -> HttpResponse:
    agent = _agent(request, employee_no)
    period, error = _week(request.POST.get("week"))
    filters, filter_error = _filters(request.POST)
    back = reverse("service:evidence", args=[agent.employee_no])
    params = {"week": period.key, **{k: "1" if v is True else v for k, v in filters.as_dict().items()}}
    if error or filter_error:
        messages.error(request, error or filter_error)
        return redirect(f"{back}?{urlencode(params)}")
    try:
        n = int(request.POST.get("n", ""))
    except ValueError:
        n = 0
    seed_text = (request.POST.get("seed") or "").strip()
    seed: int | None = None
    if seed_text:
        if not seed_text.isdigit():
            messages.error(request, _("The seed is a whole number, as shown beside an earlier draw."))
            return redirect(f"{back}?{urlencode(params)}")
        seed = int(seed_text)
    try:
        draw = evidence.evidence_draw(actor=request.user, agent=agent, period=period, filters=filters, n=n, seed=seed)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(f"{back}?{urlencode(params)}")
    n = len(draw.chosen_ids)
    messages.success(request, ngettext("Drew %(n)s interaction with seed %(seed)s.",
                                       "Drew %(n)s interactions with seed %(seed)s.", n) % {"n": n, "seed": draw.seed})
    return redirect(f"{back}?{urlencode(params | {'draw': draw.pk})}")
