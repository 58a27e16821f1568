"""Rectification services (policy S3): the request, the flow with send back and resubmit, attachments,
reminders before the deadline and the two escalation levels (issue 8 item 5)."""

from __future__ import annotations

import datetime
import threading
import unittest
from io import StringIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from kefu.core import services as core_services
from kefu.core.models import AuditEntry, Notification
from kefu.inspections import rectification as rs
from kefu.inspections.models import Rectification
from kefu.inspections.tests.builders_rectification import make_finding
from kefu.people.testing import KefuTestCase, build_company

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% evidence\n"
IN_MEMORY = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
             "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def notes_for(user, text: str = "") -> int:
    return Notification.objects.filter(recipient=user, title__contains=text).count()


class RectTestCase(KefuTestCase):
    """A finding about team CS1-T1; the team lead is made responsible; the CS1 department head covers it."""

    def setUp(self) -> None:
        self.finding = make_finding(inspector=self.inspector, unit=self.cs1_t1)

    def request(self, **kwargs) -> Rectification:
        args = {"actor": self.inspector, "finding": self.finding, "responsible": self.team_lead,
                "requirement": "每週考評須附證據，補齊 11 月缺漏", "deadline": datetime.date(2026, 12, 10)}
        args.update(kwargs)
        return rs.rectification_request(**args)

    def reload(self, rect: Rectification) -> Rectification:
        return Rectification.objects.get(pk=rect.pk)


class RequestTests(RectTestCase):
    def test_request_opens_and_tells_responsible_and_department_head(self):
        rect = self.request()
        self.assertEqual(rect.status, Rectification.Status.OPEN)
        self.assertEqual(rect.org_unit, self.cs1_t1)  # the finding's department unless given
        self.assertEqual(rect.deadline, datetime.date(2026, 12, 10))
        self.assertEqual(notes_for(self.team_lead, "Rectification requested"), 1)
        self.assertEqual(notes_for(self.dept_head, "Rectification requested"), 1)  # head of CS1 covers CS1-T1
        self.assertEqual(notes_for(self.outsider), 0)  # CS2's people are not concerned
        entry = AuditEntry.objects.get(action="rectification.request")
        self.assertEqual(entry.object_id, str(rect.pk))
        self.assertEqual(entry.changes["deadline"], [None, "2026-12-10"])
        self.assertNotIn("evidence", entry.changes)  # nothing to say yet

    def test_default_deadline_is_the_parameter_in_force_today(self):
        # policy S3: [rectification days], default 15 calendar days
        today = timezone.localdate()
        rect = self.request(deadline=None)
        self.assertEqual(rect.deadline, today + datetime.timedelta(days=15))

    def test_default_deadline_follows_a_changed_parameter(self):
        today = timezone.localdate()
        core_services.policy_set(key="inspections.rectification_days", value="10",
                                 effective_from=today - datetime.timedelta(days=3), actor=self.sysadmin,
                                 note="S3 shortened")
        core_services.policy_set(key="inspections.rectification_days", value="30",
                                 effective_from=today + datetime.timedelta(days=1), actor=self.sysadmin)
        rect = self.request(deadline=None)
        self.assertEqual(rect.deadline, today + datetime.timedelta(days=10))

    def test_only_inspectors_request(self):
        for user in (self.dept_head, self.hr, self.leadership, self.team_lead):
            with self.assertRaises(PermissionDenied):
                self.request(actor=user)
        self.assertFalse(Rectification.objects.exists())

    def test_past_deadline_refused(self):
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        with self.assertRaises(ValidationError) as cm:
            self.request(deadline=yesterday)
        self.assertIn("deadline", cm.exception.message_dict)
        rect = self.request(deadline=timezone.localdate())  # today is allowed
        self.assertEqual(rect.deadline, timezone.localdate())

    def test_responsible_must_be_active_and_in_the_department(self):
        self.team_lead.is_active = False
        self.team_lead.save()
        with self.assertRaises(ValidationError) as cm:
            self.request()
        self.assertIn("responsible", cm.exception.message_dict)
        with self.assertRaises(ValidationError) as cm:
            self.request(responsible=self.other_agent)  # works in CS2
        self.assertIn("responsible", cm.exception.message_dict)
        with self.assertRaises(ValidationError) as cm:
            self.request(responsible=self.supervisor)  # CS1, but above the team concerned
        self.assertIn("responsible", cm.exception.message_dict)
        # Naming the whole department makes its supervisor eligible.
        rect = self.request(responsible=self.supervisor, org_unit=self.cs1)
        self.assertEqual(rect.org_unit, self.cs1)

    def test_requirement_required(self):
        with self.assertRaises(ValidationError) as cm:
            self.request(requirement="   ")
        self.assertIn("requirement", cm.exception.message_dict)

    def test_one_rectification_per_finding(self):
        self.request()
        with self.assertRaises(ValidationError):
            self.request(responsible=self.agent)
        self.assertEqual(Rectification.objects.count(), 1)
        self.assertEqual(notes_for(self.agent), 0)


@override_settings(STORAGES=IN_MEMORY)
class FlowTests(RectTestCase):
    def test_open_start_submit_send_back_resubmit_verify(self):
        rect = self.request()
        rect = rs.rectification_start(actor=self.team_lead, rectification=rect)
        self.assertEqual(rect.status, Rectification.Status.IN_PROGRESS)

        with self.assertRaises(ValidationError) as cm:
            rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence=" ")
        self.assertIn("evidence", cm.exception.message_dict)

        rect = rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="已補齊 11 月證據",
                                       attachments=[SimpleUploadedFile("list.png", PNG, "image/png")])
        self.assertEqual(rect.status, Rectification.Status.SUBMITTED)
        self.assertIsNotNone(rect.submitted_at)
        att = rect.attachments.get()
        self.assertEqual((att.original_name, att.mime_type, att.size), ("list.png", "image/png", 72))
        self.assertEqual(notes_for(self.inspector, "submitted for verification"), 1)

        # The person responsible cannot verify her own work; a double submit takes effect once.
        with self.assertRaises(PermissionDenied):
            rs.rectification_verify(actor=self.team_lead, rectification=rect)
        with self.assertRaises(ValidationError):
            rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="again",
                                    attachments=[SimpleUploadedFile("b.pdf", PDF)])
        self.assertEqual(self.reload(rect).attachments.count(), 1)
        self.assertEqual(self.reload(rect).evidence, "已補齊 11 月證據")

        with self.assertRaises(ValidationError) as cm:
            rs.rectification_send_back(actor=self.inspector, rectification=rect, reason="")
        self.assertIn("reason", cm.exception.message_dict)
        rect = rs.rectification_send_back(actor=self.inspector, rectification=rect, reason="缺第 46 週")
        self.assertEqual((rect.status, rect.sent_back_count), (Rectification.Status.IN_PROGRESS, 1))
        self.assertEqual(notes_for(self.team_lead, "sent back"), 1)
        self.assertEqual(AuditEntry.objects.get(action="rectification.send_back").reason, "缺第 46 週")
        with self.assertRaises(ValidationError):  # not submitted any more
            rs.rectification_send_back(actor=self.inspector, rectification=rect, reason="again")

        rect = rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="已補第 46 週",
                                       attachments=[SimpleUploadedFile("w46.pdf", PDF)])
        self.assertEqual(rect.attachments.count(), 2)
        rect = rs.rectification_verify(actor=self.inspector, rectification=rect, note="確認")
        self.assertEqual(rect.status, Rectification.Status.CLOSED)
        self.assertEqual(rect.verified_by, self.inspector)
        self.assertIsNotNone(rect.closed_at)
        with self.assertRaises(ValidationError):  # twice: once
            rs.rectification_verify(actor=self.inspector, rectification=rect)
        self.assertEqual(
            list(AuditEntry.objects.filter(object_type="inspections.rectification").order_by("id")
                 .values_list("action", flat=True)),
            ["rectification.request", "rectification.start", "rectification.submit", "rectification.send_back",
             "rectification.submit", "rectification.verify"],
        )

    def test_submit_straight_from_open_by_department_head(self):
        rect = self.request()
        rect = rs.rectification_submit(actor=self.dept_head, rectification=rect, evidence="部門已整改")
        self.assertEqual(rect.status, Rectification.Status.SUBMITTED)

    def test_others_cannot_work_on_it(self):
        rect = self.request()
        for user in (self.outsider, self.agent, self.supervisor, self.inspector, self.leadership):
            with self.assertRaises(PermissionDenied):
                rs.rectification_start(actor=user, rectification=rect)
            with self.assertRaises(PermissionDenied):
                rs.rectification_submit(actor=user, rectification=rect, evidence="x")
        self.assertEqual(self.reload(rect).status, Rectification.Status.OPEN)

    def test_only_inspectors_verify_or_send_back(self):
        rect = self.request()
        rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="done")
        for user in (self.dept_head, self.leadership, self.hr, self.team_lead):
            with self.assertRaises(PermissionDenied):
                rs.rectification_verify(actor=user, rectification=rect)
            with self.assertRaises(PermissionDenied):
                rs.rectification_send_back(actor=user, rectification=rect, reason="no")
        self.assertEqual(self.reload(rect).status, Rectification.Status.SUBMITTED)

    def test_attachments_are_checked_by_content_and_size(self):
        rect = self.request()
        fake = SimpleUploadedFile("photo.png", b"just some text, not an image", "image/png")
        with self.assertRaises(ValidationError) as cm:
            rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="x",
                                    attachments=[SimpleUploadedFile("ok.pdf", PDF), fake])
        self.assertIn("photo.png", str(cm.exception))
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
        with self.assertRaises(ValidationError) as cm:
            rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="x", attachments=[big])
        self.assertIn("10 MB", str(cm.exception))
        # Nothing half-saved: neither the good file nor the state.
        rect = self.reload(rect)
        self.assertEqual((rect.status, rect.attachments.count()), (Rectification.Status.OPEN, 0))


class DailyJobTests(RectTestCase):
    """Deadline 2026-12-10: reminder from 12-07 (3 days before), level 1 on 12-11, level 2 on 12-16."""

    D = datetime.date

    def test_reminder_three_days_before_once(self):
        rect = self.request()
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 6)).reminded, 0)
        self.assertEqual(notes_for(self.team_lead, "Rectification due"), 0)
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 7)).reminded, 1)
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 7)).reminded, 0)
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 9)).reminded, 0)
        self.assertEqual(notes_for(self.team_lead, "Rectification due on 2026-12-10"), 1)
        self.assertIsNotNone(self.reload(rect).reminder_sent_at)
        self.assertEqual(AuditEntry.objects.filter(action="rectification.remind").count(), 1)

    def test_a_missed_reminder_day_is_caught_up_before_the_deadline(self):
        self.request()
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 10)).reminded, 1)

    def test_no_reminder_once_submitted(self):
        rect = self.request()
        rs.rectification_submit(actor=self.team_lead, rectification=rect, evidence="done")
        self.assertEqual(rs.rectification_remind_and_escalate(today=self.D(2026, 12, 8)).reminded, 0)

    def test_escalation_to_department_head_then_leadership_each_once(self):
        rect = self.request()
        Notification.objects.all().delete()
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 10))  # due today: not overdue
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (0, 0))

        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 11))  # first overdue day
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (1, 0))
        self.assertEqual(self.reload(rect).escalation_level, 1)
        self.assertEqual(notes_for(self.dept_head, "overdue"), 1)
        self.assertEqual(notes_for(self.leadership), 0)
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 11))  # twice a day: once
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (0, 0))

        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 15))  # 4 days after: not yet
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (0, 0))
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 16))  # 5 days after the first day
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (0, 1))
        self.assertEqual(self.reload(rect).escalation_level, 2)
        self.assertEqual(notes_for(self.leadership, "still overdue"), 1)
        self.assertEqual(notes_for(self.dept_head, "overdue"), 1)  # not told again
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 20))
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (0, 0))
        self.assertEqual(notes_for(self.leadership), 1)
        self.assertEqual(AuditEntry.objects.filter(action="rectification.escalate").count(), 2)

    def test_a_late_first_run_tells_both_at_once(self):
        rect = self.request()
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 20))
        self.assertEqual((run.escalated_to_head, run.escalated_to_leadership), (1, 1))
        self.assertEqual(self.reload(rect).escalation_level, 2)
        self.assertEqual(notes_for(self.dept_head, "overdue"), 1)
        self.assertEqual(notes_for(self.leadership, "overdue"), 1)

    def test_sent_back_and_overdue_escalates_but_submitted_and_closed_do_not(self):
        waiting = self.request()
        rs.rectification_submit(actor=self.team_lead, rectification=waiting, evidence="done")
        other = rs.rectification_request(actor=self.inspector,
                                         finding=make_finding(inspector=self.inspector, unit=self.cs1, title="B"),
                                         responsible=self.supervisor, requirement="fix",
                                         deadline=self.D(2026, 12, 10))
        rs.rectification_submit(actor=self.supervisor, rectification=other, evidence="done")
        rs.rectification_send_back(actor=self.inspector, rectification=other, reason="not enough")
        run = rs.rectification_remind_and_escalate(today=self.D(2026, 12, 11))
        self.assertEqual(run.escalated_to_head, 1)
        self.assertEqual((self.reload(waiting).escalation_level, self.reload(other).escalation_level), (0, 1))

    def test_escalation_days_parameter(self):
        today = timezone.localdate()
        core_services.policy_set(key="inspections.escalation_days", value="2", effective_from=today,
                                 actor=self.sysadmin)
        rect = self.request(deadline=today)
        first_overdue = today + datetime.timedelta(days=1)
        rs.rectification_remind_and_escalate(today=first_overdue)
        run = rs.rectification_remind_and_escalate(today=first_overdue + datetime.timedelta(days=2))
        self.assertEqual(run.escalated_to_leadership, 1)
        self.assertEqual(self.reload(rect).escalation_level, 2)

    def test_management_command(self):
        self.request()
        out = StringIO()
        call_command("inspections_daily", date="2026-12-11", stdout=out)
        self.assertIn("1 rectification(s) escalated to the department head, 0 to leadership", out.getvalue())
        out = StringIO()
        call_command("inspections_daily", date="2026-12-11", stdout=out)
        self.assertIn("0 rectification(s) escalated to the department head", out.getvalue())

    def test_the_task(self):
        from kefu.inspections.tasks_rectification import inspections_daily_task

        self.request()
        result = inspections_daily_task.enqueue("2026-12-20")  # the immediate backend in tests
        self.assertEqual(result.return_value, {"reminded": 0, "escalated_to_head": 1, "escalated_to_leadership": 1})


@unittest.skipUnless(connection.vendor == "postgresql", "concurrent writers need PostgreSQL")
class ConcurrentTests(TransactionTestCase):
    def run_twice(self, fn) -> list:
        barrier = threading.Barrier(2)
        results: list = []

        def work():
            try:
                barrier.wait()
                results.append(fn())
            except Exception as e:  # the loser's error is part of the result
                results.append(e)
            finally:
                close_old_connections()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def test_two_daily_runs_at_once_escalate_each_once(self):
        c = build_company()
        for i in range(6):
            rs.rectification_request(actor=c.inspector, finding=make_finding(inspector=c.inspector, unit=c.cs1,
                                                                             title=f"F{i}"),
                                     responsible=c.supervisor, requirement="fix",
                                     deadline=datetime.date(2026, 12, 10))
        runs = self.run_twice(lambda: rs.rectification_remind_and_escalate(today=datetime.date(2026, 12, 20)))
        self.assertEqual(sum(r.escalated_to_head for r in runs), 6)
        self.assertEqual(sum(r.escalated_to_leadership for r in runs), 6)
        self.assertEqual(Notification.objects.filter(recipient=c.leadership, title__contains="overdue").count(), 6)
        self.assertEqual(Notification.objects.filter(recipient=c.dept_head, title__contains="overdue").count(), 6)

    def test_double_submitted_verify_takes_effect_once(self):
        c = build_company()
        rect = rs.rectification_request(actor=c.inspector, finding=make_finding(inspector=c.inspector, unit=c.cs1),
                                        responsible=c.supervisor, requirement="fix",
                                        deadline=datetime.date(2026, 12, 10))
        rs.rectification_submit(actor=c.supervisor, rectification=rect, evidence="done")
        results = self.run_twice(lambda: rs.rectification_verify(actor=c.inspector, rectification=rect))
        self.assertEqual(sorted(type(r).__name__ for r in results), ["Rectification", "ValidationError"])
        self.assertEqual(AuditEntry.objects.filter(action="rectification.verify").count(), 1)


class DemoTests(KefuTestCase):
    def test_demo_rectifications_in_every_state_once(self):
        from kefu.inspections.demo_rectification import build_rectification_demo

        for i in range(6):
            make_finding(inspector=self.inspector, unit=self.cs1_t1, title=f"F{i}")
        self.assertEqual(build_rectification_demo(), {"rectifications": 6})
        rows = list(Rectification.objects.order_by("finding_id").values_list(
            "status", "sent_back_count", "escalation_level", "responsible__username"))
        self.assertEqual(rows, [
            ("open", 0, 0, "lead"), ("in_progress", 0, 0, "lead"), ("submitted", 0, 0, "lead"),
            ("open", 0, 1, "lead"), ("closed", 0, 0, "lead"), ("in_progress", 1, 0, "lead"),
        ])
        self.assertEqual(build_rectification_demo(), {"rectifications": 0})
