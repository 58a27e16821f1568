"""People: the org tree, employees and role assignments (DESIGN.md, roles table)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of DESIGN.md. Scope is data: an assignment names the org unit it covers."""

    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    CS_SUPERVISOR = "cs_supervisor", _("CS supervisor")
    DEPT_HEAD = "dept_head", _("Department head")
    ADMIN_STAFF = "admin_staff", _("Admin staff")
    HR = "hr", _("HR")
    LEADERSHIP = "leadership", _("Leadership")
    INSPECTOR = "inspector", _("Inspector")
    SYSADMIN = "sysadmin", _("System admin")


class OrgUnit(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        DEPARTMENT = "department", _("Department")
        TEAM = "team", _("Team")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of ids, "/1/4/9/", so a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    is_customer_service = models.BooleanField(
        _("customer-service unit"), default=False,
        help_text=_("Staff in this unit and below are CS staff under the policy."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "O", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Hired, not yet onboarded")
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")

    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    hire_date = models.DateField(_("hire date"))
    leave_date = models.DateField(_("leave date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="employees"
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("login"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="employee",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["employee_no"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(leave_date__isnull=True) | models.Q(leave_date__gte=models.F("hire_date")),
                name="employee_leave_after_hire",
            )
        ]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("covers"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["user_id", "role"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="role_assignment_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "org_unit", "start_date"], name="role_assignment_unique"
            ),
        ]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.org_unit}"
