"""Where the model runs: in worker processes by default, so scoring never holds the event loop's GIL.

sklearn's text vectorisers are mostly pure Python: scored in a thread, they hold the GIL and every
socket write on the event loop waits behind them.  A worker process loads its own copy of the model once
(``init``) and scores micro-batches sent by :class:`classifier.batcher.MicroBatcher`.

:class:`ScoringProcesses` is the executor for those workers.  It replaces ``ProcessPoolExecutor``, whose
every call crosses two helper threads in the service process (a queue-feeder thread that pickles and a
manager thread that waits for results), each a GIL hand-off and a few wake-up syscalls per batch.  Here
each worker has one pipe: ``submit`` (on the event loop) pickles the call once and writes it, and the
event loop itself reads the answer when the pipe becomes readable (``add_reader``): no threads at all.
A worker that dies fails its batch (``BrokenProcessPool``, so intake stores that comment unscored) and is
replaced by a fresh one.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_model: Any = None


def init(path: str | None) -> None:
    global _model
    from classifier import load_model

    _model = load_model(Path(path) if path else None)


def score(texts: list[str], explain_min: dict[str, float] | None = None) -> list[Any]:
    """Runs in a worker process: the batch's scores (picklable ``classifier.Scores``); see
    :meth:`classifier.Model.score` for ``explain_min``."""
    return _model.score(texts, explain_min=explain_min)


def _serve(conn: Connection, path: str | None) -> None:
    """A worker process: load the model, then answer ``(fn, args, kwargs)`` calls until EOF or ``None``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C: the service shuts us down in order
    init(path)
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):  # the service went away
            return
        if call is None:
            return
        fn, args, kwargs = call
        try:
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:
            answer = (False, exc)
        try:
            conn.send(answer)
        except Exception as exc:  # e.g. an exception that does not pickle
            conn.send((False, RuntimeError(f"scoring worker could not send its answer: {exc!r}")))


class _Worker:
    def __init__(self, ctx: Any, path: str | None) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(child, path), name="moderation-scoring", daemon=True)
        self.process.start()
        child.close()
        self.future: concurrent.futures.Future[Any] | None = None  # the call it is working on
        self.reading = False
        self.answered = False  # a worker that dies before its first answer failed to start (bad model?)


class ScoringProcesses(concurrent.futures.Executor):
    """A process pool for the event loop: ``submit`` must be called on the loop (``run_in_executor`` does);
    ``shutdown`` may be called from any thread."""

    def __init__(self, processes: int, model_path: Path | None) -> None:
        # forkserver: never fork the threaded service process itself
        self._ctx = multiprocessing.get_context("forkserver")
        self._path = str(model_path) if model_path else None
        self._lock = threading.Lock()
        self._workers = [_Worker(self._ctx, self._path) for _ in range(max(1, processes))]
        self._idle = collections.deque(self._workers)
        self._queue: collections.deque[tuple[concurrent.futures.Future[Any], tuple[Any, ...]]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown = False
        self._broken: str | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        loop = asyncio.get_running_loop()  # RuntimeError off the loop: this executor is loop-driven
        if self._loop is None:
            self._loop = loop
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._broken:
                raise BrokenProcessPool(self._broken)
            worker = self._idle.popleft() if self._idle else None
            if worker is None:
                self._queue.append((future, (fn, args, kwargs)))
                return future
        self._send(worker, future, (fn, args, kwargs))
        return future

    def _send(self, worker: _Worker, future: concurrent.futures.Future[Any], call: tuple[Any, ...]) -> None:
        """On the loop: hand ``call`` to an idle worker (or give the worker back if the call was cancelled)."""
        if not future.set_running_or_notify_cancel():
            self._worker_free(worker)
            return
        worker.future = future
        try:
            worker.conn.send(call)
        except Exception as exc:  # the worker died while idle, or the call does not pickle
            worker.future = None
            future.set_exception(exc if not isinstance(exc, OSError) else BrokenProcessPool(str(exc)))
            if isinstance(exc, OSError):
                self._replace(worker)
            else:
                self._worker_free(worker)
            return
        if not worker.reading:
            assert self._loop is not None
            self._loop.add_reader(worker.conn.fileno(), self._readable, worker)
            worker.reading = True

    def _readable(self, worker: _Worker) -> None:
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._died(worker)
            return
        future, worker.future = worker.future, None
        worker.answered = True
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._worker_free(worker)

    def _worker_free(self, worker: _Worker) -> None:
        with self._lock:
            if self._shutdown or not self._queue:
                self._idle.append(worker)
                return
            future, call = self._queue.popleft()
        self._send(worker, future, call)

    def _detach(self, worker: _Worker) -> None:
        if worker.reading and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(worker.conn.fileno())
        worker.reading = False
        worker.conn.close()

    def _died(self, worker: _Worker) -> None:
        self._detach(worker)
        future, worker.future = worker.future, None
        if future is not None and not future.done():
            future.set_exception(BrokenProcessPool("the scoring process died"))
        if self._shutdown:
            return
        worker.process.join(timeout=1)
        if not worker.answered:  # it never started (the model does not load): don't respawn in a loop
            log.error("a scoring process exited before its first answer (exit code %s); scoring is off",
                      worker.process.exitcode)
            with self._lock:
                self._broken = "a scoring process failed to start"
                queued = list(self._queue)
                self._queue.clear()
            for queued_future, _ in queued:
                if queued_future.set_running_or_notify_cancel():
                    queued_future.set_exception(BrokenProcessPool(self._broken))
            return
        log.error("a scoring process died (exit code %s); starting a new one", worker.process.exitcode)
        self._replace(worker, detached=True)

    def _replace(self, worker: _Worker, *, detached: bool = False) -> None:
        if not detached:
            self._detach(worker)
        worker.process.join(timeout=1)
        fresh = _Worker(self._ctx, self._path)
        with self._lock:
            self._workers[self._workers.index(worker)] = fresh
        self._worker_free(fresh)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            queued = list(self._queue) if cancel_futures else []
            if cancel_futures:
                self._queue.clear()
            workers = list(self._workers)
        for future, _ in queued:
            future.cancel()
        for worker in workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        if wait:
            for worker in workers:
                worker.process.join(timeout=10)
                if worker.process.is_alive():
                    worker.process.terminate()
                    worker.process.join(timeout=5)
        loop = self._loop
        try:
            if loop is not None and not loop.is_closed():
                if _on_loop(loop):
                    for worker in workers:
                        self._detach_quietly(worker)
                else:
                    loop.call_soon_threadsafe(lambda: [self._detach_quietly(w) for w in workers])
                return
        except RuntimeError:  # the loop closed meanwhile
            pass
        for worker in workers:
            worker.conn.close()

    def _detach_quietly(self, worker: _Worker) -> None:
        if not worker.conn.closed:
            self._detach(worker)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def process_pool(processes: int, model_path: Path | None) -> ScoringProcesses:
    return ScoringProcesses(processes, model_path)
