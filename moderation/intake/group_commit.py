"""Group commit for intake: concurrent comments are written in one round trip and one transaction.

Every accepted comment must be durable before we answer, so each write waits for a commit, and a commit
waits for the disk.  Instead of one commit per comment, one writer per process takes everything that
arrived while the previous batch was in flight and sends it as ONE set-based statement
(``intake_store_batch``: ``unnest`` of one array per column), so a batch costs one round trip, one
statement (planned and executed once, not once per comment) and one WAL flush, with no BEGIN/COMMIT round
trips.  A generic batcher (no ``columns``) uses ``fetchmany`` instead: one Bind/Execute per row and a single
Sync, which Postgres runs as one implicit transaction (asyncpg documents ``executemany`` / ``fetchmany`` as
atomic).  With no backlog a comment is written at once (no timer, no added latency); under load batches grow
by themselves.  A batch that fails (a bad row, a deadlock with another instance) is retried row by row, so
one comment's error never fails its neighbours.

The same machinery batches intake's read (``intake_context``, with ``fetchmany``): concurrent webhooks share
one round trip.  (An ``unnest`` form of that read measured ~35 % MORE Postgres CPU than one prepared
statement per row: its per-row subqueries lose the custom plans.)

Each batcher keeps ONE pool connection for itself instead of acquiring per batch: asyncpg resets a
connection on every release (a ``RESET ALL; UNLISTEN *; ...`` round trip that costs both processes CPU).
After any failure the connection is given back (reset or terminated by the pool) and a fresh one is taken
for the next batch, so a Postgres restart heals by itself.  With a tiny pool (``MODERATION_DB_POOL_SIZE``
below 4) the batchers acquire per batch instead, so they never starve the rest of the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import keys

log = logging.getLogger(__name__)


Columns = Callable[[list[Sequence[Any]]], Sequence[Any]]


class GroupCommitWriter:
    """Run one statement for many concurrent callers, batched into ``fetchmany`` calls on one connection.

    With ``columns``, the statement is a set-based one instead (``unnest`` of one array per column):
    ``columns(rows)`` turns the batch's argument tuples into the statement's parameters, and the statement
    returns one row per input row, in order.  One statement per batch instead of one Bind/Execute per row:
    Postgres plans, starts its executor and updates each index's metapage once per batch, and asyncpg
    encodes a few arrays instead of rows x parameters values (measured: ~40 % less Postgres CPU per
    comment for intake's write at batches of 8-16)."""

    def __init__(self, pool: asyncpg.Pool, statement: str, max_batch: int = 64,
                 name: str = "intake-group-commit", columns: Columns | None = None) -> None:
        self._pool = pool
        self._statement = statement
        self._columns = columns
        self._max_batch = max_batch
        self._name = name
        self._queue: list[tuple[Sequence[Any], asyncio.Future[asyncpg.Record]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None  # the pool connection this batcher holds (a PoolConnectionProxy)
        self._hold = pool.get_max_size() >= 4
        self._closing = False
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def write(self, args: Sequence[Any]) -> asyncpg.Record:
        """Run the statement with ``args``; returns its result row once its batch is committed."""
        if self._closing:
            raise RuntimeError("writer is closed")
        fut: asyncio.Future[asyncpg.Record] = asyncio.get_running_loop().create_future()
        self._queue.append((args, fut))
        self._wakeup.set()
        return await fut

    fetchrow = write  # reads (intake_context) batch the same way

    async def _run(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                    await self._write_batch(batch)
                if self._closing:
                    return
        finally:
            await self._release()

    async def _connection(self) -> Any:
        if self._conn is not None and self._conn.is_closed():
            await self._release()
        if self._conn is None:
            self._conn = await self._pool.acquire()
        return self._conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await self._pool.release(conn, timeout=5)  # the pool terminates a connection it cannot reset
        except Exception as exc:  # never let a broken connection stop the batcher
            log.debug("%s: releasing the connection failed (%s)", self._name, exc.__class__.__name__)

    async def _write_batch(self, batch: list[tuple[Sequence[Any], asyncio.Future[asyncpg.Record]]]) -> None:
        self.batches += 1
        self.rows += len(batch)
        try:
            conn = await self._connection()
            if self._columns is not None:
                results = await conn.fetch(self._statement, *self._columns([args for args, _ in batch]))
            else:
                results = await conn.fetchmany(self._statement, [args for args, _ in batch])
        except Exception as exc:
            await self._release()  # whatever state it is in (server restarted?), start the next batch afresh
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.warning("%s: batch of %d rows failed (%s); running them one by one",
                        self._name, len(batch), exc.__class__.__name__)
            for item in batch:
                await self._write_batch([item])
            return
        for (_, fut), row in zip(batch, results, strict=True):
            _settle(fut, row=row)
        if not self._hold:
            await self._release()

    async def close(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task


def _settle(fut: asyncio.Future[Any], *, row: Any = None, exc: BaseException | None = None) -> None:
    if fut.done():  # the request was cancelled (client went away): its row is committed regardless
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(row)


async def writer_ctx(app: web.Application) -> AsyncIterator[None]:
    from moderation.core.sql import Q

    writer = GroupCommitWriter(app[keys.POOL], Q.intake_store_batch, columns=store_columns)
    reader = GroupCommitWriter(app[keys.POOL], Q.intake_context, name="intake-context-reads")
    writer.start()
    reader.start()
    app[keys.INTAKE_WRITER] = writer
    app[keys.INTAKE_READER] = reader
    yield
    await reader.close()
    await writer.close()


def store_columns(rows: list[Sequence[Any]]) -> list[Any]:
    """The parameters of ``intake_store_batch`` for one group commit: the argument tuples
    intake (``webhook._create_or_update``) hands the writer, one per comment, as one array per column (the last
    argument, whether callbacks are on, is one flag for the batch)."""
    columns: list[Any] = [list(column) for column in zip(*(r[:-1] for r in rows), strict=True)]
    return [*columns, any(r[-1] for r in rows)]
