"""The access matrix's data: for every URL pattern (by name) and every API operation ("GET /api/v1/…"),
what each role gets (test_access_matrix.py runs it).

Roles: A agent (CS1-T1) · TL her team lead · SUP CS1's supervisor · DH CS1's department head · ADM admin
clerk · HR · LEAD leadership · INS inspector · SYS system admin · OUT the outsider (CS2's supervisor) ·
anonymous. A spec reads "200 A TL; 404 OUT; 403 *": the roles named get that status, ``*`` stands for
every signed-in role not named. Anonymous visitors are sent to log in unless ``anon=`` says otherwise.
Objects in URLs (``kwargs``) come from matrix_fixtures and belong to the agent's department.

Where the DESIGN.md role table and the page disagreed, the page was fixed or the entry carries a
comment saying why the page is right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOGIN = "login"
ROLES = ["A", "TL", "SUP", "DH", "ADM", "HR", "LEAD", "INS", "SYS", "OUT", "anon"]
ATTR = {"A": "agent", "TL": "team_lead", "SUP": "supervisor", "DH": "dept_head", "ADM": "admin_clerk", "HR": "hr",
        "LEAD": "leadership", "INS": "inspector", "SYS": "sysadmin", "OUT": "outsider"}
SIGNED_IN = ROLES[:-1]


def parse(spec: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rest: Any = None
    for part in spec.split(";"):
        words = part.split()
        if not words:
            continue
        status: Any = int(words[0]) if words[0].isdigit() else words[0]
        for role in words[1:]:
            if role == "*":
                rest = status
            else:
                assert role in SIGNED_IN, f"unknown role {role!r} in {spec!r}"
                out[role] = status
    for role in SIGNED_IN:
        if role not in out:
            assert rest is not None, f"{spec!r} does not say what {role} gets"
            out[role] = rest
    return out


@dataclass
class Page:
    """A page (GET). ``post_deny``: for a page that also takes a POST (a form on the page), the roles
    whose POST must be refused (403/404)."""

    spec: str
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    anon: Any = LOGIN
    post_deny: str = ""

    post_only = False

    @property
    def deny(self) -> frozenset[str]:
        return frozenset(self.post_deny.split())

    def expected(self) -> dict[str, Any]:
        return parse(self.spec) | {"anon": self.anon}


@dataclass
class Post(Page):
    """An action (POST only): GET answers 405; a POST from a role in ``deny`` answers 403 or 404."""

    spec: str = "405 *"
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    anon: Any = LOGIN
    deny_roles: str = ""
    post_only = True

    @property
    def deny(self) -> frozenset[str]:
        return frozenset(self.deny_roles.split())


def post(deny: str = "", kwargs: Callable[[Any], dict[str, Any]] | None = None) -> Post:
    return Post(kwargs=kwargs, deny_roles=deny)


@dataclass
class Api:
    """GET operations: spec as for pages (anonymous: 401). Writes: the roles not in ``allow`` get 403/404
    for ``body``, anonymous 401."""

    spec: str = ""
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    allow: str | None = None  # a write: the roles that may make it (not sent); everyone else is refused
    body: Any = None  # a well-formed body for the refused writes (None: any refusal, 422 included)
    query: str = ""
    deny: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.allow is not None:
            self.deny = frozenset(SIGNED_IN) - frozenset(self.allow.split())

    def expected(self) -> dict[str, Any]:
        return (parse(self.spec) if self.spec else {r: None for r in SIGNED_IN}) | {"anon": 401}


def pk(attr: str) -> Callable[[Any], dict[str, Any]]:
    return lambda f: {"pk": getattr(f, attr).pk}


def number(attr: str) -> Callable[[Any], dict[str, Any]]:
    return lambda f: {"number": getattr(f, attr).number}


def no(f: Any) -> dict[str, Any]:
    return {"employee_no": f.employee_no}


def unit(f: Any) -> dict[str, Any]:
    return {"code": f.unit.code}


def year(f: Any) -> dict[str, Any]:
    return {"year": f.year}


ALL = "200 *"
PROCUREMENT = "200 ADM LEAD INS; 403 *"  # admin staff's; leadership and inspectors read (DESIGN roles)
EVERYONE_ELSE_403 = "403 *"
DUMP = "dump *"  # a placeholder while writing an entry (never passes): MATRIX_DUMP=todo prints what each role gets

PAGES: dict[str, Page] = {}
API: dict[str, Api] = {}

PAGES.update({
    "core:workbench": Page("200 *"),
    "core:notifications": Page("200 *"),
    "core:notifications_read": post(),
    "core:audit_log": Page("200 HR INS SYS; 403 *"),
    "core:audit_export": Page("200 HR INS SYS; 403 *"),
    "core:audit_entry": Page("200 HR INS SYS; 404 *", pk('audit_entry')),
    "core:policy": Page("403 A; 200 *"),
    "core:policy_detail": Page("403 A; 200 *", lambda f: {'key': f.policy_key}),
    "core:api_tokens": Page("200 *"),
    # Her own token only: anybody else's does not exist for them (404), the form's POST too.
    "core:api_token_revoke": Page("200 A; 404 *", pk("api_token"), post_deny="TL SUP DH ADM HR LEAD INS SYS OUT"),
    "core:calendar": Page("200 *"),
    "core:calendar_day_set": post("A TL SUP DH ADM LEAD INS OUT"),
    "core:calendar_day_delete": post("A TL SUP DH ADM LEAD INS OUT"),
    "core:calendar_hours_set": post("A TL SUP DH ADM LEAD INS OUT"),
    "core:calendar_year_confirm": post("A TL SUP DH ADM LEAD INS OUT"),
    "people:employee_list": Page("200 *"),
    "people:employee_export": Page("200 *"),
    "people:employee_create": Page("200 HR SYS; 403 *"),
    "people:employee_import": Page("200 HR SYS; 403 *"),
    "people:employee_import_template": Page("200 HR SYS; 403 *"),
    "people:employee_detail": Page("404 OUT; 200 *", no),
    "people:employee_edit": Page("200 HR SYS; 404 OUT; 403 *", no),
    "people:employee_onboard": post("A TL SUP DH ADM LEAD INS OUT", kwargs=no),
    "people:employee_offboard": Page("200 HR SYS; 404 OUT; 403 *", no),
    "people:org_units": Page("403 A; 200 *"),
    "people:unit_create": Page("200 HR SYS; 403 *"),
    "people:unit_edit": Page("200 HR SYS; 404 OUT; 403 *", pk('unit')),
    "people:roles": Page("200 HR SYS; 403 *"),
    "people:role_end": post("A TL SUP DH ADM LEAD INS OUT", kwargs=pk('role')),
    "uniforms:home": Page("200 *"),
    "uniforms:catalogue": Page("200 *"),
    "uniforms:style_create": Page("200 ADM; 403 *"),
    "uniforms:style_detail": Page("200 *", pk('style')),
    "uniforms:style_edit": Page("200 ADM; 403 *", pk('style')),
    "uniforms:style_photo": Page("404 *", pk('style')),
    "uniforms:skus_add": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=pk('style')),
    "uniforms:sku_edit": Page("200 ADM; 403 *", pk('sku')),
    "uniforms:sizes": Page("200 *"),
    "uniforms:size_edit": Page("200 ADM; 403 *", pk('size')),
    "uniforms:sets": Page("200 *"),
    "uniforms:set_create": Page("200 ADM; 403 *"),
    "uniforms:set_edit": Page("200 ADM; 403 *", pk("set_def"), post_deny="A TL SUP DH HR LEAD INS SYS OUT"),
    "uniforms:stock_levels": Page("200 ADM LEAD INS; 403 *"),
    "uniforms:ledger": Page("200 ADM LEAD INS; 403 *"),
    "uniforms:stock_move_create": Page("200 ADM; 403 *"),
    "uniforms:locations": Page("200 ADM LEAD INS; 403 *"),
    "uniforms:location_edit": Page("200 ADM; 403 *", pk('location')),
    "uniforms:counts": Page("200 ADM LEAD INS; 403 *"),
    "uniforms:count_create": Page("200 ADM; 403 *"),
    # Counting, approving: admin staff; leadership and inspectors read it (an empty POST: 403 for them).
    "uniforms:count_detail": Page("200 ADM LEAD INS; 403 *", pk("count"), post_deny="A TL SUP DH HR LEAD INS SYS OUT"),
    "uniforms:renewals": Page("403 A TL HR SYS; 200 *"),
    "uniforms:holdings": Page("200 *"),
    "uniforms:my_size_profile": Page("302 *"),
    "uniforms:size_profile": Page("404 TL HR SYS OUT; 200 *", no),
    "uniforms:returns": Page("200 ADM; 403 *"),
    "uniforms:return_check_in": Page("404 TL HR SYS OUT; 200 ADM; 403 *", no),
    "uniforms:requisition_list": Page("200 *"),
    "uniforms:requisition_new": Page("200 *"),
    "uniforms:backorders": Page("200 ADM; 403 *"),
    "uniforms:requisition_detail": Page("404 TL HR SYS OUT; 200 *", number('requisition')),
    "uniforms:requisition_submit": post("TL HR SYS OUT", kwargs=number('requisition')),
    "uniforms:requisition_approve": post("A TL HR SYS OUT", kwargs=number('requisition')),
    "uniforms:requisition_reject": post("A TL HR SYS OUT", kwargs=number('requisition')),
    "uniforms:requisition_issue": post("A TL SUP DH HR SYS OUT", kwargs=number('requisition')),
    "uniforms:requisition_close": post("TL HR SYS OUT", kwargs=number('requisition')),
    "uniforms:requisition_pdf": Page("404 TL HR SYS OUT; 200 *", number('requisition')),
    "uniforms:issuance_list": Page("200 *"),
    "uniforms:issuance_detail": Page("404 TL HR SYS OUT; 200 *", number('issuance')),
    "uniforms:issuance_confirm": post("TL SUP DH HR LEAD INS SYS OUT", kwargs=number('issuance')),
    "uniforms:damage_list": Page("200 *"),
    "uniforms:damage_new": Page("200 *"),
    "uniforms:damage_detail": Page("404 TL HR SYS OUT; 200 *", number('damage')),
    # U3.2: admin staff assess; the others who see the report are refused before the form is read.
    "uniforms:damage_assess": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('damage')),
    "uniforms:damage_attach": post("TL SUP DH HR LEAD INS SYS OUT", kwargs=number('damage')),
    "uniforms:compensation_list": Page("200 *"),
    "uniforms:compensation_confirm": post("TL SUP DH HR LEAD INS SYS OUT", kwargs=pk("compensation")),
    "uniforms:compensation_waive": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=pk("compensation")),
    "uniforms:compensation_export": post("A TL SUP DH SYS OUT"),
    "uniforms:compensation_payroll": Page("200 ADM; 403 *", lambda f: {'year': 2026, 'month': 11}),
    "uniforms:scrap_list": Page("200 *"),
    "uniforms:scrap_new": Page("200 *"),
    "uniforms:disposal_list": Page("200 ADM LEAD INS; 403 *"),
    "uniforms:disposal_new": Page("200 ADM; 403 *"),
    "uniforms:disposal_detail": Page("200 ADM LEAD INS; 403 *", number("disposal")),
    "uniforms:scrap_detail": Page("404 TL HR SYS OUT; 200 *", number('scrap')),
    # U4.2: her department head signs, admin staff review, she submits; everyone else is refused (403 where
    # the form is seen, 404 where not) before the form or the form's status is looked at.
    "uniforms:scrap_sign": post("A TL SUP ADM HR LEAD INS SYS OUT", kwargs=number('scrap')),
    "uniforms:scrap_review": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('scrap')),
    "uniforms:scrap_submit": post("TL SUP DH ADM HR LEAD INS SYS OUT", kwargs=number('scrap')),
    "uniforms:scrap_pdf": Page("404 TL HR SYS OUT; 200 *", number('scrap')),
    "uniforms:dress_list": Page("200 *"),
    "uniforms:dress_new": Page("200 TL SUP INS OUT; 403 *"),
    "procurement:home": Page("200 ADM LEAD INS; 403 *"),
    "procurement:suppliers": Page("200 ADM LEAD INS; 403 *"),
    "procurement:supplier_create": Page("200 ADM; 403 *"),
    "procurement:supplier_detail": Page("200 ADM LEAD INS; 403 *", lambda f: {'code': f.supplier.code}),
    "procurement:supplier_edit": Page("200 ADM; 403 *", lambda f: {'code': f.supplier.code}),
    "procurement:supplier_status": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=lambda f: {'code': f.supplier.code}),
    "procurement:contact_add": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=lambda f: {'code': f.supplier.code}),
    "procurement:certificate_add": Page("200 ADM; 403 *", lambda f: {'code': f.supplier.code}),
    "procurement:contact_remove": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=pk("contact")),
    "procurement:certificate_scan": Page(PROCUREMENT, pk("certificate")),
    "procurement:certificate_withdraw": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=pk("certificate")),
    "procurement:plans": Page("200 ADM LEAD INS; 403 *"),
    "procurement:plan_create": Page("200 ADM; 403 *"),
    "procurement:plan_detail": Page("200 ADM LEAD INS; 403 *", number('plan')),
    "procurement:plan_edit": Page("403 *", number('plan')),
    "procurement:plan_line_edit": Page("403 *", lambda f: {'number': f.plan.number, 'pk': f.plan_line.pk}),
    "procurement:plan_line_remove": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=lambda f: {'number': f.plan.number, 'pk': f.plan_line.pk}),
    "procurement:plan_propose": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('plan')),
    "procurement:plan_submit": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('plan')),
    "procurement:plan_decide": post("A TL SUP DH ADM HR INS SYS OUT", kwargs=number('plan')),
    "procurement:plan_budget": Page("200 ADM LEAD INS; 403 *", number('plan')),
    "procurement:rfq_create": Page("200 ADM; 403 *", number('plan')),
    "procurement:rfqs": Page("200 ADM LEAD INS; 403 *"),
    "procurement:rfq_detail": Page("200 ADM LEAD INS; 403 *", number('rfq')),
    "procurement:rfq_invite": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('rfq')),
    "procurement:quote_record": Page("403 *", lambda f: {'number': f.rfq.number, 'code': f.supplier.code}),
    "procurement:rfq_next_round": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('rfq')),
    "procurement:rfq_compare": Page("200 ADM LEAD INS; 403 *", number('rfq')),
    "procurement:award_decide": post("A TL SUP DH HR INS SYS OUT", kwargs=pk('award')),
    "procurement:orders": Page("200 ADM LEAD INS; 403 *"),
    "procurement:order_detail": Page("200 ADM LEAD INS; 403 *", number('order')),
    "procurement:order_edit": Page("403 *", number('order')),
    "procurement:order_issue": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('order')),
    "procurement:order_pdf": Page("200 ADM LEAD INS; 403 *", number('order')),
    "procurement:receipt_create": Page("200 ADM; 403 *", number('order')),
    "procurement:receipts": Page("200 ADM LEAD INS; 403 *"),
    "procurement:receipt_detail": Page("200 ADM LEAD INS; 403 *", number('receipt')),
    "procurement:receipt_post": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('receipt')),
    "procurement:receipt_discard": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number('receipt')),
    "procurement:issues": Page("200 ADM LEAD INS; 403 *"),
    "procurement:issue_detail": Page(PROCUREMENT, number("issue")),
    "procurement:issue_kind": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number("issue")),
    "procurement:issue_close": post("A TL SUP DH HR LEAD INS SYS OUT", kwargs=number("issue")),
    "service:interaction_list": Page("403 ADM; 200 *"),
    # Hers; her team lead, department, HR, leadership, inspectors and the system admin (service.access).
    "service:interaction_detail": Page("404 ADM OUT; 200 *", pk("interaction")),
    "service:import_upload": Page("200 SUP SYS OUT; 403 *"),
    "service:import_template": Page("200 SUP SYS OUT; 403 *"),
    # A batch is its importer's (CS1's supervisor here) and the system admin's.
    "service:import_batch": Page("200 SUP SYS; 404 *", pk("import_batch")),
    "service:import_errors": Page("200 SUP SYS; 404 *", pk("import_batch")),
    # The customer's page (E1.1): a valid signed link opens it for anybody, signed in or not.
    "service:survey_answer": Page("200 *", lambda f: {'token': f.survey_token}, anon=200),
    # Whoever sees the resolved interaction may (re)issue its link, the agent included (E1.1).
    "service:survey_issue": post("ADM OUT", kwargs=pk("interaction")),
    "service:survey_import": Page("200 SUP SYS OUT; 403 *"),
    "service:survey_import_template": Page("200 SUP SYS OUT; 403 *"),
    "service:kpi_mine": Page("200 *"),
    "service:kpi_team": Page("403 A ADM SYS; 200 *"),
    "service:kpi_team_export": Page("403 A ADM SYS; 200 *"),
    "service:kpi_agent": Page("404 ADM SYS OUT; 200 *", no),
    "service:evidence_index": Page("200 TL SUP OUT; 403 *"),
    "service:evidence": Page("200 TL SUP; 404 OUT; 403 *", no),
    "service:evidence_draw": post("A ADM HR SYS OUT", kwargs=no),
    "evaluations:mine": Page("200 *"),
    "evaluations:weekly_board": Page("200 TL SUP OUT; 403 *"),
    "evaluations:weekly_start": post("A ADM SYS"),
    "evaluations:weekly_detail": Page("404 ADM SYS OUT; 200 *", pk('weekly')),
    "evaluations:weekly_edit": Page("404 ADM SYS OUT; 403 *", pk('weekly')),
    "evaluations:weekly_evidence_add": post("A ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_evidence_remove": post("A ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_evidence_draw": post("A ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_attach": post("ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_acknowledge": post("ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_comment": post("ADM SYS OUT", kwargs=pk('weekly')),
    "evaluations:weekly_reopen": post("A ADM SYS OUT", kwargs=pk('weekly')),
    # The one download view for files on records: a file on her submitted weekly evaluation goes to those
    # who see the evaluation (as evaluations:weekly_detail); others get 404, never 403.
    "core:attachment": Page("404 ADM SYS OUT; 200 *", pk('weekly_attachment')),
    "evaluations:attachment_remove": post("A OUT", kwargs=pk('weekly_attachment')),
    "evaluations:monthly_detail": Page("404 A ADM SYS OUT; 200 *", pk('monthly')),
    "evaluations:monthly_acknowledge": post("ADM SYS OUT", kwargs=pk('monthly')),
    "evaluations:monthly_appeal": post("TL SUP ADM SYS OUT", kwargs=pk('monthly')),
    "evaluations:monthly_reopen": post("A TL ADM SYS OUT", kwargs=pk('monthly')),
    "evaluations:appeals": Page("200 DH; 403 *"),
    # Her department head decides (G3.1); the others who see the appeal may not (403), the rest 404.
    "evaluations:appeal_decide": Page("404 ADM SYS OUT; 200 *", pk("appeal"),
                                      post_deny="A TL SUP HR LEAD INS ADM SYS OUT"),
    "evaluations:scorecards": Page("200 *"),
    "evaluations:scorecard_detail": Page("200 *", pk('scorecard')),
    "evaluations:scorecard_edit": Page("200 SUP HR OUT; 403 *", pk('scorecard')),
    "evaluations:monthly_board": Page("403 A TL ADM SYS; 200 *"),
    "evaluations:monthly_export": Page("403 A TL ADM SYS; 200 *"),
    "evaluations:monthly_drafts_make": post("A TL ADM SYS"),
    "evaluations:monthly_edit": Page("404 A ADM SYS OUT; 200 SUP; 403 *", pk('monthly')),
    "evaluations:monthly_pdf": Page("404 A ADM SYS OUT; 200 *", pk('monthly')),
    "evaluations:calibration_list": Page("200 *"),
    "evaluations:calibration_create": Page("200 SUP HR OUT; 403 *"),
    # Its creator (SUP) and evaluators (TL, SUP); HR, leadership and inspectors read every session.
    "evaluations:calibration_detail": Page("200 TL SUP HR LEAD INS; 404 *", pk("calibration")),
    # Only its evaluators score (the readers: 403).
    "evaluations:calibration_score": Page("200 TL SUP; 403 HR LEAD INS; 404 *", pk("calibration"),
                                          post_deny="A DH ADM HR LEAD INS SYS OUT"),
    "evaluations:calibration_close": post("A TL DH ADM LEAD INS SYS OUT", kwargs=pk("calibration")),
    "evaluations:calibration_results": Page("200 TL SUP HR LEAD INS; 404 *", pk("calibration_closed")),
    "annual:cycles": Page("403 A TL ADM SYS; 200 *"),
    "annual:mine": Page("200 *"),
    "annual:board": Page("403 A TL ADM SYS; 200 *", year),
    "annual:transition": post("A TL ADM SYS OUT", kwargs=year),
    "annual:grade": post("A TL ADM SYS OUT", kwargs=pk('result')),
    "annual:achievements": post("A TL ADM SYS OUT", kwargs=pk('result')),
    "annual:pay_index": Page("200 HR; 403 *"),
    "annual:pay": Page("200 HR; 403 *", year),
    "annual:pay_prepare": post("A TL SUP DH ADM LEAD INS SYS OUT", kwargs=year),
    "annual:pay_import": post("A TL SUP DH ADM LEAD INS SYS OUT", kwargs=year),
    "annual:pay_approve": post("A TL SUP DH ADM INS SYS OUT", kwargs=year),
    "annual:pay_export": Page("302 HR; 403 *", year),
    "annual:pay_base": post("A TL SUP DH ADM LEAD INS SYS OUT", kwargs=pk("pay")),
    "annual:appeals": Page("200 HR; 403 *"),
    "annual:appeal_file": post("TL ADM SYS OUT", kwargs=pk('result')),
    "annual:appeal_decide": post("A TL SUP DH ADM LEAD INS SYS OUT", kwargs=pk("annual_appeal")),
    "annual:report_distribution": Page("403 A TL ADM SYS; 200 *"),
    "annual:report_distribution_export": Page("403 A TL ADM SYS; 200 *"),
    "annual:my_history": Page("302 *"),
    "annual:history": Page("404 TL ADM SYS OUT; 200 *", no),
    "annual:awards": Page("403 A TL ADM SYS; 200 *", year),
    "annual:award_nominate": post("A TL ADM SYS", kwargs=year),
    "annual:award_decide": post("A TL SUP DH ADM HR INS SYS OUT", kwargs=pk("nomination")),
    # An approved award's certificate: whoever reads her annual result (the team lead has no annual role).
    "annual:award_certificate": Page("404 TL ADM SYS OUT; 200 *", pk("nomination")),
    "annual:promotion": Page("403 A TL ADM SYS; 200 *", year),
    "annual:promotion_export": Page("403 A TL ADM SYS; 200 *", year),
    "annual:coaching_list": Page("403 A ADM SYS; 200 *"),
    "annual:coaching_mine": Page("200 *"),
    "annual:coaching_sync": post("A TL ADM SYS"),
    # E3.3: a draft plan is not shown to its employee yet; her managers, HR, the read-all roles and her coach see it.
    "annual:coaching_detail": Page("404 A ADM SYS OUT; 200 *", pk("coaching")),
    "annual:coaching_activate": post("A TL DH ADM HR LEAD INS SYS OUT", kwargs=pk("coaching")),
    # Her supervisor or her coach (the team lead here) records a session; HR or her supervisor cancels.
    "annual:coaching_session": post("A DH ADM HR LEAD INS SYS OUT", kwargs=pk("coaching")),
    # E3.3: her CS supervisor closes the plan; the others are refused before the form is read.
    "annual:coaching_close": post("A TL DH ADM HR LEAD INS SYS OUT", kwargs=pk("coaching")),
    "annual:coaching_cancel": post("A TL DH ADM LEAD INS SYS OUT", kwargs=pk("coaching")),
    "annual:hr_cases": Page("403 A ADM SYS; 200 *"),
    "annual:hr_case_decide": post("A TL SUP DH ADM LEAD INS SYS OUT", kwargs=pk("hr_case")),
    "inspections:inspection_list": Page("200 HR LEAD INS; 404 *"),
    "inspections:inspection_new": Page("403 HR LEAD; 200 INS; 404 *"),
    "inspections:inspection_detail": Page("200 HR LEAD INS; 404 *", pk('inspection')),
    "inspections:inspection_start": post("A TL SUP DH ADM SYS OUT", kwargs=pk('inspection')),
    "inspections:inspection_complete": post("A TL SUP DH ADM SYS OUT", kwargs=pk('inspection')),
    "inspections:sample_draw": post("A TL SUP DH ADM SYS OUT", kwargs=pk('inspection')),
    "inspections:finding_new": post("A TL SUP DH ADM SYS OUT", kwargs=pk('inspection')),
    "inspections:inspection_pdf": Page("200 HR LEAD INS; 404 *", pk('inspection')),
    "inspections:item_record": post("A TL SUP DH ADM SYS OUT", kwargs=pk('item')),
    "inspections:finding_edit": Page("403 HR LEAD; 200 INS; 404 *", pk('finding')),
    "inspections:plan_list": Page("200 HR LEAD INS; 404 *"),
    "inspections:plan_new": Page("403 HR LEAD; 200 INS; 404 *"),
    "inspections:plan_detail": Page("200 HR LEAD INS; 404 *", pk("inspection_plan")),
    "inspections:plan_edit": Page("403 HR LEAD; 200 INS; 404 *", pk("inspection_plan")),
    "inspections:group": Page("200 HR LEAD INS; 404 *"),
    "inspections:rectification_new": Page("403 HR LEAD; 200 INS; 404 *", lambda f: {'finding_pk': f.finding.pk}),
    "inspections:rectification_dashboard": Page("200 DH HR LEAD INS; 403 *"),
    "inspections:rectification_mine": Page("200 *"),
    # S3: the responsible person (the agent) and the department head answer for it; not the supervisor.
    "inspections:rectification_detail": Page("200 A DH HR LEAD INS; 404 *", pk("rectification")),
    "inspections:rectification_start": post("TL SUP ADM HR LEAD SYS OUT", kwargs=pk("rectification")),
    "inspections:rectification_submit": post("TL SUP ADM HR LEAD SYS OUT", kwargs=pk("rectification")),
    "inspections:rectification_verify": post("A TL SUP DH ADM HR LEAD SYS OUT", kwargs=pk("rectification")),
    "inspections:rectification_send_back": post("A TL SUP DH ADM HR LEAD SYS OUT", kwargs=pk("rectification")),
    "inspections:compliance_dashboard": Page("200 HR LEAD INS; 404 *"),
    "inspections:compliance_run_now": post("A TL SUP DH ADM SYS OUT"),
    "inspections:compliance_hits": Page("200 HR LEAD INS; 404 *", lambda f: {'run_pk': f.compliance_run.pk, 'check': 'weekly_missing'}),
    "inspections:compliance_attach": post("A TL SUP DH ADM HR LEAD SYS OUT", kwargs=pk("compliance_hit")),
    "integrations:hooks": Page("200 SYS; 403 *"),
    # Bots hold credentials: the system admin's only; for everyone else a bot does not exist.
    "integrations:hook_edit": Page("200 SYS; 404 *", pk("hook"), post_deny="A TL SUP DH ADM HR LEAD INS OUT"),
    "integrations:hook_delete": post("A TL SUP DH ADM HR LEAD INS OUT", kwargs=pk("hook")),
    "integrations:template_save": post("A TL SUP DH ADM HR LEAD INS OUT"),
    "integrations:deliveries": Page("200 SYS; 403 *"),
    "integrations:hr_sync_runs": Page("200 HR SYS; 403 *"),
    "integrations:payroll": Page("200 HR; 403 *"),
    "integrations:payroll_download": Page("200 HR; 403 *", lambda f: {"month": "2026-10", "fmt": "csv"}),
    "integrations:hr_sync_run": Page("200 HR SYS; 404 *", pk("hr_sync_run")),
    "login": Page("302 *", anon=200),
    "logout": post(),
    "password_change": Page("200 *"),
    "password_change_done": Page("200 *"),
    "set_language": Page("302 *", anon=302),  # public: back to where the visitor came from
    "javascript-catalog": Page("200 *", anon=200),
})

# Writes: everyone but those named in ``allow`` is refused (403/404) for a well-formed body; the allowed
# roles' successful writes are the apps' API tests, not the matrix's.
PEOPLE_WRITERS = "HR SYS"
UNIT_BODY = {"code": "MX-T9", "name": "矩陣組", "kind": "team", "parent": "CS1"}
EMPLOYEE_BODY = {"employee_no": "MX0001", "name": "矩陣", "gender": "F", "hire_date": "2026-01-05",
                 "org_unit": "CS1-T1"}
PUT_BODY = {"name": "王小美", "gender": "F", "hire_date": "2023-03-01", "org_unit": "CS1-T1"}

API.update({
    "GET /api/v1/org-units": Api(ALL),
    "POST /api/v1/org-units": Api(allow=PEOPLE_WRITERS, body=UNIT_BODY),
    "GET /api/v1/org-units/{code}": Api("404 OUT; 200 *", unit),
    "PATCH /api/v1/org-units/{code}": Api(kwargs=unit, allow=PEOPLE_WRITERS, body={"name": "改名"}),
    "GET /api/v1/employees": Api(ALL),  # a list filtered to what each may see (kefu/api/tests)
    "POST /api/v1/employees": Api(allow=PEOPLE_WRITERS, body=EMPLOYEE_BODY),
    "GET /api/v1/employees/{employee_no}": Api("404 OUT; 200 *", no),
    "PATCH /api/v1/employees/{employee_no}": Api(kwargs=no, allow=PEOPLE_WRITERS, body={"position": "組員"}),
    "PUT /api/v1/employees/{employee_no}": Api(kwargs=no, allow=PEOPLE_WRITERS, body=PUT_BODY),
    "POST /api/v1/employees/{employee_no}/onboard": Api(kwargs=no, allow=PEOPLE_WRITERS, body={}),
    "POST /api/v1/employees/{employee_no}/offboard": Api(kwargs=no, allow=PEOPLE_WRITERS, body={"leave_date": "2026-12-31"}),
    # Feeds from the telephony / survey systems: a supervisor or the system admin imports (as the pages).
    "POST /api/v1/survey-answers/bulk": Api(allow="SUP OUT SYS", body={"answers": []}),
    "GET /api/v1/agents/{employee_no}/kpis": Api("404 ADM SYS OUT; 200 *", no),
    "POST /api/v1/interactions/bulk": Api(allow="SUP OUT SYS", body=None),
    # As its page (service:interaction_detail).
    "GET /api/v1/interactions/{source}/{external_id}": Api("404 ADM OUT; 200 *", lambda f: {
        "source": f.interaction.source, "external_id": f.interaction.external_id}),
    "GET /api/v1/evaluations/weekly": Api(ALL),
    "GET /api/v1/evaluations/weekly/{evaluation_id}": Api("404 ADM SYS OUT; 200 *",
                                                          lambda f: {"evaluation_id": f.weekly.pk}),
    "GET /api/v1/evaluations/monthly": Api(ALL),
    # A draft: the agent sees her monthly evaluation once it is submitted (E2.2), her team lead reads it.
    "GET /api/v1/evaluations/monthly/{evaluation_id}": Api("404 A ADM SYS OUT; 200 *",
                                                           lambda f: {"evaluation_id": f.monthly.pk}),
    "GET /api/v1/agents/{employee_no}/evaluations": Api("404 ADM SYS OUT; 200 *", no, query="?period=2026-10"),
    "GET /api/v1/uniforms/styles": Api(ALL),
    "GET /api/v1/uniforms/styles/{code}": Api(ALL, lambda f: {"code": f.style.code}),
    "GET /api/v1/uniforms/sets": Api(ALL),
    "GET /api/v1/uniforms/stock-levels": Api("200 ADM LEAD INS; 403 *"),
    "GET /api/v1/uniforms/requisitions": Api(ALL),
    "POST /api/v1/uniforms/requisitions": Api(allow="", body=None),
    # U2.2: she, her department head, CS1's supervisor, admin staff and the read-all roles; not her team
    # lead (weekly evaluations only), not HR (evaluation data), not the system admin.
    "GET /api/v1/uniforms/requisitions/{number}": Api("404 TL HR SYS OUT; 200 *",
                                                      lambda f: {"number": f.requisition.number}),
    "GET /api/v1/uniforms/issuances": Api(ALL),
    # As its page (uniforms:issuance_detail).
    "GET /api/v1/uniforms/issuances/{number}": Api("404 TL HR SYS OUT; 200 *", lambda f: {"number": f.issuance.number}),
    "GET /api/v1/procurement/suppliers": Api(PROCUREMENT),
    "GET /api/v1/procurement/suppliers/{code}": Api(PROCUREMENT, lambda f: {"code": f.supplier.code}),
    "GET /api/v1/procurement/plans": Api(PROCUREMENT),
    "GET /api/v1/procurement/plans/{number}": Api(PROCUREMENT, lambda f: {"number": f.plan.number}),
    "GET /api/v1/procurement/orders": Api(PROCUREMENT),
    "GET /api/v1/procurement/orders/{number}": Api(PROCUREMENT, lambda f: {"number": f.order.number}),
    "GET /api/v1/procurement/receipts": Api(PROCUREMENT),
    "GET /api/v1/procurement/receipts/{number}": Api(PROCUREMENT, lambda f: {"number": f.receipt.number}),
    # Published results: each reads those in scope (the outsider CS2's, here none); HR, leadership,
    # inspectors all. The team lead, admin clerk and system admin have no annual role.
    "GET /api/v1/annual/{year}/results": Api("404 TL ADM SYS; 200 *", year),
    "GET /api/v1/annual/{year}/pay": Api("200 HR; 403 *", year),
    "POST /api/v1/hr-sync": Api(allow=PEOPLE_WRITERS, body=None),
    "GET /api/v1/payroll/{month}": Api("200 HR; 403 *", lambda f: {"month": "2026-10"}),
})

API_PAGES = {"api:openapi-json", "api:openapi-view", "api:api-root"}
PAGES.update({
    "api:openapi-json": Page(ALL, anon=401),
    "api:openapi-view": Page(ALL),
    "api:api-root": Page("404 *", anon=404),
})
