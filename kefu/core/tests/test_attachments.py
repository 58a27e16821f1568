"""The one attachment service (kefu/core/attachments.py): type by content, size, count, all or nothing,
a message naming the file, one audit entry per file; removal. The apps' rules on top of it (who may add
to what) are tested in the apps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from kefu.core import attachments
from kefu.core.models import Attachment, AuditEntry
from kefu.people.testing import KefuTestCase

IN_MEMORY = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
             "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% kefu\n"
RULE = {"kinds": ("pdf", "png"), "max_bytes": 1024 * 1024, "max_count": 3}


@override_settings(STORAGES=IN_MEMORY)
class AttachmentsAddTests(KefuTestCase):
    def add(self, *uploads, target=None, **rule):
        return attachments.attachments_add(actor=self.team_lead, target=target or self.agent.employee,
                                           uploads=uploads, **(RULE | rule))

    def test_stored_under_our_name_with_the_type_told_by_its_bytes(self):
        rows = self.add(SimpleUploadedFile("C:\\scans\\單據.pdf", PDF, "image/png"), SimpleUploadedFile("p", PNG))
        self.assertEqual([(r.original_name, r.mime_type, r.size) for r in rows],
                         [("單據.pdf", "application/pdf", len(PDF)), ("p", "image/png", len(PNG))])
        self.assertEqual([r.target for r in rows], [self.agent.employee] * 2)
        self.assertTrue(rows[0].file.name.startswith("attachments/") and rows[0].file.name.endswith(".pdf"))
        self.assertNotIn("單據", rows[0].file.name)
        self.assertEqual(rows[0].file.open("rb").read(), PDF)
        self.assertEqual(len({r.sha256 for r in rows}), 2)
        entries = AuditEntry.objects.filter(action="attachment.add").order_by("id")
        self.assertEqual([(e.object_type, e.object_id) for e in entries], [("core.attachment", str(r.pk)) for r in rows])
        self.assertEqual(entries[0].changes["target"], [None, f"employee:{self.agent.employee.pk}"])

    def test_one_bad_file_stores_none_and_is_named(self):
        cases = [("evil.png", b"<html><script></script></html>", "is not a PDF or PNG file"),
                 ("big.pdf", PDF + b"0" * (1024 * 1024), "is larger than 1 MB."),
                 ("empty.pdf", b"", "is empty")]
        for name, data, words in cases:
            with self.subTest(name=name), self.assertRaises(ValidationError) as cm:
                self.add(SimpleUploadedFile("good.pdf", PDF), SimpleUploadedFile(name, data))
            (message,) = cm.exception.message_dict["attachments"]
            self.assertIn(name, message)
            self.assertIn(words, message)
        self.assertFalse(Attachment.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action="attachment.add").exists())

    def test_count_includes_the_files_already_there(self):
        self.add(SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.png", PNG))
        with self.assertRaises(ValidationError) as cm:
            self.add(SimpleUploadedFile("c.pdf", PDF), SimpleUploadedFile("d.pdf", PDF), field="photos")
        self.assertIn("At most 3 files per employee.", cm.exception.message_dict["photos"])
        self.assertEqual(Attachment.objects.count(), 2)
        self.add(SimpleUploadedFile("c.pdf", PDF))
        other = self.add(SimpleUploadedFile("e.pdf", PDF), target=self.team_lead.employee)  # another record: its own 3
        self.assertEqual(len(other), 1)

    def test_duplicates_refused_only_when_asked(self):
        self.add(SimpleUploadedFile("a.pdf", PDF))
        self.add(SimpleUploadedFile("again.pdf", PDF))
        with self.assertRaises(ValidationError) as cm:
            self.add(SimpleUploadedFile("third.pdf", PDF), refuse_duplicates=True)
        self.assertIn("third.pdf is attached already.", cm.exception.messages)

    def test_no_uploads_nothing_done_and_record_false_writes_no_audit(self):
        self.assertEqual(self.add(None), [])
        self.add(SimpleUploadedFile("a.pdf", PDF), record=False)
        self.assertEqual(Attachment.objects.count(), 1)
        self.assertFalse(AuditEntry.objects.filter(action="attachment.add").exists())

    def test_a_row_deleted_any_way_takes_its_file_once_committed_and_a_rollback_keeps_it(self):
        from django.db import transaction

        (row,) = self.add(SimpleUploadedFile("a.pdf", PDF))
        name, storage = row.file.name, row.file.storage
        try:
            with transaction.atomic():
                Attachment.objects.filter(pk=row.pk).delete()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        self.assertTrue(Attachment.objects.filter(pk=row.pk).exists())
        self.assertTrue(storage.exists(name))
        with self.captureOnCommitCallbacks(execute=True):
            Attachment.objects.filter(pk=row.pk).delete()  # a queryset delete, as a cascade does
        self.assertFalse(storage.exists(name))

    def test_remove_deletes_the_row_then_the_file_and_audits(self):
        (row,) = self.add(SimpleUploadedFile("a.pdf", PDF))
        name, storage = row.file.name, row.file.storage
        with self.captureOnCommitCallbacks(execute=True):
            attachments.attachment_remove(actor=self.team_lead, attachment=row)
        self.assertFalse(Attachment.objects.exists())
        self.assertFalse(storage.exists(name))
        entry = AuditEntry.objects.get(action="attachment.remove")
        self.assertEqual(entry.changes["name"], ["a.pdf", None])
