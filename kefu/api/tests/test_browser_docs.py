"""The API docs page in a real browser: Swagger UI renders from our own static files under the
Content-Security-Policy, and "try it out" calls the API with the session."""

from playwright.sync_api import expect

from kefu.browser_testing import console_errors, login
from kefu.people.testing import PASSWORD, build_company


def test_docs_render_offline_under_csp_and_try_it_out_works(live_server, page):
    build_company()
    login(page, live_server.url, "supervisor", PASSWORD)
    # A fresh tab of the same session, so only the docs page's own console messages count.
    page = page.context.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    operation = page.locator(".opblock-get").filter(has_text="/api/v1/org-units").first
    expect(operation).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="employees")).to_be_visible()

    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/org-units")) as answer:
        page.get_by_role("button", name="Execute").click()
    assert answer.value.status == 200
    assert [u["code"] for u in answer.value.json()] == ["CS1", "CS1-T1", "CS1-T2"]

    assert external == [], external
    assert not console_errors(page), console_errors(page)
