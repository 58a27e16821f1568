"""POST /api/v1/interactions/bulk and GET /api/v1/interactions/{source}/{external_id} (issue 3 items 2-3)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from kefu.api.testing import ApiTestCase
from kefu.service.models import IdempotencyKey, ImportBatch, Interaction, SlaStored
from kefu.service.tests.builders import interaction

TZ = ZoneInfo("Asia/Shanghai")


def item(external_id: str, agent_no: str = "CS1001", **extra):
    data = {"source": "helpdesk", "external_id": external_id, "channel": "email", "received_at": "2026-03-02 09:15",
            "agent_no": agent_no}
    return data | extra


class BulkTests(ApiTestCase):
    def test_bulk_import_and_retry(self):
        payload = [item("H-1", first_response_at="2026-03-02T10:00:00+08:00"), item("H-2", priority="urgent")]
        response = self.assertApi(self.sysadmin, "post", "/interactions/bulk", 200, payload)
        body = response.json()
        self.assertEqual((body["ok"], body["created"], body["updated"], body["unchanged"]), (True, 2, 0, 0))
        self.assertEqual(Interaction.objects.count(), 2)
        self.assertEqual(ImportBatch.objects.get().via, "api")
        # the same list again changes nothing
        body = self.assertApi(self.sysadmin, "post", "/interactions/bulk", 200, payload).json()
        self.assertEqual((body["created"], body["updated"], body["unchanged"]), (0, 0, 2))

    def test_idempotency_key_replays_the_first_answer(self):
        payload = [item("K-1")]
        headers = {"Authorization": f"Bearer {self.token(self.sysadmin)}", "Idempotency-Key": "abc-123"}

        def post(data):
            import json
            return self.client.post("/api/v1/interactions/bulk", data=json.dumps(data), content_type="application/json",
                                    headers=headers)

        first = post(payload)
        self.assertEqual(first.status_code, 200)
        again = post(payload)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), first.json())  # "created": 1, not "unchanged": 1
        self.assertEqual(again.json()["created"], 1)
        self.assertEqual(ImportBatch.objects.count(), 1)
        self.assertEqual(IdempotencyKey.objects.count(), 1)
        other = post([item("K-2")])
        self.assertEqual(other.status_code, 422)
        self.assertEqual(other.json()["detail"][0]["field"], "Idempotency-Key")
        self.assertFalse(Interaction.objects.filter(external_id="K-2").exists())

    def test_bad_items_are_all_reported_and_nothing_is_saved(self):
        payload = [
            item("E-1"),
            item("E-2", agent_no="NOBODY"),
            item("E-3", received_at="next tuesday"),
            item("E-4", first_response_at="2026-03-02 09:00"),  # before 09:15
            item("E-1"),  # the same as item 1
        ]
        response = self.assertApi(self.sysadmin, "post", "/interactions/bulk", 422, payload)
        body = response.json()
        self.assertFalse(body["ok"])
        self.assertEqual([(e["row"], e["field"]) for e in body["errors"]], [
            (2, "agent_no"), (3, "received_at"), (4, "first_response_at"), (5, "external_id"),
        ])
        self.assertEqual(Interaction.objects.count(), 0)

    def test_numbers_are_read_as_text(self):
        self.assertApi(self.sysadmin, "post", "/interactions/bulk", 200, [item(7001)])
        self.assertTrue(Interaction.objects.filter(external_id="7001").exists())

    def test_who_may_post(self):
        payload = [item("P-1")]
        self.assertApi(self.agent, "post", "/interactions/bulk", 403, payload)
        self.assertApi(self.hr, "post", "/interactions/bulk", 403, payload)
        self.assertApi(None, "post", "/interactions/bulk", 401, payload)
        # a CS supervisor imports for her department's agents only
        response = self.assertApi(self.outsider, "post", "/interactions/bulk", 422, payload)
        self.assertEqual(response.json()["errors"][0]["field"], "agent_no")
        self.assertApi(self.supervisor, "post", "/interactions/bulk", 200, payload)

    def test_not_a_list(self):
        response = self.api("post", "/interactions/bulk", self.sysadmin, {"source": "x"})
        self.assertEqual(response.status_code, 422)


class ReadTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from kefu.people.models import Employee

        cls.mine = Employee.objects.get(employee_no="CS1001")
        cls.other_team = Employee.objects.get(employee_no="CS1005")
        cls.cs2 = Employee.objects.get(employee_no="CS2002")

    def test_the_row_with_its_deadlines(self):
        self.assertApi(self.sysadmin, "post", "/interactions/bulk", 200, [
            item("R-1", first_response_at="2026-03-02 10:00", resolved_at="2026-03-06 09:00", subject="Refund"),
        ])
        body = self.assertApi(self.agent, "get", "/interactions/helpdesk/R-1", 200).json()
        self.assertEqual(body["received_at"], "2026-03-02T09:15:00+08:00")
        self.assertEqual(body["first_response_at"], "2026-03-02T10:00:00+08:00")
        self.assertEqual(body["first_reply_due_at"], "2026-03-02T11:15:00+08:00")
        self.assertEqual(body["resolution_due_at"], "2026-03-05T18:00:00+08:00")
        self.assertEqual((body["first_reply_status"], body["resolution_status"]), ("met", "breached"))
        self.assertEqual(body["first_reply_working_seconds"], 45 * 60)
        self.assertEqual((body["agent_no"], body["first_responder_no"], body["resolver_no"]),
                         ("CS1001", "CS1001", "CS1001"))
        self.assertEqual((body["local_date"], body["subject"], body["channel"]), ("2026-03-02", "Refund", "email"))

    def test_open_and_overdue_are_worked_out_at_read_time(self):
        now = timezone.now()
        interaction(self.mine, now - datetime.timedelta(hours=1), source="s", external_id="OPEN",
                    fr_due=now + datetime.timedelta(hours=1), res_due=now - datetime.timedelta(minutes=1))
        body = self.assertApi(self.agent, "get", "/interactions/s/OPEN", 200).json()
        self.assertEqual((body["first_reply_status"], body["resolution_status"]), ("open", "overdue"))
        interaction(self.mine, now, source="s", external_id="UNKNOWN", fr=SlaStored.UNKNOWN, res=SlaStored.UNKNOWN)
        body = self.assertApi(self.agent, "get", "/interactions/s/UNKNOWN", 200).json()
        self.assertEqual((body["first_reply_due_at"], body["first_reply_status"]), (None, "unknown"))

    def test_who_sees_what(self):
        received = datetime.datetime(2026, 3, 2, 9, tzinfo=TZ)
        interaction(self.mine, received, source="s", external_id="MINE")
        interaction(self.other_team, received, source="s", external_id="TEAM2")
        interaction(self.cs2, received, source="s", external_id="CS2")
        interaction(self.cs2, received, source="s", external_id="RESOLVED-BY-ME", resolver=self.mine,
                    resolved_at=received + datetime.timedelta(hours=1))
        expectations = {
            # user: ids she may read (the others answer 404)
            "agent": {"MINE", "RESOLVED-BY-ME"},
            "team_lead": {"MINE", "RESOLVED-BY-ME"},  # CS1-T1: her team's agent handled or resolved it
            "supervisor": {"MINE", "TEAM2", "RESOLVED-BY-ME"},  # CS1
            "outsider": {"CS2", "RESOLVED-BY-ME"},  # CS2's supervisor
            "hr": {"MINE", "TEAM2", "CS2", "RESOLVED-BY-ME"},
            "inspector": {"MINE", "TEAM2", "CS2", "RESOLVED-BY-ME"},
            "admin_clerk": set(),
            "teammate_other_team": {"TEAM2"},
        }
        for who, visible in expectations.items():
            user = getattr(self, who)
            for external_id in ("MINE", "TEAM2", "CS2", "RESOLVED-BY-ME"):
                with self.subTest(who=who, interaction=external_id):
                    self.assertApi(user, "get", f"/interactions/s/{external_id}",
                                   200 if external_id in visible else 404)
        self.assertApi(None, "get", "/interactions/s/MINE", 401)
        self.assertApi(self.hr, "get", "/interactions/s/NOPE", 404)
