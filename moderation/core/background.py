"""Fire-and-forget work (e.g. shadow scoring) that must still finish before the pool closes."""

from __future__ import annotations

import asyncio
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
