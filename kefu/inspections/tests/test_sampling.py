"""The sample draw (issue 8 item 3): reproducible from its stored seed; a new draw needs a reason."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from kefu.core.models import AuditEntry
from kefu.evaluations.models import MonthlyEvaluation, WeeklyEvaluation
from kefu.evaluations.services import scorecard_ensure_default
from kefu.evaluations.tests.monthly_data import weekly
from kefu.inspections import services
from kefu.inspections.models import Inspection, SampleKind, SampleRecord
from kefu.inspections.tests.plans_helpers import running_inspection
from kefu.people.models import Role
from kefu.people.testing import make_person
from kefu.uniforms.models import Issuance, Requisition, ScrapRequest, StockLevel
from kefu.uniforms.testing import UniformsTestCase

S = WeeklyEvaluation.Status
TZ = datetime.timezone(datetime.timedelta(hours=8))


class SampleTestCase(UniformsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        lead = cls.team_lead.employee
        cls.cs1_ids = []
        # October 2026 weeks start on Mondays 5, 12, 19, 26 October (ISO weeks 41-44).
        for emp in (cls.agent.employee, cls.teammate_other_team.employee):
            for week in (41, 42, 43, 44):
                cls.cs1_ids.append(weekly(emp, lead, week, S.SUBMITTED).pk)
        cls.cs2_ids = [weekly(cls.other_agent.employee, lead, week, S.ACKNOWLEDGED).pk for week in (41, 42)]
        weekly(cls.agent.employee, lead, 45, S.SUBMITTED)  # starts 2 November: outside the period
        weekly(cls.agent.employee, lead, 40, S.SUBMITTED)  # starts 28 September: outside
        extra = make_person("agent9", "許靜", cls.cs1_t1, (Role.AGENT, cls.cs1_t1), employee_no="CS1009")
        weekly(extra.employee, lead, 42, S.DRAFT)  # a draft is not a record yet

    def inspection(self, **kwargs) -> Inspection:
        return running_inspection(self.inspector, **kwargs)


class PopulationTests(SampleTestCase):
    def test_weekly_population_is_the_period_and_scope_without_drafts(self):
        cs1 = self.inspection(org_unit=self.cs1)
        ids = sorted(services.population(SampleKind.WEEKLY_EVALUATION, cs1).values_list("pk", flat=True))
        self.assertEqual(ids, sorted(self.cs1_ids))  # 8: two agents × four weeks
        whole = self.inspection()
        ids = sorted(services.population(SampleKind.WEEKLY_EVALUATION, whole).values_list("pk", flat=True))
        self.assertEqual(ids, sorted(self.cs1_ids + self.cs2_ids))  # 10

    def test_monthly_population_counts_the_months_overlapping_the_period(self):
        card = scorecard_ensure_default()
        rows = {}
        for month, status in ((9, "final"), (10, "final"), (10, "draft"), (11, "submitted")):
            emp = self.agent.employee if status != "draft" else self.teammate_other_team.employee
            rows[(month, status)] = MonthlyEvaluation.objects.create(
                agent=emp, year=2026, month=month, scorecard=card, status=status, total=Decimal("80"),
                finalised_at=timezone.now() if status == "final" else None)
        inspection = self.inspection(org_unit=self.cs1)
        ids = list(services.population(SampleKind.MONTHLY_EVALUATION, inspection).values_list("pk", flat=True))
        self.assertEqual(ids, [rows[(10, "final")].pk])

    def test_uniform_records_by_date_and_department(self):
        def at(day):
            return datetime.datetime(2026, 10, day, 9, 0, tzinfo=TZ)

        agent, other = self.agent.employee, self.other_agent.employee
        r_in = Requisition.objects.create(number="RQ-1", employee=agent, filled_by=self.agent, reason="new_hire",
                                          status="submitted", submitted_at=at(3))
        Requisition.objects.create(number="RQ-2", employee=agent, filled_by=self.agent, reason="new_hire",
                                   status="draft")
        Requisition.objects.create(number="RQ-3", employee=other, filled_by=self.other_agent, reason="new_hire",
                                   status="approved", submitted_at=at(4))
        # 1 November 00:30 in Shanghai is still 31 October in UTC: outside the local period.
        Requisition.objects.create(number="RQ-4", employee=agent, filled_by=self.agent, reason="new_hire",
                                   status="submitted",
                                   submitted_at=datetime.datetime(2026, 11, 1, 0, 30, tzinfo=TZ))
        iss = Issuance.objects.create(number="IS-1", requisition=r_in, employee=agent, employee_name="王小美",
                                      department_name="客服一部", location=self.main, issued_by=self.admin_clerk,
                                      issued_at=at(10))
        scrap = ScrapRequest.objects.create(number="SC-1", employee=agent, filled_by=self.agent,
                                            status="submitted", submitted_at=at(20))
        ScrapRequest.objects.create(number="SC-2", employee=agent, filled_by=self.agent, status="draft")
        inspection = self.inspection(org_unit=self.cs1)
        self.assertEqual(list(services.population(SampleKind.REQUISITION, inspection).values_list("number", flat=True)),
                         ["RQ-1"])
        self.assertEqual(list(services.population(SampleKind.ISSUANCE, inspection)), [iss])
        self.assertEqual(list(services.population(SampleKind.SCRAP_REQUEST, inspection)), [scrap])

    def test_skus_for_a_count_are_those_in_stock(self):
        self.receive(self.top_m, 5, "80.00")
        self.receive(self.tie_m, 2, "20.00", location=self.used)
        self.assertEqual(StockLevel.objects.filter(on_hand__gt=0).count(), 2)
        inspection = self.inspection()
        self.assertEqual(sorted(services.population(SampleKind.SKU_COUNT, inspection).values_list("code", flat=True)),
                         ["TIE-M", "TOP-S-M"])


class DrawTests(SampleTestCase):
    def drawn(self, inspection) -> list[int]:
        return list(SampleRecord.objects.filter(inspection=inspection, kind=SampleKind.WEEKLY_EVALUATION)
                    .order_by("order").values_list("object_id", flat=True))

    def test_the_draw_follows_the_documented_rule(self):
        # random.Random(f"{seed}:{kind}").sample(ids in ascending order, n)
        inspection = self.inspection(org_unit=self.cs1)
        services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 3}, seed=12345)
        expected = random.Random("12345:weekly_evaluation").sample(sorted(self.cs1_ids), 3)
        self.assertEqual(self.drawn(inspection), expected)
        inspection.refresh_from_db()
        self.assertEqual(inspection.seed, 12345)
        self.assertEqual(inspection.sample_sizes, {"weekly_evaluation": 3})
        labels = list(inspection.samples.values_list("label", flat=True))
        self.assertTrue(all("2026-W4" in label for label in labels), labels)

    def test_the_same_seed_repeats_the_draw_and_another_differs(self):
        first = self.inspection(org_unit=self.cs1)
        services.sample_draw(actor=self.inspector, inspection=first, sizes={"weekly_evaluation": 4}, seed=777)
        rows = self.drawn(first)
        self.assertEqual(len(rows), 4)
        # Drawn again with the stored seed (no seed given): the same rows, no reason needed.
        services.sample_draw(actor=self.inspector, inspection=first, sizes=None)
        self.assertEqual(self.drawn(first), rows)
        self.assertTrue(services.sample_matches_seed(first))
        self.assertEqual(AuditEntry.objects.filter(action="inspection.sample_repeat").count(), 1)
        # Another inspection of the same records with the same seed: the same rows.
        second = self.inspection(org_unit=self.cs1)
        services.sample_draw(actor=self.inspector, inspection=second, sizes={"weekly_evaluation": 4}, seed=777)
        self.assertEqual(self.drawn(second), rows)
        # Another seed: another sample (seeds 777 and 778 pick different sets of 4 out of 8).
        third = self.inspection(org_unit=self.cs1)
        services.sample_draw(actor=self.inspector, inspection=third, sizes={"weekly_evaluation": 4}, seed=778)
        self.assertNotEqual(sorted(self.drawn(third)), sorted(rows))

    def test_a_new_draw_needs_a_reason_and_is_audited(self):
        inspection = self.inspection(org_unit=self.cs1)
        services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 3}, seed=5)
        before = self.drawn(inspection)
        with self.assertRaises(ValidationError) as ctx:
            services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 3}, seed=6)
        self.assertIn("reason", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 5})
        self.assertEqual(self.drawn(inspection), before)  # nothing changed
        services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 3}, seed=6,
                             reason="第一次抽樣漏了二組")
        entry = AuditEntry.objects.filter(action="inspection.sample_redraw").get()
        self.assertEqual(entry.reason, "第一次抽樣漏了二組")
        self.assertEqual(entry.changes["seed"], [5, 6])
        inspection.refresh_from_db()
        self.assertEqual(inspection.seed, 6)
        self.assertEqual(self.drawn(inspection), random.Random("6:weekly_evaluation").sample(sorted(self.cs1_ids), 3))
        # A fresh random seed: also a new draw, stored so it can be repeated.
        services.sample_draw(actor=self.inspector, inspection=inspection, sizes=None, fresh=True, reason="重抽")
        inspection.refresh_from_db()
        self.assertNotEqual(inspection.seed, 6)
        self.assertTrue(services.sample_matches_seed(inspection))

    def test_a_sample_larger_than_the_records_takes_them_all(self):
        inspection = self.inspection(org_unit=self.cs2)
        records = services.sample_draw(actor=self.inspector, inspection=inspection,
                                       sizes={"weekly_evaluation": 50, "issuance": 3}, seed=1)
        self.assertEqual(sorted(r.object_id for r in records), sorted(self.cs2_ids))

    def test_several_kinds_are_drawn_independently(self):
        self.receive(self.top_m, 5, "80.00")
        self.receive(self.trs_m, 5, "80.00")
        self.receive(self.tie_m, 5, "20.00")
        inspection = self.inspection()
        services.sample_draw(actor=self.inspector, inspection=inspection,
                             sizes={"weekly_evaluation": 2, "sku_count": 2}, seed=99)
        kinds = list(inspection.samples.order_by("order").values_list("kind", flat=True))
        self.assertEqual(kinds, ["weekly_evaluation", "weekly_evaluation", "sku_count", "sku_count"])
        skus = sorted([self.top_m.pk, self.trs_m.pk, self.tie_m.pk])
        self.assertEqual(list(inspection.samples.filter(kind="sku_count").order_by("order")
                              .values_list("object_id", flat=True)),
                         random.Random("99:sku_count").sample(skus, 2))

    def test_draws_only_while_running_and_only_by_inspectors(self):
        from django.core.exceptions import PermissionDenied

        inspection = self.inspection()
        with self.assertRaises(PermissionDenied):
            services.sample_draw(actor=self.hr, inspection=inspection, sizes=None)
        with self.assertRaises(ValidationError) as ctx:
            services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"weekly_evaluation": 300})
        self.assertIn("sample_sizes", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            services.sample_draw(actor=self.inspector, inspection=inspection, sizes={"nonsense": 3})
        planned = services.inspection_create(
            actor=self.inspector, title="x", topic="process", methods=["sampling"], period_start=timezone.localdate(),
            period_end=timezone.localdate(), items=[("a", "")])
        with self.assertRaises(ValidationError):
            services.sample_draw(actor=self.inspector, inspection=planned, sizes={"weekly_evaluation": 1})
