"""Workbench to-dos of the uniforms app (one query each, only for the roles concerned)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.registry import Todo
from kefu.people.access import has_role
from kefu.people.models import Employee, Role
from kefu.uniforms.access import COUNT_APPROVERS
from kefu.uniforms.models import Holding, Sku, StockCount


def low_stock(user) -> list[Todo]:
    if not has_role(user, Role.ADMIN_STAFF):
        return []
    n = Sku.objects.filter(active=True, low_stock_since__isnull=False).count()
    if not n:
        return []
    return [Todo(title=_("Uniform SKUs at or below their reorder point"), url=reverse("uniforms:stock_levels") + "?low=1",
                 count=n, kind=_("Stock"))]


def leavers_to_check_in(user) -> list[Todo]:
    if not has_role(user, Role.ADMIN_STAFF):
        return []
    n = (Holding.objects.filter(status=Holding.Status.HELD, employee__status=Employee.Status.LEFT)
         .values("employee").distinct().count())
    if not n:
        return []
    return [Todo(title=_("Leavers whose uniforms are not checked in"), url=reverse("uniforms:returns"), count=n,
                 kind=_("Uniforms"))]


def counts_to_decide(user) -> list[Todo]:
    if not has_role(user, *COUNT_APPROVERS):
        return []
    qs = StockCount.objects.filter(status=StockCount.Status.SUBMITTED)
    if not has_role(user, Role.LEADERSHIP):
        qs = qs.exclude(submitted_by=user)
    n = qs.count()
    if not n:
        return []
    return [Todo(title=_("Stock counts to approve"), url=reverse("uniforms:counts") + "?status=submitted", count=n,
                 kind=_("Stock"))]


# ---- 6b: requisitions, issuance, damage/loss, compensation, scrap, disposal ---------------------------------

from django.db.models import Count as _Count  # noqa: E402
from django.db.models import Q  # noqa: E402

from kefu.people.access import employee_of, scope_q  # noqa: E402
from kefu.uniforms.access import SIGNERS, UNIFORM_ADMINS  # noqa: E402
from kefu.uniforms.models import (  # noqa: E402
    Compensation,
    DamageReport,
    Issuance,
    Requisition,
    ScrapRequest,
)


def _todo(title, url: str, n: int, kind) -> list[Todo]:
    return [Todo(title=title, url=url, count=n, kind=kind)] if n else []


def forms_to_sign(user) -> list[Todo]:
    """Department head (U2.2, U4.2): requisitions to approve and scrap forms to sign, in her units (one query each)."""
    if not has_role(user, *SIGNERS):
        return []
    scope = scope_q(user, SIGNERS, field="employee__org_unit")
    requisitions = (Requisition.objects.filter(scope, status=Requisition.Status.SUBMITTED)
                    .exclude(employee__user=user).count())
    scraps = ScrapRequest.objects.filter(scope, status=ScrapRequest.Status.SUBMITTED).exclude(employee__user=user).count()
    return (_todo(_("Uniform requisitions to approve"), reverse("uniforms:requisition_list") + "?view=approve",
                  requisitions, _("Uniforms"))
            + _todo(_("Uniform scrap forms to sign"), reverse("uniforms:scrap_list") + "?status=submitted", scraps,
                    _("Uniforms")))


def uniform_admin_work(user) -> list[Todo]:
    """Admin staff: approved requisitions to issue, back-orders, reports to assess, scrap forms to review,
    items awaiting disposal, confirmed compensation for payroll."""
    if not has_role(user, *UNIFORM_ADMINS):
        return []
    scope = scope_q(user, UNIFORM_ADMINS, field="employee__org_unit")
    req = Requisition.objects.filter(scope).aggregate(
        issue=_Count("id", filter=Q(status=Requisition.Status.APPROVED)),
        back=_Count("id", filter=Q(status=Requisition.Status.PARTIALLY_ISSUED)))
    assess = DamageReport.objects.filter(scope, status=DamageReport.Status.REPORTED).count()
    review = ScrapRequest.objects.filter(scope, status=ScrapRequest.Status.HEAD_APPROVED).exclude(employee__user=user).count()
    disposal = Holding.objects.filter(scope, status=Holding.Status.SCRAPPED, disposal__isnull=True).count()
    payroll = Compensation.objects.filter(scope, status=Compensation.Status.CONFIRMED).count()
    kind = _("Uniforms")
    return (_todo(_("Approved uniform requisitions to issue"), reverse("uniforms:requisition_list") + "?view=issue",
                  req["issue"], kind)
            + _todo(_("Uniform back-orders to issue"), reverse("uniforms:backorders"), req["back"], kind)
            + _todo(_("Uniform damage/loss reports to assess"), reverse("uniforms:damage_list") + "?status=reported",
                    assess, kind)
            + _todo(_("Uniform scrap forms to review"), reverse("uniforms:scrap_list") + "?status=head_approved",
                    review, kind)
            + _todo(_("Scrapped uniform items awaiting disposal"), reverse("uniforms:disposal_list"), disposal, kind)
            + _todo(_("Confirmed compensation to put on payroll"), reverse("uniforms:compensation_list")
                    + "?status=confirmed", payroll, kind))


def my_uniform_steps(user) -> list[Todo]:
    """The employee: receipts to confirm (U2.2) and compensation to confirm (U3.2)."""
    me = employee_of(user)
    if me is None:
        return []
    receipts = Issuance.objects.filter(employee=me, receipt_confirmed_at__isnull=True).count()
    owed = Compensation.objects.filter(employee=me, status=Compensation.Status.PENDING).count()
    kind = _("Uniforms")
    return (_todo(_("Uniform receipts to confirm"), reverse("uniforms:issuance_list") + "?unconfirmed=1", receipts, kind)
            + _todo(_("Uniform compensation to confirm"), reverse("uniforms:compensation_list") + "?status=pending",
                    owed, kind))
