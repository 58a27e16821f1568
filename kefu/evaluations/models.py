"""Evaluations: scorecards, weekly (daily) and monthly evaluations, appeals, calibration.

Policy E1 (what is evaluated: four dimensions with their criteria), E2.1 (the weekly
"daily" evaluation), E2.2 (the 100-point monthly evaluation), G3.1 (fixed standards and
process: submitted results change only through recorded transitions).

Scorecards. A scorecard is a named, versioned set of criteria, each in one of the four
dimensions of E1, each with a rubric (an integer scale and a description for each level).
The first evaluation that uses a scorecard freezes it (``frozen_at``); an edit after that
makes a new version (same name, version + 1) and old evaluations keep theirs.

Monthly flow (G3.1)::

    draft ──submit──▶ submitted ──acknowledge──────────────▶ final (final_via=acknowledged)
                          │      ──appeal window closes────▶ final (final_via=window_closed)
                          └─appeal─▶ appealed ──uphold─────▶ final (final_via=appeal_upheld)
                                              ──adjust─────▶ final (final_via=appeal_adjusted)
    final ──HR reopen (reason)──▶ draft   (reopen_count + 1, the reason in the audit log)

An acknowledgement is the agent's acceptance, so it makes the evaluation final at once
(``acknowledged_at`` records it); there is no separate "acknowledged" state that would
need a second step before the annual evaluation could count it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def stored_text(text: str) -> str:
    """A stored text shown in the reader's language when the catalogue has it (the default
    scorecard's English msgids), else as written (a criterion an editor wrote in Chinese)."""
    return gettext(text) if text else ""


class Dimension(models.TextChoices):
    """The four dimensions of E1 (E1.1-E1.4); their monthly maxima are ``evaluation.monthly_weights``."""

    ATTITUDE = "attitude", _("Service attitude")
    ABILITY = "ability", _("Business ability")
    EFFICIENCY = "efficiency", _("Work efficiency")
    TEAMWORK = "teamwork", _("Teamwork")


# E2.1: the weekly evaluation scores attitude, ability and efficiency; teamwork is monthly only.
WEEKLY_DIMENSIONS: tuple[str, ...] = (Dimension.ATTITUDE, Dimension.ABILITY, Dimension.EFFICIENCY)
MONTHLY_DIMENSIONS: tuple[str, ...] = (
    Dimension.ATTITUDE, Dimension.ABILITY, Dimension.EFFICIENCY, Dimension.TEAMWORK,
)


# ---------------------------------------------------------------------------
# Scorecards
# ---------------------------------------------------------------------------


class Scorecard(models.Model):
    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    description = models.TextField(_("description"), blank=True)
    # Set when the first evaluation uses it; from then on its criteria never change.
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    # The scorecard new evaluations use; one per name (the newest version).
    is_current = models.BooleanField(_("current version"), default=True)
    previous = models.OneToOneField(
        "self", verbose_name=_("previous version"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="next_version",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="scorecard_name_version_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_current=True), name="scorecard_one_current_per_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def display_description(self) -> str:
        return stored_text(self.description)


class Criterion(models.Model):
    """One criterion of a scorecard with its rubric.

    The rubric is an integer scale ``scale_min..scale_max`` and ``levels``, a list of
    ``{"level": int, "label": str, "description": str}``, one entry per level of the scale.
    A critical criterion fails when scored at or below ``fail_at_or_below``; a failed
    critical criterion zeroes its whole dimension in that evaluation (see scoring.py).
    A criterion that ``allow_na`` may be marked not applicable and is then left out.
    """

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="criteria"
    )
    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension.choices)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    critical = models.BooleanField(
        _("critical"), default=False, help_text=_("A failed critical criterion zeroes its dimension.")
    )
    fail_at_or_below = models.PositiveSmallIntegerField(
        _("fails at or below"), null=True, blank=True,
        help_text=_("For a critical criterion: the highest level that counts as failed."),
    )
    allow_na = models.BooleanField(_("may be not applicable"), default=False)
    scale_min = models.PositiveSmallIntegerField(_("lowest level"), default=1)
    scale_max = models.PositiveSmallIntegerField(_("highest level"), default=5)
    levels = models.JSONField(_("level descriptions"), default=list, blank=True)

    class Meta:
        ordering = ["scorecard_id", "order", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"], name="criterion_scorecard_code_unique"),
            models.CheckConstraint(condition=Q(scale_max__gt=models.F("scale_min")), name="criterion_scale_order"),
            models.CheckConstraint(
                condition=Q(critical=False) | Q(fail_at_or_below__isnull=False),
                name="criterion_critical_has_fail_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.scale_min is not None and self.scale_max is not None and self.scale_max <= self.scale_min:
            errors["scale_max"] = _("The highest level must be above the lowest.")
        if self.critical and self.fail_at_or_below is None:
            errors["fail_at_or_below"] = _("A critical criterion needs the level at or below which it fails.")
        if self.fail_at_or_below is not None and not (self.scale_min <= self.fail_at_or_below < self.scale_max):
            errors["fail_at_or_below"] = _("The fail level must lie within the scale, below its top.")
        if self.levels:
            if not isinstance(self.levels, list) or not all(
                isinstance(x, dict) and isinstance(x.get("level"), int) for x in self.levels
            ):
                errors["levels"] = _("Each level needs a whole-number level and a description.")
            else:
                got = sorted(x["level"] for x in self.levels)
                if got != list(range(self.scale_min, self.scale_max + 1)):
                    errors["levels"] = _("Describe every level from %(min)s to %(max)s once.") % {
                        "min": self.scale_min, "max": self.scale_max,
                    }
        if errors:
            raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        return stored_text(self.name)

    @property
    def display_description(self) -> str:
        return stored_text(self.description)

    def level_description(self, level: int | None) -> str:
        for entry in self.levels or []:
            if entry.get("level") == level:
                return stored_text(str(entry.get("description", "")))
        return ""

    @property
    def rubric(self) -> list[tuple[int, str]]:
        """[(level, description in the reader's language)] from the top of the scale down."""
        return [(level, self.level_description(level)) for level in range(self.scale_max, self.scale_min - 1, -1)]


# ---------------------------------------------------------------------------
# Weekly evaluation (E2.1)
# ---------------------------------------------------------------------------


class WeeklyEvaluation(models.Model):
    """The policy's "daily" evaluation, held once per agent per ISO week (E2.1)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        COMMENTED = "commented", _("Commented")

    agent = models.ForeignKey(
        "people.Employee", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="weekly_evaluations"
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(
        _("ISO week"), validators=[MinValueValidator(1), MaxValueValidator(53)]
    )
    # The Monday of the ISO week, kept for range queries (a month's weeks, the board's last 8 weeks).
    week_start = models.DateField(_("week starting"))
    evaluator = models.ForeignKey(
        "people.Employee", verbose_name=_("evaluator"), on_delete=models.PROTECT, related_name="weekly_evaluations_given"
    )
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT, related_name="weekly_evaluations"
    )
    # E2.1: on-site observation, call recordings, chat logs (one or more).
    method_onsite = models.BooleanField(_("on-site observation"), default=False)
    method_recording = models.BooleanField(_("call recording"), default=False)
    method_chat = models.BooleanField(_("chat log"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # Dimension results in percent of the scale (scoring.weekly_dimension_scores), stored on submit
    # so the monthly suggestion and the boards aggregate them in SQL. NULL: nothing scored (all N/A).
    attitude_pct = models.DecimalField(_("attitude %"), max_digits=5, decimal_places=2, null=True, blank=True)
    ability_pct = models.DecimalField(_("ability %"), max_digits=5, decimal_places=2, null=True, blank=True)
    efficiency_pct = models.DecimalField(_("efficiency %"), max_digits=5, decimal_places=2, null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    agent_comment = models.TextField(_("agent's comment"), blank=True)
    commented_at = models.DateTimeField(_("commented at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Files (services.weekly_attachment_add: at most 10, each ≤ 10 MB, PDF/PNG/JPEG/MP3/WAV); core:attachment serves them.
    attachments = GenericRelation("core.Attachment")

    class Meta:
        ordering = ["-iso_year", "-iso_week", "agent_id"]
        verbose_name = _("weekly evaluation")
        verbose_name_plural = _("weekly evaluations")
        constraints = [
            models.UniqueConstraint(fields=["agent", "iso_year", "iso_week"], name="weekly_evaluation_one_per_week"),
            models.CheckConstraint(condition=Q(iso_week__gte=1, iso_week__lte=53), name="weekly_evaluation_week_1_53"),
            # E2.1: by her team lead or CS supervisor, never herself.
            models.CheckConstraint(condition=~Q(evaluator=models.F("agent")), name="weekly_evaluation_not_self"),
        ]
        indexes = [
            models.Index(fields=["week_start", "agent"], name="weekly_eval_week_agent_idx"),
            models.Index(fields=["evaluator", "status"], name="weekly_eval_evaluator_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.iso_year}-W{self.iso_week:02d}"

    @property
    def period_label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"

    @property
    def methods(self) -> list[str]:
        return [m for m, on in (("onsite", self.method_onsite), ("recording", self.method_recording),
                                ("chat", self.method_chat)) if on]

    def dimension_pct(self, dimension: str) -> Decimal | None:
        value: Decimal | None = getattr(self, f"{dimension}_pct", None)
        return value


class WeeklyScore(models.Model):
    """One criterion's level in a weekly evaluation; ``level`` NULL means not applicable."""

    evaluation = models.ForeignKey(
        WeeklyEvaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["evaluation_id", "criterion__order", "criterion_id"]
        verbose_name = _("weekly score")
        verbose_name_plural = _("weekly scores")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "criterion"], name="weekly_score_one_per_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}/{self.criterion_id}={self.level}"


class WeeklyEvidence(models.Model):
    """An interaction chosen as evidence for a weekly evaluation (with the evidence picker)."""

    evaluation = models.ForeignKey(
        WeeklyEvaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="evidence"
    )
    interaction = models.ForeignKey(
        "service.Interaction", verbose_name=_("interaction"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The seed of the evidence draw it came from, if drawn at random (service.EvidenceDraw).
    draw_seed = models.BigIntegerField(_("draw seed"), null=True, blank=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["evaluation_id", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "interaction"], name="weekly_evidence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}:{self.interaction_id}"


# ---------------------------------------------------------------------------
# Monthly evaluation (E2.2) and appeals (G3.1)
# ---------------------------------------------------------------------------


class MonthlyEvaluation(models.Model):
    """The 100-point month-end evaluation (E2.2); see the module docstring for the flow."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPEALED = "appealed", _("Appealed")
        FINAL = "final", _("Final")

    class FinalVia(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the agent")
        WINDOW_CLOSED = "window_closed", _("Appeal window closed")
        APPEAL_UPHELD = "appeal_upheld", _("Appeal decided: upheld")
        APPEAL_ADJUSTED = "appeal_adjusted", _("Appeal decided: adjusted")

    agent = models.ForeignKey(
        "people.Employee", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="monthly_evaluations"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    supervisor = models.ForeignKey(
        "people.Employee", verbose_name=_("supervisor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="monthly_evaluations_given",
    )
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="monthly_evaluations",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    final_via = models.CharField(_("final by"), max_length=16, choices=FinalVia.choices, blank=True)

    # Per dimension: the suggestion computed from the facts, the supervisor's points, and her
    # reason when they move from the suggestion by more than evaluation.reason_threshold_points.
    attitude_suggested = models.DecimalField(
        _("attitude (suggested)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    attitude = models.DecimalField(_("attitude"), max_digits=5, decimal_places=2, null=True, blank=True)
    attitude_reason = models.TextField(_("attitude: reason"), blank=True)
    ability_suggested = models.DecimalField(
        _("ability (suggested)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    ability = models.DecimalField(_("ability"), max_digits=5, decimal_places=2, null=True, blank=True)
    ability_reason = models.TextField(_("ability: reason"), blank=True)
    efficiency_suggested = models.DecimalField(
        _("efficiency (suggested)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    efficiency = models.DecimalField(_("efficiency"), max_digits=5, decimal_places=2, null=True, blank=True)
    efficiency_reason = models.TextField(_("efficiency: reason"), blank=True)
    teamwork_suggested = models.DecimalField(
        _("teamwork (suggested)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    teamwork = models.DecimalField(_("teamwork"), max_digits=5, decimal_places=2, null=True, blank=True)
    teamwork_reason = models.TextField(_("teamwork: reason"), blank=True)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2, null=True, blank=True)
    comment = models.TextField(_("supervisor's comment"), blank=True)
    # The facts behind the suggestion: weekly means, SLA rates, ratings, complaints, missing weeks.
    facts = models.JSONField(_("facts"), default=dict, blank=True)

    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    appeal_deadline = models.DateTimeField(_("appeal deadline"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = models.TextField(_("reopen reason"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-year", "-month", "agent_id"]
        verbose_name = _("monthly evaluation")
        verbose_name_plural = _("monthly evaluations")
        constraints = [
            models.UniqueConstraint(fields=["agent", "year", "month"], name="monthly_evaluation_one_per_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="monthly_evaluation_month_1_12"),
            models.CheckConstraint(
                condition=~Q(status="final") | Q(finalised_at__isnull=False, total__isnull=False),
                name="monthly_evaluation_final_has_total",
            ),
        ]
        indexes = [
            models.Index(fields=["year", "month", "status"], name="monthly_eval_period_idx"),
            models.Index(fields=["status", "appeal_deadline"], name="monthly_eval_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.year}-{self.month:02d}"

    @property
    def period_label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def is_locked(self) -> bool:
        """A final evaluation is locked (G3.1); only an HR reopen with a reason unlocks it."""
        return self.status == self.Status.FINAL

    def points(self, dimension: str) -> Decimal | None:
        value: Decimal | None = getattr(self, dimension)
        return value

    def suggested(self, dimension: str) -> Decimal | None:
        value: Decimal | None = getattr(self, f"{dimension}_suggested")
        return value


class Appeal(models.Model):
    """An agent's objection to a submitted monthly evaluation (G3.1), decided by her department head.

    One open appeal at a time per evaluation; after an HR reopen and a new submission the
    agent may appeal again, so closed appeals stay as history.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        UPHOLD = "uphold", _("Upheld")
        ADJUST = "adjust", _("Adjusted")

    evaluation = models.ForeignKey(
        MonthlyEvaluation, verbose_name=_("monthly evaluation"), on_delete=models.PROTECT, related_name="appeals"
    )
    filed_by = models.ForeignKey(
        "people.Employee", verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="appeals_filed"
    )
    reason = models.TextField(_("reason"))
    filed_at = models.DateTimeField(_("filed at"))
    deadline = models.DateTimeField(_("appeal deadline"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        "people.Employee", verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="appeals_decided",
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    # {"attitude": "27.50", ...}: the points the department head set, for the dimensions she changed.
    adjusted = models.JSONField(_("adjusted points"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation"], condition=Q(status="open"), name="appeal_one_open_per_evaluation"
            ),
            models.CheckConstraint(
                condition=Q(status="open", decision="")
                | (Q(status="decided", decided_at__isnull=False) & ~Q(decision="")),
                name="appeal_decided_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Appeal')} {self.evaluation}"


# ---------------------------------------------------------------------------
# Calibration (issue 4 item 5)
# ---------------------------------------------------------------------------


class CalibrationSession(models.Model):
    """A group of evaluators score the same interactions blind; the result shows how far they agree."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT, related_name="calibration_sessions"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    interactions: models.ManyToManyField = models.ManyToManyField(
        "service.Interaction", verbose_name=_("interactions"), through="CalibrationItem", related_name="+"
    )
    evaluators = models.ManyToManyField(
        "people.Employee", verbose_name=_("evaluators"), related_name="calibration_sessions"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Agreement (the coefficient and its formula), each evaluator's leniency, computed on close.
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self) -> str:
        return self.title


class CalibrationItem(models.Model):
    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="items")
    interaction = models.ForeignKey("service.Interaction", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["session_id", "order", "id"]
        verbose_name = _("calibration item")
        verbose_name_plural = _("calibration items")
        constraints = [
            models.UniqueConstraint(fields=["session", "interaction"], name="calibration_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.interaction_id}"


class CalibrationScore(models.Model):
    """One evaluator's level for one criterion of one interaction; NULL level = not applicable."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="scores")
    evaluator = models.ForeignKey("people.Employee", verbose_name=_("evaluator"), on_delete=models.PROTECT,
                                  related_name="+")
    interaction = models.ForeignKey("service.Interaction", on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    scored_at = models.DateTimeField(_("scored at"), auto_now=True)

    class Meta:
        ordering = ["session_id", "interaction_id", "criterion_id", "evaluator_id"]
        verbose_name = _("calibration score")
        verbose_name_plural = _("calibration scores")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "evaluator", "interaction", "criterion"], name="calibration_score_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.evaluator_id}/{self.interaction_id}/{self.criterion_id}={self.level}"
