"""``moderation serve --workers N``: N service processes sharing one port (SO_REUSEPORT).

The service keeps no state in process memory that matters across requests (rate limits, challenges,
claims, sessions and the outbox live in Postgres), so the kernel may hand any connection to any worker.
The parent only supervises: it owns the embedded Postgres when there is no DATABASE_URL, forwards
SIGTERM/SIGINT to the workers, and exits 0 when they all stopped cleanly.  Metrics run in Prometheus'
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, default ``<data dir>/prometheus``, emptied at start), so a
scrape of ``/metrics`` on the shared port counts every worker, whichever one answers.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from types import FrameType

from moderation.core.config import Config


def _worker_main(config: Config) -> None:
    from aiohttp import web

    from moderation.app import create_app
    from moderation.core.observability import configure_logging

    os.setpgrp()  # signals come from the supervisor only, once (a terminal's Ctrl-C goes to it)
    configure_logging(config.log_json)
    web.run_app(create_app(config), host=config.host, port=config.port, reuse_port=True, print=None,
                shutdown_timeout=10)


def serve_workers(config: Config, workers: int) -> int:
    embedded = None
    if config.database_url is None:
        from moderation.core.db import open_embedded

        embedded, dsn = asyncio.run(open_embedded(config.data_dir))
        config = config.with_changes(database_url=dsn)
    from moderation.core.observability import prepare_multiprocess_dir, worker_stopped

    prepare_multiprocess_dir(config.data_dir / "prometheus")  # before the workers import prometheus_client
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker_main, args=(config,), name=f"moderation-worker-{i}") for i in range(workers)]
    for proc in procs:
        proc.start()
    stop_supervising = None
    if embedded is not None:
        from moderation.core.dbwatch import supervise_embedded

        stop_supervising = supervise_embedded(embedded)  # a dead embedded server is restarted by the parent

    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for proc in procs:
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for proc in procs:
        proc.join()
        if proc.pid:
            worker_stopped(proc.pid)
    if stop_supervising is not None:
        stop_supervising()
    if embedded is not None:
        embedded.stop()
    codes = [proc.exitcode for proc in procs]
    if any(codes):
        print(f"moderation: worker exit codes {codes}", file=sys.stderr)
        return 1
    return 0
