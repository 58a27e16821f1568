"""Company integrations: chat-app group bots, their delivery log, directory role grants, HR sync runs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.people.models import OrgUnit, RoleAssignment


class ChatHook(models.Model):
    """A group bot of a department's chat app; it covers the unit and every unit below it."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk custom robot")
        FEISHU = "feishu", _("Feishu / Lark custom bot")

    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("department"), on_delete=models.PROTECT,
                                 related_name="chat_hooks")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True,
                              help_text=_("DingTalk: the SEC… secret of signed requests; Feishu: the signature "
                                          "secret. Leave empty when the bot does not sign."))
    # Empty: every event.
    events = models.JSONField(_("events"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org_unit__path", "name"]
        verbose_name = _("chat bot")
        verbose_name_plural = _("chat bots")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or event in self.events)


class MessageTemplate(models.Model):
    """The chat message for one event (a notification's kind). Placeholders: {{ title }}, {{ body }},
    {{ link }}, {{ recipients }}, {{ event }}."""

    event = models.CharField(_("event"), max_length=64, unique=True)
    text = models.TextField(_("message"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.event


class Delivery(models.Model):
    """One message to one bot, sent by the task worker and retried with backoff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    hook = models.ForeignKey(ChatHook, verbose_name=_("chat bot"), on_delete=models.CASCADE,
                             related_name="deliveries")
    event = models.CharField(_("event"), max_length=64)
    text = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.hook} {self.event} {self.status}"


class DirectoryRoleGrant(models.Model):
    """A role assignment the directory (LDAP group mapping) made; the login sync adds and ends only these,
    never the roles granted in Kefu."""

    assignment = models.OneToOneField(RoleAssignment, on_delete=models.CASCADE, related_name="directory_grant")
    group_dn = models.CharField(_("directory group"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("directory role grant")
        verbose_name_plural = _("directory role grants")

    def __str__(self) -> str:
        return f"{self.assignment} ← {self.group_dn}"


class HrSyncRun(models.Model):
    """One HR sync (a file from the drop folder or an API call) and its report."""

    class Source(models.TextChoices):
        FOLDER = "folder", _("Drop folder")
        API = "api", _("API")

    class Status(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    report = models.JSONField(_("report"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("HR sync run")
        verbose_name_plural = _("HR sync runs")

    def __str__(self) -> str:
        return f"{self.file_name or self.source} {self.status}"
