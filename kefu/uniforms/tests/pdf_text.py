"""The text of a PDF, for the tests — without a PDF library (pypdf and poppler's pdftotext are not
installed here, and reading the file back with fpdf2, which wrote it, would prove little).

It follows the PDF format itself: each object's stream is inflated when FlateDecode; each font's
/ToUnicode CMap maps the codes in its strings to Unicode; the page contents' text operators
(Tj, TJ, ', ") are decoded with the font chosen by the last Tf. One line per text object
(BT … ET), in drawing order. Enough for the forms Kefu prints; not a general extractor.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

OBJECT = re.compile(rb"(\d+)\s+\d+\s+obj\b(.*?)\bendobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
LENGTH = re.compile(rb"/Length\s+(\d+)\b(?!\s+\d+\s+R)")  # a direct length, not a reference
TOKEN = re.compile(rb"\s*(\(|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/\[\]()<>]+|[-+.\d]+|[A-Za-z'\"*]+)")
ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f",
           ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}

Font = tuple[dict[int, str], int]  # code → text, bytes per code


def objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """{object number: (its dictionary, its inflated stream or None)}."""
    out = {}
    for match in OBJECT.finditer(data):
        body = match.group(2)
        found = STREAM.search(body)
        head = body[: found.start()] if found else body
        stream = None
        if found:
            # The dictionary's /Length says where the stream ends: the data may itself end in a CR,
            # which "\r?\nendstream" would take for the line break and cut off.
            length = LENGTH.search(head)
            stream = body[found.start(1): found.start(1) + int(length.group(1))] if length else found.group(1)
            if b"/FlateDecode" in head:
                stream = zlib.decompress(stream)
        out[int(match.group(1))] = (head, stream)
    return out


def _utf16(hexdigits: bytes) -> str:
    return bytes.fromhex(hexdigits.decode()).decode("utf-16-be")


def cmap(stream: bytes) -> Font:
    mapping: dict[int, str] = {}
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", stream)
    width = len(space.group(1)) // 2 if space else 2
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = _utf16(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for low, high, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = _utf16(dst)
            for i, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = first[:-1] + chr(ord(first[-1]) + i)
    return mapping, width


def _literal(text: bytes, i: int) -> tuple[bytes, int]:
    """The bytes of the (string) starting at text[i], and the index just after it."""
    out = bytearray()
    depth = 0
    i += 1
    while i < len(text):
        c = text[i]
        if c == 0x5C:  # backslash
            nxt = text[i + 1]
            if nxt in ESCAPES:
                out += ESCAPES[nxt]
                i += 2
            elif 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", text[i + 1: i + 4])
                assert digits is not None
                out.append(int(digits.group(0), 8) & 0xFF)
                i += 1 + len(digits.group(0))
            elif nxt in (0x0A, 0x0D):  # a line continuation
                i += 2 + (1 if nxt == 0x0D and text[i + 2: i + 3] == b"\n" else 0)
            else:
                out.append(nxt)
                i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            if depth == 0:
                return bytes(out), i + 1
            depth -= 1
        out.append(c)
        i += 1
    raise ValueError("unterminated string in the content stream")


def _tokens(content: bytes) -> Iterator[tuple[str, bytes]]:
    i = 0
    while i < len(content):
        match = TOKEN.match(content, i)
        if not match:
            i += 1
            continue
        token = match.group(1)
        if token == b"(":
            string, i = _literal(content, match.start(1))
            yield "str", string
            continue
        i = match.end()
        if token.startswith(b"<"):
            yield "str", bytes.fromhex(re.sub(rb"\s", b"", token[1:-1]).decode())
        elif token in (b"[", b"]"):
            yield token.decode(), token
        elif token.startswith(b"/"):
            yield "name", token[1:]
        elif re.fullmatch(rb"[-+.\d]+", token):
            yield "num", token
        else:
            yield "op", token


def _decode(raw: bytes, font: Font) -> str:
    mapping, width = font
    if not mapping:
        return raw.decode("latin-1")
    return "".join(mapping.get(int.from_bytes(raw[i: i + width], "big"), "\ufffd")
                   for i in range(0, len(raw) - width + 1, width))


def font_names(data: bytes) -> list[str]:
    """The /BaseFont names of the embedded fonts (e.g. "MPDFAA+NotoSansCJKTC")."""
    return sorted({name.decode() for name in re.findall(rb"/BaseFont\s*/([^\s/>]+)", data)})


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), "not a PDF"
    objs = objects(data)
    fonts: dict[bytes, Font] = {}
    for head, _stream in objs.values():
        for block in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, number in re.findall(rb"/([^\s/]+)\s+(\d+)\s+0\s+R", block):
                font_head = objs[int(number)][0]
                ref = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", font_head)
                fonts[name] = cmap(objs[int(ref.group(1))][1] or b"") if ref else ({}, 1)
    lines: list[str] = []
    for head, _stream in objs.values():
        if not re.search(rb"/Type\s*/Page\b", head):
            continue
        for ref in re.findall(rb"/Contents\s+(\d+)\s+0\s+R", head):
            font: Font = ({}, 1)
            current: list[str] = []
            operands: list[tuple[str, bytes]] = []
            array: list[bytes] | None = None
            for kind, value in _tokens(objs[int(ref)][1] or b""):
                if kind == "[":
                    array = []
                elif kind == "]":
                    operands.append(("array", b"".join(array or [])))
                    array = None
                elif array is not None:
                    if kind == "str":
                        array.append(value)  # numbers inside TJ arrays are kerning
                elif kind == "op":
                    if value == b"Tf":
                        names = [v for k, v in operands if k == "name"]
                        font = fonts.get(names[-1], ({}, 1)) if names else ({}, 1)
                    elif value in (b"Tj", b"'", b'"', b"TJ"):
                        strings = [v for k, v in operands if k in ("str", "array")]
                        if strings:
                            current.append(_decode(strings[-1], font))
                    elif value == b"ET":
                        if current:
                            lines.append("".join(current))
                        current = []
                    operands = []
                else:
                    operands.append((kind, value))
    return "\n".join(lines)
