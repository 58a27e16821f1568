"""Every upload path limits size and type (issue 10 item 4).

The files people attach (photos, scans, evidence) are told by their first bytes (kefu/core/uploads.py
``sniff``), never by name or the browser's claim, and refused above the app's limit; the tables people
import go through kefu/core/tabular.py, which refuses files above KEFU_UPLOAD_MAX_BYTES and anything that
is neither an .xlsx workbook nor CSV text.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from kefu.core import tabular

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"


def _checks():
    from kefu.core.attachments import file_type
    from kefu.evaluations import services as evaluations
    from kefu.inspections import rectification
    from kefu.inspections import services as inspections
    from kefu.procurement import files as procurement
    from kefu.uniforms import services as uniforms

    def rule(kinds, limit):  # an app's rule for the files on its records, checked by the one core service
        return lambda f: file_type(f, kinds=kinds, max_bytes=limit, field="file")

    return {
        # name: (check, its limit in bytes, a file type it accepts)
        "evaluation attachment": (rule(evaluations.ATTACHMENT_TYPES, evaluations.ATTACHMENT_MAX_BYTES),
                                  evaluations.ATTACHMENT_MAX_BYTES, PDF),
        "inspection attachment": (rule(inspections.ATTACHMENT_TYPES, inspections.ATTACHMENT_MAX_BYTES),
                                  inspections.ATTACHMENT_MAX_BYTES, PNG),
        "rectification evidence": (rule(rectification.ATTACHMENT_TYPES, rectification.ATTACHMENT_MAX_BYTES),
                                   rectification.ATTACHMENT_MAX_BYTES, PNG),
        "damage report photo": (rule(uniforms.ATTACHMENT_KINDS, uniforms.ATTACHMENT_MAX_BYTES),
                                uniforms.ATTACHMENT_MAX_BYTES, PNG),
        "procurement attachment": (rule(procurement.KINDS, procurement.MAX_BYTES), procurement.MAX_BYTES, PNG),
        "uniform style photo": (uniforms.photo_type, uniforms.PHOTO_MAX_BYTES, PNG),
        "procurement file": (lambda f: procurement.file_type(f, field="file"), procurement.MAX_BYTES, PNG),
    }


@pytest.mark.parametrize("name", list(_checks()))
def test_attachments_are_checked_for_type_and_size(name):
    check, limit, good = _checks()[name]
    assert check(SimpleUploadedFile("fine.bin", good, content_type="application/octet-stream"))
    # HTML named and announced as a picture is refused.
    with pytest.raises(ValidationError):
        check(SimpleUploadedFile("photo.png", HTML, content_type="image/png"))
    # A real file one byte over the limit is refused.
    with pytest.raises(ValidationError):
        check(SimpleUploadedFile("big.bin", good + b"\x00" * (limit - len(good) + 1)))
    assert limit <= 10 * 1024 * 1024


@override_settings(KEFU_UPLOAD_MAX_BYTES=1024)
def test_tables_are_checked_for_size_and_type():
    columns = {"employee_no": []}
    table = tabular.read_table(SimpleUploadedFile("t.csv", b"employee_no\nCS1001\n"), columns=columns)
    assert [values["employee_no"] for _, values in table] == ["CS1001"]
    with pytest.raises(tabular.TableError):
        tabular.read_table(SimpleUploadedFile("t.csv", b"employee_no\n" + b"CS1001\n" * 200), columns=columns)
    with pytest.raises(tabular.TableError):  # a binary file (a PNG renamed .csv)
        tabular.read_table(SimpleUploadedFile("t.csv", PNG), columns=columns)
    with pytest.raises(tabular.TableError):  # the old binary Excel format
        tabular.read_table(SimpleUploadedFile("t.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100), columns=columns)
