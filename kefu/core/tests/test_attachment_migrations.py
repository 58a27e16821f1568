"""The data migrations that moved the apps' own attachment tables into ``core.Attachment``.

Each test builds real records with today's code, takes one app back to the migration before the move (its
old table again), writes an old row through the *historical* model, migrates forward and checks the core
row: same stored file name (files are not moved), name shown, type, size, uploader, upload time, and the
record it belongs to. Then back again: the reverse copies the row into the old table and out of core.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
import tempfile
from pathlib import Path

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase, override_settings

from kefu.core.models import Attachment
from kefu.people.testing import build_company

WHEN = datetime.datetime(2026, 3, 4, 2, 30, tzinfo=datetime.UTC)
CORE = ("core", "0003_attachment")


def migrate(*targets: tuple[str, str]):
    """Migrate to ``targets`` (all the leaves when none); the historical apps at that point."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    nodes = list(targets) or executor.loader.graph.leaf_nodes()
    executor.migrate(nodes)
    return executor.loader.project_state(nodes).apps


class AttachmentMigrationTests(TransactionTestCase):
    def setUp(self) -> None:
        self.media = tempfile.mkdtemp(prefix="kefu-media-")
        self.override = override_settings(MEDIA_ROOT=self.media)
        self.override.enable()
        self.c = build_company()

    def tearDown(self) -> None:
        migrate()  # every app back at its latest migration for the tests that follow
        self.override.disable()
        shutil.rmtree(self.media, ignore_errors=True)

    def test_weekly_evaluation_files_move_with_their_sha256(self):
        from kefu.evaluations import services

        ev = services.weekly_evaluation_start(actor=self.c.team_lead, agent=self.c.agent.employee, iso_year=2026,
                                              iso_week=10)
        old_apps = migrate(("evaluations", "0001_initial"), CORE)
        old_model = old_apps.get_model("evaluations", "EvaluationAttachment")
        digest = hashlib.sha256(b"not on disk").hexdigest()
        row = old_model.objects.create(evaluation_id=ev.pk, file="evaluations/attachments/2026/03/0123abcd.pdf",
                                       original_name="通話紀錄.pdf", content_type="application/pdf", size=2048,
                                       sha256=digest, uploaded_by_id=self.c.team_lead.pk)
        old_model.objects.filter(pk=row.pk).update(uploaded_at=WHEN)  # auto_now_add stamped "now"

        migrate()
        moved = Attachment.objects.get()
        self.assertEqual((moved.file.name, moved.original_name, moved.mime_type, moved.size, moved.sha256),
                         ("evaluations/attachments/2026/03/0123abcd.pdf", "通話紀錄.pdf", "application/pdf", 2048,
                          digest))
        self.assertEqual((moved.uploaded_by_id, moved.uploaded_at), (self.c.team_lead.pk, WHEN))
        self.assertEqual(moved.target, ev)
        self.assertEqual(list(ev.attachments.all()), [moved])

        old_apps = migrate(("evaluations", "0001_initial"), CORE)  # the reverse copies it back
        back = old_apps.get_model("evaluations", "EvaluationAttachment").objects.get()
        self.assertEqual((back.evaluation_id, back.file.name, back.original_name, back.content_type, back.size,
                          back.sha256, back.uploaded_by_id, back.uploaded_at),
                         (ev.pk, "evaluations/attachments/2026/03/0123abcd.pdf", "通話紀錄.pdf", "application/pdf",
                          2048, digest, self.c.team_lead.pk, WHEN))
        self.assertFalse(old_apps.get_model("core", "Attachment").objects.exists())

    def test_a_damage_reports_generic_file_moves_and_gets_its_sha256_from_disk(self):
        from kefu.uniforms import services
        from kefu.uniforms.models import DamageReport
        from kefu.uniforms.testing import build_catalogue

        clerk, agent = self.c.admin_clerk, self.c.agent
        top_m = build_catalogue(clerk)["sku"]["TOP-S-M"]
        holding = services.holding_register(actor=clerk, employee=agent.employee, sku=top_m, quantity=1,
                                            issued_on=datetime.date(2026, 1, 1))[0]
        report = services.damage_report_create(actor=agent, holding=holding, kind=DamageReport.Kind.DAMAGE,
                                               description="袖口脫線")
        stored = "uniforms/attachments/2026/03/photo0001.png"
        body = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        Path(self.media, stored).parent.mkdir(parents=True)
        Path(self.media, stored).write_bytes(body)

        old_apps = migrate(("uniforms", "0001_initial"), CORE)
        old_model = old_apps.get_model("uniforms", "Attachment")
        content_type = old_apps.get_model("contenttypes", "ContentType").objects.get(app_label="uniforms",
                                                                                       model="damagereport")
        row = old_model.objects.create(content_type=content_type, object_id=report.pk, file=stored,
                                       original_name="袖口.png", mime_type="image/png", size=len(body),
                                       uploaded_by_id=agent.pk)
        old_model.objects.filter(pk=row.pk).update(uploaded_at=WHEN)

        migrate()
        moved = Attachment.objects.get()
        self.assertEqual((moved.file.name, moved.original_name, moved.mime_type, moved.size),
                         (stored, "袖口.png", "image/png", len(body)))
        self.assertEqual((moved.uploaded_by_id, moved.uploaded_at), (agent.pk, WHEN))
        self.assertEqual(moved.target, report)
        self.assertEqual(moved.sha256, hashlib.sha256(body).hexdigest())  # the old table had none: from the file
        self.assertEqual(moved.file.open("rb").read(), body)  # the file was not moved: still found

        old_apps = migrate(("uniforms", "0001_initial"), CORE)
        back = old_apps.get_model("uniforms", "Attachment").objects.get()
        self.assertEqual((back.content_type_id, back.object_id, back.file.name, back.original_name, back.mime_type,
                          back.size, back.uploaded_by_id, back.uploaded_at),
                         (content_type.pk, report.pk, stored, "袖口.png", "image/png", len(body), agent.pk, WHEN))
