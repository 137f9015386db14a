"""Micro-batching of concurrent single-text scoring calls.

Scoring one comment at a time wastes most of the vectoriser/BLAS overhead; the web service sees
many concurrent requests, so :class:`MicroBatcher` gathers calls that arrive within a short
window (or until ``max_batch``) and runs ONE ``score_fn`` call per batch in an executor, never
on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any

from classifier.model import Scores

__all__ = ["MicroBatcher"]


class MicroBatcher:
    """Collect concurrent :meth:`score` calls into batches for ``score_fn``.

    At most ``max_in_flight`` batches run at once (match the executor's workers).  While they are
    all busy, new texts wait and go together as the next batch the moment one finishes, so batches
    grow with the load (each ``score_fn`` call has a fixed cost of a couple of milliseconds); a text
    arriving at an idle scorer goes at once.  ``window_ms`` caps how long a partial batch waits for
    company when a slot is free but a batch was just started.

    Must be used from a single event loop.  If a waiter is cancelled (e.g. by
    ``asyncio.wait_for``), its text is still scored with its batch but the result is dropped.
    """

    def __init__(
        self,
        score_fn: Callable[[list[str]], list[Scores]],
        executor: concurrent.futures.Executor,
        window_ms: float = 3.0,
        max_batch: int = 64,
        max_in_flight: int = 1,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._score_fn = score_fn
        self._executor = executor
        self._window = max(0.0, window_ms) / 1000.0
        self._max_batch = max_batch
        self._max_in_flight = max(1, max_in_flight)
        self._pending: list[tuple[str, asyncio.Future[Scores]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self.batches = 0  # number of score_fn calls made (observability / tests)
        self.items = 0

    async def score(self, text: str) -> Scores:
        """Score one text as part of a batch; exceptions from ``score_fn`` propagate here."""
        if self._closed:
            raise RuntimeError("MicroBatcher is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Scores] = loop.create_future()
        self._pending.append((text, fut))
        if len(self._running) >= self._max_in_flight:
            pass  # every slot is busy: this text goes with the next batch, when a slot frees up
        elif len(self._pending) >= self._max_batch:
            self._flush()
        elif self._timer is None:
            # A free slot: go on the next loop turn (calls made in this turn still join), or after the window
            # when another batch is already running (a little company makes the next batch cheaper).
            delay = self._window if self._running else 0.0
            self._timer = loop.call_later(delay, self._flush)
        return await fut

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending and (len(self._running) < self._max_in_flight or self._closed):
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._pending and self._timer is None:
            self._flush()  # what queued up while every slot was busy goes now, as one batch

    async def _run(self, batch: list[tuple[str, asyncio.Future[Scores]]]) -> None:
        loop = asyncio.get_running_loop()
        texts = [t for t, _ in batch]
        self.batches += 1
        self.items += len(texts)
        try:
            results: Any = await loop.run_in_executor(self._executor, self._score_fn, texts)
            if len(results) != len(texts):
                raise RuntimeError(f"score_fn returned {len(results)} results for {len(texts)} texts")
        except BaseException as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, fut), res in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(res)

    async def close(self) -> None:
        """Stop accepting work, flush what is pending and wait for in-flight batches."""
        self._closed = True
        if self._pending:
            self._flush()
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
