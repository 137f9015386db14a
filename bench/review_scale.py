"""Cost growth of the review queue: page and keyword-search p99 with 10k vs 1M comments.

    .venv/bin/python bench/review_scale.py [--small 10000] [--large 1000000] [--iterations 200]

Two databases are filled with generated comments (bench/review_data.py: 5 % pending, Zipf-like
vocabulary), ``--small`` and ``--large``.  The same queries run through ``queue.list_queue`` (what
GET /v1/queue runs: the page query plus the author-history query and the JSON items) alternately on both,
and their p99 is compared: goal p99(1M) <= 1.5 x p99(10k).  ``EXPLAIN (ANALYZE, BUFFERS)`` of
each query at both sizes goes to bench/results/review_plans.txt, to show the indexes doing the work.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench._common import RESULTS, BenchPostgres, print_table, write_result
from bench.review_data import VOCAB, bulk_generate
from moderation.db import apply_schema, create_pool
from moderation.review import queue

# name -> list_queue keyword arguments (a "deep" page gets its cursor at run time)
QUERIES: dict[str, dict[str, Any]] = {
    "queue page 1 (risk order)": {},
    "queue page 6 (keyset cursor)": {"deep": 5},
    "queue page 1 (age order)": {"order": "age"},
    "search, common word": {"q": VOCAB[1]},
    "search, 1 % word": {"q": VOCAB[100]},
    "search, rare word": {"q": VOCAB[1500]},
    "search, two words": {"q": f"{VOCAB[2]} {VOCAB[40]}"},
    "search, exact phrase (rare)": {"q": f'"{VOCAB[30]} {VOCAB[60]}"'},
    "search, exact phrase (two most common words)": {"q": f'"{VOCAB[0]} {VOCAB[1]}"'},
}


async def cursor_for(conn: asyncpg.Connection, pages: int) -> str | None:
    cursor = None
    for _ in range(pages):
        _, cursor = await queue.list_queue(conn, limit=50, cursor=cursor)
    return cursor


async def measure(small: asyncpg.Connection, large: asyncpg.Connection, iterations: int,
                  budget_s: float) -> dict[str, dict[str, float]]:
    """For each query, alternate runs on the small and the large database (so both see the same noise of a
    shared machine) and return p50/p99 per query and size."""
    out: dict[str, dict[str, float]] = {}
    for name, spec in QUERIES.items():
        calls = []
        for conn in (small, large):
            kwargs = {k: v for k, v in spec.items() if k != "deep"}
            if "deep" in spec:
                kwargs["cursor"] = await cursor_for(conn, spec["deep"])
            calls.append((conn, kwargs))
        returned = [0, 0]
        for _ in range(20):   # warm: plans cached, pages in shared buffers
            for i, (conn, kwargs) in enumerate(calls):
                items, _ = await queue.list_queue(conn, limit=50, **kwargs)
                returned[i] = len(items)
        samples: list[list[float]] = [[], []]
        stop_at = time.monotonic() + budget_s
        while len(samples[1]) < iterations and time.monotonic() < stop_at:
            for i, (conn, kwargs) in enumerate(calls):
                t = time.perf_counter()
                await queue.list_queue(conn, limit=50, **kwargs)
                samples[i].append((time.perf_counter() - t) * 1000)
        stats = {}
        for label, xs in zip(("small", "large"), samples, strict=True):
            xs.sort()
            stats[f"{label}_p50"] = statistics.median(xs)
            stats[f"{label}_p99"] = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
        stats["small_items"], stats["large_items"] = returned
        out[name] = stats
        print(f"  {name:46} p50 {stats['small_p50']:6.2f} → {stats['large_p50']:6.2f} ms   "
              f"p99 {stats['small_p99']:6.2f} → {stats['large_p99']:6.2f} ms  (n={len(samples[1])}, "
              f"items {returned[0]} → {returned[1]})", flush=True)
    return out


class _Explaining:
    """Stands in for the connection: runs EXPLAIN (ANALYZE, BUFFERS) of each page query before running it."""

    def __init__(self, conn: asyncpg.Connection, out: list[str]) -> None:
        self.conn, self.out = conn, out
        self.summary = ""

    async def fetch(self, sql: str, *args: Any, **kw: Any) -> Any:
        if "FROM (SELECT c.* FROM comments c" in sql or "author_id = ANY" in sql:
            plan = [r[0] for r in await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)]
            self.out.append(sql.split("FROM ", 1)[1].strip())
            self.out.append("\n".join(plan))
            if "FROM (SELECT c.* FROM comments c" in sql:
                self.summary = summarize(plan)
        return await self.conn.fetch(sql, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def summarize(plan: list[str]) -> str:
    """The page query's plan in one line: index nodes with their actual rows, heap blocks, total buffers
    and execution time (what the JSON notes quote for figures that miss the goal)."""
    nodes = []
    for line in plan:
        node = re.search(r"((?:Bitmap )?Index (?:Only )?Scan(?: Backward)? (?:using|on) \w+|Seq Scan on \w+|"
                         r"Bitmap Heap Scan on \w+|top-N heapsort)", line)
        rows = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+)", line)
        if node and (rows or "heapsort" in line) and "articles" not in line and "_external_id_" not in line:
            nodes.append(node[1] + (f" rows={rows[1]}" if rows else ""))
        elif line.strip().startswith("Heap Blocks:"):
            nodes.append(line.strip())
    buffers = next((m[1] for line in plan if (m := re.search(r"Buffers: shared hit=(\d+)", line))), "?")
    elapsed = next((line.split(": ")[1] for line in plan if line.startswith("Execution Time")), "?")
    return f"{' → '.join(nodes)}; buffers {buffers}; {elapsed}"


async def explain_all(conn: asyncpg.Connection, label: str) -> tuple[str, dict[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of both queries list_queue runs (page, author history), for every query;
    and a one-line summary of each page query's plan."""
    out = [f"==================== {label} ===================="]
    summaries = {}
    for name, spec in QUERIES.items():
        kwargs = {k: v for k, v in spec.items() if k != "deep"}
        if "deep" in spec:
            kwargs["cursor"] = await cursor_for(conn, spec["deep"])
        out.append(f"\n--- {name}: list_queue({kwargs}) ---")
        explaining = _Explaining(conn, out)
        await queue.list_queue(explaining, limit=50, **kwargs)  # type: ignore[arg-type]
        summaries[name] = explaining.summary
    return "\n".join(out) + "\n", summaries


def main(opts: argparse.Namespace) -> int:
    pg = BenchPostgres()
    try:
        small = pg.create_database("bench_review_scale_small")
        large = pg.create_database("bench_review_scale_large")
        return asyncio.run(run(small, large, opts))
    finally:
        pg.stop()


async def run(small_dsn: str, large_dsn: str, opts: argparse.Namespace) -> int:
    gen_s = 0.0
    for dsn, size in ((small_dsn, opts.small), (large_dsn, opts.large)):
        conn = await asyncpg.connect(dsn)
        await apply_schema(conn)
        t = time.monotonic()
        await bulk_generate(conn, 0, size, pending_fraction=0.05)
        gen_s = time.monotonic() - t
        counts = {r["status"]: r["n"]
                  for r in await conn.fetch("SELECT status, count(*) AS n FROM comments GROUP BY 1")}
        await conn.execute("CHECKPOINT")   # don't measure while the load's dirty pages are being written out
        await conn.close()
        print(f"generated {size:,} comments in {gen_s:.1f} s: {counts}", flush=True)

    pools = [await create_pool(dsn, size=1) for dsn in (small_dsn, large_dsn)]   # the app's connection setup
    try:
        async with pools[0].acquire() as small, pools[1].acquire() as large:
            stats = await measure(small, large, opts.iterations, opts.budget)
            small_plans, small_sum = await explain_all(small, f"{opts.small:,} comments")
            large_plans, large_sum = await explain_all(large, f"{opts.large:,} comments")
            plans = small_plans + "\n" + large_plans
    finally:
        for pool in pools:
            await pool.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "review_plans.txt").write_text(plans)

    rows = []
    for name, st in stats.items():
        ratio = st["large_p99"] / st["small_p99"]
        rows.append({"figure": f"{name} p99: {opts.large:,} (ours) vs {opts.small:,} (baseline) comments "
                               f"(items per page {st['large_items']} vs {st['small_items']})",
                     "ours": round(st["large_p99"], 2), "baseline": round(st["small_p99"], 2),
                     "ratio": round(ratio, 2), "goal": "<= 1.5x", "unit": "ms", "met": ratio <= 1.5})
    for name, st in stats.items():
        rows.append({"figure": f"{name} p50: {opts.large:,} vs {opts.small:,} comments",
                     "ours": round(st["large_p50"], 2), "baseline": round(st["small_p50"], 2),
                     "ratio": round(st["large_p50"] / st["small_p50"], 2), "goal": "(informative)", "unit": "ms",
                     "met": None})
    rows.append({"figure": f"generate {opts.large:,} comments (insert + index build + vacuum analyze)",
                 "ours": round(gen_s, 1), "baseline": None, "ratio": None, "goal": "<= 120 s", "unit": "s",
                 "met": gen_s <= 120})
    print_table(rows)
    notes = (f"Latency of queue.list_queue (page query + author-history query + JSON items, limit 50) — what "
             f"GET /v1/queue runs — on a {opts.small:,}- and a {opts.large:,}-comment database (5 % pending), "
             f"runs alternating between the two so both see the same machine noise; up to {opts.iterations} "
             "runs per query and size (the 2 cores are shared with other engineers' jobs: p99 carries their "
             "noise, the p50 rows show the same trend). Both databases hold the SAME generated distribution "
             "and run the SAME queries; 'items per page' says how many results each size has. Full plans: "
             "bench/results/review_plans.txt.")
    noisy = [name for name, st in stats.items()
             if st["large_p99"] / st["small_p99"] <= 1.5 < st["large_p50"] / st["small_p50"]]
    if noisy:
        notes += (f" Caution: {', '.join(noisy)} meet the goal on p99 in this run while their p50 ratio is above "
                  "1.5: do not count them as met on the strength of a p99 inflated by the shared machine's hiccups "
                  "(the plans below say whether the work differs).")
    misses = [(name, st) for name, st in stats.items()
              if max(st["large_p99"] / st["small_p99"], st["large_p50"] / st["small_p50"]) > 1.5]
    if misses:
        notes += (" Ratios above 1.5 (p99 or p50), with EXPLAIN (ANALYZE, BUFFERS) of the page query, small → "
                  "large. Where both sizes return 50 items and read about the same buffers, the gap is machine "
                  "noise. Otherwise: a term that matches fewer pending comments than a page at 10k returns a "
                  "short page there (no items to join, no author histories, one round trip less) and a full "
                  "page at 1M, so the work is not the same; and a search whose match set grows with the data "
                  "pays O(matches) in the bitmap heap scan + top-N sort — for a phrase, every comment holding "
                  "both words is rechecked on the heap, since GIN stores no word positions. ")
        notes += " | ".join(f"{name}: {st['small_items']} → {st['large_items']} items; {small_sum.get(name, '?')} "
                            f"→ {large_sum.get(name, '?')}" for name, st in misses)
    path = write_result("review_scale", rows, command="python " + " ".join(sys.argv), notes=notes)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--budget", type=float, default=8.0, help="max seconds per query (both sizes)")
    raise SystemExit(main(parser.parse_args()))
