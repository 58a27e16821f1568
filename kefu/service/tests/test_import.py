"""Importing interactions (issue 3 item 2): upsert by (source, external_id), all or nothing,
every bad row named; CSV in UTF-8 and GBK, XLSX; the command line; SLA computed on the way in
and recomputed when the calendar or a parameter changes."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from kefu.core import services as core_services
from kefu.core.models import AuditEntry
from kefu.core.tabular import ImportRejected
from kefu.people.testing import KefuTestCase
from kefu.service import ingest, services
from kefu.service.models import ImportBatch, Interaction, SlaRecomputeRun

TZ = ZoneInfo("Asia/Shanghai")
HEADER = ",".join(ingest.HEADERS)


def at(y, mo, d, h=0, mi=0):
    return datetime.datetime(y, mo, d, h, mi, tzinfo=TZ)


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


GOOD = [
    # a normal inquiry answered and resolved by the agent
    "cc,A-1,phone,normal,inquiry,C-1,Invoice,2026-03-02 09:15,2026-03-02 10:00,2026-03-03 16:20,CS1001,,,https://cc.example.com/rec/1",
    # an urgent complaint answered by her team lead, resolved by a teammate; times with offsets
    "cc,A-2,chat,urgent,complaint,C-2,Broken,2026-03-02T01:00:00Z,2026-03-02T09:20:00+08:00,2026-03-02 15:00,CS1001,CS1002,CS1005,",
    # still open, Chinese enum values
    "helpdesk,A-3,郵件,一般,諮詢,,,2026/3/4 22:30,,,CS2002,,,",
]


def import_csv(actor, data: bytes, name: str = "interactions.csv", now=None):
    return services.interactions_import_file(actor=actor, handle=io.BytesIO(data), name=name,
                                             via=ImportBatch.Via.COMMAND, now=now)


class ImportTests(KefuTestCase):
    def test_import_stores_rows_and_their_sla(self):
        report = import_csv(self.sysadmin, csv_bytes(*GOOD))
        self.assertEqual((report.rows_read, report.created, report.updated, report.unchanged), (3, 3, 0, 0))
        a1 = Interaction.objects.select_related("agent", "first_responder", "resolver").get(external_id="A-1")
        self.assertEqual(a1.received_at, at(2026, 3, 2, 9, 15))
        self.assertEqual(a1.local_date, datetime.date(2026, 3, 2))
        self.assertEqual(a1.agent.employee_no, "CS1001")
        # empty first_responder_no / resolver_no mean agent_no
        self.assertEqual((a1.first_responder.employee_no, a1.resolver.employee_no), ("CS1001", "CS1001"))
        self.assertEqual(a1.first_reply_due_at, at(2026, 3, 2, 11, 15))
        self.assertEqual(a1.resolution_due_at, at(2026, 3, 5, 18))
        self.assertEqual((a1.first_reply_status, a1.resolution_status), ("met", "met"))
        # 09:15–10:00 = 45 min; to Tuesday 16:20: 2h45 + 5h (Monday) + 3h + 3h20 (Tuesday) = 14h05
        self.assertEqual(a1.first_reply_working_seconds, 45 * 60)
        self.assertEqual(a1.resolution_working_seconds, 14 * 3600 + 5 * 60)
        self.assertEqual(a1.recording_url, "https://cc.example.com/rec/1")

        a2 = Interaction.objects.select_related("first_responder", "resolver").get(external_id="A-2")
        self.assertEqual(a2.received_at, at(2026, 3, 2, 9))  # 01:00Z
        self.assertEqual((a2.first_responder.employee_no, a2.resolver.employee_no), ("CS1002", "CS1005"))
        self.assertEqual(a2.first_reply_due_at, at(2026, 3, 2, 9, 15))  # urgent: 15 minutes
        self.assertEqual(a2.first_reply_status, "breached")  # answered 09:20
        self.assertEqual(a2.resolution_due_at, at(2026, 3, 3, 18))
        self.assertEqual((a2.channel, a2.priority, a2.kind), ("chat", "urgent", "complaint"))

        a3 = Interaction.objects.get(external_id="A-3")
        self.assertEqual((a3.channel, a3.priority, a3.kind), ("email", "normal", "inquiry"))
        self.assertEqual(a3.local_date, datetime.date(2026, 3, 4))
        self.assertEqual(a3.first_reply_due_at, at(2026, 3, 5, 11))  # night arrival: from Thursday 09:00
        self.assertEqual((a3.first_reply_status, a3.resolution_status), ("pending", "pending"))
        self.assertIsNone(a3.first_responder_id)
        self.assertIsNone(a3.resolver_id)

        # one audit entry for the batch, naming its counts and file hash
        entries = AuditEntry.objects.filter(action="interactions.import")
        self.assertEqual(entries.count(), 1)
        changes = entries.get().changes
        self.assertEqual(changes["rows"], [None, 3])
        self.assertEqual(changes["created"], [None, 3])
        self.assertEqual(len(changes["file_sha256"][1]), 64)
        batch = ImportBatch.objects.get()
        self.assertEqual((batch.status, batch.created_count, batch.rows_total), ("done", 3, 3))

    def test_the_same_file_twice_changes_nothing(self):
        data = csv_bytes(*GOOD)
        import_csv(self.sysadmin, data)
        before = list(Interaction.objects.order_by("id").values())
        report = import_csv(self.sysadmin, data)
        self.assertEqual((report.created, report.updated, report.unchanged), (0, 0, 3))
        self.assertEqual(list(Interaction.objects.order_by("id").values()), before)

    def test_a_changed_row_updates_only_that_row(self):
        import_csv(self.sysadmin, csv_bytes(*GOOD))
        untouched = Interaction.objects.get(external_id="A-2").updated_at
        resolved = GOOD[2].replace("2026/3/4 22:30,,,", "2026/3/4 22:30,2026-03-05 09:30,2026-03-05 10:00,")
        report = import_csv(self.sysadmin, csv_bytes(GOOD[0], GOOD[1], resolved))
        self.assertEqual((report.created, report.updated, report.unchanged), (0, 1, 2))
        a3 = Interaction.objects.get(external_id="A-3")
        self.assertEqual(a3.resolved_at, at(2026, 3, 5, 10))
        self.assertEqual((a3.first_reply_status, a3.resolution_status), ("met", "met"))
        self.assertEqual(a3.resolver.employee_no, "CS2002")
        self.assertEqual(Interaction.objects.get(external_id="A-2").updated_at, untouched)

    def test_a_broken_file_saves_nothing_and_names_every_bad_row(self):
        lines = [
            GOOD[0],
            "cc,B-2,phone,normal,inquiry,,,2026-03-02 09:00,,,NOBODY,,,",  # 3: unknown agent
            "cc,B-3,phone,normal,inquiry,,,2026-03-02 09:00,2026-03-02 08:59,,CS1001,,,",  # 4: response before receipt
            "cc,B-4,phone,normal,inquiry,,,2026-03-02 09:00,,2026-03-01 10:00,CS1001,,,",  # 5: resolved before receipt
            "cc,B-5,phone,normal,inquiry,,,yesterday at nine,,,CS1001,,,",  # 6: unparseable time
            "cc,A-1,phone,normal,inquiry,,,2026-03-02 09:00,,,CS1001,,,",  # 7: duplicate of row 2
            "cc,B-7,fax,soon,praise,,,2026-03-02 09:00,,,CS1001,,,",  # 8: three bad values
            "cc,B-8,phone,normal,inquiry,,,2026-03-02,,,CS1001,,,",  # 9: a date without a time
            "cc,,phone,normal,inquiry,,,2026-03-02 09:00,,,,,,javascript:alert(1)",  # 10: missing id, agent; bad link
            "cc,B-10,phone,normal,inquiry,,,2099-01-01 09:00,,,CS1001,,,",  # 11: in the future
            "cc,B-11,phone,normal,inquiry,,,2026-03-02 09:00,2026-03-02 11:00,2026-03-02 10:00,CS1001,,NOBODY2,",  # 12
        ]
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.sysadmin, csv_bytes(*lines))
        problems = {(e.row, e.field) for e in caught.exception.report.errors}
        self.assertEqual(problems, {
            (3, "agent_no"), (4, "first_response_at"), (5, "resolved_at"), (6, "received_at"), (7, "external_id"),
            (8, "channel"), (8, "priority"), (8, "kind"), (9, "received_at"), (10, "external_id"),
            (10, "agent_no"), (10, "recording_url"), (11, "received_at"), (12, "resolved_at"), (12, "resolver_no"),
        })
        messages = {(e.row, e.field): e.message for e in caught.exception.report.errors}
        self.assertIn("NOBODY", messages[(3, "agent_no")])
        self.assertIn("Row 2", messages[(7, "external_id")])
        self.assertIn("fax", messages[(8, "channel")])
        self.assertEqual(Interaction.objects.count(), 0)
        batch = ImportBatch.objects.get()
        self.assertEqual((batch.status, batch.error_count), ("rejected", 15))
        self.assertFalse(AuditEntry.objects.filter(action="interactions.import").exists())

    def test_a_bad_row_after_good_ones_still_saves_nothing(self):
        import_csv(self.sysadmin, csv_bytes(GOOD[0]))
        changed = GOOD[1].replace("Broken", "Changed")
        bad = "cc,Z-1,phone,normal,inquiry,,,2026-03-02 09:00,,,NOBODY,,,"
        with self.assertRaises(ImportRejected):
            import_csv(self.sysadmin, csv_bytes(changed, GOOD[2], bad))
        self.assertEqual(list(Interaction.objects.values_list("external_id", flat=True)), ["A-1"])

    def test_missing_columns_and_empty_files(self):
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.sysadmin, b"source,external_id,channel\ncc,1,phone\n")
        missing = {e.field for e in caught.exception.report.errors if e.row == 1}
        self.assertEqual(missing, {"received_at", "agent_no"})
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.sysadmin, csv_bytes())
        self.assertIn("no rows", caught.exception.report.errors[0].message)
        with self.assertRaises(ImportRejected):
            import_csv(self.sysadmin, b"")

    def test_gbk_csv_with_chinese_headers(self):
        header = "來源系統,工單號,渠道,優先級,類型,客戶編號,主題,受理時間,首次回覆時間,解決時間,客服工號,首次回覆人工號,解決人工號,錄音連結"
        row = "呼叫中心,G-1,電話,緊急,投訴,客戶甲,退款問題,2026-03-02 10:00,2026-03-02 10:05,,CS1001,,,"
        report = import_csv(self.sysadmin, csv_bytes(row, header=header, encoding="gbk"), name="gbk.csv")
        self.assertEqual(report.created, 1)
        g1 = Interaction.objects.get(external_id="G-1")
        self.assertEqual((g1.source, g1.subject, g1.customer_ref), ("呼叫中心", "退款問題", "客戶甲"))
        self.assertEqual((g1.priority, g1.kind, g1.first_reply_status), ("urgent", "complaint", "met"))

    def test_xlsx_with_date_cells(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["source", "external_id", "channel", "received_at", "first_response_at", "agent_no", "主題"])
        sheet.append(["cc", 1001, "phone", datetime.datetime(2026, 3, 2, 11), datetime.datetime(2026, 3, 2, 13, 30),
                      1001.0, "From Excel"])
        sheet.append([None] * 7)  # a blank line is skipped
        sheet.append(["cc", "X-2", "Chat", "2026-03-06 17:00", None, "CS1001", None])
        buffer = io.BytesIO()
        workbook.save(buffer)
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.sysadmin, buffer.getvalue(), name="book.xlsx")
        # an Excel number 1001.0 reads as employee number "1001", which does not exist
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "agent_no")])
        sheet["F2"] = "CS1001"
        buffer = io.BytesIO()
        workbook.save(buffer)
        report = import_csv(self.sysadmin, buffer.getvalue(), name="book.xlsx")
        self.assertEqual(report.created, 2)
        first = Interaction.objects.get(external_id="1001")
        self.assertEqual(first.received_at, at(2026, 3, 2, 11))
        self.assertEqual(first.first_reply_working_seconds, 90 * 60)  # 11–12 and 13–13:30
        self.assertEqual(first.subject, "From Excel")
        second = Interaction.objects.get(external_id="X-2")
        self.assertEqual((second.priority, second.kind), ("normal", "inquiry"))
        self.assertEqual(second.first_reply_due_at, at(2026, 3, 9, 10))

    def test_who_may_import(self):
        with self.assertRaises(PermissionDenied):
            import_csv(self.agent, csv_bytes(GOOD[0]))
        with self.assertRaises(PermissionDenied):
            import_csv(self.hr, csv_bytes(GOOD[0]))
        self.assertEqual(Interaction.objects.count(), 0)

    def test_a_supervisor_imports_for_her_department_only(self):
        # CS1's supervisor: CS1001 is hers, CS2002 (row 4) is in CS2.
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.supervisor, csv_bytes(*GOOD))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(4, "agent_no")])
        report = import_csv(self.supervisor, csv_bytes(GOOD[0], GOOD[1]))
        self.assertEqual(report.created, 2)
        # CS2's supervisor may not take over CS1's interaction by sending it again with her agent
        takeover = GOOD[0].replace("CS1001", "CS2002")
        with self.assertRaises(ImportRejected) as caught:
            import_csv(self.outsider, csv_bytes(takeover))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "external_id")])
        self.assertEqual(Interaction.objects.get(external_id="A-1").agent.employee_no, "CS1001")


class UncoveredYearTests(KefuTestCase):
    def test_a_deadline_in_an_unknown_year_is_unknown_until_the_year_is_confirmed(self):
        row = "cc,Y-1,phone,normal,inquiry,,,2026-12-31 17:00,,,CS1001,,,"
        report = import_csv(self.sysadmin, csv_bytes(row), now=at(2027, 1, 2, 8))
        self.assertEqual(report.created, 1)
        self.assertEqual(len(report.warnings), 1)
        self.assertIn("2027", report.warnings[0])
        y1 = Interaction.objects.get()
        self.assertEqual((y1.first_reply_due_at, y1.first_reply_status), (None, "unknown"))
        self.assertEqual(ImportBatch.objects.get().warnings, report.warnings)
        # A system admin enters 2027 (New Year's Day off) and confirms it: the deadlines follow.
        with self.captureOnCommitCallbacks(execute=True):
            core_services.calendar_day_set(actor=self.sysadmin, date=datetime.date(2027, 1, 1), kind="off",
                                           note="New Year's Day")
        with self.captureOnCommitCallbacks(execute=True):
            core_services.calendar_year_confirm(actor=self.sysadmin, year=2027, note="entered")
        y1.refresh_from_db()
        # one hour on 31 Dec, then Monday 4 January 2027 09:00–10:00
        self.assertEqual(y1.first_reply_due_at, at(2027, 1, 4, 10))
        self.assertEqual(y1.resolution_due_at, at(2027, 1, 6, 18))  # 4, 5, 6 January
        self.assertEqual((y1.first_reply_status, y1.resolution_status), ("pending", "pending"))


class RecomputeTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        import_csv(self.sysadmin, csv_bytes(GOOD[0], "cc,R-2,phone,normal,inquiry,,,2026-03-02 09:15,,,CS1001,,,"))

    def test_a_calendar_override_moves_the_stored_deadline(self):
        open_one = Interaction.objects.get(external_id="R-2")
        self.assertEqual(open_one.resolution_due_at, at(2026, 3, 5, 18))
        with self.captureOnCommitCallbacks(execute=True):
            core_services.calendar_day_set(actor=self.sysadmin, date=datetime.date(2026, 3, 4), kind="off",
                                           note="company day off")
        open_one.refresh_from_db()
        self.assertEqual(open_one.resolution_due_at, at(2026, 3, 6, 18))  # 3, 5, 6 March
        self.assertEqual(open_one.first_reply_due_at, at(2026, 3, 2, 11, 15))
        run = SlaRecomputeRun.objects.get()
        self.assertEqual(run.since, datetime.date(2026, 3, 4) - datetime.timedelta(days=62))
        self.assertEqual(run.until, datetime.date(2026, 3, 4))
        # A-1 was resolved on Tuesday 3 March 16:20, before Thursday's new deadline too: still met, also changed.
        self.assertEqual(run.rows_changed, 2)
        self.assertTrue(AuditEntry.objects.filter(action="interactions.sla_recompute").exists())

    def test_removing_the_override_moves_it_back(self):
        with self.captureOnCommitCallbacks(execute=True):
            core_services.calendar_day_set(actor=self.sysadmin, date=datetime.date(2026, 3, 4), kind="off")
        with self.captureOnCommitCallbacks(execute=True):
            core_services.calendar_day_delete(actor=self.sysadmin, date=datetime.date(2026, 3, 4))
        self.assertEqual(Interaction.objects.get(external_id="R-2").resolution_due_at, at(2026, 3, 5, 18))

    def test_a_parameter_change_recomputes_arrivals_from_its_date(self):
        with self.captureOnCommitCallbacks(execute=True):
            core_services.policy_set(key="sla.first_reply_hours", value="3", effective_from=datetime.date(2026, 3, 1),
                                     actor=self.sysadmin, note="E1.3 changed")
        r2 = Interaction.objects.get(external_id="R-2")
        self.assertEqual(r2.first_reply_due_at, at(2026, 3, 2, 13, 15))  # 09:15–12:00 and 13:00–13:15
        # A parameter that is not an SLA parameter recomputes nothing.
        with self.captureOnCommitCallbacks(execute=True):
            core_services.policy_set(key="service.survey_valid_days", value=9, effective_from=datetime.date(2026, 3, 1),
                                     actor=self.sysadmin, note="x")
        self.assertEqual(SlaRecomputeRun.objects.count(), 1)

    def test_the_command_recomputes_a_range(self):
        Interaction.objects.filter(external_id="R-2").update(first_reply_due_at=at(2030, 1, 1))
        out = io.StringIO()
        call_command("sla_recompute", "--since", "2026-03-02", "--until", "2026-03-02", stdout=out)
        self.assertIn("2 interactions checked, 1 changed", out.getvalue())
        self.assertEqual(Interaction.objects.get(external_id="R-2").first_reply_due_at, at(2026, 3, 2, 11, 15))


class CommandTests(KefuTestCase):
    def test_import_command(self):
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(csv_bytes(*GOOD))
            handle.flush()
            out = io.StringIO()
            call_command("import_interactions", handle.name, stdout=out, stderr=io.StringIO())
            self.assertIn("3 rows: 3 added, 0 changed, 0 unchanged", out.getvalue())
            out = io.StringIO()
            call_command("import_interactions", handle.name, stdout=out, stderr=io.StringIO())
            self.assertIn("3 rows: 0 added, 0 changed, 3 unchanged", out.getvalue())
        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(csv_bytes("cc,B,phone,normal,inquiry,,,2026-03-02 09:00,,,NOBODY,,,"))
            handle.flush()
            err = io.StringIO()
            with self.assertRaises(CommandError):
                call_command("import_interactions", handle.name, stdout=io.StringIO(), stderr=err)
            self.assertIn("row 2 · agent_no", err.getvalue())
        with self.assertRaises(CommandError):
            call_command("import_interactions", "/nonexistent.csv")
