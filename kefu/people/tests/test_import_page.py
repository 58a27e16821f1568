"""The import page: upload → check (errors or a preview) → confirm; and the template download."""

import csv
import io
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook

from kefu.people import services
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase

HEADER = ["工號", "姓名", "性別", "入職日期", "部門"]


def upload(rows, name="people.csv"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"))


class ImportPageTests(KefuTestCase):
    url = reverse("people:employee_import")

    def setUp(self):
        self.media = tempfile.mkdtemp()
        self.settings_override = override_settings(MEDIA_ROOT=self.media)
        self.settings_override.enable()

    def tearDown(self):
        self.settings_override.disable()
        shutil.rmtree(self.media, ignore_errors=True)

    def test_access(self):
        self.assertStatus(self.hr, "get", self.url, 200)
        self.assertStatus(self.sysadmin, "get", self.url, 200)
        self.assertStatus(self.supervisor, "get", self.url, 403)
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(None, "get", self.url, 302)
        self.assertStatus(self.supervisor, "post", self.url, 403, {"step": "check", "file": upload([HEADER])})

    def test_bad_rows_are_listed_and_nothing_saved(self):
        self.login(self.hr)
        rows = [HEADER, ["N1", "好", "F", "2024-01-02", "CS1-T1"], ["N2", "壞", "Q", "2024-01-02", "CS1-T1"],
                ["N3", "壞", "F", "yesterday", "NOPE"]]
        response = self.client.post(self.url, {"step": "check", "file": upload(rows)})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-testid="import-errors"')
        errors = re.findall(r'data-testid="import-error"><td class="num">(\d+)</td><td>([^<]+)</td>',
                            response.content.decode())
        labels = services.employee_column_labels()
        self.assertEqual(errors, [("3", labels["gender"]), ("4", labels["hire_date"]), ("4", labels["org_unit"])])
        self.assertNotContains(response, 'data-testid="import-confirm"')
        self.assertFalse(Employee.objects.filter(employee_no="N1").exists())

    def test_check_then_confirm(self):
        self.login(self.hr)
        rows = [HEADER, ["N1", "周杰", "M", "2024-01-02", "CS1-T1"], ["CS1001", "王美美", "F", "2023-03-01", "CS1-T1"]]
        response = self.client.post(self.url, {"step": "check", "file": upload(rows)})
        self.assertContains(response, 'data-testid="import-preview"')
        self.assertEqual(len(re.findall('data-testid="import-change"', response.content.decode())), 2)
        self.assertContains(response, "王美美")
        self.assertFalse(Employee.objects.filter(employee_no="N1").exists())  # only checked
        token = response.context["token"]

        other = Client()
        other.force_login(self.supervisor)
        self.assertEqual(other.post(self.url, {"step": "confirm", "token": token}).status_code, 403)
        response = self.client.post(self.url, {"step": "confirm", "token": "forged"})
        self.assertRedirects(response, self.url, fetch_redirect_response=False)
        self.assertFalse(Employee.objects.filter(employee_no="N1").exists())

        response = self.client.post(self.url, {"step": "confirm", "token": token})
        self.assertRedirects(response, reverse("people:employee_list"), fetch_redirect_response=False)
        self.assertEqual(Employee.objects.get(employee_no="N1").status, Employee.Status.PENDING)
        self.assertEqual(Employee.objects.get(employee_no="CS1001").name, "王美美")
        # The kept file is gone, so confirming again imports nothing twice.
        response = self.client.post(self.url, {"step": "confirm", "token": token})
        self.assertRedirects(response, self.url, fetch_redirect_response=False)
        self.assertEqual(Employee.objects.filter(employee_no="N1").count(), 1)

    def test_nothing_to_import(self):
        self.login(self.hr)
        rows = [HEADER, ["CS1001", "王小美", "F", "2023-03-01", "CS1-T1"]]
        response = self.client.post(self.url, {"step": "check", "file": upload(rows)})
        self.assertContains(response, 'data-testid="import-nothing"')

    def test_files_never_confirmed_are_swept_after_a_day(self):
        folder = Path(self.media) / "imports" / "people"
        folder.mkdir(parents=True)
        old, recent = folder / "old.csv", folder / "recent.csv"
        for path in (old, recent):
            path.write_bytes(b"x")
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(old, (two_days_ago, two_days_ago))
        self.login(self.hr)
        response = self.client.post(self.url, {"step": "check", "file": upload([HEADER, ["N1", "周", "M", "2024-01-02", "CS1-T1"]])})
        self.assertContains(response, 'data-testid="import-preview"')
        self.assertEqual(sorted(p.name for p in folder.iterdir()),
                         sorted(["recent.csv", f"{response.context['token']}.csv"]))

    def test_empty_and_missing_file(self):
        self.login(self.hr)
        response = self.client.post(self.url, {"step": "check", "file": SimpleUploadedFile("e.csv", b"x")})
        self.assertContains(response, 'data-testid="import-errors"')
        response = self.client.post(self.url, {"step": "check"})
        self.assertIn("file", response.context["form"].errors)


class ImportTemplateTests(KefuTestCase):
    url = reverse("people:employee_import_template")

    def test_access_and_content(self):
        self.assertStatus(self.supervisor, "get", self.url, 403)
        self.assertStatus(None, "get", self.url, 302)
        self.login(self.hr)
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
        labels = services.employee_column_labels()
        self.assertEqual(list(rows[0]), [labels[c] for c in ["employee_no", "name", "gender", "hire_date", "leave_date",
                                                             "org_unit", "position", "email", "phone"]])
        self.assertEqual(len(rows), 1)
