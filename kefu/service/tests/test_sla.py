"""The SLA clock of policy E1.3: deadlines worked out by hand with the default calendar
(Monday–Friday 09:00–12:00 and 13:00–18:00, China's 2026 statutory holidays and adjusted
working days) and the default parameters (first reply 2 working hours, resolution 3 working
days, urgent 15 minutes, urgent resolution 1 working day)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from kefu.core import services as core_services
from kefu.people.testing import KefuTestCase
from kefu.service.models import SlaStatus, SlaStored, sla_state
from kefu.service.sla import SlaClock

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime.datetime:
    return datetime.datetime(y, mo, d, h, mi, tzinfo=TZ)


# (what, received, priority, first reply due, resolution due)
CASES = [
    ("Monday morning", at(2026, 3, 2, 9, 15), "normal", at(2026, 3, 2, 11, 15), at(2026, 3, 5, 18)),
    ("across the lunch break", at(2026, 3, 2, 11), "normal", at(2026, 3, 2, 14), at(2026, 3, 5, 18)),
    ("arrives during lunch", at(2026, 3, 2, 12, 30), "normal", at(2026, 3, 2, 15), at(2026, 3, 5, 18)),
    ("Friday late, over the weekend", at(2026, 3, 6, 17), "normal", at(2026, 3, 9, 10), at(2026, 3, 11, 18)),
    ("Tuesday night", at(2026, 3, 3, 22, 30), "normal", at(2026, 3, 4, 11), at(2026, 3, 6, 18)),
    ("Wednesday 03:00 (a new local date)", at(2026, 3, 4, 3), "normal", at(2026, 3, 4, 11), at(2026, 3, 9, 18)),
    ("on a Saturday", at(2026, 3, 7, 10), "normal", at(2026, 3, 9, 11), at(2026, 3, 11, 18)),
    # Spring Festival 2026: off 15–23 February; Saturdays 14 and 28 February are working days.
    ("eve of Spring Festival into the working Saturday", at(2026, 2, 13, 16, 30), "normal",
     at(2026, 2, 14, 9, 30), at(2026, 2, 25, 18)),
    ("during Spring Festival", at(2026, 2, 17, 10), "normal", at(2026, 2, 24, 11), at(2026, 2, 26, 18)),
    ("on the working Saturday 14 February", at(2026, 2, 14, 17), "normal", at(2026, 2, 24, 10), at(2026, 2, 26, 18)),
    ("Friday into the working Saturday 28 February", at(2026, 2, 27, 17, 30), "normal",
     at(2026, 2, 28, 10, 30), at(2026, 3, 3, 18)),
    # National Day 2026: off 1–7 October; Sunday 20 September and Saturday 10 October are working days.
    ("before National Day", at(2026, 9, 30, 17), "normal", at(2026, 10, 8, 10), at(2026, 10, 10, 18)),
    ("on the working Sunday 20 September", at(2026, 9, 20, 10), "normal", at(2026, 9, 20, 12), at(2026, 9, 23, 18)),
    # Urgent: 15 minutes of calendar time, day or night; resolved by the next working day's close.
    ("urgent at night", at(2026, 3, 3, 22, 30), "urgent", at(2026, 3, 3, 22, 45), at(2026, 3, 4, 18)),
    ("urgent on National Day", at(2026, 10, 3, 14), "urgent", at(2026, 10, 3, 14, 15), at(2026, 10, 8, 18)),
    ("urgent on a Monday afternoon", at(2026, 3, 2, 17, 50), "urgent", at(2026, 3, 2, 18, 5), at(2026, 3, 3, 18)),
]


class DeadlineTableTests(KefuTestCase):
    def test_deadlines(self):
        clock = SlaClock()
        for what, received, priority, first_reply, resolution in CASES:
            with self.subTest(what):
                result = clock.compute(received_at=received, priority=priority, first_response_at=None,
                                       resolved_at=None)
                self.assertEqual(result.first_reply_due_at, first_reply)
                self.assertEqual(result.resolution_due_at, resolution)
                self.assertEqual(result.first_reply_status, SlaStored.PENDING)
                self.assertEqual(result.resolution_status, SlaStored.PENDING)
                self.assertIsNone(result.uncovered_year)

    def test_met_at_the_deadline_breached_after_it(self):
        clock = SlaClock()
        received = at(2026, 3, 2, 11)  # first reply due 14:00, resolution due Thursday 5 March 18:00
        on_time = clock.compute(received_at=received, priority="normal", first_response_at=at(2026, 3, 2, 14),
                                resolved_at=at(2026, 3, 5, 18))
        self.assertEqual((on_time.first_reply_status, on_time.resolution_status), ("met", "met"))
        late = clock.compute(received_at=received, priority="normal",
                             first_response_at=at(2026, 3, 2, 14) + datetime.timedelta(seconds=1),
                             resolved_at=at(2026, 3, 6, 9, 1))
        self.assertEqual((late.first_reply_status, late.resolution_status), ("breached", "breached"))

    def test_working_time_taken(self):
        # 11:00–12:00 and 13:00–13:30 → 1.5 h; to Tuesday 10:00: 1 h + 5 h (Monday) + 1 h (Tuesday) = 7 h
        result = SlaClock().compute(received_at=at(2026, 3, 2, 11), priority="normal",
                                    first_response_at=at(2026, 3, 2, 13, 30), resolved_at=at(2026, 3, 3, 10))
        self.assertEqual(result.first_reply_working_seconds, 5400)
        self.assertEqual(result.resolution_working_seconds, 7 * 3600)

    def test_working_time_over_a_holiday_counts_no_holiday(self):
        # Friday 13 Feb 17:00 → Tuesday 24 Feb 10:00: 1 h (Fri) + 8 h (working Sat 14th) + 1 h (Tue) = 10 h
        result = SlaClock().compute(received_at=at(2026, 2, 13, 17), priority="normal",
                                    first_response_at=None, resolved_at=at(2026, 2, 24, 10))
        self.assertEqual(result.resolution_working_seconds, 10 * 3600)
        # No first reply recorded: the resolution is the first reply (due Saturday 14th 10:00 → breached).
        self.assertEqual(result.first_reply_working_seconds, 10 * 3600)
        self.assertEqual(result.first_reply_status, "breached")

    def test_resolved_without_a_first_reply_counts_as_replied(self):
        result = SlaClock().compute(received_at=at(2026, 3, 2, 9), priority="normal", first_response_at=None,
                                    resolved_at=at(2026, 3, 2, 10))
        self.assertEqual((result.first_reply_status, result.resolution_status), ("met", "met"))

    def test_a_year_the_calendar_does_not_know_gives_unknown_not_an_error(self):
        clock = SlaClock()
        # 31 Dec 2026 17:00: one hour that day, the second in 2027 — not in the calendar yet.
        late = clock.compute(received_at=at(2026, 12, 31, 17), priority="normal", first_response_at=None,
                             resolved_at=None)
        self.assertEqual((late.first_reply_due_at, late.resolution_due_at), (None, None))
        self.assertEqual((late.first_reply_status, late.resolution_status), ("unknown", "unknown"))
        self.assertEqual(late.uncovered_year, 2027)
        # 30 Dec 09:00: the first reply is due the same day; the resolution needs 2027.
        early = clock.compute(received_at=at(2026, 12, 30, 9), priority="normal", first_response_at=None,
                              resolved_at=None)
        self.assertEqual(early.first_reply_due_at, at(2026, 12, 30, 11))
        self.assertEqual(early.first_reply_status, "pending")
        self.assertEqual((early.resolution_due_at, early.resolution_status), (None, "unknown"))
        # Urgent first reply is calendar time: known even across the year.
        urgent = clock.compute(received_at=at(2026, 12, 31, 23, 50), priority="urgent", first_response_at=None,
                               resolved_at=None)
        self.assertEqual(urgent.first_reply_due_at, at(2027, 1, 1, 0, 5))
        self.assertEqual(urgent.resolution_status, "unknown")


class ParameterChangeTests(KefuTestCase):
    def test_a_parameter_changed_mid_year_applies_from_its_date(self):
        # From 1 July 2026: first reply 4 working hours, resolution 5 working days.
        core_services.policy_set(key="sla.first_reply_hours", value="4", effective_from=datetime.date(2026, 7, 1),
                                 actor=self.sysadmin, note="test: E1.3 tightened")
        core_services.policy_set(key="sla.resolution_days", value=5, effective_from=datetime.date(2026, 7, 1),
                                 actor=self.sysadmin, note="test")
        clock = SlaClock()
        before = clock.compute(received_at=at(2026, 6, 30, 9), priority="normal", first_response_at=None,
                               resolved_at=None)
        self.assertEqual(before.first_reply_due_at, at(2026, 6, 30, 11))  # 2 h, in force on 30 June
        self.assertEqual(before.resolution_due_at, at(2026, 7, 3, 18))  # Wed 1, Thu 2, Fri 3 July
        after = clock.compute(received_at=at(2026, 7, 1, 9), priority="normal", first_response_at=None,
                              resolved_at=None)
        self.assertEqual(after.first_reply_due_at, at(2026, 7, 1, 14))  # 09–12 and 13–14
        self.assertEqual(after.resolution_due_at, at(2026, 7, 8, 18))  # 2, 3, 6, 7, 8 July
        # The day it came in decides, not the day of the reply: a night arrival on 30 June keeps 2 h.
        night = clock.compute(received_at=at(2026, 6, 30, 23), priority="normal", first_response_at=None,
                              resolved_at=None)
        self.assertEqual(night.first_reply_due_at, at(2026, 7, 1, 11))

    def test_urgent_parameters(self):
        core_services.policy_set(key="sla.urgent_first_reply_minutes", value=30,
                                 effective_from=datetime.date(2026, 3, 1), actor=self.sysadmin, note="test")
        core_services.policy_set(key="sla.urgent_resolution_days", value=2,
                                 effective_from=datetime.date(2026, 3, 1), actor=self.sysadmin, note="test")
        result = SlaClock().compute(received_at=at(2026, 3, 6, 23), priority="urgent", first_response_at=None,
                                    resolved_at=None)
        self.assertEqual(result.first_reply_due_at, at(2026, 3, 6, 23, 30))
        self.assertEqual(result.resolution_due_at, at(2026, 3, 10, 18))  # Mon 9, Tue 10


class StateTests(TestCase):
    def test_open_and_overdue_depend_on_now(self):
        due = at(2026, 3, 2, 14)
        self.assertEqual(sla_state("pending", due, due), SlaStatus.OPEN)
        self.assertEqual(sla_state("pending", due, due + datetime.timedelta(seconds=1)), SlaStatus.OVERDUE)
        self.assertEqual(sla_state("met", due, due + datetime.timedelta(days=9)), SlaStatus.MET)
        self.assertEqual(sla_state("breached", due, due), SlaStatus.BREACHED)
        self.assertEqual(sla_state("unknown", None, due), SlaStatus.UNKNOWN)


# Arrivals anywhere in 2026 up to mid-December (later ones may need 2027, not in the calendar).
instants = st.datetimes(
    min_value=datetime.datetime(2026, 1, 1), max_value=datetime.datetime(2026, 12, 15), timezones=st.just(TZ)
)


class DeadlineProperties(HypothesisTestCase):
    @settings(max_examples=300, deadline=None)
    @given(received=instants, priority=st.sampled_from(["normal", "urgent"]))
    def test_a_deadline_is_never_before_receipt(self, received, priority):
        result = SlaClock().compute(received_at=received, priority=priority, first_response_at=None, resolved_at=None)
        self.assertGreaterEqual(result.first_reply_due_at, received)
        self.assertGreater(result.resolution_due_at, received)
        self.assertGreaterEqual(result.resolution_due_at, result.first_reply_due_at if priority == "normal"
                                else received)

    @settings(max_examples=300, deadline=None)
    @given(a=instants, b=instants, priority=st.sampled_from(["normal", "urgent"]))
    def test_a_later_receipt_never_gives_an_earlier_deadline(self, a, b, priority):
        first, second = sorted([a, b])
        clock = SlaClock()
        x = clock.compute(received_at=first, priority=priority, first_response_at=None, resolved_at=None)
        y = clock.compute(received_at=second, priority=priority, first_response_at=None, resolved_at=None)
        self.assertLessEqual(x.first_reply_due_at, y.first_reply_due_at)
        self.assertLessEqual(x.resolution_due_at, y.resolution_due_at)
