"""Invariants of the work calendar, checked with hypothesis over 2025–2026 (both covered by chinesecalendar).

Besides the invariants, ``add_working_hours`` is compared with a deliberately simple
oracle that walks day by day through ``working_ranges``, so the binary-search tables are
checked against an independent computation.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import django as hypothesis_django

from kefu.core import calendar
from kefu.people.testing import KefuTestCase

SH = ZoneInfo("Asia/Shanghai")
US = datetime.timedelta(microseconds=1)

# Start instants leave room for up to 150 working hours (about 19 working days) before 2027.
days = st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2026, 11, 30))
any_instants = st.datetimes(
    min_value=datetime.datetime(2025, 1, 1), max_value=datetime.datetime(2026, 11, 30, 23, 59),
    timezones=st.sampled_from([SH, datetime.UTC]),
)
# Whole and half hours hit openings and closing times exactly, where the edge cases live.
round_instants = st.builds(
    lambda d, h, m: datetime.datetime.combine(d, datetime.time(h, m), tzinfo=SH),
    days, st.integers(min_value=0, max_value=23), st.sampled_from([0, 30]),
)
instants = st.one_of(any_instants, round_instants)
# At most six decimal places: every amount is a whole number of microseconds.
hours = st.one_of(
    st.integers(min_value=0, max_value=75).map(Decimal),
    st.decimals(min_value=0, max_value=75, places=6),
)
positive_hours = st.one_of(
    st.integers(min_value=1, max_value=150).map(Decimal),
    st.decimals(min_value=Decimal("0.000001"), max_value=150, places=6),
)
SETTINGS = settings(max_examples=300, deadline=None)


def hours_delta(h: Decimal) -> datetime.timedelta:
    return int(h * 3_600_000_000) * US


def inside_or_at_end(x: datetime.datetime) -> bool:
    local = x.astimezone(SH)
    return any(start <= local <= end for start, end in calendar.working_ranges(local.date()))


def oracle_add(x: datetime.datetime, h: Decimal) -> datetime.datetime:
    """Walk the days: skip whatever of each range lies before x, spend the rest."""
    remaining = hours_delta(h)
    day = x.astimezone(SH).date()
    while True:
        for start, end in calendar.working_ranges(day):
            begin = max(start, x)
            if begin >= end:
                continue
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += datetime.timedelta(days=1)


# hypothesis' TestCase runs each example in its own transaction; KefuTestCase adds the named people.
class AddWorkingHoursProperties(hypothesis_django.TestCase, KefuTestCase):
    @SETTINGS
    @given(instants, hours)
    def test_never_before_the_start_and_never_outside_working_time(self, x, h):
        result = calendar.add_working_hours(x, h)
        self.assertGreaterEqual(result, x)
        self.assertTrue(inside_or_at_end(result), f"{x} + {h} h = {result}")

    @SETTINGS
    @given(instants, hours, hours)
    def test_adding_a_then_b_is_adding_a_plus_b(self, x, a, b):
        self.assertEqual(
            calendar.add_working_hours(calendar.add_working_hours(x, a), b),
            calendar.add_working_hours(x, a + b),
        )

    @SETTINGS
    @given(instants, hours)
    def test_working_time_between_undoes_adding(self, x, h):
        self.assertEqual(calendar.working_time_between(x, calendar.add_working_hours(x, h)), hours_delta(h))

    @SETTINGS
    @given(instants, positive_hours)
    def test_agrees_with_a_day_by_day_walk(self, x, h):
        self.assertEqual(calendar.add_working_hours(x, h), oracle_add(x, h))

    @SETTINGS
    @given(instants, positive_hours)
    def test_result_is_the_earliest_such_instant(self, x, h):
        result = calendar.add_working_hours(x, h)
        self.assertLess(calendar.working_time_between(x, result - US), hours_delta(h))


class OtherProperties(hypothesis_django.TestCase, KefuTestCase):
    @SETTINGS
    @given(instants)
    def test_next_opening_is_working_and_nothing_is_skipped(self, x):
        opening = calendar.next_opening(x)
        self.assertGreaterEqual(opening, x)
        local = opening.astimezone(SH)
        self.assertTrue(any(s <= local < e for s, e in calendar.working_ranges(local.date())))
        self.assertEqual(calendar.working_time_between(x, opening), datetime.timedelta(0))

    @SETTINGS
    @given(instants, instants)
    def test_working_time_between_is_never_more_than_elapsed(self, a, b):
        worked = calendar.working_time_between(a, b)
        self.assertGreaterEqual(worked, datetime.timedelta(0))
        self.assertLessEqual(worked, max(b - a, datetime.timedelta(0)))

    @SETTINGS
    @given(days, st.integers(min_value=1, max_value=15))
    def test_close_of_business_is_the_end_of_the_nth_working_day_after(self, d, n):
        close = calendar.close_of_business(d, n).astimezone(SH)
        day = close.date()
        self.assertGreater(day, d)
        self.assertTrue(calendar.is_working_day(day))
        self.assertEqual(close, calendar.working_ranges(day)[-1][1])
        counted = sum(
            calendar.is_working_day(d + datetime.timedelta(days=i)) for i in range(1, (day - d).days + 1)
        )
        self.assertEqual(counted, n)
