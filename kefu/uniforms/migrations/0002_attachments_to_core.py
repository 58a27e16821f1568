"""Copy this app's attachments (damage reports' photos and scans) into core.Attachment (the next migration drops the old table).

The files stay where they are on disk (same stored name); the reverse copies the rows back. See
kefu/core/attachments_migration.py.
"""

from django.db import migrations

from kefu.core.attachments_migration import OldTable, copy_back, copy_to_core

TABLES = [OldTable("uniforms", "Attachment", mime_field="mime_type", targets=("damagereport",))]


def forward(apps, schema_editor):
    for table in TABLES:
        copy_to_core(apps, schema_editor, table)


def backward(apps, schema_editor):
    for table in TABLES:
        copy_back(apps, schema_editor, table)


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_attachment"),
        ("uniforms", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
