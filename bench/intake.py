"""Intake throughput and latency: our signed webhook vs a bare aiohttp+asyncpg INSERT endpoint, same run.

    .venv/bin/python bench/intake.py [--seconds 5] [--rounds 3] [--workers 1 2]

The servers run side by side as separate processes against the same Postgres; wrk (Debian package) drives
each with pre-signed, unique comment.created requests at 8 and 32 connections, alternating bare and ours
in rounds (the machine is noisy: figures are medians).  Each run also records the CPU each process spent
per stored comment (service / model worker / Postgres).  Goals (issue 3): our throughput >= 0.6x the bare
endpoint's, and our p99 at 8 connections <= 3x its p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
from moderation.core.config import parse_webhook_secret
from moderation.core.webhooks import sign

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


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, int, str]]:
    """Every live process: pid -> (parent pid, utime+stime ticks, cmdline)."""
    procs: dict[int, tuple[int, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        procs[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), cmdline)
    return procs


def _descendants(procs: dict[int, tuple[int, int, str]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def cpu_ticks(server_pid: int, postmaster_pid: int | None) -> dict[str, int]:
    """CPU ticks so far, split: the service process(es), the model's worker processes (everything the
    service started through multiprocessing's forkserver), and every process of the Postgres cluster."""
    procs = _processes()
    split = {"service": 0, "model": 0, "postgres": 0}
    model: set[int] = set()
    for pid in _descendants(procs, server_pid):
        ppid, ticks, cmdline = procs[pid]
        if "forkserver" in cmdline or ppid in model:
            model.add(pid)
            split["model"] += ticks
        elif "resource_tracker" not in cmdline:
            split["service"] += ticks
    if postmaster_pid is not None:
        split["postgres"] = sum(procs[pid][1] for pid in _descendants(procs, postmaster_pid))
    return split


def cpu_ms_per_row(before: dict[str, int], after: dict[str, int], rows: int) -> dict[str, float]:
    """Ticks spent between two cpu_ticks() snapshots, as CPU milliseconds per stored row.

    A process that exited in between loses its ticks (Postgres backends of a pool live for the run)."""
    return {k: (after[k] - before.get(k, 0)) * 1000 / CLK_TCK / max(rows, 1) for k in after}


async def _count(dsn: str, sql: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def _store_rows(tag: str, n: int, first_id: int) -> list[tuple[Any, ...]]:
    """Argument tuples as intake hands them to its group commit (see moderation.intake.webhook._create_or_update)."""
    from datetime import UTC, datetime

    rng = random.Random(11)
    reasons = json.dumps([{"code": "clean", "message": "published: spam 0.03, abuse 0.01 below thresholds"}])
    rows = []
    for i in range(n):
        text = f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)}.{rng.choice(ENDS)} #{i}"
        status = "pending" if i % 6 == 5 else "approved"  # some held comments: the partial indexes see them
        response = json.dumps({"comment": {"id": first_id + i, "external_id": f"{tag}-{i}", "status": status}})
        rows.append((f"msg_{tag}_{i}", response, first_id + i, f"{tag}-{i}", f"art-{i % 50}",
                     f"https://news.example/{i % 50}", None, None, f"reader-{i % 997}", f"Reader {i % 997}", None,
                     f"{i % 250:064x}", text, f"{rng.getrandbits(160):040x}", status, 0.03, 0.01, "bench",
                     reasons, "clean", '{"spam_hold": 0.5}', datetime.now(UTC), "en",
                     '{"toxicity": 0.01, "spam": 0.03}', None, False))
    return rows


def _is_file(path: Path) -> bool:
    return path.is_file()


async def _index_costs(dsn: str, *, rows: int = 5000, batch: int = 8, repeats: int = 3) -> list[tuple[str, float]]:
    """What each secondary index of ``comments`` costs intake's group commit: the CPU of the Postgres backend
    running ``intake_store_batch`` (batches of ``batch``) per comment, with every index and without that one
    (dropped and re-created on this scratch database only), alternated ``repeats`` times; the cost is the
    difference of the medians.  GIN pending lists are flushed inside each timed run, so the deferred work of
    ``fastupdate`` is counted.  Returns (what, ms CPU per comment) pairs, the first for the whole write."""
    import asyncpg

    from moderation.core.db import _init_connection, apply_schema
    from moderation.core.sql import Q
    from moderation.intake.group_commit import store_columns

    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    await apply_schema(conn)
    backend = Path(f"/proc/{await conn.fetchval('SELECT pg_backend_pid()')}/stat")
    if not _is_file(backend):  # a DATABASE_URL on another machine: its backends' CPU is not ours to read
        print("index costs: the Postgres backend is not a local process; skipped")
        await conn.close()
        return []
    indexes = [(r["indexname"], r["indexdef"]) for r in await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = 'comments' AND NOT x.indisunique "
        "ORDER BY i.indexname")]
    runs = 0

    def ticks() -> int:
        fields = backend.read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    async def measure() -> float:
        nonlocal runs
        runs += 1
        first = int(await conn.fetchval("SELECT nextval(pg_get_serial_sequence('comments', 'id'))")) + 1
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('comments', 'id'), {first + rows})")
        data = _store_rows(f"ix{runs}", rows, first)
        await conn.fetch(Q.intake_store_batch, *store_columns(data[:batch]))  # plan cached, pages warm
        before = ticks()
        for i in range(batch, rows, batch):
            await conn.fetch(Q.intake_store_batch, *store_columns(data[i:i + batch]))
        for name, definition in indexes:
            if " USING gin " in definition and await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                await conn.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
        return (ticks() - before) * 1000 / CLK_TCK / (rows - batch)

    try:
        full: list[float] = []
        out: list[tuple[str, float]] = []
        for name, definition in indexes:
            with_, without = [], []
            for _ in range(repeats):
                with_.append(await measure())
                await conn.execute(f'DROP INDEX "{name}"')
                without.append(await measure())
                await conn.execute(definition)
            full += with_
            out.append((name, statistics.median(with_) - statistics.median(without)))
        with_, without = [], []
        for _ in range(repeats):
            with_.append(await measure())
        await conn.execute("ALTER TABLE comments DROP COLUMN search CASCADE")  # and every index built on it
        for _ in range(repeats):
            without.append(await measure())
        out.append(("the search column and every index on it",
                    statistics.median(with_) - statistics.median(without)))
        return [("the whole write, all indexes", statistics.median(full + with_)), *out]
    finally:
        await conn.close()


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-figure medians over the rounds (each figure on its own: the noise is per run)."""
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms", "non2xx", "stored",
                                                                                  "wrk_cpu_ms")}
    out["cpu"] = {k: statistics.median(r["cpu"][k] for r in runs) for k in runs[0]["cpu"]}
    out["rps_all"] = [round(r["rps"], 1) for r in runs]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="length of each timed wrk run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of (bare, ours...) runs, alternated; figures are the medians")
    parser.add_argument("--requests", type=int, default=None,
                        help="pre-signed requests per run file (default: 6000 per second of --seconds, so that wrk "
                             "does not wrap around into replays, which are cheap and would inflate our req/s)")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--index-costs", action="store_true",
                        help="also measure the Postgres CPU each secondary index of comments adds per comment "
                             "(~1.5 more minutes; 10 ms CPU ticks over 5000 comments: +-0.002 ms at best)")
    opts = parser.parse_args()
    if opts.requests is None:
        opts.requests = max(12_000, 6_000 * opts.seconds)

    pg = BenchPostgres()
    tmp = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    script = ROOT / "bench" / "wrk_requests.lua"
    rows = []
    pid_file = pg.embedded.pgdata / "postmaster.pid" if pg.embedded is not None else None

    def cpu(server_pid: int) -> dict[str, int]:
        postmaster = int(pid_file.read_text().split()[0]) if pid_file is not None else None
        return cpu_ticks(server_pid, postmaster)

    def timed(name: str, url: str, pid: int, dsn: str, table: str, conns: int, reqs: Path, path: str) -> dict:
        os.environ.update({"BENCH_REQUESTS": str(reqs), "BENCH_PATH": path})
        before, before_cpu = asyncio.run(_count(dsn, f"SELECT count(*) FROM {table}")), cpu(pid)
        r: dict[str, Any] = run_wrk(url, script, connections=conns, seconds=opts.seconds)
        after_cpu, after = cpu(pid), asyncio.run(_count(dsn, f"SELECT count(*) FROM {table}"))
        r["stored"] = after - before
        r["cpu"] = cpu_ms_per_row(before_cpu, after_cpu, after - before)
        print(f"  {name:8} {conns:2} conns: {r['rps']:8.1f} req/s  p99 {r['p99_ms']:7.2f} ms  "
              f"cpu/comment {', '.join(f'{k} {v:.3f}' for k, v in r['cpu'].items())}, wrk "
              f"{r['wrk_cpu_ms']:.3f} ms", flush=True)
        return r

    servers: list[Any] = []
    try:
        bare_dsn = pg.create_database("bench_bare")
        bare_port = free_port()
        bare = start_server([PYTHON, "bench/bare_insert_server.py", str(bare_port)], {"DATABASE_URL": bare_dsn},
                            f"http://127.0.0.1:{bare_port}/healthz")
        servers.append(bare)
        ours: dict[int, tuple[Any, int, str]] = {}
        for workers in opts.workers:
            dsn = pg.create_database(f"bench_ours_{workers}")
            port = free_port()
            args = [PYTHON, "-m", "moderation", "serve", "--port", str(port)]
            if workers > 1:
                args += ["--workers", str(workers)]
            proc = start_server(args, {"DATABASE_URL": dsn, "MODERATION_WEBHOOK_SECRET": SECRET,
                                       "MODERATION_DATA_DIR": str(tmp / "data"),
                                       "MODERATION_MAX_CONCURRENCY": "100000"},
                                f"http://127.0.0.1:{port}/readyz")
            servers.append(proc)
            ours[workers] = (proc, port, dsn)

        bare_reqs = tmp / "bare.tsv"
        make_requests(bare_reqs, opts.requests, "bare")  # the bare endpoint stores any body: ids may repeat
        runs: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
        for conns in (8, 32):  # warm-up: connections, statement caches, the model's first batches
            os.environ.update({"BENCH_REQUESTS": str(bare_reqs), "BENCH_PATH": "/insert"})
            run_wrk(f"http://127.0.0.1:{bare_port}", script, connections=conns, seconds=1)
            for workers, (_proc, port, _dsn) in ours.items():
                warm = tmp / f"warm-{workers}-{conns}.tsv"
                make_requests(warm, 3_000, f"warm{workers}c{conns}")
                os.environ.update({"BENCH_REQUESTS": str(warm), "BENCH_PATH": "/v1/webhooks/comments"})
                run_wrk(f"http://127.0.0.1:{port}", script, connections=conns, seconds=1)
        for rnd in range(opts.rounds):
            print(f"round {rnd + 1}/{opts.rounds}", flush=True)
            for conns in (8, 32):
                runs.setdefault(("bare", 1, conns), []).append(
                    timed("bare", f"http://127.0.0.1:{bare_port}", bare.pid, bare_dsn, "bare", conns, bare_reqs,
                          "/insert"))
                for workers, (proc, port, dsn) in ours.items():
                    reqs = tmp / f"ours-{workers}-{conns}.tsv"
                    make_requests(reqs, opts.requests, f"r{rnd}w{workers}c{conns}")  # fresh webhook-ids
                    runs.setdefault(("ours", workers, conns), []).append(
                        timed(f"ours w{workers}", f"http://127.0.0.1:{port}", proc.pid, dsn, "comments", conns,
                              reqs, "/v1/webhooks/comments"))
        results = {k: _median_run(v) for k, v in runs.items()}

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
                if ours_r["stored"] < 0.95 * ours_r["rps"] * opts.seconds:
                    sent = ours_r["rps"] * opts.seconds
                    print(f"warning: ours stored {ours_r['stored']:.0f} comments for {sent:.0f} requests at {conns} "
                          "connections: wrk wrapped around into replays (raise --requests)")
                oc, bc = ours_r["cpu"], bare_r["cpu"]
                for part, label in (("service", "service process(es)"), ("model", "model worker process(es)"),
                                    ("postgres", "Postgres")):
                    base = bc["service"] if part == "service" else (bc["postgres"] if part == "postgres" else None)
                    rows.append({"figure": f"CPU per comment: {label}, {conns} connections, {workers} worker(s)",
                                 "ours": round(oc[part], 3), "baseline": None if base is None else round(base, 3),
                                 "ratio": None if not base else round(oc[part] / base, 2), "goal": "",
                                 "unit": "ms CPU", "met": None})
                total, bare_total = sum(oc.values()), sum(bc.values())
                rows.append({"figure": f"CPU per comment: total, {conns} connections, {workers} worker(s)",
                             "ours": round(total, 3), "baseline": round(bare_total, 3),
                             "ratio": round(total / bare_total, 2) if bare_total else None, "goal": "",
                             "unit": "ms CPU", "met": None})
                # The CPU budget.  The bare endpoint keeps both cores busy (its processes + wrk), so on this
                # machine req/s can at best follow CPU per request, wrk's included.  Our request does the bare
                # endpoint's work (HTTP, JSON, a durable INSERT) plus the model's; so even if signature,
                # validation, decision and indexes cost nothing, the ratio could not pass
                # (bare + wrk) / (bare + wrk + model).
                wrk_bare, wrk_ours = bare_r["wrk_cpu_ms"], ours_r["wrk_cpu_ms"]
                rows.append({"figure": f"cores busy (servers + model + Postgres + wrk), {conns} connections, "
                                       f"{workers} worker(s)",
                             "ours": round((total + wrk_ours) * ours_r["rps"] / 1000, 2),
                             "baseline": round((bare_total + wrk_bare) * bare_r["rps"] / 1000, 2), "ratio": None,
                             "goal": "(of 2)", "unit": "cores", "met": None})
                rows.append({"figure": f"req/s ratio the CPU allows: (bare + wrk) / (ours + wrk) CPU per request, "
                                       f"{conns} connections, {workers} worker(s)",
                             "ours": round((bare_total + wrk_bare) / (total + wrk_ours), 3), "baseline": None,
                             "ratio": None, "goal": "(informative)", "unit": "x", "met": None})
                ceiling = (bare_total + wrk_bare) / (bare_total + wrk_bare + oc["model"])
                rows.append({"figure": f"req/s ratio ceiling if all but the model were free: (bare + wrk) / "
                                       f"(bare + wrk + model) CPU, {conns} connections, {workers} worker(s)",
                             "ours": round(ceiling, 3), "baseline": None,
                             "ratio": None, "goal": "(informative: >= 0.6 needed for the goal to be reachable)",
                             "unit": "x", "met": None})
                # Every request carried a fresh webhook-id unless wrk wrapped around the file.
                rows.append({"figure": f"comments stored per {opts.seconds} s run, {conns} connections, "
                                       f"{workers} worker(s) (median)",
                             "ours": int(ours_r["stored"]), "baseline": None, "ratio": None, "goal": "",
                             "unit": "rows", "met": None})
        spread = "; ".join(f"{who} w{w} c{c}: {results[(who, w, c)]['rps_all']}" for who, w, c in sorted(results))
        if opts.index_costs:
            for server in servers:  # the servers are done: measure on a quieter machine
                stop_server(server)
            servers.clear()
            costs = asyncio.run(_index_costs(pg.create_database("bench_index_costs")))
            print("Postgres backend CPU per comment written by intake_store_batch (batches of 8):")
            for what, ms in costs:
                print(f"  {what:60} {ms:.4f} ms")
            for j, (what, ms) in enumerate(costs):
                rows.append({"figure": "Postgres CPU per comment written (intake_store_batch, batches of 8): "
                                       + (what if j == 0 else f"cost of {what}"),
                             "ours": round(ms, 4), "baseline": None, "ratio": None, "goal": "", "unit": "ms CPU",
                             "met": None})
    finally:
        for proc in servers:
            stop_server(proc)
        pg.stop()
    print_table(rows)
    print("req/s per round:", spread)
    write_result("intake", rows, command="python bench/intake.py " + " ".join(sys.argv[1:]),
                 notes=f"wrk -t2 with pre-signed unique comment.created requests; all servers run side by side "
                       f"(separate processes, same embedded Postgres) and the timed runs alternate bare / ours "
                       f"in {opts.rounds} rounds of {opts.seconds} s; every figure is the median over the rounds "
                       f"(req/s per round: {spread}). Machine: 2 cores shared with wrk and other work, so "
                       "compare ratios. CPU per comment: utime+stime deltas from /proc/<pid>/stat over each timed "
                       "run divided by the rows stored; 'service' = the aiohttp process(es) (baseline: the bare "
                       "server), 'model' = the scoring worker process(es) started through multiprocessing's "
                       "forkserver, 'Postgres' = every process of the cluster (backends, WAL writer, "
                       "checkpointer...). wrk's own CPU per request (getrusage of the finished wrk child / "
                       "requests completed) enters the CPU-budget rows: 'cores busy' = (CPU per request incl. wrk) "
                       "x req/s; 'ratio the CPU allows' = (bare + wrk) / (ours + wrk) CPU per request, what a "
                       "CPU-bound machine would give; 'ceiling if all but the model were free' = (bare + wrk) / "
                       "(bare + wrk + model): our request does the bare endpoint's work plus the classifier's, so "
                       "below 0.6 there the goal is out of reach whatever the rest costs (docs/intake.md, 'The CPU "
                       "budget').")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
