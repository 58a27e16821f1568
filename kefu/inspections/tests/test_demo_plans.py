"""The inspections demo step: two plans and a completed inspection with a failed item; idempotent."""

from django.test import TestCase, override_settings
from django.utils import translation

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

    def test_the_summary_labels_are_in_her_language(self):
        """What seed_demo prints goes through gettext: in Chinese the labels are not the English msgids."""
        from kefu.inspections.compliance import compliance_demo

        with translation.override("zh-hans"):
            labels = set(build_inspections_demo()) | set(compliance_demo())  # an empty company: next to nothing made
            plans, runs = translation.gettext("inspection plans"), translation.gettext("compliance runs")
        self.assertNotEqual(plans, "inspection plans")  # the catalogue translates them
        self.assertNotEqual(runs, "compliance runs")
        self.assertIn(plans, labels)
        self.assertIn(runs, labels)
        self.assertNotIn("inspection plans", labels)
        self.assertNotIn("compliance runs", labels)
