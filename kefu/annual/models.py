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
    # policy E3.1: HR approves the cycle's pay proposals once; after that they are locked.
    pay_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("pay approved by"),
                                        on_delete=models.PROTECT, related_name="annual_pay_approved", null=True,
                                        blank=True)
    pay_approved_at = models.DateTimeField(_("pay approved at"), null=True, blank=True)
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



class PayProposal(models.Model):
    """Policy E3.1: the pay change a final grade leads to — base pay × the grade's percentage ÷ 100."""

    result = models.OneToOneField(AnnualResult, verbose_name=_("annual result"), on_delete=models.CASCADE,
                                  related_name="pay")
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)  # snapshot of the final grade
    pct = models.DecimalField(_("pay change %"), max_digits=5, decimal_places=2)
    base_pay = models.DecimalField(_("base pay"), max_digits=10, decimal_places=2, null=True, blank=True,
                                   validators=[MinValueValidator(0)])
    amount = models.DecimalField(_("pay change amount"), max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("updated by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["result"]
        verbose_name = _("pay proposal")
        verbose_name_plural = _("pay proposals")
        constraints = [
            models.CheckConstraint(condition=Q(base_pay__isnull=True) | Q(base_pay__gte=0),
                                   name="annual_pay_base_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.result_id}: {self.pct}%"


class AnnualAppeal(models.Model):
    """Policy G3.1: an appeal of a published annual result within the appeal window; HR decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Upheld (grade stands)")
        ADJUSTED = "adjusted", _("Adjusted")

    result = models.ForeignKey(AnnualResult, verbose_name=_("annual result"), on_delete=models.CASCADE,
                               related_name="appeals")
    filed_by = models.ForeignKey("people.Employee", verbose_name=_("filed by"), on_delete=models.PROTECT,
                                 related_name="annual_appeals")
    reason = models.TextField(_("reason"))
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    deadline = models.DateTimeField(_("appeal deadline"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    old_grade = models.CharField(_("grade appealed"), max_length=10, choices=Grade.choices)
    new_grade = models.CharField(_("new grade"), max_length=10, choices=Grade.choices, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("annual appeal")
        verbose_name_plural = _("annual appeals")
        constraints = [
            models.UniqueConstraint(fields=["result"], condition=Q(status="open"),
                                    name="annual_appeal_one_open_per_result"),
            models.CheckConstraint(condition=Q(status="open", decision="") | (Q(status="decided") & ~Q(decision="")),
                                   name="annual_appeal_decided_has_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.result_id}: {self.status}"


class AwardKind(models.TextChoices):
    OUTSTANDING = "outstanding", _("Annual Outstanding CS Award")
    SERVICE_STAR = "service_star", _("Service Star Award")


class AwardNomination(models.Model):
    """Policy E3.2: a nomination for an annual award, approved or rejected by leadership within the quota."""

    class Status(models.TextChoices):
        NOMINATED = "nominated", _("Nominated")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    cycle = models.ForeignKey(AnnualCycle, verbose_name=_("cycle"), on_delete=models.CASCADE,
                              related_name="nominations")
    kind = models.CharField(_("award"), max_length=20, choices=AwardKind.choices)
    result = models.ForeignKey(AnnualResult, verbose_name=_("annual result"), on_delete=models.CASCADE,
                               related_name="nominations")
    reason = models.TextField(_("reason"))
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("nominated by"),
                                     on_delete=models.PROTECT, related_name="+")
    nominated_at = models.DateTimeField(_("nominated at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NOMINATED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=30, blank=True)

    class Meta:
        ordering = ["cycle", "kind", "pk"]
        verbose_name = _("award nomination")
        verbose_name_plural = _("award nominations")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "result"], name="annual_award_one_per_kind"),
            models.UniqueConstraint(fields=["certificate_no"], condition=~Q(certificate_no=""),
                                    name="annual_award_certificate_no_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.kind}: {self.result_id}"


class CoachingPlan(models.Model):
    """Policy E3.3: a coaching plan for a fail grade or a low monthly total."""

    class Source(models.TextChoices):
        ANNUAL_FAIL = "annual_fail", _("Annual fail grade")
        MONTHLY_LOW = "monthly_low", _("Low monthly total")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED_MET = "closed_met", _("Closed, goal met")
        CLOSED_UNMET = "closed_unmet", _("Closed, goal not met")
        CANCELLED = "cancelled", _("Cancelled")

    employee = models.ForeignKey("people.Employee", verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="coaching_plans")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    annual_result = models.ForeignKey(AnnualResult, verbose_name=_("annual result"), on_delete=models.PROTECT,
                                      related_name="coaching_plans", null=True, blank=True)
    monthly_evaluation = models.ForeignKey("evaluations.MonthlyEvaluation", verbose_name=_("monthly evaluation"),
                                           on_delete=models.PROTECT, related_name="coaching_plans", null=True,
                                           blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    goals = models.TextField(_("goals"), blank=True)
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("coach"), on_delete=models.PROTECT,
                              related_name="coaching_plans_coached", null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)  # null = created by the sync job
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    follow_up_note = models.TextField(_("follow-up note"), blank=True)
    follow_up_total = models.DecimalField(_("follow-up total"), max_digits=6, decimal_places=2, null=True,
                                          blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT,
                                  related_name="+", null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("coaching plan")
        verbose_name_plural = _("coaching plans")
        constraints = [
            models.UniqueConstraint(fields=["annual_result"], condition=Q(annual_result__isnull=False),
                                    name="coaching_plan_one_per_annual_result"),
            models.UniqueConstraint(fields=["monthly_evaluation"], condition=Q(monthly_evaluation__isnull=False),
                                    name="coaching_plan_one_per_monthly_evaluation"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id}: {self.source} ({self.status})"


class CoachingSession(models.Model):
    plan = models.ForeignKey(CoachingPlan, verbose_name=_("coaching plan"), on_delete=models.CASCADE,
                             related_name="sessions")
    held_on = models.DateField(_("held on"))
    notes = models.TextField(_("notes"))
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("coach"), on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["plan", "held_on", "pk"]
        verbose_name = _("coaching session")
        verbose_name_plural = _("coaching sessions")

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.held_on}"


class HrCase(models.Model):
    """Policy E3.3: a plan closed with its goal unmet is dealt with under the company's rules; HR records it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")

    plan = models.OneToOneField(CoachingPlan, verbose_name=_("coaching plan"), on_delete=models.PROTECT,
                                related_name="hr_case")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("HR case")
        verbose_name_plural = _("HR cases")

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.status}"
