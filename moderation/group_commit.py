"""Group commit for intake: concurrent comments are written in one transaction, paying one WAL flush.

Every accepted comment must be durable before we answer, so each write waits for a commit, and a commit
waits for the disk.  Instead of one commit per comment, one writer per process takes everything that
arrived while the previous commit was in flight and writes it with ``fetchmany`` inside one transaction.
With no backlog a comment is written at once (no timer, no added latency); under load batches grow by
themselves.  A batch that fails (a bad row, a deadlock with another instance) is retried row by row, so
one comment's error never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
from aiohttp import web

from moderation import keys

log = logging.getLogger(__name__)


class GroupCommitWriter:
    def __init__(self, pool: asyncpg.Pool, statement: str, max_batch: int = 64) -> None:
        self._pool = pool
        self._statement = statement
        self._max_batch = max_batch
        self._queue: list[tuple[Sequence[Any], asyncio.Future[asyncpg.Record]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="intake-group-commit")

    async def write(self, args: Sequence[Any]) -> asyncpg.Record:
        """Write one row's statement; returns its result row once it is committed."""
        if self._closing:
            raise RuntimeError("writer is closed")
        fut: asyncio.Future[asyncpg.Record] = asyncio.get_running_loop().create_future()
        self._queue.append((args, fut))
        self._wakeup.set()
        return await fut

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                await self._write_batch(batch)
            if self._closing:
                return

    async def _write_batch(self, batch: list[tuple[Sequence[Any], asyncio.Future[asyncpg.Record]]]) -> None:
        self.batches += 1
        self.rows += len(batch)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                results = await conn.fetchmany(self._statement, [args for args, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.warning("group commit of %d rows failed (%s); writing them one by one",
                        len(batch), exc.__class__.__name__)
            for item in batch:
                await self._write_batch([item])
            return
        for (_, fut), row in zip(batch, results, strict=True):
            _settle(fut, row=row)

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
    from moderation.sql import Q

    writer = GroupCommitWriter(app[keys.POOL], Q.intake_store_new)
    writer.start()
    app[keys.INTAKE_WRITER] = writer
    yield
    await writer.close()
