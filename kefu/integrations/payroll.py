"""The monthly payroll file (issue 11, item 4): what payroll must apply in one month, per employee.

    month = payroll.parse_month("2026-07")
    pm = payroll.payroll_month(user=hr, month=month)          # HR only, within HR's scope; 6 queries
    payroll.export_xlsx(pm) / payroll.export_csv(pm, encoding="utf-8" | "gbk")

Two kinds of line (the column layout is in docs/payroll.md and below):

- ``pay_adjustment`` (policy E3.1): an approved annual cycle's pay change (PayProposal.amount, a change of the
  *monthly base pay*) is listed **once**, in the month it takes effect: month ``annual.pay_effective_month``
  (value in force on 31 December of the cycle's year; default 1) of the year after the cycle's — or, when HR
  approved the cycle's pay later than that, the month of the approval (company local time); the note then says
  from which month it was due, and payroll settles the arrears. From that month on payroll keeps paying the new
  base pay; the next cycle's line is a change of that new base. Zero changes (grade pass) are not listed.
- ``uniform_compensation`` (policy U3.2): a compensation the employee confirmed in the month (by the confirmation
  time in company local time), confirmed or already put on a uniforms deduction list, not waived; the amount is
  negative (a deduction).

Columns: employee_no, name, department, month (YYYY-MM), item_type, reference (the cycle's year, or the damage
report number — ``compensation-<id>`` for an item not returned on leaving), amount (2 places, deductions
negative), currency (CNY), base_pay and new_base_pay (pay adjustments only), note. Text cells are neutralised
against formula injection; numbers are numbers (XLSX) or plain text such as -150.41 (CSV). CSV is UTF-8 with a
BOM, or GBK (written as GB18030, byte-identical to GBK for every character GBK has — as the annual pay export).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual.access import HR
from kefu.annual.models import AnnualCycle, Grade, PayProposal
from kefu.core import policy, tabular
from kefu.core.models import PolicyValue
from kefu.people.access import has_role, scope_q
from kefu.people.models import Employee, OrgUnit
from kefu.uniforms.models import Compensation

COLUMNS = ("employee_no", "name", "department", "month", "item_type", "reference", "amount", "currency",
           "base_pay", "new_base_pay", "note")
PAY_ADJUSTMENT = "pay_adjustment"
UNIFORM_COMPENSATION = "uniform_compensation"
CURRENCY = "CNY"
EFFECTIVE_MONTH = "annual.pay_effective_month"
FORMATS = {"xlsx": "xlsx", "csv": "utf-8", "csv-gbk": "gbk"}
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
ZERO = Decimal("0.00")


def parse_month(text: str) -> datetime.date:
    """``YYYY-MM`` → the first day of that month; ValueError with a message for anything else."""
    match = _MONTH_RE.match((text or "").strip())
    if match:
        year, month = int(match[1]), int(match[2])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return datetime.date(year, month, 1)
    raise ValueError(_("“%(value)s” is not a month; write it as YYYY-MM.") % {"value": text})


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as [start, end) instants in company local time (a confirmation at 23:30 on its last day is in)."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(month, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(next_month(month), datetime.time(), tzinfo=tz)
    return start, end


def local_month(instant: datetime.datetime) -> datetime.date:
    return timezone.localtime(instant, timezone.get_default_timezone()).date().replace(day=1)


@dataclass(frozen=True)
class PayrollLine:
    employee_no: str
    name: str
    department: str
    month: str
    item_type: str
    reference: str
    amount: Decimal
    base_pay: Decimal | None
    new_base_pay: Decimal | None
    note: str

    def values(self) -> list[Any]:
        return [self.employee_no, self.name, self.department, self.month, self.item_type, self.reference,
                self.amount, CURRENCY, self.base_pay, self.new_base_pay, self.note]


@dataclass
class PayrollMonth:
    month: datetime.date
    lines: list[PayrollLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    def _sum(self, item_type: str | None) -> Decimal:
        return sum((line.amount for line in self.lines if item_type in (None, line.item_type)), ZERO)

    @property
    def pay_total(self) -> Decimal:
        return self._sum(PAY_ADJUSTMENT)

    @property
    def deduction_total(self) -> Decimal:
        return self._sum(UNIFORM_COMPENSATION)

    @property
    def net_total(self) -> Decimal:
        return self._sum(None)

    @property
    def employees(self) -> int:
        return len({line.employee_no for line in self.lines})


def effective_months(years: set[int]) -> dict[int, int]:
    """policy E3.1: ``annual.pay_effective_month`` in force on 31 December of each cycle year — one query for
    all of them (policy.get would be one per year)."""
    param = policy.definition(EFFECTIVE_MONTH)
    rows = list(PolicyValue.objects.filter(key=EFFECTIVE_MONTH).order_by("effective_from")
                .values_list("effective_from", "value"))
    out = {}
    for year in years:
        value = param.default
        for effective_from, raw in rows:
            if effective_from <= datetime.date(year, 12, 31):
                value = param.parse(raw)
        out[year] = int(value)
    return out


def pay_month(cycle: AnnualCycle, effective_month: int) -> tuple[datetime.date, datetime.date]:
    """(the month the cycle's pay change is listed in, the month it was due from): the later of the effective
    month of the next year and the month HR approved it."""
    due = datetime.date(cycle.year + 1, effective_month, 1)
    assert cycle.pay_approved_at is not None
    return max(due, local_month(cycle.pay_approved_at)), due


def _departments(employees: list[Employee]) -> dict[int, str]:
    """Each employee's department (nearest unit of kind department at or above hers; else her unit): one query."""
    def path(e: Employee) -> list[int]:
        return [int(p) for p in e.org_unit.path.strip("/").split("/") if p]

    ids = {pk for e in employees for pk in path(e)}
    names = dict(OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.DEPARTMENT).values_list("pk", "name"))
    out = {}
    for e in employees:
        dept = next((pk for pk in reversed(path(e)) if pk in names), None)
        out[e.pk] = names[dept] if dept is not None else e.org_unit.name
    return out


def payroll_month(*, user, month: datetime.date) -> PayrollMonth:
    """Every line payroll must apply in ``month`` for the employees in the HR user's scope. A bounded number
    of queries whatever the number of people (cycles, parameter, proposals, compensations, departments)."""
    if not has_role(user, *HR):
        raise PermissionDenied
    month = month.replace(day=1)
    start, end = month_bounds(month)
    label = f"{month:%Y-%m}"
    # Only the previous year's cycle can fall due in this month; an older one only if approved in it.
    cycles = list(AnnualCycle.objects.filter(pay_approved_at__isnull=False, year__lt=month.year)
                  .filter(Q(year=month.year - 1) | Q(pay_approved_at__gte=start, pay_approved_at__lt=end)))
    effective = effective_months({c.year for c in cycles})
    due_from = {}
    for cycle in cycles:
        listed, due = pay_month(cycle, effective[cycle.year])
        if listed == month:
            due_from[cycle.pk] = due
    proposals = list(
        PayProposal.objects.filter(scope_q(user, HR, field="result__employee__org_unit"),
                                   result__cycle_id__in=list(due_from), amount__isnull=False)
        .exclude(amount=0).select_related("result__cycle", "result__employee__org_unit"))
    compensations = list(
        Compensation.objects.filter(scope_q(user, HR, field="employee__org_unit"),
                                    status__in=[Compensation.Status.CONFIRMED, Compensation.Status.EXPORTED],
                                    confirmed_by_employee_at__gte=start, confirmed_by_employee_at__lt=end)
        .select_related("employee__org_unit", "damage_report"))
    employees = {p.result.employee.pk: p.result.employee for p in proposals}
    employees.update({c.employee.pk: c.employee for c in compensations})
    departments = _departments(list(employees.values())) if employees else {}
    grades = dict(Grade.choices)
    lines = []
    for p in proposals:
        e, cycle = p.result.employee, p.result.cycle
        due = due_from[cycle.pk]
        note = _("Annual grade %(grade)s (%(year)s), %(pct)s %%: monthly base pay changes from this month.") % {
            "grade": grades.get(p.grade, p.grade), "year": cycle.year, "pct": f"{p.pct:+.2f}"}
        if due != month:
            approved = timezone.localtime(cycle.pay_approved_at, timezone.get_default_timezone())
            note += " " + _("Due from %(due)s; approved on %(approved)s: settle the months before as arrears.") % {
                "due": f"{due:%Y-%m}", "approved": f"{approved:%Y-%m-%d}"}
        assert p.amount is not None
        lines.append(PayrollLine(e.employee_no, e.name, departments[e.pk], label, PAY_ADJUSTMENT, str(cycle.year),
                                 p.amount, p.base_pay, None if p.base_pay is None else p.base_pay + p.amount, note))
    for c in compensations:
        e = c.employee
        reference = c.damage_report.number if c.damage_report is not None else f"compensation-{c.pk}"
        lines.append(PayrollLine(e.employee_no, e.name, departments[e.pk], label, UNIFORM_COMPENSATION, reference,
                                 -c.amount, None, None, str(c.computed_from.get("why", ""))))
    lines.sort(key=lambda line: (line.employee_no, line.item_type != PAY_ADJUSTMENT, line.reference))
    return PayrollMonth(month=month, lines=lines)


# ---- files ------------------------------------------------------------------------------------------------


def filename(pm: PayrollMonth, fmt: str) -> str:
    return {"xlsx": f"payroll-{pm.label}.xlsx", "csv": f"payroll-{pm.label}-utf8.csv",
            "csv-gbk": f"payroll-{pm.label}-gbk.csv"}[fmt]


def export_xlsx(pm: PayrollMonth) -> bytes:
    """One sheet, English keys as the header row; amounts are numbers; text neutralised (tabular.write_xlsx)."""
    return tabular.write_xlsx(COLUMNS, [line.values() for line in pm.lines], sheet_title=f"payroll-{pm.label}")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(tabular.neutralise(str(value)))


def export_csv(pm: PayrollMonth, *, encoding: str = "utf-8") -> bytes:
    """UTF-8 with a BOM (Excel and WPS open it), or ``encoding="gbk"`` for older payroll tools."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for line in pm.lines:
        writer.writerow([_csv_cell(v) for v in line.values()])
    text = buffer.getvalue()
    if encoding == "gbk":
        return text.encode("gb18030")
    return ("\ufeff" + text).encode("utf-8")


def export(pm: PayrollMonth, fmt: str) -> tuple[bytes, str]:
    """(file bytes, content type) for ``fmt`` in FORMATS."""
    if fmt == "xlsx":
        return export_xlsx(pm), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    charset = "gbk" if FORMATS[fmt] == "gbk" else "utf-8"
    return export_csv(pm, encoding=FORMATS[fmt]), f"text/csv; charset={charset}"
