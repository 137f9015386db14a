"""Background work with one owner: fire-and-forget tasks (shadow scoring) that must finish before the pool
closes, and long-running workers that a ``cleanup_ctx`` starts and cancels."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from moderation.core import keys


async def background_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fire-and-forget work (shadow scoring) is still awaited before the pool closes."""
    tasks: set[asyncio.Task[Any]] = set()
    app[keys.BACKGROUND] = tasks
    yield
    if tasks:
        await asyncio.wait(tasks, timeout=10)


def spawn(app: web.Application, coro: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    app[keys.BACKGROUND].add(task)
    task.add_done_callback(app[keys.BACKGROUND].discard)


@contextlib.asynccontextmanager
async def workers(**named: Coroutine[Any, Any, Any]) -> AsyncIterator[None]:
    """Run each coroutine as a task named by its keyword while the block runs; on leaving it (normally or
    not), cancel them all and wait until each has stopped, so nothing outlives the resources it uses.

    Used by the ``cleanup_ctx`` owners: ``async with workers(retention=run(app)): yield``.
    """
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(coro, name=name.replace("_", "-")) for name, coro in named.items()]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
