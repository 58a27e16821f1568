import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety
# check would otherwise refuse the ORM calls the browser tests make around it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Playwright fixtures (browser, page, phone_page, new_context) for every test module.
pytest_plugins = ["kefu.browser_testing"]


@pytest.fixture(autouse=True)
def _fresh_work_calendar():
    """The work calendar is cached in-process; a rolled-back test's overrides must not leak into the next."""
    from kefu.core import calendar

    calendar.invalidate()
    yield
    calendar.invalidate()
