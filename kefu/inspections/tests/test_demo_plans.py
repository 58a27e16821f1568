"""The inspections demo step: two plans and a completed inspection with a failed item; idempotent."""

from django.test import TestCase, override_settings

from kefu.core.registry import demo_steps
from kefu.inspections.demo import PROCESS_PLAN, build_inspections_demo
from kefu.inspections.models import Finding, Inspection, InspectionPlan
from kefu.people.demo import build_demo


@override_settings(LANGUAGE_CODE="en")
class InspectionsDemoTests(TestCase):
    def test_plans_and_a_completed_inspection_once(self):
        self.assertIs(demo_steps.steps["inspections"], build_inspections_demo)
        build_demo(agents_per_team=2)
        created = build_inspections_demo()
        self.assertEqual(created, {"inspection plans": 2, "inspections": 1, "inspection findings": 1})
        inspection = Inspection.objects.get()
        self.assertEqual((inspection.status, inspection.plan.title), ("completed", PROCESS_PLAN))
        self.assertEqual(inspection.items.filter(result="fail").count(), 1)
        self.assertEqual(inspection.items.filter(result="").count(), 0)
        self.assertIsNotNone(inspection.seed)
        finding = Finding.objects.get()
        self.assertTrue(finding.org_unit.is_customer_service)
        self.assertEqual(build_inspections_demo(), {"inspection plans": 0, "inspections": 0, "inspection findings": 0})
        self.assertEqual(InspectionPlan.objects.count(), 2)
