"""The work calendar's services: validation, replacement, audit entries (kefu/core/services.py)."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import translation

from kefu.core import services
from kefu.core.models import AuditEntry, CalendarDay, CalendarYear, WorkingPeriod
from kefu.people.testing import KefuTestCase

D = datetime.date
T = datetime.time


class CalendarDaySetTests(KefuTestCase):
    def test_creates_then_replaces_with_audit_entries(self):
        row = services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), kind="off", note="Outing")
        self.assertEqual((row.kind, row.hours, row.note), ("off", [], "Outing"))
        services.calendar_day_set(
            actor=self.sysadmin, date=D(2026, 3, 10), kind="hours", hours=[["13:00", "17:00"], ["09:00", "11:00"]]
        )
        self.assertEqual(CalendarDay.objects.count(), 1)
        row.refresh_from_db()
        self.assertEqual(row.hours, [["09:00", "11:00"], ["13:00", "17:00"]])  # stored sorted
        entries = list(AuditEntry.objects.filter(action="calendar_day.set").order_by("id"))
        self.assertEqual(len(entries), 2)
        self.assertEqual(entries[0].actor, self.sysadmin)
        self.assertEqual(entries[0].changes["kind"], [None, "off"])
        self.assertEqual(entries[1].changes["kind"], ["off", "hours"])
        self.assertEqual(entries[1].changes["hours"], [[], [["09:00", "11:00"], ["13:00", "17:00"]]])

    def test_bad_input_names_the_field_and_saves_nothing(self):
        cases = [
            ({"kind": "holiday"}, "kind"),
            ({"kind": "hours"}, "hours"),  # other hours without hours
            ({"kind": "off", "hours": [["09:00", "12:00"]]}, "hours"),
            ({"kind": "hours", "hours": [["12:00", "09:00"]]}, "hours"),
            ({"kind": "hours", "hours": [["09:00", "12:00"], ["11:00", "13:00"]]}, "hours"),
            ({"kind": "hours", "hours": [["9h", "12:00"]]}, "hours"),
            ({"kind": "hours", "hours": [["24:00", "25:00"]]}, "hours"),
            ({"kind": "working", "hours": ["09:00"]}, "hours"),
        ]
        for kwargs, field in cases:
            with self.subTest(kwargs=kwargs), self.assertRaises(ValidationError) as caught:
                services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), **kwargs)
            self.assertEqual(list(caught.exception.message_dict), [field])
        self.assertFalse(CalendarDay.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="calendar").exists())

    def test_messages_name_the_range(self):
        with translation.override("en"), self.assertRaises(ValidationError) as caught:
            services.calendar_day_set(
                actor=self.sysadmin, date=D(2026, 3, 10), kind="hours",
                hours=[["09:00", "12:00"], ["14:00", "13:00"], ["11:00", "12:30"]],
            )
        messages = caught.exception.message_dict["hours"]
        self.assertTrue(any("Range 2" in m and "13:00" in m and "14:00" in m for m in messages), messages)
        self.assertTrue(any("1" in m and "3" in m and "overlap" in m for m in messages), messages)

    def test_delete(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), kind="off")
        services.calendar_day_delete(actor=self.sysadmin, date=D(2026, 3, 10), reason="Cancelled")
        self.assertFalse(CalendarDay.objects.exists())
        entry = AuditEntry.objects.get(action="calendar_day.delete")
        self.assertEqual(entry.reason, "Cancelled")
        self.assertEqual(entry.changes["kind"], ["off", None])
        with self.assertRaises(ValidationError) as caught:
            services.calendar_day_delete(actor=self.sysadmin, date=D(2026, 3, 10))
        self.assertIn("date", caught.exception.message_dict)


class WorkingPeriodsSetTests(KefuTestCase):
    def test_replaces_a_weekdays_ranges(self):
        services.working_periods_set(
            actor=self.sysadmin, weekday=5, ranges=[["09:00", "12:00"]], reason="Saturday desk"
        )
        services.working_periods_set(actor=self.sysadmin, weekday=0, ranges=[[T(8), T(12)], ["13:00", "17:00"]])
        self.assertEqual(
            list(WorkingPeriod.objects.filter(weekday__in=[0, 5]).values_list("weekday", "start", "end")),
            [(0, T(8), T(12)), (0, T(13), T(17)), (5, T(9), T(12))],
        )
        entry = AuditEntry.objects.filter(action="working_periods.set").order_by("id").last()
        self.assertEqual(
            entry.changes["ranges"], [[["09:00", "12:00"], ["13:00", "18:00"]], [["08:00", "12:00"], ["13:00", "17:00"]]]
        )

    def test_no_ranges_means_no_work_and_is_audited(self):
        services.working_periods_set(actor=self.sysadmin, weekday=2, ranges=[], reason="Closed on Wednesdays")
        self.assertFalse(WorkingPeriod.objects.filter(weekday=2).exists())
        entry = AuditEntry.objects.get(action="working_periods.set")
        self.assertEqual(entry.changes["ranges"][1], [])
        self.assertEqual(entry.reason, "Closed on Wednesdays")

    def test_unchanged_ranges_write_nothing(self):
        services.working_periods_set(actor=self.sysadmin, weekday=1, ranges=[["09:00", "12:00"], ["13:00", "18:00"]])
        self.assertFalse(AuditEntry.objects.filter(action="working_periods.set").exists())

    def test_bad_input_keeps_the_old_hours(self):
        cases = [
            ({"weekday": 7, "ranges": []}, "weekday"),
            ({"weekday": 1, "ranges": [["18:00", "09:00"]]}, "ranges"),
            ({"weekday": 1, "ranges": [["09:00", "12:00"], ["09:00", "10:00"]]}, "ranges"),
        ]
        for kwargs, field in cases:
            with self.subTest(kwargs=kwargs), self.assertRaises(ValidationError) as caught:
                services.working_periods_set(actor=self.sysadmin, **kwargs)
            self.assertEqual(list(caught.exception.message_dict), [field])
        self.assertEqual(
            list(WorkingPeriod.objects.filter(weekday=1).values_list("start", "end")), [(T(9), T(12)), (T(13), T(18))]
        )


class CalendarYearConfirmTests(KefuTestCase):
    def test_refuses_a_year_the_package_covers(self):
        with self.assertRaises(ValidationError) as caught:
            services.calendar_year_confirm(actor=self.sysadmin, year=2026)
        self.assertIn("2026", caught.exception.message_dict["year"][0])
        self.assertFalse(CalendarYear.objects.exists())

    def test_refuses_a_year_without_days_off(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2027, 2, 20), kind="working")
        with self.assertRaises(ValidationError) as caught:
            services.calendar_year_confirm(actor=self.sysadmin, year=2027)
        self.assertIn("2027", caught.exception.message_dict["year"][0])
        self.assertFalse(CalendarYear.objects.exists())

    def test_confirms_once_with_an_audit_entry(self):
        for day in (D(2027, 1, 1), D(2027, 2, 8), D(2027, 2, 9)):
            services.calendar_day_set(actor=self.sysadmin, date=day, kind="off")
        services.calendar_day_set(actor=self.sysadmin, date=D(2027, 2, 20), kind="working")
        row = services.calendar_year_confirm(actor=self.sysadmin, year=2027, note="State Council notice")
        again = services.calendar_year_confirm(actor=self.sysadmin, year=2027)
        self.assertEqual(row.pk, again.pk)
        self.assertEqual(row.confirmed_by, self.sysadmin)
        entry = AuditEntry.objects.get(action="calendar_year.confirm")
        self.assertEqual(entry.changes, {"year": [None, 2027], "days_off": [None, 3], "working_days": [None, 1]})
        self.assertEqual(entry.reason, "State Council notice")

    def test_refuses_silly_years(self):
        for year in (1899, 2200, "2027"):
            with self.subTest(year=year), self.assertRaises(ValidationError):
                services.calendar_year_confirm(actor=self.sysadmin, year=year)
