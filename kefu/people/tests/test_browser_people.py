"""The people pages in a real browser: they fit a phone, raise no console errors, and an import runs end to end."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login, screenshot
from kefu.people.demo import DEMO_LOGINS, build_demo
from kefu.people.models import Employee, Role


@pytest.fixture
def demo(live_server):
    return build_demo(agents_per_team=3)


def fits_the_screen(page) -> bool:
    # Compared with the screen, not innerWidth: a phone zooms out (and widens innerWidth) when a page overflows.
    return page.evaluate("document.documentElement.scrollWidth <= screen.width && window.innerWidth <= screen.width")


def test_pages_fit_a_phone(demo, live_server, phone_page):
    page = phone_page
    login(page, live_server.url, DEMO_LOGINS[Role.SYSADMIN])
    someone = Employee.objects.order_by("employee_no").first()
    urls = {
        "employees": reverse("people:employee_list"),
        "employee": reverse("people:employee_detail", args=[someone.employee_no]),
        "employee-edit": reverse("people:employee_edit", args=[someone.employee_no]),
        "import": reverse("people:employee_import"),
        "org-units": reverse("people:org_units"),
        "roles": reverse("people:roles"),
    }
    problems = []
    for name, url in urls.items():
        page.goto(live_server.url + url)
        expect(page.get_by_test_id("page-title")).to_be_visible()
        screenshot(page, f"people-{name}-phone")
        if not fits_the_screen(page):
            problems.append(f"{name} is wider than the phone")
    assert not console_errors(page), console_errors(page)
    assert not problems, problems


def test_hr_imports_a_csv_through_the_page(demo, live_server, page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    unit = Employee.objects.filter(status=Employee.Status.ACTIVE).first().org_unit
    csv_file = tmp_path / "new-hires.csv"
    csv_file.write_bytes(f"工號,姓名,性別,入職日期,部門\nBT001,瀏覽器測試,女,2024/5/6,{unit.code}\n".encode("gbk"))
    login(page, live_server.url, DEMO_LOGINS[Role.HR])
    page.goto(live_server.url + reverse("people:employee_import"))
    page.get_by_test_id("import-upload").locator("input[type=file]").set_input_files(str(csv_file))
    with page.expect_navigation():
        page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-preview")).to_contain_text("瀏覽器測試")
    assert not Employee.objects.filter(employee_no="BT001").exists()
    screenshot(page, "people-import-preview-desktop")
    with page.expect_navigation():
        page.get_by_test_id("import-confirm").locator("button[type=submit]").click()
    assert page.url.endswith(reverse("people:employee_list"))
    employee = Employee.objects.get(employee_no="BT001")
    assert (employee.name, employee.org_unit_id, employee.status) == ("瀏覽器測試", unit.pk, Employee.Status.PENDING)
    assert not console_errors(page), console_errors(page)
