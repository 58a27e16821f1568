"""Uploaded files (certificate scans, quote documents, photos of the acceptance check).

The type is told by the file's first bytes, never by its name or the browser's claim; the
stored name is ours (random, with the real type's extension).
"""

from __future__ import annotations

from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from kefu.core import uploads

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_RECORD = 10
KINDS = ("jpeg", "png", "pdf")
ACCEPT = "image/jpeg,image/png,application/pdf"


def file_type(upload: UploadedFile, *, field: str) -> tuple[str, str]:
    """(MIME type, extension) of a JPEG, PNG or PDF upload of at most 5 MB; else a ValidationError on ``field``."""
    name = upload.name or "file"
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError({field: _("%(name)s is larger than 5 MB.") % {"name": name}})
    if not upload.size:
        raise ValidationError({field: _("%(name)s is empty.") % {"name": name}})
    kind = uploads.sniff(upload, KINDS)
    if kind is not None:
        return kind.mime, f".{kind.ext}"
    raise ValidationError({field: _("%(name)s is not a JPEG, PNG or PDF file.") % {"name": name}})


def stored_name(ext: str) -> str:
    return f"{uuid4().hex}{ext}"
