"""API keys of the compat protocols (Perspective, Akismet): score and send feedback, nothing else.

A key is ``mk`` + 52 lowercase base32 characters (256 random bits).  Lowercase and 54 characters long, it
also fits in a host name's first label, where Akismet clients put it (``KEY.rest.example``; DNS labels are
case-insensitive and at most 63 characters).  Only its SHA-256 is stored, like the moderators' API tokens:
256 random bits cannot be brute-forced from a plain digest, and the digest lets Postgres find the row by
index; the found digest is compared once more in constant time.

The hot path never waits on Postgres twice: :class:`KeyCache` remembers a looked-up key for
``CACHE_SECONDS`` (a revocation on another instance takes effect within that time, on this one at once),
counts requests against the key's rate in-process (:class:`RateLimiter`), and writes ``last_used_at`` in
batches.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.sql import Q

log = logging.getLogger(__name__)

KEY_PREFIX = "mk"
KEY_LENGTH = len(KEY_PREFIX) + 52
MAX_NAME = 100
CACHE_SECONDS = 10.0      # how long a looked-up key (or a miss) is trusted without asking Postgres again
MISS_CACHE_SIZE = 10_000  # unknown keys remembered (a client retrying a wrong key costs no query each time)
TOUCH_SECONDS = 30.0      # last_used_at is written at most this often per key


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    rate_per_minute: int  # 0 = unlimited


class ApiKeyError(ValueError):
    """Bad input to create/revoke (name empty, too long, taken); the message is for humans."""


def new_key() -> str:
    return KEY_PREFIX + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower()


def normalise(key: str) -> str:
    return key.strip().lower()


def digest(key: str) -> str:
    return hashlib.sha256(normalise(key).encode()).hexdigest()


def looks_like_key(key: str) -> bool:
    key = normalise(key)
    return len(key) == KEY_LENGTH and key.startswith(KEY_PREFIX) and key.isalnum()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise ApiKeyError(f"a key name is 1 to {MAX_NAME} printable characters, got {name!r}")
    return name


async def create(conn: asyncpg.Connection | asyncpg.Pool, name: str, *,
                 rate_per_minute: int | None = None) -> tuple[int, str]:
    """A new key named ``name``: returns (id, key).  The key is shown once; only its hash is stored."""
    name = _check_name(name)
    if rate_per_minute is not None and rate_per_minute < 0:
        raise ApiKeyError("the rate is a number of requests per minute, 0 for unlimited")
    key = new_key()
    try:
        key_id = await conn.fetchval(Q.api_key_insert, name, digest(key), key[:len(KEY_PREFIX) + 6],
                                     rate_per_minute)
    except asyncpg.UniqueViolationError:
        raise ApiKeyError(f"a live key named {name!r} exists; revoke it first") from None
    return key_id, key


async def revoke(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> bool:
    """Revoke the live key named ``name``; False when there is none."""
    return await conn.fetchval(Q.api_key_revoke, _check_name(name)) is not None


async def list_keys(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(Q.api_key_list)


class RateLimiter:
    """A token bucket per key, in this process: ``rate`` requests per minute, bursts up to ``rate``."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}  # key id -> (tokens, last refill)

    def take(self, key: ApiKey, now: float | None = None) -> float | None:
        """None when allowed; else the seconds until one request is allowed again."""
        rate = key.rate_per_minute
        if rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key.id, (float(rate), now))
        tokens = min(float(rate), tokens + (now - last) * rate / 60.0)
        if tokens < 1.0:
            self._buckets[key.id] = (tokens, now)
            return (1.0 - tokens) * 60.0 / rate
        self._buckets[key.id] = (tokens - 1.0, now)
        return None


class KeyCache:
    """Key lookups for the request path: Postgres once per key per ``CACHE_SECONDS``."""

    def __init__(self, default_rate: int) -> None:
        self.default_rate = default_rate
        self._hits: dict[str, tuple[ApiKey, float]] = {}
        self._misses: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._used: dict[int, float] = {}      # key id -> when it was last used (monotonic)
        self._touched: dict[int, float] = {}   # key id -> when last_used_at was last written
        self.limiter = RateLimiter()

    async def lookup(self, pool: asyncpg.Pool, key: str | None) -> ApiKey | None:
        if not key or not looks_like_key(key):
            return None
        wanted = digest(key)
        now = time.monotonic()
        hit = self._hits.get(wanted)
        if hit is not None and now - hit[1] < CACHE_SECONDS:
            self._used[hit[0].id] = now
            return hit[0]
        missed = self._misses.get(wanted)
        if missed is not None and now - missed < CACHE_SECONDS:
            return None
        row = await pool.fetchrow(Q.api_key_lookup, wanted)
        if row is None or not hmac.compare_digest(row["key_hash"], wanted):
            self._hits.pop(wanted, None)
            self._misses[wanted] = now
            self._misses.move_to_end(wanted)
            while len(self._misses) > MISS_CACHE_SIZE:
                self._misses.popitem(last=False)
            return None
        rate = row["rate_per_minute"]
        found = ApiKey(row["id"], row["name"], self.default_rate if rate is None else rate)
        self._hits[wanted] = (found, now)
        self._misses.pop(wanted, None)
        self._used[found.id] = now
        return found

    def forget(self, key_id: int | None = None) -> None:
        """Drop cached keys (all, or one id): after a revocation on this instance."""
        if key_id is None:
            self._hits.clear()
        else:
            self._hits = {d: v for d, v in self._hits.items() if v[0].id != key_id}
        self._misses.clear()

    def due_touches(self, now: float | None = None) -> list[int]:
        now = time.monotonic() if now is None else now
        due = [kid for kid, used in self._used.items() if used > self._touched.get(kid, -math.inf)
               and now - self._touched.get(kid, -math.inf) >= TOUCH_SECONDS]
        for kid in due:
            self._touched[kid] = now
        return due


async def touch_worker(app: web.Application) -> None:
    """Writes last_used_at of the keys used since the last write, every few seconds."""
    cache = app[keys.COMPAT_KEYS]
    while True:
        await asyncio.sleep(5.0)
        due = cache.due_touches()
        if not due:
            continue
        try:
            await app[keys.POOL].execute(Q.api_key_touch, due)
        except (OSError, asyncpg.PostgresError) as exc:  # advisory: never let it stop the service
            log.warning("api key last_used_at not written: %s", exc.__class__.__name__)


async def key_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(touch_worker(app), name="api-key-touch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    due = app[keys.COMPAT_KEYS].due_touches(now=math.inf)
    if due:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await app[keys.POOL].execute(Q.api_key_touch, due)

