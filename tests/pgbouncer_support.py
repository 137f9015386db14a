"""A real PgBouncer (Debian's ``pgbouncer``) in transaction mode in front of the tests' Postgres."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def require_pgbouncer() -> None:
    if not Path(PGBOUNCER).exists():
        reason = "PgBouncer tests need Debian's pgbouncer (apt-get install pgbouncer)"
        if os.environ.get("MODERATION_REQUIRE_PGBOUNCER"):
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgBouncer:
    """``pgbouncer`` in the foreground, every database of ``server_dsn``'s server behind one port."""

    def __init__(self, server_dsn: str, workdir: Path, *, pool_size: int = 3) -> None:
        parts = urlsplit(server_dsn)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        self.user = unquote(parts.username or "postgres")
        server = f"host={host} port={parts.port or 5432} user={self.user}"
        if parts.password:
            server += f" password={unquote(parts.password)}"
        self.port = _free_port()
        self.pool_size = pool_size
        self.ini = workdir / "pgbouncer.ini"
        lines = ["[databases]", f"* = {server}", "", "[pgbouncer]", "listen_addr = 127.0.0.1",
                 f"listen_port = {self.port}", "unix_socket_dir =", "auth_type = any", "pool_mode = transaction",
                 f"default_pool_size = {pool_size}", "max_client_conn = 1000", "server_lifetime = 3600",
                 "ignore_startup_parameters = extra_float_digits", "log_connections = 0", "log_disconnections = 0"]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root: it switches to this user after start
            user = "embedded_postgres" if _user_exists("embedded_postgres") else "nobody"
            lines.append(f"user = {user}")
        self.ini.write_text("\n".join(lines) + "\n")
        self.log = workdir / "pgbouncer.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([PGBOUNCER, str(self.ini)], stdout=out, stderr=out)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"pgbouncer exited:\n{self.log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"pgbouncer did not listen in 20 s:\n{self.log.read_text()}")

    def dsn(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
