"""API keys of the compat protocols: the CLI, hashing, rate limits, the admin page, and what they cannot do."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from typing import Any

import pytest

from moderation.app import create_app
from moderation.compat import apikeys
from moderation.compat.apikeys import ApiKey, RateLimiter
from moderation.core import keys


@pytest.fixture
def config(config: Any) -> Any:
    """conftest's, with a scoring deadline a loaded CI machine cannot miss: these tests are about protocols
    (the deadline's own behaviour is tested in test_intake)."""
    return config.with_changes(scoring_deadline_s=30.0)


def _cli(database_url: str, tmp_path: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MODERATION_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "moderation", "api-key", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


async def test_cli_create_list_revoke(database_url: str, tmp_path: Any, db: Any) -> None:
    made = _cli(database_url, tmp_path, "create", "coral-prod")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert apikeys.looks_like_key(key) and len(key) <= 63  # fits a host name's first label (Akismet)
    row = await db.fetchrow("SELECT * FROM api_keys WHERE name = 'coral-prod'")
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    dump = await db.fetchval("SELECT string_agg(row_to_json(a)::text, ' ') FROM api_keys a")
    assert key not in dump and key[8:] not in dump  # stored hashed; the listed prefix is only 8 characters

    again = _cli(database_url, tmp_path, "create", "coral-prod")
    assert again.returncode == 1 and "revoke it first" in again.stderr
    listed = _cli(database_url, tmp_path, "list")
    assert "coral-prod" in listed.stdout and key[:8] in listed.stdout and key not in listed.stdout
    assert _cli(database_url, tmp_path, "revoke", "coral-prod").returncode == 0
    assert _cli(database_url, tmp_path, "revoke", "coral-prod").returncode == 1
    assert "revoked" in await db.fetchval("SELECT CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END "
                                          "FROM api_keys")
    assert _cli(database_url, tmp_path, "create", "coral-prod", "--rate", "60").returncode == 0  # name free again


async def test_lookup_is_cached_and_normalised(client: Any, db: Any) -> None:
    _, key = await apikeys.create(db, "cache-me")
    cache = client.server.app[keys.COMPAT_KEYS]
    pool = client.server.app[keys.POOL]
    found = await cache.lookup(pool, f"  {key.upper()} ")  # host names arrive in any case
    assert found is not None and found.name == "cache-me" and found.rate_per_minute == 600
    await db.execute("DELETE FROM api_keys")
    assert await cache.lookup(pool, key) is not None  # cached: no query per request
    cache.forget()
    assert await cache.lookup(pool, key) is None
    assert await cache.lookup(pool, "not-a-key") is None


def test_rate_limiter_windows() -> None:
    limiter = RateLimiter()
    key = ApiKey(1, "k", 60)
    assert all(limiter.take(key, now=120.0) is None for _ in range(60))
    assert limiter.take(key, now=150.0) == 30.0  # the window ends at 180
    assert limiter.take(key, now=180.0) is None  # a new window
    assert limiter.take(ApiKey(2, "free", 0), now=0.0) is None  # 0 = unlimited
    # another instance's hits, learnt from Postgres, count too
    limiter.unsent()
    limiter.seen(1, 180.0, 60)
    assert limiter.take(key, now=181.0) is not None


async def test_rate_is_shared_by_instances(aiohttp_client: Any, config: Any, db: Any) -> None:
    """Two apps (as two instances) on one database: a key's rate is for both together."""
    import asyncio
    import time

    from tests.test_compat_perspective import ANALYZE

    # The windows are wall-clock minutes: start with room for the whole test in one of them (else the last two
    # requests count in a fresh window; this flaked about once in 20 runs).
    if (left := 60.0 - time.time() % 60.0) < 10.0:
        await asyncio.sleep(left + 0.1)
    _, key = await apikeys.create(db, "shared", rate_per_minute=4)
    one = await aiohttp_client(create_app(config))
    two = await aiohttp_client(create_app(config))
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    for client in (one, one, two, two):  # 2 + 2: the rate is used up, but neither instance saw 4 itself
        assert (await client.post(f"{ANALYZE}?key={key}", json=body)).status == 200
    await asyncio.sleep(2.5)  # each flushes its counts and learns the total
    statuses = [(await c.post(f"{ANALYZE}?key={key}", json=body)).status for c in (one, two)]
    assert statuses == [429, 429]


async def test_keys_cannot_moderate(client: Any, db: Any) -> None:
    _, key = await apikeys.create(db, "scorer-only")
    for method, path in (("GET", "/v1/queue"), ("POST", "/v1/decisions"), ("GET", "/v1/tokens")):
        resp = await client.request(method, path, headers={"Authorization": f"Bearer {key}"})
        assert resp.status == 401, (path, await resp.text())


async def test_admin_tokens_page_lists_api_keys(aiohttp_client: Any, config: Any) -> None:
    from moderation.review import auth
    from tests.test_review_auth import login

    client = await aiohttp_client(create_app(config))
    pool = client.app[keys.POOL]
    await auth.create_moderator(pool, "mod@example.org", "correct horse battery staple", "admin")
    _, key = await apikeys.create(pool, "wordpress-blog", rate_per_minute=0)
    assert (await login(client)).status == 303
    html = await (await client.get("/moderate/tokens")).text()
    assert "Perspective and Akismet API keys" in html and "wordpress-blog" in html and key[:8] in html
    assert key not in html and "unlimited" in html
