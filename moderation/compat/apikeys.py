"""API keys of the compat protocols (Perspective, Akismet): score and send feedback, nothing else.

A key is ``mk`` + 52 lowercase base32 characters (256 random bits).  Lowercase and 54 characters long, it
also fits in a host name's first label, where Akismet clients put it (``KEY.rest.example``; DNS labels are
case-insensitive and at most 63 characters).  Only its SHA-256 is stored, like the moderators' API tokens:
256 random bits cannot be brute-forced from a plain digest, and the digest lets Postgres find the row by
index; the found digest is compared once more in constant time.

The request path never waits on Postgres for a known key: :class:`KeyCache` remembers a looked-up key
for ``CACHE_SECONDS`` (a revocation takes effect within that time), counts requests against the key's rate
in memory and shares the counts through Postgres once a second (:class:`RateLimiter`), and writes
``last_used_at`` in batches.
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
from moderation.core.background import workers
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
    """``rate`` requests per key per minute (fixed windows on the wall clock), shared by every instance.

    The request path only counts in memory; once a second :func:`rate_worker` adds each key's new hits to its
    ``rate_limits`` row (``apikey:<id>``, the table every instance shares) and learns the total.  A key is
    refused when that total plus this process's unsent hits reaches its rate; instances may overshoot by what
    they take in that second.  Refusals wait until the window ends (``Retry-After``)."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._state: dict[int, list[float]] = {}  # key id -> [window start, unsent hits, total seen in Postgres]

    def take(self, key: ApiKey, now: float | None = None) -> float | None:
        """None when allowed; else the seconds until the key's window ends."""
        rate = key.rate_per_minute
        if rate <= 0:
            return None
        now = time.time() if now is None else now
        window = now - now % self.WINDOW
        state = self._state.get(key.id)
        if state is None or state[0] != window:
            state = self._state[key.id] = [window, 0.0, 0.0]
        if state[1] + state[2] >= rate:
            return max(window + self.WINDOW - now, 0.001)
        state[1] += 1
        return None

    def unsent(self, now: float | None = None) -> list[tuple[int, float, int]]:
        """(key id, window start, hits) not yet added to Postgres, for every key used in the current window
        (0 hits: only to learn the other instances' total); they count as sent from now on."""
        now = time.time() if now is None else now
        out = []
        for key_id, state in self._state.items():
            if state[1] or state[0] + self.WINDOW > now:
                out.append((key_id, state[0], int(state[1])))
                state[2] += state[1]
                state[1] = 0.0
        return out

    def seen(self, key_id: int, window: float, total: int) -> None:
        """Postgres says the key has ``total`` hits in ``window`` (every instance's)."""
        state = self._state.get(key_id)
        if state is not None and state[0] == window:
            state[2] = max(state[2], float(total))

    def forget_old(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._state = {k: v for k, v in self._state.items() if v[0] + self.WINDOW > now or v[1]}


async def rate_worker(app: web.Application) -> None:
    """Once a second: add this process's API-key hits to the shared windows, learn every instance's totals."""
    limiter = app[keys.COMPAT_KEYS].limiter
    while True:
        await asyncio.sleep(1.0)
        batch = limiter.unsent()
        limiter.forget_old()
        for window in sorted({w for _, w, _ in batch}):
            rows = [(f"apikey:{kid}", n) for kid, w, n in batch if w == window]
            try:
                totals = await app[keys.POOL].fetch(Q.api_key_rate_add, [b for b, _ in rows], [n for _, n in rows],
                                                    window)
            except (OSError, asyncpg.PostgresError) as exc:  # the local counts still limit this process
                log.warning("api key rate not shared: %s", exc.__class__.__name__)
                continue
            for row in totals:
                limiter.seen(int(row["bucket"].removeprefix("apikey:")), window, row["count"])


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
    async with workers(api_key_touch=touch_worker(app), api_key_rate=rate_worker(app)):
        yield
    due = app[keys.COMPAT_KEYS].due_touches(now=math.inf)
    if due:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await app[keys.POOL].execute(Q.api_key_touch, due)

