"""kill -9 in the middle of a callback delivery loses nothing.

``moderation serve`` runs as a real subprocess against the test database and delivers to a slow
receiver (a real aiohttp server in this test).  While deliveries are in flight we SIGKILL it, restart
it, and check that the receiver eventually saw every outbox row's webhook-id (at least once: the rows
that were in flight are sent again once their lease expires — the CMS dedupes by webhook-id)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from moderation.review import decisions
from tests.conftest import TEST_SECRET, comment_payload
from tests.test_outbox import CALLBACK_SECRET, Receiver, cb_config
from tests.test_review_support import actor, seed_comments

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def start_serve(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = log.open("ab")
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "moderation", "serve", env=env,
                                                stdout=out, stderr=out)


async def wait_ready(port: int, proc: Any, log: Path, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"serve exited early:\n{tail(log)}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"serve not ready in {limit_s} s:\n{tail(log)}")


async def test_kill_9_mid_delivery_loses_nothing(aiohttp_server: Any, database_url: str, db: Any, config: Any,
                                                 tmp_path: Path) -> None:
    rec = Receiver(CALLBACK_SECRET)
    rec.delay_s = 2.0                 # slow CMS: deliveries are in flight when the process dies
    app = web.Application()
    app.router.add_post("/cb", rec.handle)
    server = await aiohttp_server(app)
    url = str(server.make_url("/cb"))

    # Status changes made before the service runs: their outbox rows wait in Postgres.
    cfg = cb_config(config, url)
    for cid in await seed_comments(db, 12):
        await decisions.apply(db, cfg, cid, "reject", actor(), "kill test")

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "MODERATION_PORT": str(port),
           "MODERATION_CALLBACK_URL": url, "MODERATION_CALLBACK_SECRET": CALLBACK_SECRET,
           "MODERATION_WEBHOOK_SECRET": TEST_SECRET, "MODERATION_DATA_DIR": str(tmp_path / "data"),
           "MODERATION_CALLBACK_TIMEOUT": "3", "MODERATION_CALLBACK_BACKOFF": "0.2",
           "MODERATION_CALLBACK_CONCURRENCY": "4", "MODERATION_LOG_JSON": "false"}
    log = tmp_path / "serve.log"
    proc = await start_serve(env, log)
    try:
        await wait_ready(port, proc, log)
        # more status changes through the live service's own intake
        from tests.conftest import post_webhook

        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
            for i in range(4):
                resp = await post_webhook(http, comment_payload(f"live-{i}"))
                assert resp.status == 200, await resp.text()
        await asyncio.wait_for(rec.started.wait(), 30)
        await asyncio.sleep(0.5)                  # requests are now in flight at the slow receiver
        in_flight_at_kill = len(rec.seen)
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    total = await db.fetchval("SELECT count(*) FROM outbox")
    undelivered = await db.fetchval("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
    assert total == 16 and in_flight_at_kill >= 1 and undelivered >= 1

    rec.delay_s = 0.05
    proc = await start_serve(env, log)
    try:
        await wait_ready(port, proc, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if await db.fetchval("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)          # a clean stop this time
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    ids = {r["webhook_id"] for r in await db.fetch("SELECT webhook_id FROM outbox")}
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0, tail(log)
    assert ids <= set(rec.ids())                  # the CMS saw every event
    duplicates = len(rec.ids()) - len(set(rec.ids()))
    assert duplicates >= 1                        # the killed in-flight deliveries were sent again
