"""Appeals of a published annual result (policy G3.1: results true, objective, fair).

    appeal = appeals.appeal_file(actor=agent_user, result=r, reason="…")     # within the window
    appeals.appeal_decide(actor=hr, appeal=appeal, decision="adjusted", new_grade="good", note="…")

The window: close of business of the [appeal window]-th working day (``evaluation.appeal_working_days``,
in force on the day of publication) after the local date the cycle was published; the publication day itself
is not counted, as for monthly appeals. One open appeal per result. An adjusted decision changes the final
grade and the pay proposal follows; pay approval waits until no appeal is open and the window has closed
(pay.approval_problems), so an adjustment never meets approved pay — the service still refuses it if it did.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual import pay
from kefu.annual.access import HR
from kefu.annual.models import AnnualAppeal, AnnualCycle, AnnualResult, Grade
from kefu.core import audit, calendar, policy
from kefu.core.services import notify
from kefu.people.access import has_role
from kefu.people.models import Role

D = AnnualAppeal.Decision


def appeal_deadline(cycle: AnnualCycle) -> datetime.datetime:
    """policy G3.1: close of business of the n-th working day after the local publication date."""
    if cycle.published_at is None:
        raise ValueError("the cycle is not published")
    day = timezone.localdate(cycle.published_at)
    days = int(policy.get("evaluation.appeal_working_days", on=day))
    return calendar.close_of_business(day, days)


def window_open(cycle: AnnualCycle, *, now: datetime.datetime | None = None) -> bool:
    return (cycle.status == AnnualCycle.Status.PUBLISHED and cycle.published_at is not None
            and (now or timezone.now()) <= appeal_deadline(cycle))


def _hr_users() -> list:
    today = timezone.localdate()
    return list(get_user_model().objects.filter(
        is_active=True, role_assignments__role=Role.HR, role_assignments__start_date__lte=today,
    ).exclude(role_assignments__end_date__lt=today).distinct())


@transaction.atomic
def appeal_file(*, actor, result: AnnualResult, reason: str, now: datetime.datetime | None = None) -> AnnualAppeal:
    """The person appeals her own published result within the window (G3.1); one open appeal at a time."""
    result = AnnualResult.objects.select_for_update(of=("self",)).select_related("cycle", "employee").get(pk=result.pk)
    if result.employee.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the person rated appeals her annual result."))
    cycle = result.cycle
    if cycle.status != AnnualCycle.Status.PUBLISHED or not result.rated:
        raise ValidationError(_("Only a published annual grade can be appealed."))
    now = now or timezone.now()
    deadline = appeal_deadline(cycle)
    if now > deadline:
        raise ValidationError(_("The appeal window closed on %(when)s.") % {
            "when": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")})
    if result.appeals.filter(status=AnnualAppeal.Status.OPEN).exists():
        raise ValidationError(_("Your appeal of the %(year)s result is already with HR.") % {"year": cycle.year})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why you appeal.")})
    appeal = AnnualAppeal(result=result, filed_by=result.employee, reason=reason.strip(), deadline=deadline,
                          old_grade=result.final_grade)
    appeal.full_clean()
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError:  # a second request raced past the check: the constraint keeps one open appeal
        raise ValidationError(_("Your appeal of the %(year)s result is already with HR.") % {"year": cycle.year}) \
            from None
    audit.record(actor=actor, action="annual_appeal.file", obj=appeal,
                 changes={"status": [None, appeal.status], "old_grade": [None, appeal.old_grade]},
                 reason=appeal.reason)
    notify(recipients=[u for u in _hr_users() if u.pk != actor.pk],
           title=_("Annual result appealed: %(name)s (%(year)s)") % {"name": result.employee.name, "year": cycle.year},
           body=appeal.reason, url=reverse("annual:appeals"))
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal: AnnualAppeal, decision: str, note: str, new_grade: str = "",
                  now: datetime.datetime | None = None) -> AnnualAppeal:
    """HR decides: upheld (the grade stands) or adjusted (a new grade, the pay proposal follows); G3.1."""
    if not has_role(actor, *HR):
        raise PermissionDenied
    appeal = (AnnualAppeal.objects.select_for_update(of=("self",))
              .select_related("result__cycle", "result__employee__user").get(pk=appeal.pk))
    result = appeal.result
    if result.employee.user_id == actor.pk:
        raise PermissionDenied(_("Nobody decides her own appeal."))
    if appeal.status != AnnualAppeal.Status.OPEN:
        raise ValidationError(_("This appeal was already decided."))
    errors: dict[str, str] = {}
    if decision not in D.values:
        errors["decision"] = _("Choose upheld or adjusted.")
    if not (note or "").strip():
        errors["decision_note"] = _("Give the reasons for the decision.")
    if decision == D.ADJUSTED:
        if new_grade not in Grade.values:
            errors["new_grade"] = _("Choose the new grade.")
        elif new_grade == appeal.old_grade:
            errors["new_grade"] = _("The new grade is the grade appealed; decide upheld instead.")
    if errors:
        raise ValidationError(errors)
    cycle = AnnualCycle.objects.select_for_update().get(pk=result.cycle_id)
    if decision == D.ADJUSTED and cycle.pay_approved_at is not None:
        raise ValidationError(_("The %(year)s pay is already approved; an adjusted grade cannot change it.") % {
            "year": cycle.year})
    appeal.status, appeal.decision, appeal.decision_note = AnnualAppeal.Status.DECIDED, decision, note.strip()
    appeal.new_grade = new_grade if decision == D.ADJUSTED else ""
    appeal.decided_by, appeal.decided_at = actor, now or timezone.now()
    appeal.full_clean()
    appeal.save()
    audit.record(actor=actor, action="annual_appeal.decide", obj=appeal,
                 changes={"status": [AnnualAppeal.Status.OPEN, appeal.status], "decision": ["", decision],
                          "new_grade": ["", appeal.new_grade]}, reason=appeal.decision_note)
    if decision == D.ADJUSTED:
        locked = AnnualResult.objects.select_for_update().get(pk=result.pk)
        before = audit.snapshot(locked, ["final_grade", "change_reason"])
        locked.final_grade = new_grade
        locked.change_reason = _("Appeal decided: %(note)s") % {"note": appeal.decision_note}
        locked.full_clean()
        locked.save(update_fields=["final_grade", "change_reason", "updated_at"])
        audit.record(actor=actor, action="annual_result.appeal_adjust", obj=locked,
                     changes=audit.diff(before, audit.snapshot(locked, list(before))), reason=appeal.decision_note)
        pay.recompute(locked, actor=actor)
    person = result.employee.user
    if person is not None:
        title = (_("Your appeal of the %(year)s result: grade adjusted to %(grade)s")
                 % {"year": cycle.year, "grade": Grade(new_grade).label} if decision == D.ADJUSTED
                 else _("Your appeal of the %(year)s result: the grade stands") % {"year": cycle.year})
        notify(recipients=[person], title=title, body=appeal.decision_note, url=reverse("annual:mine"))
    return appeal
