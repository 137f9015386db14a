"""Start-up time with and without pending migrations; what a no-op start's migration check adds.

Same-run baselines, interleaved rounds (this machine is shared and noisy):
- the no-op check (``migrate_dsn`` on an up-to-date database: connect, read ``schema_migrations``) against
  the bare minimum any start does with a database (connect, ``SELECT 1``, close); goal: adds < 50 ms;
- migrating a fresh (empty) database, and a database made by the last release before migrations (stop 12),
  against the same no-op check;
- ``moderation serve`` from exec to ``/readyz`` 200 on a fresh database (every migration pending) and on an
  up-to-date one.

    .venv/bin/python bench/startup_migrations.py [--rounds 15] [--serve-rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from _common import PYTHON, ROOT, BenchPostgres, free_port, print_table, stop_server, wait_http, write_result

sys.path.insert(0, str(ROOT))


async def _timed(coro_fn, *args) -> float:
    started = time.perf_counter()
    await coro_fn(*args)
    return (time.perf_counter() - started) * 1000


async def _bare(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _release(dsn: str) -> None:
    from tests.migration_support import install_release

    await install_release(dsn, "stop12-98ccdb9")


def _serve_once(dsn: str, data_dir: Path) -> float:
    import subprocess

    port = free_port()
    env = {"DATABASE_URL": dsn, "MODERATION_PORT": str(port), "MODERATION_DATA_DIR": str(data_dir),
           "MODERATION_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    import os

    started = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "moderation", "serve"], env={**os.environ, **env}, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", timeout=180)
        return time.perf_counter() - started
    finally:
        stop_server(proc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--serve-rounds", type=int, default=3)
    opts = parser.parse_args()
    from moderation.core import migrations

    pg = BenchPostgres()
    try:
        current = pg.create_database("bench_startup_current")
        asyncio.run(migrations.migrate_dsn(current))
        bare, noop, fresh, upgrade = [], [], [], []
        for i in range(opts.rounds):  # interleaved: each round measures every case once
            bare.append(asyncio.run(_timed(_bare, current)))
            noop.append(asyncio.run(_timed(migrations.migrate_dsn, current)))
            empty = pg.create_database(f"bench_startup_fresh_{i % 2}")
            fresh.append(asyncio.run(_timed(migrations.migrate_dsn, empty)))
            old = pg.create_database(f"bench_startup_old_{i % 2}")
            asyncio.run(_release(old))
            upgrade.append(asyncio.run(_timed(migrations.migrate_dsn, old)))
        serve_current, serve_fresh = [], []
        data = Path(__import__("tempfile").mkdtemp(prefix="bench-startup-"))
        for i in range(opts.serve_rounds):
            serve_current.append(_serve_once(current, data / f"c{i}"))
            serve_fresh.append(_serve_once(pg.create_database(f"bench_startup_serve_{i}"), data / f"f{i}"))
    finally:
        pg.stop()

    med = statistics.median
    added = med(noop) - med(bare)
    rows = [
        {"figure": "no-op start's migration check (connect, read schema_migrations), p50", "ours": med(noop),
         "baseline": med(bare), "ratio": med(noop) / med(bare), "goal": "adds < 50 ms", "met": added < 50,
         "unit": "ms (baseline: connect + SELECT 1)"},
        {"figure": "added by the no-op check, p50 difference", "ours": added, "baseline": None, "ratio": None,
         "goal": "< 50 ms", "met": added < 50, "unit": "ms"},
        {"figure": f"fresh install: all {len(migrations.discover())} migrations on an empty database, p50",
         "ours": med(fresh), "baseline": med(noop), "ratio": med(fresh) / med(noop), "goal": "", "met": None,
         "unit": "ms (baseline: no-op check)"},
        {"figure": "upgrade of an empty stop-12 database (schema.sql era) to the current schema, p50",
         "ours": med(upgrade), "baseline": med(noop), "ratio": med(upgrade) / med(noop), "goal": "", "met": None,
         "unit": "ms (baseline: no-op check)"},
        {"figure": "`moderation serve` exec -> /readyz 200, every migration pending (fresh database), median",
         "ours": med(serve_fresh), "baseline": med(serve_current), "ratio": med(serve_fresh) / med(serve_current),
         "goal": "", "met": None, "unit": "s (baseline: up-to-date database)"},
        {"figure": "share of an up-to-date start spent in the migration check", "ours": med(noop) / 1000,
         "baseline": med(serve_current), "ratio": med(noop) / 1000 / med(serve_current), "goal": "", "met": None,
         "unit": "s"},
    ]
    print_table(rows)
    write_result("startup_migrations", rows, command="bench/startup_migrations.py",
                 notes=f"{opts.rounds} interleaved rounds of the in-process figures (p50), {opts.serve_rounds} "
                       "of the `serve` starts (median); Postgres on the same machine. A start with nothing "
                       "to migrate takes no lock (tests/test_migrations.py holds ACCESS EXCLUSIVE on comments "
                       "and outbox while starting). The `serve` medians are dominated by loading the model and "
                       "the scoring process (seconds, noisy here); the migrations' part is the in-process rows.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
