"""Crash recovery: the database dies under load (kill -9 of the postmaster, by the pid in postmaster.pid).

- embedded Postgres: ``moderation serve`` notices at once (/readyz 503 problem+json, /healthz stays 200),
  starts the server again itself, and intake recovers within 30 s; every comment that got a 2xx is stored;
- ``DATABASE_URL``: the server is restarted by its operator; the service reconnects by itself;
- a data dir of another Postgres major is refused with a message naming the fix.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from moderation.core.db import DataDirVersionError, EmbeddedPostgres
from moderation.core.pgtools import bundled_major
from tests.test_faults import Service, _send_stream, _stored_ids

pytestmark = pytest.mark.slow
RECOVERY_LIMIT_S = 30


def _kill_postmaster(pgdata: Path) -> int:
    pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    os.kill(pid, signal.SIGKILL)
    return pid


async def _wait_for(predicate: Any, limit_s: float, step: float = 0.1) -> float:
    """Seconds until ``await predicate()`` is true; fails after ``limit_s``."""
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < limit_s, f"not within {limit_s} s"
        await asyncio.sleep(step)
    return time.monotonic() - started


async def _status(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any], str]:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=3)) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers.get("Content-Type", "")
    except (aiohttp.ClientError, TimeoutError):
        return 0, {}, ""


async def test_killed_embedded_postgres_is_restarted_and_intake_recovers() -> None:
    # Not pytest's tmp_path: pytest sessions of other checkouts on this machine prune (and re-chmod) the
    # shared /tmp/pytest-of-<user> while this test's server runs from it.
    tmp_path = Path(tempfile.mkdtemp(prefix="crash-serve-"))
    try:
        await _embedded_crash(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


async def _embedded_crash(tmp_path: Path) -> None:
    service = Service("unused", tmp_path)
    service.env.pop("DATABASE_URL")  # the embedded server under tmp_path/data/postgres
    await service.start(limit_s=180)
    pgdata = tmp_path / "data" / "postgres"
    stop, accepted, answers = asyncio.Event(), set(), []
    load = asyncio.create_task(_send_stream(service.url, "crash", stop, accepted, answers, concurrency=4))
    async with aiohttp.ClientSession() as http:
        try:
            await _wait_for(lambda: _true(len(accepted) >= 20), 60)
            killed = _kill_postmaster(pgdata)
            at_kill = len(accepted)

            async def not_ready() -> bool:
                status, body, ctype = await _status(http, f"{service.url}/readyz")
                return status == 503 and body.get("type") == "/problems/service-unavailable" and \
                    ctype.startswith("application/problem+json")

            noticed_s = await _wait_for(not_ready, 5, step=0.05)
            assert (await _status(http, f"{service.url}/healthz"))[0] == 200  # liveness is not readiness
            recovered_s = await _wait_for(lambda: _true(len(accepted) >= at_kill + 20), RECOVERY_LIMIT_S)
            ready_s = await _wait_for(lambda: _ready(http, service.url), RECOVERY_LIMIT_S)
        finally:
            stop.set()
            await load
    print(f"\nkilled postmaster {killed}: /readyz 503 after {noticed_s:.2f} s, 20 new comments accepted after "
          f"{recovered_s:.1f} s, ready after {ready_s:.1f} s; answers {sorted(set(answers))}")
    assert 500 not in answers
    new_pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    assert new_pid != killed
    service.signal(signal.SIGTERM)
    assert await service.wait(60) == 0, service.log.read_text()[-3000:]

    pg = EmbeddedPostgres(pgdata)  # the service stopped it; open it again to count what is stored
    await asyncio.get_running_loop().run_in_executor(None, pg.start)
    try:
        stored = await _stored_ids(pg.uri("moderation"))
    finally:
        await asyncio.get_running_loop().run_in_executor(None, pg.stop)
    assert accepted <= stored, f"lost {len(accepted - stored)} accepted comments"


async def _true(value: bool) -> bool:
    return value


async def _ready(http: aiohttp.ClientSession, url: str) -> bool:
    return (await _status(http, f"{url}/readyz"))[0] == 200


async def test_database_url_server_killed_and_restarted_is_reconnected(aiohttp_client: Any, config: Any) -> None:
    """Against DATABASE_URL the service cannot restart the server; when its operator does, intake is back
    without restarting the service (the watcher expires the dead pool connections)."""
    from moderation.app import create_app
    from tests.conftest import comment_payload, post_webhook

    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="crash-")) / "pg", delete_on_stop=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pg.start)
    try:
        client = await aiohttp_client(create_app(config.with_changes(database_url=pg.uri("postgres"))))
        assert (await post_webhook(client, comment_payload("before"))).status == 200
        _kill_postmaster(pg.pgdata)

        async def not_ready() -> bool:
            resp = await client.get("/readyz")
            return resp.status == 503

        assert await _wait_for(not_ready, 5, step=0.05) < 5
        down = await post_webhook(client, comment_payload("while-down"))
        assert down.status == 503 and down.headers["Content-Type"].startswith("application/problem+json")
        await asyncio.sleep(0.5)  # let the dead backends exit before the operator starts it again
        await _wait_for(lambda: _restart(pg), 20, step=0.5)

        async def accepted() -> bool:
            return (await post_webhook(client, comment_payload(f"after-{time.monotonic_ns()}"))).status == 200

        assert await _wait_for(accepted, RECOVERY_LIMIT_S, step=0.2) < RECOVERY_LIMIT_S

        async def ready() -> bool:
            return (await client.get("/readyz")).status == 200

        await _wait_for(ready, 5)
        conn = await asyncpg.connect(pg.uri("postgres"))
        try:
            assert await conn.fetchval("SELECT count(*) FROM comments WHERE external_id = 'before'") == 1
        finally:
            await conn.close()
    finally:
        await loop.run_in_executor(None, pg.stop)


async def _restart(pg: EmbeddedPostgres) -> bool:
    try:
        await asyncio.get_running_loop().run_in_executor(None, pg.restart)
        return True
    except Exception:
        return False


def test_data_dir_of_another_major_is_refused_naming_the_fix(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    other = bundled_major() - 1
    (pgdata / "PG_VERSION").write_text(f"{other}\n")
    with pytest.raises(DataDirVersionError) as refused:
        EmbeddedPostgres(pgdata).start()
    message = str(refused.value)
    assert f"PostgreSQL {other}" in message and f"PostgreSQL {bundled_major()}" in message
    assert "moderation backup" in message and "moderation restore" in message
