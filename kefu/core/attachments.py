"""Files on records: one table (``core.Attachment``), one upload check, one download view (``core:attachment``).

An app keeps its own *rule* — who may add files to which record, which kinds, how big, how many — and
calls the one service with it:

    attachments_add(actor=actor, target=report, uploads=files, kinds=("jpeg", "png", "pdf"),
                    max_bytes=5 * 1024 * 1024, max_count=10)

The type is told by the file's first bytes (``kefu.core.uploads.sniff``), never by its name or the
browser's claim; the stored name is ours (random, with the real type's extension). Every file is checked
before any is stored: a refused file stores nothing (a ValidationError naming the file, on ``field``).

Who may *download* a record's files is the record's app's say too: it registers a rule in
``registry.attachment_targets`` (see there). The writes are re-exported from ``kefu.core.services``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import uuid4

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kefu.core import audit, uploads
from kefu.core.models import Attachment

KIND_LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "pdf": "PDF", "wav": "WAV", "mp3": "MP3"}
NAME_MAX = 255


def kinds_label(kinds: Sequence[str]) -> str:
    """The kinds for people: "JPEG, PNG or PDF"."""
    labels = [KIND_LABELS[k] for k in kinds]
    if len(labels) < 2:
        return "".join(labels)
    separator = pgettext("between the items of a list", ", ")  # 、 in Chinese
    return _("%(list)s or %(last)s") % {"list": separator.join(labels[:-1]), "last": labels[-1]}


def original_name(upload: UploadedFile, ext: str) -> str:
    """The uploader's file name without any folder part (shown and offered back on download, never stored)."""
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or f"attachment.{ext}")[:NAME_MAX]


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g}"


def file_type(upload: UploadedFile, *, kinds: Sequence[str], max_bytes: int, field: str) -> tuple[str, str]:
    """(MIME type, extension) of one upload; a ValidationError on ``field`` naming the file otherwise."""
    name = upload.name or "file"
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError({field: _("%(name)s is larger than %(mb)s MB.") % {"name": name,
                                                                                 "mb": _megabytes(max_bytes)}})
    if not upload.size:
        raise ValidationError({field: _("%(name)s is empty.") % {"name": name}})
    kind = uploads.sniff(upload, kinds)
    if kind is None:
        raise ValidationError({field: _("%(name)s is not a %(kinds)s file.") % {"name": name,
                                                                                "kinds": kinds_label(kinds)}})
    return kind.mime, kind.ext


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def attachments_add(*, actor, target: models.Model, uploads: Iterable[UploadedFile | None], kinds: Sequence[str],
                    max_bytes: int, max_count: int, field: str = "attachments", refuse_duplicates: bool = False,
                    record: bool = True) -> list[Attachment]:
    """Store ``uploads`` as files on ``target``, all or nothing; the caller has checked that ``actor`` may.

    Refused (a ValidationError on ``field`` naming the file): more than ``max_count`` files on the record
    counting those it has, a file larger than ``max_bytes``, empty, or of none of ``kinds``; with
    ``refuse_duplicates``, the same bytes twice on one record. ``record``: one audit entry per file,
    ``attachment.add`` on the file, naming its record; an app whose audit entry is the record's own
    step (a weekly evaluation's ``attach``, a rectification's ``submit``) passes False and names the
    files in that entry.
    """
    files = [u for u in uploads if u]
    if not files:
        return []
    ct = ContentType.objects.get_for_model(type(target))
    existing = Attachment.objects.filter(content_type=ct, object_id=target.pk)
    if existing.count() + len(files) > max_count:
        raise ValidationError({field: _("At most %(n)s files per %(record)s.")
                               % {"n": max_count, "record": target._meta.verbose_name}})
    seen = set(existing.values_list("sha256", flat=True)) if refuse_duplicates else set()
    checked = []
    for upload in files:  # every file checked before any is stored
        mime, ext = file_type(upload, kinds=kinds, max_bytes=max_bytes, field=field)
        digest = _sha256(upload)
        name = original_name(upload, ext)
        if refuse_duplicates and digest in seen:
            raise ValidationError({field: _("%(name)s is attached already.") % {"name": name}})
        seen.add(digest)
        checked.append((upload, mime, ext, digest, name))
    rows: list[Attachment] = []
    stored: list[Any] = []
    try:
        for upload, mime, ext, digest, name in checked:
            row = Attachment(content_type=ct, object_id=target.pk, original_name=name, mime_type=mime,
                             size=upload.size or 0, sha256=digest, uploaded_by=actor)
            row.file.save(f"{uuid4().hex}.{ext}", upload, save=False)
            stored.append(row.file)
            row.full_clean(exclude=["content_type", "uploaded_by"])
            row.save()
            rows.append(row)
            if record:
                audit.record(actor=actor, action="attachment.add", obj=row,
                             changes={"target": [None, f"{ct.model}:{target.pk}"], "name": [None, name],
                                      "type": [None, mime], "size": [None, row.size], "sha256": [None, digest]})
    except BaseException:
        for f in stored:  # nothing half-saved: no file left behind for rows that were not written
            f.storage.delete(f.name)
        raise
    return rows


@transaction.atomic
def attachment_remove(*, actor, attachment: Attachment, record: bool = True) -> None:
    """Delete a file from its record; the stored file goes once the transaction commits. The caller has
    checked that ``actor`` may. ``record``: as for ``attachments_add`` (``attachment.remove`` on the file)."""
    if record:
        audit.record(actor=actor, action="attachment.remove", obj=attachment,
                     changes={"target": [f"{attachment.content_type.model}:{attachment.object_id}", None],
                              "name": [attachment.original_name, None], "sha256": [attachment.sha256, None]})
    attachment.delete()  # the stored file follows once committed (file_goes_with_its_row)


def file_goes_with_its_row(sender: type, instance: Attachment, using: str, **kwargs: Any) -> None:
    """A deleted attachment row takes its stored file with it once the transaction commits (a rollback
    keeps both) — whichever way the row goes: ``attachment_remove``, a record discarded with its files,
    or a cascade through the record's ``GenericRelation``. Connected in CoreConfig.ready."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name), using=using)
