"""The CJK PDF helper (kefu/core/pdf.py): the font loads, and the text can be read back."""

import datetime
import zlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from kefu.core.pdf import FAMILY, KefuPDF, _streams, font_face, font_path, form_date, pdf_text


def test_chinese_round_trips_through_the_pdf():
    pdf = KefuPDF(language="zh-hant")
    pdf.add_page()
    pdf.cell(0, 8, "月度考評表（王小美）", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, "points (25.5) back\\slash", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 8, "简体：月度考评")
    data = pdf.bytes()
    assert data.startswith(b"%PDF")
    lines = pdf_text(data).splitlines()
    assert lines == ["月度考評表（王小美）", "points (25.5) back\\slash", "简体：月度考评"]


def test_the_face_follows_the_language_in_a_collection(settings):
    path = font_path()
    if path.suffix.lower() == ".ttc":
        assert font_face(path, "zh-hant") == 3
        assert font_face(path, "zh-hans") == 2
        settings.KEFU_PDF_FONT_INDEX = 0
        assert font_face(path, "zh-hans") == 0


@override_settings(KEFU_PDF_FONT="/nonexistent/font.ttf")
def test_a_missing_font_is_a_clear_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="KEFU_PDF_FONT"):
        KefuPDF()


def test_signature_boxes_and_the_printed_note():
    pdf = KefuPDF(language="en")
    pdf.add_page()
    pdf.signature_boxes([("Agent", "王小美 (acknowledged)", form_date(datetime.date(2026, 3, 2))),
                         ("CS supervisor", "", "")])
    pdf.printed_note()
    text = pdf_text(pdf.bytes())
    for printed in ("Agent", "Signature: 王小美 (acknowledged)", "Date: 2026-03-02", "CS supervisor",
                    "Printed from Kefu on"):
        assert printed in text, printed
    assert pdf.page == 1


def test_signature_boxes_stay_together_on_the_next_page():
    pdf = KefuPDF(language="en")
    pdf.add_page()
    pdf.set_y(pdf.h - pdf.b_margin - 10)  # 10 mm left: a 30 mm box does not fit
    pdf.signature_boxes([("Agent", "A", ""), ("Lead", "B", "")])
    assert pdf.page == 2


def test_form_date_is_the_local_day():
    late = datetime.datetime(2026, 3, 1, 17, 30, tzinfo=datetime.UTC)  # 01:30 on 2 March at UTC+8 (the default zone)
    assert form_date(late) == "2026-03-02"
    assert form_date(None) == ""


def test_a_stream_ending_in_a_carriage_return_is_read_whole():
    """The reader cuts a stream by its /Length: compressed data ends in a CR one time in 256, which
    "\\r?\\nendstream" would take for the line break and cut off."""
    raw = next(text for text in (f"BT ({i}) Tj ET".encode() for i in range(10_000))
               if zlib.compress(text)[-1:] == b"\r")
    packed = zlib.compress(raw)
    data = (b"%PDF-1.6\n1 0 obj\n<< /Filter /FlateDecode /Length " + str(len(packed)).encode()
            + b" >>\nstream\n" + packed + b"\nendstream\nendobj\n"
            + b"2 0 obj\n<< /Length 4 >>\nstream\nab\r\r\nendstream\nendobj\n")
    found = _streams(data)
    assert found[1] == raw
    assert found[2] == b"ab\r\r"
