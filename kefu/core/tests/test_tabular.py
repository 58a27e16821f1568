"""kefu.core.tabular: reading CSV/xlsx uploads and writing xlsx exports, with real files."""

import datetime
import io
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings
from openpyxl import Workbook, load_workbook

from kefu.core import tabular
from kefu.core.tabular import ImportRejected, RowError, TableError, read_table

COLUMNS = {
    "employee_no": ["工號", "員工編號", "员工编号", "Employee number"],
    "name": ["姓名", "Name"],
    "hire_date": ["入職日期", "入职日期"],
}
REQUIRED = {"employee_no", "name"}


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


class ReadCsvTests(SimpleTestCase):
    def read(self, data: bytes, name: str = "people.csv"):
        table = read_table(upload(name, data), columns=COLUMNS, required=REQUIRED)
        return table, list(table)

    def test_utf8_without_bom(self):
        table, rows = self.read("工號,姓名\nA1,王小美\nA2,李建國\n".encode())
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王小美"}),
                                (3, {"employee_no": "A2", "name": "李建國"})])
        self.assertEqual(table.present, {"employee_no", "name"})

    def test_utf8_with_bom(self):
        _, rows = self.read(b"\xef\xbb\xbf" + "員工編號,姓名\nA1,王小美\n".encode())
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王小美"})])

    def test_gbk_csv_from_chinese_windows_excel(self):
        data = "员工编号,姓名,入职日期\r\nA1,张伟,2024/3/1\r\n".encode("gbk")
        with self.assertRaises(UnicodeDecodeError):
            data.decode("utf-8")  # the test file really is not UTF-8
        _, rows = self.read(data)
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "张伟", "hire_date": "2024/3/1"})])

    def test_tab_and_semicolon_delimiters(self):
        _, rows = self.read("工號\t姓名\nA1\t王, 小美\n".encode())
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王, 小美"})])
        _, rows = self.read("工號;姓名\nA1;王小美\n".encode())
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王小美"})])

    def test_whitespace_stripped_headers_case_insensitive_blank_lines_keep_numbering(self):
        table, rows = self.read(" EMPLOYEE Number , name \n  A1 ,  王小美 \n,\n\nA3,  \n".encode())
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王小美"}),
                                (5, {"employee_no": "A3", "name": None})])
        self.assertEqual(table.unknown_headers, [])

    def test_quoted_field_with_newline_is_one_row(self):
        _, rows = self.read('工號,姓名\nA1,"王\n小美"\nA2,李\n'.encode())
        self.assertEqual([r[0] for r in rows], [2, 3])
        self.assertEqual(rows[0][1]["name"], "王\n小美")

    def test_unknown_headers_are_reported_and_left_out(self):
        table, rows = self.read("工號,姓名,備註\nA1,王小美,hello\n".encode())
        self.assertEqual(table.unknown_headers, ["備註"])
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "王小美"})])

    def test_missing_required_column_names_it(self):
        with self.assertRaises(TableError) as caught:
            self.read("工號,入職日期\nA1,2024-01-01\n".encode())
        errors = caught.exception.report.errors
        self.assertEqual([(e.row, e.field) for e in errors], [(1, "name")])
        self.assertIn("name", errors[0].message)
        self.assertIn("姓名", errors[0].message)

    def test_two_columns_meaning_the_same_thing(self):
        with self.assertRaises(TableError) as caught:
            self.read("工號,員工編號,姓名\nA1,A1,王\n".encode())
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(1, "employee_no")])

    def test_empty_file(self):
        for data in (b"", b"  \r\n"):
            with self.assertRaises(TableError) as caught:
                self.read(data)
            self.assertEqual(caught.exception.report.errors[0].row, None)

    def test_header_only_file_has_no_rows(self):
        table, rows = self.read("工號,姓名\n".encode())
        self.assertEqual(rows, [])
        self.assertEqual(table.present, {"employee_no", "name"})

    def test_blank_first_row(self):
        with self.assertRaises(TableError) as caught:
            self.read(b",,\nA1,x\n")
        self.assertEqual(caught.exception.report.errors[0].row, 1)

    def test_table_error_is_an_import_rejection(self):
        with self.assertRaises(ImportRejected):
            self.read(b"")

    def test_old_xls_is_refused_clearly(self):
        with self.assertRaises(TableError) as caught:
            self.read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="old.xls")
        self.assertIn(".xls", caught.exception.report.errors[0].message)

    def test_binary_rubbish(self):
        with self.assertRaises(TableError):
            self.read(b"\x00\x01\x02abc\n", name="x.csv")

    def test_quote_put_by_export_is_taken_off(self):
        _, rows = self.read("工號,姓名\nA1,'+86 138\n".encode())
        self.assertEqual(rows[0][1]["name"], "+86 138")

    @override_settings(KEFU_UPLOAD_MAX_BYTES=10)
    def test_too_big(self):
        with self.assertRaises(TableError) as caught:
            self.read("工號,姓名\nA1,王小美\n".encode())
        self.assertIn("MB", caught.exception.report.errors[0].message)


class ReadXlsxTests(SimpleTestCase):
    def test_xlsx_keeps_types_and_line_numbers(self):
        data = xlsx_bytes([
            ["工號", "姓名", "入職日期", "Other"],
            [1001, " 王小美 ", datetime.datetime(2024, 3, 1), "x"],
            [None, None, None, None],
            ["A3", "李建國", "2024-03-02", None],
        ])
        table = read_table(upload("people.xlsx", data), columns=COLUMNS, required=REQUIRED)
        rows = list(table)
        self.assertEqual(table.unknown_headers, ["Other"])
        self.assertEqual(rows, [
            (2, {"employee_no": 1001, "name": "王小美", "hire_date": datetime.datetime(2024, 3, 1)}),
            (4, {"employee_no": "A3", "name": "李建國", "hire_date": "2024-03-02"}),
        ])

    def test_row_gap_in_sheet_xml_keeps_numbering(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet["A1"], sheet["B1"] = "工號", "姓名"
        sheet["A2"], sheet["B2"] = "A1", "x"
        sheet["A7"], sheet["B7"] = "A7", "y"  # rows 3–6 do not exist in the file at all
        buffer = io.BytesIO()
        workbook.save(buffer)
        rows = list(read_table(upload("gap.xlsx", buffer.getvalue()), columns=COLUMNS, required=REQUIRED))
        self.assertEqual([r[0] for r in rows], [2, 7])

    def test_reads_the_first_sheet_from_a_path(self):
        workbook = Workbook()
        workbook.active.append(["工號", "姓名"])
        workbook.active.append(["A1", "first"])
        other = workbook.create_sheet("second")
        other.append(["工號", "姓名"])
        other.append(["B1", "second"])
        workbook.active = 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "two.xlsx"
            workbook.save(path)
            rows = list(read_table(path, columns=COLUMNS, required=REQUIRED))
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "first"})])

    def test_header_only_xlsx(self):
        table = read_table(upload("h.xlsx", xlsx_bytes([["工號", "姓名"]])), columns=COLUMNS, required=REQUIRED)
        self.assertEqual(list(table), [])

    def test_wrong_columns_xlsx(self):
        with self.assertRaises(TableError) as caught:
            read_table(upload("w.xlsx", xlsx_bytes([["Foo", "Bar"], [1, 2]])), columns=COLUMNS, required=REQUIRED)
        self.assertEqual({e.field for e in caught.exception.report.errors}, {"employee_no", "name"})

    def test_damaged_xlsx(self):
        with self.assertRaises(TableError):
            read_table(upload("d.xlsx", b"PK\x03\x04 this is not a zip"), columns=COLUMNS, required=REQUIRED)


class CellTests(SimpleTestCase):
    def test_parse_date_formats(self):
        expected = datetime.date(2024, 3, 1)
        for value in ("2024-03-01", "2024/3/1", "2024.03.01", "2024年3月1日", "2024-03-01 00:00:00",
                      datetime.datetime(2024, 3, 1, 0, 0), expected, 45352, 45352.0):
            self.assertEqual(tabular.parse_date(value), expected, value)

    def test_parse_date_rejects(self):
        for value in ("01/03/2024", "2024-02-30", "soon", "", None, True):
            with self.assertRaises(ValueError):
                tabular.parse_date(value)

    def test_cell_text(self):
        self.assertEqual(tabular.cell_text(1001.0), "1001")
        self.assertEqual(tabular.cell_text(13800000000), "13800000000")
        self.assertEqual(tabular.cell_text(None), "")
        self.assertEqual(tabular.cell_text(" a "), "a")

    def test_report_and_row_error(self):
        report = tabular.ImportReport()
        self.assertTrue(report.ok)
        report.error(5, "name", "bad")
        report.error(3, "gender", "bad")
        report.error(5, "email", "bad")
        self.assertFalse(report.ok)
        self.assertEqual(report.bad_rows, [3, 5])
        self.assertEqual(report.errors[0], RowError(5, "name", "bad"))
        self.assertEqual(report.as_dict()["errors"][1], {"row": 3, "field": "gender", "message": "bad"})


class WriteXlsxTests(SimpleTestCase):
    def test_round_trip_and_formula_neutralised(self):
        data = tabular.write_xlsx(
            ["工號", "姓名", "日期", "數量"],
            [["A1", "=HYPERLINK(\"http://evil\")", datetime.date(2024, 3, 1), 3],
             ["A2", "+86 138", None, -2], ["A3", "@SUM(1)", None, 0], ["A4", "-1+2", None, 1]],
        )
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(values[0], ["工號", "姓名", "日期", "數量"])
        self.assertEqual(values[1][:2], ["A1", "'=HYPERLINK(\"http://evil\")"])
        self.assertEqual(values[1][2], datetime.datetime(2024, 3, 1))
        self.assertEqual(values[1][3], 3)
        self.assertEqual(values[2], ["A2", "'+86 138", None, -2])  # numbers stay numbers
        self.assertEqual(values[3][1], "'@SUM(1)")
        self.assertEqual(values[4][1], "'-1+2")
        self.assertEqual(sheet.freeze_panes, "A2")
        # Nothing in the file is a formula.
        self.assertFalse(any(c.data_type == "f" for row in sheet.iter_rows() for c in row))

    def test_written_file_reads_back_with_the_reader(self):
        data = tabular.write_xlsx(["工號", "姓名"], [["A1", "-x"]])
        rows = list(read_table(data, columns=COLUMNS, required=REQUIRED, name="e.xlsx"))
        self.assertEqual(rows, [(2, {"employee_no": "A1", "name": "-x"})])
