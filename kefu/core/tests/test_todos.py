import datetime
from unittest import mock

from django.urls import reverse

from kefu.core.models import CalendarYear
from kefu.people.testing import KefuTestCase


def at(day: datetime.date):
    """Pin "today" (company local date) for the to-do provider."""
    return mock.patch("kefu.core.todos.timezone.localdate", return_value=day)


class CalendarYearTodoTests(KefuTestCase):
    def test_sysadmin_is_asked_for_2027_in_late_2026(self):
        # chinesecalendar 1.11 knows 2026 but not 2027.
        self.login(self.sysadmin)
        with at(datetime.date(2026, 11, 26)):
            response = self.client.get(reverse("core:workbench"))
        self.assertContains(response, f"{reverse('core:calendar')}?year=2027")

    def test_not_asked_early_in_the_year(self):
        self.login(self.sysadmin)
        with at(datetime.date(2026, 3, 1)):
            response = self.client.get(reverse("core:workbench"))
        self.assertNotContains(response, "?year=2027")

    def test_not_asked_once_the_year_is_confirmed(self):
        CalendarYear.objects.create(year=2027)
        self.login(self.sysadmin)
        with at(datetime.date(2026, 12, 20)):
            response = self.client.get(reverse("core:workbench"))
        self.assertNotContains(response, "?year=2027")

    def test_other_roles_are_not_asked(self):
        self.login(self.hr)
        with at(datetime.date(2026, 12, 20)):
            response = self.client.get(reverse("core:workbench"))
        self.assertNotContains(response, "?year=2027")
