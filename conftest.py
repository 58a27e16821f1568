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


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "zh_default: run under Kefu's real default language (zh-Hant) instead of English"
    )


@pytest.fixture(autouse=True)
def _english_unless_asked(request, settings):
    """Tests read Kefu's English source messages; the product's zh-Hant default is tested where a
    test says so (``@pytest.mark.zh_default``), by the catalogue tests, and by the browser tests,
    whose Chromium asks for zh-TW."""
    from django.utils import translation

    if request.node.get_closest_marker("zh_default"):
        yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
