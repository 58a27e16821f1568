"""What an uploaded file really is, told by its first bytes — never by its name or the browser's claim.

    kind = uploads.sniff(upload, ("jpeg", "png", "pdf"))   # a FileType, or None
    if kind is None: raise ValidationError(...)

Each app keeps its own size limit and message; this is the one table of signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 16


@dataclass(frozen=True)
class FileType:
    mime: str
    ext: str  # without the dot


def _mp3(head: bytes) -> bool:
    # An ID3 tag, or an MPEG audio frame header (11 sync bits) when the file has no tag.
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


KINDS: dict[str, tuple[FileType, Callable[[bytes], bool]]] = {
    "jpeg": (FileType("image/jpeg", "jpg"), lambda h: h.startswith(b"\xff\xd8\xff")),
    "png": (FileType("image/png", "png"), lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "webp": (FileType("image/webp", "webp"), lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    "pdf": (FileType("application/pdf", "pdf"), lambda h: h.startswith(b"%PDF-")),
    "wav": (FileType("audio/wav", "wav"), lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
    "mp3": (FileType("audio/mpeg", "mp3"), _mp3),
}


def sniff(upload: IO[bytes], kinds: Iterable[str]) -> FileType | None:
    """The first of ``kinds`` whose signature the file starts with; the file is rewound after."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    for name in kinds:
        file_type, matches = KINDS[name]
        if matches(head):
            return file_type
    return None
