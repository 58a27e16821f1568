"""Core models: audit log, policy parameters, work calendar, notifications, attachments."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One append-only, hash-chained record of a service write (see core/audit.py)."""

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_repr = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit entries cannot be deleted."))


class AuditChainHead(models.Model):
    """A single row locked while appending, so that concurrent writers chain in order."""

    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.last_hash


class PolicyValue(models.Model):
    """An effective-dated value of a policy parameter (POLICY.md, last table)."""

    key = models.CharField(_("parameter"), max_length=64)
    value = models.JSONField(_("value"))
    effective_from = models.DateField(_("effective from"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["key", "effective_from"], name="policy_value_key_date_unique")
        ]
        verbose_name = _("policy parameter value")
        verbose_name_plural = _("policy parameter values")

    def __str__(self) -> str:
        return f"{self.key}@{self.effective_from}"


class WorkingPeriod(models.Model):
    """A range of ordinary working hours on a weekday (0 = Monday), company local time."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=[(i, str(i)) for i in range(7)]
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="working_period_end_after_start"),
            models.UniqueConstraint(fields=["weekday", "start"], name="working_period_unique_start"),
        ]
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A company override of one date: a day off, an extra working day, or other hours.

    Also how an admin enters a year the statutory-holiday package does not cover:
    every holiday and adjusted working day of that year, then a CalendarYear row.
    """

    class Kind(models.TextChoices):
        OFF = "off", _("Day off")
        WORKING = "working", _("Working day")
        HOURS = "hours", _("Other hours")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # For kind=hours (and optionally working): [["09:00", "12:00"], ...]; empty means the weekday's hours.
    hours = models.JSONField(_("hours"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class CalendarYear(models.Model):
    """A year whose statutory holidays an admin has entered by hand (not in chinesecalendar)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("hand-entered year")
        verbose_name_plural = _("hand-entered years")

    def __str__(self) -> str:
        return str(self.year)


class Notification(models.Model):
    """An in-app message; e-mail copies go out through Django's mail backend."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Attachment(models.Model):
    """A file on any record (a damage report, a quote, a weekly evaluation, a checklist item…).

    Written only by ``kefu.core.attachments.attachments_add`` (type told by the file's first bytes,
    size and count checked by the owning app's rule); served only by ``core:attachment``, to those the
    target's app lets see it (``registry.attachment_targets``). Targets declare
    ``attachments = GenericRelation("core.Attachment")``.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    # Blank only for rows copied from the apps' old tables whose file was already missing on disk.
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_attach_target_idx")]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name
