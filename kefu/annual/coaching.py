"""Coaching plans and HR cases (policy E3.3: targeted training for poor results; whoever still falls
short afterwards is dealt with under the company's rules).

    run = coaching_sync(actor=None)                                      # the owed drafts (nightly + publication)
    plan_activate(actor=supervisor, plan=p, goals="…", coach=u, due_date=d)   # draft → active
    session_add(actor=supervisor, plan=p, held_on=d, notes="…")
    plan_close(actor=supervisor, plan=p, met=False, note="…", follow_up_total=Decimal("58"))
                                                                         # active → closed_unmet + HrCase
    plan_cancel(actor=supervisor, plan=p, reason="…")                    # draft/active → cancelled
    hr_case_decide(actor=hr, case=c, decision="…")                       # open → decided

A plan is owed by every published fail grade and by every FINAL monthly evaluation whose total is
under ``coaching.monthly_trigger`` in force on the last day of that month. ``coaching_sync`` makes
the missing ones as drafts; the unique constraints on ``annual_result`` / ``monthly_evaluation``
make a second run, a retry or two runs at once create each plan once.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual.models import AnnualCycle, AnnualResult, CoachingPlan, CoachingSession, Grade, HrCase
from kefu.core import audit, policy
from kefu.core.services import notify
from kefu.people.access import active_assignments
from kefu.people.models import Employee, Role, RoleAssignment

P = CoachingPlan.Status
TRIGGER = "coaching.monthly_trigger"
# policy E3.3 / DESIGN roles table: the CS supervisor of the department runs coaching; HR decides cases.
PLAN_MANAGERS = frozenset({Role.CS_SUPERVISOR})
CASE_DECIDERS = frozenset({Role.HR})
# Who may be named coach: the person's CS supervisor or team lead (a role covering her unit).
COACH_ROLES = frozenset({Role.CS_SUPERVISOR, Role.TEAM_LEAD})
CENT = Decimal("0.01")


# ---- what is owed ---------------------------------------------------------------------------------


def month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _trigger_spans() -> list[tuple[int | None, Decimal]]:
    """(first month index, trigger) of each value of ``coaching.monthly_trigger``, oldest first.

    A month is judged by the value in force on its last day (E3.3): the newest value effective on or
    before that day. A value effective on any day of month M is in force on M's last day, so it
    applies from M on; a later value in the same month supersedes it from that same month.
    """
    param = policy.definition(TRIGGER)
    spans: list[tuple[int | None, Decimal]] = [(None, Decimal(param.default))]
    for row in sorted(policy.history(TRIGGER), key=lambda r: r.effective_from):
        spans.append((month_index(row.effective_from), Decimal(param.parse(row.value))))
    return spans


def monthly_trigger_q() -> Q:
    """Matches monthly evaluations (annotated with ``month_index``) whose total is under their month's trigger."""
    spans = _trigger_spans()
    q = Q(pk__in=[])
    for i, (start, trigger) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else None
        cond = Q(total__lt=trigger)
        if start is not None:
            cond &= Q(month_index__gte=start)
        if end is not None:
            cond &= Q(month_index__lt=end)
        q |= cond
    return q


def trigger_for(year: int, month: int) -> Decimal:
    """The trigger in force on the month's last day (for showing on a plan)."""
    from kefu.evaluations.monthly import last_day

    return Decimal(policy.get(TRIGGER, on=last_day(year, month)))


def owed_annual() -> QuerySet[AnnualResult]:
    """Published fail grades without a plan (people who have left are not coached)."""
    has_plan = CoachingPlan.objects.filter(annual_result_id=OuterRef("pk"))
    return (AnnualResult.objects.filter(cycle__status=AnnualCycle.Status.PUBLISHED, rated=True,
                                        final_grade=Grade.FAIL)
            .exclude(employee__status=Employee.Status.LEFT).filter(~Exists(has_plan)))


def owed_monthly():
    """FINAL monthly evaluations under their month's trigger without a plan."""
    from kefu.evaluations.models import MonthlyEvaluation

    has_plan = CoachingPlan.objects.filter(monthly_evaluation_id=OuterRef("pk"))
    return (MonthlyEvaluation.objects.filter(status=MonthlyEvaluation.Status.FINAL, total__isnull=False)
            .exclude(agent__status=Employee.Status.LEFT)
            .annotate(month_index=F("year") * 12 + F("month") - 1)
            .filter(monthly_trigger_q()).filter(~Exists(has_plan)))


# ---- who coaches ----------------------------------------------------------------------------------


def _in_force(on: datetime.date) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))


def _supervisors(on: datetime.date) -> list[tuple[str, int]]:
    """(unit path, user id) of every CS supervisor role in force on ``on``, deepest unit first."""
    rows = _in_force(on).filter(role=Role.CS_SUPERVISOR, user__is_active=True).values_list("org_unit__path",
                                                                                         "user_id")
    return sorted(rows, key=lambda r: (-len(r[0]), r[1]))


def _default_coach(employee: Employee, supervisors: list[tuple[str, int]]) -> int | None:
    """The CS supervisor of the nearest unit at or above the person's (never the person herself)."""
    for path, user_id in supervisors:
        if employee.org_unit.path.startswith(path) and user_id != employee.user_id:
            return user_id
    return None


def coach_choices(employee: Employee, *, on: datetime.date | None = None):
    """The users who may coach ``employee``: her CS supervisors and team leads (roles covering her unit)."""
    on = on or timezone.localdate()
    paths = [p for p in _prefixes(employee.org_unit.path)]
    ids = _in_force(on).filter(role__in=list(COACH_ROLES), org_unit__path__in=paths).values("user_id")
    return (get_user_model().objects.filter(pk__in=ids, is_active=True).exclude(pk=employee.user_id or 0)
            .select_related("employee").order_by("username"))


def _prefixes(path: str) -> list[str]:
    """"/1/4/9/" → ["/1/", "/1/4/", "/1/4/9/"]: the units at and above."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def manages(user, employee: Employee) -> bool:
    """The person's CS supervisor (a role covering her unit), never the person herself."""
    if employee.user_id is not None and employee.user_id == getattr(user, "pk", None):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    paths = active_assignments(user).filter(role__in=list(PLAN_MANAGERS)).values_list("org_unit__path", flat=True)
    return any(employee.org_unit.path.startswith(p) for p in paths)


def decides_cases(user, employee: Employee) -> bool:
    if employee.user_id is not None and employee.user_id == getattr(user, "pk", None):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    paths = active_assignments(user).filter(role__in=list(CASE_DECIDERS)).values_list("org_unit__path", flat=True)
    return any(employee.org_unit.path.startswith(p) for p in paths)


def _hr_users_for(employee: Employee) -> list:
    on = timezone.localdate()
    ids = _in_force(on).filter(role__in=list(CASE_DECIDERS),
                               org_unit__path__in=_prefixes(employee.org_unit.path)).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).exclude(pk=employee.user_id or 0))


# ---- the sync -------------------------------------------------------------------------------------


@dataclass
class SyncRun:
    annual: int = 0  # plans made for fail grades
    monthly: int = 0  # plans made for low monthly totals
    without_coach: int = 0  # of those, plans with no CS supervisor to default to

    @property
    def created(self) -> int:
        return self.annual + self.monthly


def _create(plan: CoachingPlan, *, actor, reason: str) -> bool:
    """Insert one owed plan; False when a concurrent run (or an earlier one) already made it.

    The savepoint keeps the caller's transaction usable after the unique constraint refuses a
    duplicate; on PostgreSQL the second inserter waits for the first to commit, then gets the error.
    """
    try:
        with transaction.atomic():
            plan.full_clean(validate_unique=False, validate_constraints=False)
            plan.save()
            audit.record(actor=actor, action="coaching_plan.create", obj=plan,
                         changes={"status": [None, plan.status], "source": [None, plan.source],
                                  "coach": [None, _name(plan.coach)]}, reason=reason)
    except IntegrityError:
        return False
    return True


def coaching_sync(*, actor=None, today: datetime.date | None = None) -> SyncRun:
    """Make the draft plans owed under policy E3.3; idempotent, safe to run from several places at once.

    Runs nightly (``manage.py coaching_sync``) and after an annual cycle is published. Each plan is
    its own transaction, so a run stopped half-way keeps what it made and the next run does the rest.
    The default coach (a CS supervisor of the person's department, in force ``today``) is told how
    many drafts wait for her.
    """
    today = today or timezone.localdate()
    supervisors = _supervisors(today)
    run = SyncRun()
    per_coach: dict[int | None, int] = defaultdict(int)
    # A fixed order: two runs at once meet on the same row first instead of deadlocking.
    for result in owed_annual().select_related("employee__org_unit", "cycle").order_by("pk"):
        coach = _default_coach(result.employee, supervisors)
        plan = CoachingPlan(employee=result.employee, source=CoachingPlan.Source.ANNUAL_FAIL, annual_result=result,
                            coach_id=coach, created_by=actor if getattr(actor, "is_authenticated", False) else None)
        if _create(plan, actor=actor, reason=_("Fail grade in the %(year)s annual evaluation (E3.3)")
                   % {"year": result.cycle.year}):
            run.annual += 1
            per_coach[coach] += 1
    for ev in owed_monthly().select_related("agent__org_unit").order_by("pk"):
        coach = _default_coach(ev.agent, supervisors)
        plan = CoachingPlan(employee=ev.agent, source=CoachingPlan.Source.MONTHLY_LOW, monthly_evaluation=ev,
                            coach_id=coach, created_by=actor if getattr(actor, "is_authenticated", False) else None)
        if _create(plan, actor=actor, reason=_("Monthly total %(total)s in %(period)s is under the trigger (E3.3)")
                   % {"total": ev.total, "period": f"{ev.year}-{ev.month:02d}"}):
            run.monthly += 1
            per_coach[coach] += 1
    run.without_coach = per_coach.pop(None, 0)
    users = get_user_model().objects.in_bulk([k for k in per_coach if k is not None])
    url = reverse("annual:coaching_list") + "?status=draft"
    for user_id, n in per_coach.items():
        if user_id in users:
            notify(recipients=[users[user_id]], url=url,
                   title=_("%(n)s coaching plan(s) to fill in: goals, coach and due date") % {"n": n})
    return run


# ---- the plan's steps -----------------------------------------------------------------------------


def _name(user) -> str | None:
    """A user as the audit log shows her: the employee's name, else the username."""
    if user is None:
        return None
    employee = getattr(user, "employee", None)
    return employee.name if employee is not None else user.get_username()


def _locked(plan: CoachingPlan) -> CoachingPlan:
    # of=self: the employee's user is an outer join, which PostgreSQL cannot lock.
    return (CoachingPlan.objects.select_for_update(of=("self",))
            .select_related("employee__org_unit", "employee__user").get(pk=plan.pk))


def _require_status(plan: CoachingPlan, *allowed: str) -> None:
    if plan.status not in allowed:
        raise ValidationError(_("The plan is %(status)s; this step needs it %(allowed)s.") % {
            "status": plan.get_status_display(), "allowed": " / ".join(str(P(a).label) for a in allowed)})


def _url(plan: CoachingPlan) -> str:
    return reverse("annual:coaching_detail", args=[plan.pk])


def _text(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def plan_activate(*, actor, plan: CoachingPlan, goals: str, coach, due_date: datetime.date | None,
                  today: datetime.date | None = None) -> CoachingPlan:
    """draft → active: the CS supervisor of the department sets goals, coach and a future due date."""
    today = today or timezone.localdate()
    plan = _locked(plan)
    if not manages(actor, plan.employee):
        raise PermissionDenied
    _require_status(plan, P.DRAFT)
    errors: dict[str, str] = {}
    goals = (goals or "").strip()
    if not goals:
        errors["goals"] = _("Write the goals of the plan.")
    if coach is None:
        errors["coach"] = _("Choose the coach.")
    elif not coach_choices(plan.employee, on=today).filter(pk=coach.pk).exists():
        errors["coach"] = _("The coach must be a CS supervisor or team lead of %(name)s.") % {
            "name": plan.employee.name}
    if due_date is None:
        errors["due_date"] = _("Give the due date.")
    elif due_date <= today:
        errors["due_date"] = _("The due date must be after today.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(plan, ["status", "goals", "due_date"]) | {"coach": _name(plan.coach)}
    plan.status, plan.goals, plan.coach, plan.due_date = P.ACTIVE, goals, coach, due_date
    plan.full_clean(validate_constraints=False)
    plan.save(update_fields=["status", "goals", "coach", "due_date"])
    after = audit.snapshot(plan, ["status", "goals", "due_date"]) | {"coach": _name(plan.coach)}
    audit.record(actor=actor, action="coaching_plan.activate", obj=plan, changes=audit.diff(before, after))
    notify(recipients=[u for u in {plan.employee.user, coach} if u is not None],
           title=_("Coaching plan for %(name)s, due %(due)s") % {"name": plan.employee.name, "due": due_date},
           body=goals, url=_url(plan))
    return plan


@transaction.atomic
def session_add(*, actor, plan: CoachingPlan, held_on: datetime.date | None, notes: str,
                today: datetime.date | None = None) -> CoachingSession:
    """A coaching session with its notes, recorded by the supervisor or the plan's coach."""
    today = today or timezone.localdate()
    plan = _locked(plan)
    is_coach = plan.coach_id is not None and plan.coach_id == getattr(actor, "pk", None)
    if not (manages(actor, plan.employee) or is_coach) or plan.employee.user_id == getattr(actor, "pk", None):
        raise PermissionDenied
    _require_status(plan, P.ACTIVE)
    errors: dict[str, str] = {}
    if held_on is None:
        errors["held_on"] = _("Give the date of the session.")
    elif held_on > today:
        errors["held_on"] = _("A session is recorded once held: the date cannot be in the future.")
    elif held_on < timezone.localdate(plan.created_at):
        errors["held_on"] = _("The session cannot be before the plan was made.")
    notes = (notes or "").strip()
    if not notes:
        errors["notes"] = _("Write the notes of the session.")
    if errors or held_on is None:
        raise ValidationError(errors)
    same = plan.sessions.filter(held_on=held_on, notes=notes).first()
    if same is not None:  # a double submit or a retry: the session is already recorded
        return same
    # Whoever held the session records it: the plan's coach, or the supervisor when she held it herself.
    session = CoachingSession(plan=plan, held_on=held_on, notes=notes, coach=actor)
    session.full_clean()
    session.save()
    audit.record(actor=actor, action="coaching_session.create", obj=session,
                 changes={"held_on": [None, held_on.isoformat() if held_on else None], "plan": [None, plan.pk]})
    return session


def parse_total(raw: str | None) -> Decimal | None:
    """The optional follow-up total: blank → None; a number 0–100 with 2 decimals."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as e:
        raise ValidationError({"follow_up_total": _("Follow-up total: enter a number from 0 to 100.")}) from e
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValidationError({"follow_up_total": _("Follow-up total: enter a number from 0 to 100.")})
    return value


@transaction.atomic
def plan_close(*, actor, plan: CoachingPlan, met: bool, note: str,
               follow_up_total: Decimal | None = None) -> CoachingPlan:
    """The follow-up evaluation: active → closed_met, or closed_unmet which opens an HR case (E3.3)."""
    plan = _locked(plan)
    if not manages(actor, plan.employee):
        raise PermissionDenied
    _require_status(plan, P.ACTIVE)
    note = _text(note, "follow_up_note", _("Write the follow-up evaluation."))
    if not plan.sessions.exists():
        raise ValidationError(_("Record at least one coaching session before the follow-up evaluation."))
    if follow_up_total is not None:
        if not Decimal(0) <= follow_up_total <= Decimal(100):
            raise ValidationError({"follow_up_total": _("Follow-up total: enter a number from 0 to 100.")})
        if follow_up_total != follow_up_total.quantize(CENT):
            raise ValidationError({"follow_up_total": _("Follow-up total: at most two decimals.")})
    before = audit.snapshot(plan, ["status", "follow_up_note", "follow_up_total"])
    plan.status = P.CLOSED_MET if met else P.CLOSED_UNMET
    plan.follow_up_note, plan.follow_up_total = note, follow_up_total
    plan.closed_by, plan.closed_at = actor, timezone.now()
    plan.full_clean(validate_constraints=False)
    plan.save(update_fields=["status", "follow_up_note", "follow_up_total", "closed_by", "closed_at"])
    audit.record(actor=actor, action="coaching_plan.close", obj=plan,
                 changes=audit.diff(before, audit.snapshot(plan, list(before))), reason=note)
    notify(recipients=[plan.employee.user] if plan.employee.user else [],
           title=_("Your coaching plan is closed: %(status)s") % {"status": plan.get_status_display()},
           url=_url(plan))
    if not met:
        # policy E3.3: whoever still falls short after coaching is dealt with under the company's rules.
        case = HrCase(plan=plan)
        case.full_clean(validate_unique=False)
        case.save()
        audit.record(actor=actor, action="hr_case.open", obj=case, changes={"status": [None, case.status]})
        notify(recipients=_hr_users_for(plan.employee),
               title=_("HR case: %(name)s did not meet the coaching goal") % {"name": plan.employee.name},
               body=note, url=_url(plan))
    return plan


@transaction.atomic
def plan_cancel(*, actor, plan: CoachingPlan, reason: str) -> CoachingPlan:
    """draft/active → cancelled with a reason (the supervisor or HR), e.g. the facts were corrected."""
    plan = _locked(plan)
    if not (manages(actor, plan.employee) or decides_cases(actor, plan.employee)):
        raise PermissionDenied
    _require_status(plan, P.DRAFT, P.ACTIVE)
    reason = _text(reason, "cancel_reason", _("Give the reason for cancelling."))
    was = plan.status
    plan.status, plan.cancel_reason = P.CANCELLED, reason
    plan.closed_by, plan.closed_at = actor, timezone.now()
    plan.full_clean(validate_constraints=False)
    plan.save(update_fields=["status", "cancel_reason", "closed_by", "closed_at"])
    audit.record(actor=actor, action="coaching_plan.cancel", obj=plan, changes={"status": [was, plan.status]},
                 reason=reason)
    if was == P.ACTIVE:
        notify(recipients=[u for u in {plan.employee.user, plan.coach} if u is not None and u != actor],
               title=_("Coaching plan for %(name)s cancelled") % {"name": plan.employee.name}, body=reason,
               url=_url(plan))
    return plan


@transaction.atomic
def hr_case_decide(*, actor, case: HrCase, decision: str) -> HrCase:
    """HR records what was decided under the company's rules (E3.3): open → decided."""
    case = (HrCase.objects.select_for_update(of=("self",))
            .select_related("plan__employee__org_unit", "plan__employee__user", "plan__closed_by").get(pk=case.pk))
    if not decides_cases(actor, case.plan.employee):
        raise PermissionDenied
    if case.status != HrCase.Status.OPEN:
        raise ValidationError(_("This HR case is already decided."))
    decision = _text(decision, "decision", _("Write the decision."))
    case.status, case.decision, case.decided_by, case.decided_at = (HrCase.Status.DECIDED, decision, actor,
                                                                    timezone.now())
    case.full_clean(validate_unique=False)
    case.save(update_fields=["status", "decision", "decided_by", "decided_at"])
    audit.record(actor=actor, action="hr_case.decide", obj=case,
                 changes={"status": [HrCase.Status.OPEN, case.status]}, reason=decision)
    plan = case.plan
    notify(recipients=[u for u in {plan.employee.user, plan.closed_by} if u is not None],
           title=_("HR case decided for %(name)s") % {"name": plan.employee.name}, body=decision, url=_url(plan))
    return case
