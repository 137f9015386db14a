"""Cost growth of the review queue: page and keyword-search p99 with 10k vs 1M comments.

    .venv/bin/python bench/review_scale.py [--small 10000] [--large 1000000] [--iterations 200]

Two databases are filled with generated comments (bench/review_data.py: 5 % pending, Zipf-like
vocabulary), ``--small`` and ``--large``.  The same queries run through ``queue.list_queue`` (what
GET /v1/queue runs: one query for the page with its articles, parents and author histories, then the
JSON items) alternately on both, and their p99 is compared: goal p99(1M) <= 1.5 x p99(10k).
``EXPLAIN (ANALYZE, BUFFERS)`` of each query at both sizes goes to bench/results/review_plans.txt, to show
the indexes doing the work.

Informative rows beside the goal rows: a search whose answer is a short page at 10k and a full page at
1M is also timed at 1M with ``limit`` = the 10k answer size (equal answer size: what grows with the
data, not with the answer), and the write cost of the phrase index (``comments_bigrams_pending``) on
single-row inserts of pending comments, with vs without it.
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
from moderation.core.db import apply_schema, create_pool, schema_path
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


async def sample(calls: list[tuple[asyncpg.Connection, dict[str, Any]]], iterations: int,
                 budget_s: float) -> list[list[float]]:
    """Alternate list_queue(**kwargs) runs over ``calls`` (so all see the same noise); ms per run."""
    samples: list[list[float]] = [[] for _ in calls]
    stop_at = time.monotonic() + budget_s
    while len(samples[-1]) < iterations and time.monotonic() < stop_at:
        for i, (conn, kwargs) in enumerate(calls):
            t = time.perf_counter()
            await queue.list_queue(conn, **kwargs)
            samples[i].append((time.perf_counter() - t) * 1000)
    return samples


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.99))]


async def measure(small: asyncpg.Connection, large: asyncpg.Connection, iterations: int,
                  budget_s: float) -> dict[str, dict[str, float]]:
    """For each query, alternate runs on the small and the large database (so both see the same noise of a
    shared machine) and return p50/p99 per query and size.  When the small database returns a shorter
    (non-empty) page, the large one is timed again with ``limit`` = that size: cost at equal answer size."""
    out: dict[str, dict[str, float]] = {}
    for name, spec in QUERIES.items():
        calls = []
        for conn in (small, large):
            kwargs = {k: v for k, v in spec.items() if k != "deep"}
            if "deep" in spec:
                kwargs["cursor"] = await cursor_for(conn, spec["deep"])
            calls.append((conn, {**kwargs, "limit": 50}))
        returned = [0, 0]
        for _ in range(20):   # warm: plans cached, pages in shared buffers
            for i, (conn, kwargs) in enumerate(calls):
                items, _ = await queue.list_queue(conn, **kwargs)
                returned[i] = len(items)
        samples = await sample(calls, iterations, budget_s)
        stats = {}
        for label, xs in zip(("small", "large"), samples, strict=True):
            stats[f"{label}_p50"], stats[f"{label}_p99"] = percentiles(xs)
        stats["small_items"], stats["large_items"] = returned
        line = (f"  {name:46} p50 {stats['small_p50']:6.2f} → {stats['large_p50']:6.2f} ms   "
                f"p99 {stats['small_p99']:6.2f} → {stats['large_p99']:6.2f} ms  (n={len(samples[1])}, "
                f"items {returned[0]} → {returned[1]})")
        if 0 < returned[0] < returned[1]:
            same = [calls[0], (calls[1][0], {**calls[1][1], "limit": returned[0]})]
            for _ in range(10):
                for conn, kwargs in same:
                    await queue.list_queue(conn, **kwargs)
            eq = await sample(same, iterations, budget_s / 2)
            stats["eq_small_p50"], stats["eq_small_p99"] = percentiles(eq[0])
            stats["eq_large_p50"], stats["eq_large_p99"] = percentiles(eq[1])
            line += (f"\n  {'  same answer size (1M limit=' + str(returned[0]) + ')':46} p50 "
                     f"{stats['eq_small_p50']:6.2f} → {stats['eq_large_p50']:6.2f} ms   p99 "
                     f"{stats['eq_small_p99']:6.2f} → {stats['eq_large_p99']:6.2f} ms")
        out[name] = stats
        print(line, flush=True)
    return out


WRITE = """INSERT INTO comments (external_id, article_id, author_id, author_name, text, fingerprint, status,
                                     spam_score, abuse_score, created_at)
           VALUES ($1, 'art-1', $2, 'Writer', $3, md5($1), 'pending', 0.7, 0.1, now())"""


async def write_cost(conn: asyncpg.Connection, rounds: int = 4, rows: int = 300) -> tuple[float, float]:
    """Median µs per single-row INSERT of a pending comment with vs without comments_bigrams_pending
    (synchronous_commit off: the CPU of the statement, not the disk flush).  Rows are removed afterwards and
    the index is left in place."""
    import random

    rnd = random.Random(3)
    texts = [" ".join(rnd.choice(VOCAB[:400]) for _ in range(8 + i % 8)) for i in range(rows)]
    index_sql = next(stmt for stmt in schema_path().read_text().split(";")
                     if "INDEX IF NOT EXISTS comments_bigrams_pending" in stmt)
    per: dict[bool, list[float]] = {True: [], False: []}
    await conn.execute("SET synchronous_commit = off")
    try:
        for r in range(rounds):
            for with_index in (True, False):
                await conn.execute("DROP INDEX IF EXISTS comments_bigrams_pending")
                if with_index:
                    await conn.execute(index_sql)
                xs = []
                for i, text in enumerate(texts):
                    t = time.perf_counter()
                    await conn.execute(WRITE, f"bench-write-{r}-{with_index}-{i}", f"reader-{i}", text)
                    xs.append((time.perf_counter() - t) * 1e6)
                per[with_index].append(statistics.median(xs))
                await conn.execute("DELETE FROM comments WHERE external_id LIKE 'bench-write-%'")
    finally:
        await conn.execute(index_sql)
        await conn.execute("RESET synchronous_commit")
    return statistics.median(per[True]), statistics.median(per[False])


class _Explaining:
    """Stands in for the connection: runs EXPLAIN (ANALYZE, BUFFERS) of each page query before running it."""

    def __init__(self, conn: asyncpg.Connection, out: list[str]) -> None:
        self.conn, self.out = conn, out
        self.summary = ""

    async def fetch(self, sql: str, *args: Any, **kw: Any) -> Any:
        if "FROM (SELECT c.id" in sql:
            plan = [r[0] for r in await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)]
            self.out.append(sql[sql.index("FROM (SELECT c.id"):].strip())
            self.out.append("\n".join(plan))
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
        if (node and (rows or "heapsort" in line) and "articles" not in line and "_external_id_" not in line
                and "author_status" not in line):
            nodes.append(node[1] + (f" rows={rows[1]}" if rows else ""))
        elif line.strip().startswith("Heap Blocks:"):
            nodes.append(line.strip())
    buffers = next((m[1] for line in plan if (m := re.search(r"Buffers: shared hit=(\d+)", line))), "?")
    elapsed = next((line.split(": ")[1] for line in plan if line.startswith("Execution Time")), "?")
    return f"{' → '.join(nodes)}; buffers {buffers}; {elapsed}"


async def explain_all(conn: asyncpg.Connection, label: str) -> tuple[str, dict[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the query list_queue runs, for every query; and a one-line summary of
    each plan."""
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
            write_with, write_without = await write_cost(small)
            print(f"  insert one pending comment: {write_with:.0f} µs with comments_bigrams_pending, "
                  f"{write_without:.0f} µs without", flush=True)
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
    for name, st in stats.items():
        if "eq_large_p99" in st:
            rows.append({"figure": f"{name} p99 at equal answer size: {opts.large:,} with limit={st['small_items']} "
                                   f"vs {opts.small:,} ({st['small_items']} items each)",
                         "ours": round(st["eq_large_p99"], 2), "baseline": round(st["eq_small_p99"], 2),
                         "ratio": round(st["eq_large_p99"] / st["eq_small_p99"], 2), "goal": "(informative)",
                         "unit": "ms", "met": None})
    rows.append({"figure": "insert one pending comment (single-row INSERT, synchronous_commit off): with "
                           "comments_bigrams_pending (ours) vs without (baseline)",
                 "ours": round(write_with, 1), "baseline": round(write_without, 1),
                 "ratio": round(write_with / write_without, 2), "goal": "(informative: phrase-index write cost)",
                 "unit": "µs", "met": None})
    rows.append({"figure": f"generate {opts.large:,} comments (insert + index build + vacuum analyze)",
                 "ours": round(gen_s, 1), "baseline": None, "ratio": None, "goal": "<= 120 s", "unit": "s",
                 "met": gen_s <= 120})
    print_table(rows)
    notes = (f"Latency of queue.list_queue (one query: the page with its articles, parents and author histories; "
             "then the JSON items; limit 50) — what "
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
                  "short page there (fewer items to join, count author histories for and decode) and a full "
                  "page at 1M, so the work is not the same (the 'equal answer size' rows time the 1M database "
                  "with limit = the 10k answer size); and a search whose match set "
                  "grows with the data pays O(matches) in the bitmap heap scan + top-N sort — for an exact "
                  "phrase, the matches of its adjacent word pairs (comments_bigrams_pending), each rechecked "
                  "on the heap. ")
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
