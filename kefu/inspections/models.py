"""Supervision and inspection (POLICY.md S1-S3).

- S1: the supervision group is the set of users holding ``Role.INSPECTOR``
  (assignments from admin, the CS department and HR); see ``access.py``.
- S2: inspection plans (what, how, when, by whom) with checklist templates for
  the three topics; inspections run from a plan or unannounced; a reproducible
  random sample of records (the seed is stored); checklist items recorded as
  pass / fail / n.a.
- S3: every failed item becomes a ``Finding``; a finding gets a
  ``Rectification`` request with a deadline, evidence, verification and
  escalation.
- Automatic compliance checks (``ComplianceRun`` / ``ComplianceHit``) feed the
  dashboard and may be attached to an inspection.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Topic(models.TextChoices):
    """The three things S2 says are checked."""

    PROCESS = "process", _("Evaluation process followed")
    FAIRNESS = "fairness", _("Evaluation results fair")
    UNIFORMS = "uniforms", _("Uniform management by the rules")


class Method(models.TextChoices):
    DOCUMENT_REVIEW = "document_review", _("Document review")
    SAMPLING = "sampling", _("Sampling")
    ON_SITE = "on_site", _("On-site check")
    INTERVIEW = "interview", _("Interview")


class Recurrence(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    UNANNOUNCED = "unannounced", _("Unannounced")


class SampleKind(models.TextChoices):
    WEEKLY_EVALUATION = "weekly_evaluation", _("Weekly evaluations")
    MONTHLY_EVALUATION = "monthly_evaluation", _("Monthly evaluations")
    REQUISITION = "requisition", _("Requisitions")
    ISSUANCE = "issuance", _("Issuances")
    SCRAP_REQUEST = "scrap_request", _("Scrap forms")
    SKU_COUNT = "sku_count", _("SKUs for a physical count")


# ---------------------------------------------------------------------------
# Checklist templates (S2)
# ---------------------------------------------------------------------------


class ChecklistTemplate(models.Model):
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["topic", "name"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")

    def __str__(self) -> str:
        return self.name


class TemplateItem(models.Model):
    template = models.ForeignKey(
        ChecklistTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="items"
    )
    text = models.CharField(_("item"), max_length=300)
    clause = models.CharField(_("clause"), max_length=16, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["template", "order", "id"]
        verbose_name = _("template item")
        verbose_name_plural = _("template items")

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# Plans (S2)
# ---------------------------------------------------------------------------


class InspectionPlan(models.Model):
    title = models.CharField(_("title"), max_length=200)
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    methods = models.JSONField(_("methods"), default=list, blank=True, help_text=_("Values of Method."))
    recurrence = models.CharField(_("recurrence"), max_length=12, choices=Recurrence.choices)
    org_unit = models.ForeignKey(
        "people.OrgUnit", verbose_name=_("scope"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspection_plans", help_text=_("Empty means the whole company."),
    )
    sample_sizes = models.JSONField(_("sample sizes"), default=dict, blank=True,
                                    help_text=_("Records to draw per kind of record."))
    inspectors: models.ManyToManyField = models.ManyToManyField(USER, verbose_name=_("inspectors"), blank=True,
                                        related_name="inspection_plans")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-active", "title", "id"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")

    def __str__(self) -> str:
        return self.title


class PlanItem(models.Model):
    plan = models.ForeignKey(InspectionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="items")
    text = models.CharField(_("item"), max_length=300)
    clause = models.CharField(_("clause"), max_length=16, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# Inspections
# ---------------------------------------------------------------------------


class Inspection(models.Model):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        UNANNOUNCED = "unannounced", _("Unannounced")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    plan = models.ForeignKey(InspectionPlan, verbose_name=_("plan"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="inspections")
    title = models.CharField(_("title"), max_length=200)
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.SCHEDULED)
    methods = models.JSONField(_("methods"), default=list, blank=True)
    org_unit = models.ForeignKey(
        "people.OrgUnit", verbose_name=_("scope"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspections",
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    seed = models.BigIntegerField(_("sample seed"), null=True, blank=True)
    sample_sizes = models.JSONField(_("sample sizes"), default=dict, blank=True)
    sampled_at = models.DateTimeField(_("sample drawn at"), null=True, blank=True)
    lead_inspector = models.ForeignKey(USER, verbose_name=_("lead inspector"), on_delete=models.PROTECT,
                                       related_name="inspections_led")
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="inspection_period_ordered"),
            # Plans due: one inspection per plan and period (idempotent creation).
            models.UniqueConstraint(fields=["plan", "period_start", "period_end"],
                                    condition=Q(plan__isnull=False, kind="scheduled"),
                                    name="inspection_one_per_plan_period"),
        ]

    def __str__(self) -> str:
        return self.title


class SampleRecord(models.Model):
    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE,
                                   related_name="samples")
    kind = models.CharField(_("kind"), max_length=20, choices=SampleKind.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    label = models.CharField(_("record"), max_length=300)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["inspection", "kind", "order", "id"]
        verbose_name = _("sampled record")
        verbose_name_plural = _("sampled records")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "kind", "object_id"], name="sample_record_once"),
        ]

    def __str__(self) -> str:
        return self.label


class InspectionItem(models.Model):
    class Result(models.TextChoices):
        NONE = "", _("Not recorded")
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        NA = "na", _("Not applicable")

    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE,
                                   related_name="items")
    text = models.CharField(_("item"), max_length=300)
    clause = models.CharField(_("clause"), max_length=16, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices, default=Result.NONE, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    attachments = GenericRelation("core.Attachment")  # files (core:attachment serves them)

    class Meta:
        ordering = ["inspection", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# Compliance checks (automatic)
# ---------------------------------------------------------------------------


class ComplianceRun(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", _("On demand")
        SCHEDULED = "scheduled", _("Scheduled")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    started_by = models.ForeignKey(USER, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("hits per check"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("compliance run")
        verbose_name_plural = _("compliance runs")

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.started_at:%Y-%m-%d %H:%M}"


class ComplianceHit(models.Model):
    run = models.ForeignKey(ComplianceRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="hits")
    check_key = models.CharField(_("check"), max_length=60, db_index=True)  # "check" would shadow Model.check()
    clause = models.CharField(_("clause"), max_length=16, blank=True)
    summary = models.CharField(_("summary"), max_length=500)
    org_unit = models.ForeignKey("people.OrgUnit", verbose_name=_("department"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    employee = models.ForeignKey("people.Employee", verbose_name=_("employee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="compliance_hits")
    attached_by = models.ForeignKey(USER, verbose_name=_("attached by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    attached_at = models.DateTimeField(_("attached at"), null=True, blank=True)

    class Meta:
        ordering = ["run", "check_key", "id"]
        verbose_name = _("compliance hit")
        verbose_name_plural = _("compliance hits")

    def __str__(self) -> str:
        return self.summary


# ---------------------------------------------------------------------------
# Findings and rectification (S3)
# ---------------------------------------------------------------------------


class Finding(models.Model):
    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE,
                                   related_name="findings")
    item = models.ForeignKey(InspectionItem, verbose_name=_("checklist item"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="findings")
    hit = models.ForeignKey(ComplianceHit, verbose_name=_("compliance hit"), null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="findings")
    title = models.CharField(_("title"), max_length=300)
    detail = models.TextField(_("detail"), blank=True)
    org_unit = models.ForeignKey("people.OrgUnit", verbose_name=_("department concerned"),
                                 on_delete=models.PROTECT, related_name="inspection_findings")
    employee = models.ForeignKey("people.Employee", verbose_name=_("person concerned"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="inspection_findings")
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["inspection", "id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            # A failed item gets one finding (double submits take effect once).
            models.UniqueConstraint(fields=["item"], condition=Q(item__isnull=False), name="finding_one_per_item"),
        ]

    def __str__(self) -> str:
        return self.title


class Rectification(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        CLOSED = "closed", _("Verified and closed")

    finding = models.OneToOneField(Finding, verbose_name=_("finding"), on_delete=models.CASCADE,
                                   related_name="rectification")
    org_unit = models.ForeignKey("people.OrgUnit", verbose_name=_("department responsible"),
                                 on_delete=models.PROTECT, related_name="rectifications")
    responsible = models.ForeignKey(USER, verbose_name=_("person responsible"), on_delete=models.PROTECT,
                                    related_name="rectifications")
    requirement = models.TextField(_("what must change"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    evidence = models.TextField(_("evidence"), blank=True)
    sent_back_count = models.PositiveSmallIntegerField(_("times sent back"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    verified_by = models.ForeignKey(USER, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0,
        help_text=_("0 = none, 1 = department head told, 2 = leadership told."),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    attachments = GenericRelation("core.Attachment")  # the department's evidence files (core:attachment serves them)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        constraints = [
            models.CheckConstraint(condition=Q(escalation_level__lte=2), name="rectification_escalation_level_max"),
        ]

    def __str__(self) -> str:
        return self.requirement[:60]
