"""Inspection plans (policy S2): what is checked, how, when, by whom; the scheduled inspections."""

from __future__ import annotations

import datetime
from io import StringIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from kefu.core.models import AuditEntry, Notification
from kefu.inspections import services
from kefu.inspections.models import ChecklistTemplate, Inspection, InspectionPlan, Method, Recurrence, Topic
from kefu.people.testing import KefuTestCase


class DefaultChecklistTests(KefuTestCase):
    def test_three_s2_topics_seeded_with_clauses(self):
        # policy S2: evaluation process followed, results fair, uniform management by the rules.
        templates = {t.topic: t for t in ChecklistTemplate.objects.prefetch_related("items")}
        self.assertEqual(set(templates), {Topic.PROCESS, Topic.FAIRNESS, Topic.UNIFORMS})
        for template in templates.values():
            items = list(template.items.all())
            self.assertTrue(6 <= len(items) <= 8, template.name)
            self.assertTrue(all(item.clause for item in items))
        self.assertIn("U2.2", [i.clause for i in templates[Topic.UNIFORMS].items.all()])
        self.assertIn("E2.1", [i.clause for i in templates[Topic.PROCESS].items.all()])

    def test_ensure_default_templates_seeds_only_what_is_missing(self):
        ChecklistTemplate.objects.filter(topic=Topic.FAIRNESS).delete()
        services.ensure_default_templates()
        services.ensure_default_templates()
        self.assertEqual(ChecklistTemplate.objects.count(), 3)
        self.assertEqual(ChecklistTemplate.objects.get(topic=Topic.FAIRNESS).items.count(), 7)


class PlanServiceTests(KefuTestCase):
    def plan(self, **kwargs) -> InspectionPlan:
        args = dict(actor=self.inspector, title="每月考評流程檢查", topic=Topic.PROCESS, recurrence=Recurrence.MONTHLY,
                    methods=[Method.SAMPLING, Method.DOCUMENT_REVIEW], org_unit=self.cs1,
                    sample_sizes={"weekly_evaluation": 5}, inspectors=[self.inspector])
        args.update(kwargs)
        return services.plan_create(**args)

    def test_a_plan_takes_the_topics_template_when_no_items_are_typed(self):
        plan = self.plan()
        template = ChecklistTemplate.objects.get(topic=Topic.PROCESS)
        self.assertEqual([(i.text, i.clause) for i in plan.items.order_by("order")],
                         [(i.text, i.clause) for i in template.items.order_by("order")])
        self.assertEqual(plan.methods, ["document_review", "sampling"])  # Method's order
        self.assertEqual(list(plan.inspectors.all()), [self.inspector])
        self.assertTrue(AuditEntry.objects.filter(action="inspection_plan.create", object_id=str(plan.pk)).exists())

    def test_typed_items_win_over_the_template(self):
        plan = self.plan(items=["制服發放記錄齊全 | U2.2", ("庫存盤點相符", "U1.2"), "  ", {"text": "面談", "clause": ""}])
        self.assertEqual([(i.order, i.text, i.clause) for i in plan.items.order_by("order")],
                         [(1, "制服發放記錄齊全", "U2.2"), (2, "庫存盤點相符", "U1.2"), (3, "面談", "")])

    def test_validation(self):
        with self.assertRaises(ValidationError) as ctx:
            self.plan(methods=[])
        self.assertIn("methods", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.plan(sample_sizes={"weekly_evaluation": -1})
        self.assertIn("sample_sizes", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.plan(inspectors=[self.hr])  # HR is not in the supervision group
        self.assertIn("inspectors", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.plan(recurrence="weekly")
        self.assertIn("recurrence", ctx.exception.message_dict)
        self.assertFalse(InspectionPlan.objects.exists())

    def test_only_inspectors_plan(self):
        # policy S1: the group plans; HR and leadership only read.
        for user in (self.hr, self.leadership, self.supervisor):
            with self.assertRaises(PermissionDenied):
                self.plan(actor=user)

    def test_update_replaces_the_checklist_and_keeps_made_inspections(self):
        plan = self.plan(items=["甲 | E2.1"])
        inspection = services.inspection_create(actor=self.inspector, plan=plan, period_start=datetime.date(2026, 10, 1),
                                                period_end=datetime.date(2026, 10, 31))
        services.plan_update(actor=self.inspector, plan=plan, title="新標題", topic=Topic.FAIRNESS,
                             recurrence=Recurrence.QUARTERLY, methods=[Method.INTERVIEW], org_unit=None,
                             sample_sizes={}, inspectors=[], items=["乙 | E2.2", "丙"], reason="改為每季")
        plan.refresh_from_db()
        self.assertEqual(plan.title, "新標題")
        self.assertEqual([i.text for i in plan.items.order_by("order")], ["乙", "丙"])
        self.assertEqual([i.text for i in inspection.items.all()], ["甲"])
        entry = AuditEntry.objects.get(action="inspection_plan.update")
        self.assertEqual(entry.reason, "改為每季")
        self.assertEqual(entry.changes["title"], ["每月考評流程檢查", "新標題"])


class PlansDueTests(KefuTestCase):
    def setUp(self) -> None:
        self.monthly = services.plan_create(
            actor=self.inspector, title="月檢", topic=Topic.PROCESS, recurrence=Recurrence.MONTHLY,
            methods=[Method.SAMPLING], sample_sizes={"weekly_evaluation": 4}, inspectors=[self.inspector],
            items=["甲 | E2.1", "乙 | E2.2"])
        self.quarterly = services.plan_create(
            actor=self.inspector, title="季檢", topic=Topic.UNIFORMS, recurrence=Recurrence.QUARTERLY,
            methods=[Method.ON_SITE], org_unit=self.admin_dept, inspectors=[])
        self.unannounced = services.plan_create(
            actor=self.inspector, title="突擊", topic=Topic.FAIRNESS, recurrence=Recurrence.UNANNOUNCED,
            methods=[Method.INTERVIEW])
        services.plan_create(actor=self.inspector, title="停用", topic=Topic.PROCESS, recurrence=Recurrence.MONTHLY,
                             methods=[Method.INTERVIEW], active=False)

    def test_period_due(self):
        # The November run reviews October; Q4's run reviews Q3; January's reviews December / Q4 of last year.
        self.assertEqual(services.period_due(Recurrence.MONTHLY, datetime.date(2026, 11, 27)),
                         (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31), "2026-10"))
        self.assertEqual(services.period_due(Recurrence.QUARTERLY, datetime.date(2026, 11, 27)),
                         (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30), "2026-Q3"))
        self.assertEqual(services.period_due(Recurrence.MONTHLY, datetime.date(2027, 1, 2)),
                         (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31), "2026-12"))
        self.assertEqual(services.period_due(Recurrence.QUARTERLY, datetime.date(2027, 2, 15)),
                         (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31), "2026-Q4"))
        self.assertEqual(services.period_due(Recurrence.MONTHLY, datetime.date(2026, 3, 1)),
                         (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28), "2026-02"))

    def test_makes_each_periods_inspection_once(self):
        run = services.plans_due(on=datetime.date(2026, 11, 27))
        self.assertEqual((run.plans, run.created, run.existing), (2, 2, 0))
        monthly = Inspection.objects.get(plan=self.monthly)
        self.assertEqual((monthly.title, monthly.kind, monthly.status), ("月檢 2026-10", "scheduled", "planned"))
        self.assertEqual((monthly.period_start, monthly.period_end),
                         (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)))
        self.assertEqual([(i.text, i.clause) for i in monthly.items.all()], [("甲", "E2.1"), ("乙", "E2.2")])
        self.assertEqual(monthly.sample_sizes, {"weekly_evaluation": 4})
        self.assertEqual(monthly.lead_inspector, self.inspector)
        quarterly = Inspection.objects.get(plan=self.quarterly)
        self.assertEqual(quarterly.org_unit, self.admin_dept)
        self.assertEqual(quarterly.lead_inspector, self.inspector)  # nobody named: the plan's author
        self.assertEqual(Notification.objects.filter(recipient=self.inspector, title__contains="月檢").count(), 1)
        # A second run the same month, and one later in the month: nothing new.
        again = services.plans_due(on=datetime.date(2026, 11, 30))
        self.assertEqual((again.created, again.existing), (0, 2))
        self.assertEqual(Inspection.objects.count(), 2)
        # December's run makes November's monthly inspection; the quarter is still Q3's.
        december = services.plans_due(on=datetime.date(2026, 12, 1))
        self.assertEqual((december.created, december.existing), (1, 1))
        self.assertEqual(Inspection.objects.filter(plan=self.monthly).count(), 2)

    def test_the_database_refuses_a_second_inspection_of_a_period(self):
        services.plans_due(on=datetime.date(2026, 11, 27))
        with self.assertRaises(ValidationError):
            services.inspection_create(actor=self.inspector, plan=self.monthly, kind=Inspection.Kind.SCHEDULED,
                                       period_start=datetime.date(2026, 10, 1), period_end=datetime.date(2026, 10, 31))
        # An unannounced one of the same plan and period is fine.
        extra = services.inspection_create(actor=self.inspector, plan=self.monthly, kind=Inspection.Kind.UNANNOUNCED,
                                           period_start=datetime.date(2026, 10, 1),
                                           period_end=datetime.date(2026, 10, 31))
        self.assertEqual(extra.kind, "unannounced")

    def test_the_command(self):
        out = StringIO()
        call_command("inspection_plans_due", "--date", "2026-11-27", stdout=out)
        self.assertIn("2", out.getvalue())
        self.assertEqual(Inspection.objects.count(), 2)
        call_command("inspection_plans_due", "--date", "2026-11-27", stdout=StringIO())
        self.assertEqual(Inspection.objects.count(), 2)


class PlanPageTests(KefuTestCase):
    def test_an_inspector_creates_a_plan_from_the_form(self):
        self.login(self.inspector)
        response = self.client.post(reverse("inspections:plan_new"), {
            "title": "制服季檢", "topic": "uniforms", "methods": ["on_site", "sampling"], "recurrence": "quarterly",
            "org_unit": "", "inspectors": [self.inspector.pk], "template": "", "items": "",
            "size_issuance": "5", "size_sku_count": "10", "active": "on"})
        plan = InspectionPlan.objects.get()
        self.assertRedirects(response, reverse("inspections:plan_detail", args=[plan.pk]))
        self.assertEqual(plan.sample_sizes, {"issuance": 5, "sku_count": 10})
        self.assertEqual(plan.items.count(), ChecklistTemplate.objects.get(topic="uniforms").items.count())
        page = self.client.get(reverse("inspections:plan_detail", args=[plan.pk]))
        self.assertContains(page, "制服季檢")
        self.assertContains(page, "U2.2")
        listing = self.client.get(reverse("inspections:plan_list"))
        self.assertContains(listing, "制服季檢")

    def test_form_errors_are_shown(self):
        self.login(self.inspector)
        response = self.client.post(reverse("inspections:plan_new"), {
            "title": "", "topic": "uniforms", "recurrence": "quarterly", "size_issuance": "500"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(InspectionPlan.objects.exists())
        self.assertContains(response, "invalid-feedback", count=3)  # title, methods, size

    def test_edit(self):
        plan = services.plan_create(actor=self.inspector, title="甲", topic="process", recurrence="monthly",
                                    methods=["interview"], items=["一"])
        self.login(self.inspector)
        response = self.client.get(reverse("inspections:plan_edit", args=[plan.pk]))
        self.assertContains(response, "一")
        response = self.client.post(reverse("inspections:plan_edit", args=[plan.pk]), {
            "title": "乙", "topic": "process", "methods": ["interview"], "recurrence": "monthly",
            "items": "二 | E2.1\n三", "active": "on", "reason": "補充"})
        self.assertRedirects(response, reverse("inspections:plan_detail", args=[plan.pk]))
        self.assertEqual([i.text for i in plan.items.order_by("order")], ["二", "三"])

    def test_the_list_runs_a_bounded_number_of_queries(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def plans(n0, n1):
            for n in range(n0, n1):
                services.plan_create(actor=self.inspector, title=f"計劃{n}", topic="process", recurrence="monthly",
                                     methods=["interview"], inspectors=[self.inspector])

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(reverse("inspections:plan_list")).status_code, 200)
            return len(ctx.captured_queries)

        self.login(self.inspector)
        plans(0, 2)
        few = count()
        plans(2, 8)
        self.assertEqual(count(), few)
        self.assertLessEqual(few, 12)


class GroupPageTests(KefuTestCase):
    def test_members_and_the_sides_not_represented(self):
        # policy S1: people from admin, the CS department and HR. The named company's one inspector is in admin.
        self.login(self.leadership)
        page = self.client.get(reverse("inspections:group"))
        self.assertContains(page, 'data-testid="member-inspector"')
        self.assertContains(page, "趙文華")
        self.assertContains(page, "Administration")
        self.assertContains(page, 'data-testid="group-missing"')
        missing = page.context["group"].missing
        self.assertEqual([str(m) for m in missing], ["Customer service", "HR"])
        from kefu.people.models import Role
        from kefu.people.testing import make_person

        make_person("insp_cs", "客服督導", self.cs1_t1, (Role.INSPECTOR, self.company), employee_no="CS1090")
        make_person("insp_hr", "人資督導", self.hr_dept, (Role.INSPECTOR, self.company), employee_no="HR0090")
        page = self.client.get(reverse("inspections:group"))
        sides = {m.user.username: m.side for m in page.context["group"].members}
        self.assertEqual(sides, {"inspector": "admin", "insp_cs": "cs", "insp_hr": "hr"})
        self.assertNotContains(page, 'data-testid="group-missing"')
        departments = {m.user.username: m.department for m in page.context["group"].members}
        self.assertEqual(departments["insp_cs"], self.cs1)  # a team counts as its department
