"""One object of each kind for the access matrix (test_access_matrix.py), owned by the agent's department
(CS1, team CS1-T1) so that the outsider (CS2's supervisor) finding them answers 404 where it should."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from kefu.core.models import AuditEntry


def build_fixtures(case: Any) -> SimpleNamespace:
    """``case`` is the test class with the named people, the uniforms catalogue and the procurement helpers."""
    f = SimpleNamespace()
    agent = case.agent.employee
    # --- core / people
    f.audit_entry = AuditEntry.objects.order_by("pk").first()
    from kefu.core import policy

    f.policy_key = next(iter(policy.PARAMETERS))
    from kefu.people.models import RoleAssignment

    f.role = RoleAssignment.objects.get(user=case.agent)
    f.employee_no = agent.employee_no
    f.unit = case.cs1_t1
    from kefu.core import services as core_services

    f.api_token = core_services.api_token_create(actor=case.agent, user=case.agent, name="matrix page")[0]

    # --- uniforms
    from kefu.uniforms import services as us

    f.style = case.styles["TOP-S"]
    f.sku = case.top_m
    f.size = case.sizes[1]
    f.location = case.main
    for sku in (case.top_m, case.trs_m, case.tie_m):
        us.stock_receive(actor=case.admin_clerk, sku=sku, location=case.main, quantity=20, unit_cost="50.00")
    from kefu.uniforms.models import Entitlement, Requisition

    us.entitlement_grant(actor=case.hr, employee=agent, reason=Entitlement.Reason.NEW_HIRE,
                         granted_on=datetime.date(2026, 1, 5), sets=2)
    f.requisition = us.requisition_create(actor=case.agent, employee=agent, reason=Requisition.Reason.NEW_HIRE,
                                          lines=[(case.top_m, 1)])
    # A second requisition, approved and issued (U2.2): the issuance, and her holdings for a loss report
    # (assessed her fault: a compensation, U3.2) and a scrap request (U4.2).
    issued = us.requisition_create(actor=case.agent, employee=agent, reason=Requisition.Reason.NEW_HIRE,
                                   lines=[(case.top_m, 1), (case.trs_m, 1)])
    issued = us.requisition_approve(actor=case.dept_head, requisition=issued)
    f.issuance = us.requisition_issue(actor=case.admin_clerk, requisition=issued, location=case.main)
    from kefu.uniforms.models import DamageReport, Holding

    lost, worn = Holding.objects.filter(employee=agent).order_by("pk")[:2]
    f.damage = us.damage_report_create(actor=case.agent, holding=lost, kind=DamageReport.Kind.LOSS,
                                       description="通勤遺失")
    f.damage = us.damage_assess(actor=case.admin_clerk, report=f.damage, cause=DamageReport.Cause.AT_FAULT,
                               notes="未依規定保管")
    f.compensation = f.damage.compensation
    f.scrap = us.scrap_request_create(actor=case.agent, employee=agent, items=[(worn, "褪色破損")], reason="穿舊")
    # A set, a stock count and a disposal record (admin staff's; the record as the disposal form leaves it).
    f.set_def = us.set_definition_save(actor=case.admin_clerk, name="矩陣套裝", gender="F", season="summer",
                                       components=[["top"], ["trousers", "skirt"]])
    f.count = us.stock_count_create(actor=case.admin_clerk, location=case.main)
    from kefu.uniforms.models import DisposalBatch

    f.disposal = DisposalBatch.objects.create(number="DB-MX-0001", disposed_on=datetime.date(2026, 11, 20),
                                              method=DisposalBatch.Method.RECYCLE, performed_by="回收商",
                                              recorded_by=case.admin_clerk)
    # --- procurement
    helper = case.__new__(case)  # the helpers are instance methods; the data they use is on the class
    plan = helper.approved_plan()
    f.plan = plan
    f.plan_line = helper.line(plan, "TOP-S")
    order = helper.issued_order()
    f.order = order
    f.award = order.award
    f.rfq = order.award.rfq
    f.supplier = case.s1
    f.contact = case.s1.contacts.order_by("pk").first()
    f.certificate = case.s1.certificates.get()
    # A posted receipt that rejected two ties: the open supplier issue; then a draft receipt.
    helper.deliver(order, {"TIE-M": {"delivered": 10, "accepted": 8, "style_ok": False, "notes": "款式不符"}})
    from kefu.procurement.models import SupplierIssue

    f.issue = SupplierIssue.objects.get(order=order)
    f.receipt = helper.deliver(order, {"TOP-S-M": 5}, post=False)
    # --- service: her resolved interaction with a live survey link, and the supervisor's import batch
    from kefu.service import services as ss
    from kefu.service import surveys
    from kefu.service.models import ImportBatch
    from kefu.service.tests.builders import interaction, local

    f.interaction = interaction(agent, local(2026, 11, 2, 10), first_response_at=local(2026, 11, 2, 10, 5),
                                resolved_at=local(2026, 11, 2, 11), first_responder=agent, resolver=agent,
                                subject="帳單疑問")
    f.survey_token = surveys.survey_token(surveys.survey_issue(actor=case.agent, interaction=f.interaction))
    f.import_batch = ss.import_batch_start(actor=case.supervisor, via=ImportBatch.Via.UPLOAD, file_name="calls.xlsx")
    ImportBatch.objects.filter(pk=f.import_batch.pk).update(
        status=ImportBatch.Status.REJECTED, rows_total=1, rows_done=1, error_count=1,
        errors=[{"row": 2, "field": "agent", "message": "unknown employee number"}])
    # --- evaluations
    from kefu.evaluations.tests.builders import monthly_draft, submitted_weekly

    f.weekly = submitted_weekly(case.team_lead, agent, 2026, 44)
    # A file on it (core:attachment, evaluations:attachment_remove), stored by the one core service.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.core.attachments import attachments_add

    f.weekly_attachment = attachments_add(actor=case.team_lead, target=f.weekly, kinds=("pdf",), max_bytes=1024,
                                          max_count=10, uploads=[SimpleUploadedFile("note.pdf", b"%PDF-1.4\n")])[0]
    from kefu.evaluations import services as es

    f.monthly = monthly_draft(agent, 2026, 10, supervisor=case.supervisor.employee)
    # As the drafting job leaves it: with the month's facts (the edit page shows them).
    f.monthly = es.monthly_facts_refresh(actor=case.supervisor, evaluation=f.monthly)

    f.scorecard = es.scorecard_ensure_default()
    # September's evaluation, submitted and appealed by her (G3.1): the appeal her department head decides.
    september = es.monthly_submit(actor=case.supervisor,
                                  evaluation=monthly_draft(agent, 2026, 9, supervisor=case.supervisor.employee))
    f.appeal = es.monthly_appeal(actor=case.agent, evaluation=september, reason="效率分數未計入加班")
    # Two calibration sessions by CS1's supervisor, her team lead and herself scoring: one open, one closed.
    evaluators = [case.team_lead.employee, case.supervisor.employee]
    f.calibration = es.calibration_create(actor=case.supervisor, title="十一月校準", scorecard=f.scorecard,
                                          interactions=[f.interaction], evaluators=evaluators)
    f.calibration_closed = es.calibration_close(
        actor=case.supervisor, session=es.calibration_create(actor=case.supervisor, title="十月校準",
                                                             scorecard=f.scorecard, interactions=[f.interaction],
                                                             evaluators=evaluators))
    # --- annual
    from kefu.annual.tests.test_awards import make_cycle, make_result

    f.cycle = make_cycle(2025, case.hr)
    f.year = 2025
    f.result = make_result(f.cycle, agent, "good", "85", sat="80", ratings=3)
    # --- inspections
    from kefu.inspections.tests.builders_rectification import make_finding

    f.finding = make_finding(inspector=case.inspector, unit=case.cs1)
    f.inspection = f.finding.inspection
    f.item = f.finding.item
    # A plan, a rectification she answers for, a compliance run with one hit on her (issue 10: real objects).
    from kefu.inspections import services as ins
    from kefu.inspections.models import ComplianceHit, ComplianceRun, Method, Recurrence, Topic
    from kefu.inspections.rectification import rectification_request

    f.inspection_plan = ins.plan_create(actor=case.inspector, title="考評流程月檢", topic=Topic.PROCESS,
                                        recurrence=Recurrence.MONTHLY, methods=[Method.DOCUMENT_REVIEW],
                                        org_unit=case.cs1)
    # Its own finding: f.finding stays without one (the request form answers for it).
    f.rectification = rectification_request(actor=case.inspector,
                                            finding=make_finding(inspector=case.inspector, unit=case.cs1,
                                                                 title="抽樣證據不全"), responsible=case.agent,
                                            requirement="補齊每週考評證據", deadline=datetime.date(2026, 12, 31))
    f.compliance_run = ComplianceRun.objects.create(started_by=case.inspector, started_at=timezone.now(),
                                                    finished_at=timezone.now(), counts={"weekly_missing": 1})
    f.compliance_hit = ComplianceHit.objects.create(run=f.compliance_run, check_key="weekly_missing", clause="E2.1",
                                                    summary="每週考評逾期", org_unit=case.cs1, employee=agent)
    # --- annual: pay proposal, appeal, award nomination, coaching plan and its HR case (E3.1-E3.3, G3.1)
    from decimal import Decimal

    from kefu.annual.models import AnnualAppeal, AwardKind, AwardNomination, CoachingPlan, HrCase, PayProposal

    f.pay = PayProposal.objects.create(result=f.result, grade="good", pct=Decimal("3.00"))
    f.annual_appeal = AnnualAppeal.objects.create(result=f.result, filed_by=agent, reason="滿意度未計入",
                                                  deadline=timezone.now() + datetime.timedelta(days=7),
                                                  old_grade="good")
    f.nomination = AwardNomination.objects.create(cycle=f.cycle, kind=AwardKind.SERVICE_STAR, result=f.result,
                                                  reason="服務之星", nominated_by=case.supervisor,
                                                  status=AwardNomination.Status.APPROVED, decided_by=case.leadership,
                                                  decided_at=timezone.now(), certificate_no="MX-2025-001")
    f.coaching = CoachingPlan.objects.create(employee=agent, source=CoachingPlan.Source.MONTHLY_LOW,
                                             monthly_evaluation=f.monthly, coach=case.team_lead,
                                             created_by=case.supervisor)
    f.hr_case = HrCase.objects.create(plan=f.coaching)
    # --- integrations: a (disabled) chat bot of CS1 and an HR sync run
    from kefu.integrations import services as integrations
    from kefu.integrations.models import ChatHook, HrSyncRun

    f.hook = integrations.hook_save(actor=case.sysadmin, name="客服一部群", org_unit=case.cs1,
                                   kind=ChatHook.Kind.WECOM, url="https://example.invalid/hook", events=[],
                                   enabled=False)
    f.hr_sync_run = HrSyncRun.objects.create(source=HrSyncRun.Source.API, status=HrSyncRun.Status.DRY_RUN,
                                             file_name="employees.csv", report={}, created_by=case.hr)
    f.now = timezone.now()
    f.today = datetime.date(2026, 11, 27)
    return f
