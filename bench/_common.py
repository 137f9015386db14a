"""Shared bench plumbing: a Postgres, free ports, subprocess servers, wrk, and the results files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchPostgres:
    """DATABASE_URL's server when set (its databases are created beside), else an embedded one."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        from moderation.core.db import EmbeddedPostgres

        self.external = os.environ.get("DATABASE_URL")
        self.embedded = None
        if not self.external:
            self.embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bench-")) / "pg", delete_on_stop=True)
            self.embedded.start()

    def create_database(self, name: str) -> str:
        import asyncio

        import asyncpg

        admin = self.external or self.embedded.uri("postgres")

        async def run() -> None:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(run())
        if self.embedded is not None:
            return self.embedded.uri(name)
        from urllib.parse import urlsplit, urlunsplit

        return urlunsplit(urlsplit(admin)._replace(path="/" + name))

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready in {timeout} s")


def start_server(args: list[str], env: dict[str, str], ready_url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_http(ready_url)
    except Exception:
        proc.kill()
        raise
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, script: Path, *, connections: int, seconds: int, threads: int = 2) -> dict[str, float]:
    """Run wrk with --latency; returns requests/s, p50, p99 (ms), non-2xx count, and wrk's own CPU time per
    request (ms: the load generator shares the machine's cores with the servers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True,
                         check=True).stdout
    def pct(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        return float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    done = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
            "wrk_cpu_ms": 1000 * cpu_s / max(done, 1), "raw": out}  # type: ignore[dict-item]


def write_result(name: str, rows: list[dict[str, Any]], *, command: str, notes: str = "") -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"name": name, "date": dt.date.today().isoformat(), "command": command,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "rows": rows, "notes": notes}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'figure':58} {'ours':>12} {'baseline':>12} {'ratio':>7}  goal")
    for r in rows:
        def fmt(v: Any) -> str:
            return "-" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))
        print(f"{r['figure']:58} {fmt(r['ours']):>12} {fmt(r.get('baseline')):>12} {fmt(r.get('ratio')):>7}  "
              f"{r.get('goal', '')} {'✓' if r.get('met') else ('✗' if r.get('met') is False else '')}")
