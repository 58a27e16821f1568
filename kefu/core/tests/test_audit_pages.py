"""The audit log page, one entry's page, the Excel export and ``{% object_history %}``."""

import datetime
import io
import re

from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kefu.core import audit
from kefu.core.models import AuditEntry
from kefu.people import services as people
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase

UTC = datetime.UTC


class AuditPageTestCase(KefuTestCase):
    def setUp(self):
        self.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def record(self, obj=None, *, actor=None, action="orgunit.update", changes=None, reason="", at=None):
        entry = audit.record(actor=actor or self.hr, action=action, obj=obj or self.cs1, changes=changes or {},
                             reason=reason)
        if at is not None:
            # Page tests only: moving the time breaks the hash, which these pages do not check.
            AuditEntry.objects.filter(pk=entry.pk).update(at=at)
        return entry

    def listed_ids(self, response) -> list[int]:
        return [int(n) for n in re.findall(r'data-testid="audit-entry">\s*<div[^>]*>\s*<a href="/audit/(\d+)/"',
                                           response.content.decode())]


class AuditLogAccessTests(AuditPageTestCase):
    def test_anonymous_is_sent_to_login(self):
        for name, args in (("core:audit_log", []), ("core:audit_export", []), ("core:audit_entry", [1])):
            url = reverse(name, args=args)
            response = self.client.get(url)
            self.assertRedirects(response, f"{reverse('login')}?next={url}", fetch_redirect_response=False)

    def test_hr_inspector_and_sysadmin_read_the_log(self):
        for user in (self.hr, self.inspector, self.sysadmin):
            self.assertStatus(user, "get", reverse("core:audit_log"), 200)
            self.assertStatus(user, "get", reverse("core:audit_export"), 200)

    def test_everyone_else_is_refused_the_log(self):
        for user in (self.agent, self.team_lead, self.supervisor, self.dept_head, self.admin_clerk,
                     self.leadership, self.outsider):
            self.assertStatus(user, "get", reverse("core:audit_log"), 403)
            self.assertStatus(user, "get", reverse("core:audit_export"), 403)

    def test_an_entry_is_not_found_for_those_who_may_not_read_the_log(self):
        entry = self.record()
        url = reverse("core:audit_entry", args=[entry.pk])
        self.assertStatus(self.inspector, "get", url, 200)
        for user in (self.agent, self.supervisor, self.leadership):
            self.assertStatus(user, "get", url, 404)
        self.assertStatus(self.hr, "get", reverse("core:audit_entry", args=[entry.pk + 1000]), 404)

    def test_nobody_may_change_an_entry(self):
        from kefu.core import access

        entry = self.record()
        for user in (self.sysadmin, self.hr, self.inspector):
            self.assertFalse(access.can_change(user, entry))

    def test_navigation_shows_the_log_only_to_its_readers(self):
        self.login(self.hr)
        self.assertContains(self.client.get(reverse("core:workbench")), f'href="{reverse("core:audit_log")}"')
        self.login(self.supervisor)
        self.assertNotContains(self.client.get(reverse("core:workbench")), f'href="{reverse("core:audit_log")}"')


class AuditLogContentTests(AuditPageTestCase):
    def test_empty_log_says_so(self):
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_log"))
        self.assertContains(response, "Nothing has been recorded yet.")

    def test_entry_shows_who_what_changed_and_why(self):
        employee = Employee.objects.get(user=self.agent)
        people.employee_update(actor=self.hr, employee=employee, position="Senior agent", reason="Promoted in March")
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_log"))
        entry = AuditEntry.objects.get(action="employee.update")
        html = response.content.decode()
        self.assertIn(f'href="{reverse("core:audit_entry", args=[entry.pk])}"', html)
        self.assertIn("黃佩君", html)  # HR's name, not only her login
        self.assertIn("employee.update", html)
        self.assertIn("王小美 (CS1001)", html)
        self.assertRegex(html, r"(?s)position</dt>\s*<dd[^>]*>\s*<span[^>]*>—</span>.*?<ins[^>]*>Senior agent</ins>")
        self.assertIn("Promoted in March", html)

    def test_changes_show_before_and_after_with_field_names_and_choice_labels(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, changes={"status": ["pending", "active"], "position": ["Agent", "Lead"]})
        self.login(self.hr)
        html = self.client.get(reverse("core:audit_log")).content.decode()
        self.assertRegex(html, r"(?s)status</dt>\s*<dd[^>]*>\s*<del[^>]*>Hired, not yet onboarded</del>.*?<ins[^>]*>Active</ins>")
        self.assertRegex(html, r"(?s)position</dt>\s*<dd[^>]*>\s*<del[^>]*>Agent</del>.*?<ins[^>]*>Lead</ins>")

    def test_markup_in_a_change_or_a_filter_is_shown_as_text(self):
        """The change rows and the object-type menu are written in Python (issue 9): still escaped."""
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, changes={'position"><script>alert(1)</script>': ["<b>Agent</b>", "<i>Lead</i>"]},
                    reason="<script>alert(2)</script>")
        self.login(self.hr)
        html = self.client.get(reverse("core:audit_log"), {"object_type": '"><script>alert(3)</script>'}).content.decode()
        html += self.client.get(reverse("core:audit_log")).content.decode()
        self.assertNotIn("<script>alert", html)
        self.assertNotIn("<b>Agent</b>", html)
        self.assertIn("&lt;b&gt;Agent&lt;/b&gt;", html)
        self.assertIn("&lt;i&gt;Lead&lt;/i&gt;", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)

    def test_newest_first(self):
        first, second, third = self.record(), self.record(), self.record()
        self.login(self.hr)
        self.assertEqual(self.listed_ids(self.client.get(reverse("core:audit_log"))), [third.pk, second.pk, first.pk])

    def test_pages_run_by_id_both_ways(self):
        ids = [self.record(reason=f"r{i}").pk for i in range(120)]
        newest_first = ids[::-1]
        self.login(self.hr)
        page1 = self.client.get(reverse("core:audit_log"))
        self.assertEqual(self.listed_ids(page1), newest_first[:50])
        self.assertNotContains(page1, 'data-testid="audit-newer"')
        page2 = self.client.get(reverse("core:audit_log"), {"before": newest_first[49]})
        self.assertEqual(self.listed_ids(page2), newest_first[50:100])
        page3 = self.client.get(reverse("core:audit_log"), {"before": newest_first[99]})
        self.assertEqual(self.listed_ids(page3), newest_first[100:])
        self.assertNotContains(page3, 'data-testid="audit-older"')
        self.assertContains(page3, 'data-testid="audit-newer"')
        back = self.client.get(reverse("core:audit_log"), {"after": newest_first[100]})
        self.assertEqual(self.listed_ids(back), newest_first[50:100])

    def test_paging_keeps_the_filters(self):
        for i in range(55):
            self.record(action="employee.update", obj=self.cs1, reason=f"e{i}")
        self.record(action="orgunit.update")
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_log"), {"action": "employee."})
        older = re.search(r'href="([^"]+)" data-testid="audit-older"', response.content.decode()).group(1)
        self.assertIn("action=employee.", older.replace("&amp;", "&"))

    def test_detail_page_shows_the_entry_and_checks_its_hash(self):
        entry = self.record(changes={"name": ["客服一部", "客服壹部"]}, reason="typo")
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_entry", args=[entry.pk]))
        self.assertContains(response, 'data-testid="hash-ok"')
        self.assertContains(response, "客服壹部</ins>")
        self.assertContains(response, entry.hash)
        AuditEntry.objects.filter(pk=entry.pk).update(reason="changed later")
        response = self.client.get(reverse("core:audit_entry", args=[entry.pk]))
        self.assertContains(response, 'data-testid="hash-bad"')


class AuditLogFilterTests(AuditPageTestCase):
    def get_ids(self, **params) -> list[int]:
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_log"), params)
        self.assertEqual(response.status_code, 200)
        return self.listed_ids(response)

    def test_dates_are_company_local_days(self):
        # Asia/Shanghai is UTC+8: 15:59 UTC on 1 March is 23:59 on 1 March there, 16:30 UTC is 00:30 on 2 March.
        late_first = self.record(at=datetime.datetime(2025, 3, 1, 15, 59, tzinfo=UTC))
        early_second = self.record(at=datetime.datetime(2025, 3, 1, 16, 30, tzinfo=UTC))
        self.record(at=datetime.datetime(2025, 2, 28, 15, 59, tzinfo=UTC))  # 23:59 on 28 February locally
        self.assertEqual(self.get_ids(date_from="2025-03-01", date_to="2025-03-01"), [late_first.pk])
        self.assertEqual(self.get_ids(date_from="2025-03-02"), [early_second.pk])

    def test_actor_by_login_or_name(self):
        by_hr = self.record(actor=self.hr)
        by_admin = self.record(actor=self.sysadmin)
        self.assertEqual(self.get_ids(actor="sysad"), [by_admin.pk])
        self.assertEqual(self.get_ids(actor="佩君"), [by_hr.pk])  # 黃佩君 is HR

    def test_action_object_type_and_id(self):
        employee = Employee.objects.get(user=self.agent)
        on_employee = self.record(employee, action="employee.update")
        on_unit = self.record(self.cs1, action="orgunit.update")
        on_other_unit = self.record(self.cs2, action="orgunit.update")
        self.assertEqual(self.get_ids(action="employee"), [on_employee.pk])
        self.assertEqual(self.get_ids(object_type="people.orgunit"), [on_other_unit.pk, on_unit.pk])
        self.assertEqual(self.get_ids(object_type="people.orgunit", object_id=str(self.cs1.pk)), [on_unit.pk])

    def test_text_in_reason_or_object(self):
        by_reason = self.record(self.cs2, reason="Annual reorganisation")
        by_object = self.record(self.cs1)  # 客服一部
        self.record(self.hr_dept)
        self.assertEqual(self.get_ids(q="reorganisation"), [by_reason.pk])
        self.assertEqual(self.get_ids(q="一部"), [by_object.pk])

    def test_bad_filters_are_named_and_show_nothing(self):
        self.record()
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_log"), {"date_from": "2025-03-05", "date_to": "2025-03-01"})
        self.assertContains(response, "The end date is before the start date.")
        self.assertEqual(self.listed_ids(response), [])
        response = self.client.get(reverse("core:audit_log"), {"date_from": "yesterday"})
        self.assertContains(response, "Enter a valid date.")
        response = self.client.get(reverse("core:audit_log"), {"object_type": "nope.nothing"})
        self.assertContains(response, "Select a valid choice.")

    def test_no_match_says_so(self):
        self.record()
        self.login(self.hr)
        self.assertContains(self.client.get(reverse("core:audit_log"), {"q": "zzz"}), "No entries match these filters.")


class AuditLogQueryCountTests(AuditPageTestCase):
    def count_queries(self, url: str, params=None) -> int:
        self.login(self.hr)
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url, params or {})
        self.assertEqual(response.status_code, 200)
        return len(ctx.captured_queries)

    def test_log_page_queries_do_not_grow_with_entries(self):
        self.record()
        baseline = self.count_queries(reverse("core:audit_log"))
        employee = Employee.objects.get(user=self.agent)
        for i, actor in enumerate([self.hr, self.inspector, self.sysadmin, self.supervisor] * 15):
            self.record(employee if i % 2 else self.cs2, actor=actor, changes={"position": [str(i), str(i + 1)]})
        AuditEntry.objects.create(  # written by the system: no actor at all
            at=datetime.datetime(2025, 1, 1, tzinfo=UTC), actor=None, actor_repr="system", action="x.y",
            object_type="people.orgunit", object_id="1", prev_hash="p", hash="h",
        )
        self.login(self.hr)
        with self.assertNumQueries(baseline):
            self.client.get(reverse("core:audit_log"))
        with self.assertNumQueries(baseline):
            self.client.get(reverse("core:audit_log"), {"actor": "黃", "q": "一部"})

    def test_export_queries_do_not_grow_with_entries(self):
        self.record()
        baseline = self.count_queries(reverse("core:audit_export"))
        for actor in [self.hr, self.inspector, self.sysadmin] * 20:
            self.record(actor=actor)
        self.login(self.hr)
        with self.assertNumQueries(baseline):
            self.client.get(reverse("core:audit_export"))


class AuditExportTests(AuditPageTestCase):
    def test_export_holds_the_filtered_entries(self):
        employee = Employee.objects.get(user=self.agent)
        wanted = self.record(employee, action="employee.update", changes={"position": ["Agent", "Lead"]},
                             reason="=SUM(A1)")
        self.record(self.cs1, action="orgunit.update")
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_export"), {"action": "employee"})
        self.assertEqual(response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(len(rows), 2)  # header and the one employee entry
        row = dict(zip(rows[0], rows[1], strict=True))
        self.assertEqual(row["No."], wanted.pk)
        self.assertEqual(row["Who"], "黃佩君")
        self.assertEqual(row["Action"], "employee.update")
        self.assertEqual(row["Changes"], "position: Agent → Lead")
        self.assertEqual(row["Reason"], "'=SUM(A1)")  # a formula is neutralised
        local = wanted.at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).replace(tzinfo=None)
        self.assertEqual(row["Time"].replace(microsecond=0), local.replace(microsecond=0))

    def test_bad_filter_exports_nothing(self):
        self.login(self.hr)
        response = self.client.get(reverse("core:audit_export"), {"date_from": "not a date"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Enter a valid date.", status_code=400)


class ObjectHistoryTagTests(AuditPageTestCase):
    def render(self, obj, user=None, limit=None) -> str:
        request = RequestFactory().get("/")
        # A fresh user each time, as in a request: roles are looked up once per request.
        request.user = type(self.hr).objects.get(pk=(user or self.hr).pk)
        tag = "{% load kefu_audit %}{% object_history obj" + (f" {limit}" if limit else "") + " %}"
        return Template(tag).render(Context({"obj": obj, "request": request}))

    def test_lists_only_that_objects_entries_newest_first(self):
        older = self.record(self.cs1, reason="first change")
        self.record(self.cs2, reason="another unit")
        newer = self.record(self.cs1, actor=self.sysadmin, reason="second change", changes={"name": ["a", "b"]})
        html = self.render(self.cs1)
        self.assertIn("first change", html)
        self.assertIn("second change", html)
        self.assertNotIn("another unit", html)
        self.assertLess(html.index("second change"), html.index("first change"))
        self.assertIn("孫浩然", html)  # the system admin by name
        self.assertEqual(html.count('data-testid="history-entry"'), 2)
        self.assertIn("b</ins>", html)
        self.assertNotEqual(older.pk, newer.pk)

    def test_same_id_of_another_type_is_not_mixed_in(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, reason="about the employee")
        unit_with_same_id = type(self.cs1).objects.filter(pk=employee.pk).first()
        if unit_with_same_id is not None:
            self.assertNotIn("about the employee", self.render(unit_with_same_id))
        self.assertIn("about the employee", self.render(employee))

    def test_empty_history_says_so(self):
        self.assertIn("No recorded changes yet.", self.render(self.hr_dept))

    def test_limit_and_link_to_the_full_log_for_its_readers(self):
        for i in range(4):
            self.record(self.cs1, reason=f"change {i}")
        html = self.render(self.cs1, limit=3)
        self.assertEqual(html.count('data-testid="history-entry"'), 3)
        self.assertNotIn("change 0", html)
        self.assertIn("the latest 3 changes", html)
        self.assertIn(f"object_type=people.orgunit&amp;object_id={self.cs1.pk}", html)
        self.assertNotIn("object_type=people.orgunit", self.render(self.cs1, user=self.supervisor, limit=3))

    def test_queries_do_not_grow_with_entries(self):
        self.record(self.cs1)
        with CaptureQueriesContext(connection) as ctx:
            self.render(self.cs1)
        for actor in [self.hr, self.inspector, self.sysadmin, self.team_lead] * 5:
            self.record(self.cs1, actor=actor)
        with self.assertNumQueries(len(ctx.captured_queries)):
            self.render(self.cs1)


class ReferenceNamesTests(AuditPageTestCase):
    """A changed foreign key reads as the record's name, not its id (history, log and entry pages)."""

    def test_history_names_the_records_a_change_points_at(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, action="employee.update", changes={"org_unit": [self.cs1.pk, self.cs2.pk]})
        html = ObjectHistoryTagTests.render(self, employee)  # type: ignore[arg-type]
        self.assertIn(f">{self.cs1.name}</del>", html)
        self.assertIn(f">{self.cs2.name}</ins>", html)

    def test_log_and_entry_pages_name_them_too(self):
        employee = Employee.objects.get(user=self.agent)
        entry = self.record(employee, action="employee.update", changes={"org_unit_id": [None, self.cs2.pk]})
        self.client.force_login(self.hr)
        for url in (reverse("core:audit_log"), reverse("core:audit_entry", args=[entry.pk])):
            self.assertContains(self.client.get(url), f">{self.cs2.name}</ins>", msg_prefix=url)

    def test_a_user_reads_as_her_name(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, action="employee.update", changes={"user": [None, self.agent.pk]})
        html = ObjectHistoryTagTests.render(self, employee)  # type: ignore[arg-type]
        self.assertIn(f">{employee.name}</ins>", html)
        self.assertNotIn(f">{self.agent.username}</ins>", html)

    def test_a_record_since_deleted_keeps_its_id(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, action="employee.update", changes={"org_unit": [None, 987654]})
        self.assertIn(">987654</ins>", ObjectHistoryTagTests.render(self, employee))  # type: ignore[arg-type]

    def test_a_list_of_files_reads_as_their_names(self):
        self.record(self.cs1, changes={"attachments": [None, [{"name": "scores.png", "size": 72},
                                                              {"name": "表.pdf", "size": 9}]]})
        self.assertIn(">scores.png, 表.pdf</ins>", ObjectHistoryTagTests.render(self, self.cs1))  # type: ignore[arg-type]

    def test_one_query_per_related_model_whatever_the_entries(self):
        employee = Employee.objects.get(user=self.agent)
        self.record(employee, action="employee.update", changes={"org_unit": [self.cs1.pk, self.cs2.pk]})
        with CaptureQueriesContext(connection) as ctx:
            ObjectHistoryTagTests.render(self, employee)  # type: ignore[arg-type]
        for unit in [self.cs1, self.cs2, self.hr_dept] * 3:
            self.record(employee, action="employee.update", changes={"org_unit": [unit.pk, self.cs1.pk]})
        with self.assertNumQueries(len(ctx.captured_queries)):
            ObjectHistoryTagTests.render(self, employee)  # type: ignore[arg-type]
