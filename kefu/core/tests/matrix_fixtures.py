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
    f.receipt = helper.deliver(order, {"TOP-S-M": 5}, post=False)
    # --- evaluations
    from kefu.evaluations.tests.builders import monthly_draft, submitted_weekly

    f.weekly = submitted_weekly(case.team_lead, agent, 2026, 44)
    from kefu.evaluations import services as es

    f.monthly = monthly_draft(agent, 2026, 10, supervisor=case.supervisor.employee)
    # As the drafting job leaves it: with the month's facts (the edit page shows them).
    f.monthly = es.monthly_facts_refresh(actor=case.supervisor, evaluation=f.monthly)

    f.scorecard = es.scorecard_ensure_default()
    # September's evaluation, submitted and appealed by her (G3.1): the appeal her department head decides.
    september = es.monthly_submit(actor=case.supervisor,
                                  evaluation=monthly_draft(agent, 2026, 9, supervisor=case.supervisor.employee))
    f.appeal = es.monthly_appeal(actor=case.agent, evaluation=september, reason="效率分數未計入加班")
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
    f.now = timezone.now()
    f.today = datetime.date(2026, 11, 27)
    return f
