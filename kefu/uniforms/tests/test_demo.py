"""The uniform forms demo step (item 11): a year of requisitions, issues, damage reports, scrap forms
and dress checks, written through the services (the audit log has them all), and idempotent."""

from django.test import TestCase, override_settings

from kefu.core.models import AuditEntry
from kefu.core.registry import demo_steps, workbench
from kefu.people.demo import build_demo
from kefu.uniforms import services
from kefu.uniforms.demo import build_catalogue_demo
from kefu.uniforms.demo_forms import build_forms_demo
from kefu.uniforms.models import (
    Compensation,
    DamageReport,
    DressCheck,
    Holding,
    Issuance,
    IssuanceLine,
    Requisition,
    ScrapRequest,
)


@override_settings(LANGUAGE_CODE="en")
class FormsDemoTests(TestCase):
    def test_a_year_of_forms_once_and_a_second_run_adds_nothing(self):
        steps = list(demo_steps.steps)
        self.assertLess(steps.index("uniforms.catalogue"), steps.index("uniforms.forms"))
        report = build_demo(agents_per_team=3)
        build_catalogue_demo()
        created = build_forms_demo()
        R = Requisition.Status
        reasons = set(Requisition.objects.values_list("reason", flat=True))
        self.assertEqual(reasons, {"new_hire", "renewal", "replacement", "extra"})
        statuses = set(Requisition.objects.values_list("status", flat=True))
        self.assertTrue({R.SUBMITTED, R.APPROVED, R.PARTIALLY_ISSUED, R.RECEIVED} <= statuses, statuses)
        self.assertEqual(created["uniform requisitions"], Requisition.objects.count())
        self.assertEqual(created["issuance records"], Issuance.objects.count())
        # Through the services: each requisition and issuance has its audit entry.
        self.assertEqual(AuditEntry.objects.filter(action="requisition.create").count(), Requisition.objects.count())
        self.assertEqual(AuditEntry.objects.filter(action="issuance.create").count(), Issuance.objects.count())
        # Each piece issued is a holding; the ledger agrees with the stock levels.
        issued = sum(IssuanceLine.objects.values_list("quantity", flat=True))
        self.assertEqual(Holding.objects.filter(issuance_line__isnull=False).count(), issued)
        self.assertEqual(services.stock_level_mismatches(), [])
        # Damage and loss in every state; a compensation on a payroll month and one awaiting the demo agent.
        self.assertEqual(set(DamageReport.objects.values_list("status", flat=True)),
                         {"reported", "assessed", "closed"})
        self.assertEqual(sorted(Compensation.objects.values_list("status", flat=True)), ["exported", "pending"])
        self.assertEqual(Compensation.objects.get(status="pending").employee.user.username, "agent")
        self.assertEqual(set(ScrapRequest.objects.values_list("status", flat=True)),
                         {"disposed", "head_approved", "submitted"})
        self.assertGreater(DressCheck.objects.count(), 20)
        self.assertTrue(DressCheck.objects.filter(wearing=False).exists() or DressCheck.objects.filter(badge=False)
                        .exists())
        # The workbenches have something on them.
        titles = [str(t.title) for t in workbench.todos(report.users["clerk"])]
        for expected in ("Approved uniform requisitions to issue", "Uniform back-orders to issue",
                         "Uniform damage/loss reports to assess", "Uniform scrap forms to review"):
            self.assertIn(expected, titles)
        self.assertIn("Uniform compensation to confirm", [str(t.title) for t in workbench.todos(report.users["agent"])])

        entries = AuditEntry.objects.count()
        self.assertEqual(build_forms_demo(), {})
        self.assertEqual(AuditEntry.objects.count(), entries)
