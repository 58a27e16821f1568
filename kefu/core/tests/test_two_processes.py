"""Double submits and retries handled by two app processes at the same moment (issue 10, item 3).

Two real servers (``manage.py runserver --noreload``, separate processes, as two app servers behind a
load balancer) share the PostgreSQL test database; the same request is fired at both at once, and the
effect must be there once: one audit entry, one requisition, one set of stock moves. SQLite serialises
every writer, so these run on PostgreSQL only.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any
from unittest import skipUnless

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import TransactionTestCase, override_settings

from kefu.core.models import AuditEntry

ROOT = Path(settings.BASE_DIR)
CSRF = "k" * 32  # a CSRF secret of our choosing: the cookie and the form field carry the same one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{urllib.parse.quote(d['PASSWORD'])}" if d.get("PASSWORD") else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


class Server:
    def __init__(self, media: str) -> None:
        self.port = free_port()
        env = os.environ | {"DATABASE_URL": database_url(), "DEBUG": "False", "MEDIA_ROOT": media,
                            "PYTHONUNBUFFERED": "1", "DJANGO_ALLOW_ASYNC_UNSAFE": "true"}
        env.pop("TEST_DB_NAME", None)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.log.seek(0)
        raise RuntimeError(f"server on {self.port} did not start:\n{self.log.read().decode()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def request(port: int, method: str, path: str, *, body: bytes = b"", headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@skipUnless(connection.vendor == "postgresql", "two processes writing at once: PostgreSQL (SQLite serialises writers)")
class TwoProcessTests(TransactionTestCase):
    """Each test fires one request at both servers at the same instant (a barrier releases both threads)."""

    servers: list[Server]
    media: str
    # build_company()'s people, set in setUp
    agent: Any
    dept_head: Any
    admin_clerk: Any
    hr: Any
    leadership: Any
    supervisor: Any
    company: Any

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.media = tempfile.mkdtemp(prefix="kefu-two-proc-")
        cls.servers = [Server(cls.media), Server(cls.media)]
        for server in cls.servers:
            server.wait()

    @classmethod
    def tearDownClass(cls) -> None:
        for server in cls.servers:
            server.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        from kefu.people.testing import build_company

        for key, value in vars(build_company()).items():
            setattr(self, key, value)

    # --- helpers --------------------------------------------------------------------------------------

    def session_for(self, user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        assert store.session_key is not None
        return store.session_key

    def at_once(self, method: str, path: str, *, body: bytes, headers: dict[str, str]) -> list[int]:
        barrier = threading.Barrier(len(self.servers))
        answers: list[Any] = [None] * len(self.servers)
        self.bodies: list[bytes] = [b""] * len(self.servers)

        def fire(i: int, port: int) -> None:
            barrier.wait()
            try:
                answers[i], self.bodies[i] = request(port, method, path, body=body, headers=headers)
            except Exception as e:
                answers[i] = e

        threads = [threading.Thread(target=fire, args=(i, s.port)) for i, s in enumerate(self.servers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for answer in answers:
            self.assertIsInstance(answer, int, f"{method} {path}: {answer!r}")
            self.assertLess(answer, 500, f"{method} {path} answered {answer}")
        return answers

    def post_form(self, user, path: str, data: dict[str, str] | None = None) -> list[int]:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": CSRF} | (data or {})).encode()
        headers = {"Cookie": f"sessionid={self.session_for(user)}; csrftoken={CSRF}",
                   "Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"}
        return self.at_once("POST", path, body=body, headers=headers)

    def audits(self, action: str, obj) -> int:
        return AuditEntry.objects.filter(action=action, object_id=str(obj.pk)).count()

    def uniforms(self) -> dict[str, Any]:
        from kefu.uniforms import services as us
        from kefu.uniforms.models import Entitlement
        from kefu.uniforms.testing import build_catalogue

        cat = build_catalogue(self.admin_clerk)
        us.stock_receive(actor=self.admin_clerk, sku=cat["sku"]["TOP-S-M"], location=cat["main"], quantity=10,
                         unit_cost="80.00")
        us.entitlement_grant(actor=self.hr, employee=self.agent.employee, reason=Entitlement.Reason.NEW_HIRE,
                             granted_on=datetime.date(2026, 1, 5), sets=2)
        return cat

    # --- the actions --------------------------------------------------------------------------------

    def test_requisition_approved_once(self):
        from kefu.uniforms import services as us
        from kefu.uniforms.models import Requisition

        cat = self.uniforms()
        req = us.requisition_create(actor=self.agent, employee=self.agent.employee,
                                    reason=Requisition.Reason.NEW_HIRE, lines=[(cat["sku"]["TOP-S-M"], 1)])
        answers = self.post_form(self.dept_head, f"/uniforms/requisitions/{req.number}/approve/")
        self.assertEqual(answers, [302, 302])
        req.refresh_from_db()
        self.assertEqual(req.status, Requisition.Status.APPROVED)
        self.assertEqual(self.audits("requisition.approve", req), 1)

    def test_requisition_created_once_through_the_api_with_one_idempotency_key(self):
        from kefu.core import services as core_services
        from kefu.uniforms.models import Requisition

        self.uniforms()
        token = core_services.api_token_create(actor=self.agent, user=self.agent, name="two")[1]
        body = json.dumps({"reason": "new_hire", "lines": [{"sku": "TOP-S-M", "quantity": 1}]}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": "retry-7f3a"}
        answers = self.at_once("POST", "/api/v1/uniforms/requisitions", body=body, headers=headers)
        # The first creates (201); the retry gets that requisition back: 200 when it came after the first
        # committed, 201 when it raced it (it then answers what the first call answered).
        self.assertTrue(set(answers) <= {200, 201}, f"{answers}: {self.bodies}")
        numbers = {json.loads(b)["number"] for b in self.bodies}
        self.assertEqual(len(numbers), 1, numbers)
        self.assertEqual(Requisition.objects.filter(employee=self.agent.employee).count(), 1)
        # The same key with another body is refused, not replayed.
        other = json.dumps({"reason": "new_hire", "lines": [{"sku": "TOP-S-M", "quantity": 2}]}).encode()
        status, _ = request(self.servers[0].port, "POST", "/api/v1/uniforms/requisitions", body=other,
                            headers=headers)
        self.assertIn(status, (409, 422))
        self.assertEqual(Requisition.objects.filter(employee=self.agent.employee).count(), 1)

    def test_annual_cycle_steps_once(self):
        from kefu.annual.models import AnnualCycle
        from kefu.annual.tests.test_awards import make_cycle, make_result

        cycle = make_cycle(2025, self.hr, status=AnnualCycle.Status.SUBMITTED)
        make_result(cycle, self.agent.employee, "good", "85")
        self.assertEqual(self.post_form(self.leadership, "/annual/2025/transition/", {"step": "approve"}),
                         [302, 302])
        self.assertEqual(self.post_form(self.hr, "/annual/2025/transition/", {"step": "publish"}), [302, 302])
        cycle.refresh_from_db()
        self.assertEqual(cycle.status, AnnualCycle.Status.PUBLISHED)
        self.assertEqual(self.audits("annual_cycle.approve", cycle), 1)
        self.assertEqual(self.audits("annual_cycle.publish", cycle), 1)

    def test_monthly_appeal_decided_once(self):
        from kefu.evaluations import services as es
        from kefu.evaluations.models import Appeal
        from kefu.evaluations.tests.builders import monthly_draft

        ev = monthly_draft(self.agent.employee, 2026, 10, supervisor=self.supervisor.employee)
        ev = es.monthly_submit(actor=self.supervisor, evaluation=ev)
        appeal = es.monthly_appeal(actor=self.agent, evaluation=ev, reason="效率分數未計入加班")
        answers = self.post_form(self.dept_head, f"/evaluations/appeals/{appeal.pk}/",
                                 {"decision": "uphold", "reason": "維持原評分"})
        self.assertIn(302, answers)
        appeal.refresh_from_db()
        self.assertNotEqual(appeal.status, Appeal.Status.OPEN)
        self.assertEqual(self.audits("appeal.decide", appeal), 1)

    @override_settings(MEDIA_ROOT=tempfile.gettempdir())
    def test_receipt_posted_once(self):
        from kefu.procurement.testing import ProcurementTestCase
        from kefu.uniforms.models import StockMove

        helper_cls = type("ReceiptHelper", (ProcurementTestCase,), {})
        for key in ("agent", "admin_clerk", "leadership", "company", "hr"):
            setattr(helper_cls, key, getattr(self, key))
        helper = helper_cls.__new__(helper_cls)
        cat = __import__("kefu.uniforms.testing", fromlist=["build_catalogue"]).build_catalogue(self.admin_clerk)
        helper.styles, helper.sku, helper.main = cat["styles"], cat["sku"], cat["main"]
        from kefu.people.models import Role
        from kefu.people.testing import make_person
        from kefu.procurement.testing import make_supplier

        helper.leader2 = make_person("boss2", "錢副總", self.company, (Role.LEADERSHIP, self.company),
                                     employee_no="CO0002", gender="M")
        helper.s1, helper.s2, helper.s3 = (make_supplier(self.admin_clerk, c, n) for c, n in
                                           (("S1", "華美製衣"), ("S2", "錦繡服飾"), ("S3", "恒達紡織")))
        order = helper.issued_order()
        receipt = helper.deliver(order, {"TOP-S-M": 5}, post=False)
        before = StockMove.objects.count()
        answers = self.post_form(self.admin_clerk, f"/procurement/receipts/{receipt.number}/post/")
        self.assertEqual(answers, [302, 302])
        self.assertEqual(self.audits("receipt.post", receipt), 1)
        self.assertEqual(StockMove.objects.count() - before, 1, "5 accepted units of one SKU: one receipt move")
        self.assertEqual(StockMove.objects.latest("pk").quantity, 5)
