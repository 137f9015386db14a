"""Confirmation-code issue throughput through the service vs raw ``ImageCaptcha().generate()``, and /healthz
latency while images render at full load.

    .venv/bin/python bench/captcha_issue.py [--seconds 20] [--rounds 4] [--clients 8]

The service runs in a subprocess (real port, loopback only) against an embedded Postgres (or DATABASE_URL);
load comes from aiohttp clients in this process; /healthz is probed from a third process so its latency is
not the load generator's own event-loop delay.  One "issue" = POST /v1/challenges + GET its image.
Baselines in the same run: the bare library in a loop (1 thread, and as many threads as the service's
executor has), and our own tuned renderer bare (isolates the HTTP + Postgres overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from captcha.image import ImageCaptcha  # noqa: E402

from moderation.challenges.codes import ALPHABET  # noqa: E402
from moderation.challenges.render import Renderer  # noqa: E402

MARK = {True: "✓", False: "✗", None: ""}
EXECUTOR_THREADS = 2  # moderation.app.executor_ctx's default

SERVER = """
import logging, sys
from aiohttp import web
from moderation.app import create_app
from moderation.config import Config
logging.basicConfig(level=logging.WARNING)
web.run_app(create_app(Config.from_env()), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

PROBE = """
import http.client, json, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
lat = []
end = time.perf_counter() + seconds
while time.perf_counter() < end:
    t = time.perf_counter()
    conn.request("GET", "/healthz")
    r = conn.getresponse(); r.read()
    assert r.status == 200
    lat.append((time.perf_counter() - t) * 1000)
    time.sleep(0.005)
print(json.dumps(lat))
"""


def code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(5))


def raw_rate(fn: object, threads: int, seconds: float) -> float:
    """Calls per second of ``fn(code)`` run back to back in ``threads`` threads."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            fn(code())  # type: ignore[operator]
            counts[i] += 1

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_ready(port: int) -> None:
    end = time.monotonic() + 120
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < end:
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("service did not become ready")


async def load(port: int, clients: int, seconds: float) -> tuple[float, int]:
    base = f"http://127.0.0.1:{port}"
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        while time.perf_counter() < stop:
            async with session.post(base + "/v1/challenges", json={"article_id": "bench"}) as resp:
                if resp.status != 201:
                    errors += 1
                    continue
                ch = await resp.json()
            async with session.get(base + ch["image_url"]) as resp:
                body = await resp.read()
                if resp.status == 200 and body[:4] == b"\x89PNG":
                    done += 1
                else:
                    errors += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return done / (time.perf_counter() - start), errors


def probe(port: int, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", PROBE, str(port), str(seconds)], stdout=subprocess.PIPE,
                            text=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Service:
    """The service in a subprocess on its own port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port)], env=env, cwd=ROOT)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def measure(port: int, clients: int, seconds: float) -> tuple[float, int, list[float]]:
    """Full load for ``seconds`` while /healthz is probed; returns (issues/s, errors, healthz ms)."""
    busy = probe(port, seconds)
    rate, errors = asyncio.run(load(port, clients, seconds))
    return rate, errors, json.loads(busy.communicate()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="total measuring time per figure")
    parser.add_argument("--rounds", type=int, default=4, help="phases are interleaved in this many rounds")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from moderation.db import EmbeddedPostgres

    tmp = Path(tempfile.mkdtemp(prefix="bench-captcha-"))
    embedded = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        embedded = EmbeddedPostgres(tmp / "pg", delete_on_stop=True)
        embedded.start()
        dsn = embedded.uri("postgres")
    base_env = {**os.environ, "DATABASE_URL": dsn, "MODERATION_DATA_DIR": str(tmp / "data"),
                "MODERATION_WEBHOOK_SECRET": "whsec_" + "QkVOQ0hCRU5DSEJFTkNIQkVOQ0g=",
                "MODERATION_CHALLENGE_RATE": "100000000", "MODERATION_LOG_JSON": "false",
                "PYTHONPATH": str(ROOT)}
    phase = args.seconds / args.rounds
    lib = ImageCaptcha()
    ours = Renderer()
    ours.load()
    services: dict[str, Service] = {}
    acc: dict[str, list[float]] = {k: [] for k in ("raw1", "raw2", "tuned2")}
    svc: dict[str, dict[str, list]] = {m: {"rate": [], "lat": [], "idle": [], "errors": []}
                                      for m in ("processes", "threads")}
    try:
        services["processes"] = Service({**base_env, "MODERATION_CHALLENGE_RENDER_PROCESSES": "2"})
        services["threads"] = Service({**base_env, "MODERATION_CHALLENGE_RENDER_PROCESSES": "0"})
        for service in services.values():
            asyncio.run(wait_ready(service.port))
            asyncio.run(load(service.port, 2, 2))  # warm up: renderer processes start on the first render
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}: {phase:g} s per phase", flush=True)
            acc["raw1"].append(raw_rate(lambda c: lib.generate(c).getvalue(), 1, phase))
            acc["raw2"].append(raw_rate(lambda c: lib.generate(c).getvalue(), EXECUTOR_THREADS, phase))
            acc["tuned2"].append(raw_rate(ours.image_png, EXECUTOR_THREADS, phase))
            for mode, service in services.items():
                idle = probe(service.port, min(phase, 3))
                svc[mode]["idle"] += json.loads(idle.communicate()[0])
                rate, errors, lat = measure(service.port, args.clients, phase)
                svc[mode]["rate"].append(rate)
                svc[mode]["errors"].append(errors)
                svc[mode]["lat"] += lat
    finally:
        for service in services.values():
            service.stop()
        if embedded is not None:
            embedded.stop()

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    raw_1, raw_n, tuned_n = mean(acc["raw1"]), mean(acc["raw2"]), mean(acc["tuned2"])
    rate, t_rate = mean(svc["processes"]["rate"]), mean(svc["threads"]["rate"])
    busy_lat, idle_lat, t_busy = svc["processes"]["lat"], svc["processes"]["idle"], svc["threads"]["lat"]
    errors, t_errors = sum(svc["processes"]["errors"]), sum(svc["threads"]["errors"])
    rows = []

    def row(figure: str, ours_v: float, base: float | None, goal: str, unit: str, met: bool | None) -> None:
        rows.append({"figure": figure, "ours": round(ours_v, 2), "baseline": None if base is None else round(base, 2),
                     "ratio": None if not base else round(ours_v / base, 3), "goal": goal, "unit": unit,
                     "met": met})

    row("issue+image through HTTP vs raw ImageCaptcha().generate(), 1 thread", rate, raw_1,
        "ratio >= 0.8", "issues/s", rate / raw_1 >= 0.8)
    row(f"issue+image through HTTP vs raw ImageCaptcha().generate(), {EXECUTOR_THREADS} threads", rate, raw_n,
        "ratio >= 0.8", "issues/s", rate / raw_n >= 0.8)
    row(f"issue+image through HTTP vs our tuned renderer bare, {EXECUTOR_THREADS} threads", rate, tuned_n,
        "(overhead of HTTP + Postgres)", "issues/s", None)
    p99_busy, p99_idle = pct(busy_lat, 0.99), pct(idle_lat, 0.99)
    row("/healthz p99 while images render at full load (baseline: idle service)", p99_busy, p99_idle,
        "< 5 ms", "ms", p99_busy < 5)
    row("/healthz p50 while images render at full load (baseline: idle service)", pct(busy_lat, 0.5),
        pct(idle_lat, 0.5), "-", "ms", None)
    row("issue+image through HTTP, renderer in the shared thread executor (baseline: processes)", t_rate, rate,
        "(design check)", "issues/s", None)
    row("/healthz p99 at full load, renderer in the shared thread executor (baseline: processes)",
        pct(t_busy, 0.99), p99_busy, "(design check)", "ms", None)

    print(f"\n{'figure':<82} {'ours':>9} {'baseline':>9} {'ratio':>7}  goal")
    for r in rows:
        print(f"{r['figure']:<82} {r['ours']:>9} {r['baseline'] if r['baseline'] is not None else '-':>9} "
              f"{r['ratio'] if r['ratio'] is not None else '-':>7}  {r['goal']} {MARK[r['met']]}")
    print(f"errors during load: {errors}+{t_errors}; healthz samples idle {len(idle_lat)}, busy {len(busy_lat)}")
    result = {
        "name": "captcha_issue",
        "date": datetime.now(UTC).date().isoformat(),
        "command": ".venv/bin/python bench/captcha_issue.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "notes": (f"{os.cpu_count()} cores shared by service, Postgres, load generator and baselines. "
                  f"{args.clients} concurrent clients; {args.rounds} interleaved rounds of {phase:g} s per phase "
                  "(raw 1 thread, raw 2 threads, tuned raw, service with processes, service with threads), so "
                  f"background load hits all alike; means over rounds; {errors + t_errors} errors. "
                  "Our images are 220x80 with extra strike-through curves and a sine warp (tuned against "
                  "tesseract, see captcha_ocr), so each costs more than the library's default 160x60; the "
                  "third row isolates the service overhead from that."),
    }
    out = ROOT / "bench" / "results" / "captcha_issue.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
