"""``make load``: the bounded load test of issue 10 (``python -m kefu.loadtest``; docs/load.md).

Against the PostgreSQL database of DATABASE_URL: migrate, load the demo company (idempotent), create a
system-admin API token, start gunicorn (and the task worker) on a free loopback port with production-like
settings, run locust headless (kefu/locustfile.py: 50 users for 60 s by default) and print the per-page
figures as a Markdown table. Exits non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


SETUP = """
from kefu.annual.models import AnnualCycle
from kefu.people.models import Employee, Role
import datetime
cycle = AnnualCycle.objects.order_by('-year').first()
print(cycle.year if cycle else datetime.date.today().year)
agents = (Employee.objects.filter(user__role_assignments__role=Role.AGENT).values_list('employee_no', flat=True)
          .distinct().order_by('employee_no')[:40])
print(','.join(agents))
"""


def _session(host: str, username: str, password: str) -> str:
    """Log ``username`` in through the login form once; her session cookie."""
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(host + "/accounts/login/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    data = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": token.group(1) if token else ""}).encode()
    request = urllib.request.Request(host + "/accounts/login/", data=data, headers={"Referer": host + "/accounts/login/"})
    opener.open(request, timeout=60)
    session = next((c.value for c in jar if c.name == "sessionid"), "")
    if not session:
        sys.exit(f"could not log {username} in")
    return session


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        mem = f"{mem_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        mem = "RAM unknown"
    return f"{os.cpu_count()} CPU ({cpu}), {mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def report(stats_csv: Path, *, users: int, run_time: str, workers: int, threads: int) -> tuple[str, int]:
    rows = list(csv.DictReader(stats_csv.open()))
    lines = [
        f"Machine: {_machine()}.",
        f"Run: {users} users, {run_time}, gunicorn {workers} workers x {threads} threads + 1 task worker, "
        "PostgreSQL on loopback.",
        "",
        "| request | requests | failures | req/s | median ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
        failures += int(row["Failure Count"]) if row["Name"] == "Aggregated" else 0
        lines.append(f"| {name} | {row['Request Count']} | {row['Failure Count']} | {float(row['Requests/s']):.1f} "
                     f"| {row['50%']} | {row['95%']} | {float(row['Max Response Time']):.0f} |")
    return "\n".join(lines), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 4)))
    parser.add_argument("--out", default=str(ROOT / "var" / "load"))
    parser.add_argument("--login-each", action="store_true",
                        help="every simulated user logs in through the form (PBKDF2 per login) instead of reusing "
                             "one session per role")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The load test runs against PostgreSQL: set DATABASE_URL=postgres://…")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    password = os.environ.get("KEFU_DEMO_PASSWORD", "kefu-demo-2026")
    env = {**os.environ, "DEBUG": "False", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"), "KEFU_DEMO_PASSWORD": password}
    env.pop("PYTEST_CURRENT_TEST", None)
    print("migrate + demo company…", flush=True)
    _manage("migrate", "--noinput", "-v0", env=env)
    _manage("seed_demo", env=env)
    token = _manage("create_api_token", "sysadmin", "--name", "load test", env=env).splitlines()[-1]
    year, agents = [*_manage("shell", "-v", "0", "-c", SETUP, env=env).splitlines(), "", ""][:2]

    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "kefu.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
         str(args.workers), "--threads", str(args.threads), "--timeout", "120", "--keep-alive", "75", "--log-level", "warning"],
        cwd=ROOT, env=env)
    worker = subprocess.Popen([PY, "manage.py", "db_worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(host + "/accounts/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not answer")
        sessions = ",".join(f"{name}={_session(host, name, password)}" for name in ("supervisor", "clerk", "sysadmin"))
        locust_env = {**env, "KEFU_LOAD_PASSWORD": password, "KEFU_LOAD_TOKEN": token, "KEFU_LOAD_YEAR": year,
                      "KEFU_LOAD_AGENTS": agents, "KEFU_LOAD_SESSIONS": "" if args.login_each else sessions}
        prefix = out / "locust"
        print(f"locust: {args.users} users for {args.run_time} against {host}…", flush=True)
        run = subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "kefu" / "locustfile.py"), "--headless", "--users", str(args.users),
             "--spawn-rate", str(args.spawn_rate), "--run-time", args.run_time, "--host", host, "--csv",
             str(prefix), "--only-summary", "--stop-timeout", "10"],
            cwd=ROOT, env=locust_env, check=False)
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    text, failures = report(Path(f"{prefix}_stats.csv"), users=args.users, run_time=args.run_time,
                            workers=args.workers, threads=args.threads)
    (out / "report.md").write_text(text + "\n")
    print(text)
    if failures or run.returncode != 0:
        print(f"FAILED: {failures} failed requests (locust exit {run.returncode}); see {prefix}_failures.csv",
              file=sys.stderr)
        return 1
    print("0 errors.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
