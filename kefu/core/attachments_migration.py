"""Moving the apps' own attachment tables into ``core.Attachment`` (their data migrations call these).

Only the rows move: the files stay where they are on disk, and the new row keeps the stored name, so
``file`` still points at them. The upload time, the uploader, the name shown, type and size are kept; the
SHA-256 is the old row's where it had one, else computed from the file, else blank (the file is missing).
The ids are new (each app numbered its own table), so old download links no longer resolve.

Every function takes the *historical* ``apps`` of the migration, never the current models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class OldTable:
    """One app's old table. ``target`` (a model name in ``app_label``) and ``fk`` for a table with a
    foreign key to its record; ``target=None`` for a generic one (content_type + object_id)."""

    app_label: str
    model: str
    target: str | None = None
    fk: str = ""
    mime_field: str = "content_type"  # the old tables with a foreign key kept the MIME type in "content_type"
    has_sha256: bool = False
    targets: tuple[str, ...] = ()  # generic: the models whose files go back on reversal


def _sha256(field) -> str:
    if not field.name:
        return ""
    try:
        with field.storage.open(field.name, "rb") as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(64 * 1024), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except (OSError, ValueError):
        return ""


def _content_type(apps, db: str, app_label: str, model: str):
    content_type = apps.get_model("contenttypes", "ContentType")
    return content_type.objects.using(db).get_or_create(app_label=app_label, model=model)[0]


def copy_to_core(apps, schema_editor, table: OldTable) -> None:
    db = schema_editor.connection.alias
    old_model = apps.get_model(table.app_label, table.model)
    attachment = apps.get_model("core", "Attachment")
    ct_id = _content_type(apps, db, table.app_label, table.target).pk if table.target else None
    for old in old_model.objects.using(db).order_by("pk").iterator():
        if table.target:
            content_type_id, object_id = ct_id, getattr(old, f"{table.fk}_id")
        else:
            content_type_id, object_id = old.content_type_id, old.object_id
        sha = (old.sha256 if table.has_sha256 else "") or _sha256(old.file)
        attachment.objects.using(db).create(
            content_type_id=content_type_id, object_id=object_id, file=old.file.name,
            original_name=old.original_name[:255], mime_type=getattr(old, table.mime_field)[:100], size=old.size,
            sha256=sha, uploaded_by_id=old.uploaded_by_id, uploaded_at=old.uploaded_at)


def copy_back(apps, schema_editor, table: OldTable) -> None:
    """The reverse: the core rows of this table's records go back into it (and leave core)."""
    db = schema_editor.connection.alias
    old_model = apps.get_model(table.app_label, table.model)
    attachment = apps.get_model("core", "Attachment")
    names = (table.target,) if table.target else table.targets
    types = [_content_type(apps, db, table.app_label, name) for name in names if name]
    rows = attachment.objects.using(db).filter(content_type__in=types).order_by("pk")
    name_max = old_model._meta.get_field("original_name").max_length
    for row in rows.iterator():
        values = {"file": row.file.name, "original_name": row.original_name[:name_max], "size": row.size,
                  "uploaded_by_id": row.uploaded_by_id, table.mime_field: row.mime_type}
        if table.target:
            values[f"{table.fk}_id"] = row.object_id
        else:
            values |= {"content_type_id": row.content_type_id, "object_id": row.object_id}
        if table.has_sha256:
            values["sha256"] = row.sha256 or _sha256(row.file)
        old = old_model.objects.using(db).create(**values)
        # The old tables stamped uploaded_at on insert (auto_now_add): put the real time back after.
        old_model.objects.using(db).filter(pk=old.pk).update(uploaded_at=row.uploaded_at)
    rows.delete()
