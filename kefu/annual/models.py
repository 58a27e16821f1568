"""Annual evaluation (policy E2.3): a cycle per year and one result per CS staff member.

The cycle runs open → calibrating → submitted → approved → published (services.py has one
function per arrow). A result holds the facts the composite came from (months, means, ratings),
the proposal of ``distribution.propose_grades`` and HR's final grade with its reason.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class AnnualCycle(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CALIBRATING = "calibrating", _("Calibrating")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")

    year = models.PositiveSmallIntegerField(_("year"), unique=True,
                                            validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    # The parameters in force on 31 December of the year (E2.3), kept so the cycle reads the same later.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="annual_cycles_opened")
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    calibration_started_at = models.DateTimeField(_("calibration started at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT,
                                    related_name="annual_cycles_approved", null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("annual cycle")
        verbose_name_plural = _("annual cycles")

    def __str__(self) -> str:
        return str(self.year)


class AnnualResult(models.Model):
    cycle = models.ForeignKey(AnnualCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="results")
    employee = models.ForeignKey("people.Employee", verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="annual_results")
    rated = models.BooleanField(_("rated"), default=False)
    not_rated_reason = models.CharField(_("not rated because"), max_length=200, blank=True)
    final_months = models.PositiveSmallIntegerField(_("final monthly evaluations"), default=0)
    monthly_mean = models.DecimalField(_("mean monthly total"), max_digits=6, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(_("survey answers"), default=0)
    rating_mean = models.DecimalField(_("mean rating"), max_digits=5, decimal_places=2, null=True, blank=True)
    satisfaction_score = models.DecimalField(_("satisfaction score"), max_digits=6, decimal_places=2, null=True,
                                             blank=True)
    achievements_score = models.DecimalField(
        _("achievements score"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    achievements_evidence = models.TextField(_("achievements evidence"), blank=True)
    composite = models.DecimalField(_("composite score"), max_digits=6, decimal_places=2, null=True, blank=True)
    proposed_grade = models.CharField(_("proposed grade"), max_length=10, choices=Grade.choices, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    final_grade = models.CharField(_("final grade"), max_length=10, choices=Grade.choices, blank=True)
    change_reason = models.TextField(_("reason for the change"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["cycle", "-composite", "employee_id"]
        verbose_name = _("annual result")
        verbose_name_plural = _("annual results")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "employee"], name="annual_result_one_per_cycle"),
            models.CheckConstraint(condition=Q(achievements_score__gte=0, achievements_score__lte=100),
                                   name="annual_result_achievements_0_100"),
            models.CheckConstraint(condition=Q(rated=True) | ~Q(not_rated_reason=""),
                                   name="annual_result_not_rated_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.employee_id}"

    @property
    def changed(self) -> bool:
        return bool(self.change_reason)
