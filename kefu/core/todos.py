"""Core's own workbench to-dos."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import registry
from kefu.core.calendar import package_covers
from kefu.core.models import CalendarYear
from kefu.core.registry import Todo

# From this many days before a year ends, the system admin is asked to enter the next one.
CALENDAR_WARNING_DAYS = 60


def calendar_years_to_enter(user) -> list[Todo]:
    """Deadlines stop at the end of a year nobody has entered (policy E1.3 needs working days)."""
    if "sysadmin" not in registry.roles_of(user):
        return []
    today = timezone.localdate()
    years = [today.year]
    if (today.replace(month=12, day=31) - today).days < CALENDAR_WARNING_DAYS:
        years.append(today.year + 1)
    missing = [y for y in years if not package_covers(y)]
    if missing:
        missing = sorted(set(missing) - set(CalendarYear.objects.filter(year__in=missing).values_list("year", flat=True)))
    return [
        Todo(
            title=_("Enter the statutory holidays and adjusted working days of %(year)s") % {"year": year},
            url=f"{reverse('core:calendar')}?year={year}",
            due=today.replace(month=12, day=31) if year > today.year else today,
            late=year == today.year,
        )
        for year in missing
    ]
