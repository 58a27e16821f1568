"""The PostgreSQL COPY path of the interaction import and the set-based SLA recomputation
(issue 3 item 2 "built for volume", issue 9 item 1): the same rows, deadlines and reports as
the row-by-row path, which still judges (and names) every bad or unusual row."""

from __future__ import annotations

import datetime
import io
from unittest import skipUnless
from zoneinfo import ZoneInfo

from django.db import connection

from kefu.core.models import CalendarDay
from kefu.core.tabular import ImportRejected
from kefu.people.testing import KefuTestCase
from kefu.service import fastimport, ingest, services
from kefu.service.models import ImportBatch, Interaction
from kefu.service.sla import SlaClock

TZ = ZoneInfo("Asia/Shanghai")
HEADER = ",".join(ingest.HEADERS)
FIELDS = ("source", "external_id", "channel", "priority", "kind", "customer_ref", "subject", "received_at",
          "first_response_at", "resolved_at", "recording_url", "local_date", "agent_id", "first_responder_id",
          "resolver_id", "first_reply_due_at", "resolution_due_at", "first_reply_status", "resolution_status",
          "first_reply_working_seconds", "resolution_working_seconds")


def at(y, mo, d, h=0, mi=0):
    return datetime.datetime(y, mo, d, h, mi, tzinfo=TZ)


# Regular rows only (the shapes the COPY path reads itself): working hours, lunch, nights,
# weekends, Spring Festival 2026 with its working Saturdays (14 and 28 February), National
# Day, urgent and normal, zones given and not, reply / resolution by someone else or missing.
REGULAR = [
    "cc,R-01,phone,normal,inquiry,C-1,Invoice,2026-03-02 09:15,2026-03-02 10:00,2026-03-03 16:20,CS1001,,,https://cc.example.com/rec/1",
    "cc,R-02,chat,urgent,complaint,C-2,Broken,2026-03-02T01:00:00Z,2026-03-02T09:20:00+08:00,2026-03-02 15:00:00,CS1001,CS1002,CS1005,",
    "cc,R-03,email,normal,inquiry,,,2026-03-02 11:30,2026-03-02 13:40,,CS1001,,,",
    "cc,R-04,phone,normal,inquiry,,,2026-02-13 17:30:00,2026-02-14 10:00:00,2026-02-24 10:00:00,CS1001,,,",
    "cc,R-05,phone,urgent,complaint,,,2026-02-16 03:00,2026-02-16 03:20,2026-02-25 09:00,CS1001,,,",
    "cc,R-06,chat,normal,inquiry,,,2026-02-15 12:00,,2026-02-28 17:00,CS1001,,CS1002,",
    "cc,R-07,onsite,normal,complaint,,,2026-09-30 17:45,2026-10-09 09:30,2026-10-12 18:00,CS1001,,,",
    "cc,R-08,other,normal,inquiry,,,2026-10-03 08:00,,,CS1001,,,",
    "cc,R-09,phone,normal,inquiry,,,2026-03-07 22:10,2026-03-09 09:05,2026-03-09 09:05,CS1001,,,",
    "cc,R-10,phone,urgent,inquiry,,,2026-03-06T23:59:00+08:00,2026-03-07T00:30:00+08:00,,CS1001,,,",
    "cc,R-11,chat,normal,inquiry,'=cmd,'+sum,2026-03-03 12:00,2026-03-03 13:00,2026-03-10 18:00,CS1001,,,",
    "web,R-01,email,normal,inquiry,,,2026-04-30 18:30,2026-05-06 12:00,2026-05-08 10:00,CS1002,CS1001,CS1002,",
]


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def snapshot() -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): r for r in Interaction.objects.order_by().values_list(*FIELDS)}


@skipUnless(connection.vendor == "postgresql", "the COPY path is PostgreSQL only")
class FastImportTests(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.taken: list[bool] = []
        original = fastimport.attempt

        def spy(*args, **kwargs):  # records whether the COPY path accepted the file; changes nothing
            stage = original(*args, **kwargs)
            self.taken.append(stage is not None)
            return stage

        fastimport.attempt = spy
        self.addCleanup(setattr, fastimport, "attempt", original)

    def run_import(self, data: bytes, *, now=None):
        return services.interactions_import_file(actor=None, handle=io.BytesIO(data), name="x.csv",
                                                 via=ImportBatch.Via.COMMAND, now=now)

    def run_row_by_row(self, data: bytes):
        original = fastimport.available
        fastimport.available = lambda rows_source: False
        try:
            return self.run_import(data)
        finally:
            fastimport.available = original

    def test_copy_path_stores_what_the_row_by_row_path_stores(self):
        report = self.run_import(csv_bytes(*REGULAR))
        self.assertEqual(self.taken, [True])
        self.assertEqual((report.rows_read, report.created, report.updated, report.unchanged), (12, 12, 0, 0))
        fast = snapshot()
        # worked out by hand (weekly hours 09:00–12:00 and 13:00–18:00, 2 working hours to a
        # first reply, 3 working days to resolve): a Monday 09:15 arrival
        r1 = Interaction.objects.get(source="cc", external_id="R-01")
        self.assertEqual((r1.first_reply_due_at, r1.resolution_due_at), (at(2026, 3, 2, 11, 15), at(2026, 3, 5, 18)))
        self.assertEqual((r1.first_reply_status, r1.resolution_status), ("met", "met"))
        self.assertEqual(r1.first_reply_working_seconds, 45 * 60)
        # 16:20 on the next day: 09:15→18:00 less lunch = 7 h 45 min, plus 09:00→16:20 less lunch = 6 h 20 min
        self.assertEqual(r1.resolution_working_seconds, (7 * 60 + 45 + 6 * 60 + 20) * 60)
        # Friday 13 February 17:30: half an hour that day, then 1.5 h on the working Saturday (14 Feb)
        r4 = Interaction.objects.get(external_id="R-04")
        self.assertEqual(r4.first_reply_due_at, at(2026, 2, 14, 10, 30))
        # a formula-guard quote is undone as on the row-by-row path
        r11 = Interaction.objects.get(external_id="R-11")
        self.assertEqual((r11.customer_ref, r11.subject), ("=cmd", "+sum"))

        Interaction.objects.all().delete()
        self.run_row_by_row(csv_bytes(*REGULAR))
        slow = snapshot()
        self.assertEqual(set(fast), set(slow))
        for key in fast:
            self.assertEqual(fast[key], slow[key], key)

    def test_cells_are_trimmed_of_the_white_space_the_row_by_row_path_trims(self):
        # Python's str.strip() takes tabs and Unicode spaces (U+3000, U+00A0 …) too, not only " "
        rows = [
            "\u3000cc,W-1\t,phone,normal,inquiry,\tC-9\u3000,\u3000\u3000Invoice\xa0,2026-03-02 09:15,,,CS1001,,,",
            "cc,W-2,chat,normal,inquiry, \u2003x\u3000y ,\x1f\u3000,2026-03-02 10:15,,,CS1001,,,",
        ]
        self.run_import(csv_bytes(*rows))
        self.assertEqual(self.taken, [True])  # the COPY path read them itself
        fast = snapshot()
        self.assertEqual(Interaction.objects.get(external_id="W-1").subject, "Invoice")
        Interaction.objects.all().delete()
        self.run_row_by_row(csv_bytes(*rows))
        self.assertEqual(fast, snapshot())

    def test_odd_white_space_in_a_coded_cell_sends_the_file_to_the_row_by_row_path(self):
        rows = ["cc,W-3,\u2003chat,normal,inquiry,,,2026-03-02 09:15\t,,,CS1001\u3000,,,https://cc.example.com/r\u3000"]
        report = self.run_import(csv_bytes(*rows))
        self.assertEqual(self.taken, [False])
        self.assertEqual(report.created, 1)
        stored = Interaction.objects.get()
        self.assertEqual((stored.channel, stored.received_at, stored.recording_url),
                         ("chat", at(2026, 3, 2, 9, 15), "https://cc.example.com/r"))

    def test_same_file_again_changes_nothing_and_a_changed_row_is_updated(self):
        self.run_import(csv_bytes(*REGULAR))
        again = self.run_import(csv_bytes(*REGULAR))
        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 12))
        changed = [REGULAR[0].replace("Invoice", "Invoice copy"), *REGULAR[1:]]
        third = self.run_import(csv_bytes(*changed))
        self.assertEqual(self.taken, [True, True, True])
        self.assertEqual((third.created, third.updated, third.unchanged), (0, 1, 11))
        self.assertEqual(Interaction.objects.get(source="cc", external_id="R-01").subject, "Invoice copy")

    def test_bad_rows_reach_the_row_by_row_checker_and_nothing_is_saved(self):
        bad = [
            *REGULAR[:3],
            "cc,B-1,phone,normal,inquiry,,,2026-03-02 09:15,,,NOBODY,,,",  # unknown agent
            "cc,B-2,phone,normal,inquiry,,,2026-02-30 10:00,,,CS1001,,,",  # no such date: the cast fails
            "cc,B-3,phone,normal,inquiry,,,2026-03-02 10:00,2026-03-02 09:00,,CS1001,,,",  # reply before receipt
            REGULAR[0],  # the same source and external id as row 2
        ]
        with self.assertRaises(ImportRejected) as caught:
            self.run_import(csv_bytes(*bad))
        self.assertEqual(self.taken, [False])
        errors = {(e.row, e.field) for e in caught.exception.report.errors}
        self.assertEqual(errors, {(5, "agent_no"), (6, "received_at"), (7, "first_response_at"), (8, "external_id")})
        self.assertFalse(Interaction.objects.exists())
        with connection.cursor() as cursor:  # the company zone set for parsing does not outlive it
            cursor.execute("SELECT current_setting('TimeZone')")
            self.assertEqual(cursor.fetchone()[0], "UTC")

    def test_a_duplicate_of_an_unchanged_row_is_still_reported(self):
        self.run_import(csv_bytes(*REGULAR))
        with self.assertRaises(ImportRejected) as caught:
            self.run_import(csv_bytes(*REGULAR, REGULAR[3]))
        self.assertEqual(self.taken, [True, True])  # loaded, then the merge found the duplicate
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(14, "external_id")])
        self.assertEqual(Interaction.objects.count(), 12)

    def test_a_key_twice_among_new_rows_fails_the_insert_and_is_reported(self):
        # the new rows go in by a plain INSERT: the unique index stops the second, the file goes
        # to the row-by-row checker, which names the row, and nothing is saved
        with self.assertRaises(ImportRejected) as caught:
            self.run_import(csv_bytes(*REGULAR, REGULAR[3].replace("CS1001", "CS1002")))
        self.assertEqual(self.taken, [True])  # loaded and checked: only the merge can see it
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(14, "external_id")])
        self.assertFalse(Interaction.objects.exists())

    def test_a_key_twice_among_changed_rows_is_reported_and_nothing_changes(self):
        self.run_import(csv_bytes(*REGULAR))
        before = snapshot()
        first = REGULAR[3].replace("CS1001", "CS1002")
        second = REGULAR[3].replace("CS1001", "CS1005")
        with self.assertRaises(ImportRejected) as caught:
            self.run_import(csv_bytes(*REGULAR[:3], first, *REGULAR[4:], second))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(14, "external_id")])
        self.assertEqual(snapshot(), before)

    def test_the_quick_link_test_agrees_with_the_import_rule(self):
        # the COPY path accepts a link only when ingest's rule does (else the row-by-row path
        # decides and names it); on printable ASCII, the links of real files, they agree exactly
        links = [
            "https://cc.example.com/rec/1", "http://cc.example.com", "HTTPS://CC.EXAMPLE.COM/x", "https://x?q=1",
            "http://x#top", "https://", "http://", "https:///path", "http://?q", "https://#f", "https://a b",
            "https://a/b c", "https://a\tb", "https://a/\u00a0", "https://例子.测试/路径", "ftp://x", "https//x",
            "https://x/\u3000", "http://x/y/", " https://x", "https://x ", "https:x", "mailto:x@y",
            "https://a/\x1fb", "https://a/~!*'();:@&=+$,%5B",
        ]
        with connection.cursor() as cursor:
            for link in links:
                cursor.execute(f"SELECT {fastimport._url_ok('v.u')} FROM (SELECT %s::text AS u) v", [link])
                fast, rule = cursor.fetchone()[0], ingest.valid_url(link)
                if fast:
                    self.assertTrue(rule, repr(link))
                if link.isascii() and link.isprintable():
                    self.assertEqual(fast, rule, repr(link))

    def test_unusual_but_valid_rows_are_imported_by_the_row_by_row_path(self):
        report = self.run_import(csv_bytes("cc,U-1,電話,一般,諮詢,,,2026/3/4 9:30,,,CS1001,,,"))
        self.assertEqual(self.taken, [False])
        self.assertEqual(report.created, 1)
        self.assertEqual(Interaction.objects.get().received_at, at(2026, 3, 4, 9, 30))

    def test_set_based_recompute_after_a_calendar_change_matches_the_clock(self):
        self.run_import(csv_bytes(*REGULAR))
        CalendarDay.objects.create(date=datetime.date(2026, 3, 3), kind=CalendarDay.Kind.OFF, note="test")
        from kefu.core import calendar

        calendar.invalidate()
        run = services.sla_recompute(actor=None, since=datetime.date(2026, 3, 1), until=datetime.date(2026, 3, 31))
        self.assertEqual(run.rows_checked, 6)
        # R-01 (Monday 2 March): resolution due moves from Thursday 5 to Friday 6 March 18:00
        r1 = Interaction.objects.get(source="cc", external_id="R-01")
        self.assertEqual(r1.resolution_due_at, at(2026, 3, 6, 18))
        clock = SlaClock()
        for row in Interaction.objects.filter(local_date__month=3):
            expected = clock.compute(received_at=row.received_at, priority=row.priority,
                                     first_response_at=row.first_response_at, resolved_at=row.resolved_at,
                                     local_date=row.local_date)
            stored = (row.first_reply_due_at, row.resolution_due_at, row.first_reply_status, row.resolution_status,
                      row.first_reply_working_seconds, row.resolution_working_seconds)
            self.assertEqual(stored, tuple(expected)[:6], row.external_id)
        self.assertGreaterEqual(run.rows_changed, 1)

    def assert_march_matches_the_clock(self):
        clock = SlaClock()
        for row in Interaction.objects.filter(local_date__month=3):
            expected = clock.compute(received_at=row.received_at, priority=row.priority,
                                     first_response_at=row.first_response_at, resolved_at=row.resolved_at,
                                     local_date=row.local_date)
            stored = (row.first_reply_due_at, row.resolution_due_at, row.first_reply_status, row.resolution_status,
                      row.first_reply_working_seconds, row.resolution_working_seconds)
            self.assertEqual(stored, tuple(expected)[:6], row.external_id)

    def test_a_second_calendar_change_right_after_the_first_is_seen_by_the_recompute(self):
        # a recompute right after a calendar change, then after a second change of the same date and
        # after its undoing, each sees its own calendar (a guard for any cache of the year tables)
        from kefu.core import services as core_services

        self.run_import(csv_bytes(*REGULAR))
        imported = snapshot()
        march = {"since": datetime.date(2026, 3, 1), "until": datetime.date(2026, 3, 31)}
        r1 = ("cc", "R-01")  # Monday 2 March, normal: resolved by close of business of the 3rd working day
        self.assertEqual(imported[r1][FIELDS.index("resolution_due_at")], at(2026, 3, 5, 18))

        core_services.calendar_day_set(actor=self.sysadmin, date=datetime.date(2026, 3, 3), kind="off")
        services.sla_recompute(actor=None, **march)
        self.assertEqual(Interaction.objects.get(source="cc", external_id="R-01").resolution_due_at, at(2026, 3, 6, 18))
        self.assert_march_matches_the_clock()

        # the same date again, now one working hour: a working day once more
        core_services.calendar_day_set(actor=self.sysadmin, date=datetime.date(2026, 3, 3), kind="hours",
                                       hours=[["09:00", "10:00"]])
        run = services.sla_recompute(actor=None, **march)
        self.assertGreaterEqual(run.rows_changed, 1)
        self.assertEqual(Interaction.objects.get(source="cc", external_id="R-01").resolution_due_at, at(2026, 3, 5, 18))
        self.assert_march_matches_the_clock()

        # undone: every stored value is again the one the import computed with the plain calendar
        core_services.calendar_day_delete(actor=self.sysadmin, date=datetime.date(2026, 3, 3))
        services.sla_recompute(actor=None, **march)
        self.assert_march_matches_the_clock()
        self.assertEqual(snapshot(), imported)

    def test_kpis_of_many_agents_pass_their_ids_as_one_array_and_agree(self):
        from django.test.utils import CaptureQueriesContext

        from kefu.people.models import Employee
        from kefu.service import kpis

        self.run_import(csv_bytes(*REGULAR))
        cs1001 = Employee.objects.get(employee_no="CS1001").pk
        cs1002 = Employee.objects.get(employee_no="CS1002").pk
        many = [cs1001, cs1002, *range(10_000_000, 10_000_000 + kpis.ARRAY_ABOVE)]  # unknown ids count for nothing
        period = kpis.month(2026, 3)
        with CaptureQueriesContext(connection) as queries:
            together = kpis.agent_kpis(many, [period])
        self.assertTrue(any("unnest" in q["sql"] for q in queries.captured_queries))
        for pk in (cs1001, cs1002):
            self.assertEqual(together.get(pk, period), kpis.agent_kpis([pk], [period]).get(pk, period))
        # CS1001 handled in March (by hand from REGULAR)
        self.assertEqual(together.get(cs1001, period).handled, 6)
