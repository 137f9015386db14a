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
import statistics
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
HEALTHZ_SCRIPT = ROOT / "bench" / "reactions_healthz.lua"
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


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/ours rounds per connection count")
    opts = parser.parse_args()
    pg = BenchPostgres()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reactions-"))
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    rows = []
    try:
        bare_dsn = pg.create_database("bench_reactions_bare")
        bare_port = free_port()
        bare = start_server([PYTHON, "bench/bare_insert_server.py", str(bare_port)], {"DATABASE_URL": bare_dsn},
                            f"http://127.0.0.1:{bare_port}/healthz")
        dsn = pg.create_database("bench_reactions_ours")
        port = free_port()
        try:
            ours = start_server([PYTHON, "-m", "moderation", "serve", "--port", str(port)],
                                {"DATABASE_URL": dsn, "MODERATION_WEBHOOK_SECRET": SECRET,
                                 "MODERATION_DATA_DIR": str(tmp / "data"), "MODERATION_MAX_CONCURRENCY": "100000",
                                 "MODERATION_TRUSTED_PROXY_HEADER": "X-Forwarded-For",
                                 "MODERATION_LOG_JSON": "false"},
                                f"http://127.0.0.1:{port}/readyz")
        except Exception:
            stop_server(bare)
            raise
        try:
            comment_id = asyncio.run(seed_hot_comment(dsn))
            targets = {"bare": (f"http://127.0.0.1:{bare_port}", "/insert", "POST"),
                       "ours": (f"http://127.0.0.1:{port}", f"/v1/comments/{comment_id}/reaction", "PUT")}

            def run(which: str, conns: int, seconds: int, tag: str) -> dict[str, float]:
                url, path, method = targets[which]
                os.environ.update({"BENCH_PATH": path, "BENCH_METHOD": method, "BENCH_TAG": tag})
                return run_wrk(url, SCRIPT, connections=conns, seconds=seconds)

            for which in targets:  # warm-up: connections, prepared statements, plan caches
                run(which, 16, 2, "warm")
            # The machine is shared and noisy: alternate short runs of both and compare medians.
            for conns in CONNECTIONS:
                for i in range(opts.rounds):
                    for which in ("bare", "ours"):
                        runs.setdefault((which, conns), []).append(run(which, conns, opts.seconds, f"c{conns}r{i}"))
            exact = asyncio.run(exactness(dsn, comment_id))
            # The floor: what each server's HTTP stack costs with no database work (GET /healthz).
            floor = {which: run_wrk(targets[which][0] + "/healthz", HEALTHZ_SCRIPT, connections=16,
                                    seconds=opts.seconds) for which in targets}
        finally:
            stop_server(ours)
            stop_server(bare)
    finally:
        pg.stop()

    for conns in CONNECTIONS:
        o_runs, b_runs = runs[("ours", conns)], runs[("bare", conns)]
        o_rps, b_rps = median([r["rps"] for r in o_runs]), median([r["rps"] for r in b_runs])
        ratio = median([o["rps"] / b["rps"] for o, b in zip(o_runs, b_runs, strict=True)])
        rows.append({"figure": f"reactions/s on one hot comment, {conns} connections (median of {opts.rounds})",
                     "ours": round(o_rps, 1), "baseline": round(b_rps, 1), "ratio": round(ratio, 3),
                     "goal": ">= 0.5x", "unit": "req/s", "met": ratio >= 0.5})
        o_p99, b_p99 = median([r["p99_ms"] for r in o_runs]), median([r["p99_ms"] for r in b_runs])
        rows.append({"figure": f"reaction p99, {conns} connections", "ours": round(o_p99, 2),
                     "baseline": round(b_p99, 2), "ratio": round(o_p99 / b_p99, 3), "goal": "", "unit": "ms",
                     "met": None})
        non2xx = sum(r["non2xx"] for r in o_runs)
        if non2xx:
            print(f"warning: {non2xx:.0f} non-2xx answers from ours at {conns} connections")
    f_ratio = floor["ours"]["rps"] / floor["bare"]["rps"]
    rows.append({"figure": "context: GET /healthz req/s, 16 connections (HTTP stack, no database)",
                 "ours": round(floor["ours"]["rps"], 1), "baseline": round(floor["bare"]["rps"], 1),
                 "ratio": round(f_ratio, 3), "goal": "", "unit": "req/s", "met": None})
    drift = (abs(exact["truth_likes"] - exact["counted_likes"])
             + abs(exact["truth_dislikes"] - exact["counted_dislikes"]))
    rows.append({"figure": "reactions stored on the hot comment (truth rows)",
                 "ours": exact["truth_likes"] + exact["truth_dislikes"], "baseline": None, "ratio": None,
                 "goal": "", "unit": "rows", "met": None})
    rows.append({"figure": "counter drift after the storm |sum(shards) - count(truth)|", "ours": drift,
                 "baseline": None, "ratio": None, "goal": "== 0", "unit": "reactions", "met": drift == 0})
    print_table(rows)
    write_result("reactions_hot", rows, command="python bench/reactions_hot.py " + " ".join(sys.argv[1:]),
                 notes="wrk -t2, every request a new reader id and X-Forwarded-For address; ours = "
                       "`moderation serve` (1 process, pool 10, synchronous_commit on, access log on) vs "
                       "bench/bare_insert_server.py (1 process, pool 10, one INSERT per request, no access log), "
                       "same embedded Postgres, short runs alternated and medians compared; 2-core machine "
                       f"shared with wrk, Postgres and other work. Exactness check: {exact}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
