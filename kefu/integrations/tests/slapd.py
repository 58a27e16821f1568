"""A throwaway OpenLDAP server (Debian's slapd) on loopback, for the directory-login tests.

Minimal slapd.conf in a temp dir, an MDB database, test entries added with ldapadd (ldap-utils).
Install with ``make ldap-deps`` (Debian packages slapd, ldap-utils); ``make test`` does it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
LDAPADD = shutil.which("ldapadd")
AVAILABLE = bool(SLAPD and LDAPADD)
SKIP_REASON = "slapd/ldap-utils not installed: run `make ldap-deps` (Debian: apt-get install slapd ldap-utils)"

SUFFIX = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"

CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {dir}/data
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slapd:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kefu-slapd-"))
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Slapd:
        (self.dir / "data").mkdir()
        conf = self.dir / "slapd.conf"
        conf.write_text(CONF.format(dir=self.dir, suffix=SUFFIX, admin=ADMIN_DN, password=ADMIN_PASSWORD))
        # -d 0: stay in the foreground (no fork), so the test owns the process.
        self.process = subprocess.Popen([SLAPD, "-f", str(conf), "-h", f"{self.uri}/", "-d", "0"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening")

    def add(self, ldif: str) -> None:
        subprocess.run([LDAPADD, "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
                       input=ldif.encode(), check=True, capture_output=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
