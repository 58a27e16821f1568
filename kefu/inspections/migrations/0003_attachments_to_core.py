"""Copy this app's checklist items' and rectifications' attachments into core.Attachment (the next migration drops the old table).

The files stay where they are on disk (same stored name); the reverse copies the rows back. See
kefu/core/attachments_migration.py.
"""

from django.db import migrations

from kefu.core.attachments_migration import OldTable, copy_back, copy_to_core

TABLES = [
    OldTable("inspections", "InspectionAttachment", target="inspectionitem", fk="item"),
    OldTable("inspections", "RectificationAttachment", target="rectification", fk="rectification"),
]


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
        ("inspections", "0002_default_checklists"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
