"""Customer-satisfaction surveys (policy E1.1; issue 3 item 4): links, answers, imports."""

from __future__ import annotations

import datetime
import io
import tempfile
from pathlib import Path

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from kefu.api.testing import ApiTestCase
from kefu.core import services as core_services
from kefu.core.models import AuditEntry
from kefu.core.tabular import ImportRejected, TableError
from kefu.people.models import Employee
from kefu.people.testing import KefuTestCase
from kefu.service import surveys
from kefu.service.models import ImportBatch, SlaStored, SurveyAnswer, SurveyInvitation
from kefu.service.tests.builders import answer, interaction, local

D = datetime.date


class SurveyData(KefuTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a = Employee.objects.get(employee_no="CS1001")
        cls.b = Employee.objects.get(employee_no="CS1005")
        cls.c = Employee.objects.get(employee_no="CS2002")
        # Handled by A, resolved by B (an escalation): the rating is B's (E1.1).
        cls.resolved = interaction(cls.a, local(2026, 5, 4, 10), source="HOTLINE", external_id="T-1",
                                   resolver=cls.b, first_response_at=local(2026, 5, 4, 10, 5),
                                   resolved_at=local(2026, 5, 4, 11), fr=SlaStored.MET, res=SlaStored.MET,
                                   subject="查詢訂單")
        cls.own = interaction(cls.a, local(2026, 5, 5, 10), source="HOTLINE", external_id="T-2",
                              resolved_at=local(2026, 5, 5, 12), res=SlaStored.MET)
        cls.open = interaction(cls.a, local(2026, 5, 6, 10), source="HOTLINE", external_id="T-3")
        cls.cs2 = interaction(cls.c, local(2026, 5, 6, 10), source="HOTLINE", external_id="T-4",
                              resolved_at=local(2026, 5, 6, 12), res=SlaStored.MET)


class SurveyIssueTests(SurveyData):
    def test_a_resolved_interaction_gets_a_link_valid_for_the_parameter_days(self):
        now = local(2026, 5, 4, 12)
        invitation = surveys.survey_issue(actor=self.agent, interaction=self.resolved, now=now)
        self.assertEqual(invitation.issued_at, now)
        self.assertEqual(invitation.expires_at, now + datetime.timedelta(days=7))  # the default (POLICY.md)
        self.assertEqual(invitation.issued_by, self.agent)
        self.assertTrue(AuditEntry.objects.filter(action="survey.issue", object_id=str(invitation.pk)).exists())
        token = surveys.survey_token(invitation)
        # A random id (not the row's number) and its signature.
        self.assertEqual(token.split(":")[0], invitation.token_id)
        self.assertEqual(len(invitation.token_id), 24)
        self.assertEqual(surveys.invitation_for_token(token), invitation)

    def test_validity_is_the_value_in_force_on_the_issue_date(self):
        core_services.policy_set(actor=self.sysadmin, key="service.survey_valid_days", value=3,
                                 effective_from=D(2026, 1, 1), note="test")
        core_services.policy_set(actor=self.sysadmin, key="service.survey_valid_days", value=30,
                                 effective_from=D(2026, 6, 1), note="test")
        may = surveys.survey_issue(actor=self.agent, interaction=self.resolved, now=local(2026, 5, 31, 23))
        self.assertEqual(may.expires_at, local(2026, 6, 3, 23))
        june = surveys.survey_issue(actor=self.agent, interaction=self.own, now=local(2026, 6, 1, 0, 30))
        self.assertEqual(june.expires_at, local(2026, 7, 1, 0, 30))

    def test_an_unresolved_or_answered_interaction_gets_none(self):
        with self.assertRaises(ValidationError) as caught:
            surveys.survey_issue(actor=self.agent, interaction=self.open)
        self.assertIn("interaction", caught.exception.message_dict)
        answer(self.own, 5, local(2026, 5, 6, 9))
        with self.assertRaises(ValidationError):
            surveys.survey_issue(actor=self.agent, interaction=self.own)
        self.assertFalse(SurveyInvitation.objects.exists())

    def test_issuing_again_gives_the_live_link_and_renews_an_expired_one(self):
        first = surveys.survey_issue(actor=self.agent, interaction=self.resolved, now=local(2026, 5, 4, 12))
        again = surveys.survey_issue(actor=self.agent, interaction=self.resolved, now=local(2026, 5, 5, 12))
        self.assertEqual((again.pk, again.token_id), (first.pk, first.token_id))
        old_token = surveys.survey_token(first)
        renewed = surveys.survey_issue(actor=self.agent, interaction=self.resolved, now=local(2026, 5, 12, 12))
        self.assertNotEqual(renewed.token_id, first.token_id)
        self.assertIsNone(surveys.invitation_for_token(old_token))  # the old link no longer works
        self.assertEqual(SurveyInvitation.objects.count(), 1)
        self.assertTrue(AuditEntry.objects.filter(action="survey.reissue").exists())

    def test_issue_page(self):
        url = reverse("service:survey_issue", args=[self.resolved.pk])
        self.login(self.agent)
        response = self.client.post(url)
        self.assertEqual(response.status_code, 200)
        invitation = SurveyInvitation.objects.get()
        self.assertContains(response, surveys.survey_path(invitation))
        self.assertEqual(self.client.get(url).status_code, 405)
        response = self.client.post(reverse("service:survey_issue", args=[self.open.pk]))
        self.assertContains(response, "not", status_code=422)
        self.assertStatus(self.outsider, "post", url, 404)  # CS2's supervisor: not her interaction
        self.assertStatus(self.teammate_other_team, "post", reverse("service:survey_issue", args=[self.own.pk]), 404)
        self.client.logout()
        response = self.client.post(url)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])


class SurveyAnswerPageTests(SurveyData):
    def setUp(self):
        super().setUp()
        self.invitation = surveys.survey_issue(actor=self.agent, interaction=self.resolved)
        self.url = surveys.survey_path(self.invitation)

    def test_the_customer_answers_without_a_login(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-testid="survey-form"')
        self.assertContains(response, "查詢訂單")
        response = self.client.post(self.url, {"rating": "4", "comment": "  很快就解決了  "})
        self.assertContains(response, 'data-testid="survey-thanks"')
        saved = SurveyAnswer.objects.get()
        self.assertEqual((saved.rating, saved.comment, saved.source), (4, "很快就解決了", SurveyAnswer.Source.LINK))
        self.assertEqual(saved.interaction, self.resolved)
        # E1.1: the rating belongs to the agent who resolved it (B), not the handling agent (A).
        self.assertEqual(saved.agent, self.b)
        entry = AuditEntry.objects.get(action="survey.answer")
        self.assertEqual(entry.actor_id, None)
        self.assertEqual(entry.actor_repr, surveys.CUSTOMER)

    def test_a_second_answer_is_refused_politely(self):
        self.client.post(self.url, {"rating": "5"})
        response = self.client.post(self.url, {"rating": "1", "comment": "double click"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-reason="answered"')
        self.assertEqual(SurveyAnswer.objects.get().rating, 5)
        self.assertContains(self.client.get(self.url), 'data-reason="answered"')

    def test_an_expired_link(self):
        SurveyInvitation.objects.filter(pk=self.invitation.pk).update(
            issued_at=timezone.now() - datetime.timedelta(days=7, seconds=1),
            expires_at=timezone.now() - datetime.timedelta(seconds=1))
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 410)
        self.assertContains(response, 'data-reason="expired"', status_code=410)
        response = self.client.post(self.url, {"rating": "5"})
        self.assertEqual(response.status_code, 410)
        self.assertFalse(SurveyAnswer.objects.exists())

    def test_the_service_refuses_after_expiry(self):
        with self.assertRaises(surveys.SurveyClosed) as caught:
            surveys.survey_answer(invitation=self.invitation, rating=5, now=self.invitation.expires_at)
        self.assertEqual(caught.exception.code, "expired")

    def test_invalid_and_tampered_links(self):
        token = surveys.survey_token(self.invitation)
        token_id, signature = token.split(":", 1)
        forged = signing.Signer(salt="another-salt").sign(token_id)
        other = "A" if signature[0] != "A" else "B"
        for bad in ["nonsense", token_id, f"{token_id}:{other}{signature[1:]}", forged,
                    signing.Signer(salt=surveys.SIGNING_SALT).sign("unknown-token-id")]:
            with self.subTest(token=bad):
                response = self.client.get(reverse("service:survey_answer", args=[bad]))
                self.assertEqual(response.status_code, 404)
                self.assertContains(response, 'data-reason="invalid"', status_code=404)
                response = self.client.post(reverse("service:survey_answer", args=[bad]), {"rating": "5"})
                self.assertEqual(response.status_code, 404)
        self.assertFalse(SurveyAnswer.objects.exists())

    def test_bad_ratings_save_nothing(self):
        for rating in ["", "0", "6", "4.5", "five", "-1"]:
            with self.subTest(rating=rating):
                response = self.client.post(self.url, {"rating": rating, "comment": "好"})
                self.assertEqual(response.status_code, 422)
                self.assertContains(response, 'data-testid="rating-error"', status_code=422)
                self.assertContains(response, ">好</textarea>", status_code=422)  # her comment is kept
        response = self.client.post(self.url, {"rating": "3", "comment": "x" * 2001})
        self.assertEqual(response.status_code, 422)
        self.assertFalse(SurveyAnswer.objects.exists())

    def test_a_logged_in_user_may_open_it_too(self):
        self.login(self.hr)
        self.assertEqual(self.client.get(self.url).status_code, 200)


def csv_file(text: str, name: str = "answers.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


class SurveyImportTests(SurveyData):
    def test_a_file_imports_and_a_second_time_changes_nothing(self):
        text = ("source,external_id,rating,comment,answered_at\n"
                "HOTLINE,T-1,5,很好,2026-05-04 15:00\n"
                "HOTLINE,T-2,2,太慢,2026-05-06T09:00:00+08:00\n")
        report = surveys.survey_answers_import(actor=self.supervisor, file=csv_file(text))
        self.assertEqual((report.rows_read, report.created, report.updated, report.unchanged), (2, 2, 0, 0))
        first = SurveyAnswer.objects.get(interaction=self.resolved)
        self.assertEqual((first.rating, first.agent, first.source), (5, self.b, SurveyAnswer.Source.IMPORT))
        self.assertEqual(first.answered_at, local(2026, 5, 4, 15))  # no zone: company time
        self.assertEqual(SurveyAnswer.objects.get(interaction=self.own).agent, self.a)
        report = surveys.survey_answers_import(actor=self.supervisor, file=csv_file(text))
        self.assertEqual((report.created, report.updated, report.unchanged), (0, 0, 2))
        batch = ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY_ANSWERS).order_by("-pk").first()
        self.assertEqual((batch.created_count, batch.unchanged_count), (0, 2))
        self.assertEqual(AuditEntry.objects.filter(action="survey_answers.import").count(), 2)

    def test_a_changed_rating_updates_the_answer(self):
        surveys.survey_answers_import(actor=None, file=csv_file("source,external_id,rating\nHOTLINE,T-1,3\n"))
        report = surveys.survey_answers_import(actor=None, file=csv_file("source,external_id,rating\nHOTLINE,T-1,4\n"))
        self.assertEqual((report.created, report.updated), (0, 1))
        self.assertEqual(SurveyAnswer.objects.get().rating, 4)

    def test_a_broken_file_saves_nothing_and_names_every_bad_row(self):
        text = ("source,external_id,rating,comment,answered_at\n"
                "HOTLINE,T-1,5,,2026-05-04 15:00\n"        # 2: fine
                "HOTLINE,NOPE,4,,\n"                        # 3: no such interaction
                "HOTLINE,T-2,6,,\n"                         # 4: rating out of range
                "HOTLINE,T-2,good,,\n"                      # 5: rating not a number, and a duplicate
                "HOTLINE,T-3,4,,\n"                         # 6: not resolved
                "HOTLINE,T-4,4,,2026-05-06 11:00\n"         # 7: answered before it was resolved (12:00)
                ",T-9,4,,\n"                                # 8: source missing
                "HOTLINE,T-1,4,,\n"                         # 9: T-1 again
                "HOTLINE,T-5,3,,yesterday\n")               # 10: unreadable time
        with self.assertRaises(ImportRejected) as caught:
            surveys.survey_answers_import(actor=None, file=csv_file(text))
        errors = {(e.row, e.field) for e in caught.exception.report.errors}
        self.assertEqual(errors, {
            (3, "external_id"), (4, "rating"), (5, "rating"), (5, "external_id"), (6, "external_id"),
            (7, "answered_at"), (8, "source"), (9, "external_id"), (10, "answered_at"),
        })
        messages = {(e.row, e.field): e.message for e in caught.exception.report.errors}
        self.assertIn("NOPE", messages[3, "external_id"])
        self.assertIn("rows 4 and 5", messages[5, "external_id"])
        self.assertIn("yesterday", messages[10, "answered_at"])
        self.assertFalse(SurveyAnswer.objects.exists())
        self.assertFalse(ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY_ANSWERS).exists())

    def test_file_level_problems(self):
        with self.assertRaises(TableError) as caught:
            surveys.survey_answers_import(actor=None, file=csv_file("source,external_id,comment\nHOTLINE,T-1,x\n"))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(1, "rating")])
        with self.assertRaises(TableError):
            surveys.survey_answers_import(actor=None, file=csv_file(""))
        with self.assertRaises(ImportRejected) as caught:
            surveys.survey_answers_import(actor=None, file=csv_file("source,external_id,rating\n"))
        self.assertIn("no answers", caught.exception.report.errors[0].message)

    def test_gbk_csv_with_chinese_headers(self):
        text = "來源系統,外部編號,評分,評語\nHOTLINE,T-1,5,滿意\n"
        report = surveys.survey_answers_import(actor=None, file=csv_file(text, encoding="gbk"))
        self.assertEqual(report.created, 1)
        self.assertEqual(SurveyAnswer.objects.get().comment, "滿意")

    def test_xlsx(self):
        book = Workbook()
        sheet = book.active
        sheet.append(["source", "external_id", "rating", "answered_at"])
        sheet.append(["HOTLINE", "T-2", 3.0, datetime.datetime(2026, 5, 7, 9, 30)])
        buffer = io.BytesIO()
        book.save(buffer)
        upload = SimpleUploadedFile("answers.xlsx", buffer.getvalue())
        report = surveys.survey_answers_import(actor=None, file=upload)
        self.assertEqual(report.created, 1)
        saved = SurveyAnswer.objects.get()
        self.assertEqual((saved.rating, saved.answered_at), (3, local(2026, 5, 7, 9, 30)))

    def test_a_link_answer_is_not_replaced_by_an_import(self):
        invitation = surveys.survey_issue(actor=self.agent, interaction=self.resolved)
        surveys.survey_answer(invitation=invitation, rating=5)
        with self.assertRaises(ImportRejected) as caught:
            surveys.survey_answers_import(actor=None, file=csv_file("source,external_id,rating\nHOTLINE,T-1,1\n"))
        self.assertEqual([(e.row, e.field) for e in caught.exception.report.errors], [(2, "rating")])
        self.assertEqual(SurveyAnswer.objects.get().rating, 5)

    def test_a_supervisor_imports_only_within_her_scope(self):
        with self.assertRaises(ImportRejected) as caught:
            surveys.survey_answers_import(actor=self.supervisor, file=csv_file("source,external_id,rating\nHOTLINE,T-4,5\n"))
        self.assertIn("outside your scope", caught.exception.report.errors[0].message)
        self.assertEqual(surveys.survey_answers_import(actor=self.outsider, file=csv_file(
            "source,external_id,rating\nHOTLINE,T-4,5\n")).created, 1)

    def test_the_command(self):
        with tempfile.TemporaryDirectory() as folder:
            good = Path(folder) / "good.csv"
            good.write_text("source,external_id,rating\nHOTLINE,T-1,4\n", encoding="utf-8")
            out = io.StringIO()
            call_command("import_survey_answers", str(good), stdout=out)
            self.assertIn("1", out.getvalue())
            self.assertEqual(SurveyAnswer.objects.get().source, SurveyAnswer.Source.IMPORT)
            bad = Path(folder) / "bad.csv"
            bad.write_text("source,external_id,rating\nHOTLINE,T-1,9\nHOTLINE,NOPE,3\n", encoding="utf-8")
            err = io.StringIO()
            with self.assertRaises(CommandError):
                call_command("import_survey_answers", str(bad), stdout=io.StringIO(), stderr=err)
            self.assertIn("2", err.getvalue())
            self.assertIn("3", err.getvalue())
            self.assertEqual(SurveyAnswer.objects.get().rating, 4)
            with self.assertRaises(CommandError):
                call_command("import_survey_answers", str(Path(folder) / "missing.csv"))


class SurveyImportPageTests(SurveyData):
    url = reverse("service:survey_import")

    def test_access(self):
        self.assertStatus(self.agent, "get", self.url, 403)
        self.assertStatus(self.team_lead, "get", self.url, 403)
        self.assertStatus(self.supervisor, "get", self.url, 200)
        self.assertStatus(self.sysadmin, "get", self.url, 200)
        self.assertStatus(self.agent, "get", reverse("service:survey_import_template"), 403)
        self.client.logout()
        self.assertEqual(self.client.get(self.url).status_code, 302)

    def test_upload_good_and_bad(self):
        self.login(self.supervisor)
        response = self.client.post(self.url, {"file": csv_file("source,external_id,rating\nHOTLINE,T-1,9\n")})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, 'data-testid="import-error"', count=1, status_code=422)
        self.assertFalse(SurveyAnswer.objects.exists())
        response = self.client.post(self.url, {"file": csv_file("source,external_id,rating\nHOTLINE,T-1,4\n")})
        self.assertContains(response, 'data-testid="import-done"')
        self.assertEqual(SurveyAnswer.objects.get().rating, 4)

    def test_template_reads_back(self):
        self.login(self.supervisor)
        response = self.client.get(reverse("service:survey_import_template"))
        self.assertEqual(response.status_code, 200)
        from openpyxl import load_workbook

        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        self.assertEqual(rows[0], ("source", "external_id", "rating", "comment", "answered_at"))


class SurveyAnswersApiTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a = Employee.objects.get(employee_no="CS1001")
        cls.b = Employee.objects.get(employee_no="CS1005")
        cls.resolved = interaction(cls.a, local(2026, 5, 4, 10), source="HOTLINE", external_id="T-1", resolver=cls.b,
                                   resolved_at=local(2026, 5, 4, 11), res=SlaStored.MET)

    def test_bulk(self):
        body = {"answers": [{"source": "HOTLINE", "external_id": "T-1", "rating": 5, "comment": "讚",
                             "answered_at": "2026-05-05T10:00:00+08:00"}]}
        data = self.assertApi(self.supervisor, "post", "/survey-answers/bulk", 200, body).json()
        self.assertEqual((data["ok"], data["created"]), (True, 1))
        saved = SurveyAnswer.objects.get()
        self.assertEqual((saved.agent, saved.source), (self.b, SurveyAnswer.Source.API))
        data = self.assertApi(self.supervisor, "post", "/survey-answers/bulk", 200, body).json()
        self.assertEqual((data["created"], data["unchanged"]), (0, 1))

    def test_bulk_rejects_all_and_names_rows(self):
        body = {"answers": [
            {"source": "HOTLINE", "external_id": "T-1", "rating": 4},
            {"source": "HOTLINE", "external_id": "NOPE", "rating": 4},
            {"source": "HOTLINE", "external_id": "T-1", "rating": 0},
        ]}
        data = self.assertApi(self.sysadmin, "post", "/survey-answers/bulk", 422, body).json()
        self.assertFalse(data["ok"])
        self.assertEqual({(e["row"], e["field"]) for e in data["errors"]},
                         {(2, "external_id"), (3, "rating"), (3, "external_id")})
        self.assertFalse(SurveyAnswer.objects.exists())

    def test_dry_run_saves_nothing(self):
        body = {"answers": [{"source": "HOTLINE", "external_id": "T-1", "rating": 4}], "dry_run": True}
        data = self.assertApi(self.supervisor, "post", "/survey-answers/bulk", 200, body).json()
        self.assertEqual((data["dry_run"], data["created"]), (True, 1))
        self.assertFalse(SurveyAnswer.objects.exists())

    def test_access(self):
        body = {"answers": [{"source": "HOTLINE", "external_id": "T-1", "rating": 4}]}
        self.assertApi(self.agent, "post", "/survey-answers/bulk", 403, body)
        self.assertApi(self.hr, "post", "/survey-answers/bulk", 403, body)
        self.assertApi(None, "post", "/survey-answers/bulk", 401, body)
        self.assertFalse(SurveyAnswer.objects.exists())
