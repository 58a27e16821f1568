"""Parallel issues at the last units never oversell (DESIGN.md "Stock": row locks on PostgreSQL).

Each thread has its own database connection and transaction; they start together at a barrier
and hold their transaction open a moment after issuing, so they really overlap.
"""

import threading
import time
from unittest import skipUnless

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.test import TransactionTestCase

from kefu.uniforms import services
from kefu.uniforms.models import Location, Size, Sku, StockLevel, StockMove, Style


@skipUnless(connection.vendor == "postgresql",
            "row locks are a PostgreSQL matter; SQLite serialises every writer on the database file")
class ParallelIssueTests(TransactionTestCase):
    def setUp(self) -> None:
        self.clerk = get_user_model().objects.create_user(username="clerk-cc", password="x")
        style = Style.objects.create(code="CC", name="Concurrency top", item_type="top")
        size = Size.objects.create(code="M")
        self.sku = Sku.objects.create(style=style, size=size, code="CC-M")
        self.loc = Location.objects.create(code="MAIN", name="Main")

    def fire(self, threads: int, quantity: int) -> tuple[int, int, list[BaseException]]:
        start = threading.Barrier(threads)
        lock = threading.Lock()
        done = {"ok": 0, "refused": 0}
        errors: list[BaseException] = []

        def issue(n: int) -> None:
            try:
                start.wait()
                with transaction.atomic():
                    services.stock_issue(actor=self.clerk, sku=Sku.objects.get(pk=self.sku.pk), location=self.loc,
                                         quantity=quantity, reference=("test", n))
                    time.sleep(0.02)
                with lock:
                    done["ok"] += 1
            except ValidationError:
                with lock:
                    done["refused"] += 1
            except BaseException as e:  # deadlocks, integrity errors: reported below
                errors.append(e)
            finally:
                connection.close()

        workers = [threading.Thread(target=issue, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return done["ok"], done["refused"], errors

    def level(self) -> int:
        return StockLevel.objects.get(sku=self.sku, location=self.loc).on_hand

    def test_twelve_parallel_issues_at_the_last_three_units(self):
        services.stock_receive(actor=self.clerk, sku=self.sku, location=self.loc, quantity=3, unit_cost="10.00")
        ok, refused, errors = self.fire(12, 1)
        self.assertEqual(errors, [])
        self.assertEqual((ok, refused), (3, 9))
        self.assertEqual(self.level(), 0)
        self.assertEqual(StockMove.objects.filter(kind="issue").count(), 3)
        self.assertEqual(StockMove.objects.aggregate(t=Sum("quantity"))["t"], 0)
        self.assertEqual(services.stock_level_mismatches(), [])

    def test_parallel_issues_of_two_at_five_units_leave_one(self):
        services.stock_receive(actor=self.clerk, sku=self.sku, location=self.loc, quantity=5, unit_cost="10.00")
        ok, refused, errors = self.fire(8, 2)
        self.assertEqual(errors, [])
        self.assertEqual((ok, refused), (2, 6))
        self.assertEqual(self.level(), 1)
        self.assertEqual(sorted(StockMove.objects.values_list("on_hand_after", flat=True)), [1, 3, 5])

    def test_first_moves_of_a_new_sku_and_location_race_to_create_the_level(self):
        # No StockLevel row exists yet: every thread's get_or_create races; one row results.
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def receive() -> None:
            try:
                start.wait()
                services.stock_receive(actor=self.clerk, sku=Sku.objects.get(pk=self.sku.pk), location=self.loc,
                                       quantity=2, unit_cost="10.00")
            except BaseException as e:
                errors.append(e)
            finally:
                connection.close()

        workers = [threading.Thread(target=receive) for _ in range(6)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(errors, [])
        self.assertEqual(StockLevel.objects.filter(sku=self.sku).count(), 1)
        self.assertEqual(self.level(), 12)


@skipUnless(connection.vendor == "postgresql",
            "row locks are a PostgreSQL matter; SQLite serialises every writer on the database file")
class MultiSkuTransactionsTests(TransactionTestCase):
    """Two services that each move two SKUs, in opposite orders, run together without deadlocking.

    Every move writes an audit entry and the audit head stays locked until commit; without
    ``lock_skus`` taking both SKUs up front, one transaction would hold the head and SKU A
    while the other holds SKU B and waits for the head.
    """

    rounds = 4

    def test_count_approval_and_return_check_in_side_by_side(self):
        from kefu.people.models import Role, RoleAssignment
        from kefu.people.testing import START, build_company
        from kefu.uniforms.models import ReturnLine
        from kefu.uniforms.testing import build_catalogue

        c = build_company()
        cat = build_catalogue(c.admin_clerk)
        clerk2 = get_user_model().objects.create_user(username="clerk2", password="x")
        RoleAssignment.objects.create(user=clerk2, role=Role.ADMIN_STAFF, org_unit=c.company, start_date=START)
        top, trs = cat["sku"]["TOP-S-M"], cat["sku"]["TRS-M"]
        for sku in (top, trs):
            services.stock_receive(actor=c.admin_clerk, sku=sku, location=cat["main"], quantity=50, unit_cost="10.00")
        errors: list[BaseException] = []
        for _round in range(self.rounds):
            count = services.stock_count_create(actor=c.admin_clerk, location=cat["main"])
            counted = {line.pk: line.expected - 1 if line.sku_id in (top.pk, trs.pk) else line.expected
                       for line in count.lines.all()}
            services.stock_count_enter(actor=c.admin_clerk, count=count, counted=counted)
            services.stock_count_submit(actor=c.admin_clerk, count=count)
            held_trs, = services.holding_register(actor=c.admin_clerk, employee=c.agent.employee, sku=trs, quantity=1,
                                                  issued_on=START)
            held_top, = services.holding_register(actor=c.admin_clerk, employee=c.agent.employee, sku=top, quantity=1,
                                                  issued_on=START)
            start = threading.Barrier(2)

            def approve(count=count, start=start) -> None:
                try:
                    start.wait()
                    services.stock_count_approve(actor=clerk2, count=count)
                except BaseException as e:
                    errors.append(e)
                finally:
                    connection.close()

            def check_in(held=(held_trs, held_top), start=start) -> None:
                try:
                    start.wait()
                    services.return_check_in(actor=c.admin_clerk, employee=c.agent.employee, lines=[
                        {"holding": h, "outcome": ReturnLine.Outcome.RESTOCK} for h in held])
                except BaseException as e:
                    errors.append(e)
                finally:
                    connection.close()

            workers = [threading.Thread(target=approve), threading.Thread(target=check_in)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        self.assertEqual(errors, [])
        # Each round: one fewer of each in MAIN (count), one more of each in USED (returns).
        self.assertEqual(StockLevel.objects.get(sku=top, location=cat["main"]).on_hand, 50 - self.rounds)
        self.assertEqual(StockLevel.objects.get(sku=trs, location=cat["used"]).on_hand, self.rounds)
        self.assertEqual(services.stock_level_mismatches(), [])
