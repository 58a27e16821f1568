"""The CJK PDF helper (kefu/core/pdf.py): the font loads, and the text can be read back."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from kefu.core.pdf import FAMILY, KefuPDF, font_face, font_path, pdf_text


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
