"""One real Postgres per test session (DATABASE_URL, or an embedded server), a fresh database per test.

Each test database is cloned from a template that already holds schema.sql, so a test pays ~30 ms for
a clean database instead of re-applying the schema.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from moderation.app import create_app
from moderation.core.config import Config
from moderation.core.db import EmbeddedPostgres, apply_schema
from moderation.core.webhooks import sign

TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # test-only key material
TEMPLATE = "moderation_test_template"
_counter = itertools.count()


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


class PostgresForTests:
    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self.created: list[str] = []
        external = os.environ.get("DATABASE_URL")
        if external:
            self.admin_dsn = external
        else:
            self._tmp = tempfile.mkdtemp(prefix="modtest-")
            self.embedded = EmbeddedPostgres(Path(self._tmp) / "pg", delete_on_stop=True)
            self.embedded.start()
            self.admin_dsn = self.embedded.uri("postgres")

    def dsn(self, database: str) -> str:
        if self.embedded is not None:
            return self.embedded.uri(database)
        return _with_database(self.admin_dsn, database)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.admin_dsn)

    async def make_template(self) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(self.dsn(TEMPLATE))
        try:
            await apply_schema(conn)
        finally:
            await conn.close()

    async def fresh_database(self) -> str:
        name = f"t_{os.getpid()}_{next(_counter)}_{int(time.time() * 1000) % 100000}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        finally:
            await conn.close()
        self.created.append(name)
        return name

    async def drop_database(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()  # the whole cluster goes, with every test database
        else:
            asyncio.run(self._drop_all())

    async def _drop_all(self) -> None:
        for name in self.created:
            await self.drop_database(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    pg = PostgresForTests()
    asyncio.run(pg.make_template())
    yield pg
    pg.stop()


@pytest.fixture
async def database_url(postgres: PostgresForTests) -> str:
    # Dropped at the end of the session, not here: apps under test may still hold pool connections
    # while fixtures are torn down.
    name = await postgres.fresh_database()
    return postgres.dsn(name)


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(database_url=database_url, data_dir=tmp_path / "data", webhook_secret=TEST_SECRET,
                  siteverify_secret="sv_test_secret", log_json=False, scoring_processes=0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for asserting what was stored."""
    conn = await asyncpg.connect(database_url)
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield conn
    await conn.close()


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(create_app(config))


def comment_payload(external_id: str = "c-1", text: str = "Thanks for the thoughtful article.",
                    event: str = "comment.created", **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": external_id,
        "article": {"id": "art-1", "url": "https://news.example/a/1", "title": "City council votes"},
        "author": {"id": "reader-1", "name": "Ann Reader", "email": "ann@example.org", "ip": "203.0.113.7"},
        "text": text,
        "created_at": "2026-11-25T12:00:00Z",
    }
    body.update(data)
    return {"type": event, "data": body}


async def post_webhook(client: Any, payload: Any, *, secret: str = TEST_SECRET, webhook_id: str | None = None,
                       timestamp: int | None = None, raw: bytes | None = None,
                       headers: dict[str, str] | None = None) -> Any:
    """Sign ``payload`` (or ``raw`` bytes) the way a CMS would and POST it to the comment webhook."""
    from moderation.core.config import parse_webhook_secret

    body = raw if raw is not None else json.dumps(payload).encode()
    signed = sign(parse_webhook_secret(secret), body, webhook_id=webhook_id, timestamp=timestamp)
    all_headers = {"Content-Type": "application/json", **signed.as_dict(), **(headers or {})}
    return await client.post("/v1/webhooks/comments", data=body, headers=all_headers)


# ── a live server in a thread, and a headless Chromium, for browser tests ──────────────────────────
class LiveServer:
    """Runs create_app(config) on a real port in a background thread with its own event loop, so that
    synchronous code (selenium, requests) can talk to it while the test body blocks."""

    def __init__(self, app: Any) -> None:
        import threading

        self.app = app
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("live server did not start in 60 s")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self.loop)
        try:
            self.runner = web.AppRunner(self.app)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (e.g. to seed data through the app's pool)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._error is None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def live_server(config: Config) -> Iterator[LiveServer]:
    server = LiveServer(create_app(config))
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def _chromium_available() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        reason = (f"browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing): "
                  "apt-get install chromium chromium-driver")
        if os.environ.get("MODERATION_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def browser(_chromium_available: None, tmp_path: Path) -> Iterator[Any]:
    """A real headless Chromium driven by selenium (Debian's chromium + chromedriver, no downloads)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
