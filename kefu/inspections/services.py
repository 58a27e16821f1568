"""Inspection writes: plans, inspections, the sample draw, checklist recording, findings (policy S1-S3).

Every function is keyword-only, takes the ``actor``, runs in a transaction, validates, and writes an
audit entry. Only members of the supervision group (``Role.INSPECTOR``, S1) write here; a step taken
in the wrong state raises a ValidationError naming the state, so a double-clicked button acts once.

    plan (S2: what, how, when, by whom) ──plans_due / by hand──▶ inspection: planned
    planned ──start──▶ in_progress ──(every item recorded)──▶ completed

The sample draw is reproducible: each kind of record is drawn with ``random.Random(f"{seed}:{kind}")``
from the ids of the records of the inspection's period and scope, ordered by id; the seed is stored,
so drawing again with it gives the same rows. A draw with another seed (or other sizes) replaces the
sample only with a reason, and the audit log keeps both.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
import random
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import attachments as core_attachments
from kefu.core import audit
from kefu.core.models import Attachment
from kefu.core.services import notify
from kefu.inspections import access as iaccess
from kefu.inspections.models import (
    ChecklistTemplate,
    ComplianceHit,
    Finding,
    Inspection,
    InspectionItem,
    InspectionPlan,
    Method,
    PlanItem,
    Recurrence,
    SampleKind,
    SampleRecord,
    Topic,
)
from kefu.people.access import has_role
from kefu.people.models import Employee, OrgUnit, Role

SAMPLE_MAX_PER_KIND = 200
ITEM_TEXT_MAX = 300
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 10
# The file's first bytes decide its type (kefu.core.uploads), not its name or the browser's say-so.
ATTACHMENT_TYPES = ("pdf", "png", "jpeg", "webp")
ATTACHMENT_KINDS = "PDF, PNG, JPEG, WebP"

PLAN_FIELDS = ["title", "topic", "methods", "recurrence", "org_unit_id", "sample_sizes", "active"]
INSPECTION_FIELDS = ["plan_id", "title", "topic", "kind", "methods", "org_unit_id", "period_start", "period_end",
                     "status", "seed", "sample_sizes", "lead_inspector_id", "started_at", "completed_at", "summary"]


# ===========================================================================================
# Helpers
# ===========================================================================================


def _require_inspector(actor) -> None:
    """Policy S1: only the supervision group writes inspection data."""
    if not iaccess.is_inspector(actor):
        raise PermissionDenied(_("Only members of the supervision group may do this."))


def _state_error(inspection: Inspection) -> ValidationError:
    return ValidationError(_("This inspection is %(status)s; that step is not possible now.")
                           % {"status": inspection.get_status_display()})


def _locked(inspection: Inspection) -> Inspection:
    return Inspection.objects.select_for_update().get(pk=inspection.pk)


def inspection_url(inspection: Inspection) -> str:
    return reverse("inspections:inspection_detail", args=[inspection.pk])


def company_root() -> OrgUnit | None:
    return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()


def clean_items(items: Iterable[Any]) -> list[tuple[str, str]]:
    """Checklist rows as ``(text, clause)``: from pairs, dicts or "text | clause" lines; blanks dropped."""
    rows: list[tuple[str, str]] = []
    for raw in items:
        if isinstance(raw, Mapping):
            text, clause = str(raw.get("text") or ""), str(raw.get("clause") or "")
        elif isinstance(raw, str):
            text, _sep, clause = raw.partition("|")
        else:
            text, clause = [*list(raw), "", ""][:2]
        text, clause = str(text).strip(), str(clause).strip()
        if not text:
            continue
        if len(text) > ITEM_TEXT_MAX:
            raise ValidationError({"items": _("A checklist item is longer than %(n)s characters: %(text)s…")
                                   % {"n": ITEM_TEXT_MAX, "text": text[:40]}})
        if len(clause) > 16:
            raise ValidationError({"items": _("“%(clause)s” is too long for a clause (e.g. E2.1).")
                                   % {"clause": clause}})
        rows.append((text, clause))
    return rows


def template_items(template: ChecklistTemplate) -> list[tuple[str, str]]:
    return [(i.text, i.clause) for i in template.items.order_by("order", "id")]


def ensure_default_templates() -> None:
    """Seed the three S2 checklist templates when they are missing (migration 0002's data; a flushed
    test database or a fresh demo has none)."""
    import importlib

    from django.apps import apps

    importlib.import_module("kefu.inspections.migrations.0002_default_checklists").seed(apps, None)


def default_template(topic: str) -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(topic=topic, active=True).order_by("pk").first()


def clean_methods(methods: Iterable[str] | None) -> list[str]:
    chosen = [m for m in Method.values if m in set(methods or [])]
    unknown = set(methods or []) - set(Method.values)
    if unknown:
        raise ValidationError({"methods": _("Unknown method: %(m)s") % {"m": ", ".join(sorted(unknown))}})
    if not chosen:
        raise ValidationError({"methods": _("Choose at least one method.")})
    return chosen


def clean_sizes(sizes: Mapping[str, Any] | None) -> dict[str, int]:
    """``{kind: n}`` with kinds of SampleKind and 0 ≤ n ≤ 200; zeros dropped; SampleKind order."""
    sizes = dict(sizes or {})
    unknown = set(sizes) - set(SampleKind.values)
    if unknown:
        raise ValidationError({"sample_sizes": _("Unknown kind of record: %(k)s") % {"k": ", ".join(sorted(unknown))}})
    out: dict[str, int] = {}
    for kind in SampleKind.values:
        if kind not in sizes or sizes[kind] in (None, ""):
            continue
        try:
            n = int(sizes[kind])
        except (TypeError, ValueError) as e:
            raise ValidationError({"sample_sizes": _("%(kind)s: “%(value)s” is not a whole number.")
                                   % {"kind": SampleKind(kind).label, "value": sizes[kind]}}) from e
        if n < 0 or n > SAMPLE_MAX_PER_KIND:
            raise ValidationError({"sample_sizes": _("%(kind)s: draw between 0 and %(max)s records.")
                                   % {"kind": SampleKind(kind).label, "max": SAMPLE_MAX_PER_KIND}})
        if n:
            out[kind] = n
    return out


def _clean_inspectors(users: Iterable[Any]) -> list[Any]:
    users = list(users)
    outside = [u for u in users if not has_role(u, Role.INSPECTOR)]
    if outside:
        raise ValidationError({"inspectors": _("Not in the supervision group: %(names)s")
                               % {"names": ", ".join(u.get_username() for u in outside)}})
    return users


def _plan_snapshot(plan: InspectionPlan) -> dict[str, Any]:
    data = audit.snapshot(plan, PLAN_FIELDS)
    data["inspectors"] = sorted(plan.inspectors.values_list("pk", flat=True)) if plan.pk else []
    data["items"] = [[i.text, i.clause] for i in plan.items.order_by("order", "id")] if plan.pk else []
    return data


# ===========================================================================================
# Plans (S2: what is checked, how, when, by whom)
# ===========================================================================================


@transaction.atomic
def plan_create(*, actor, title: str, topic: str, recurrence: str, methods: Iterable[str],
                org_unit: OrgUnit | None = None, sample_sizes: Mapping[str, Any] | None = None,
                inspectors: Iterable[Any] = (), template: ChecklistTemplate | None = None,
                items: Iterable[Any] | None = None, active: bool = True) -> InspectionPlan:
    """A plan; its checklist is ``items`` when given (typed), else the template's (default: the topic's)."""
    _require_inspector(actor)
    rows = clean_items(items) if items is not None else []
    if not rows:
        template = template or default_template(topic)
        rows = template_items(template) if template is not None else []
    if not rows:
        raise ValidationError({"items": _("A plan needs at least one checklist item.")})
    plan = InspectionPlan(title=(title or "").strip(), topic=topic, recurrence=recurrence,
                          methods=clean_methods(methods), org_unit=org_unit,
                          sample_sizes=clean_sizes(sample_sizes), active=active, created_by=actor)
    plan.full_clean()
    plan.save()
    plan.inspectors.set(_clean_inspectors(inspectors))
    PlanItem.objects.bulk_create(PlanItem(plan=plan, text=t, clause=c, order=i)
                                 for i, (t, c) in enumerate(rows, start=1))
    audit.record(actor=actor, action="inspection_plan.create", obj=plan,
                 changes=audit.diff(None, _plan_snapshot(plan)))
    return plan


@transaction.atomic
def plan_update(*, actor, plan: InspectionPlan, title: str, topic: str, recurrence: str, methods: Iterable[str],
                org_unit: OrgUnit | None, sample_sizes: Mapping[str, Any] | None, inspectors: Iterable[Any],
                items: Iterable[Any] | None = None, template: ChecklistTemplate | None = None,
                active: bool = True, reason: str = "") -> InspectionPlan:
    """Change a plan; its checklist is replaced by ``items`` (or the template's) when one is given.

    Inspections already made from the plan keep the checklist they copied."""
    _require_inspector(actor)
    plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
    before = _plan_snapshot(plan)
    rows: list[tuple[str, str]] | None = None
    if items is not None:
        rows = clean_items(items)
    if not rows and template is not None:
        rows = template_items(template)
    if rows is not None and not rows:
        raise ValidationError({"items": _("A plan needs at least one checklist item.")})
    plan.title, plan.topic, plan.recurrence = (title or "").strip(), topic, recurrence
    plan.methods, plan.org_unit = clean_methods(methods), org_unit
    plan.sample_sizes, plan.active = clean_sizes(sample_sizes), active
    plan.full_clean()
    plan.save()
    plan.inspectors.set(_clean_inspectors(inspectors))
    if rows is not None:
        plan.items.all().delete()
        PlanItem.objects.bulk_create(PlanItem(plan=plan, text=t, clause=c, order=i)
                                     for i, (t, c) in enumerate(rows, start=1))
    changes = audit.diff(before, _plan_snapshot(plan))
    if changes:
        audit.record(actor=actor, action="inspection_plan.update", obj=plan, changes=changes, reason=reason)
    return plan


def _shift_month(year: int, month: int, steps: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + steps
    return index // 12, index % 12 + 1


def period_due(recurrence: str, on: datetime.date) -> tuple[datetime.date, datetime.date, str]:
    """The period a recurring plan's inspection due on ``on`` reviews, and its label.

    The records of a month or quarter are complete only once it has ended, so the inspection made
    in November reviews October (monthly) and the one made in Q4 reviews Q3 (quarterly)."""
    if recurrence == Recurrence.MONTHLY:
        year, month = _shift_month(on.year, on.month, -1)
        start = datetime.date(year, month, 1)
        end = datetime.date(year, month, pycalendar.monthrange(year, month)[1])
        return start, end, f"{year}-{month:02d}"
    if recurrence == Recurrence.QUARTERLY:
        quarter = (on.month - 1) // 3  # the current quarter, 0-based; the previous is quarter - 1
        year, first = _shift_month(on.year, quarter * 3 + 1, -3)
        start = datetime.date(year, first, 1)
        last = first + 2
        end = datetime.date(year, last, pycalendar.monthrange(year, last)[1])
        return start, end, f"{year}-Q{(first - 1) // 3 + 1}"
    raise ValueError(f"{recurrence} plans are not scheduled")


# ===========================================================================================
# Inspections
# ===========================================================================================


def _inspection_snapshot(inspection: Inspection) -> dict[str, Any]:
    data = audit.snapshot(inspection, INSPECTION_FIELDS)
    data["items"] = [[i.text, i.clause] for i in inspection.items.order_by("order", "id")]
    return data


@transaction.atomic
def inspection_create(*, actor, period_start: datetime.date, period_end: datetime.date,
                      plan: InspectionPlan | None = None, title: str = "", topic: str = "",
                      org_unit: OrgUnit | None = None, methods: Iterable[str] | None = None,
                      sample_sizes: Mapping[str, Any] | None = None, template: ChecklistTemplate | None = None,
                      items: Iterable[Any] | None = None, kind: str | None = None, lead_inspector=None,
                      start: bool = False, system: bool = False) -> Inspection:
    """An inspection, planned (or started at once with ``start``), with its own copy of the checklist.

    From a plan: the plan's topic, scope, methods, sample sizes and items (an unannounced plan's
    inspections are unannounced). Without one it is an unannounced spot check (S1) with the items
    typed, or the template's (default: the topic's). ``system`` is the scheduled job (no actor)."""
    if not system:
        _require_inspector(actor)
    if plan is not None:
        title = title or plan.title
        topic = topic or plan.topic
        org_unit = org_unit if org_unit is not None else plan.org_unit
        methods = methods if methods is not None else plan.methods
        sample_sizes = sample_sizes if sample_sizes is not None else plan.sample_sizes
        if kind is None:
            kind = (Inspection.Kind.UNANNOUNCED if plan.recurrence == Recurrence.UNANNOUNCED
                    else Inspection.Kind.SCHEDULED)
        rows = clean_items(items) if items is not None else [(i.text, i.clause) for i in plan.items.all()]
    else:
        kind = kind or Inspection.Kind.UNANNOUNCED
        rows = clean_items(items) if items is not None else []
        if not rows:
            template = template or (default_template(topic) if topic else None)
            rows = template_items(template) if template is not None else []
    if not rows:
        raise ValidationError({"items": _("An inspection needs at least one checklist item.")})
    creator = actor if actor is not None else (plan.created_by if plan is not None else None)
    lead = lead_inspector or actor or creator
    inspection = Inspection(plan=plan, title=(title or "").strip(), topic=topic, kind=kind,
                            methods=clean_methods(methods), org_unit=org_unit,
                            period_start=period_start, period_end=period_end,
                            sample_sizes=clean_sizes(sample_sizes), lead_inspector=lead, created_by=creator)
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    inspection.full_clean(validate_constraints=False)
    if not system and lead is not None and not has_role(lead, Role.INSPECTOR):
        raise ValidationError({"lead_inspector": _("The lead inspector must be in the supervision group.")})
    if start:
        inspection.status = Inspection.Status.IN_PROGRESS
        inspection.started_at = timezone.now()
    try:
        with transaction.atomic():
            inspection.save()
    except IntegrityError as e:
        raise ValidationError(_("This plan already has an inspection for %(start)s – %(end)s.")
                              % {"start": period_start, "end": period_end}) from e
    InspectionItem.objects.bulk_create(InspectionItem(inspection=inspection, text=t, clause=c, order=i)
                                       for i, (t, c) in enumerate(rows, start=1))
    audit.record(actor=actor, action="inspection.create", obj=inspection,
                 changes=audit.diff(None, _inspection_snapshot(inspection)))
    return inspection


@transaction.atomic
def inspection_start(*, actor, inspection: Inspection) -> Inspection:
    """planned → in_progress; whoever starts it leads it unless another inspector was named."""
    _require_inspector(actor)
    inspection = _locked(inspection)
    if inspection.status != Inspection.Status.PLANNED:
        raise _state_error(inspection)
    before = audit.snapshot(inspection, INSPECTION_FIELDS)
    inspection.status = Inspection.Status.IN_PROGRESS
    inspection.started_at = timezone.now()
    inspection.save(update_fields=["status", "started_at", "updated_at"])
    audit.record(actor=actor, action="inspection.start", obj=inspection,
                 changes=audit.diff(before, audit.snapshot(inspection, INSPECTION_FIELDS)))
    return inspection


@transaction.atomic
def inspection_complete(*, actor, inspection: Inspection, summary: str = "") -> Inspection:
    """in_progress → completed, once every checklist item has a result (and a drawn sample when sampling)."""
    _require_inspector(actor)
    inspection = _locked(inspection)
    if inspection.status != Inspection.Status.IN_PROGRESS:
        raise _state_error(inspection)
    missing = list(inspection.items.filter(result="").order_by("order", "id"))
    if missing:
        names = "; ".join(f"{i.order}. {i.text}" for i in missing)
        raise ValidationError({"items": _("Record every checklist item first. Not recorded: %(items)s")
                               % {"items": names}})
    if Method.SAMPLING in (inspection.methods or []) and inspection.sample_sizes and inspection.seed is None:
        raise ValidationError(_("This inspection samples records: draw the sample first."))
    # policy S3: every failed item has its finding (item_record makes it; this keeps the rule whole).
    without = inspection.items.filter(result=InspectionItem.Result.FAIL, findings__isnull=True)
    for item in without:
        _finding_for_item(actor, inspection, item)
    before = audit.snapshot(inspection, INSPECTION_FIELDS)
    inspection.status = Inspection.Status.COMPLETED
    inspection.completed_at = timezone.now()
    inspection.summary = (summary or "").strip()
    inspection.save(update_fields=["status", "completed_at", "summary", "updated_at"])
    audit.record(actor=actor, action="inspection.complete", obj=inspection,
                 changes=audit.diff(before, audit.snapshot(inspection, INSPECTION_FIELDS)))
    return inspection


# ===========================================================================================
# The sample (reproducible from its seed)
# ===========================================================================================


@dataclass(frozen=True)
class Drawn:
    kind: str
    object_id: int
    label: str


def _bounds(inspection: Inspection) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as [start, end) in aware datetimes at local midnight (Asia/Shanghai)."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(inspection.period_start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(inspection.period_end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def _scope(qs: models.QuerySet, inspection: Inspection, field: str) -> models.QuerySet:
    unit = inspection.org_unit
    if unit is None:
        return qs
    return qs.filter(**{f"{field}__path__startswith": unit.path})


def _months(start: datetime.date, end: datetime.date) -> Q:
    """Months overlapping [start, end]."""
    q = Q(pk__in=[])
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        q |= Q(year=y, month=m)
        y, m = _shift_month(y, m, 1)
    return q


def population(kind: str, inspection: Inspection) -> models.QuerySet:
    """The records of ``kind`` an inspection samples from: its period and scope, drafts left out."""
    from kefu.evaluations.models import MonthlyEvaluation, WeeklyEvaluation
    from kefu.uniforms.models import Issuance, Requisition, ScrapRequest, Sku, StockLevel

    start, end = _bounds(inspection)
    qs: models.QuerySet[Any]
    if kind == SampleKind.WEEKLY_EVALUATION:
        qs = WeeklyEvaluation.objects.exclude(status=WeeklyEvaluation.Status.DRAFT).filter(
            week_start__gte=inspection.period_start, week_start__lte=inspection.period_end)
        return _scope(qs, inspection, "agent__org_unit")
    if kind == SampleKind.MONTHLY_EVALUATION:
        qs = MonthlyEvaluation.objects.exclude(status=MonthlyEvaluation.Status.DRAFT).filter(
            _months(inspection.period_start, inspection.period_end))
        return _scope(qs, inspection, "agent__org_unit")
    if kind == SampleKind.REQUISITION:
        qs = Requisition.objects.exclude(status=Requisition.Status.DRAFT).filter(
            submitted_at__gte=start, submitted_at__lt=end)
        return _scope(qs, inspection, "employee__org_unit")
    if kind == SampleKind.ISSUANCE:
        qs = Issuance.objects.filter(issued_at__gte=start, issued_at__lt=end)
        return _scope(qs, inspection, "employee__org_unit")
    if kind == SampleKind.SCRAP_REQUEST:
        qs = ScrapRequest.objects.exclude(status=ScrapRequest.Status.DRAFT).filter(
            submitted_at__gte=start, submitted_at__lt=end)
        return _scope(qs, inspection, "employee__org_unit")
    if kind == SampleKind.SKU_COUNT:
        # A physical count checks what is on the shelves now: active SKUs with stock anywhere.
        return Sku.objects.filter(active=True, pk__in=StockLevel.objects.filter(on_hand__gt=0).values("sku_id"))
    raise ValueError(kind)


def _labels(kind: str, ids: list[int]) -> dict[int, str]:
    from kefu.evaluations.models import MonthlyEvaluation, WeeklyEvaluation
    from kefu.uniforms.models import Issuance, Requisition, ScrapRequest, Sku

    if kind == SampleKind.WEEKLY_EVALUATION:
        return {e.pk: f"{e.agent.name} ({e.agent.employee_no}) · {e.iso_year}-W{e.iso_week:02d}"
                for e in WeeklyEvaluation.objects.filter(pk__in=ids).select_related("agent")}
    if kind == SampleKind.MONTHLY_EVALUATION:
        return {e.pk: f"{e.agent.name} ({e.agent.employee_no}) · {e.year}-{e.month:02d}"
                for e in MonthlyEvaluation.objects.filter(pk__in=ids).select_related("agent")}
    if kind == SampleKind.REQUISITION:
        return {r.pk: f"{r.number} · {r.employee.name}"
                for r in Requisition.objects.filter(pk__in=ids).select_related("employee")}
    if kind == SampleKind.ISSUANCE:
        return {r.pk: f"{r.number} · {r.employee_name}" for r in Issuance.objects.filter(pk__in=ids)}
    if kind == SampleKind.SCRAP_REQUEST:
        return {r.pk: f"{r.number} · {r.employee.name}"
                for r in ScrapRequest.objects.filter(pk__in=ids).select_related("employee")}
    if kind == SampleKind.SKU_COUNT:
        return {s.pk: f"{s.code} · {s.style.name} {s.size.code}"
                for s in Sku.objects.filter(pk__in=ids).select_related("style", "size")}
    raise ValueError(kind)


def draw(inspection: Inspection, sizes: Mapping[str, int], seed: int) -> list[Drawn]:
    """The sample ``seed`` gives: per kind, ``random.Random(f"{seed}:{kind}").sample(ids, n)`` over the
    population's ids in ascending order (fewer when the population is smaller). Pure: writes nothing."""
    out: list[Drawn] = []
    for kind in SampleKind.values:
        n = sizes.get(kind, 0)
        if not n:
            continue
        ids = list(population(kind, inspection).order_by("pk").values_list("pk", flat=True))
        picked = random.Random(f"{seed}:{kind}").sample(ids, min(n, len(ids)))
        labels = _labels(kind, picked)
        out.extend(Drawn(kind=kind, object_id=pk, label=labels[pk][:300]) for pk in picked)
    return out


def new_seed() -> int:
    return secrets.randbits(62)


def _model_of(kind: str) -> type[models.Model]:
    from kefu.evaluations.models import MonthlyEvaluation, WeeklyEvaluation
    from kefu.uniforms.models import Issuance, Requisition, ScrapRequest, Sku

    return {
        SampleKind.WEEKLY_EVALUATION: WeeklyEvaluation, SampleKind.MONTHLY_EVALUATION: MonthlyEvaluation,
        SampleKind.REQUISITION: Requisition, SampleKind.ISSUANCE: Issuance,
        SampleKind.SCRAP_REQUEST: ScrapRequest, SampleKind.SKU_COUNT: Sku,
    }[SampleKind(kind)]


@transaction.atomic
def sample_draw(*, actor, inspection: Inspection, sizes: Mapping[str, Any] | None, seed: int | None = None,
                fresh: bool = False, reason: str = "") -> list[SampleRecord]:
    """Draw (or draw again) the inspection's sample and store it with its seed.

    - First draw: ``seed`` or a new random one.
    - Again with the stored seed and sizes (``seed`` None or equal, ``fresh`` False): the same rows —
      the repeat an auditor runs; no reason needed.
    - Another seed, ``fresh`` (a new random seed) or other sizes: a new draw, which needs a reason.
    """
    _require_inspector(actor)
    inspection = _locked(inspection)
    if inspection.status != Inspection.Status.IN_PROGRESS:
        raise _state_error(inspection)
    sizes = clean_sizes(inspection.sample_sizes if sizes is None else sizes)
    if not sizes:
        raise ValidationError({"sample_sizes": _("Say how many records of at least one kind to draw.")})
    if seed is not None and (seed < 0 or seed >= 2 ** 63):
        raise ValidationError({"seed": _("The seed is a whole number from 0 to 2⁶³ − 1.")})
    reason = (reason or "").strip()
    if inspection.seed is None:
        action = "inspection.sample_draw"
        seed = seed if seed is not None and not fresh else new_seed()
    elif not fresh and (seed is None or seed == inspection.seed) and sizes == inspection.sample_sizes:
        action = "inspection.sample_repeat"
        seed = inspection.seed
    else:
        if not reason:
            raise ValidationError({"reason": _("A new draw replaces the stored sample: give the reason.")})
        action = "inspection.sample_redraw"
        seed = new_seed() if fresh or seed is None else seed
    rows = draw(inspection, sizes, seed)
    before = {"seed": inspection.seed, "sample_sizes": inspection.sample_sizes,
              "sample": [[s.kind, s.object_id] for s in inspection.samples.order_by("kind", "order")]}
    inspection.samples.all().delete()
    types = {kind: ContentType.objects.get_for_model(_model_of(kind)) for kind in sizes}
    records = SampleRecord.objects.bulk_create(
        SampleRecord(inspection=inspection, kind=d.kind, content_type=types[d.kind], object_id=d.object_id,
                     label=d.label, order=i) for i, d in enumerate(rows, start=1))
    inspection.seed, inspection.sample_sizes, inspection.sampled_at = seed, sizes, timezone.now()
    inspection.save(update_fields=["seed", "sample_sizes", "sampled_at", "updated_at"])
    after = {"seed": seed, "sample_sizes": sizes,
             "sample": [[d.kind, d.object_id] for d in sorted(rows, key=lambda d: d.kind)]}
    audit.record(actor=actor, action=action, obj=inspection, changes=audit.diff(before, after), reason=reason)
    return records


def sample_matches_seed(inspection: Inspection) -> bool:
    """Whether drawing again with the stored seed gives exactly the stored sample (an auditor's check)."""
    inspection = Inspection.objects.get(pk=inspection.pk)
    if inspection.seed is None:
        return False
    stored = [(s.kind, s.object_id) for s in inspection.samples.order_by("order", "id")]
    again = [(d.kind, d.object_id) for d in draw(inspection, inspection.sample_sizes, inspection.seed)]
    return stored == again


# ===========================================================================================
# Checklist items and their files
# ===========================================================================================


def _attach(actor, item: InspectionItem, uploads: Iterable[UploadedFile]) -> list[Attachment]:
    """Files for a checklist item (PDF, PNG, JPEG, WebP; ≤ 10 MB; at most 10 per item), all or none; the
    item's audit entry names them."""
    return core_attachments.attachments_add(actor=actor, target=item, uploads=uploads, kinds=ATTACHMENT_TYPES,
                                            max_bytes=ATTACHMENT_MAX_BYTES, max_count=ATTACHMENT_MAX_COUNT,
                                            field="file", record=False)


@transaction.atomic
def item_attach(*, actor, item: InspectionItem, upload: UploadedFile) -> Attachment:
    """A file (PDF, PNG, JPEG, WebP; ≤ 10 MB; at most 10 per item) for a checklist item being recorded."""
    _require_inspector(actor)
    inspection = _locked(item.inspection)
    if inspection.status != Inspection.Status.IN_PROGRESS:
        raise _state_error(inspection)
    added = _attach(actor, item, [upload])
    if not added:
        raise ValidationError({"file": _("Choose a file to attach.")})
    att = added[0]
    audit.record(actor=actor, action="inspection_item.attach", obj=item,
                 changes={"attachments": [None, {"name": att.original_name, "type": att.mime_type,
                                                 "size": att.size}]})
    return att


def _finding_for_item(actor, inspection: Inspection, item: InspectionItem) -> Finding:
    return finding_create(actor=actor, inspection=inspection, title=item.text, detail=item.notes,
                          org_unit=inspection.org_unit or company_root(), item=item)


@transaction.atomic
def item_record(*, actor, item: InspectionItem, result: str, notes: str = "",
                uploads: Iterable[UploadedFile] = ()) -> InspectionItem:
    """Record one checklist item: pass, fail or n/a, with notes and files.

    policy S3: a failed item becomes a finding (made here, editable after); a failure needs notes
    saying what was wrong. Turning a failed item into a pass or n/a removes its finding, unless a
    rectification was already requested for it."""
    _require_inspector(actor)
    inspection = _locked(item.inspection)
    if inspection.status != Inspection.Status.IN_PROGRESS:
        raise _state_error(inspection)
    item = InspectionItem.objects.select_for_update().get(pk=item.pk, inspection=inspection)
    if result not in (InspectionItem.Result.PASS, InspectionItem.Result.FAIL, InspectionItem.Result.NA):
        raise ValidationError({"result": _("Choose pass, fail or not applicable.")})
    notes = (notes or "").strip()
    if result == InspectionItem.Result.FAIL and not notes:
        raise ValidationError({"notes": _("Say what was wrong: a failed item becomes a finding.")})
    before = audit.snapshot(item, ["result", "notes"])
    item.result, item.notes = result, notes
    item.recorded_by, item.recorded_at = actor, timezone.now()
    item.full_clean()
    item.save()
    attached = _attach(actor, item, uploads)
    changes = audit.diff(before, audit.snapshot(item, ["result", "notes"]))
    if attached:
        changes["attachments"] = [None, [a.original_name for a in attached]]
    audit.record(actor=actor, action="inspection_item.record", obj=item, changes=changes)
    finding = item.findings.first()
    if result == InspectionItem.Result.FAIL:
        if finding is None:
            _finding_for_item(actor, inspection, item)
    elif finding is not None:
        if Finding.objects.filter(pk=finding.pk, rectification__isnull=False).exists():
            raise ValidationError({"result": _("A rectification was requested for this item's finding; "
                                               "it stays failed.")})
        audit.record(actor=actor, action="finding.delete", obj=finding,
                     changes=audit.diff(audit.snapshot(finding, ["title", "detail", "org_unit_id"]), None),
                     reason=_("The checklist item is no longer failed."))
        finding.delete()
    return item


# ===========================================================================================
# Findings (S3)
# ===========================================================================================

FINDING_FIELDS = ["inspection_id", "item_id", "hit_id", "title", "detail", "org_unit_id", "employee_id"]


@transaction.atomic
def finding_create(*, actor, inspection: Inspection, title: str, detail: str, org_unit: OrgUnit | None,
                   employee: Employee | None = None, item: InspectionItem | None = None,
                   hit: ComplianceHit | None = None) -> Finding:
    """A problem found (S3): from a failed item, a compliance hit, or noted by hand.

    Filed while the inspection is planned or in progress; one finding per checklist item."""
    _require_inspector(actor)
    inspection = _locked(inspection)
    if inspection.status == Inspection.Status.COMPLETED:
        raise _state_error(inspection)
    if item is not None and item.inspection_id != inspection.pk:
        raise ValidationError({"item": _("That checklist item belongs to another inspection.")})
    if hit is not None and hit.inspection_id not in (None, inspection.pk):
        raise ValidationError({"hit": _("That compliance hit is attached to another inspection.")})
    if item is not None and Finding.objects.filter(item=item).exists():
        raise ValidationError({"item": _("This checklist item has its finding already.")})
    if org_unit is None:
        raise ValidationError({"org_unit": _("Name the department concerned.")})
    finding = Finding(inspection=inspection, item=item, hit=hit, title=(title or "").strip()[:300],
                      detail=(detail or "").strip(), org_unit=org_unit, employee=employee, created_by=actor)
    finding.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            finding.save()
    except IntegrityError as e:
        raise ValidationError({"item": _("This checklist item has its finding already.")}) from e
    audit.record(actor=actor, action="finding.create", obj=finding,
                 changes=audit.diff(None, audit.snapshot(finding, FINDING_FIELDS)))
    return finding


@transaction.atomic
def finding_update(*, actor, finding: Finding, title: str, detail: str, org_unit: OrgUnit | None,
                   employee: Employee | None = None) -> Finding:
    """Edit a finding (the department and person concerned, wording) until a rectification is requested."""
    _require_inspector(actor)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if Finding.objects.filter(pk=finding.pk, rectification__isnull=False).exists():
        raise ValidationError(_("A rectification was requested for this finding; it can no longer be changed."))
    if org_unit is None:
        raise ValidationError({"org_unit": _("Name the department concerned.")})
    before = audit.snapshot(finding, FINDING_FIELDS)
    finding.title, finding.detail = (title or "").strip()[:300], (detail or "").strip()
    finding.org_unit, finding.employee = org_unit, employee
    finding.full_clean(validate_constraints=False)
    finding.save()
    changes = audit.diff(before, audit.snapshot(finding, FINDING_FIELDS))
    if changes:
        audit.record(actor=actor, action="finding.update", obj=finding, changes=changes)
    return finding


# ===========================================================================================
# Plans due (the scheduled job)
# ===========================================================================================


@dataclass
class DueRun:
    plans: int = 0
    created: int = 0
    existing: int = 0


def plans_due(*, on: datetime.date | None = None) -> DueRun:
    """Make the inspections of the active monthly and quarterly plans for the period due on ``on``.

    Idempotent per plan and period (a unique constraint backs the check), so a re-run, a retry or two
    servers running it at once make each inspection once. The plan's inspectors are told."""
    on = on or timezone.localdate()
    run = DueRun()
    plans = (InspectionPlan.objects.filter(active=True, recurrence__in=[Recurrence.MONTHLY, Recurrence.QUARTERLY])
             .select_related("created_by").prefetch_related("items", "inspectors").order_by("pk"))
    for plan in plans:
        run.plans += 1
        start, end, label = period_due(plan.recurrence, on)
        if Inspection.objects.filter(plan=plan, kind=Inspection.Kind.SCHEDULED, period_start=start,
                                     period_end=end).exists():
            run.existing += 1
            continue
        inspectors = sorted(plan.inspectors.all(), key=lambda u: u.pk)
        try:
            with transaction.atomic():
                inspection = inspection_create(
                    actor=None, system=True, plan=plan, period_start=start, period_end=end,
                    title=f"{plan.title} {label}", kind=Inspection.Kind.SCHEDULED,
                    lead_inspector=inspectors[0] if inspectors else plan.created_by)
                notify(recipients=inspectors or [plan.created_by],
                       title=_("Inspection due: %(title)s") % {"title": inspection.title},
                       body=_("Period %(start)s – %(end)s (policy S2).") % {"start": start, "end": end},
                       url=inspection_url(inspection))
        except ValidationError:
            run.existing += 1  # made meanwhile by another run
            continue
        run.created += 1
    return run


__all__ = [
    "Topic", "clean_items", "clean_methods", "clean_sizes", "draw", "finding_create", "finding_update",
    "inspection_complete", "inspection_create", "inspection_start", "item_attach", "item_record", "period_due",
    "plan_create", "plan_update", "plans_due", "population", "sample_draw", "sample_matches_seed",
]
