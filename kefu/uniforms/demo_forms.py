"""Demo data of the uniform forms (issue 6 item 11, 6b's half), through the real services.

Registered as the demo step ``uniforms.forms``, after ``uniforms.catalogue`` (styles, stock,
size profiles, opening holdings). Over the year before the demo company was seeded:

- every CS new hire of that year files her 《制服領用申請表》 (reason: new hire) the day after she
  starts; her department head approves it, admin staff issue it, she confirms receipt — the
  latest few are left part-way, so the workbenches have something on them (a requisition to
  approve, one to issue, a back-order, receipts to confirm);
- a few long-serving staff whose items are due ask for their renewal;
- damage and loss reports: assessed as normal wear (with a replacement), as her fault (a
  compensation confirmed and put on a payroll month, another awaiting her confirmation), and one
  still to assess;
- scrap forms: one disposed in a batch, one signed and waiting for admin review, one waiting for
  the department head;
- dress-code spot checks by team leads, supervisors and the supervision group.

Idempotent: creations carry idempotency keys (or are looked up first) and every transition
checks the state it starts from, so a second run creates nothing.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kefu.people.demo import DEMO_LOGINS
from kefu.people.models import Employee, OrgUnit, Role, RoleAssignment
from kefu.uniforms import services
from kefu.uniforms.models import (
    Compensation,
    DamageReport,
    DisposalBatch,
    DressCheck,
    Entitlement,
    Holding,
    Issuance,
    ItemType,
    Location,
    Requisition,
    ScrapRequest,
    SizeProfile,
    Sku,
)

SEED = 20260715
# The newest new-hire requisitions are left part-way (newest first): submitted, approved, issued
# but not yet confirmed.
LEFT_SUBMITTED, LEFT_APPROVED, LEFT_UNCONFIRMED = 1, 1, 2


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """A moment on ``day`` (company time), never in the future."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
    return min(moment, timezone.now() - datetime.timedelta(minutes=1))


def _cs_staff() -> list[Employee]:
    cs_paths = list(OrgUnit.objects.filter(is_customer_service=True).values_list("path", flat=True))
    agents = set(RoleAssignment.objects.filter(role=Role.AGENT).values_list("user_id", flat=True))
    staff = (Employee.objects.filter(status=Employee.Status.ACTIVE, user_id__in=agents)
             .select_related("org_unit", "user").order_by("employee_no"))
    return [e for e in staff if any(e.org_unit.path.startswith(p) for p in cs_paths)]


class _Demo:
    def __init__(self, log: Callable[[str], None] | None) -> None:
        self.created: Counter[str] = Counter()
        self.log = log
        User = get_user_model()
        self.clerk = User.objects.get(username=DEMO_LOGINS[Role.ADMIN_STAFF])
        self.hr = User.objects.get(username=DEMO_LOGINS[Role.HR])
        self.inspector = User.objects.get(username=DEMO_LOGINS[Role.INSPECTOR])
        self.today = timezone.localdate()
        self.rng = random.Random(SEED)
        self.main = Location.objects.get(code="MAIN")
        self.skus = {s.code: s for s in Sku.objects.select_related("style", "size")}

    # -- helpers -----------------------------------------------------------------------------------

    def head_of(self, employee: Employee):
        heads = services.department_heads_of(employee)
        return heads[0] if heads else None

    def sizes_of(self, employee: Employee) -> dict[str, str]:
        profile = SizeProfile.objects.filter(employee=employee).first()
        sizes = {e.item_type: e.size.code for e in profile.entries.select_related("size")} if profile else {}
        return {"top": sizes.get(ItemType.TOP, "M"), "bottom": sizes.get(ItemType.TROUSERS, "M")}

    def new_hire_lines(self, employee: Employee) -> list[tuple[Sku, int]]:
        s = self.sizes_of(employee)
        if employee.gender == Employee.Gender.MALE:
            codes = [(f"M-TOP-SU-{s['top']}", 1), (f"M-TOP-WI-{s['top']}", 1), (f"M-TRS-{s['bottom']}", 2),
                     ("TIE-ONE", 2)]
        else:
            bottom = "W-SKT" if self.rng.random() < 0.5 else "W-TRS"
            codes = [(f"W-TOP-SU-{s['top']}", 1), (f"W-TOP-WI-{s['top']}", 1), (f"{bottom}-{s['bottom']}", 2),
                     ("SCF-ONE", 2)]
        return [(self.skus[code], n) for code, n in codes if code in self.skus]

    def requisition(self, key: str, *, actor, employee: Employee, reason: str, lines, at: datetime.datetime,
                    **kwargs) -> Requisition | None:
        scoped = services.scoped_key(actor, f"demo:{key}")
        existing = Requisition.objects.filter(idempotency_key=scoped).first()
        if existing is not None:
            return existing
        try:
            requisition = services.requisition_create(actor=actor, employee=employee, reason=reason, lines=lines,
                                                      idempotency_key=f"demo:{key}", at=at, **kwargs)
        except ValidationError as e:  # a demo hole (e.g. nothing due) is skipped, not fatal
            if self.log:
                self.log(f"skipped requisition {key}: {e}")
            return None
        self.created["uniform requisitions"] += 1
        return requisition

    def approve(self, requisition: Requisition, at: datetime.datetime) -> bool:
        requisition.refresh_from_db()
        head = self.head_of(requisition.employee)
        if requisition.status != Requisition.Status.SUBMITTED or head is None:
            return requisition.status != Requisition.Status.SUBMITTED
        services.requisition_approve(actor=head, requisition=requisition, comment="同意", at=at)
        return True

    def issue(self, requisition: Requisition, key: str, at: datetime.datetime) -> Issuance | None:
        requisition.refresh_from_db()
        scoped = services.scoped_key(self.clerk, f"demo:{key}")
        existing = Issuance.objects.filter(idempotency_key=scoped).first()
        if existing is not None or requisition.status not in (Requisition.Status.APPROVED,
                                                               Requisition.Status.PARTIALLY_ISSUED):
            return existing
        try:
            issuance = services.requisition_issue(actor=self.clerk, requisition=requisition, location=self.main,
                                                  idempotency_key=f"demo:{key}", at=at)
        except ValidationError as e:
            if self.log:
                self.log(f"skipped issue {key}: {e}")
            return None
        self.created["issuance records"] += 1
        return issuance

    def confirm(self, issuance: Issuance | None, at: datetime.datetime) -> None:
        if issuance is None or issuance.receipt_confirmed_at is not None or issuance.employee.user is None:
            return
        services.issuance_confirm_receipt(actor=issuance.employee.user, issuance=issuance, at=at)

    # -- the year --------------------------------------------------------------------------------------

    def new_hires(self, staff: list[Employee]) -> None:
        year_ago = self.today - datetime.timedelta(days=365)
        hires = sorted((e for e in staff if e.hire_date >= year_ago), key=lambda e: (e.hire_date, e.employee_no))
        newest_first = list(reversed(hires))
        for e in hires:
            services.onboarding_entitlement_step(employee=e, actor=self.hr, on=e.hire_date)  # idempotent
            if not Entitlement.objects.filter(employee=e, reason=Entitlement.Reason.NEW_HIRE).exists():
                continue
            rank = newest_first.index(e)
            start = min(e.hire_date + datetime.timedelta(days=1), self.today)
            own = self.rng.random() < 0.6 and e.user is not None
            requisition = self.requisition(f"new-hire-{e.employee_no}", actor=e.user if own else self.clerk,
                                           employee=e, reason=Requisition.Reason.NEW_HIRE,
                                           lines=self.new_hire_lines(e), at=_at(start, 9))
            if requisition is None or rank < LEFT_SUBMITTED:
                continue
            if not self.approve(requisition, _at(min(start + datetime.timedelta(days=1), self.today), 11)):
                continue
            if rank < LEFT_SUBMITTED + LEFT_APPROVED:
                continue
            issuance = self.issue(requisition, f"issue-new-hire-{e.employee_no}",
                                  _at(min(start + datetime.timedelta(days=2), self.today), 14))
            if rank < LEFT_SUBMITTED + LEFT_APPROVED + LEFT_UNCONFIRMED:
                continue
            self.confirm(issuance, _at(min(start + datetime.timedelta(days=3), self.today), 16))

    def back_order(self, staff: list[Employee]) -> None:
        """Extra trousers in a size that is short in stock: part issued, the rest back-ordered."""
        women = [e for e in staff if e.gender == Employee.Gender.FEMALE]
        sku = self.skus.get("W-TRS-XXL")
        if not women or sku is None:
            return
        e = women[len(women) // 2]
        requisition = self.requisition("extra-xxl", actor=self.clerk, employee=e, reason=Requisition.Reason.EXTRA,
                                       lines=[(sku, 4)], extra_reason="孕期改穿加大碼西褲",
                                       at=_at(self.today - datetime.timedelta(days=6)))
        if requisition is not None and self.approve(requisition, _at(self.today - datetime.timedelta(days=5))):
            self.issue(requisition, "issue-extra-xxl", _at(self.today - datetime.timedelta(days=4)))

    def renewals(self, staff: list[Employee]) -> None:
        window = self.today + datetime.timedelta(days=services.RENEWAL_REQUEST_WINDOW_DAYS)
        due = [e for e in staff if Holding.objects.filter(employee=e, status=Holding.Status.HELD,
                                                         renewal_due_on__lte=window,
                                                         sku__style__item_type=ItemType.TOP).exists()]
        for n, e in enumerate(due[:4]):
            held = (Holding.objects.filter(employee=e, status=Holding.Status.HELD, renewal_due_on__lte=window,
                                           sku__style__item_type=ItemType.TOP).select_related("sku").first())
            if held is None:
                continue
            requisition = self.requisition(f"renewal-{e.employee_no}", actor=e.user or self.clerk, employee=e,
                                           reason=Requisition.Reason.RENEWAL, lines=[(held.sku, 1)],
                                           at=_at(self.today - datetime.timedelta(days=8 - n)))
            if requisition is None or n == 0:
                continue  # the first stays with her department head
            if self.approve(requisition, _at(self.today - datetime.timedelta(days=6 - n))):
                self.confirm(self.issue(requisition, f"issue-renewal-{e.employee_no}",
                                        _at(self.today - datetime.timedelta(days=5 - n))),
                             _at(self.today - datetime.timedelta(days=4 - n)))

    def damage(self, staff: list[Employee]) -> None:
        plans = [
            # (days ago, kind, item types, cause or None, description, her confirmation, payroll)
            (300, DamageReport.Kind.DAMAGE, [ItemType.TOP], DamageReport.Cause.NORMAL_WEAR, "洗滌後襯衫領口脫線。",
             False, False),
            (220, DamageReport.Kind.LOSS, [ItemType.SILK_SCARF, ItemType.TIE], DamageReport.Cause.AT_FAULT,
             "下班途中遺失，未能尋回。", True, True),
            (120, DamageReport.Kind.DAMAGE, [ItemType.TROUSERS, ItemType.SKIRT], DamageReport.Cause.NOT_AT_FAULT,
             "工位椅子鐵片刮破。", False, False),
            (20, DamageReport.Kind.LOSS, [ItemType.SILK_SCARF, ItemType.TIE], DamageReport.Cause.AT_FAULT,
             "更衣室遺失。", False, False),
            (3, DamageReport.Kind.DAMAGE, [ItemType.TOP], None, "咖啡灑到襯衫，洗不掉。", False, False),
        ]
        agent_user = get_user_model().objects.filter(username=DEMO_LOGINS[Role.AGENT]).first()
        people = [e for e in staff if Holding.objects.filter(employee=e, status=Holding.Status.HELD).exists()]
        mine = [e for e in people if agent_user is not None and e.user_id == agent_user.pk]
        others = [e for e in people if e not in mine]
        for i, (days, kind, types, cause, text, confirmed, payroll) in enumerate(plans):
            # The demo agent gets the at-fault loss still awaiting her confirmation.
            who = mine[0] if (i == 3 and mine) else (others[(i * 7) % len(others)] if others else None)
            if who is None:
                continue
            key = f"demo:damage-{i}"
            scoped = services.scoped_key(who.user, key) if who.user else None
            report = DamageReport.objects.filter(idempotency_key=scoped).first() if scoped else None
            if report is None:
                day = self.today - datetime.timedelta(days=days)
                holding = (Holding.objects.filter(employee=who, status=Holding.Status.HELD, issued_on__lte=day,
                                                  sku__style__item_type__in=types)
                           .exclude(damage_reports__status=DamageReport.Status.REPORTED).order_by("id").first())
                if holding is None or who.user is None:
                    continue
                report = services.damage_report_create(actor=who.user, holding=holding, kind=kind, description=text,
                                                       occurred_on=day, idempotency_key=key, at=_at(day, 17))
                self.created["damage/loss reports"] += 1
            if cause is None or report.status != DamageReport.Status.REPORTED:
                continue
            happened: datetime.date = report.occurred_on or timezone.localdate(report.reported_at)
            assessed_on: datetime.date = min(self.today, happened + datetime.timedelta(days=2))
            services.damage_assess(actor=self.clerk, report=report, cause=cause,
                                   notes="經查屬實。" if cause != DamageReport.Cause.AT_FAULT else "本人保管不當，依規定賠償。",
                                   at=_at(assessed_on, 11))
            compensation = Compensation.objects.filter(damage_report=report).first()
            if compensation is not None and confirmed and who.user is not None:
                services.compensation_confirm(actor=who.user, compensation=compensation,
                                              at=_at(min(self.today, assessed_on + datetime.timedelta(days=1)), 9))
                if payroll:
                    services.compensations_export(actor=self.clerk, month=assessed_on)
            if cause == DamageReport.Cause.NORMAL_WEAR and who.user is not None:
                replacement = self.requisition(
                    f"replacement-{i}", actor=who.user, employee=who, reason=Requisition.Reason.REPLACEMENT,
                    lines=[(report.holding.sku, 1)], damage_report=report,
                    at=_at(min(self.today, assessed_on + datetime.timedelta(days=1))))
                if replacement is not None and self.approve(replacement, _at(min(self.today, assessed_on
                                                                                 + datetime.timedelta(days=2)))):
                    self.confirm(self.issue(replacement, f"issue-replacement-{i}",
                                            _at(min(self.today, assessed_on + datetime.timedelta(days=3)))),
                                 _at(min(self.today, assessed_on + datetime.timedelta(days=4))))

    def scrap(self, staff: list[Employee]) -> None:
        old = self.today - datetime.timedelta(days=540)
        people = [e for e in staff if e.user is not None and Holding.objects.filter(
            employee=e, status=Holding.Status.HELD, issued_on__lte=old).exists()]
        plans = [(200, "disposed"), (15, "head_approved"), (2, "submitted")]
        for i, (days, until) in enumerate(plans):
            if i >= len(people):
                return
            e = people[-1 - i * 3] if len(people) > i * 3 else people[i]
            key = f"demo:scrap-{i}"
            scoped = services.scoped_key(e.user, key)
            scrap = ScrapRequest.objects.filter(idempotency_key=scoped).first()
            day = self.today - datetime.timedelta(days=days)
            if scrap is None:
                items = list(Holding.objects.filter(employee=e, status=Holding.Status.HELD, issued_on__lte=day)
                             .exclude(scrap_lines__scrap_request__status__in=services.OPEN_SCRAP_STATUSES)
                             .exclude(sku__style__reusable=True).order_by("id")[:2])
                if not items:
                    continue
                scrap = services.scrap_request_create(actor=e.user, employee=e,
                                                      items=[(h, "洗滌多次褪色、起毛") for h in items],
                                                      reason="穿著已久，破舊不堪，無法修補。", idempotency_key=key,
                                                      at=_at(day, 10))
                self.created["scrap forms"] += 1
            if until == "submitted":
                continue
            head = self.head_of(e)
            if scrap.status == ScrapRequest.Status.SUBMITTED and head is not None:
                scrap = services.scrap_request_head_approve(actor=head, scrap=scrap, comment="同意報廢",
                                                            at=_at(day + datetime.timedelta(days=1)))
            if until == "head_approved":
                continue
            if scrap.status == ScrapRequest.Status.HEAD_APPROVED:
                scrap = services.scrap_request_admin_approve(actor=self.clerk, scrap=scrap, comment="已核對實物",
                                                             at=_at(day + datetime.timedelta(days=2)))
            waiting = list(services.holdings_awaiting_disposal().filter(scrap_lines__scrap_request=scrap))
            if waiting and scrap.status == ScrapRequest.Status.ADMIN_APPROVED:
                services.disposal_batch_create(actor=self.clerk, holdings=waiting,
                                               disposed_on=day + datetime.timedelta(days=10),
                                               method=DisposalBatch.Method.RECYCLE,
                                               performed_by="綠源紡織回收有限公司（行政部 劉美玲監督）",
                                               note="示範資料：季度集中處理")
                self.created["disposal batches"] += 1

    def dress_checks(self, staff: list[Employee]) -> None:
        if DressCheck.objects.filter(notes__startswith="示範").exists():
            return
        checkers: dict[int, list] = {}
        for e in staff:
            checkers[e.pk] = services._role_holders_for(e, (Role.TEAM_LEAD, Role.CS_SUPERVISOR))
        problems = [("wearing", "未穿制服上班。"), ("clean_tidy", "襯衫有明顯污漬。"), ("badge", "未佩戴工牌。"),
                    ("tie_or_scarf", "未繫絲巾／領帶。"), ("unaltered", "私自改短裙擺。")]
        for week in range(1, 52, 2):
            day = self.today - datetime.timedelta(weeks=week)
            while day.weekday() >= 5:
                day -= datetime.timedelta(days=1)
            for e in self.rng.sample(staff, k=min(3, len(staff))):
                if e.hire_date > day:
                    continue
                actor = self.inspector if self.rng.random() < 0.3 or not checkers[e.pk] else \
                    self.rng.choice(checkers[e.pk])
                answers = dict.fromkeys(("wearing", "clean_tidy", "unaltered", "badge", "tie_or_scarf"), True)
                notes = "示範：抽查合格。"
                if self.rng.random() < 0.2:
                    field, text = self.rng.choice(problems)
                    answers[field] = False
                    notes = f"示範：{text}"
                services.dress_check_record(actor=actor, employee=e, checked_on=day, notes=notes, **answers)
                self.created["dress-code checks"] += 1


@transaction.atomic
def build_forms_demo(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    if not Location.objects.filter(code="MAIN").exists() or not get_user_model().objects.filter(
            username=DEMO_LOGINS[Role.ADMIN_STAFF]).exists():
        return {}  # no demo company or catalogue
    demo = _Demo(log)
    staff = _cs_staff()
    if not staff:
        return {}
    demo.new_hires(staff)
    demo.back_order(staff)
    demo.renewals(staff)
    demo.damage(staff)
    demo.scrap(staff)
    demo.dress_checks(staff)
    if log:
        for label, count in demo.created.items():
            log(f"{label}: {count}")
    return dict(demo.created)
