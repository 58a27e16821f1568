"""Policy parameters: the ``[X]`` placeholders of POLICY.md, effective-dated.

    from kefu.core import policy
    hours = policy.get("sla.first_reply_hours", on=received.date())

Every parameter is declared here with its clause and default. A value applies
from its ``effective_from`` date on; the newest value on or before the date
asked about wins, and the default applies before the first one. Values are
set only through ``kefu.core.services.policy_set``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.core.models import PolicyValue


def _decimal(raw: Any, *, minimum: Decimal | None = None, maximum: Decimal | None = None) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as e:
        raise ValidationError(_("Enter a number."), code="invalid") from e
    if not value.is_finite():
        raise ValidationError(_("Enter a number."), code="invalid")
    if minimum is not None and value < minimum:
        raise ValidationError(_("Must be at least %(min)s.") % {"min": minimum}, code="min")
    if maximum is not None and value > maximum:
        raise ValidationError(_("Must be at most %(max)s.") % {"max": maximum}, code="max")
    return value


@dataclass(frozen=True)
class Parameter:
    key: str
    clause: str
    label: Any  # lazy string
    kind: str  # "int" | "decimal" | "choice" | "parts" (named numbers)
    default: Any
    unit: Any = ""
    minimum: Decimal | None = Decimal(0)
    maximum: Decimal | None = None
    parts: tuple[tuple[str, Any], ...] = ()  # for kind="parts": (name, label)
    parts_total: Decimal | None = None  # the parts must add up to this, if set
    choices: tuple[tuple[str, Any], ...] = ()
    check: Callable[[Any], None] | None = field(default=None, compare=False)

    def parse(self, raw: Any) -> Any:
        """A stored or entered value as its Python type; ValidationError with a clear message."""
        if self.kind == "int":
            value = _decimal(raw, minimum=self.minimum, maximum=self.maximum)
            if value != value.to_integral_value():
                raise ValidationError(_("Enter a whole number."), code="invalid")
            return int(value)
        if self.kind == "decimal":
            return _decimal(raw, minimum=self.minimum, maximum=self.maximum)
        if self.kind == "choice":
            if raw not in dict(self.choices):
                raise ValidationError(_("Choose one of the listed values."), code="invalid_choice")
            return raw
        if self.kind == "parts":
            if not isinstance(raw, dict):
                raise ValidationError(_("Enter a value for each part."), code="invalid")
            missing = [str(label) for name, label in self.parts if name not in raw]
            if missing:
                raise ValidationError(_("Missing: %(parts)s.") % {"parts": ", ".join(missing)}, code="missing")
            parts: dict[str, Decimal] = {}
            errors: dict[str, list[str]] = {}
            for name, label in self.parts:
                try:
                    parts[name] = _decimal(raw[name], minimum=self.minimum, maximum=self.maximum)
                except ValidationError as e:
                    # Keyed by part and naming it: a form shows it by the right input, an API caller knows which.
                    errors[name] = [f"{label}: {m}" for m in e.messages]
            if errors:
                raise ValidationError(errors)
            if self.parts_total is not None and sum(parts.values()) != self.parts_total:
                raise ValidationError(
                    _("The parts must add up to %(total)s; they add up to %(sum)s.")
                    % {"total": self.parts_total, "sum": sum(parts.values())},
                    code="total",
                )
            return parts
        raise ValueError(f"unknown parameter kind {self.kind}")

    def to_json(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {k: str(v) for k, v in value.items()}
        return value


D = Decimal
GRADES = (("excellent", _("Excellent")), ("good", _("Good")), ("pass", _("Pass")), ("fail", _("Fail")))

PARAMETERS: dict[str, Parameter] = {
    p.key: p
    for p in [
        # POLICY.md's own [X] parameters
        Parameter("sla.first_reply_hours", "E1.3", _("First reply for non-urgent issues"), "decimal",
                  D("2"), _("working hours"), minimum=D("0.25")),
        Parameter("sla.resolution_days", "E1.3", _("Resolution for non-urgent issues"), "int", 3,
                  _("working days"), minimum=D(1)),
        Parameter("sla.urgent_first_reply_minutes", "E1.3", _("\"Immediately\" for urgent issues"), "int", 15,
                  _("minutes"), minimum=D(1)),
        Parameter("evaluation.monthly_weights", "E2.2", _("Points of each monthly dimension"), "parts",
                  {"attitude": D(30), "ability": D(30), "efficiency": D(20), "teamwork": D(20)}, _("points"),
                  parts=(("attitude", _("Service attitude")), ("ability", _("Business ability")),
                         ("efficiency", _("Work efficiency")), ("teamwork", _("Teamwork"))),
                  parts_total=D(100)),
        Parameter("annual.weights", "E2.3", _("Share of monthly, satisfaction, achievements in the annual score"),
                  "parts", {"monthly": D(60), "satisfaction": D(20), "achievements": D(20)}, "%",
                  parts=(("monthly", _("Monthly results")), ("satisfaction", _("Customer satisfaction")),
                         ("achievements", _("Work achievements"))), parts_total=D(100)),
        Parameter("annual.excellent_max_pct", "E2.3", _("Excellent at most"), "decimal", D(20), "%",
                  maximum=D(100)),
        Parameter("annual.fail_min_pct", "E2.3", _("Fail at least"), "decimal", D(5), "%", maximum=D(100)),
        Parameter("uniforms.sets_per_new_hire", "U2.1", _("Uniform sets for a new hire"), "int", 2, _("sets")),
        Parameter("uniforms.renewal_years", "U4.1", _("Renewal cycle"), "decimal", D(2), _("years"),
                  minimum=D("0.5")),
        Parameter("inspections.rectification_days", "S3", _("Rectification deadline"), "int", 15, _("days"),
                  minimum=D(1)),
        # Parameters Kefu adds where the policy leaves a rule open
        Parameter("sla.urgent_resolution_days", "E1.3", _("Urgent resolution"), "int", 1, _("working days"),
                  minimum=D(1)),
        Parameter("service.survey_valid_days", "E1.1", _("Satisfaction survey valid for"), "int", 7, _("days"),
                  minimum=D(1)),
        Parameter("evaluation.efficiency_sla_share_pct", "E2.2",
                  _("Efficiency: share of SLA rates in the monthly suggestion"), "decimal", D(50), "%",
                  maximum=D(100)),
        Parameter("evaluation.reason_threshold_points", "E2.2",
                  _("Reason required when a monthly dimension moves from its suggestion by more than"),
                  "decimal", D(3), _("points")),
        Parameter("evaluation.point_step", "E2.2", _("Monthly point step"), "decimal", D("0.5"), _("points"),
                  minimum=D("0.01")),
        Parameter("evaluation.appeal_working_days", "G3.1", _("Appeal window"), "int", 5, _("working days"),
                  minimum=D(1)),
        Parameter("annual.min_final_months", "E2.3", _("Final monthly evaluations needed to be rated in a year"),
                  "int", 6, _("months"), minimum=D(1), maximum=D(12)),
        Parameter("annual.thresholds", "E2.3", _("Grade thresholds excellent / good / pass"), "parts",
                  {"excellent": D(90), "good": D(80), "pass": D(60)}, _("points"),
                  parts=GRADES[:3], maximum=D(100)),
        Parameter("annual.quota_rounding", "E2.3", _("Quota rounding"), "choice", "strict",
                  choices=(("strict", _("Strict (floor for the cap, ceil for the floor)")),
                           ("lenient", _("Lenient (ceil for the cap, floor for the floor)")))),
        Parameter("annual.min_population", "E2.3", _("Smallest population the quotas are forced on"), "int", 20,
                  _("people")),
        Parameter("annual.pay_change_pct", "E3.1", _("Pay change per grade"), "parts",
                  {"excellent": D(5), "good": D(2), "pass": D(0), "fail": D(-3)}, "%", parts=GRADES,
                  minimum=D(-100), maximum=D(100)),
        # policy E3.1: an approved pay change goes on the payroll of this month of the year after the cycle's.
        Parameter("annual.pay_effective_month", "E3.1", _("Pay change effective from month (of the following year)"),
                  "int", 1, _("month"), minimum=D(1), maximum=D(12)),
        Parameter("annual.award_quota", "E3.2", _("Awards per year"), "parts",
                  {"outstanding": D(3), "service_star": D(5)}, _("people"),
                  parts=(("outstanding", _("Annual Outstanding CS Award")), ("service_star", _("Service Star Award")))),
        Parameter("coaching.monthly_trigger", "E3.3", _("Monthly total that triggers coaching"), "decimal", D(60),
                  _("points"), maximum=D(100)),
        Parameter("uniforms.compensation_min_pct", "U3.2", _("Compensation minimum share of unit cost"), "decimal",
                  D(10), "%", maximum=D(100)),
        Parameter("uniforms.compensation_max_pct", "U3.2", _("Compensation maximum share of unit cost"), "decimal",
                  D(100), "%", maximum=D(100)),
        Parameter("procurement.second_approval_amount", "U1.2", _("Second approval for purchase plans above"),
                  "decimal", D("50000.00"), "¥"),
        Parameter("procurement.min_quotes", "U1.2", _("Quotes needed before an award"), "int", 3, _("quotes"),
                  minimum=D(1)),
        Parameter("inspections.approval_wait_days", "S2", _("Approval waiting longer than this is flagged"), "int",
                  5, _("working days"), minimum=D(1)),
        Parameter("inspections.monthly_final_working_days", "E2.2",
                  _("Monthly evaluations final within this many working days after the month"), "int", 10,
                  _("working days"), minimum=D(1)),
        Parameter("inspections.escalation_days", "S3",
                  _("Overdue rectification escalated to leadership after"), "int", 5, _("days"), minimum=D(1)),
    ]
}


def _check_thresholds(value: dict[str, Decimal]) -> None:
    if not value["excellent"] > value["good"] > value["pass"]:
        raise ValidationError(_("Thresholds must fall: excellent above good above pass."), code="order")


CROSS_CHECKS: dict[str, Callable[[Any], None]] = {"annual.thresholds": _check_thresholds}


class UnknownParameter(KeyError):
    pass


def definition(key: str) -> Parameter:
    try:
        return PARAMETERS[key]
    except KeyError as e:
        raise UnknownParameter(key) from e


def validate(key: str, raw: Any) -> Any:
    param = definition(key)
    value = param.parse(raw)
    if key in CROSS_CHECKS:
        CROSS_CHECKS[key](value)
    return value


def get(key: str, *, on: datetime.date) -> Any:
    """The value of ``key`` in force on ``on`` (a date, in company local time)."""
    param = definition(key)
    if isinstance(on, datetime.datetime):
        raise TypeError("policy.get takes a date; convert the instant to a local date first")
    row = (
        PolicyValue.objects.filter(key=key, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("value", flat=True)
        .first()
    )
    return param.default if row is None else param.parse(row)


def current_values(*, on: datetime.date) -> dict[str, Any]:
    """Every parameter's value in force on ``on``, in one query (for pages that show many)."""
    return {key: state.value for key, state in overview(on=on).items()}


@dataclass
class ParameterState:
    """One parameter as of a date: the value in force, the row it comes from, and later rows."""

    param: Parameter
    value: Any
    current: PolicyValue | None  # None: the default applies
    scheduled: list[PolicyValue]  # rows effective after the date, soonest first

    @property
    def next_value(self) -> Any:
        return self.param.parse(self.scheduled[0].value) if self.scheduled else None


def overview(*, on: datetime.date) -> dict[str, ParameterState]:
    """Every declared parameter as of ``on``, from one query over all the values ever set."""
    if isinstance(on, datetime.datetime):
        raise TypeError("policy.overview takes a date; convert the instant to a local date first")
    current: dict[str, PolicyValue] = {}
    scheduled: dict[str, list[PolicyValue]] = {}
    for row in PolicyValue.objects.filter(key__in=list(PARAMETERS)).order_by("key", "effective_from"):
        if row.effective_from <= on:
            current[row.key] = row  # ascending order: the last one on or before the date wins
        else:
            scheduled.setdefault(row.key, []).append(row)
    states = {}
    for key, param in PARAMETERS.items():
        in_force = current.get(key)
        states[key] = ParameterState(
            param=param,
            value=param.default if in_force is None else param.parse(in_force.value),
            current=in_force,
            scheduled=scheduled.get(key, []),
        )
    return states


def history(key: str) -> list[PolicyValue]:
    definition(key)
    return list(PolicyValue.objects.filter(key=key).select_related("created_by").order_by("-effective_from"))
