"""Automatic compliance checks (issue 8 item 4; policy S1-S2: the supervision group checks that the
evaluation process is followed, that results are fair and that uniform management follows the rules).

    run = compliance_run(actor=inspector)            # every check, hits stored, counts per check
    hit_attach(actor=inspector, hit=hit, inspection=inspection)   # → a Finding of that inspection

Each check is a ``Check(key, clause, label, run)`` whose ``run(today)`` returns ``Hit`` objects.
Every check reads other apps' data in a fixed number of queries, whatever the number of rows
(no query per row). A day counts once it is over: a check run on ``today`` judges deadlines
against the end of yesterday, so a nightly run and a "run now" click on the same day agree.

Windows. Checks of recurring work (weekly and monthly evaluations, evaluator statistics, stock
counts) look back ``WINDOW_DAYS`` (one quarter, the longest inspection cycle of S2); checks of
states that stay wrong until someone acts (open appeals, forms waiting, overdue renewals,
unassessed reports, issues without approval, orders with unqualified suppliers, annual quotas)
look at all rows.

The rules, one per check (and their boundaries):

- ``weekly_missing`` (E2.1): for each complete ISO week (Monday-Sunday) in the window, every
  agent of a customer-service unit who held the agent role on some day of it, was hired by its
  Sunday and had not left before its Monday, has a submitted weekly evaluation; one submitted
  after the week's Sunday is *late* (the evaluators' to-do shows the week due on its Sunday).
- ``weekly_no_evidence`` (E2.1): a submitted weekly evaluation of the window with neither an
  evidence interaction nor an attached file.
- ``monthly_not_final`` (E2.2, G3.1): the monthly evaluation of each month that ended in the
  window is final by close of business of the ``inspections.monthly_final_working_days``-th
  working day after the month's last day; flagged from the day after that.
- ``appeal_overdue`` (G3.1): an appeal still open after its deadline (the evaluation's appeal
  deadline) has passed.
- ``evaluator_outlier`` (G3.1, E2.1): an evaluator's scores stand out. The score of a weekly
  evaluation is the plain mean of its dimension percents; for each evaluator and department (the
  agents' department) with at least ``OUTLIER_MIN_EVALUATIONS`` scored evaluations in the window,
  z = (her mean − the mean of the other evaluators' evaluations in the department) ÷ their
  standard deviation (population). |z| ≥ ``OUTLIER_Z`` (2) is flagged. Comparing with the *other*
  evaluators' individual evaluations keeps her own scores out of the yardstick and works for a
  department with only two or three evaluators (a z-score among a handful of evaluator means
  can never reach 2). The others need ``OUTLIER_MIN_EVALUATIONS`` scored evaluations too and a
  non-zero spread.
- ``evaluator_all_max`` (G3.1): an evaluator with at least ``OUTLIER_MIN_EVALUATIONS`` scored
  evaluations in the window, every scored dimension of every one at 100 % (the top of the scale).
- ``annual_quota`` (E2.3): a cycle past calibration (submitted, approved, published) whose
  final grades break the cap on excellent or the floor on fail of its own parameters.
- ``issue_without_approval`` (U2.2): an issuance whose requisition was never approved by the
  department head (draft, submitted, rejected, no approver) or approved only after the issue.
- ``stock_count_variance`` (U1.2, U2.2): a submitted or approved stock count of the window with a
  line counted differently from what was expected.
- ``renewal_overdue`` (U4.1): an active employee holding items whose renewal date has passed;
  one hit per employee.
- ``damage_not_assessed`` (U3.2): a damage or loss report still not assessed after
  ``inspections.approval_wait_days`` working days.
- ``approval_waiting`` (S2, U1.2, U2.2, U4.2, G3.1): a form waiting for a decision longer than
  ``inspections.approval_wait_days`` working days: requisitions (to the department head), scrap
  forms (to the head, then to admin), stock counts (to approve), purchase plans (first and second
  approval), awards awaiting leadership, appeals (to the department head). Waiting longer than N
  working days: the N working days after the day it started waiting are over — waiting exactly N
  is not flagged.
- ``order_unqualified_supplier`` (U1.2): a purchase order issued to a supplier that was not
  qualified when it was issued (its status then, read from the audit log of its status changes),
  had no business licence on file then, or had a certificate on file that had expired by the
  order date.
"""

from __future__ import annotations

import datetime
import logging
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from kefu.core import audit, calendar, policy
from kefu.people.models import Employee, OrgUnit, Role

logger = logging.getLogger(__name__)

# One quarter back (the longest inspection cycle of S2) for the checks of recurring work.
WINDOW_DAYS = 91
# An evaluator is judged on at least eight scored weekly evaluations (about two months of one agent's
# weeks); fewer say too little about her.
OUTLIER_MIN_EVALUATIONS = 8
# Two standard deviations: about 1 in 20 by chance under a normal spread, rare enough to be worth a look.
OUTLIER_Z = 2.0


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One thing a check found. ``target_model`` + ``object_id`` are the record it is about; ``msg`` +
    ``params`` make the summary again in the reader's language; ``link`` is the record's page."""

    msg: str
    params: dict[str, Any]
    org_unit_id: int | None = None
    employee_id: int | None = None
    target_model: type[models.Model] | None = None
    object_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    link: tuple[str, tuple[Any, ...], str] | None = None  # url name, args, query string

    @property
    def summary(self) -> str:
        return gettext(self.msg) % self.params

    def stored_details(self) -> dict[str, Any]:
        out = {**self.details, "msg": self.msg, "params": self.params}
        if self.link:
            out["link"] = {"name": self.link[0], "args": list(self.link[1]), "query": self.link[2]}
        return audit._plain(out)


@dataclass(frozen=True)
class Check:
    key: str
    clause: str
    label: Any  # lazy string
    run: Callable[[datetime.date], list[Hit]]
    description: Any = ""


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    CHECKS[check.key] = check
    return check


def check(key: str, clause: str, label: Any, description: Any = "") -> Callable[..., Any]:
    def wrap(fn: Callable[[datetime.date], list[Hit]]) -> Callable[[datetime.date], list[Hit]]:
        register(Check(key, clause, label, fn, description))
        return fn
    return wrap


def summary_of(details: dict[str, Any], fallback: str = "") -> str:
    """A stored hit's summary in the reader's language (the stored text if the message is unknown)."""
    msg, params = details.get("msg"), details.get("params")
    if not msg or not isinstance(params, dict):
        return fallback
    try:
        return gettext(msg) % params
    except (KeyError, TypeError, ValueError):
        return fallback


def link_of(details: dict[str, Any]) -> str:
    """The URL of the record a stored hit is about ('' when it has none or it no longer resolves)."""
    link = details.get("link")
    if not isinstance(link, dict):
        return ""
    try:
        url = reverse(link["name"], args=link.get("args") or [])
    except (NoReverseMatch, KeyError):
        return ""
    return f"{url}?{link['query']}" if link.get("query") else url


# ---------------------------------------------------------------------------------------------
# Shared helpers: departments, day boundaries, the working-day wait limit
# ---------------------------------------------------------------------------------------------


class Departments:
    """Unit id → the id of its department (the nearest department at or above it; the unit itself
    when none is). One query for the whole org tree."""

    def __init__(self) -> None:
        rows = list(OrgUnit.objects.values_list("pk", "kind", "path"))
        kinds = {pk: kind for pk, kind, _path in rows}
        self._dept: dict[int, int] = {}
        for pk, _kind, path in rows:
            ids = [int(x) for x in path.strip("/").split("/") if x]
            self._dept[pk] = next((i for i in reversed(ids) if kinds.get(i) == OrgUnit.Kind.DEPARTMENT), pk)

    def of(self, unit_id: int | None) -> int | None:
        if unit_id is None:
            return None
        return self._dept.get(unit_id, unit_id)


def start_of(day: datetime.date) -> datetime.datetime:
    """Local midnight at the start of ``day``, aware."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def local_date(instant: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(instant) if instant is not None else None


def wait_cutoff(today: datetime.date, working_days: int) -> datetime.datetime:
    """The instant before which something must have started waiting to have waited longer than
    ``working_days`` working days by the end of yesterday (policy S2, ``inspections.approval_wait_days``).

    Counting back from yesterday, the ``working_days``-th working day W: whatever started waiting
    before W began has had ``working_days`` whole working days after its first day. Something that
    started on day d waits longer than N working days once the N-th working day after d is over.
    """
    cal = calendar.current()
    if working_days <= 0:
        return start_of(today)
    day, found = today, 0
    for _i in range(3660):
        day -= datetime.timedelta(days=1)
        if cal.is_working_day(day):
            found += 1
            if found == working_days:
                return start_of(day)
    raise ValueError("no working days found")  # pragma: no cover - a calendar without working days


def approval_wait_days(today: datetime.date) -> int:
    return int(policy.get("inspections.approval_wait_days", on=today))


def rows_of(qs: Any) -> list[dict[str, Any]]:
    """A values() query's rows as plain dicts (one query)."""
    return [dict(r) for r in qs]


def _week_label(monday: datetime.date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


# ---------------------------------------------------------------------------------------------
# Evaluations (E2.1, E2.2, G3.1)
# ---------------------------------------------------------------------------------------------

MSG_WEEKLY_MISSING = gettext_noop("%(name)s (%(no)s): no weekly evaluation for %(week)s")
MSG_WEEKLY_LATE = gettext_noop("%(name)s (%(no)s): weekly evaluation of %(week)s submitted late, on %(date)s")


def complete_weeks(today: datetime.date) -> list[datetime.date]:
    """Mondays of the ISO weeks that ended before ``today`` and lie in the window, oldest first."""
    last_sunday = today - datetime.timedelta(days=today.weekday() + 1)
    first = today - datetime.timedelta(days=WINDOW_DAYS)
    mondays = []
    monday = last_sunday - datetime.timedelta(days=6)
    while monday >= first:
        mondays.append(monday)
        monday -= datetime.timedelta(days=7)
    return sorted(mondays)


@check("weekly_missing", "E2.1", _("Weekly evaluations missing or late"),
       _("Every agent has a weekly evaluation each week, submitted by the week's Sunday."))
def check_weekly_missing(today: datetime.date) -> list[Hit]:
    from kefu.evaluations.models import WeeklyEvaluation
    from kefu.people.models import RoleAssignment

    mondays = complete_weeks(today)
    if not mondays:
        return []
    first, last = mondays[0], mondays[-1] + datetime.timedelta(days=6)
    depts = Departments()
    assignments = (
        RoleAssignment.objects.filter(role=Role.AGENT, start_date__lte=last, user__employee__isnull=False,
                                      user__employee__org_unit__is_customer_service=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .exclude(user__employee__status=Employee.Status.PENDING)
        .values_list("user__employee__pk", "start_date", "end_date")
    )
    spans: dict[int, list[tuple[datetime.date, datetime.date | None]]] = defaultdict(list)
    for employee_id, start, end in assignments:
        spans[employee_id].append((start, end))
    people = {
        e["pk"]: e for e in Employee.objects.filter(pk__in=list(spans)).values(
            "pk", "name", "employee_no", "org_unit_id", "hire_date", "leave_date")
    }
    done: dict[tuple[int, datetime.date], tuple[int, datetime.datetime | None]] = {}
    drafts: dict[tuple[int, datetime.date], int] = {}
    for pk, agent_id, week_start, status, submitted_at in WeeklyEvaluation.objects.filter(
            week_start__gte=first, week_start__lte=mondays[-1]).values_list(
            "pk", "agent_id", "week_start", "status", "submitted_at"):
        if status == WeeklyEvaluation.Status.DRAFT:
            drafts[(agent_id, week_start)] = pk
        else:
            done[(agent_id, week_start)] = (pk, submitted_at)
    hits = []
    for monday in mondays:
        sunday = monday + datetime.timedelta(days=6)
        week = _week_label(monday)
        for employee_id in sorted(people, key=lambda k: people[k]["employee_no"]):
            e = people[employee_id]
            if e["hire_date"] > sunday or (e["leave_date"] is not None and e["leave_date"] < monday):
                continue
            if not any(start <= sunday and (end is None or end >= monday) for start, end in spans[employee_id]):
                continue
            params = {"name": e["name"], "no": e["employee_no"], "week": week}
            dept = depts.of(e["org_unit_id"])
            found = done.get((employee_id, monday))
            if found is None:
                draft = drafts.get((employee_id, monday))
                hits.append(Hit(
                    MSG_WEEKLY_MISSING, params, org_unit_id=dept, employee_id=employee_id,
                    target_model=WeeklyEvaluation if draft else Employee, object_id=draft or employee_id,
                    details={"kind": "missing", "week": week, "week_start": monday},
                    link=("evaluations:weekly_detail", (draft,), "") if draft
                    else ("people:employee_detail", (e["employee_no"],), ""),
                ))
                continue
            pk, submitted_at = found
            submitted_on = local_date(submitted_at)
            if submitted_on is not None and submitted_on > sunday:
                hits.append(Hit(
                    MSG_WEEKLY_LATE, {**params, "date": submitted_on.isoformat()}, org_unit_id=dept,
                    employee_id=employee_id, target_model=WeeklyEvaluation, object_id=pk,
                    details={"kind": "late", "week": week, "week_start": monday, "submitted_on": submitted_on,
                             "days_late": (submitted_on - sunday).days},
                    link=("evaluations:weekly_detail", (pk,), ""),
                ))
    return hits


MSG_NO_EVIDENCE = gettext_noop("%(name)s (%(no)s): weekly evaluation %(week)s has no evidence")


@check("weekly_no_evidence", "E2.1", _("Weekly evaluations without evidence"),
       _("A submitted weekly evaluation rests on evidence: interactions picked as evidence or attached files."))
def check_weekly_no_evidence(today: datetime.date) -> list[Hit]:
    from kefu.core.models import Attachment
    from kefu.evaluations.models import WeeklyEvaluation, WeeklyEvidence

    depts = Departments()
    rows = (
        WeeklyEvaluation.objects.filter(week_start__gte=today - datetime.timedelta(days=WINDOW_DAYS),
                                        week_start__lt=today)
        .exclude(status=WeeklyEvaluation.Status.DRAFT)
        .exclude(Exists(WeeklyEvidence.objects.filter(evaluation=OuterRef("pk"))))
        .exclude(Exists(Attachment.objects.filter(content_type=ContentType.objects.get_for_model(WeeklyEvaluation),
                                                  object_id=OuterRef("pk"))))
        .order_by("week_start", "agent__employee_no")
        .values("pk", "agent_id", "agent__name", "agent__employee_no", "agent__org_unit_id", "iso_year", "iso_week",
                "evaluator_id", "evaluator__name")
    )
    return [
        Hit(MSG_NO_EVIDENCE, {"name": r["agent__name"], "no": r["agent__employee_no"],
                              "week": f"{r['iso_year']}-W{r['iso_week']:02d}"},
            org_unit_id=depts.of(r["agent__org_unit_id"]), employee_id=r["agent_id"],
            target_model=WeeklyEvaluation, object_id=r["pk"],
            details={"evaluator_id": r["evaluator_id"], "evaluator": r["evaluator__name"]},
            link=("evaluations:weekly_detail", (r["pk"],), ""))
        for r in rows
    ]


MSG_MONTHLY_NOT_FINAL = gettext_noop(
    "%(name)s (%(no)s): monthly evaluation %(period)s is %(status)s, past its deadline of %(deadline)s")
MSG_MONTHLY_NONE = gettext_noop("%(name)s (%(no)s): no monthly evaluation for %(period)s (deadline %(deadline)s)")


def months_due(today: datetime.date) -> list[tuple[int, int, datetime.date]]:
    """(year, month, deadline) of the months that ended in the window and whose deadline is over."""
    out = []
    day = today.replace(day=1) - datetime.timedelta(days=1)  # the last day of the previous month
    first = today - datetime.timedelta(days=WINDOW_DAYS)
    while day >= first:
        n = int(policy.get("inspections.monthly_final_working_days", on=day))
        deadline = timezone.localdate(calendar.close_of_business(day, n))
        if deadline < today:
            out.append((day.year, day.month, deadline))
        day = day.replace(day=1) - datetime.timedelta(days=1)
    return sorted(out)


@check("monthly_not_final", "E2.2", _("Monthly evaluations not final by the deadline"),
       _("Each agent's monthly evaluation is final by the set number of working days after the month."))
def check_monthly_not_final(today: datetime.date) -> list[Hit]:
    from kefu.evaluations import monthly
    from kefu.evaluations.models import MonthlyEvaluation

    depts = Departments()
    hits = []
    for year, month, deadline in months_due(today):
        period = f"{year}-{month:02d}"
        rows = (MonthlyEvaluation.objects.filter(year=year, month=month)
                .exclude(status=MonthlyEvaluation.Status.FINAL).order_by("agent__employee_no")
                .values("pk", "status", "agent_id", "agent__name", "agent__employee_no", "agent__org_unit_id"))
        for r in rows:
            hits.append(Hit(
                MSG_MONTHLY_NOT_FINAL, {"name": r["agent__name"], "no": r["agent__employee_no"], "period": period,
                                        "status": str(MonthlyEvaluation.Status(r["status"]).label),
                                        "deadline": deadline.isoformat()},
                org_unit_id=depts.of(r["agent__org_unit_id"]), employee_id=r["agent_id"],
                target_model=MonthlyEvaluation, object_id=r["pk"],
                details={"period": period, "status": r["status"], "deadline": deadline},
                link=("evaluations:monthly_detail", (r["pk"],), "")))
        missing = (monthly.month_agents(year, month)
                   .exclude(Exists(MonthlyEvaluation.objects.filter(agent=OuterRef("pk"), year=year, month=month)))
                   .order_by("employee_no").values("pk", "name", "employee_no", "org_unit_id"))
        for e in missing:
            hits.append(Hit(
                MSG_MONTHLY_NONE, {"name": e["name"], "no": e["employee_no"], "period": period,
                                   "deadline": deadline.isoformat()},
                org_unit_id=depts.of(e["org_unit_id"]), employee_id=e["pk"], target_model=Employee, object_id=e["pk"],
                details={"period": period, "status": "", "deadline": deadline},
                link=("people:employee_detail", (e["employee_no"],), "")))
    return hits


MSG_APPEAL_OVERDUE = gettext_noop("%(name)s (%(no)s): appeal against %(period)s still open after its deadline %(deadline)s")


@check("appeal_overdue", "G3.1", _("Appeals past their deadline"),
       _("An appeal is decided by its deadline."))
def check_appeal_overdue(today: datetime.date) -> list[Hit]:
    from kefu.evaluations.models import Appeal

    depts = Departments()
    rows = (Appeal.objects.filter(status=Appeal.Status.OPEN, deadline__lt=start_of(today))
            .order_by("deadline", "pk")
            .values("pk", "deadline", "filed_at", "evaluation_id", "evaluation__year", "evaluation__month",
                    "evaluation__agent_id", "evaluation__agent__name", "evaluation__agent__employee_no",
                    "evaluation__agent__org_unit_id"))
    hits = []
    for r in rows:
        deadline = timezone.localtime(r["deadline"])
        hits.append(Hit(
            MSG_APPEAL_OVERDUE, {"name": r["evaluation__agent__name"], "no": r["evaluation__agent__employee_no"],
                                 "period": f"{r['evaluation__year']}-{r['evaluation__month']:02d}",
                                 "deadline": deadline.strftime("%Y-%m-%d %H:%M")},
            org_unit_id=depts.of(r["evaluation__agent__org_unit_id"]), employee_id=r["evaluation__agent_id"],
            target_model=Appeal, object_id=r["pk"],
            details={"deadline": r["deadline"], "filed_at": r["filed_at"], "days_over": (today - deadline.date()).days},
            link=("evaluations:appeal_decide", (r["pk"],), "")))
    return hits


def _weekly_scores(today: datetime.date) -> list[tuple[int, int | None, float, bool]]:
    """(evaluator id, agent's department id, score, all at the top) of the window's scored weekly evaluations."""
    from kefu.evaluations.models import WeeklyEvaluation

    depts = Departments()
    rows = (WeeklyEvaluation.objects.filter(week_start__gte=today - datetime.timedelta(days=WINDOW_DAYS),
                                            week_start__lt=today)
            .exclude(status=WeeklyEvaluation.Status.DRAFT)
            .values_list("evaluator_id", "agent__org_unit_id", "attitude_pct", "ability_pct", "efficiency_pct"))
    out = []
    for evaluator_id, unit_id, *pcts in rows:
        scored = [float(p) for p in pcts if p is not None]
        if scored:
            out.append((evaluator_id, depts.of(unit_id), statistics.fmean(scored), all(p == 100 for p in scored)))
    return out


def _evaluators(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    return {e["pk"]: e for e in rows_of(Employee.objects.filter(pk__in=list(ids)).values("pk", "name", "employee_no"))}


MSG_OUTLIER = gettext_noop(
    "%(name)s (%(no)s): mean weekly score %(mean)s %% against %(others)s %% of the department's other evaluators "
    "(z = %(z)s, %(n)s evaluations)")


@check("evaluator_outlier", "G3.1", _("Evaluators whose scores stand out"),
       _("An evaluator's mean weekly score lies at least 2 standard deviations from her department colleagues'."))
def check_evaluator_outlier(today: datetime.date) -> list[Hit]:
    by_group: dict[int | None, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for evaluator_id, dept, score, _top in _weekly_scores(today):
        by_group[dept][evaluator_id].append(score)
    found = []
    for dept, evaluators in by_group.items():
        for evaluator_id, scores in evaluators.items():
            if len(scores) < OUTLIER_MIN_EVALUATIONS:
                continue
            others = [s for other, ss in evaluators.items() if other != evaluator_id for s in ss]
            if len(others) < OUTLIER_MIN_EVALUATIONS:
                continue
            spread = statistics.pstdev(others)
            if spread == 0:
                continue
            mean, others_mean = statistics.fmean(scores), statistics.fmean(others)
            z = (mean - others_mean) / spread
            if abs(z) >= OUTLIER_Z:
                found.append((dept, evaluator_id, len(scores), mean, others_mean, spread, z))
    people = _evaluators(f[1] for f in found)
    hits = []
    for dept, evaluator_id, n, mean, others_mean, spread, z in sorted(found, key=lambda f: -abs(f[6])):
        e = people[evaluator_id]
        hits.append(Hit(
            MSG_OUTLIER, {"name": e["name"], "no": e["employee_no"], "mean": f"{mean:.1f}",
                          "others": f"{others_mean:.1f}", "z": f"{z:+.2f}", "n": n},
            org_unit_id=dept, employee_id=evaluator_id, target_model=Employee, object_id=evaluator_id,
            details={"n": n, "mean": round(mean, 2), "others_mean": round(others_mean, 2),
                     "others_sd": round(spread, 2), "z": round(z, 2),
                     "direction": "lenient" if z > 0 else "strict"},
            link=("people:employee_detail", (e["employee_no"],), "")))
    return hits


MSG_ALL_MAX = gettext_noop("%(name)s (%(no)s): all %(n)s weekly evaluations scored at the maximum")


@check("evaluator_all_max", "G3.1", _("Evaluators giving everything the maximum"),
       _("An evaluator scores every criterion of every weekly evaluation at the top of the scale."))
def check_evaluator_all_max(today: datetime.date) -> list[Hit]:
    groups: dict[tuple[int, int | None], list[bool]] = defaultdict(list)
    for evaluator_id, dept, _score, top in _weekly_scores(today):
        groups[(evaluator_id, dept)].append(top)
    found = [(key, len(tops)) for key, tops in groups.items() if len(tops) >= OUTLIER_MIN_EVALUATIONS and all(tops)]
    people = _evaluators(key[0] for key, _n in found)
    return [
        Hit(MSG_ALL_MAX, {"name": people[ev]["name"], "no": people[ev]["employee_no"], "n": n},
            org_unit_id=dept, employee_id=ev, target_model=Employee, object_id=ev, details={"n": n},
            link=("people:employee_detail", (people[ev]["employee_no"],), ""))
        for (ev, dept), n in sorted(found, key=lambda f: (people[f[0][0]]["employee_no"], f[0][1] or 0))
    ]


# ---------------------------------------------------------------------------------------------
# Annual evaluation (E2.3)
# ---------------------------------------------------------------------------------------------

MSG_QUOTA_CAP = gettext_noop("Annual evaluation %(year)s: %(n)s excellent, more than the cap of %(cap)s (%(rated)s rated)")
MSG_QUOTA_FLOOR = gettext_noop("Annual evaluation %(year)s: %(n)s fail, fewer than the floor of %(floor)s (%(rated)s rated)")


@check("annual_quota", "E2.3", _("Annual quotas breached"),
       _("After calibration, excellent stays within its cap and fail reaches its floor."))
def check_annual_quota(today: datetime.date) -> list[Hit]:
    from decimal import Decimal

    from kefu.annual import distribution
    from kefu.annual.models import AnnualCycle, Grade

    S = AnnualCycle.Status
    rated = Q(results__rated=True)
    cycles = (AnnualCycle.objects.filter(status__in=[S.SUBMITTED, S.APPROVED, S.PUBLISHED])
              .annotate(n=Count("results", filter=rated),
                        excellent=Count("results", filter=rated & Q(results__final_grade=Grade.EXCELLENT)),
                        fail=Count("results", filter=rated & Q(results__final_grade=Grade.FAIL)))
              .order_by("year"))
    hits = []
    for cycle in cycles:
        p = cycle.parameters
        if cycle.n < int(p.get("min_population", 0)):
            continue
        cap, floor = distribution.quotas(cycle.n, excellent_max_pct=Decimal(str(p["excellent_max_pct"])),
                                         fail_min_pct=Decimal(str(p["fail_min_pct"])),
                                         rounding=p.get("quota_rounding", "strict"))
        common = {"year": cycle.year, "rated": cycle.n}
        details = {"year": cycle.year, "rated": cycle.n, "excellent": cycle.excellent, "fail": cycle.fail,
                   "cap": cap, "floor": floor, "status": cycle.status}
        if cycle.excellent > cap:
            hits.append(Hit(MSG_QUOTA_CAP, {**common, "n": cycle.excellent, "cap": cap}, target_model=AnnualCycle,
                            object_id=cycle.pk, details={**details, "breach": "cap"},
                            link=("annual:board", (cycle.year,), "")))
        if cycle.fail < floor:
            hits.append(Hit(MSG_QUOTA_FLOOR, {**common, "n": cycle.fail, "floor": floor}, target_model=AnnualCycle,
                            object_id=cycle.pk, details={**details, "breach": "floor"},
                            link=("annual:board", (cycle.year,), "")))
    return hits


# ---------------------------------------------------------------------------------------------
# Uniforms (U2.2, U3.2, U4.1, U4.2, stock)
# ---------------------------------------------------------------------------------------------

MSG_ISSUE_UNAPPROVED = gettext_noop(
    "Issuance %(number)s to %(name)s: requisition %(requisition)s was not approved (%(status)s)")
MSG_ISSUE_BEFORE_APPROVAL = gettext_noop(
    "Issuance %(number)s to %(name)s on %(date)s: requisition %(requisition)s approved only on %(approved)s")


@check("issue_without_approval", "U2.2", _("Issues without an approved requisition"),
       _("Uniforms are issued only on a requisition signed by the department head."))
def check_issue_without_approval(today: datetime.date) -> list[Hit]:
    from kefu.uniforms.models import Issuance, Requisition

    R = Requisition.Status
    depts = Departments()
    rows = (Issuance.objects.filter(
        Q(requisition__status__in=[R.DRAFT, R.SUBMITTED, R.REJECTED]) | Q(requisition__approved_at__isnull=True)
        | Q(requisition__approver__isnull=True) | Q(requisition__approved_at__gt=F("issued_at")))
        .order_by("issued_at", "pk")
        .values("pk", "number", "issued_at", "employee_id", "employee__name", "employee__org_unit_id",
                "requisition__number", "requisition__status", "requisition__approved_at", "requisition__approver_id"))
    hits = []
    for r in rows:
        status = r["requisition__status"]
        never = status in (R.DRAFT, R.SUBMITTED, R.REJECTED) or r["requisition__approved_at"] is None \
            or r["requisition__approver_id"] is None
        base = {"number": r["number"], "name": r["employee__name"], "requisition": r["requisition__number"]}
        if never:
            msg, params = MSG_ISSUE_UNAPPROVED, {**base, "status": str(R(status).label)}
        else:
            msg, params = MSG_ISSUE_BEFORE_APPROVAL, {
                **base, "date": str(local_date(r["issued_at"])), "approved": str(local_date(r["requisition__approved_at"]))}
        hits.append(Hit(msg, params, org_unit_id=depts.of(r["employee__org_unit_id"]), employee_id=r["employee_id"],
                        target_model=Issuance, object_id=r["pk"],
                        details={"requisition": r["requisition__number"], "requisition_status": status,
                                 "issued_at": r["issued_at"], "approved_at": r["requisition__approved_at"]},
                        link=("uniforms:issuance_detail", (r["number"],), "")))
    return hits


MSG_COUNT_VARIANCE = gettext_noop(
    "Stock count %(number)s (%(location)s, %(date)s): %(lines)s line(s) off, %(units)s unit(s) net")


@check("stock_count_variance", "U2.2", _("Stock counts with variances"),
       _("A physical count that differs from the books is explained and followed up."))
def check_stock_count_variance(today: datetime.date) -> list[Hit]:
    from kefu.uniforms.models import StockCount

    depts = Departments()
    off = Q(lines__counted__isnull=False) & (Q(lines__counted__lt=F("lines__expected"))
                                              | Q(lines__counted__gt=F("lines__expected")))
    rows = (StockCount.objects.filter(status__in=[StockCount.Status.SUBMITTED, StockCount.Status.APPROVED],
                                      counted_on__gte=today - datetime.timedelta(days=WINDOW_DAYS))
            .annotate(lines_off=Count("lines", filter=off),
                      net=Sum(F("lines__counted") - F("lines__expected"), filter=off),
                      over=Sum(F("lines__counted") - F("lines__expected"),
                               filter=off & Q(lines__counted__gt=F("lines__expected"))),
                      short=Sum(F("lines__expected") - F("lines__counted"),
                                filter=off & Q(lines__counted__lt=F("lines__expected"))))
            .filter(lines_off__gt=0).order_by("counted_on", "pk")
            .values("pk", "number", "counted_on", "status", "location__name", "created_by__employee__org_unit_id",
                    "lines_off", "net", "over", "short"))
    return [
        Hit(MSG_COUNT_VARIANCE, {"number": r["number"], "location": r["location__name"], "date": str(r["counted_on"]),
                                 "lines": r["lines_off"], "units": f"{r['net']:+d}"},
            org_unit_id=depts.of(r["created_by__employee__org_unit_id"]), target_model=StockCount, object_id=r["pk"],
            details={"status": r["status"], "lines_off": r["lines_off"], "net": r["net"], "over": r["over"] or 0,
                     "short": r["short"] or 0},
            link=("uniforms:count_detail", (r["pk"],), ""))
        for r in rows
    ]


MSG_RENEWAL_OVERDUE = gettext_noop("%(name)s (%(no)s): %(items)s item(s) overdue for renewal since %(since)s")


@check("renewal_overdue", "U4.1", _("Renewals overdue"),
       _("Uniforms are renewed when their renewal cycle ends."))
def check_renewal_overdue(today: datetime.date) -> list[Hit]:
    from kefu.uniforms.models import Holding

    depts = Departments()
    rows = (Holding.objects.filter(status=Holding.Status.HELD, renewal_due_on__lt=today,
                                   employee__status=Employee.Status.ACTIVE)
            .values("employee_id", "employee__name", "employee__employee_no", "employee__org_unit_id")
            .annotate(items=Count("pk"), first_due=Min("renewal_due_on"))
            .order_by("first_due", "employee__employee_no"))
    return [
        Hit(MSG_RENEWAL_OVERDUE, {"name": r["employee__name"], "no": r["employee__employee_no"], "items": r["items"],
                                  "since": str(r["first_due"])},
            org_unit_id=depts.of(r["employee__org_unit_id"]), employee_id=r["employee_id"], target_model=Employee,
            object_id=r["employee_id"],
            details={"items": r["items"], "first_due": r["first_due"], "days_overdue": (today - r["first_due"]).days},
            link=("uniforms:holdings", (), urlencode({"q": r["employee__employee_no"]})))
        for r in rows
    ]


MSG_DAMAGE = gettext_noop("Damage/loss report %(number)s of %(name)s, reported %(date)s, not assessed")


@check("damage_not_assessed", "U3.2", _("Damage reports not assessed"),
       _("Admin assesses a damage or loss report within the approval wait limit."))
def check_damage_not_assessed(today: datetime.date) -> list[Hit]:
    from kefu.uniforms.models import DamageReport

    depts = Departments()
    limit = approval_wait_days(today)
    rows = (DamageReport.objects.filter(status=DamageReport.Status.REPORTED, reported_at__lt=wait_cutoff(today, limit))
            .order_by("reported_at", "pk")
            .values("pk", "number", "kind", "reported_at", "employee_id", "employee__name", "employee__org_unit_id"))
    return [
        Hit(MSG_DAMAGE, {"number": r["number"], "name": r["employee__name"], "date": str(local_date(r["reported_at"]))},
            org_unit_id=depts.of(r["employee__org_unit_id"]), employee_id=r["employee_id"], target_model=DamageReport,
            object_id=r["pk"], details={"kind": r["kind"], "reported_at": r["reported_at"], "limit_days": limit},
            link=("uniforms:damage_detail", (r["number"],), ""))
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------
# Forms waiting for a decision (S2: [days])
# ---------------------------------------------------------------------------------------------

MSG_WAITING = gettext_noop("%(form)s %(number)s waiting for %(step)s since %(since)s")


def _waiting(form: Any, step: Any, number: str, since: datetime.datetime, *, limit: int, model: type[models.Model],
             pk: int, link: tuple[str, tuple[Any, ...], str], org_unit_id: int | None = None,
             employee_id: int | None = None) -> Hit:
    return Hit(MSG_WAITING, {"form": str(form), "number": number, "step": str(step), "since": str(local_date(since))},
               org_unit_id=org_unit_id, employee_id=employee_id, target_model=model, object_id=pk,
               details={"since": since, "limit_days": limit, "form": model._meta.model_name}, link=link)


@check("approval_waiting", "S2", _("Forms waiting for approval too long"),
       _("Requisitions, scrap forms, stock counts, purchase plans, awards and appeals are decided within the "
         "approval wait limit."))
def check_approval_waiting(today: datetime.date) -> list[Hit]:
    from kefu.evaluations.models import Appeal
    from kefu.procurement.models import Award, PlanDecision, PurchasePlan
    from kefu.uniforms.models import Requisition, ScrapRequest, StockCount

    depts = Departments()
    limit = approval_wait_days(today)
    cutoff = wait_cutoff(today, limit)
    hits: list[Hit] = []
    head = _("the department head")

    for r in rows_of(Requisition.objects.filter(status=Requisition.Status.SUBMITTED, submitted_at__lt=cutoff)
                     .order_by("submitted_at", "pk")
                     .values("pk", "number", "submitted_at", "employee_id", "employee__org_unit_id")):
        hits.append(_waiting(_("Uniform requisition"), head, r["number"], r["submitted_at"], limit=limit,
                             model=Requisition, pk=r["pk"], link=("uniforms:requisition_detail", (r["number"],), ""),
                             org_unit_id=depts.of(r["employee__org_unit_id"]), employee_id=r["employee_id"]))

    S = ScrapRequest.Status
    since = {str(S.SUBMITTED): "submitted_at", str(S.HEAD_APPROVED): "head_signed_at"}
    scraps = rows_of(ScrapRequest.objects.filter(Q(status=S.SUBMITTED, submitted_at__lt=cutoff)
                                          | Q(status=S.HEAD_APPROVED, head_signed_at__lt=cutoff))
              .order_by("submitted_at", "pk")
              .values("pk", "number", "status", "submitted_at", "head_signed_at", "employee_id",
                      "employee__org_unit_id"))
    for r in scraps:
        step = head if r["status"] == S.SUBMITTED else _("admin review")
        hits.append(_waiting(_("Uniform scrap form"), step, r["number"], r[since[r["status"]]], limit=limit,
                             model=ScrapRequest, pk=r["pk"], link=("uniforms:scrap_detail", (r["number"],), ""),
                             org_unit_id=depts.of(r["employee__org_unit_id"]), employee_id=r["employee_id"]))

    for r in rows_of(StockCount.objects.filter(status=StockCount.Status.SUBMITTED, submitted_at__lt=cutoff)
              .order_by("submitted_at", "pk").values("pk", "number", "submitted_at", "created_by__employee__org_unit_id")):
        hits.append(_waiting(_("Stock count"), _("approval"), r["number"], r["submitted_at"], limit=limit,
                             model=StockCount, pk=r["pk"], link=("uniforms:count_detail", (r["pk"],), ""),
                             org_unit_id=depts.of(r["created_by__employee__org_unit_id"])))

    P = PurchasePlan.Status
    first_approval = (PlanDecision.objects.filter(plan=OuterRef("pk"), round=OuterRef("round"), step=1)
                      .order_by("-decided_at").values("decided_at")[:1])
    plans = rows_of(PurchasePlan.objects.filter(status__in=[P.SUBMITTED, P.AWAITING_SECOND])
             .annotate(first_at=Subquery(first_approval))
             .filter(Q(status=P.SUBMITTED, submitted_at__lt=cutoff) | Q(status=P.AWAITING_SECOND, first_at__lt=cutoff))
             .order_by("submitted_at", "pk")
             .values("pk", "number", "status", "submitted_at", "first_at", "created_by__employee__org_unit_id"))
    for r in plans:
        second = r["status"] == P.AWAITING_SECOND
        hits.append(_waiting(_("Purchase plan"), _("a second leadership approval") if second
                             else _("leadership approval"), r["number"], r["first_at"] if second else r["submitted_at"],
                             limit=limit, model=PurchasePlan, pk=r["pk"],
                             link=("procurement:plan_detail", (r["number"],), ""),
                             org_unit_id=depts.of(r["created_by__employee__org_unit_id"])))

    for r in rows_of(Award.objects.filter(status=Award.Status.PENDING, awarded_at__lt=cutoff).order_by("awarded_at", "pk")
              .values("pk", "awarded_at", "rfq__number", "awarded_by__employee__org_unit_id")):
        hits.append(_waiting(_("Award of RFQ"), _("leadership approval"), r["rfq__number"], r["awarded_at"],
                             limit=limit, model=Award, pk=r["pk"], link=("procurement:rfq_detail", (r["rfq__number"],), ""),
                             org_unit_id=depts.of(r["awarded_by__employee__org_unit_id"])))

    for r in rows_of(Appeal.objects.filter(status=Appeal.Status.OPEN, filed_at__lt=cutoff).order_by("filed_at", "pk")
              .values("pk", "filed_at", "evaluation__year", "evaluation__month", "evaluation__agent_id",
                      "evaluation__agent__name", "evaluation__agent__org_unit_id")):
        number = f"{r['evaluation__agent__name']} {r['evaluation__year']}-{r['evaluation__month']:02d}"
        hits.append(_waiting(_("Appeal"), _("the department head's decision"), number, r["filed_at"], limit=limit,
                             model=Appeal, pk=r["pk"], link=("evaluations:appeal_decide", (r["pk"],), ""),
                             org_unit_id=depts.of(r["evaluation__agent__org_unit_id"]),
                             employee_id=r["evaluation__agent_id"]))
    return hits


# ---------------------------------------------------------------------------------------------
# Procurement (U1.2)
# ---------------------------------------------------------------------------------------------

MSG_ORDER_SUPPLIER = gettext_noop("Purchase order %(number)s of %(date)s to %(supplier)s: %(problem)s")
PROBLEM_STATUS = gettext_noop("the supplier was %(status)s, not qualified")
PROBLEM_LICENCE = gettext_noop("no business licence on file")
PROBLEM_EXPIRED = gettext_noop("certificate “%(name)s” expired on %(expired)s")


def _status_at(entries: list[tuple[datetime.datetime, Any]], current: str, at: datetime.datetime) -> str:
    """A supplier's status at ``at`` from its status changes (time, [old, new]) in order."""
    before = [change for when, change in entries if when <= at]
    if before:
        return str(before[-1][1])
    after = [change for when, change in entries if when > at]
    if after:
        return str(after[0][0])
    return current


@check("order_unqualified_supplier", "U1.2", _("Orders placed with unqualified suppliers"),
       _("Orders go only to qualified suppliers with a business licence and valid certificates."))
def check_order_unqualified_supplier(today: datetime.date) -> list[Hit]:
    from kefu.core.models import AuditEntry
    from kefu.procurement.models import PurchaseOrder, Supplier, SupplierCertificate

    depts = Departments()
    orders = rows_of(PurchaseOrder.objects.filter(issued_at__isnull=False).order_by("issued_at", "pk")
                  .values("pk", "number", "order_date", "issued_at", "supplier_id", "supplier__name",
                          "supplier__status", "created_by__employee__org_unit_id"))
    supplier_ids = {o["supplier_id"] for o in orders}
    changes: dict[int, list[tuple[datetime.datetime, Any]]] = defaultdict(list)
    for object_id, at, change in (AuditEntry.objects.filter(
            object_type=audit.object_type_of(Supplier), object_id__in=[str(i) for i in supplier_ids],
            changes__has_key="status").order_by("at", "pk").values_list("object_id", "at", "changes")):
        if isinstance(change.get("status"), list) and len(change["status"]) == 2:
            changes[int(object_id)].append((at, change["status"]))
    certificates: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in rows_of(SupplierCertificate.objects.filter(supplier_id__in=supplier_ids).values(
            "supplier_id", "kind", "name", "expires_on", "uploaded_at", "withdrawn_at")):
        certificates[c["supplier_id"]].append(c)
    hits = []
    for o in orders:
        at = o["issued_at"]
        on = o["order_date"] or local_date(at)
        status = _status_at(changes[o["supplier_id"]], o["supplier__status"], at)
        problems: list[tuple[str, dict[str, Any]]] = []
        if status != Supplier.Status.QUALIFIED:
            label = Supplier.Status(status).label if status in Supplier.Status.values else status
            problems.append((PROBLEM_STATUS, {"status": str(label)}))
        on_file = [c for c in certificates[o["supplier_id"]]
                   if c["uploaded_at"] <= at and (c["withdrawn_at"] is None or c["withdrawn_at"] > at)]
        if not any(c["kind"] == SupplierCertificate.Kind.BUSINESS_LICENCE for c in on_file):
            problems.append((PROBLEM_LICENCE, {}))
        for c in on_file:
            if c["expires_on"] is not None and c["expires_on"] < on:
                problems.append((PROBLEM_EXPIRED, {"name": c["name"], "expired": str(c["expires_on"])}))
        if not problems:
            continue
        problem = "; ".join(gettext(m) % p for m, p in problems)
        hits.append(Hit(
            MSG_ORDER_SUPPLIER, {"number": o["number"], "date": str(on), "supplier": o["supplier__name"],
                                 "problem": problem},
            org_unit_id=depts.of(o["created_by__employee__org_unit_id"]), target_model=PurchaseOrder, object_id=o["pk"],
            details={"supplier_id": o["supplier_id"], "status_then": status,
                     "problems": [{"msg": m, "params": p} for m, p in problems]},
            link=("procurement:order_detail", (o["number"],), "")))
    return hits


# ---------------------------------------------------------------------------------------------
# Running the checks, attaching a hit to an inspection
# ---------------------------------------------------------------------------------------------


def can_read(user) -> bool:
    """The supervision group, HR and leadership read the dashboard (access.py)."""
    from kefu.inspections import access

    return access.reads_inspections(user)


def can_run(user) -> bool:
    """Only the supervision group (S1) runs the checks and attaches hits."""
    from kefu.inspections import access

    return access.is_inspector(user)


def run_checks(today: datetime.date, keys: Iterable[str] | None = None) -> dict[str, list[Hit]]:
    """Every (or the given) check's hits on ``today``, without storing anything."""
    return {key: CHECKS[key].run(today) for key in (keys or CHECKS)}


def compliance_run(*, actor=None, trigger: str = "manual", today: datetime.date | None = None):
    """Run every check and store the hits (bulk) with a count per check; audited (issue 8 item 4).

    ``actor`` None is the scheduled run (cron, the task worker); a person must be an inspector.
    """
    from kefu.inspections.models import ComplianceHit, ComplianceRun

    if actor is not None and not can_run(actor):
        raise PermissionDenied
    today = today or timezone.localdate()
    started = timezone.now()
    results: dict[str, list[Hit]] = {}
    errors: dict[str, str] = {}
    for key, chk in CHECKS.items():
        try:
            results[key] = chk.run(today)
        except calendar.CalendarNotCovered as e:  # a year without holiday data: the other checks still run
            logger.warning("compliance check %s skipped: %s", key, e)
            errors[key] = "; ".join(e.messages)
    with transaction.atomic():
        run = ComplianceRun(trigger=trigger, started_by=actor, started_at=started,
                            counts={key: len(hits) for key, hits in results.items()})
        run.full_clean()
        run.save()
        types: dict[type[models.Model], int] = {}
        rows = []
        for key, hits in results.items():
            chk = CHECKS[key]
            for h in hits:
                ct_id = None
                if h.target_model is not None:
                    if h.target_model not in types:
                        types[h.target_model] = ContentType.objects.get_for_model(h.target_model).pk
                    ct_id = types[h.target_model]
                rows.append(ComplianceHit(run=run, check_key=key, clause=chk.clause, summary=h.summary[:500],
                                          org_unit_id=h.org_unit_id, employee_id=h.employee_id,
                                          content_type_id=ct_id, object_id=h.object_id, details=h.stored_details()))
        ComplianceHit.objects.bulk_create(rows, batch_size=1000)
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        audit.record(actor=actor, action="compliance_run.run", obj=run,
                     changes={"trigger": [None, trigger], "today": [None, today.isoformat()],
                              "counts": [None, run.counts], **({"errors": [None, errors]} if errors else {})})
    return run


@task()
def compliance_run_task() -> dict[str, int]:
    """The nightly run (cron: ``manage.py run_compliance_checks``, or ``--enqueue`` for the task worker)."""
    run = compliance_run(actor=None, trigger="scheduled")
    return dict(run.counts)


def hit_attach(*, actor, hit, inspection, org_unit: OrgUnit | None = None, title: str = "", detail: str = ""):
    """An inspector links a hit to an in-progress inspection; a Finding records it (S3: problems found
    are fed back to the departments concerned). A second click on the same hit and inspection does
    nothing more; a hit already attached elsewhere is refused."""
    from kefu.inspections.models import ComplianceHit, Finding, Inspection

    if not can_run(actor):
        raise PermissionDenied
    with transaction.atomic():
        current = ComplianceHit.objects.select_for_update().get(pk=hit.pk)
        if current.inspection_id is not None:
            if current.inspection_id == inspection.pk:
                existing = Finding.objects.filter(hit=current).order_by("pk").first()
                if existing is not None:
                    return existing
            else:
                raise ValidationError(_("This hit is already attached to another inspection."))
        inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if inspection.status != Inspection.Status.IN_PROGRESS:
            raise ValidationError({"inspection": _("Choose an inspection that is in progress.")})
        unit = org_unit or current.org_unit
        if unit is None:
            raise ValidationError({"org_unit": _("Choose the department concerned.")})
        label = str(CHECKS[current.check_key].label) if current.check_key in CHECKS else current.check_key
        summary = summary_of(current.details, current.summary)
        before = {"inspection_id": None, "attached_by_id": None}
        current.inspection, current.attached_by, current.attached_at = inspection, actor, timezone.now()
        current.save(update_fields=["inspection", "attached_by", "attached_at"])
        audit.record(actor=actor, action="compliance_hit.attach", obj=current,
                     changes=audit.diff(before, {"inspection_id": inspection.pk, "attached_by_id": actor.pk}))
        finding = _finding_create(
            actor=actor, inspection=inspection, title=(title or f"{label}: {summary}")[:300],
            detail=detail or _("Automatic compliance check “%(check)s” (policy %(clause)s): %(summary)s") % {
                "check": label, "clause": current.clause, "summary": summary},
            org_unit=unit, employee=current.employee, hit=current)
    return finding


def compliance_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Demo step: one scheduled run over the demo data, so the dashboard has something to show
    (idempotent: nothing when a run exists)."""
    from kefu.inspections.models import ComplianceRun

    if ComplianceRun.objects.exists():
        return {gettext("compliance runs"): 0, gettext("compliance hits"): 0}
    run = compliance_run(actor=None, trigger="scheduled")
    n = sum(v for v in run.counts.values() if v is not None)
    if log:
        log(f"compliance checks: {n} hits")
    return {gettext("compliance runs"): 1, gettext("compliance hits"): n}


def compliance_to_do(user) -> list[Any]:
    """Workbench: inspectors see the latest run's hits not yet attached to an inspection (two queries)."""
    from kefu.core.registry import Todo
    from kefu.inspections.models import ComplianceHit, ComplianceRun

    if not can_run(user):
        return []
    latest = ComplianceRun.objects.filter(finished_at__isnull=False).order_by("-started_at", "-id").first()
    if latest is None:
        return []
    n = ComplianceHit.objects.filter(run=latest, inspection__isnull=True).count()
    if not n:
        return []
    return [Todo(title=_("Compliance checks: hits to review"), url=reverse("inspections:compliance_dashboard"),
                 count=n, kind=_("Compliance check"))]


def _finding_create(**kwargs: Any):
    from kefu.inspections import services

    return services.finding_create(**kwargs)

