"""Uploaded files go out only through access-checked views, as attachments (issue 10 item 4).

One test per download view: a person who may see the file gets it with ``Content-Disposition:
attachment`` and ``X-Content-Type-Options: nosniff`` (a browser never renders an upload in place, nor
guesses a type from its bytes); somebody who may not gets 404 (or 403 where the page says so); an
anonymous visitor is sent to the login page. The files on records (attachments) all go through the one
view ``core:attachment``: one test per kind of record that carries files, each asking the record's own rule.
"""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kefu.people.testing import KefuTestCase
from kefu.procurement.testing import MEDIA, ProcurementTestCase
from kefu.procurement.tests.test_pages import ScenarioMixin
from kefu.uniforms.testing import UniformsTestCase
from kefu.uniforms.tests.test_damage import DamageTestCase
from kefu.uniforms.tests.test_damage import upload as damage_upload

IN_MEMORY = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
             "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% kefu test\n"


class DownloadAssertions:
    def assert_download(self, user, url: str, body: bytes, filename: str | None = None) -> None:
        self.client.force_login(user)
        response = self.client.get(url)
        assert response.status_code == 200, url
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        if filename:
            assert filename in disposition
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == body

    def assert_refused(self, user, url: str, status: int = 404) -> None:
        self.client.force_login(user)
        assert self.client.get(url).status_code == status, (user, url)

    def assert_anonymous_to_login(self, url: str) -> None:
        self.client.logout()
        response = self.client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@override_settings(STORAGES=IN_MEMORY)
class EvaluationAttachmentTests(DownloadAssertions, KefuTestCase):
    def test_evaluation_attachment(self):
        from kefu.evaluations import services

        draft = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent.employee, iso_year=2026,
                                                 iso_week=10)
        att = services.weekly_attachment_add(actor=self.team_lead, evaluation=draft,
                                             upload=SimpleUploadedFile("note.pdf", PDF))
        url = reverse("core:attachment", args=[att.pk])
        self.assert_download(self.team_lead, url, PDF, "note.pdf")
        self.assert_refused(self.outsider, url)
        self.assert_refused(self.agent, url)  # her evaluation is still a draft
        self.assert_anonymous_to_login(url)


@override_settings(MEDIA_ROOT=MEDIA)
class ProcurementFileTests(DownloadAssertions, ScenarioMixin, ProcurementTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.build()

    def test_certificate_scan(self):
        url = reverse("procurement:certificate_scan", args=[self.cert.pk])
        self.assert_download(self.admin_clerk, url, self.cert.scan.open("rb").read())
        self.assert_refused(self.agent, url, 403)
        self.assert_anonymous_to_login(url)

    def test_attachment(self):
        url = reverse("core:attachment", args=[self.photo.pk])
        self.assert_download(self.inspector, url, self.photo.file.open("rb").read(), self.photo.original_name)
        self.assert_refused(self.hr, url)  # she does not read procurement: not found, as any record she may not see
        self.assert_anonymous_to_login(url)


@override_settings(STORAGES=IN_MEMORY)
class InspectionFileTests(DownloadAssertions, KefuTestCase):
    def test_item_attachment(self):
        from kefu.inspections import services
        from kefu.inspections.tests.plans_helpers import running_inspection

        inspection = running_inspection(self.inspector, org_unit=self.cs1, sizes={}, methods=["interview"])
        item = inspection.items.order_by("pk").first()
        services.item_record(actor=self.inspector, item=item, result="fail", notes="兩週遲交",
                             uploads=[SimpleUploadedFile("a.png", PNG, content_type="image/png")])
        att = item.attachments.get()
        url = reverse("core:attachment", args=[att.pk])
        self.assert_download(self.inspector, url, PNG, "a.png")
        self.assert_refused(self.agent, url)
        self.assert_anonymous_to_login(url)

    def test_rectification_attachment(self):
        from kefu.inspections import rectification as rs
        from kefu.inspections.tests.builders_rectification import make_finding

        finding = make_finding(inspector=self.inspector, unit=self.cs1_t1)
        rect = rs.rectification_request(actor=self.inspector, finding=finding, responsible=self.team_lead,
                                        requirement="改正", deadline=timezone.localdate() + datetime.timedelta(days=10))
        rs.rectification_start(actor=self.team_lead, rectification=rect)
        rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="已補齊",
                                attachments=[SimpleUploadedFile("證據.png", PNG, "image/png")])
        att = rect.attachments.get()
        url = reverse("core:attachment", args=[att.pk])
        self.assert_download(self.team_lead, url, PNG)
        self.assert_refused(self.outsider, url)
        self.assert_anonymous_to_login(url)


class DamageFileTests(DownloadAssertions, DamageTestCase):
    def test_damage_file(self):
        report = self.report(attachments=[damage_upload("photo.png", PNG, "image/png")])
        url = reverse("core:attachment", args=[report.attachments.get().pk])
        self.assert_download(self.agent, url, PNG, "photo.png")
        self.assert_refused(self.outsider, url)
        self.assert_anonymous_to_login(url)


@override_settings(STORAGES=IN_MEMORY)
class StylePhotoTests(DownloadAssertions, UniformsTestCase):
    def test_style_photo(self):
        from kefu.uniforms import services

        style = self.styles["TOP-S"]
        services.style_save(actor=self.admin_clerk, style=style, photo=SimpleUploadedFile("shirt.png", PNG))
        url = reverse("uniforms:style_photo", args=[style.pk])
        # The catalogue is the company's: everybody with a login sees it (an <img> shows an attachment too).
        self.assert_download(self.agent, url, PNG, f"style-{style.pk}.png")
        self.assert_anonymous_to_login(url)


@override_settings(STORAGES=IN_MEMORY)
class AttachmentViewTests(DownloadAssertions, KefuTestCase):
    """core:attachment itself: unknown files, files on records nobody registered, files gone from disk."""

    def test_unknown_pk_and_unregistered_target_are_not_found(self):
        from kefu.core import attachments

        self.assert_refused(self.sysadmin, reverse("core:attachment", args=[999_999]))
        # A file on a record whose app registered no rule for its files (here a user account): nobody gets
        # it, not even its uploader.
        (att,) = attachments.attachments_add(actor=self.sysadmin, target=self.sysadmin,
                                             uploads=[SimpleUploadedFile("a.pdf", PDF)], kinds=("pdf",),
                                             max_bytes=1024, max_count=1)
        self.assert_refused(self.sysadmin, reverse("core:attachment", args=[att.pk]))

    def test_a_file_missing_on_disk_is_not_found(self):
        from kefu.evaluations import services

        draft = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent.employee, iso_year=2026,
                                                 iso_week=11)
        att = services.weekly_attachment_add(actor=self.team_lead, evaluation=draft,
                                             upload=SimpleUploadedFile("note.pdf", PDF))
        att.file.storage.delete(att.file.name)
        self.assert_refused(self.team_lead, reverse("core:attachment", args=[att.pk]))
