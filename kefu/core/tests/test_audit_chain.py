"""The audit hash chain and ``manage.py audit_verify`` (DESIGN.md: every write leaves an audit entry)."""

import datetime
import io
import threading
import time
from decimal import Decimal
from unittest import skipUnless

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import TransactionTestCase, override_settings

from kefu.core import audit
from kefu.core.models import AuditChainHead, AuditEntry
from kefu.people.models import OrgUnit
from kefu.people.testing import KefuTestCase


def raw_delete(entry: AuditEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entry.pk])


# The assertions read the English messages; the Chinese ones are checked by the catalogue tests.
@override_settings(LANGUAGE_CODE="en")
class AuditVerifyCommandTests(KefuTestCase):
    def setUp(self):
        self.entries = [
            audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1,
                         changes={"name": [f"old {i}", f"new {i}"]}, reason=f"step {i}")
            for i in range(4)
        ]

    def run_verify(self) -> str:
        out = io.StringIO()
        call_command("audit_verify", stdout=out)
        return out.getvalue()

    def assertBroken(self, *fragments: str) -> str:
        with self.assertRaises(CommandError) as caught:
            self.run_verify()
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message

    def test_untouched_chain_passes_with_count(self):
        self.assertIn("4 audit entries checked: OK", self.run_verify())

    def test_empty_log_passes(self):
        AuditEntry.objects.all()._raw_delete(connection.alias)
        AuditChainHead.objects.all().delete()
        self.assertIn("0 audit entries checked: OK", self.run_verify())

    def test_edited_reason_names_the_entry(self):
        target = self.entries[1]
        AuditEntry.objects.filter(pk=target.pk).update(reason="nothing to see")
        message = self.assertBroken(f"#{target.pk}", "orgunit.update", f"people.orgunit:{self.cs1.pk}", "altered")
        self.assertNotIn(f"#{self.entries[2].pk}", message)

    def test_edited_changes_are_caught(self):
        target = self.entries[2]
        AuditEntry.objects.filter(pk=target.pk).update(changes={"name": ["old 2", "something else"]})
        self.assertBroken(f"#{target.pk}", "altered")

    def test_time_moved_by_one_microsecond_is_caught(self):
        target = self.entries[0]
        AuditEntry.objects.filter(pk=target.pk).update(at=target.at + datetime.timedelta(microseconds=1))
        self.assertBroken(f"#{target.pk}")

    def test_edited_hash_is_caught(self):
        target = self.entries[3]
        AuditEntry.objects.filter(pk=target.pk).update(hash="f" * 64)
        self.assertBroken(f"#{target.pk}", "altered")

    def test_first_of_several_edits_is_named(self):
        AuditEntry.objects.filter(pk__in=[self.entries[1].pk, self.entries[3].pk]).update(reason="x")
        message = self.assertBroken(f"#{self.entries[1].pk}")
        self.assertNotIn(f"#{self.entries[3].pk}", message)

    def test_deleted_middle_entry_is_caught_at_the_next_one(self):
        raw_delete(self.entries[1])
        self.assertBroken(f"#{self.entries[2].pk}", "removed")

    def test_deleted_first_entry_is_caught(self):
        raw_delete(self.entries[0])
        self.assertBroken(f"#{self.entries[1].pk}", "removed")

    def test_deleted_last_entry_is_caught_by_the_head(self):
        raw_delete(self.entries[3])
        self.assertBroken(f"#{self.entries[2].pk}", "removed")

    def test_deleted_last_two_entries_are_caught(self):
        raw_delete(self.entries[3])
        raw_delete(self.entries[2])
        self.assertBroken(f"#{self.entries[1].pk}", "removed")

    def test_all_entries_deleted_is_caught(self):
        AuditEntry.objects.all()._raw_delete(connection.alias)
        self.assertBroken("all were removed")

    def test_deleted_head_row_is_caught(self):
        AuditChainHead.objects.all().delete()
        self.assertBroken("head")

    def test_tampering_then_new_writes_still_names_the_first_break(self):
        raw_delete(self.entries[3])
        later = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs2)
        # The new entry links to the removed one, so the break shows at the new entry.
        self.assertBroken(f"#{later.pk}", "removed")


class AuditRecordTests(KefuTestCase):
    def test_entries_link_to_each_other(self):
        first = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        second = audit.record(actor=None, action="orgunit.update", obj=self.cs2)
        self.assertEqual(first.prev_hash, audit.GENESIS)
        self.assertEqual(second.prev_hash, first.hash)
        self.assertEqual(AuditChainHead.objects.get(pk=1).last_hash, second.hash)
        self.assertEqual(first.actor_repr, "hr")
        self.assertEqual(second.actor_repr, "system")
        self.assertEqual(first.object_id, str(self.cs1.pk))
        self.assertEqual(first.object_type, "people.orgunit")

    def test_awkward_values_hash_the_same_after_the_database_round_trip(self):
        # PostgreSQL's jsonb hands 1e20 back as an integer and -0.0 as 0.0; keys come back reordered.
        changes = {
            "zeta": [1e20, 1.23e25], "alpha": [-0.0, 0.1], "mid": [1.5e-10, 12345678901234567890123],
            "nested": [{"b": 2, "a": [1, "二"]}, None], "money": [Decimal("12.50"), Decimal("-3")],
            "when": [datetime.date(2025, 2, 28), datetime.datetime(2025, 3, 1, 8, 30, 0, 5, tzinfo=datetime.UTC)],
            "flag": [True, False], "nan": [float("nan"), float("inf")],
        }
        entry = audit.record(actor=self.hr, action="test.values", obj=self.cs1, changes=changes, reason="原因 ✓")
        stored = AuditEntry.objects.get(pk=entry.pk)
        self.assertEqual(audit.entry_hash(stored), entry.hash)
        self.assertEqual(stored.changes["money"], ["12.50", "-3"])
        self.assertEqual(stored.changes["when"], ["2025-02-28", "2025-03-01T08:30:00.000005+00:00"])
        self.assertTrue(audit.verify().ok)

    def test_time_keeps_its_microseconds(self):
        entry = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        stored = AuditEntry.objects.get(pk=entry.pk)
        self.assertEqual(stored.at, entry.at)
        self.assertEqual(stored.at.microsecond, entry.at.microsecond)

    def test_hash_ignores_key_order_but_not_values(self):
        entry = audit.record(actor=self.hr, action="x.y", obj=self.cs1, changes={"a": [1, 2], "b": [3, 4]})
        entry.changes = {"b": [3, 4], "a": [1, 2]}
        self.assertEqual(audit.entry_hash(entry), entry.hash)
        entry.changes = {"b": [3, 4], "a": [1, 3]}
        self.assertNotEqual(audit.entry_hash(entry), entry.hash)
        entry.changes = {"b": [3, 4], "a": [1, "2"]}
        self.assertNotEqual(audit.entry_hash(entry), entry.hash)

    def test_entries_cannot_be_changed_or_deleted_through_the_orm(self):
        entry = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        entry.reason = "edited"
        with self.assertRaises(ValidationError):
            entry.save()
        with self.assertRaises(ValidationError):
            entry.delete()
        self.assertEqual(AuditEntry.objects.get(pk=entry.pk).reason, "")

    def test_unsaved_object_is_refused(self):
        with self.assertRaises(ValueError):
            audit.record(actor=self.hr, action="orgunit.delete", obj=OrgUnit(code="X", name="X", kind="team"))
        self.assertFalse(AuditEntry.objects.exists())

    def test_rolled_back_write_leaves_the_chain_intact(self):
        kept = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        with self.assertRaises(RuntimeError), transaction.atomic():
            audit.record(actor=self.hr, action="orgunit.update", obj=self.cs2)
            raise RuntimeError("service failed")
        self.assertEqual(AuditChainHead.objects.get(pk=1).last_hash, kept.hash)
        after = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs2)
        self.assertEqual(after.prev_hash, kept.hash)
        result = audit.verify()
        self.assertEqual((result.checked, result.ok), (2, True))

    def test_entries_for_lists_one_objects_entries_newest_first(self):
        a = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        audit.record(actor=self.hr, action="orgunit.update", obj=self.cs2)
        c = audit.record(actor=self.hr, action="orgunit.update", obj=self.cs1)
        self.assertEqual(list(audit.entries_for(self.cs1)), [c, a])


@skipUnless(connection.vendor == "postgresql", "row locks are a PostgreSQL matter; SQLite serialises writers")
class ConcurrentWritersTests(TransactionTestCase):
    serialized_rollback = True
    writers = 6
    per_writer = 8

    def test_concurrent_writers_build_one_unbroken_chain(self):
        unit = OrgUnit.objects.create(code="CC", name="Concurrency", kind="company", path="/")
        errors: list[BaseException] = []
        start = threading.Barrier(self.writers)

        def write(n: int) -> None:
            try:
                start.wait()
                for i in range(self.per_writer):
                    with transaction.atomic():
                        audit.record(actor=None, action="test.concurrent", obj=unit, reason=f"{n}-{i}")
                        # Hold the transaction open a little so the writers really overlap.
                        time.sleep(0.002)
            except BaseException as e:  # reported below
                errors.append(e)
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(self.writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        result = audit.verify()
        self.assertEqual((result.checked, result.reason), (self.writers * self.per_writer, ""))
        reasons = set(AuditEntry.objects.values_list("reason", flat=True))
        self.assertEqual(len(reasons), self.writers * self.per_writer)
