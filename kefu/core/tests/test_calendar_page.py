"""The work calendar page (core:calendar) and its system-admin forms."""

import datetime

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from kefu.core import calendar, services
from kefu.core.models import AuditEntry, CalendarDay, CalendarYear, WorkingPeriod
from kefu.people.testing import KefuTestCase

D = datetime.date
T = datetime.time
URL = reverse("core:calendar")
DAY_SET = reverse("core:calendar_day_set")
DAY_DELETE = reverse("core:calendar_day_delete")
HOURS_SET = reverse("core:calendar_hours_set")
YEAR_CONFIRM = reverse("core:calendar_year_confirm")


class CalendarPageAccessTests(KefuTestCase):
    def test_anonymous_is_sent_to_login(self):
        for url in (URL, DAY_SET, DAY_DELETE, HOURS_SET, YEAR_CONFIRM):
            response = self.client.get(url) if url == URL else self.client.post(url, {})
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith(reverse("login")), url)

    def test_everyone_signed_in_may_view(self):
        for user in (self.agent, self.team_lead, self.hr, self.inspector, self.outsider, self.sysadmin):
            self.assertStatus(user, "get", f"{URL}?year=2026", 200)

    def test_only_system_admins_may_post(self):
        posts = [
            (DAY_SET, {"date": "2026-03-10", "kind": "off"}),
            (DAY_DELETE, {"date": "2026-03-10"}),
            (HOURS_SET, {"weekday": "5", "ranges": "09:00-12:00"}),
            (YEAR_CONFIRM, {"year": "2027"}),
        ]
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), kind="working")
        for user in (self.agent, self.supervisor, self.admin_clerk, self.hr, self.leadership, self.inspector):
            for url, data in posts:
                self.assertStatus(user, "post", url, 403, data)
        self.assertEqual(CalendarDay.objects.get().kind, "working")
        self.assertFalse(WorkingPeriod.objects.filter(weekday=5).exists())
        self.assertFalse(CalendarYear.objects.exists())

    def test_removing_a_missing_override_is_404(self):
        self.assertStatus(self.sysadmin, "post", DAY_DELETE, 404, {"date": "2026-03-10"})

    def test_get_only_page_and_post_only_forms(self):
        self.assertStatus(self.sysadmin, "post", URL, 405)
        self.assertStatus(self.sysadmin, "get", DAY_SET, 405)

    def test_nav_entry_for_everyone(self):
        self.login(self.agent)
        self.assertContains(self.client.get(reverse("core:workbench")), f'href="{URL}"')


# The assertions read the English messages; the Chinese ones are checked by the catalogue tests.
@override_settings(LANGUAGE_CODE="en")
class CalendarPageContentTests(KefuTestCase):
    def test_year_view_marks_holidays_adjusted_days_and_weekly_hours(self):
        self.login(self.agent)
        response = self.client.get(f"{URL}?year=2026")
        self.assertContains(response, 'data-testid="calendar-months"')
        self.assertContains(response, 'data-testid="year-covered"')
        self.assertContains(response, 'class="day-holiday" data-date="2026-02-17"')
        self.assertContains(response, 'class="day-adjusted" data-date="2026-02-14"')
        self.assertContains(response, 'class="day-work" data-date="2026-03-10"')
        self.assertContains(response, 'class="day-rest" data-date="2026-03-07"')
        self.assertContains(response, "Spring Festival")  # the holiday's name, through gettext
        self.assertContains(response, "09:00–12:00, 13:00–18:00")  # weekly hours
        self.assertNotContains(response, 'data-testid="override-form"')
        self.assertNotContains(response, f'action="{HOURS_SET}"')

    def test_a_festival_is_one_row_of_the_list(self):
        self.login(self.agent)
        response = self.client.get(f"{URL}?year=2026")
        rows = [r for r in response.context["notable"] if r["day"].holiday_name == "Spring Festival"]
        # Saturday 14 Feb (worked), 15–23 Feb (off, 9 days), Saturday 28 Feb (worked).
        self.assertEqual(
            [(r["first"], r["last"], r["count"], r["day"].status) for r in rows],
            [(D(2026, 2, 14), D(2026, 2, 14), 1, "adjusted"), (D(2026, 2, 15), D(2026, 2, 23), 9, "holiday"),
             (D(2026, 2, 28), D(2026, 2, 28), 1, "adjusted")],
        )
        self.assertContains(response, 'data-date="2026-02-15">', count=2)  # the month grid and the list
        self.assertContains(response, 'data-date="2026-02-16">', count=1)  # the month grid only

    def test_sysadmin_gets_the_forms(self):
        self.login(self.sysadmin)
        response = self.client.get(f"{URL}?year=2026")
        self.assertContains(response, 'data-testid="override-form"')
        self.assertContains(response, f'action="{HOURS_SET}"', count=7)

    def test_selected_day_shows_its_detail_and_prefills_the_override(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 11), kind="hours",
                                  hours=[["10:00", "15:00"]], note="Training afternoon")
        self.login(self.sysadmin)
        response = self.client.get(f"{URL}?day=2026-03-11")
        self.assertEqual(response.context["year"], 2026)
        self.assertContains(response, 'data-testid="day-detail"')
        self.assertContains(response, "10:00–15:00")
        self.assertContains(response, 'value="10:00-15:00"')
        self.assertContains(response, 'value="Training afternoon"')
        self.assertContains(response, 'class="day-company_work day-override day-selected" data-date="2026-03-11"')

    def test_uncovered_year_shows_a_notice_and_the_confirm_form(self):
        self.login(self.agent)
        response = self.client.get(f"{URL}?year=2027")
        self.assertContains(response, 'data-testid="year-not-covered"')
        self.assertNotContains(response, 'data-testid="year-confirm-form"')
        self.assertContains(response, 'data-testid="notable-empty"')
        self.login(self.sysadmin)
        response = self.client.get(f"{URL}?year=2027")
        self.assertContains(response, 'data-testid="year-confirm-form"')

    def test_bad_year_parameter_falls_back_with_a_message(self):
        self.login(self.agent)
        with translation.override("en"):
            response = self.client.get(f"{URL}?year=abc", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["year"], timezone.localdate().year)
        self.assertEqual(len(list(response.context["messages"])), 1)

    def test_query_count_does_not_grow_with_overrides(self):
        self.login(self.sysadmin)
        calendar.invalidate()
        with CaptureQueriesContext(connection) as empty:
            self.client.get(f"{URL}?year=2026")
        for i in range(40):
            day = D(2026, 3, 2) + datetime.timedelta(days=i)
            services.calendar_day_set(actor=self.sysadmin, date=day, kind="off", note=f"n{i}")
        calendar.invalidate()
        with self.assertNumQueries(len(empty.captured_queries)):
            response = self.client.get(f"{URL}?year=2026")
        self.assertContains(response, "n39")


# The assertions read the English messages; the Chinese ones are checked by the catalogue tests.
@override_settings(LANGUAGE_CODE="en")
class CalendarFormPostTests(KefuTestCase):
    def setUp(self):
        self.login(self.sysadmin)

    def test_add_an_override(self):
        response = self.client.post(DAY_SET, {"date": "2026-03-10", "kind": "hours", "hours": "10:00-12:00，13:00-16:00",
                                              "note": "Half day", "year": "2026"})
        self.assertRedirects(response, f"{URL}?year=2026&day=2026-03-10#day-detail", fetch_redirect_response=False)
        row = CalendarDay.objects.get()
        self.assertEqual((row.date, row.kind, row.hours, row.note),
                         (D(2026, 3, 10), "hours", [["10:00", "12:00"], ["13:00", "16:00"]], "Half day"))
        entry = AuditEntry.objects.get(action="calendar_day.set")
        self.assertEqual(entry.actor, self.sysadmin)
        self.assertEqual(entry.object_id, str(row.pk))
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))
        self.assertEqual(calendar.working_ranges(D(2026, 3, 10))[-1][1].time(), T(16))

    def test_end_before_start_shows_a_message_and_saves_nothing(self):
        with translation.override("en"):
            response = self.client.post(DAY_SET, {"date": "2026-03-10", "kind": "hours", "hours": "12:00-09:00",
                                                  "year": "2026"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("hours", response.context["day_form"].errors)
        self.assertContains(response, "must be after the start")
        # The failed form is shown at the POST address; the page's links still lead to the calendar.
        self.assertContains(response, f'href="{URL}?year=2025"')
        self.assertFalse(CalendarDay.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())

    def test_unreadable_range_and_missing_date(self):
        response = self.client.post(DAY_SET, {"date": "", "kind": "hours", "hours": "nine to twelve"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["day_form"].errors), {"date", "hours"})
        self.assertFalse(CalendarDay.objects.exists())

    def test_remove_an_override(self):
        services.calendar_day_set(actor=self.sysadmin, date=D(2026, 3, 10), kind="off")
        response = self.client.post(DAY_DELETE, {"date": "2026-03-10", "year": "2026", "reason": "Plans changed"})
        self.assertRedirects(response, f"{URL}?year=2026", fetch_redirect_response=False)
        self.assertFalse(CalendarDay.objects.exists())
        self.assertEqual(AuditEntry.objects.get(action="calendar_day.delete").reason, "Plans changed")
        self.assertTrue(calendar.is_working_day(D(2026, 3, 10)))

    def test_edit_weekly_hours(self):
        response = self.client.post(HOURS_SET, {"weekday": "5", "ranges": "09:00-12:00", "year": "2026"})
        self.assertRedirects(response, f"{URL}?year=2026#weekly-hours", fetch_redirect_response=False)
        self.assertEqual(list(WorkingPeriod.objects.filter(weekday=5).values_list("start", "end")), [(T(9), T(12))])
        self.assertTrue(AuditEntry.objects.filter(action="working_periods.set").exists())
        self.assertTrue(calendar.is_working_day(D(2026, 3, 7)))  # an ordinary Saturday now works

    def test_overlapping_weekly_hours_are_refused(self):
        with translation.override("en"):
            response = self.client.post(HOURS_SET, {"weekday": "1", "ranges": "09:00-12:00, 11:00-13:00",
                                                    "year": "2026"})
        self.assertContains(response, "overlap")
        self.assertEqual(list(WorkingPeriod.objects.filter(weekday=1).values_list("start", "end")),
                         [(T(9), T(12)), (T(13), T(18))])
        self.assertFalse(AuditEntry.objects.exists())

    def test_confirm_an_uncovered_year(self):
        response = self.client.post(YEAR_CONFIRM, {"year": "2027"})
        self.assertEqual(response.status_code, 200)  # nothing entered yet
        self.assertFalse(CalendarYear.objects.exists())
        self.assertContains(response, "2027")
        services.calendar_day_set(actor=self.sysadmin, date=D(2027, 1, 1), kind="off", note="New Year's Day")
        response = self.client.post(YEAR_CONFIRM, {"year": "2027", "note": "per State Council notice"})
        self.assertRedirects(response, f"{URL}?year=2027", fetch_redirect_response=False)
        self.assertEqual(CalendarYear.objects.get().confirmed_by, self.sysadmin)
        self.assertTrue(AuditEntry.objects.filter(action="calendar_year.confirm").exists())
        page = self.client.get(f"{URL}?year=2027")
        self.assertContains(page, 'data-testid="year-confirmed"')
        self.assertNotContains(page, 'data-testid="year-not-covered"')

    def test_confirming_a_covered_year_is_refused_with_a_message(self):
        response = self.client.post(YEAR_CONFIRM, {"year": "2026"})
        self.assertContains(response, 'data-testid="confirm-errors"')
        self.assertFalse(CalendarYear.objects.exists())
