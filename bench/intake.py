"""Intake throughput and latency: our signed webhook vs a bare aiohttp+asyncpg INSERT endpoint, same run.

    .venv/bin/python bench/intake.py [--seconds 10] [--workers 1]

Both servers run as separate processes against the same Postgres; wrk (Debian package) drives each with
the same pre-signed, unique comment.created requests at 8 and 32 connections. Goals (issue 3): our
throughput >= 0.6x the bare endpoint's, and our p99 at 8 connections <= 3x its p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    PYTHON,
    ROOT,
    BenchPostgres,
    free_port,
    print_table,
    run_wrk,
    start_server,
    stop_server,
    write_result,
)
from moderation.config import parse_webhook_secret
from moderation.webhooks import sign

SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC0xMjM0NTY="
OPENERS = ["I think", "Honestly,", "As a long-time reader,", "Interesting piece.", "Thanks for this.",
           "I disagree:", "Good point,", "Not sure about this,"]
MIDDLES = ["the council should publish the budget details", "the new bus lanes have helped my commute",
           "the reporter missed the bigger picture", "this affects every family in our district",
           "we need more coverage of local schools", "the numbers in the second chart look off",
           "my neighbours feel the same way", "the mayor's answer was evasive"]
ENDS = ["", " What do others think?", " Keep up the good work.", " Please follow up on this.",
        " Check out my site www.cheap-deals.example for more!!!", " Source: the minutes of the meeting."]


def make_requests(path: Path, n: int, run_tag: str) -> None:
    key = parse_webhook_secret(SECRET)
    rng = random.Random(7)
    now = int(time.time())
    with path.open("w") as f:
        for i in range(n):
            text = f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)}.{rng.choice(ENDS)} #{i}"
            body = json.dumps({"type": "comment.created", "data": {
                "id": f"{run_tag}-{i}", "article": {"id": f"art-{i % 50}", "url": f"https://news.example/{i % 50}"},
                "author": {"id": f"reader-{i % 997}", "name": f"Reader {i % 997}", "ip": f"198.51.100.{i % 250}"},
                "text": text, "created_at": "2026-11-25T12:00:00Z"}}, separators=(",", ":")).encode()
            signed = sign(key, body, webhook_id=f"msg_{run_tag}_{i}", timestamp=now)
            f.write(f"{signed.webhook_id}\t{signed.timestamp}\t{signed.signature}\t{body.decode()}\n")


async def _count(dsn: str, sql: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    opts = parser.parse_args()

    pg = BenchPostgres()
    tmp = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    script = ROOT / "bench" / "wrk_requests.lua"
    rows = []
    try:
        bare_dsn = pg.create_database("bench_bare")
        bare_port = free_port()
        bare = start_server([PYTHON, "bench/bare_insert_server.py", str(bare_port)], {"DATABASE_URL": bare_dsn},
                            f"http://127.0.0.1:{bare_port}/healthz")
        results: dict[tuple[str, int, int], dict[str, float]] = {}
        try:
            for conns in (8, 32):
                reqs = tmp / f"bare-{conns}.tsv"
                make_requests(reqs, opts.requests, f"bare{conns}")
                env_vars = {"BENCH_REQUESTS": str(reqs), "BENCH_PATH": "/insert"}
                os.environ.update(env_vars)
                run_wrk(f"http://127.0.0.1:{bare_port}", script, connections=conns, seconds=2)  # warm-up
                results[("bare", 1, conns)] = run_wrk(f"http://127.0.0.1:{bare_port}", script,
                                                      connections=conns, seconds=opts.seconds)
        finally:
            stop_server(bare)

        for workers in opts.workers:
            dsn = pg.create_database(f"bench_ours_{workers}")
            port = free_port()
            args = [PYTHON, "-m", "moderation", "serve", "--port", str(port)]
            if workers > 1:
                args += ["--workers", str(workers)]
            ours = start_server(args, {"DATABASE_URL": dsn, "MODERATION_WEBHOOK_SECRET": SECRET,
                                       "MODERATION_DATA_DIR": str(tmp / "data"),
                                       "MODERATION_MAX_CONCURRENCY": "100000"},
                                f"http://127.0.0.1:{port}/readyz")
            try:
                for conns in (8, 32):
                    reqs = tmp / f"ours-{workers}-{conns}.tsv"
                    make_requests(reqs, opts.requests, f"w{workers}c{conns}")
                    os.environ.update({"BENCH_REQUESTS": str(reqs), "BENCH_PATH": "/v1/webhooks/comments"})
                    before = asyncio.run(_count(dsn, "SELECT count(*) FROM comments"))
                    r = run_wrk(f"http://127.0.0.1:{port}", script, connections=conns, seconds=opts.seconds)
                    after = asyncio.run(_count(dsn, "SELECT count(*) FROM comments"))
                    r["stored"] = after - before
                    results[("ours", workers, conns)] = r
            finally:
                stop_server(ours)

        for workers in opts.workers:
            for conns in (8, 32):
                ours_r, bare_r = results[("ours", workers, conns)], results[("bare", 1, conns)]
                ratio = ours_r["rps"] / bare_r["rps"]
                rows.append({"figure": f"intake req/s, {conns} connections, {workers} worker(s)",
                             "ours": round(ours_r["rps"], 1), "baseline": round(bare_r["rps"], 1),
                             "ratio": round(ratio, 3), "goal": ">= 0.6x", "unit": "req/s",
                             "met": ratio >= 0.6})
                p_ratio = ours_r["p99_ms"] / bare_r["p99_ms"]
                rows.append({"figure": f"intake p99, {conns} connections, {workers} worker(s)",
                             "ours": round(ours_r["p99_ms"], 2), "baseline": round(bare_r["p99_ms"], 2),
                             "ratio": round(p_ratio, 3), "goal": "<= 3x" if conns == 8 else "",
                             "unit": "ms", "met": (p_ratio <= 3) if conns == 8 else None})
                if ours_r["non2xx"]:
                    print(f"warning: {ours_r['non2xx']:.0f} non-2xx answers from ours at {conns} connections")
                # Every request carried a fresh webhook-id unless wrk wrapped around the file.
                rows.append({"figure": f"comments stored during the {conns}-connection run, {workers} worker(s)",
                             "ours": int(ours_r["stored"]), "baseline": None, "ratio": None, "goal": "",
                             "unit": "rows", "met": None})
    finally:
        pg.stop()
    print_table(rows)
    write_result("intake", rows, command="python bench/intake.py " + " ".join(sys.argv[1:]),
                 notes="wrk -t2 with pre-signed unique comment.created requests; both servers are separate "
                       "processes on the same embedded Postgres; machine shared with wrk (2 cores).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
