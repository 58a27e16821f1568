"""The work calendar's functions on real dates (kefu/core/calendar.py; DESIGN.md "Time"; POLICY.md E1.3).

Expected values are worked out by hand from the default hours (Mon–Fri 09:00–12:00,
13:00–18:00, Asia/Shanghai) and the 2026 statutory calendar as published by the State
Council and carried by chinesecalendar: New Year Jan 1–3 off, Sunday Jan 4 worked;
Spring Festival Feb 15–23 off, Saturdays Feb 14 and Feb 28 worked; Mid-autumn Sep 25–27
off; National Day Oct 1–7 off, Sunday Sep 20 and Saturday Oct 10 worked.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.test import override_settings

from kefu.core import calendar, services
from kefu.core.calendar import CalendarNotCovered
from kefu.core.models import CalendarDay, WorkingPeriod
from kefu.people.testing import KefuTestCase

SH = ZoneInfo("Asia/Shanghai")
D = datetime.date


def at(y, m, d, hh=0, mm=0, ss=0, us=0):
    return datetime.datetime(y, m, d, hh, mm, ss, us, tzinfo=SH)


class StatutoryDaysTests(KefuTestCase):
    def test_adjusted_working_saturdays_and_sunday_of_2026(self):
        for day in (D(2026, 2, 14), D(2026, 2, 28), D(2026, 1, 4), D(2026, 9, 20), D(2026, 10, 10)):
            with self.subTest(day=day):
                self.assertNotIn(day.weekday(), range(5))  # really a weekend day
                self.assertTrue(calendar.is_working_day(day))

    def test_spring_festival_and_national_day_are_off(self):
        for day in [D(2026, 2, 16) + datetime.timedelta(days=i) for i in range(8)] + [
            D(2026, 1, 1), D(2026, 10, 1), D(2026, 10, 7), D(2026, 9, 25)
        ]:
            with self.subTest(day=day):
                self.assertFalse(calendar.is_working_day(day))

    def test_ordinary_days(self):
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))  # Tuesday
        self.assertFalse(calendar.is_working_day(D(2026, 3, 7)))  # Saturday
        self.assertFalse(calendar.is_working_day(D(2026, 3, 8)))  # Sunday
        self.assertTrue(calendar.is_working_day(D(2026, 10, 8)))  # Thursday after National Day

    def test_working_ranges_are_aware_local_datetimes(self):
        self.assertEqual(
            calendar.working_ranges(D(2026, 3, 10)),
            [(at(2026, 3, 10, 9), at(2026, 3, 10, 12)), (at(2026, 3, 10, 13), at(2026, 3, 10, 18))],
        )
        self.assertEqual(calendar.working_ranges(D(2026, 2, 17)), [])

    def test_adjusted_sunday_works_monday_hours(self):
        # Sunday has no hours of its own; the fallback is the first weekday with hours (Monday).
        self.assertEqual(
            calendar.working_ranges(D(2026, 1, 4)),
            [(at(2026, 1, 4, 9), at(2026, 1, 4, 12)), (at(2026, 1, 4, 13), at(2026, 1, 4, 18))],
        )

    def test_day_info_names_the_holiday(self):
        info = calendar.current().day(D(2026, 2, 17))
        self.assertEqual(info.status, calendar.Status.HOLIDAY)
        self.assertEqual(info.holiday_name, "Spring Festival")
        adjusted = calendar.current().day(D(2026, 10, 10))
        self.assertEqual(adjusted.status, calendar.Status.ADJUSTED)
        self.assertEqual(adjusted.holiday_name, "National Day")

    def test_a_datetime_is_not_a_date(self):
        with self.assertRaises(TypeError):
            calendar.is_working_day(at(2026, 3, 10, 10))


class AddWorkingHoursTests(KefuTestCase):
    def test_friday_evening_plus_two_hours_is_monday_morning(self):
        # Fri 17:30–18:00 is half an hour; Mon 09:00 + 1.5 h = 10:30.
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 6, 17, 30), 2), at(2026, 3, 9, 10, 30))

    def test_friday_before_an_adjusted_saturday_continues_on_saturday(self):
        # Fri 13 Feb 17:30 + 2 h: half an hour on Friday, then Saturday 14 Feb is worked.
        self.assertEqual(calendar.add_working_hours(at(2026, 2, 13, 17, 30), 2), at(2026, 2, 14, 10, 30))

    def test_lunch_break_is_skipped(self):
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 11, 30), 1), at(2026, 3, 10, 13, 30))

    def test_a_deadline_may_fall_on_closing_time(self):
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 11), 1), at(2026, 3, 10, 12))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 17), 1), at(2026, 3, 10, 18))

    def test_outside_hours_starts_at_the_next_opening(self):
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 7), 1), at(2026, 3, 10, 10))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 12, 20), 1), at(2026, 3, 10, 14))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 7, 15), 1), at(2026, 3, 9, 10))  # Saturday

    def test_across_spring_festival(self):
        # Sat 14 Feb (worked) 17:00–18:00 = 1 h; Feb 15–23 off; Tue 24 Feb 09:00 + 1 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 2, 14, 17), 2), at(2026, 2, 24, 10))

    def test_across_national_day(self):
        # Wed 30 Sep 17:00–18:00 = 1 h; Oct 1–7 off; Thu 8 Oct gives 8 h (to 18:00); 3 h on Fri 9 Oct
        # is 09:00–12:00.
        self.assertEqual(calendar.add_working_hours(at(2026, 9, 30, 17), 12), at(2026, 10, 9, 12))

    def test_across_the_year_end(self):
        # Wed 31 Dec 2025 17:00–18:00 = 1 h; Jan 1–3 2026 off; Sun 4 Jan is worked: 09:00 + 1 h.
        self.assertEqual(calendar.add_working_hours(at(2025, 12, 31, 17), 2), at(2026, 1, 4, 10))

    def test_zero_hours(self):
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 10, 15), 0), at(2026, 3, 10, 10, 15))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 12), 0), at(2026, 3, 10, 12))  # at closing
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 10, 12, 1), 0), at(2026, 3, 10, 13))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 6, 19), 0), at(2026, 3, 9, 9))

    def test_fractional_hours_are_exact(self):
        # 0.1 h is exactly 6 minutes, as float and as Decimal; ten of them are one hour.
        start = at(2026, 3, 10, 9)
        self.assertEqual(calendar.add_working_hours(start, 0.1), at(2026, 3, 10, 9, 6))
        x = start
        for _ in range(10):
            x = calendar.add_working_hours(x, Decimal("0.1"))
        self.assertEqual(x, at(2026, 3, 10, 10))
        self.assertEqual(calendar.add_working_hours(start, Decimal("0.000001")), at(2026, 3, 10, 9, 0, 0, 3600))

    def test_other_time_zones_in_utc_out_local(self):
        utc_instant = datetime.datetime(2026, 3, 10, 3, 30, tzinfo=datetime.UTC)  # 11:30 in Shanghai
        result = calendar.add_working_hours(utc_instant, 1)
        self.assertEqual(result, at(2026, 3, 10, 13, 30))
        self.assertEqual(result.utcoffset(), datetime.timedelta(hours=8))

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            calendar.add_working_hours(datetime.datetime(2026, 3, 10, 9), 1)  # naive
        with self.assertRaises(ValueError):
            calendar.add_working_hours(at(2026, 3, 10, 9), -1)
        with self.assertRaises(ValueError):
            calendar.add_working_hours(at(2026, 3, 10, 9), float("nan"))


class OtherFunctionTests(KefuTestCase):
    def test_next_opening(self):
        self.assertEqual(calendar.next_opening(at(2026, 3, 10, 10)), at(2026, 3, 10, 10))
        self.assertEqual(calendar.next_opening(at(2026, 3, 10, 12)), at(2026, 3, 10, 13))
        self.assertEqual(calendar.next_opening(at(2026, 3, 10, 18)), at(2026, 3, 11, 9))
        self.assertEqual(calendar.next_opening(at(2026, 2, 14, 18)), at(2026, 2, 24, 9))

    def test_working_time_between(self):
        h = datetime.timedelta(hours=1)
        self.assertEqual(calendar.working_time_between(at(2026, 3, 10, 11), at(2026, 3, 10, 14)), 2 * h)
        # Fri 17:00 → Mon 10:00: 1 h + 1 h.
        self.assertEqual(calendar.working_time_between(at(2026, 3, 6, 17), at(2026, 3, 9, 10)), 2 * h)
        self.assertEqual(calendar.working_time_between(at(2026, 3, 9, 10), at(2026, 3, 6, 17)), 0 * h)
        # A whole ordinary week is 5 × 8 h.
        self.assertEqual(calendar.working_time_between(at(2026, 3, 9), at(2026, 3, 16)), 40 * h)
        # 31 Dec 2025 17:00 → 4 Jan 2026 10:00 across the year end: 1 h + 1 h.
        self.assertEqual(calendar.working_time_between(at(2025, 12, 31, 17), at(2026, 1, 4, 10)), 2 * h)

    def test_close_of_business(self):
        self.assertEqual(calendar.close_of_business(D(2026, 3, 10), 1), at(2026, 3, 11, 18))
        self.assertEqual(calendar.close_of_business(D(2026, 3, 6), 3), at(2026, 3, 11, 18))  # Fri → Wed
        # Spring Festival: after Fri 13 Feb come Sat 14 Feb (worked), Tue 24 Feb, Wed 25 Feb.
        self.assertEqual(calendar.close_of_business(D(2026, 2, 13), 3), at(2026, 2, 25, 18))
        # National Day: after Wed 30 Sep come Thu 8 Oct, Fri 9 Oct, Sat 10 Oct (worked).
        self.assertEqual(calendar.close_of_business(D(2026, 9, 30), 1), at(2026, 10, 8, 18))
        self.assertEqual(calendar.close_of_business(D(2026, 9, 30), 3), at(2026, 10, 10, 18))
        # Mid-autumn: after Thu 24 Sep, Fri 25 – Sun 27 are off.
        self.assertEqual(calendar.close_of_business(D(2026, 9, 24), 1), at(2026, 9, 28, 18))
        # The day itself is not counted even when it is a working day; from a holiday the same.
        self.assertEqual(calendar.close_of_business(D(2026, 2, 17), 1), at(2026, 2, 24, 18))

    def test_close_of_business_rejects_bad_n(self):
        for n in (0, -1, 1.5):
            with self.subTest(n=n), self.assertRaises(ValueError):
                calendar.close_of_business(D(2026, 3, 10), n)


class UncoveredYearTests(KefuTestCase):
    """chinesecalendar 1.11 stops at 2026 (and starts at 2004): 2027 is never guessed."""

    def test_the_package_really_lacks_2027(self):
        self.assertTrue(calendar.package_covers(2026))
        self.assertFalse(calendar.package_covers(2027))
        self.assertFalse(calendar.package_covers(2003))

    def test_every_function_refuses_an_uncovered_year(self):
        calls = [
            lambda: calendar.is_working_day(D(2027, 1, 4)),
            lambda: calendar.working_ranges(D(2027, 3, 1)),
            lambda: calendar.add_working_hours(at(2027, 3, 1, 10), 1),
            lambda: calendar.next_opening(at(2027, 3, 1, 10)),
            lambda: calendar.close_of_business(D(2027, 3, 1), 1),
            lambda: calendar.working_time_between(at(2026, 12, 30, 10), at(2027, 1, 5, 10)),
            lambda: calendar.is_working_day(D(2003, 6, 2)),
        ]
        for call in calls:
            with self.assertRaises(CalendarNotCovered) as caught:
                call()
            self.assertIsInstance(caught.exception, ValidationError)
            self.assertIn(str(caught.exception.year), " ".join(caught.exception.messages))

    def test_a_deadline_reaching_into_an_uncovered_year_refuses(self):
        # Thu 31 Dec 2026 17:00 + 2 h needs January 2027.
        with self.assertRaises(CalendarNotCovered) as caught:
            calendar.add_working_hours(at(2026, 12, 31, 17), 2)
        self.assertEqual(caught.exception.year, 2027)
        with self.assertRaises(CalendarNotCovered):
            calendar.close_of_business(D(2026, 12, 31), 1)
        # Within 2026 it still answers: 31 Dec 16:00 + 1 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 12, 31, 16), 1), at(2026, 12, 31, 17))

    def test_works_after_the_year_is_entered_and_confirmed(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2027, 1, 1), kind="off", note="New Year's Day")
        # Entered but not confirmed: still refused.
        with self.assertRaises(CalendarNotCovered):
            calendar.is_working_day(D(2027, 1, 4))
        services.calendar_year_confirm(actor=self.sysadmin, year=2027)
        self.assertFalse(calendar.is_working_day(D(2027, 1, 1)))  # Friday, entered as off
        self.assertTrue(calendar.is_working_day(D(2027, 1, 4)))  # Monday, weekly hours
        self.assertFalse(calendar.is_working_day(D(2027, 1, 9)))  # Saturday
        # Thu 31 Dec 2026 17:00–18:00 = 1 h; Fri 1 Jan off; weekend; Mon 4 Jan 09:00 + 1 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 12, 31, 17), 2), at(2027, 1, 4, 10))
        self.assertEqual(calendar.close_of_business(D(2026, 12, 31), 1), at(2027, 1, 4, 18))


class OverrideAndCacheTests(KefuTestCase):
    def test_company_day_off_applies_at_once(self):
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))  # warm the cache
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 9, 17), 2), at(2026, 3, 10, 10))
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), kind="off", note="Company outing")
        self.assertFalse(calendar.is_working_day(D(2026, 3, 10)))
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 9, 17), 2), at(2026, 3, 11, 10))
        services.calendar_day_delete(actor=self.sysadmin, date=D(2026, 3, 10))
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))

    def test_extra_working_saturday_uses_monday_hours(self):
        self.assertFalse(calendar.is_working_day(D(2026, 3, 7)))
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 7), kind="working")
        self.assertEqual(
            calendar.working_ranges(D(2026, 3, 7)),
            [(at(2026, 3, 7, 9), at(2026, 3, 7, 12)), (at(2026, 3, 7, 13), at(2026, 3, 7, 18))],
        )
        # Fri 17:30 + 2 h: half an hour, then Saturday 09:00 + 1.5 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 6, 17, 30), 2), at(2026, 3, 7, 10, 30))

    def test_other_hours(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 11), kind="hours", hours=[["10:00", "15:00"]])
        self.assertEqual(calendar.working_ranges(D(2026, 3, 11)), [(at(2026, 3, 11, 10), at(2026, 3, 11, 15))])
        # Wed 14:00 + 2 h: 1 h to 15:00, then Thu 09:00 + 1 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 11, 14), 2), at(2026, 3, 12, 10))

    def test_override_beats_the_statutory_calendar(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 2, 14), kind="off")
        self.assertFalse(calendar.is_working_day(D(2026, 2, 14)))
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 2, 17), kind="working")
        self.assertTrue(calendar.is_working_day(D(2026, 2, 17)))

    def test_weekly_hours_change_applies_at_once(self):
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 6, 11, 30), 1), at(2026, 3, 6, 13, 30))
        services.working_periods_set(actor=self.sysadmin, weekday=4, ranges=[["09:00", "12:00"]])  # short Fridays
        # Fri 11:30–12:00, then Monday 09:00 + 0.5 h.
        self.assertEqual(calendar.add_working_hours(at(2026, 3, 6, 11, 30), 1), at(2026, 3, 9, 9, 30))

    def test_adjusted_working_day_follows_monday_hours(self):
        services.working_periods_set(actor=self.sysadmin, weekday=0, ranges=[["08:00", "12:00"]])
        self.assertEqual(calendar.working_ranges(D(2026, 2, 14)), [(at(2026, 2, 14, 8), at(2026, 2, 14, 12))])

    def test_changes_made_by_another_process_are_seen_after_the_check_interval(self):
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))
        # Another process (or a shell) writes directly: this process has not been told.
        CalendarDay.objects.create(date=D(2026, 3, 10), kind="off")
        WorkingPeriod.objects.filter(weekday=2).delete()
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))  # still the cached snapshot (tests: no re-check)
        with override_settings(KEFU_CALENDAR_CHECK_SECONDS=0):
            self.assertFalse(calendar.is_working_day(D(2026, 3, 10)))
            self.assertFalse(calendar.is_working_day(D(2026, 3, 11)))  # a Wednesday without hours now

    def test_unchanged_configuration_keeps_the_snapshot(self):
        first = calendar.current()
        with override_settings(KEFU_CALENDAR_CHECK_SECONDS=0):
            self.assertIs(calendar.current(), first)
