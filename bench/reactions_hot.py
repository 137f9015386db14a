"""Reactions on ONE hot comment: our PUT /v1/comments/{id}/reaction vs a bare single-row INSERT endpoint.

    .venv/bin/python bench/reactions_hot.py [--seconds 10]

Both servers are separate processes on the same Postgres; wrk drives each with reactions from distinct
readers (a new reader id and client IP per request) at 16 and 64 connections.  Ours does per request:
JSON validation, reader + IP rate limits, the "comment is published" check, the truth row, the sharded
counter and the new totals (one SQL function call, one transaction).  The baseline does one INSERT.
Goal (issue 7): our reactions/s >= 0.5x the bare endpoint's.  After the runs the counters are checked
against count(*) of the truth rows (must be equal: "exact").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
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
SCRIPT = ROOT / "bench" / "reactions_hot.lua"
CONNECTIONS = (16, 64)


async def seed_hot_comment(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO articles (id, title) VALUES ('viral', 'Viral story') ON CONFLICT DO NOTHING")
        return await conn.fetchval(
            "INSERT INTO comments (external_id, article_id, author_id, author_name, text, fingerprint, status, "
            "created_at) VALUES ('hot-1', 'viral', 'a', 'Hot Take', 'Everyone reacts to this', 'x', 'approved', "
            "now()) RETURNING id")
    finally:
        await conn.close()


async def exactness(dsn: str, comment_id: int) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # One statement = one snapshot: requests wrk left in flight may still be committing.
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM reactions WHERE target_type = 'comment' AND target_id = $1 "
            "        AND kind = 'like') AS truth_likes, "
            "       (SELECT count(*) FROM reactions WHERE target_type = 'comment' AND target_id = $1 "
            "        AND kind = 'dislike') AS truth_dislikes, "
            "       (SELECT coalesce(sum(likes), 0) FROM reaction_counts WHERE target_type = 'comment' "
            "        AND target_id = $1) AS counted_likes, "
            "       (SELECT coalesce(sum(dislikes), 0) FROM reaction_counts WHERE target_type = 'comment' "
            "        AND target_id = $1) AS counted_dislikes", str(comment_id))
        return {k: int(v) for k, v in row.items()}
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    opts = parser.parse_args()
    pg = BenchPostgres()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reactions-"))
    results: dict[tuple[str, int], dict[str, float]] = {}
    rows = []
    try:
        bare_dsn = pg.create_database("bench_reactions_bare")
        bare_port = free_port()
        bare = start_server([PYTHON, "bench/bare_insert_server.py", str(bare_port)], {"DATABASE_URL": bare_dsn},
                            f"http://127.0.0.1:{bare_port}/healthz")
        try:
            os.environ.update({"BENCH_PATH": "/insert", "BENCH_METHOD": "POST", "BENCH_TAG": "bare"})
            run_wrk(f"http://127.0.0.1:{bare_port}", SCRIPT, connections=16, seconds=2)  # warm-up
            for conns in CONNECTIONS:
                results[("bare", conns)] = run_wrk(f"http://127.0.0.1:{bare_port}", SCRIPT, connections=conns,
                                                   seconds=opts.seconds)
        finally:
            stop_server(bare)

        dsn = pg.create_database("bench_reactions_ours")
        port = free_port()
        ours = start_server([PYTHON, "-m", "moderation", "serve", "--port", str(port)],
                            {"DATABASE_URL": dsn, "MODERATION_WEBHOOK_SECRET": SECRET,
                             "MODERATION_DATA_DIR": str(tmp / "data"), "MODERATION_MAX_CONCURRENCY": "100000",
                             "MODERATION_TRUSTED_PROXY_HEADER": "X-Forwarded-For", "MODERATION_LOG_JSON": "false"},
                            f"http://127.0.0.1:{port}/readyz")
        try:
            comment_id = asyncio.run(seed_hot_comment(dsn))
            os.environ.update({"BENCH_PATH": f"/v1/comments/{comment_id}/reaction", "BENCH_METHOD": "PUT"})
            os.environ["BENCH_TAG"] = "warm"
            run_wrk(f"http://127.0.0.1:{port}", SCRIPT, connections=16, seconds=2)
            for conns in CONNECTIONS:
                os.environ["BENCH_TAG"] = f"c{conns}"
                results[("ours", conns)] = run_wrk(f"http://127.0.0.1:{port}", SCRIPT, connections=conns,
                                                   seconds=opts.seconds)
            exact = asyncio.run(exactness(dsn, comment_id))
        finally:
            stop_server(ours)
    finally:
        pg.stop()

    for conns in CONNECTIONS:
        o, b = results[("ours", conns)], results[("bare", conns)]
        ratio = o["rps"] / b["rps"]
        rows.append({"figure": f"reactions/s on one hot comment, {conns} connections", "ours": round(o["rps"], 1),
                     "baseline": round(b["rps"], 1), "ratio": round(ratio, 3), "goal": ">= 0.5x",
                     "unit": "req/s", "met": ratio >= 0.5})
        rows.append({"figure": f"reaction p99, {conns} connections", "ours": round(o["p99_ms"], 2),
                     "baseline": round(b["p99_ms"], 2), "ratio": round(o["p99_ms"] / b["p99_ms"], 3), "goal": "",
                     "unit": "ms", "met": None})
        if o["non2xx"]:
            print(f"warning: {o['non2xx']:.0f} non-2xx answers from ours at {conns} connections")
    drift = abs(exact["truth_likes"] - exact["counted_likes"]) + abs(exact["truth_dislikes"] - exact["counted_dislikes"])
    rows.append({"figure": "reactions stored on the hot comment (truth rows)",
                 "ours": exact["truth_likes"] + exact["truth_dislikes"], "baseline": None, "ratio": None,
                 "goal": "", "unit": "rows", "met": None})
    rows.append({"figure": "counter drift after the storm |sum(shards) - count(truth)|", "ours": drift,
                 "baseline": None, "ratio": None, "goal": "== 0", "unit": "reactions", "met": drift == 0})
    print_table(rows)
    write_result("reactions_hot", rows, command="python bench/reactions_hot.py " + " ".join(sys.argv[1:]),
                 notes="wrk -t2, every request a new reader id and X-Forwarded-For address; ours = "
                       "`moderation serve` (1 process, pool 10, synchronous_commit on) vs "
                       "bench/bare_insert_server.py (1 process, pool 10, one INSERT per request), same embedded "
                       "Postgres, one after the other; 2-core machine shared with wrk and Postgres. "
                       f"Exactness check: {exact}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
