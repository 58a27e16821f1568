"""The stock ledger (DESIGN.md "Stock", U1.1 unit cost): moves, on-hand, moving average, alerts."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import django as hypothesis_django

from kefu.core.models import AuditEntry, Notification
from kefu.core.registry import workbench
from kefu.uniforms import services
from kefu.uniforms.models import Sku, StockLevel, StockMove
from kefu.uniforms.testing import UniformsTestCase


def on_hand(sku, location) -> int:
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first() or 0


class MovingAverageTests(UniformsTestCase):
    def cost(self, sku) -> Decimal:
        return Sku.objects.get(pk=sku.pk).unit_cost

    def test_moving_average_worked_by_hand(self):
        self.receive(self.top_m, 10, "50.00")
        self.assertEqual(self.cost(self.top_m), Decimal("50.00"))
        # (10 × 50.00 + 5 × 62.00) / 15 = 810 / 15 = 54.00
        self.receive(self.top_m, 5, "62.00")
        self.assertEqual(self.cost(self.top_m), Decimal("54.00"))
        # An issue leaves the average alone and is valued at it: 3 × 54.00 out.
        move = services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=3)
        self.assertEqual((move.quantity, move.unit_cost, move.value), (-3, Decimal("54.00"), Decimal("-162.00")))
        self.assertEqual(self.cost(self.top_m), Decimal("54.00"))
        # (12 × 54.00 + 8 × 57.33) / 20 = (648 + 458.64) / 20 = 55.332 → 55.33
        self.receive(self.top_m, 8, "57.33")
        self.assertEqual(self.cost(self.top_m), Decimal("55.33"))

    def test_half_cent_rounds_up(self):
        self.receive(self.trs_m, 1, "10.00")
        # (10.00 + 10.01) / 2 = 10.005 → 10.01 half up (banker's rounding would give 10.00)
        self.receive(self.trs_m, 1, "10.01")
        self.assertEqual(self.cost(self.trs_m), Decimal("10.01"))

    def test_stock_in_other_locations_counts_for_the_average(self):
        self.receive(self.tie_m, 2, "30.00", location=self.used)
        # (2 × 30.00 + 2 × 40.00) / 4 = 35.00, though MAIN itself held nothing before
        self.receive(self.tie_m, 2, "40.00")
        self.assertEqual(self.cost(self.tie_m), Decimal("35.00"))

    def test_after_running_out_the_next_receipt_sets_the_cost(self):
        self.receive(self.top_m, 2, "50.00")
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=2)
        self.receive(self.top_m, 4, "70.00")
        self.assertEqual(self.cost(self.top_m), Decimal("70.00"))

    def test_receipt_cost_must_be_money(self):
        for bad, fragment in (("12.345", "2 decimal places"), ("-1", "zero or more"), ("abc", "12.50")):
            with self.assertRaises(ValidationError) as ctx:
                self.receive(self.top_m, 1, bad)
            self.assertIn("unit_cost", ctx.exception.message_dict)
            self.assertIn(fragment, ctx.exception.message_dict["unit_cost"][0])
        self.assertEqual(StockMove.objects.count(), 0)


class LedgerTests(UniformsTestCase):
    def test_an_issue_beyond_on_hand_is_refused_and_names_the_sku(self):
        self.receive(self.top_m, 2, "50.00")
        moves, audits = StockMove.objects.count(), AuditEntry.objects.count()
        with self.assertRaises(ValidationError) as ctx:
            services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=3)
        message = ctx.exception.message_dict["quantity"][0]
        self.assertIn("TOP-S-M", message)
        self.assertIn("2 on hand, 3 wanted", message)
        self.assertEqual((StockMove.objects.count(), AuditEntry.objects.count()), (moves, audits))
        self.assertEqual(on_hand(self.top_m, self.main), 2)

    def test_moves_are_append_only(self):
        move = self.receive(self.top_m, 1, "50.00")
        move.quantity = 5
        with self.assertRaises(ValidationError):
            move.save()
        with self.assertRaises(ValidationError):
            move.delete()
        self.assertEqual(StockMove.objects.get(pk=move.pk).quantity, 1)

    def test_each_move_is_audited_with_the_on_hand_before_and_after(self):
        move = self.receive(self.top_m, 4, "50.00", reference=("purchase_order", "PO-7"))
        entry = AuditEntry.objects.get(action="stock.receive", object_id=str(move.pk))
        self.assertEqual(entry.changes["on_hand"], [0, 4])
        self.assertEqual(entry.changes["reference"], [None, "purchase_order:PO-7"])
        self.assertEqual((move.reference_type, move.reference_id), ("purchase_order", "PO-7"))

    def test_idempotency_key_gives_one_move(self):
        first = self.receive(self.top_m, 3, "50.00", idempotency_key="rcpt-1")
        again = self.receive(self.top_m, 3, "50.00", idempotency_key="rcpt-1")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(on_hand(self.top_m, self.main), 3)
        with self.assertRaises(ValidationError) as ctx:
            self.receive(self.top_m, 4, "50.00", idempotency_key="rcpt-1")
        self.assertIn("idempotency_key", ctx.exception.message_dict)

    def test_scrap_and_adjust_need_a_reason(self):
        self.receive(self.top_m, 3, "50.00")
        with self.assertRaises(ValidationError) as ctx:
            services.stock_scrap(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=1, reason=" ")
        self.assertIn("reason", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.stock_adjust(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=0, reason="x")
        self.assertIn("quantity", ctx.exception.message_dict)
        services.stock_adjust(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=-2,
                              reason="found damaged in storage")
        self.assertEqual(on_hand(self.top_m, self.main), 1)

    def test_inactive_sku_takes_no_stock_in(self):
        services.sku_update(actor=self.admin_clerk, sku=self.top_m, active=False)
        with self.assertRaises(ValidationError):
            self.receive(Sku.objects.get(pk=self.top_m.pk), 1, "10.00")

    def test_verification_finds_a_tampered_level(self):
        self.receive(self.top_m, 3, "50.00")
        self.assertEqual(services.stock_level_mismatches(), [])
        StockLevel.objects.filter(sku=self.top_m, location=self.main).update(on_hand=7)
        rows = services.stock_level_mismatches()
        self.assertEqual(rows, [{"sku__code": "TOP-S-M", "location__code": "MAIN", "on_hand": 7, "moved": 3}])


class VerifyCommandTests(UniformsTestCase):
    def test_command_passes_then_names_a_tampered_level(self):
        import io

        from django.core.management import CommandError, call_command

        self.receive(self.top_m, 3, "50.00")
        out = io.StringIO()
        call_command("uniforms_stock_verify", stdout=out)
        self.assertIn("match", out.getvalue())
        StockLevel.objects.filter(sku=self.top_m).update(on_hand=2)
        err = io.StringIO()
        with self.assertRaises(CommandError):
            call_command("uniforms_stock_verify", stdout=out, stderr=err)
        self.assertIn("TOP-S-M @ MAIN: level 2, moves add up to 3", err.getvalue())


class LowStockTests(UniformsTestCase):
    def alerts(self) -> int:
        return Notification.objects.filter(recipient=self.admin_clerk, title__contains="TOP-S-M").count()

    def test_alert_once_per_crossing_of_the_reorder_point(self):
        self.receive(self.top_m, 10, "50.00")
        services.sku_update(actor=self.admin_clerk, sku=self.top_m, reorder_point=5)
        self.assertEqual(self.alerts(), 0)
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=4)  # 6 left
        self.assertEqual(self.alerts(), 0)
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=1)  # 5: at the point
        self.assertEqual(self.alerts(), 1)
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=2)  # 3: still low
        self.assertEqual(self.alerts(), 1)
        # Used stock does not count as new stock: a return into USED leaves it low.
        services.stock_return(actor=self.admin_clerk, sku=self.top_m, location=self.used, quantity=5)
        self.assertIsNotNone(Sku.objects.get(pk=self.top_m.pk).low_stock_since)
        self.receive(self.top_m, 10, "50.00")  # 13: above
        self.assertIsNone(Sku.objects.get(pk=self.top_m.pk).low_stock_since)
        services.stock_issue(actor=self.admin_clerk, sku=self.top_m, location=self.main, quantity=9)  # 4: crosses again
        self.assertEqual(self.alerts(), 2)
        self.assertFalse(Notification.objects.filter(recipient=self.agent).exists())

    def test_setting_a_reorder_point_above_on_hand_alerts_at_once(self):
        self.receive(self.top_m, 3, "50.00")
        services.sku_update(actor=self.admin_clerk, sku=self.top_m, reorder_point=3)
        self.assertEqual(self.alerts(), 1)

    def test_workbench_to_do_for_admin_staff_only(self):
        services.sku_update(actor=self.admin_clerk, sku=self.top_m, reorder_point=2)
        self.receive(self.top_m, 1, "50.00")
        titles = [str(t.title) for t in workbench.todos(self.admin_clerk)]
        self.assertIn("Uniform SKUs at or below their reorder point", titles)
        self.assertNotIn("Uniform SKUs at or below their reorder point",
                         [str(t.title) for t in workbench.todos(self.agent)])


# ---- property tests -------------------------------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["receive", "issue", "return", "scrap", "adjust"]),
        st.integers(min_value=0, max_value=1),  # which SKU
        st.integers(min_value=0, max_value=1),  # which location
        st.integers(min_value=-12, max_value=12).filter(bool),
        st.decimals(min_value=0, max_value=300, places=2),
    ),
    min_size=1, max_size=25,
)


class LedgerPropertyTests(UniformsTestCase, hypothesis_django.TestCase):
    @settings(max_examples=60, deadline=None)
    @given(ops)
    def test_on_hand_is_the_sum_of_moves_and_never_negative(self, sequence):
        skus = [self.top_m, self.trs_m]
        locations = [self.main, self.used]
        expected: dict[tuple[int, int], int] = {}
        average = {s.pk: Sku.objects.get(pk=s.pk).unit_cost for s in skus}
        for kind, si, li, qty, cost in sequence:
            sku, location = skus[si], locations[li]
            key = (sku.pk, location.pk)
            have = expected.get(key, 0)
            delta = {"receive": abs(qty), "return": abs(qty), "issue": -abs(qty), "scrap": -abs(qty),
                     "adjust": qty}[kind]
            moves_before = StockMove.objects.count()
            kwargs = {"actor": self.admin_clerk, "sku": sku, "location": location}
            try:
                if kind == "receive":
                    services.stock_receive(quantity=abs(qty), unit_cost=cost, **kwargs)
                elif kind == "issue":
                    services.stock_issue(quantity=abs(qty), **kwargs)
                elif kind == "return":
                    services.stock_return(quantity=abs(qty), **kwargs)
                elif kind == "scrap":
                    services.stock_scrap(quantity=abs(qty), reason="worn", **kwargs)
                else:
                    services.stock_adjust(quantity=qty, reason="count", **kwargs)
            except ValidationError:
                # Refused exactly when it would take on-hand below zero, and then nothing changed.
                self.assertLess(have + delta, 0, (kind, qty, have))
                self.assertEqual(StockMove.objects.count(), moves_before)
            else:
                self.assertGreaterEqual(have + delta, 0)
                if kind == "receive":
                    total = sum(v for (s, _l), v in expected.items() if s == sku.pk)
                    average[sku.pk] = (cost if total == 0 else
                                       ((total * average[sku.pk] + abs(qty) * cost) / (total + abs(qty))
                                        ).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))
                expected[key] = have + delta
            for s in skus:
                self.assertEqual(Sku.objects.get(pk=s.pk).unit_cost, average[s.pk])
        levels = {(lv.sku_id, lv.location_id): lv.on_hand for lv in StockLevel.objects.all()}
        for key in set(levels) | set(expected):
            self.assertEqual(levels.get(key, 0), expected.get(key, 0))
            moved = StockMove.objects.filter(sku_id=key[0], location_id=key[1]).aggregate(t=Sum("quantity"))["t"]
            self.assertEqual(moved or 0, levels.get(key, 0))
        self.assertFalse(StockLevel.objects.filter(on_hand__lt=0).exists())
        self.assertFalse(StockMove.objects.filter(on_hand_after__lt=0).exists())
        self.assertEqual(services.stock_level_mismatches(), [])
