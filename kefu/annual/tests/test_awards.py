"""Awards and promotion priority (policy E3.2): eligibility, the service-star ranking, quotas, the
approval flow, double submits, certificate numbers and PDF, the promotion list.

The published 2026 cycle (results written as setup data; the cycle flow is tested in test_services),
with the quota set to 1 outstanding and 2 service stars:

| person          | unit   | grade     | composite | satisfaction | ratings | monthly mean |
| 王小美 CS1001    | CS1-T1 | excellent | 93.00     | 90.00        | 10      | 80.00        |
| 林雅婷 CS1005    | CS1-T2 | excellent | 91.00     | 90.00        | 4       | 85.00        |
| 鄭惠如 CS2002    | CS2-T1 | good      | 85.00     | 95.00        | 3       | 70.00        |
| P1              | CS2-T1 | good      | 84.00     | 90.00        | 2       | 80.00        |
| P2              | CS1-T1 | pass      | 70.00     | 50.00        | 6       | 99.00        |
| P3              | CS1-T1 | excellent | 95.00     | — (no answers)       | 90.00        |
| P4              | CS1-T1 | not rated |           | 99.00        | 5       |              |

Service-star ranking by hand — satisfaction first, then the monthly mean, ties share a rank:
  1 鄭惠如 (95.00) · 2 林雅婷 (90.00, 85.00) · 3 王小美 (90.00, 80.00) · 3 P1 (90.00, 80.00) · 5 P2 (50.00).
  P3 has no survey answers and P4 is not rated: neither is ranked.
Outstanding candidates (excellent by composite): 1 P3 (95) · 2 王小美 (93) · 3 林雅婷 (91).
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import TransactionTestCase
from django.utils import timezone

from kefu.annual import awards
from kefu.annual.awards_pdf import certificate
from kefu.annual.models import AnnualCycle, AnnualResult, AwardNomination
from kefu.core.models import AuditEntry, Notification
from kefu.core.pdf import pdf_text
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase, build_company

PUBLISHED = AnnualCycle.Status.PUBLISHED


def person(no: str, unit) -> Employee:
    return Employee.objects.create(employee_no=no, name=f"員工{no}", gender="F", hire_date=datetime.date(2023, 1, 1),
                                   org_unit=unit, status=Employee.Status.ACTIVE)


def make_cycle(year: int, hr, *, status: str = PUBLISHED, quota: dict | None = None) -> AnnualCycle:
    from kefu.annual import services

    params = services.parameters_for(year)
    if quota is not None:
        params["award_quota"] = quota
    return AnnualCycle.objects.create(year=year, status=status, opened_by=hr, parameters=params,
                                      published_at=timezone.now() if status == PUBLISHED else None)


def make_result(cycle: AnnualCycle, employee: Employee, grade: str | None, composite: str = "80", *,
                sat: str | None = None, ratings: int = 0, monthly: str = "80") -> AnnualResult:
    if grade is None:
        return AnnualResult.objects.create(cycle=cycle, employee=employee, rated=False, final_months=2,
                                           not_rated_reason="2 final monthly evaluations; 6 needed.",
                                           rating_count=ratings, satisfaction_score=Decimal(sat) if sat else None)
    return AnnualResult.objects.create(
        cycle=cycle, employee=employee, rated=True, final_months=12, monthly_mean=Decimal(monthly),
        composite=Decimal(composite), proposed_grade=grade, final_grade=grade, rating_count=ratings,
        rating_mean=(Decimal(sat) / 25 + 1).quantize(Decimal("0.01")) if sat else None,
        satisfaction_score=Decimal(sat) if sat else None)


class AwardTestCase(KefuTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.cycle = make_cycle(2026, cls.hr, quota={"outstanding": "1", "service_star": "2"})
        c = cls.cycle
        cls.me = make_result(c, cls.agent.employee, "excellent", "93", sat="90", ratings=10, monthly="80")
        cls.mate = make_result(c, cls.teammate_other_team.employee, "excellent", "91", sat="90", ratings=4,
                               monthly="85")
        cls.her = make_result(c, cls.other_agent.employee, "good", "85", sat="95", ratings=3, monthly="70")
        cls.p1 = make_result(c, person("P1", cls.cs2_t1), "good", "84", sat="90", ratings=2, monthly="80")
        cls.p2 = make_result(c, person("P2", cls.cs1_t1), "pass", "70", sat="50", ratings=6, monthly="99")
        cls.p3 = make_result(c, person("P3", cls.cs1_t1), "excellent", "95", monthly="90")
        cls.p4 = make_result(c, person("P4", cls.cs1_t1), None, sat="99", ratings=5)

    def nominate(self, result: AnnualResult, kind: str = "outstanding", reason: str = "Best of the year"):
        return awards.nomination_create(actor=self.hr, cycle=self.cycle, kind=kind, result=result, reason=reason)


class RankingTests(AwardTestCase):
    def test_service_star_ranking_worked_by_hand(self):
        ranking = awards.service_star_ranking(self.cycle, self.hr)
        self.assertEqual([(c.rank, c.result.employee.employee_no) for c in ranking],
                         [(1, "CS2002"), (2, "CS1005"), (3, "CS1001"), (3, "P1"), (5, "P2")])

    def test_outstanding_candidates(self):
        self.assertEqual([(c.rank, c.result.employee.employee_no)
                          for c in awards.outstanding_candidates(self.cycle, self.hr)],
                         [(1, "P3"), (2, "CS1001"), (3, "CS1005")])

    def test_scope(self):
        # CS2's supervisor ranks only her department: 鄭惠如 first, P1 second (the others are CS1).
        self.assertEqual([(c.rank, c.result.employee.employee_no)
                          for c in awards.service_star_ranking(self.cycle, self.outsider)],
                         [(1, "CS2002"), (2, "P1")])
        # The agent's own published result is all she sees (the pages are not hers: test_awards_views).
        self.assertEqual([c.result.employee.employee_no for c in awards.service_star_ranking(self.cycle, self.agent)],
                         ["CS1001"])


class EligibilityTests(AwardTestCase):
    def test_outstanding_only_from_excellent(self):
        n = self.nominate(self.me)
        self.assertEqual((n.status, n.kind, n.certificate_no), ("nominated", "outstanding", ""))
        with self.assertRaises(ValidationError) as e:
            self.nominate(self.her)  # good
        self.assertIn("excellent staff only", str(e.exception))
        self.assertTrue(AuditEntry.objects.filter(action="award_nomination.create").exists())

    def test_service_star_needs_ratings(self):
        self.nominate(self.p2, "service_star")  # a pass grade with answers may be a service star
        with self.assertRaises(ValidationError) as e:
            self.nominate(self.p3, "service_star")
        self.assertIn("no survey answers", str(e.exception))

    def test_not_rated_wrong_cycle_no_reason_bad_kind(self):
        with self.assertRaises(ValidationError):
            self.nominate(self.p4, "service_star")
        with self.assertRaises(ValidationError) as e:
            self.nominate(self.me, reason="  ")
        self.assertIn("reason", str(e.exception))
        with self.assertRaises(ValidationError):
            self.nominate(self.me, kind="employee_of_the_month")
        other = make_cycle(2025, self.hr)
        with self.assertRaises(ValidationError) as e:
            awards.nomination_create(actor=self.hr, cycle=other, kind="outstanding", result=self.me, reason="x")
        self.assertIn("not in the 2025 cycle", str(e.exception))

    def test_only_hr_and_only_published(self):
        for user in (self.leadership, self.supervisor, self.agent, self.inspector):
            with self.assertRaises(PermissionDenied):
                awards.nomination_create(actor=user, cycle=self.cycle, kind="outstanding", result=self.me, reason="x")
        AnnualCycle.objects.filter(pk=self.cycle.pk).update(status=AnnualCycle.Status.APPROVED)
        with self.assertRaises(ValidationError) as e:
            self.nominate(self.me)
        self.assertIn("once the 2026 results are published", str(e.exception))

    def test_double_submit_nominates_once(self):
        self.nominate(self.me)
        with self.assertRaises(ValidationError) as e:
            self.nominate(self.me)
        self.assertIn("already nominated", str(e.exception))
        self.assertEqual(AwardNomination.objects.count(), 1)
        self.nominate(self.me, "service_star")  # another award for the same person is allowed
        self.assertEqual(AwardNomination.objects.count(), 2)


class DecisionTests(AwardTestCase):
    def test_approve_gives_certificate_numbers_in_order_and_notifies(self):
        a, b = self.nominate(self.her, "service_star"), self.nominate(self.mate, "service_star")
        awards.nomination_decide(actor=self.leadership, nomination=b, approve=True)
        awards.nomination_decide(actor=self.leadership, nomination=a, approve=True, note="Customers love her")
        a.refresh_from_db()
        b.refresh_from_db()
        self.assertEqual((b.status, b.certificate_no, b.decided_by), ("approved", "2026-STAR-001", self.leadership))
        self.assertEqual((a.certificate_no, a.decision_note), ("2026-STAR-002", "Customers love her"))
        self.assertEqual(awards.approved_counts(self.cycle), {"service_star": 2})
        self.assertTrue(Notification.objects.filter(recipient=self.other_agent, title__contains="Service Star").exists())
        self.assertEqual(Notification.objects.filter(recipient=self.hr).count(), 2)
        self.assertTrue(AuditEntry.objects.filter(action="award_nomination.approve").count() == 2)

    def test_quota_is_never_exceeded(self):
        first, second = self.nominate(self.me), self.nominate(self.mate)
        awards.nomination_decide(actor=self.leadership, nomination=first, approve=True)
        with self.assertRaises(ValidationError) as e:
            awards.nomination_decide(actor=self.leadership, nomination=second, approve=True)
        self.assertIn("quota for 2026 is 1 and 1 are already approved", str(e.exception))
        second.refresh_from_db()
        self.assertEqual((second.status, second.certificate_no), ("nominated", ""))
        # Rejecting stays possible, with a reason.
        with self.assertRaises(ValidationError):
            awards.nomination_decide(actor=self.leadership, nomination=second, approve=False, note="")
        awards.nomination_decide(actor=self.leadership, nomination=second, approve=False, note="Quota reached")
        second.refresh_from_db()
        self.assertEqual((second.status, second.decision_note), ("rejected", "Quota reached"))
        self.assertEqual(AwardNomination.objects.filter(status="approved").count(), 1)

    def test_quota_falls_back_to_the_parameter(self):
        old = make_cycle(2024, self.hr)
        old.parameters.pop("award_quota")
        self.assertEqual((awards.quota(old, "outstanding"), awards.quota(old, "service_star")), (3, 5))
        self.assertEqual(awards.quota(self.cycle, "outstanding"), 1)

    def test_double_decision_takes_effect_once(self):
        n = self.nominate(self.me)
        awards.nomination_decide(actor=self.leadership, nomination=n, approve=True)
        with self.assertRaises(ValidationError) as e:
            awards.nomination_decide(actor=self.leadership, nomination=n, approve=True)
        self.assertIn("already Approved", str(e.exception))
        with self.assertRaises(ValidationError):
            awards.nomination_decide(actor=self.leadership, nomination=n, approve=False, note="changed my mind")
        n.refresh_from_db()
        self.assertEqual((n.status, n.certificate_no), ("approved", "2026-OUT-001"))
        self.assertEqual(AuditEntry.objects.filter(action="award_nomination.approve").count(), 1)

    def test_only_leadership_decides(self):
        n = self.nominate(self.me)
        for user in (self.hr, self.supervisor, self.inspector, self.agent):
            with self.assertRaises(PermissionDenied):
                awards.nomination_decide(actor=user, nomination=n, approve=True)

    def test_todo_counts_pending(self):
        self.nominate(self.me)
        self.nominate(self.her, "service_star")
        self.assertEqual(awards.nominations_to_decide(self.leadership), [(2026, 2)])
        self.assertEqual(awards.nominations_to_decide(self.hr), [])


class CertificateTests(AwardTestCase):
    def test_pdf_holds_name_award_year_number_date_company(self):
        n = self.nominate(self.me)
        n = awards.nomination_decide(actor=self.leadership, nomination=n, approve=True)
        AwardNomination.objects.filter(pk=n.pk).update(
            decided_at=datetime.datetime(2027, 1, 15, 17, 30, tzinfo=datetime.UTC))  # 16 Jan 01:30 in Shanghai
        n = AwardNomination.objects.select_related("cycle", "result__employee").get(pk=n.pk)
        data = certificate(n, language="zh-hant")
        self.assertTrue(data.startswith(b"%PDF"))
        text = pdf_text(data)
        for expected in ("王小美", "2026", "2026-OUT-001", "2027-01-16", "客服示範公司"):
            self.assertIn(expected, text)
        self.assertIn("/MediaBox [0 0 841.89 595.28]", data.decode("latin-1"))  # A4 landscape, in points
        english = pdf_text(certificate(n, language="en"))
        self.assertIn("Annual Outstanding CS Award", english)
        self.assertIn("Certificate no. 2026-OUT-001", english)


class PromotionTests(AwardTestCase):
    def test_excellent_by_composite_with_years_and_department(self):
        c25 = make_cycle(2025, self.hr)
        make_result(c25, self.agent.employee, "excellent", "91")
        make_result(c25, self.teammate_other_team.employee, "good", "85")
        c24 = make_cycle(2024, self.hr, status=AnnualCycle.Status.CALIBRATING)  # not published: not counted
        make_result(c24, self.agent.employee, "excellent", "95")
        rows = awards.promotion_list(self.cycle, self.hr)
        self.assertEqual([(r.rank, r.result.employee.employee_no, r.department.code, r.years_excellent)
                          for r in rows],
                         [(1, "P3", "CS1", [2026]), (2, "CS1001", "CS1", [2025, 2026]), (3, "CS1005", "CS1", [2026])])
        # The 2025 list counts the years up to 2025 only.
        self.assertEqual([(r.result.employee.employee_no, r.years_excellent) for r in awards.promotion_list(c25, self.hr)],
                         [("CS1001", [2025])])
        self.assertEqual(awards.promotion_list(c24, self.hr), [])
        self.assertEqual(awards.promotion_list(self.cycle, self.outsider), [])  # CS2 has nobody excellent
        self.assertEqual(awards.promotion_rows(rows)[1],
                         [2, "CS1001", "王小美", "客服一部", "一部一組", 93.0, "Excellent", 2, "2025, 2026"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrent requests: PostgreSQL")
class ConcurrentApprovalTests(TransactionTestCase):
    def test_two_approvals_at_once_never_exceed_the_quota(self):
        c = build_company()
        cycle = make_cycle(2026, c.hr, quota={"outstanding": "1", "service_star": "5"})
        a = make_result(cycle, c.agent.employee, "excellent", "95")
        b = make_result(cycle, c.teammate_other_team.employee, "excellent", "94")
        nominations = [awards.nomination_create(actor=c.hr, cycle=cycle, kind="outstanding", result=r, reason="x")
                       for r in (a, b)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def work(nomination):
            try:
                barrier.wait()
                awards.nomination_decide(actor=c.leadership, nomination=nomination, approve=True)
                outcomes.append("approved")
            except ValidationError as e:
                outcomes.append("refused: " + " ".join(e.messages))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, args=(n,)) for n in nominations]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(o.split(":")[0] for o in outcomes), ["approved", "refused"])
        self.assertEqual(list(AwardNomination.objects.filter(status="approved").values_list("certificate_no", flat=True)),
                         ["2026-OUT-001"])
