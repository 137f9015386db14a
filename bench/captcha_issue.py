"""Confirmation-code issue throughput through the service vs raw ``ImageCaptcha().generate()``, and /healthz
latency while images render at full load.

    .venv/bin/python bench/captcha_issue.py [--seconds 16] [--rounds 4] [--connections 8]

The service runs in a subprocess (real port, loopback only) against an embedded Postgres (or DATABASE_URL);
load comes from wrk (C, one thread; a Lua script: POST /v1/challenges, then GET the image of the id it got);
/healthz is probed from another process at the same time.  One "issue" = POST /v1/challenges + GET its image.
Baselines in the same run, interleaved round by round: the library's default ``ImageCaptcha().generate()``
back to back in 1 thread, 2 threads and 2 processes (the goal row uses whichever is fastest in the run),
and our own tuned renderer bare in 2 processes (isolates the HTTP + Postgres overhead).
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

import multiprocessing  # noqa: E402
import re  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import aiohttp  # noqa: E402
from captcha.image import ImageCaptcha  # noqa: E402

from moderation.challenges.codes import ALPHABET  # noqa: E402
from moderation.challenges.render import Renderer  # noqa: E402

MARK = {True: "✓", False: "✗", None: ""}
EXECUTOR_THREADS = 2  # moderation.app.executor_ctx's default
RAW_PROCESSES = 2     # = cores: one library loop per core is the most the bare library can do here

WRK_SCRIPT = r"""
-- one "issue" = POST /v1/challenges, then GET the image of the id it returned.  Each wrk thread keeps a
-- queue of issued ids; a connection that is ready sends a GET for a queued id, else a new POST.
local queue = {}
issued = 0
failed = 0
local post
init = function(args)  -- wrk knows the Host header only from here on
  post = wrk.format("POST", "/v1/challenges", {["Content-Type"] = "application/json"}, '{"article_id": "bench"}')
end
request = function()
  local id = table.remove(queue)
  if id then return wrk.format("GET", "/v1/challenges/" .. id .. "/image") end
  return post
end
response = function(status, headers, body)
  if status == 201 then
    local id = body:match('"id":%s*"([^"]+)"')
    if id then table.insert(queue, id) else failed = failed + 1 end
  elseif status == 200 and body:sub(2, 4) == "PNG" then
    issued = issued + 1
  else
    failed = failed + 1
  end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("issued"); bad = bad + t:get("failed") end
  io.write(string.format("ISSUED %d FAILED %d SECONDS %.3f\n", ok, bad, summary.duration / 1e6))
end
"""

SERVER = """
import logging, sys
from aiohttp import web
from moderation.app import create_app
from moderation.core.config import Config
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


_in_process: dict[str, object] = {}


def _process_loop(kind: str, seconds: float) -> float:
    """In a worker process: renders per second of the library's default (``kind='lib'``) or our renderer."""
    if kind not in _in_process:
        if kind == "lib":
            lib = ImageCaptcha()
            _in_process[kind] = lambda c: lib.generate(c).getvalue()
        else:
            renderer = Renderer()
            renderer.load()
            _in_process[kind] = renderer.image_png
    return raw_rate(_in_process[kind], 1, seconds)


def process_rate(pool: ProcessPoolExecutor, kind: str, seconds: float) -> float:
    """Renders per second of ``kind`` in all of ``pool``'s processes at once (each runs its own loop)."""
    futures = [pool.submit(_process_loop, kind, seconds) for _ in range(RAW_PROCESSES)]
    return sum(f.result() for f in futures)


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


def wrk_load(port: int, connections: int, seconds: int, script: Path) -> tuple[float, int]:
    """wrk at full load for ``seconds``; returns (issues/s, failed requests)."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"ISSUED (\d+) FAILED (\d+) SECONDS ([\d.]+)", out)
    if m is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return int(m.group(1)) / float(m.group(3)), int(m.group(2))


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


def measure(port: int, connections: int, seconds: int, script: Path) -> tuple[float, int, list[float]]:
    """Full load for ``seconds`` while /healthz is probed; returns (issues/s, errors, healthz ms)."""
    busy = probe(port, seconds)
    rate, errors = wrk_load(port, connections, seconds, script)
    return rate, errors, json.loads(busy.communicate()[0])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=16, help="total measuring time per figure")
    parser.add_argument("--rounds", type=int, default=4, help="phases are interleaved in this many rounds")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    args = parser.parse_args()

    from moderation.core.db import EmbeddedPostgres

    tmp = Path(tempfile.mkdtemp(prefix="bench-captcha-"))
    script = tmp / "issue.lua"
    script.write_text(WRK_SCRIPT)
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
    phase = max(1, round(args.seconds / args.rounds))
    lib = ImageCaptcha()
    services: dict[str, Service] = {}
    acc: dict[str, list[float]] = {k: [] for k in ("raw1", "raw2", "rawp", "tunedp")}
    svc: dict[str, dict[str, list]] = {m: {"rate": [], "lat": [], "idle": [], "errors": [], "p99s": [], "idle99s": []}
                                      for m in ("processes", "threads")}
    procs = ProcessPoolExecutor(RAW_PROCESSES, mp_context=multiprocessing.get_context("spawn"))
    try:
        services["processes"] = Service({**base_env, "MODERATION_CHALLENGE_RENDER_PROCESSES": "2"})
        services["threads"] = Service({**base_env, "MODERATION_CHALLENGE_RENDER_PROCESSES": "0"})
        for service in services.values():
            asyncio.run(wait_ready(service.port))
            wrk_load(service.port, 2, 1, script)  # warm up: renderer processes start on the first render
        process_rate(procs, "lib", 0.5)          # warm up: start the baseline's processes, load fonts
        process_rate(procs, "ours", 0.5)
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}: {phase:g} s per phase", flush=True)
            acc["raw1"].append(raw_rate(lambda c: lib.generate(c).getvalue(), 1, phase))
            acc["raw2"].append(raw_rate(lambda c: lib.generate(c).getvalue(), EXECUTOR_THREADS, phase))
            acc["rawp"].append(process_rate(procs, "lib", phase))
            acc["tunedp"].append(process_rate(procs, "ours", phase))
            for mode, service in services.items():
                idle = probe(service.port, 2)
                idle_lat = json.loads(idle.communicate()[0])
                svc[mode]["idle"] += idle_lat
                svc[mode]["idle99s"].append(pct(idle_lat, 0.99))
                rate, errors, lat = measure(service.port, args.connections, phase, script)
                svc[mode]["rate"].append(rate)
                svc[mode]["errors"].append(errors)
                svc[mode]["lat"] += lat
                svc[mode]["p99s"].append(pct(lat, 0.99))
    finally:
        procs.shutdown(cancel_futures=True)
        for service in services.values():
            service.stop()
        if embedded is not None:
            embedded.stop()

    med = {k: median(v) for k, v in acc.items()}
    raw_label = {"raw1": "1 thread", "raw2": f"{EXECUTOR_THREADS} threads", "rawp": f"{RAW_PROCESSES} processes"}
    best = max(raw_label, key=lambda k: med[k])
    rate, t_rate = median(svc["processes"]["rate"]), median(svc["threads"]["rate"])
    busy_lat, idle_lat, t_busy = svc["processes"]["lat"], svc["processes"]["idle"], svc["threads"]["lat"]
    errors, t_errors = sum(svc["processes"]["errors"]), sum(svc["threads"]["errors"])
    rows = []

    def row(figure: str, ours_v: float, base: float | None, goal: str, unit: str, met: bool | None) -> None:
        rows.append({"figure": figure, "ours": round(ours_v, 2), "baseline": None if base is None else round(base, 2),
                     "ratio": None if not base else round(ours_v / base, 3), "goal": goal, "unit": unit,
                     "met": met})

    row(f"issue+image through HTTP vs raw ImageCaptcha().generate() at its best here ({raw_label[best]})",
        rate, med[best], "ratio >= 0.8", "issues/s", rate / med[best] >= 0.8)
    for k, label in raw_label.items():
        if k != best:
            row(f"issue+image through HTTP vs raw ImageCaptcha().generate(), {label}", rate, med[k],
                "(other baseline set-ups)", "issues/s", None)
    round_ratios = [svc["processes"]["rate"][i] / max(acc[k][i] for k in raw_label) for i in range(args.rounds)]
    rows.append({"figure": "median over rounds of (ours / best raw set-up of the same round)", "ours": None,
                 "baseline": None, "ratio": round(median(round_ratios), 3), "goal": "(paired by round)",
                 "unit": "ratio", "met": None})
    row(f"issue+image through HTTP vs our tuned renderer bare, {RAW_PROCESSES} processes", rate, med["tunedp"],
        "(overhead of HTTP + Postgres)", "issues/s", None)
    p99_busy, p99_idle = pct(busy_lat, 0.99), pct(idle_lat, 0.99)
    row("/healthz p99 while images render at full load (baseline: idle service)", p99_busy, p99_idle,
        "< 5 ms", "ms", p99_busy < 5)
    row("/healthz p99 at full load, median of the rounds' p99s (baseline: idle, same)",
        median(svc["processes"]["p99s"]), median(svc["processes"]["idle99s"]), "-", "ms", None)
    row("/healthz p50 while images render at full load (baseline: idle service)", pct(busy_lat, 0.5),
        pct(idle_lat, 0.5), "-", "ms", None)
    row("issue+image through HTTP, renderer in the shared thread executor (baseline: processes)", t_rate, rate,
        "(design check)", "issues/s", None)
    row("/healthz p99 at full load, renderer in the shared thread executor (baseline: processes)",
        pct(t_busy, 0.99), p99_busy, "(design check)", "ms", None)

    spread = "; ".join(f"{k} {min(v):.0f}-{max(v):.0f}" for k, v in
                       [*acc.items(), ("service", svc["processes"]["rate"]), ("threads", svc["threads"]["rate"])])
    print(f"\n{'figure':<90} {'ours':>9} {'baseline':>9} {'ratio':>7}  goal")
    for r in rows:
        print(f"{r['figure']:<90} {r['ours'] if r['ours'] is not None else '-':>9} "
              f"{r['baseline'] if r['baseline'] is not None else '-':>9} "
              f"{r['ratio'] if r['ratio'] is not None else '-':>7}  {r['goal']} {MARK[r['met']]}")
    print(f"errors during load: {errors}+{t_errors}; healthz samples idle {len(idle_lat)}, busy {len(busy_lat)}")
    print(f"per-round spread (issues/s, renders/s): {spread}")
    pairs = zip(svc["processes"]["p99s"], svc["processes"]["idle99s"], strict=True)
    p99s = ", ".join(f"{b:.1f}/{i:.1f}" for b, i in pairs)
    print(f"healthz p99 per round, busy/idle (ms): {p99s}")
    print("per round (same ~30 s window): issues/s ours, renders/s raw 1 thread / 2 threads / 2 processes, "
          "ratio to the best raw, healthz p99 busy/idle")
    for i in range(args.rounds):
        raws = [acc[k][i] for k in raw_label]
        print(f"  {i + 1}: {svc['processes']['rate'][i]:6.1f}  {' / '.join(f'{x:.0f}' for x in raws)}  "
              f"{round_ratios[i]:.2f}  "
              f"{svc['processes']['p99s'][i]:.1f}/{svc['processes']['idle99s'][i]:.1f}")
    result = {
        "name": "captcha_issue",
        "date": datetime.now(UTC).date().isoformat(),
        "command": ".venv/bin/python bench/captcha_issue.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "notes": (f"{os.cpu_count()} cores shared by service, Postgres, wrk, the baselines and other people's "
                  f"work. wrk -t1 -c{args.connections}; {args.rounds} interleaved rounds of {phase:g} s per phase "
                  "(raw library in 1 thread, 2 threads, 2 processes; our renderer bare in 2 processes; service "
                  "with renderer processes; service with the thread executor), so background load hits all "
                  f"alike; medians over rounds; {errors + t_errors} errors. Per-round spread: {spread}. "
                  f"The goal row's baseline is the library's best set-up in this run ({raw_label[best]}). "
                  "Our images are 220x80 with extra strike-through curves and a sine warp (tuned against "
                  "tesseract, see captcha_ocr); the tuned-renderer row isolates the service overhead. "
                  f"healthz percentiles pool every probe of every round; per round busy/idle p99 (ms): {p99s}. "
                  "Per-round ratios ours / best raw: " + ", ".join(f"{r:.2f}" for r in round_ratios) + "."),
    }
    out = ROOT / "bench" / "results" / "captcha_issue.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
