"""Weekly evaluation services (policy E2.1): scope, never herself, one per week, evidence rule,
attachments, the transitions, and scorecards that freeze on first use (E1)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from kefu.core.models import AuditEntry, Notification
from kefu.evaluations import services
from kefu.evaluations.models import Scorecard, WeeklyEvaluation, WeeklyEvidence
from kefu.evaluations.tests.builders import criteria, scores, submitted_weekly
from kefu.people.testing import KefuTestCase
from kefu.service.tests.builders import interaction, local

W = (2026, 10)  # Mon 2 March – Sun 8 March 2026


class WeeklyTestCase(KefuTestCase):
    def setUp(self):
        super().setUp()
        self.agent_e = self.agent.employee
        self.card = services.scorecard_ensure_default()

    def start(self, actor=None, agent=None, week=W):
        return services.weekly_evaluation_start(actor=actor or self.team_lead, agent=agent or self.agent_e,
                                                iso_year=week[0], iso_week=week[1])

    def save(self, ev, *, actor=None, onsite=True, recording=False, chat=False, **kw):
        return services.weekly_evaluation_save(actor=actor or self.team_lead, evaluation=ev, method_onsite=onsite,
                                               method_recording=recording, method_chat=chat, **kw)


class ScopeTests(WeeklyTestCase):
    def test_team_lead_and_supervisor_may_evaluate(self):
        ev = self.start()
        self.assertEqual(ev.evaluator, self.team_lead.employee)
        self.assertEqual(ev.status, WeeklyEvaluation.Status.DRAFT)
        self.assertEqual(ev.week_start.isoformat(), "2026-03-02")
        # the supervisor opens the same week's evaluation: one per agent per week
        again = self.start(actor=self.supervisor)
        self.assertEqual(again.pk, ev.pk)
        self.assertEqual(WeeklyEvaluation.objects.count(), 1)

    def test_team_lead_cannot_evaluate_another_teams_agent(self):
        with self.assertRaises(PermissionDenied):
            self.start(agent=self.teammate_other_team.employee)
        with self.assertRaises(PermissionDenied):
            self.start(actor=self.outsider)  # CS2's supervisor, agent is in CS1
        self.assertFalse(WeeklyEvaluation.objects.exists())

    def test_nobody_evaluates_herself(self):
        with self.assertRaises(PermissionDenied):
            self.start(actor=self.team_lead, agent=self.team_lead.employee)

    def test_other_roles_cannot_evaluate(self):
        for user in (self.dept_head, self.hr, self.agent, self.leadership):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                self.start(actor=user)

    def test_week_not_yet_begun(self):
        with self.assertRaises(ValidationError) as cm:
            self.start(week=(2030, 10))
        self.assertIn("week", cm.exception.message_dict)

    def test_no_such_week(self):
        with self.assertRaises(ValidationError):
            self.start(week=(2025, 53))  # 2025 has 52 ISO weeks


class ScoringAndSubmitTests(WeeklyTestCase):
    def test_submit_stores_percents_worked_out_by_hand(self):
        # attitude: warm 5 (1.0), patient 4 (0.75), satisfaction N/A → 87.50
        # ability: knowledge 3 (0.5), solving 2 (0.25), communication 4 (0.75) → 0.5 → 50.00
        # efficiency: response 1 (0), speed 5 (1) → 50.00
        ev = submitted_weekly(self.team_lead, self.agent_e, *W, levels={
            "proactive_warm": 5, "patient_careful": 4, "customer_satisfaction": "na",
            "product_knowledge": 3, "problem_solving": 2, "communication": 4,
            "response_time": 1, "handling_speed": 5,
        })
        self.assertEqual(ev.status, WeeklyEvaluation.Status.SUBMITTED)
        self.assertEqual(ev.attitude_pct, Decimal("87.50"))
        self.assertEqual(ev.ability_pct, Decimal("50.00"))
        self.assertEqual(ev.efficiency_pct, Decimal("50.00"))
        self.assertIsNotNone(ev.submitted_at)
        note = Notification.objects.get(recipient=self.agent)
        self.assertIn("2026-W10", note.title)

    def test_failed_critical_zeroes_attitude(self):
        # "patient and careful" is critical in the default scorecard and fails at 1
        ev = submitted_weekly(self.team_lead, self.agent_e, *W, levels={
            "proactive_warm": 5, "patient_careful": 1, "customer_satisfaction": 5})
        self.assertEqual(ev.attitude_pct, Decimal("0.00"))
        self.assertEqual(ev.ability_pct, Decimal("75.00"))  # all 4 → 0.75

    def test_incomplete_scores_refused_with_every_field_named(self):
        ev = self.start()
        card = ev.scorecard
        partial = scores(card)
        c = criteria(card)
        del partial[c["communication"].pk]
        del partial[c["handling_speed"].pk]
        self.save(ev, scores=partial)
        with self.assertRaises(ValidationError) as cm:
            services.weekly_evaluation_submit(actor=self.team_lead, evaluation=ev)
        self.assertEqual(set(cm.exception.message_dict),
                         {f"score_{c['communication'].pk}", f"score_{c['handling_speed'].pk}"})
        ev.refresh_from_db()
        self.assertEqual(ev.status, WeeklyEvaluation.Status.DRAFT)

    def test_level_outside_rubric_and_na_not_allowed(self):
        ev = self.start()
        c = criteria(ev.scorecard)
        bad = scores(ev.scorecard)
        bad[c["product_knowledge"].pk] = services.ScoreIn(level=6)
        bad[c["communication"].pk] = services.ScoreIn(na=True)  # communication does not allow N/A
        with self.assertRaises(ValidationError) as cm:
            self.save(ev, scores=bad)
        self.assertEqual(set(cm.exception.message_dict),
                         {f"score_{c['product_knowledge'].pk}", f"score_{c['communication'].pk}"})
        self.assertFalse(ev.scores.exists())  # nothing half-saved

    def test_no_method_refused(self):
        ev = self.start()
        self.save(ev, onsite=False, scores=scores(ev.scorecard))
        with self.assertRaises(ValidationError) as cm:
            services.weekly_evaluation_submit(actor=self.team_lead, evaluation=ev)
        self.assertIn("methods", cm.exception.message_dict)

    def test_double_submit_is_one_submission(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        again = services.weekly_evaluation_submit(actor=self.team_lead, evaluation=ev)
        self.assertEqual(again.submitted_at, ev.submitted_at)
        self.assertEqual(AuditEntry.objects.filter(action="weekly_evaluation.submit").count(), 1)

    def test_submitted_cannot_be_saved(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        with self.assertRaises(ValidationError):
            self.save(ev, notes="changed quietly")


class EvidenceTests(WeeklyTestCase):
    def test_recording_or_chat_needs_evidence(self):
        ev = self.start()
        self.save(ev, onsite=False, recording=True, scores=scores(ev.scorecard))
        with self.assertRaises(ValidationError) as cm:
            services.weekly_evaluation_submit(actor=self.team_lead, evaluation=ev)
        self.assertIn("evidence", cm.exception.message_dict)
        call = interaction(self.agent_e, local(2026, 3, 4, 10), channel="phone")
        services.weekly_evidence_add(actor=self.team_lead, evaluation=ev, interaction_ids=[call.pk])
        ev = services.weekly_evaluation_submit(actor=self.team_lead, evaluation=ev)
        self.assertEqual(ev.status, WeeklyEvaluation.Status.SUBMITTED)

    def test_onsite_alone_needs_no_evidence(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        self.assertFalse(ev.evidence.exists())

    def test_only_the_agents_interactions_of_that_week(self):
        ev = self.start()
        mine_this_week = interaction(self.agent_e, local(2026, 3, 8, 23, 59))  # Sunday night, still W10
        mine_next_week = interaction(self.agent_e, local(2026, 3, 9, 0, 0))   # Monday of W11
        someone_else = interaction(self.teammate_other_team.employee, local(2026, 3, 4, 10))
        with self.assertRaises(ValidationError) as cm:
            services.weekly_evidence_add(actor=self.team_lead, evaluation=ev,
                                         interaction_ids=[mine_this_week.pk, mine_next_week.pk, someone_else.pk])
        message = cm.exception.message_dict["evidence"][0]
        self.assertIn(str(mine_next_week.pk), message)
        self.assertIn(str(someone_else.pk), message)
        self.assertFalse(WeeklyEvidence.objects.exists())  # all or nothing
        self.assertEqual(services.weekly_evidence_add(actor=self.team_lead, evaluation=ev,
                                                      interaction_ids=[mine_this_week.pk]), 1)
        # adding it again keeps one
        self.assertEqual(services.weekly_evidence_add(actor=self.team_lead, evaluation=ev,
                                                      interaction_ids=[mine_this_week.pk]), 0)
        self.assertEqual(ev.evidence.count(), 1)

    def test_evidence_where_she_only_resolved_counts(self):
        ev = self.start()
        handled_by_other = interaction(self.teammate_other_team.employee, local(2026, 3, 5, 9),
                                       resolver=self.agent_e)
        self.assertEqual(services.weekly_evidence_add(actor=self.team_lead, evaluation=ev,
                                                      interaction_ids=[handled_by_other.pk]), 1)

    def test_draw_seed_recorded(self):
        ev = self.start()
        calls = [interaction(self.agent_e, local(2026, 3, d, 10)) for d in (2, 3, 4)]
        services.weekly_evidence_add(actor=self.team_lead, evaluation=ev, interaction_ids=[calls[0].pk], draw_seed=42)
        self.assertEqual(ev.evidence.get().draw_seed, 42)
        services.weekly_evidence_remove(actor=self.team_lead, evaluation=ev, interaction_id=calls[0].pk)
        self.assertFalse(ev.evidence.exists())


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 30


@override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                             "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
class AttachmentTests(WeeklyTestCase):
    def test_accepted_types_by_content(self):
        ev = self.start()
        for name, data, mime in (("a.pdf", PDF, "application/pdf"), ("b.png", PNG, "image/png"),
                                 ("c.wav", WAV, "audio/wav")):
            att = services.weekly_attachment_add(actor=self.team_lead, evaluation=ev,
                                                 upload=SimpleUploadedFile(name, data))
            self.assertEqual(att.mime_type, mime)
            self.assertEqual(att.size, len(data))
        self.assertEqual(ev.attachments.count(), 3)

    def test_renamed_executable_refused(self):
        ev = self.start()
        with self.assertRaises(ValidationError) as cm:
            services.weekly_attachment_add(actor=self.team_lead, evaluation=ev,
                                           upload=SimpleUploadedFile("evil.pdf", b"MZ\x90\x00" + b"\x00" * 60))
        self.assertIn("evil.pdf", cm.exception.message_dict["file"][0])

    def test_too_large_refused(self):
        ev = self.start()
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
        with self.assertRaises(ValidationError):
            services.weekly_attachment_add(actor=self.team_lead, evaluation=ev, upload=big)
        self.assertFalse(ev.attachments.exists())

    def test_same_file_twice_refused(self):
        ev = self.start()
        services.weekly_attachment_add(actor=self.team_lead, evaluation=ev, upload=SimpleUploadedFile("a.pdf", PDF))
        with self.assertRaises(ValidationError) as cm:
            services.weekly_attachment_add(actor=self.team_lead, evaluation=ev,
                                           upload=SimpleUploadedFile("copy.pdf", io.BytesIO(PDF).read()))
        self.assertIn("copy.pdf", cm.exception.message_dict["file"][0])
        self.assertEqual(ev.attachments.count(), 1)

    def test_the_evaluation_audit_names_the_file_added_and_removed(self):
        ev = self.start()
        att = services.weekly_attachment_add(actor=self.team_lead, evaluation=ev,
                                             upload=SimpleUploadedFile("a.pdf", PDF))
        added = AuditEntry.objects.get(action="weekly_evaluation.attach")
        self.assertEqual((added.object_type, added.object_id), ("evaluations.weeklyevaluation", str(ev.pk)))
        self.assertEqual(added.changes["attachments"][1]["name"], "a.pdf")
        self.assertEqual(added.changes["attachments"][1]["sha256"], att.sha256)
        stored = att.file.name
        self.assertTrue(att.file.storage.exists(stored))
        with self.captureOnCommitCallbacks(execute=True):
            services.weekly_attachment_remove(actor=self.team_lead, attachment=att)
        self.assertFalse(ev.attachments.exists())
        self.assertFalse(att.file.storage.exists(stored))  # the stored file goes too, once committed
        removed = AuditEntry.objects.get(action="weekly_evaluation.detach")
        self.assertEqual(removed.changes["attachments"][0], {"name": "a.pdf", "sha256": att.sha256})

    def test_only_her_evaluator_removes_and_only_from_a_draft(self):
        ev = self.start()
        att = services.weekly_attachment_add(actor=self.team_lead, evaluation=ev,
                                             upload=SimpleUploadedFile("a.pdf", PDF))
        with self.assertRaises(PermissionDenied):
            services.weekly_attachment_remove(actor=self.agent, attachment=att)
        self.assertTrue(ev.attachments.exists())


class AgentAnswerTests(WeeklyTestCase):
    def test_acknowledge_then_comment(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        ev = services.weekly_evaluation_acknowledge(actor=self.agent, evaluation=ev)
        self.assertEqual(ev.status, WeeklyEvaluation.Status.ACKNOWLEDGED)
        ev = services.weekly_evaluation_comment(actor=self.agent, evaluation=ev, comment="The chat on 4 March was escalated.")
        self.assertEqual(ev.status, WeeklyEvaluation.Status.COMMENTED)
        self.assertTrue(Notification.objects.filter(recipient=self.team_lead, body__contains="escalated").exists())
        entry = AuditEntry.objects.filter(action="weekly_evaluation.comment").get()
        self.assertEqual(entry.reason, "The chat on 4 March was escalated.")

    def test_only_the_agent_answers(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        for user in (self.team_lead, self.supervisor, self.hr):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.weekly_evaluation_acknowledge(actor=user, evaluation=ev)

    def test_draft_cannot_be_acknowledged(self):
        ev = self.start()
        with self.assertRaises(ValidationError):
            services.weekly_evaluation_acknowledge(actor=self.agent, evaluation=ev)

    def test_empty_comment_refused(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        with self.assertRaises(ValidationError) as cm:
            services.weekly_evaluation_comment(actor=self.agent, evaluation=ev, comment="  ")
        self.assertIn("comment", cm.exception.message_dict)

    def test_reopen_needs_reason_and_clears_percents(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        with self.assertRaises(ValidationError):
            services.weekly_evaluation_reopen(actor=self.team_lead, evaluation=ev, reason="")
        ev = services.weekly_evaluation_reopen(actor=self.team_lead, evaluation=ev, reason="Wrong recording listened to")
        self.assertEqual(ev.status, WeeklyEvaluation.Status.DRAFT)
        self.assertIsNone(ev.attitude_pct)
        self.assertEqual(AuditEntry.objects.get(action="weekly_evaluation.reopen").reason, "Wrong recording listened to")

    def test_reopen_blocked_once_the_month_is_submitted(self):
        from kefu.evaluations.tests.builders import monthly_draft

        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        m = monthly_draft(self.agent_e, 2026, 3)
        m.status = "submitted"
        m.save()
        with self.assertRaises(ValidationError):
            services.weekly_evaluation_reopen(actor=self.team_lead, evaluation=ev, reason="late correction")


class ScorecardTests(WeeklyTestCase):
    def test_default_scorecard_has_e1_criteria(self):
        c = criteria(self.card)
        self.assertEqual(len(c), 10)
        self.assertEqual(sorted({x.dimension for x in c.values()}), ["ability", "attitude", "efficiency", "teamwork"])
        self.assertTrue(c["patient_careful"].critical)
        for x in c.values():
            self.assertEqual([lv["level"] for lv in x.levels], [1, 2, 3, 4, 5], x.code)

    def _rows(self, card, **changes):
        rows = []
        for x in card.criteria.order_by("order"):
            row = {k: getattr(x, k) for k in services.CRITERION_FIELDS}
            row.update(changes.get(x.code, {}))
            rows.append(row)
        return rows

    def test_unused_scorecard_changes_in_place(self):
        rows = self._rows(self.card, communication={"name": "溝通技巧"})
        same = services.scorecard_revise(actor=self.hr, scorecard=self.card, criteria=rows, reason="wording")
        self.assertEqual(same.pk, self.card.pk)
        self.assertEqual(criteria(same)["communication"].name, "溝通技巧")

    def test_used_scorecard_is_frozen_and_edit_makes_new_version(self):
        ev = submitted_weekly(self.team_lead, self.agent_e, *W)
        self.card.refresh_from_db()
        self.assertIsNotNone(self.card.frozen_at)
        old_criteria = {k: v.pk for k, v in criteria(self.card).items()}
        rows = self._rows(self.card, communication={"name": "溝通技巧"})
        new = services.scorecard_revise(actor=self.hr, scorecard=self.card, criteria=rows, reason="wording")
        self.assertEqual((new.name, new.version), ("E1", 2))
        self.assertTrue(new.is_current)
        self.card.refresh_from_db()
        self.assertFalse(self.card.is_current)
        # the old evaluation keeps its version and its criteria
        ev.refresh_from_db()
        self.assertEqual(ev.scorecard_id, self.card.pk)
        self.assertEqual({k: v.pk for k, v in criteria(self.card).items()}, old_criteria)
        self.assertEqual(criteria(self.card)["communication"].name, "Communication")
        # the next evaluation uses the new version
        ev2 = services.weekly_evaluation_start(actor=self.team_lead, agent=self.agent_e, iso_year=2026, iso_week=11)
        self.assertEqual(ev2.scorecard_id, new.pk)

    def test_only_editors_change_scorecards(self):
        with self.assertRaises(PermissionDenied):
            services.scorecard_revise(actor=self.team_lead, scorecard=self.card, criteria=self._rows(self.card))

    def test_bad_criteria_named_by_row(self):
        rows = self._rows(self.card)
        rows[0]["scale_max"] = 1  # not above scale_min
        rows[1]["levels"] = [{"level": 1, "description": "only one"}]
        with self.assertRaises(ValidationError) as cm:
            services.scorecard_revise(actor=self.hr, scorecard=self.card, criteria=rows)
        text = " ".join(cm.exception.message_dict["criteria"])
        self.assertIn("1", text)
        self.assertIn("2", text)
        self.assertEqual(Scorecard.objects.count(), 1)
