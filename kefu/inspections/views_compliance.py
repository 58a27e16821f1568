"""Pages of the automatic compliance checks (issue 8 item 4): the dashboard (latest run, counts per
check with their clause and the change since the previous run, filter by department), the hits of
one check with links to the records, "run now" and "attach to an inspection" for inspectors.

The supervision group, HR and leadership read them; only inspectors run and attach (others: 403);
everyone else gets 404. Each page runs a fixed number of queries.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.views import flash_errors
from kefu.inspections import compliance
from kefu.inspections.models import ComplianceHit, ComplianceRun, Inspection
from kefu.people.models import OrgUnit

PAGE_SIZE = 50


def _require_reader(user) -> None:
    if not compliance.can_read(user):
        raise Http404


def _require_runner(user) -> None:
    _require_reader(user)
    if not compliance.can_run(user):
        raise PermissionDenied


def _departments() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).order_by("path"))


def _unit_filter(request: HttpRequest, departments: list[OrgUnit]) -> OrgUnit | None:
    raw = request.GET.get("unit", "")
    return next((d for d in departments if str(d.pk) == raw), None)


def _in_unit(qs: QuerySet[ComplianceHit], unit: OrgUnit | None) -> QuerySet[ComplianceHit]:
    return qs.filter(org_unit__path__startswith=unit.path) if unit is not None else qs


def compliance_dashboard(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    departments = _departments()
    unit = _unit_filter(request, departments)
    runs = list(access.visible(request.user, ComplianceRun).filter(finished_at__isnull=False)
                .select_related("started_by__employee").order_by("-started_at", "-id")[:10])
    latest = runs[0] if runs else None
    previous = runs[1] if len(runs) > 1 else None
    grouped: dict[tuple[int, str], int] = {}
    if unit is not None and latest is not None:
        grouped = {(run_id, key): n for run_id, key, n in (
            _in_unit(ComplianceHit.objects.filter(run__in=runs), unit).order_by()
            .values_list("run_id", "check_key").annotate(n=Count("pk")).values_list("run_id", "check_key", "n"))}

    def count_of(run: ComplianceRun | None, key: str) -> int | None:
        """Hits of a check in a run (in the department chosen); None when the check did not run."""
        if run is None or run.counts.get(key) is None:
            return None
        return int(run.counts[key]) if unit is None else grouped.get((run.pk, key), 0)

    rows = []
    for key, chk in compliance.CHECKS.items():
        now, before = count_of(latest, key), count_of(previous, key)
        rows.append({"key": key, "label": chk.label, "clause": chk.clause, "description": chk.description,
                     "count": now, "previous": before,
                     "delta": None if now is None or before is None else now - before,
                     "url": reverse("inspections:compliance_hits", args=[latest.pk, key]) if latest else ""})
    total = sum(r["count"] or 0 for r in rows)
    totals = [sum(count_of(r, key) or 0 for key in compliance.CHECKS) for r in runs]
    trend = {"labels": [timezone.localtime(r.started_at).strftime("%m-%d %H:%M") for r in reversed(runs)],
             "totals": list(reversed(totals)), "name": _("Hits")}
    return render(request, "inspections/compliance_dashboard.html", {
        "latest": latest, "previous": previous,
        "runs": [{"run": r, "total": t} for r, t in zip(runs, totals, strict=True)], "trend": trend, "rows": rows, "total": total,
        "departments": departments, "unit": unit, "can_run": compliance.can_run(request.user),
    })


# A second click within this many seconds shows the run just made instead of running again.
RERUN_SECONDS = 60


@require_POST
def compliance_run_now(request: HttpRequest) -> HttpResponse:
    _require_runner(request.user)
    since = timezone.now() - datetime.timedelta(seconds=RERUN_SECONDS)
    if ComplianceRun.objects.filter(started_by_id=request.user.pk, started_at__gte=since).exists():
        messages.info(request, _("You ran the checks less than a minute ago; here is that run."))
        return redirect("inspections:compliance_dashboard")
    run = compliance.compliance_run(actor=request.user, trigger=ComplianceRun.Trigger.MANUAL)
    n = sum(v for v in run.counts.values() if v is not None)
    messages.success(request, _("Compliance checks run: %(n)s hit(s).") % {"n": n})
    return redirect("inspections:compliance_dashboard")


def compliance_hits(request: HttpRequest, run_pk: int, check: str) -> HttpResponse:
    _require_reader(request.user)
    chk = compliance.CHECKS.get(check)
    if chk is None:
        raise Http404
    run = access.get_for_view(request.user, ComplianceRun.objects.select_related("started_by"), pk=run_pk)
    departments = _departments()
    unit = _unit_filter(request, departments)
    qs = _in_unit(access.visible(request.user, ComplianceHit).filter(run=run, check_key=check), unit)
    page = Paginator(qs.select_related("org_unit", "employee", "inspection").order_by("id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    hits: list[dict[str, Any]] = [
        {"hit": h, "summary": compliance.summary_of(h.details, h.summary), "url": compliance.link_of(h.details)}
        for h in page.object_list
    ]
    can_attach = compliance.can_run(request.user)
    inspections = list(Inspection.objects.filter(status=Inspection.Status.IN_PROGRESS).order_by("-period_start", "-id")
                       .only("pk", "title", "period_start", "period_end")) if can_attach else []
    return render(request, "inspections/compliance_hits.html", {
        "run": run, "check": chk, "page": page, "hits": hits, "departments": departments, "unit": unit,
        "can_attach": can_attach, "inspections": inspections,
    })


@require_POST
def compliance_attach(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request.user)
    hit = access.get_for_change(request.user, ComplianceHit, pk=pk)
    back = reverse("inspections:compliance_hits", args=[hit.run_id, hit.check_key])
    if (request.POST.get("unit") or "").isdigit():
        back += f"?unit={request.POST['unit']}"
    inspection = Inspection.objects.filter(pk=request.POST.get("inspection") or 0).first() \
        if (request.POST.get("inspection") or "").isdigit() else None
    if inspection is None:
        messages.error(request, _("Inspection: choose an inspection that is in progress."))
        return redirect(back)
    org_unit = None
    raw_unit = request.POST.get("org_unit") or ""
    if raw_unit.isdigit():
        org_unit = OrgUnit.objects.filter(pk=raw_unit).first()
    try:
        finding = compliance.hit_attach(actor=request.user, hit=hit, inspection=inspection, org_unit=org_unit)
    except ValidationError as e:
        flash_errors(request, e)
        return redirect(back)
    messages.success(request, _("Attached to “%(inspection)s” as a finding: %(title)s") % {
        "inspection": inspection.title, "title": finding.title})
    return redirect(back)

