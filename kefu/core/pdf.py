"""Printable forms: an fpdf2 document with the company's CJK font, and reading text back out.

    from kefu.core.pdf import FAMILY, KefuPDF

    pdf = KefuPDF(language="zh-hant")   # the CJK font loaded as FAMILY and selected
    pdf.add_page()
    pdf.cell(0, 8, "月度考評")
    data = pdf.bytes()

The font is ``settings.KEFU_PDF_FONT`` (a .ttf/.otf, or a .ttc/.otc collection such as
Debian's fonts-noto-cjk); in a collection the face is ``KEFU_PDF_FONT_INDEX`` or, when that
is unset, the one drawn for the language (Noto Sans CJK: 2 = Simplified, 3 = Traditional —
the same character can look different in the two). fpdf2 embeds only the glyphs used.

``pdf_text(data)`` returns the text of a PDF that fpdf2 wrote with one embedded Unicode font
(through the font's ToUnicode map), so tests compare the Chinese strings actually printed
without a PDF tool on the machine.
"""

from __future__ import annotations

import datetime
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

# Faces of Noto Sans CJK's collection (.ttc) by language; other collections: KEFU_PDF_FONT_INDEX.
TTC_FACE = {"zh-hans": 2, "zh-hant": 3}
TTC_DEFAULT_FACE = 3
FAMILY = "kefu-cjk"


def font_path() -> Path:
    path = Path(getattr(settings, "KEFU_PDF_FONT", "") or "")
    if not path.is_file():
        raise ImproperlyConfigured(
            f"KEFU_PDF_FONT ({path}) is not a font file; install fonts-noto-cjk or point it at a CJK .ttf/.otf/.ttc"
        )
    return path


def font_face(path: Path, language: str) -> int:
    """The face to use in a font collection (0 for a single-face font file)."""
    if path.suffix.lower() not in {".ttc", ".otc"}:
        return 0
    index = getattr(settings, "KEFU_PDF_FONT_INDEX", None)
    if index is not None:
        return int(index)
    return TTC_FACE.get((language or "").lower(), TTC_DEFAULT_FACE)


def _fpdf_class() -> Any:
    from fpdf import FPDF

    return FPDF


class KefuPDF(_fpdf_class()):  # type: ignore[misc]
    """An A4 FPDF with the CJK font loaded as ``FAMILY`` (regular only: a bold face costs another second)."""

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "portrait")
        kwargs.setdefault("unit", "mm")
        kwargs.setdefault("format", "A4")
        super().__init__(*args, **kwargs)
        path = font_path()
        self.kefu_language = language or translation.get_language() or settings.LANGUAGE_CODE
        self.add_font(FAMILY, "", str(path), collection_font_number=font_face(path, self.kefu_language))
        self.set_creator("Kefu")
        self.set_font(FAMILY, "", 10)

    def bytes(self) -> bytes:
        return bytes(self.output())

    def signature_boxes(self, boxes: Sequence[tuple[str, str, str]], *, height: float = 30) -> None:
        """Signature boxes side by side, kept together on one page: (role, who signed, date) each."""
        width = self.w - self.l_margin - self.r_margin
        gap = 4
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()
        box_w = (width - gap * (len(boxes) - 1)) / len(boxes)
        top = self.get_y()
        for i, (role, name, when) in enumerate(boxes):
            x = self.l_margin + i * (box_w + gap)
            self.rect(x, top, box_w, height)
            self.set_xy(x + 2, top + 2)
            self.set_font(FAMILY, "", 10.5)
            self.cell(box_w - 4, 6, str(role))
            self.set_font(FAMILY, "", 9.5)
            self.set_xy(x + 2, top + 9)
            self.cell(box_w - 4, 6, f"{_('Signature')}: {name}")
            self.line(x + 2, top + height - 9, x + box_w - 2, top + height - 9)
            self.set_xy(x + 2, top + height - 7)
            self.cell(box_w - 4, 6, f"{_('Date')}: {when}")
        self.set_y(top + height + 5)

    def printed_note(self) -> None:
        """"Printed from Kefu on …", small and grey, at the right."""
        self.set_font(FAMILY, "", 8)
        self.set_text_color(110, 110, 110)
        when = formats.date_format(timezone.localtime(), "Y-m-d H:i")
        self.cell(self.w - self.l_margin - self.r_margin, 5, _("Printed from Kefu on %(when)s") % {"when": when},
                  align="R")


def form_date(value: datetime.date | datetime.datetime | None) -> str:
    """A date on a printed form: the local day as 2026-03-02, or nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "Y-m-d")


# ---- reading the text back (tests) ------------------------------------------------------------------

_OBJ = re.compile(rb"(\d+)\s+0\s+obj\b")
_LENGTH = re.compile(rb"/Length\s+(\d+)\b")
_CONTENTS = re.compile(rb"/Contents\s+(\d+)\s+0\s+R")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _streams(data: bytes) -> dict[int, bytes]:
    """Every stream object, decompressed, by object number (binary stream data is skipped, not scanned)."""
    out: dict[int, bytes] = {}
    pos = 0
    while True:
        match = _OBJ.search(data, pos)
        if match is None:
            return out
        start = data.find(b"stream", match.end())
        end_obj = data.find(b"endobj", match.end())
        if start < 0 or (0 <= end_obj < start):
            pos = match.end() if end_obj < 0 else end_obj + 6
            continue
        header = data[match.end(): start]
        length = _LENGTH.search(header)
        body = start + len(b"stream")
        body += 2 if data[body: body + 2] == b"\r\n" else 1
        if length is None:
            pos = body
            continue
        raw = data[body: body + int(length.group(1))]
        if b"/FlateDecode" in header:
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                raw = b""
        out[int(match.group(1))] = raw
        pos = body + int(length.group(1))


def _unicode_map(streams: list[bytes]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for stream in streams:
        if b"begincmap" not in stream:
            continue
        for block in _BFCHAR.findall(stream):
            codes = _HEX.findall(block)
            for src, dst in zip(codes[0::2], codes[1::2], strict=False):
                mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in _BFRANGE.findall(stream):
            codes = _HEX.findall(block)
            for low, high, first in zip(codes[0::3], codes[1::3], codes[2::3], strict=False):
                start = int(first, 16)
                for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                    mapping[code] = chr(start + offset)
    return mapping


def _literal_strings(content: bytes) -> list[tuple[bytes, bytes]]:
    """Every ``(string)`` and ``<hex>`` in a content stream, each with the operator that follows its group."""
    found: list[bytes] = []
    texts: list[tuple[bytes, bytes]] = []
    i, n = 0, len(content)
    while i < n:
        c = content[i]
        if c == ord("("):
            depth, i, buf = 1, i + 1, bytearray()
            while i < n and depth:
                c = content[i]
                if c == ord("\\"):
                    nxt = content[i + 1]
                    if nxt in _ESCAPES:
                        buf.append(_ESCAPES[nxt])
                        i += 2
                    elif ord("0") <= nxt <= ord("7"):
                        digits = re.match(rb"[0-7]{1,3}", content[i + 1: i + 4])
                        assert digits is not None
                        buf.append(int(digits.group(0), 8) & 0xFF)
                        i += 1 + len(digits.group(0))
                    elif nxt in (10, 13):  # a line continuation
                        i += 2
                    else:
                        buf.append(nxt)
                        i += 2
                    continue
                if c == ord("("):
                    depth += 1
                elif c == ord(")"):
                    depth -= 1
                    if not depth:
                        i += 1
                        break
                buf.append(c)
                i += 1
            found.append(bytes(buf))
            continue
        if c == ord("<") and i + 1 < n and content[i + 1] != ord("<"):
            end = content.index(b">", i)
            found.append(bytes.fromhex(re.sub(rb"\s", b"", content[i + 1: end]).decode()))
            i = end + 1
            continue
        match = re.match(rb"(Tj|TJ|'|\")", content[i: i + 2])
        if match and found:
            texts.extend((s, match.group(0)) for s in found)
            found = []
            i += len(match.group(0))
            continue
        if c == ord("E") and content[i: i + 2] == b"ET":
            found = []
        i += 1
    return texts


def font_names(data: bytes) -> list[str]:
    """The /BaseFont names of the fonts a PDF embeds (e.g. "MPDFAA+NotoSansCJKTC")."""
    return sorted({name.decode() for name in re.findall(rb"/BaseFont\s*/([^\s/>]+)", data)})


def pdf_text(data: bytes) -> str:
    """The text drawn in ``data`` (an fpdf2 PDF with one embedded Unicode font), one line per text run."""
    streams = _streams(data)
    mapping = _unicode_map(list(streams.values()))
    lines = []
    for number in (int(n) for n in _CONTENTS.findall(data)):
        for raw, _op in _literal_strings(streams.get(number, b"")):
            if len(raw) % 2:
                continue
            codes = [int.from_bytes(raw[k: k + 2], "big") for k in range(0, len(raw), 2)]
            lines.append("".join(mapping.get(code, "") for code in codes))
    return "\n".join(lines)
