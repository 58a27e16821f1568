"""Locust scenario of the bounded load test (issue 10; run by ``make load`` through kefu/loadtest.py).

People log in through the login form once, then keep opening their main pages; an import system posts
small batches of interactions to the bulk API with a Bearer token. Environment (set by kefu/loadtest.py):
KEFU_LOAD_PASSWORD (the demo password), KEFU_LOAD_TOKEN (a sysadmin API token), KEFU_LOAD_YEAR (the
annual board's year), KEFU_LOAD_AGENTS (comma-separated employee numbers for the imported rows),
KEFU_LOAD_SESSIONS (``name=sessionid,…``: people reuse a session instead of each logging in).
"""

from __future__ import annotations

import datetime
import itertools
import os
import re
import uuid

from locust import HttpUser, between, task

PASSWORD = os.environ.get("KEFU_LOAD_PASSWORD", "kefu-demo-2026")
TOKEN = os.environ.get("KEFU_LOAD_TOKEN", "")
YEAR = os.environ.get("KEFU_LOAD_YEAR", str(datetime.date.today().year))
AGENTS = [a for a in os.environ.get("KEFU_LOAD_AGENTS", "").split(",") if a]
BATCH = int(os.environ.get("KEFU_LOAD_BATCH", "20"))
SESSIONS = dict(item.split("=", 1) for item in os.environ.get("KEFU_LOAD_SESSIONS", "").split(",") if "=" in item)
RUN = uuid.uuid4().hex[:8]
_counter = itertools.count(1)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _Person(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def on_start(self) -> None:
        if self.username in SESSIONS:  # a session opened once per role by kefu/loadtest.py
            self.client.cookies.set("sessionid", SESSIONS[self.username])
            return
        page = self.client.get("/accounts/login/", name="login form")
        match = CSRF_RE.search(page.text)
        token = match.group(1) if match else ""
        with self.client.post("/accounts/login/", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.username, "password": PASSWORD,
                                    "csrfmiddlewaretoken": token},
                              headers={"Referer": f"{self.host}/accounts/login/"}) as answer:
            if answer.status_code != 302:
                answer.failure(f"login of {self.username} answered {answer.status_code}")

    def page(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{path} answered {answer.status_code} {answer.error or ''}")


class Supervisor(_Person):
    """A CS supervisor: the workbench and the weekly, monthly and annual boards."""

    weight = 5
    username = "supervisor"

    @task(3)
    def workbench(self) -> None:
        self.page("/", "workbench")

    @task(2)
    def weekly(self) -> None:
        self.page("/evaluations/weekly/board/", "weekly board")

    @task(2)
    def monthly(self) -> None:
        self.page("/evaluations/monthly/board/", "monthly board")

    @task(1)
    def annual(self) -> None:
        self.page(f"/annual/{YEAR}/", "annual board")


class Clerk(_Person):
    """The administration clerk: stock levels."""

    weight = 2
    username = "clerk"

    @task
    def stock(self) -> None:
        self.page("/uniforms/stock/", "stock page")


class Auditor(_Person):
    """The system admin reading the audit log."""

    weight = 2
    username = "sysadmin"

    @task
    def audit(self) -> None:
        self.page("/audit/", "audit log")


class Importer(HttpUser):
    """A call-centre system posting small batches to the bulk import API."""

    weight = 1
    wait_time = between(1, 3)

    @task
    def bulk(self) -> None:
        received = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(days=1)
        rows = []
        for _ in range(BATCH):
            n = next(_counter)
            rows.append({"source": "loadtest", "external_id": f"LT-{RUN}-{n}", "channel": "phone",
                         "priority": "normal", "kind": "inquiry", "subject": "load test",
                         "received_at": received.isoformat(sep=" "),
                         "agent_no": AGENTS[n % len(AGENTS)] if AGENTS else "CS1001"})
        with self.client.post("/api/v1/interactions/bulk", json=rows, name="bulk import (API)",
                              headers={"Authorization": f"Bearer {TOKEN}"}, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"bulk import answered {answer.status_code}: {answer.text[:200]}")
