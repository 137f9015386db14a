"""Notice a dead database at once, and bring intake back by itself.

One watcher per process, started by ``database_ctx``.  Every ``interval`` it checks the database:

- embedded Postgres: is the postmaster named in ``postmaster.pid`` alive?  When it is not (killed, OOM),
  ``/readyz`` answers 503 at once, and the watcher starts the server again on the same data dir and socket
  (Postgres' crash recovery replays the WAL: every committed comment is there), retrying with back-off;
- every database (``DATABASE_URL`` too): a ``SELECT 1`` through the pool.  A failure marks it down the same
  way; the pool reconnects when the server is back.

When it is back up, the pool's idle connections (all broken by the restart) are expired, so requests get
fresh ones instead of failing once each.  Intake meanwhile answers 503 + Retry-After (never 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from moderation.core.background import workers

log = logging.getLogger(__name__)


@dataclass
class DatabaseHealth:
    """What ``/readyz`` reads: up, or down since when and why."""

    up: bool = True
    reason: str = ""
    down_since: float | None = None
    restarts: int = 0

    def mark_down(self, reason: str) -> None:
        if self.up:
            log.error("database down: %s", reason)
            self.down_since = time.monotonic()
        self.up, self.reason = False, reason

    def mark_up(self) -> None:
        if not self.up:
            log.warning("database back after %.1f s", time.monotonic() - (self.down_since or time.monotonic()))
        self.up, self.reason, self.down_since = True, "", None


class DatabaseWatcher:
    def __init__(self, pool: asyncpg.Pool, embedded: Any = None, interval: float = 0.5) -> None:
        self.pool = pool
        self.embedded = embedded
        self.interval = interval
        self.health = DatabaseHealth()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self.interval
        while True:
            await asyncio.sleep(self.interval if self.health.up else backoff)
            if self.embedded is not None and not self.embedded.is_alive():
                self.health.mark_down(f"embedded Postgres is not running (pid {self.embedded.postmaster_pid()}); "
                                      "restarting it")
                try:
                    await loop.run_in_executor(None, self.embedded.restart)
                    self.health.restarts += 1
                    log.warning("embedded Postgres restarted (%d so far)", self.health.restarts)
                except Exception as exc:  # e.g. old backends still hold its shared memory: try again soon
                    log.warning("restarting embedded Postgres failed (%s); retrying", exc.__class__.__name__)
                    backoff = min(backoff * 2, 2.0)
                    continue
            was_up = self.health.up
            ok = await self._ping()
            if ok and not was_up:
                self.pool.expire_connections()  # the idle ones died with the server
                self.health.mark_up()
            backoff = self.interval if ok or ok is None else min(backoff * 2, 2.0)

    async def _ping(self) -> bool | None:
        """True: answered; False: failed (marked down); None: every pool connection is busy (a loaded
        service is not a dead database: no change)."""
        try:
            conn = await self.pool.acquire(timeout=2)
        except TimeoutError:
            return None
        except Exception as exc:
            self.health.mark_down(f"unavailable: {exc.__class__.__name__}")
            return False
        try:
            await conn.fetchval("SELECT 1", timeout=2)
            return True
        except Exception as exc:
            self.health.mark_down(f"unavailable: {exc.__class__.__name__}")
            return False
        finally:
            with contextlib.suppress(Exception):  # a broken connection is terminated by the pool
                await self.pool.release(conn, timeout=2)


@contextlib.asynccontextmanager
async def watching(pool: asyncpg.Pool, embedded: Any = None, interval: float = 0.5
                   ) -> AsyncIterator[DatabaseWatcher]:
    watcher = DatabaseWatcher(pool, embedded, interval)
    async with workers(database_watcher=watcher.run()):
        yield watcher


def supervise_embedded(embedded: Any, interval: float = 0.5) -> Callable[[], None]:
    """For ``serve --workers N``, whose parent owns the embedded server and whose workers only hold its DSN:
    a thread in the parent restarts a dead server (the workers' watchers see it down, then back).  Returns
    the function that stops the thread."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            if embedded.is_alive():
                continue
            log.error("embedded Postgres is not running (pid %s); restarting it", embedded.postmaster_pid())
            try:
                embedded.restart()
                log.warning("embedded Postgres restarted")
            except Exception as exc:
                log.warning("restarting embedded Postgres failed (%s); retrying", exc.__class__.__name__)
                stop.wait(1.0)

    thread = threading.Thread(target=run, name="embedded-postgres-supervisor", daemon=True)
    thread.start()

    def stop_it() -> None:
        stop.set()
        thread.join(10)
    return stop_it
