"""The public comment list for an article with 10,000 published comments: latency under load.

    .venv/bin/python bench/comments_list.py [--seconds 5] [--rounds 3]

Ours: GET /v1/articles/{id}/comments (first page and a deep cursor page; 50 threads per page with their
replies nested, reaction counts, total, ETag) from `moderation serve`.  Baseline: a bare aiohttp+asyncpg
endpoint doing one SELECT of the 50 newest approved rows (no threads, counts, total or ETag).  wrk at 8
connections, short runs alternated, medians.  Goal: first-page p99 <= 100 ms at 8 connections on this
2-core machine (an origin hit; a CDN honouring Cache-Control absorbs most reads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime, timedelta
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

SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC0xMjM0NTY="
SCRIPT = ROOT / "bench" / "reactions_healthz.lua"  # a plain GET of the URL
ARTICLE = "big-story"
PUBLISHED = 10_000


async def seed(dsn: str) -> None:
    """10k approved comments (80% thread roots, 20% replies), 1k held ones, counts on a third of them."""
    import asyncpg

    rng = random.Random(7)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO articles (id, title) VALUES ($1, 'Big story') ON CONFLICT DO NOTHING", ARTICLE)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        rows = []
        for i in range(PUBLISHED + 1000):
            parent = f"big-{rng.randrange(i)}" if i > 10 and rng.random() < 0.2 else None
            status = "approved" if i < PUBLISHED else "pending"
            text = f"Comment number {i}: " + " ".join(rng.choice(["the", "council", "budget", "vote", "city",
                                                                   "school", "reader", "good", "point"])
                                                       for _ in range(rng.randrange(8, 60)))
            rows.append((f"big-{i}", ARTICLE, parent, f"author-{i % 900}", f"Reader {i % 900}", text, "fp", status,
                         start + timedelta(seconds=37 * i)))
        await conn.copy_records_to_table(
            "comments", records=rows, columns=["external_id", "article_id", "parent_external_id", "author_id",
                                               "author_name", "text", "fingerprint", "status", "created_at"])
        await conn.execute(
            """INSERT INTO reaction_counts (target_type, target_id, shard, likes, dislikes)
               SELECT 'comment', c.id::text, s, (c.id * 7 + s) % 13, (c.id * 3 + s) % 5
               FROM comments c CROSS JOIN generate_series(0, 3) AS s WHERE c.id % 3 = 0""")
        await conn.execute("ANALYZE")
        await conn.execute("VACUUM (ANALYZE) comments")
    finally:
        await conn.close()


def deep_cursor(base: str, pages: int) -> str:
    cursor = None
    for _ in range(pages):
        url = f"{base}/v1/articles/{ARTICLE}/comments?limit=50" + (f"&cursor={cursor}" if cursor else "")
        with urllib.request.urlopen(url, timeout=30) as resp:
            cursor = json.loads(resp.read())["next_cursor"]
    assert cursor
    return cursor


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    pg = BenchPostgres()
    tmp = Path(tempfile.mkdtemp(prefix="bench-list-"))
    runs: dict[str, list[dict[str, float]]] = {}
    try:
        dsn = pg.create_database("bench_comments_list")
        port, bare_port = free_port(), free_port()
        ours = start_server([PYTHON, "-m", "moderation", "serve", "--port", str(port)],
                            {"DATABASE_URL": dsn, "MODERATION_WEBHOOK_SECRET": SECRET,
                             "MODERATION_DATA_DIR": str(tmp / "data"), "MODERATION_MAX_CONCURRENCY": "100000",
                             "MODERATION_LOG_JSON": "false"}, f"http://127.0.0.1:{port}/readyz")
        bare = None
        try:
            asyncio.run(seed(dsn))
            bare = start_server([PYTHON, "bench/comments_list_bare.py", str(bare_port)], {"DATABASE_URL": dsn},
                                f"http://127.0.0.1:{bare_port}/healthz")
            base = f"http://127.0.0.1:{port}"
            with urllib.request.urlopen(f"{base}/v1/articles/{ARTICLE}/comments", timeout=30) as resp:
                first = json.loads(resp.read())
            assert first["total"] == PUBLISHED and len(first["comments"]) == 50, first["total"]
            threads = len(first["comments"]) + sum(len(c["replies"]) for c in first["comments"])
            urls = {"ours first page": f"{base}/v1/articles/{ARTICLE}/comments",
                    "ours page 100": f"{base}/v1/articles/{ARTICLE}/comments?cursor={deep_cursor(base, 100)}",
                    "bare": f"http://127.0.0.1:{bare_port}/list/{ARTICLE}"}
            for url in urls.values():
                run_wrk(url, SCRIPT, connections=8, seconds=2)  # warm-up
            for _ in range(opts.rounds):
                for name, url in urls.items():
                    runs.setdefault(name, []).append(run_wrk(url, SCRIPT, connections=8, seconds=opts.seconds))
        finally:
            stop_server(ours)
            if bare is not None:
                stop_server(bare)
    finally:
        pg.stop()

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    rows = []
    b_p99, b_rps = med("bare", "p99_ms"), med("bare", "rps")
    for name in ("ours first page", "ours page 100"):
        p99 = med(name, "p99_ms")
        rows.append({"figure": f"comment list p99, 10k published, {name}, 8 connections", "ours": round(p99, 2),
                     "baseline": round(b_p99, 2), "ratio": round(p99 / b_p99, 3), "goal": "<= 100 ms",
                     "unit": "ms", "met": p99 <= 100})
        rows.append({"figure": f"comment list p50, {name}", "ours": round(med(name, "p50_ms"), 2),
                     "baseline": round(med("bare", "p50_ms"), 2), "ratio": None, "goal": "", "unit": "ms",
                     "met": None})
        rps = med(name, "rps")
        rows.append({"figure": f"comment list req/s, {name}", "ours": round(rps, 1), "baseline": round(b_rps, 1),
                     "ratio": round(rps / b_rps, 3), "goal": "", "unit": "req/s", "met": None})
    print_table(rows)
    write_result("comments_list", rows, command="python bench/comments_list.py " + " ".join(sys.argv[1:]),
                 notes=f"Article with {PUBLISHED} approved (+1000 held) comments, 20% of them replies; a page = 50 "
                       f"threads with nested replies ({threads} comments on the first page), counts for each, the "
                       "total, ETag, in one repeatable-read snapshot. Baseline = one SELECT of 50 flat rows. wrk -t2 "
                       "-c8, runs alternated, medians; 2-core machine shared with wrk, Postgres and other work.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
