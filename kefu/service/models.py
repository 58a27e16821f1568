"""Customer interactions, the SLA clock (E1.3) and customer-satisfaction surveys (E1.1).

Kefu does not replace the call-centre or helpdesk system: it takes their records in
(``services.interactions_import``) and measures them against the policy.

SLA status design. "met" and "breached" are facts once the deadline's event happened;
"open" and "overdue" depend on *now*. The row therefore stores ``pending`` for a deadline
whose event has not happened yet, and readers turn it into open / overdue against the
due time (``sla_state`` in Python, ``SlaState.annotate`` in SQL). A deadline that cannot
be computed because the work calendar of its year has not been entered yet is stored as
``unknown`` with a NULL due time; ``services.sla_recompute`` fills it in once the year is
entered.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    ONSITE = "onsite", _("On site")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")


class SlaStored(models.TextChoices):
    """What the row stores; see the module docstring."""

    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    PENDING = "pending", _("Not done yet")
    UNKNOWN = "unknown", _("Unknown (calendar not entered)")


class SlaStatus(models.TextChoices):
    """What readers see: the four states of E1.3, plus unknown for an uncovered calendar year."""

    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    OPEN = "open", _("Open")
    OVERDUE = "overdue", _("Overdue")
    UNKNOWN = "unknown", _("Unknown")


def sla_state(stored: str, due: datetime.datetime | None, now: datetime.datetime) -> str:
    """The E1.3 status of one deadline at ``now`` (due is reached at the due instant itself)."""
    if stored == SlaStored.PENDING:
        if due is None:
            return SlaStatus.UNKNOWN
        return SlaStatus.OVERDUE if now > due else SlaStatus.OPEN
    return stored


def sla_state_expression(status_field: str, due_field: str, now: datetime.datetime) -> Case:
    """``sla_state`` as a SQL expression, for filters and aggregates."""
    return Case(
        When(Q(**{status_field: SlaStored.PENDING, f"{due_field}__lt": now}), then=Value(SlaStatus.OVERDUE)),
        When(Q(**{status_field: SlaStored.PENDING, f"{due_field}__isnull": False}), then=Value(SlaStatus.OPEN)),
        When(Q(**{status_field: SlaStored.PENDING}), then=Value(SlaStatus.UNKNOWN)),
        default=models.F(status_field),
        output_field=models.CharField(),
    )


class InteractionQuerySet(models.QuerySet):
    def with_sla_state(self, now: datetime.datetime) -> InteractionQuerySet:
        """Annotate ``first_reply_state`` and ``resolution_state`` (met/breached/open/overdue/unknown)."""
        return self.annotate(
            first_reply_state=sla_state_expression("first_reply_status", "first_reply_due_at", now),
            resolution_state=sla_state_expression("resolution_status", "resolution_due_at", now),
        )


class Interaction(models.Model):
    """One customer inquiry or complaint, as the source system recorded it (issue 3 item 1)."""

    source = models.CharField(_("source system"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=64)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.INQUIRY)
    customer_ref = models.CharField(_("customer reference"), max_length=64, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The three employee links carry no database-level foreign-key constraint (db_constraint=False):
    # the import checks every employee number against the employee table in its own transaction,
    # employees are never deleted (offboarding keeps the row; PROTECT still guards ORM deletes),
    # and the three per-row trigger checks measured at half the time of a million-row import.
    # The composite indexes below lead with each of them, so no single-column FK index either.
    agent = models.ForeignKey(
        "people.Employee", verbose_name=_("handling agent"), on_delete=models.PROTECT, related_name="interactions",
        db_constraint=False, db_index=False,
    )
    first_responder = models.ForeignKey(
        "people.Employee", verbose_name=_("first responder"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="first_responses", db_constraint=False, db_index=False,
    )
    resolver = models.ForeignKey(
        "people.Employee", verbose_name=_("resolver"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="resolutions", db_constraint=False, db_index=False,
    )
    recording_url = models.URLField(_("recording or transcript"), max_length=500, blank=True)

    # The company-local date it came in: the SLA parameters and period queries key on it.
    local_date = models.DateField(_("local date"))

    # The SLA clock (E1.3), computed on import and by services.sla_recompute.
    first_reply_due_at = models.DateTimeField(_("first reply due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_reply_status = models.CharField(
        _("first reply status"), max_length=8, choices=SlaStored.choices, default=SlaStored.PENDING
    )
    resolution_status = models.CharField(
        _("resolution status"), max_length=8, choices=SlaStored.choices, default=SlaStored.PENDING
    )
    first_reply_working_seconds = models.IntegerField(_("working seconds to first reply"), null=True, blank=True)
    resolution_working_seconds = models.IntegerField(_("working seconds to resolution"), null=True, blank=True)
    sla_computed_at = models.DateTimeField(_("SLA computed at"), null=True, blank=True)

    imported_at = models.DateTimeField(_("imported at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="interaction_source_external_id_unique"),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=models.F("received_at")),
                name="interaction_response_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("received_at")),
                name="interaction_resolution_after_receipt",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "local_date"], name="interaction_agent_date_idx"),
            models.Index(fields=["local_date"], name="interaction_local_date_idx"),
            models.Index(fields=["resolver", "resolved_at"], name="interaction_resolver_idx"),
            models.Index(fields=["first_responder", "local_date"], name="interaction_responder_idx"),
            # The alert job looks for pending deadlines coming due; partial on PostgreSQL and SQLite alike.
            models.Index(
                fields=["first_reply_due_at"], name="interaction_fr_due_idx",
                condition=Q(first_reply_status="pending"),
            ),
            # The KPI backlog counts a team's still-open rows per agent from this index alone: an
            # index-only scan on PostgreSQL (SQLite ignores ``include``); issue 9, docs/performance.md.
            models.Index(
                fields=["resolution_due_at"], name="interaction_res_due_idx",
                condition=Q(resolution_status="pending"), include=["resolver", "agent"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    def first_reply_state(self, now: datetime.datetime) -> str:
        return sla_state(self.first_reply_status, self.first_reply_due_at, now)

    def resolution_state(self, now: datetime.datetime) -> str:
        return sla_state(self.resolution_status, self.resolution_due_at, now)


class ImportBatch(models.Model):
    """One upload / command / API batch of interactions or survey answers, and its report.

    The upload page stores the file, a background task processes it and updates the
    progress counters, and the report page shows the outcome. The whole batch is
    all-or-nothing: ``errors`` lists every bad row (capped at ERRORS_KEPT entries,
    ``error_count`` has the true total).
    """

    ERRORS_KEPT = 10_000

    class Kind(models.TextChoices):
        INTERACTIONS = "interactions", _("Interactions")
        SURVEY_ANSWERS = "survey_answers", _("Survey answers")

    class Via(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        COMMAND = "command", _("Command")
        API = "api", _("API")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    via = models.CharField(_("via"), max_length=8, choices=Via.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(_("file"), upload_to="service/imports/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [models.Index(fields=["created_by", "kind", "created_at"], name="import_batch_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class SlaRecomputeRun(models.Model):
    """One run of services.sla_recompute: which local dates, why, and how many rows it changed."""

    since = models.DateField(_("from"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_changed = models.PositiveIntegerField(_("rows changed"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("SLA recomputation")
        verbose_name_plural = _("SLA recomputations")

    def __str__(self) -> str:
        return f"SLA recompute {self.since or '…'}–{self.until or '…'}"


class IdempotencyKey(models.Model):
    """A retried API call with the same Idempotency-Key gets the first call's answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    request_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.key}"


class SurveyInvitation(models.Model):
    """A signed survey link for one resolved interaction (E1.1); no login needed to answer."""

    interaction = models.OneToOneField(
        Interaction, verbose_name=_("interaction"), on_delete=models.CASCADE, related_name="survey_invitation"
    )
    token_id = models.CharField(_("token id"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")), name="survey_invitation_expires_after_issue"
            ),
        ]

    def __str__(self) -> str:
        return f"survey {self.token_id}"


class SurveyAnswer(models.Model):
    """The customer's rating of one interaction; it belongs to the agent who resolved it (E1.1)."""

    class Source(models.TextChoices):
        LINK = "link", _("Survey link")
        IMPORT = "import", _("Import")
        API = "api", _("API")

    interaction = models.OneToOneField(
        Interaction, verbose_name=_("interaction"), on_delete=models.PROTECT, related_name="survey_answer"
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    agent = models.ForeignKey(
        "people.Employee", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="survey_answers"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="survey_answer_rating_1_5"),
        ]
        indexes = [models.Index(fields=["agent", "answered_at"], name="survey_answer_agent_idx")]

    def __str__(self) -> str:
        return f"{self.interaction_id}: {self.rating}"


class SlaAlert(models.Model):
    """A sent near-breach or breach alert; unique so each goes out once per interaction and deadline."""

    class Deadline(models.TextChoices):
        FIRST_REPLY = "first_reply", _("First reply")
        RESOLUTION = "resolution", _("Resolution")

    class Kind(models.TextChoices):
        NEAR = "near", _("Close to breaching")
        BREACH = "breach", _("Breached")

    interaction = models.ForeignKey(
        Interaction, verbose_name=_("interaction"), on_delete=models.CASCADE, related_name="sla_alerts"
    )
    deadline = models.CharField(_("deadline"), max_length=12, choices=Deadline.choices)
    kind = models.CharField(_("alert"), max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        constraints = [
            models.UniqueConstraint(fields=["interaction", "deadline", "kind"], name="sla_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.interaction_id} {self.deadline} {self.kind}"


class EvidenceDraw(models.Model):
    """A recorded random draw of an agent's interactions for a weekly evaluation, repeatable from its seed."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("drawn by"), on_delete=models.PROTECT, related_name="+"
    )
    agent = models.ForeignKey(
        "people.Employee", verbose_name=_("agent"), on_delete=models.PROTECT, related_name="evidence_draws"
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    n = models.PositiveSmallIntegerField(_("number drawn"))
    seed = models.BigIntegerField(_("seed"))
    chosen_ids = models.JSONField(_("chosen interactions"), default=list)
    created_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evidence draw")
        verbose_name_plural = _("evidence draws")
        constraints = [
            models.CheckConstraint(condition=Q(iso_week__gte=1, iso_week__lte=53), name="evidence_draw_week_1_53"),
        ]
        indexes = [models.Index(fields=["agent", "iso_year", "iso_week"], name="evidence_draw_agent_week_idx")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.iso_year}-W{self.iso_week:02d}"
