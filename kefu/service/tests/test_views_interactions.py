"""Interaction pages: the list, one interaction, and the import (upload → background task → report)."""

from __future__ import annotations

import datetime
import io
import tempfile
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase
from kefu.service import ingest
from kefu.service.models import ImportBatch, Interaction
from kefu.service.tests.builders import interaction

TZ = ZoneInfo("Asia/Shanghai")
HEADER = ",".join(ingest.HEADERS)


def upload(name: str, *lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([HEADER, *lines]) + "\n").encode(), content_type="text/csv")


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="kefu-test-media-"))
class ImportPageTests(KefuTestCase):
    def test_who_may_open_the_import_page(self):
        url = reverse("service:import_upload")
        for user, expected in [(self.sysadmin, 200), (self.supervisor, 200), (self.agent, 403), (self.hr, 403),
                               (self.team_lead, 403)]:
            with self.subTest(user=user.username):
                self.assertStatus(user, "get", url, expected)
        self.client.logout()
        response = self.client.get(url)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])

    def test_upload_runs_in_the_background_and_reports(self):
        self.login(self.sysadmin)
        page = self.client.get(reverse("service:import_upload"))
        self.assertContains(page, "first_responder_no")  # the layout is documented on the page
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("service:import_upload"), {"file": upload(
                "march.csv",
                "cc,V-1,phone,normal,inquiry,,Refund,2026-03-02 09:15,2026-03-02 10:00,,CS1001,,,",
                "cc,V-2,chat,urgent,complaint,,,2026-03-02 11:00,,,CS1005,,,",
            )})
        batch = ImportBatch.objects.get()
        self.assertRedirects(response, reverse("service:import_batch", args=[batch.pk]))
        batch.refresh_from_db()
        self.assertEqual((batch.status, batch.created_count, batch.file_name), ("done", 2, "march.csv"))
        self.assertFalse(batch.file.storage.exists(batch.file.name))  # the stored upload is removed
        page = self.client.get(reverse("service:import_batch", args=[batch.pk]))
        self.assertContains(page, 'data-status="done"')
        self.assertNotContains(page, "hx-trigger")  # no more polling
        self.assertEqual(Interaction.objects.count(), 2)

    def test_a_rejected_upload_lists_every_bad_row(self):
        self.login(self.sysadmin)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("service:import_upload"), {"file": upload(
                "bad.csv",
                "cc,W-1,phone,normal,inquiry,,,2026-03-02 09:15,,,NOBODY,,,",
                "cc,W-2,pigeon,normal,inquiry,,,2026-03-02 09:15,,,CS1001,,,",
            )})
        batch = ImportBatch.objects.get()
        self.assertEqual(batch.status, "rejected")
        page = self.client.get(reverse("service:import_batch", args=[batch.pk]))
        self.assertContains(page, 'data-testid="import-error"', count=2)
        self.assertContains(page, "NOBODY")
        self.assertContains(page, "pigeon")
        self.assertEqual(Interaction.objects.count(), 0)
        download = self.client.get(reverse("service:import_errors", args=[batch.pk]))
        lines = download.content.decode("utf-8-sig").strip().splitlines()
        self.assertEqual(len(lines), 3)  # header and the two problems
        self.assertTrue(lines[1].startswith("2,agent_no,"))
        self.assertTrue(lines[2].startswith("3,channel,"))
        self.assertStatus(self.outsider, "get", reverse("service:import_errors", args=[batch.pk]), 404)

    def test_progress_is_polled_while_running(self):
        batch = ImportBatch.objects.create(kind="interactions", via="upload", status="running", file_name="big.csv",
                                           rows_total=1000, rows_done=250, created_by=self.sysadmin)
        self.login(self.sysadmin)
        page = self.client.get(reverse("service:import_batch", args=[batch.pk]))
        self.assertContains(page, 'hx-trigger="every 1s"')
        self.assertContains(page, 'aria-valuenow="25"')
        partial = self.client.get(reverse("service:import_batch", args=[batch.pk]), headers={"HX-Request": "true"})
        self.assertNotContains(partial, "<html")
        self.assertContains(partial, 'id="import-progress"')

    def test_a_batch_is_seen_by_whoever_started_it_and_system_admins(self):
        batch = ImportBatch.objects.create(kind="interactions", via="upload", status="done", created_by=self.supervisor)
        url = reverse("service:import_batch", args=[batch.pk])
        self.assertStatus(self.supervisor, "get", url, 200)
        self.assertStatus(self.sysadmin, "get", url, 200)
        self.assertStatus(self.outsider, "get", url, 404)
        self.assertStatus(self.agent, "get", url, 404)

    def test_oversized_and_wrong_files_are_refused_on_the_form(self):
        self.login(self.sysadmin)
        response = self.client.post(reverse("service:import_upload"),
                                    {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4", content_type="application/pdf")})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Excel")
        self.assertEqual(ImportBatch.objects.count(), 0)

    def test_template_has_the_exact_headers(self):
        self.login(self.sysadmin)
        response = self.client.get(reverse("service:import_template"))
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.content)).active
        headers = [c.value for c in sheet[1]]
        self.assertEqual(headers, [
            "source", "external_id", "channel", "priority", "kind", "customer_ref", "subject", "received_at",
            "first_response_at", "resolved_at", "agent_no", "first_responder_no", "resolver_no", "recording_url",
        ])
        self.assertStatus(self.agent, "get", reverse("service:import_template"), 403)


class InteractionPageTests(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.mine = Employee.objects.get(employee_no="CS1001")
        cls.cs2 = Employee.objects.get(employee_no="CS2002")

    def _recent(self, agent, n: int, prefix: str):
        now = timezone.now()
        return [interaction(agent, now - datetime.timedelta(hours=i + 1), external_id=f"{prefix}{i}",
                            fr_due=now - datetime.timedelta(minutes=5)) for i in range(n)]

    def test_list_shows_only_what_she_may_see(self):
        self._recent(self.mine, 2, "M")
        self._recent(self.cs2, 3, "O")
        url = reverse("service:interaction_list")
        self.login(self.agent)
        page = self.client.get(url)
        self.assertContains(page, 'data-testid="interaction-row"', count=2)
        self.assertContains(page, "Overdue")
        self.login(self.outsider)
        self.assertContains(self.client.get(url), 'data-testid="interaction-row"', count=3)
        self.login(self.hr)
        self.assertContains(self.client.get(url), 'data-testid="interaction-row"', count=5)
        self.assertStatus(self.admin_clerk, "get", url, 403)

    def test_list_filters_and_empty_state(self):
        self._recent(self.mine, 2, "M")
        self.login(self.agent)
        page = self.client.get(reverse("service:interaction_list"), {"q": "M1"})
        self.assertContains(page, 'data-testid="interaction-row"', count=1)
        page = self.client.get(reverse("service:interaction_list"), {"channel": "chat"})
        self.assertContains(page, 'data-testid="empty-state"')
        page = self.client.get(reverse("service:interaction_list"), {"start": "2026-03-05", "end": "2026-03-01"})
        self.assertContains(page, 'aria-invalid="true"')

    def test_list_queries_do_not_grow_with_rows(self):
        self._recent(self.mine, 3, "A")
        self.login(self.supervisor)
        url = reverse("service:interaction_list")
        self.client.get(url)  # warm the session and the calendar
        with CaptureQueriesContext(connection) as small:
            self.client.get(url)
        self._recent(self.mine, 20, "B")
        self._recent(self.teammate_other_team.employee, 10, "C")  # another agent, in another team
        with CaptureQueriesContext(connection) as large:
            response = self.client.get(url)
        self.assertContains(response, 'data-testid="interaction-row"', count=33)
        self.assertEqual(len(large), len(small))

    def test_detail_page(self):
        received = datetime.datetime(2026, 3, 2, 9, 15, tzinfo=TZ)
        mine = interaction(self.mine, received, external_id="D-1", recording_url="https://cc.example.com/r/1",
                           resolved_at=received + datetime.timedelta(hours=2), resolver=self.mine,
                           res="met", res_due=datetime.datetime(2026, 3, 5, 18, tzinfo=TZ))
        other = interaction(self.cs2, received, external_id="D-2")
        url = reverse("service:interaction_detail", args=[mine.pk])
        self.login(self.agent)
        page = self.client.get(url)
        self.assertContains(page, "https://cc.example.com/r/1")
        self.assertContains(page, reverse("service:survey_issue", args=[mine.pk]))
        self.assertStatus(self.team_lead, "get", url, 200)
        self.assertStatus(self.outsider, "get", url, 404)
        self.assertStatus(self.agent, "get", reverse("service:interaction_detail", args=[other.pk]), 404)
        self.client.logout()
        self.assertEqual(self.client.get(url).status_code, 302)
