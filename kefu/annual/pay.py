"""Pay proposals from the annual grade (policy E3.1: excellent → a pay reward, fail → pay reduced).

    pay.proposals_prepare(actor=hr, cycle=cycle)                 # one proposal per rated person (published cycle)
    pay.base_pay_set(actor=hr, proposal=p, base_pay=Decimal("8000.00"))
    pay.base_pay_import(actor=hr, cycle=cycle, source=upload)   # CSV/XLSX employee_no, base_pay; all or nothing
    pay.pay_approve(actor=hr, cycle=cycle)                      # locks them; waits for the appeal window (G3.1)
    pay.export_xlsx(cycle) / pay.export_csv(cycle, encoding="gbk")

amount = base pay × the grade's percentage ÷ 100, Decimal, 2 places, ROUND_HALF_UP. The percentages are those
the cycle snapshotted (``cycle.parameters["pay_change_pct"]``, in force on 31 December of the year).

Payroll export columns (documented for payroll; the same in both formats, English keys as headers):
employee_no, name, department, year, grade (excellent/good/pass/fail), pay_change_pct, base_pay,
pay_change_amount. Text cells are neutralised against formula injection; numbers are written as numbers
(XLSX) or plain decimal text such as -196.30 (CSV). CSV is UTF-8 with a BOM, or GBK (written as GB18030, which
is byte-identical to GBK for every character GBK has) for old payroll tools.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.annual.access import HR
from kefu.annual.models import AnnualAppeal, AnnualCycle, AnnualResult, PayProposal
from kefu.core import audit, calendar, policy, tabular
from kefu.people.access import has_role

CENT = Decimal("0.01")
MAX_BASE = Decimal("99999999.99")  # Decimal(10, 2)
EXPORT_COLUMNS = ("employee_no", "name", "department", "year", "grade", "pay_change_pct", "base_pay",
                  "pay_change_amount")
IMPORT_COLUMNS = {"employee_no": ["工號", "員工編號", "员工编号", "employee no"],
                  "base_pay": ["底薪", "基本工資", "基本工资", "base pay"]}


def amount_for(base_pay: Decimal | None, pct: Decimal) -> Decimal | None:
    """policy E3.1: base × pct ÷ 100, rounded half up to the cent (8,000.00 × 5 % = 400.00)."""
    if base_pay is None:
        return None
    return (base_pay * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def pct_table(cycle: AnnualCycle) -> dict[str, Decimal]:
    """The cycle's snapshot of ``annual.pay_change_pct``; cycles opened before it was kept read 31 December's."""
    raw = cycle.parameters.get("pay_change_pct")
    if raw is None:
        raw = policy.get("annual.pay_change_pct", on=datetime.date(cycle.year, 12, 31))
    return {k: Decimal(str(v)) for k, v in raw.items()}


def _require_hr(actor) -> None:
    if not has_role(actor, *HR):
        raise PermissionDenied


def _locked_cycle(cycle: AnnualCycle) -> AnnualCycle:
    cycle = AnnualCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.status != AnnualCycle.Status.PUBLISHED:
        raise ValidationError(_("Pay proposals are made once the %(year)s results are published.") % {
            "year": cycle.year})
    return cycle


def _require_unlocked(cycle: AnnualCycle) -> None:
    if cycle.pay_approved_at is not None:
        raise ValidationError(_("The %(year)s pay proposals are approved and locked.") % {"year": cycle.year})


def _sync(cycle: AnnualCycle, *, actor) -> int:
    """Create the missing proposals and bring grade, pct and amount in line with the final grades."""
    table = pct_table(cycle)
    results = list(cycle.results.filter(rated=True).select_related("pay"))
    create, update = [], []
    for r in results:
        pct = table[r.final_grade]
        p = getattr(r, "pay", None)
        if p is None:
            create.append(PayProposal(result=r, grade=r.final_grade, pct=pct, updated_by=actor))
        elif (p.grade, p.pct) != (r.final_grade, pct):
            p.grade, p.pct, p.amount, p.updated_by = r.final_grade, pct, amount_for(p.base_pay, pct), actor
            update.append(p)
    PayProposal.objects.bulk_create(create)
    PayProposal.objects.bulk_update(update, ["grade", "pct", "amount", "updated_by"])
    return len(create) + len(update)


@transaction.atomic
def proposals_prepare(*, actor, cycle: AnnualCycle) -> int:
    """One proposal per rated person of a published cycle, from the final grade (E3.1). Idempotent."""
    _require_hr(actor)
    cycle = _locked_cycle(cycle)
    _require_unlocked(cycle)
    changed = _sync(cycle, actor=actor)
    if changed:
        audit.record(actor=actor, action="annual_pay.prepare", obj=cycle, changes={"proposals": [None, changed]})
    return changed


def recompute(result: AnnualResult, *, actor) -> PayProposal | None:
    """After an appeal changed the final grade: the proposal follows, unless pay is approved (caller checks)."""
    p = PayProposal.objects.select_for_update().filter(result=result).first()
    if p is None:
        return None
    pct = pct_table(result.cycle)[result.final_grade]
    before = audit.snapshot(p, ["grade", "pct", "amount"])
    p.grade, p.pct, p.amount, p.updated_by = result.final_grade, pct, amount_for(p.base_pay, pct), actor
    p.full_clean()
    p.save()
    audit.record(actor=actor, action="annual_pay.recompute", obj=p,
                 changes=audit.diff(before, audit.snapshot(p, list(before))))
    return p


def parse_base_pay(raw: Any) -> Decimal:
    """A base pay from a form or a cell: 8000, 8,000.00, ¥8000; ValueError with a message for the user."""
    text = tabular.cell_text(raw).replace(",", "").replace("¥", "").replace("￥", "").strip()
    if not text:
        raise ValueError(_("Base pay is empty."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": tabular.cell_text(raw)}) from None
    if not value.is_finite():
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": tabular.cell_text(raw)})
    if value < 0:
        raise ValueError(_("Base pay cannot be negative."))
    if value > MAX_BASE:
        raise ValueError(_("Base pay must be at most %(max)s.") % {"max": MAX_BASE})
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(_("Base pay has at most two decimal places."))
    return value.quantize(CENT)


@transaction.atomic
def base_pay_set(*, actor, proposal: PayProposal, base_pay: Any, note: str | None = None) -> PayProposal:
    """HR enters one person's base pay; the amount follows (E3.1)."""
    _require_hr(actor)
    p = PayProposal.objects.select_for_update().select_related("result__employee").get(pk=proposal.pk)
    if p.result.employee.user_id == actor.pk:
        raise PermissionDenied
    cycle = _locked_cycle(p.result.cycle)
    _require_unlocked(cycle)
    try:
        value = parse_base_pay(base_pay)
    except ValueError as e:
        raise ValidationError({"base_pay": str(e)}) from None
    before = audit.snapshot(p, ["base_pay", "amount", "note"])
    p.base_pay, p.amount, p.updated_by = value, amount_for(value, p.pct), actor
    if note is not None:
        p.note = note.strip()
    p.full_clean()
    p.save()
    audit.record(actor=actor, action="annual_pay.base_pay", obj=p,
                 changes=audit.diff(before, audit.snapshot(p, list(before))))
    return p


@transaction.atomic
def base_pay_import(*, actor, cycle: AnnualCycle, source: Any, name: str | None = None) -> tabular.ImportReport:
    """Base pay from a CSV/XLSX (employee_no, base_pay): every row is checked; any error and nothing is saved."""
    _require_hr(actor)
    cycle = _locked_cycle(cycle)
    _require_unlocked(cycle)
    _sync(cycle, actor=actor)
    table = tabular.read_table(source, columns=IMPORT_COLUMNS, required={"employee_no", "base_pay"}, name=name)
    proposals = {p.result.employee.employee_no: p for p in
                 PayProposal.objects.filter(result__cycle=cycle).select_related("result__employee")}
    report = tabular.ImportReport()
    seen: dict[str, int] = {}
    values: dict[str, Decimal] = {}
    for row, cells in table:
        report.rows_read += 1
        no = tabular.cell_text(cells.get("employee_no"))
        if not no:
            report.error(row, "employee_no", _("Employee number is empty."))
        elif no in seen:
            report.error(row, "employee_no", _("%(no)s is also in row %(row)s.") % {"no": no, "row": seen[no]})
        elif no not in proposals:
            report.error(row, "employee_no", _("%(no)s is not rated in the %(year)s cycle.") % {
                "no": no, "year": cycle.year})
        if no and no not in seen:
            seen[no] = row
        try:
            value = parse_base_pay(cells.get("base_pay"))
        except ValueError as e:
            report.error(row, "base_pay", str(e))
        else:
            if no in proposals and no not in values:
                values[no] = value
    if report.rows_read == 0:
        report.error(None, "", _("The file has no data rows."))
    if report.errors:
        raise tabular.ImportRejected(report)
    changes: dict[str, list[Any]] = {}
    update = []
    for no, value in values.items():
        p = proposals[no]
        if p.base_pay == value:
            report.unchanged += 1
            continue
        changes[no] = [None if p.base_pay is None else str(p.base_pay), str(value)]
        p.base_pay, p.amount, p.updated_by = value, amount_for(value, p.pct), actor
        p.updated_at = timezone.now()  # bulk_update skips auto_now
        update.append(p)
    PayProposal.objects.bulk_update(update, ["base_pay", "amount", "updated_by", "updated_at"])
    report.updated = len(update)
    audit.record(actor=actor, action="annual_pay.import", obj=cycle, changes=changes,
                 reason=_("Base pay imported from %(name)s") % {"name": table.name or "?"})
    return report


def appeal_window_closes(cycle: AnnualCycle) -> datetime.datetime | None:
    from kefu.annual.appeals import appeal_deadline

    return appeal_deadline(cycle) if cycle.published_at else None


def approval_problems(cycle: AnnualCycle, *, now: datetime.datetime | None = None) -> list[str]:
    """What keeps HR from approving: open appeals, the window still open, base pay missing (G3.1, E3.1)."""
    now = now or timezone.now()
    problems = []
    try:
        closes = appeal_window_closes(cycle)
    except calendar.CalendarNotCovered as e:
        return [*e.messages]
    if closes is not None and now <= closes:
        problems.append(_("The appeal window is open until %(when)s; pay is approved after it closes.") % {
            "when": timezone.localtime(closes).strftime("%Y-%m-%d %H:%M")})
    open_appeals = AnnualAppeal.objects.filter(result__cycle=cycle, status=AnnualAppeal.Status.OPEN).count()
    if open_appeals:
        problems.append(_("%(n)s appeal(s) still to decide.") % {"n": open_appeals})
    rated = cycle.results.filter(rated=True)
    missing = list(rated.exclude(pay__base_pay__isnull=False).values_list("employee__name", flat=True)
                   .order_by("employee__employee_no")[:6])
    if missing:
        problems.append(_("Base pay missing for: %(names)s.") % {"names": ", ".join(missing[:5])
                                                                  + ("…" if len(missing) > 5 else "")})
    return problems


@transaction.atomic
def pay_approve(*, actor, cycle: AnnualCycle, now: datetime.datetime | None = None) -> AnnualCycle:
    """HR approves the cycle's pay proposals once; from then on they are locked (E3.1)."""
    _require_hr(actor)
    cycle = _locked_cycle(cycle)
    _require_unlocked(cycle)  # a second click finds it approved and changes nothing
    _sync(cycle, actor=actor)
    problems = approval_problems(cycle, now=now)
    if problems:
        raise ValidationError(problems)
    cycle.pay_approved_by, cycle.pay_approved_at = actor, now or timezone.now()
    cycle.save(update_fields=["pay_approved_by", "pay_approved_at", "updated_at"])
    total = sum((p.amount or Decimal(0) for p in PayProposal.objects.filter(result__cycle=cycle)), Decimal(0))
    audit.record(actor=actor, action="annual_pay.approve", obj=cycle,
                 changes={"pay_approved": [False, True], "total_change": [None, str(total)]})
    return cycle


# ---- reading and exporting ----------------------------------------------------------------------------


def proposals(cycle: AnnualCycle) -> QuerySet[PayProposal]:
    """The cycle's proposals with person and unit, in employee-number order: one query."""
    return (PayProposal.objects.filter(result__cycle=cycle)
            .select_related("result__employee__org_unit", "updated_by").order_by("result__employee__employee_no"))


def export_rows(cycle: AnnualCycle) -> list[list[Any]]:
    return [[p.result.employee.employee_no, p.result.employee.name, p.result.employee.org_unit.name, cycle.year,
             p.grade, p.pct, p.base_pay, p.amount] for p in proposals(cycle)]


def _require_approved(cycle: AnnualCycle) -> None:
    if cycle.pay_approved_at is None:
        raise ValidationError(_("Payroll exports are made once the %(year)s pay proposals are approved.") % {
            "year": cycle.year})


def export_xlsx(cycle: AnnualCycle) -> bytes:
    _require_approved(cycle)
    return tabular.write_xlsx(EXPORT_COLUMNS, export_rows(cycle), sheet_title=f"pay-{cycle.year}")


def export_csv(cycle: AnnualCycle, *, encoding: str = "utf-8") -> bytes:
    """UTF-8 with BOM (Excel opens it), or ``encoding="gbk"``; text cells neutralised, numbers as 0.00 text."""
    _require_approved(cycle)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for no, name, unit, year, grade, pct, base, amount in export_rows(cycle):
        writer.writerow([tabular.neutralise(no), tabular.neutralise(name), tabular.neutralise(unit), year, grade,
                         f"{pct:.2f}", "" if base is None else f"{base:.2f}", "" if amount is None else f"{amount:.2f}"])
    text = buffer.getvalue()
    if encoding == "gbk":
        return text.encode("gb18030")
    return ("\ufeff" + text).encode("utf-8")
