"""Rate limits kept in Postgres, so every instance of the service shares them.

Fixed windows: simple, exact, and one upsert per hit.  Over the limit -> 429 problem+json with Retry-After.
A bucket keyed by a client address holds its keyed hash (:func:`ip_bucket`), never the address itself.
"""

from __future__ import annotations

import ipaddress
import math

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.hashing import hash_ip
from moderation.core.problems import Problem
from moderation.core.sql import Q


async def hit(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, *, limit: int, window_s: float) -> float | None:
    """Count one hit; return None when allowed, or the seconds until the window resets when over ``limit``."""
    row = await conn.fetchrow(Q.rate_limit_hit, bucket, float(window_s))
    if row["count"] <= limit:
        return None
    return max(row["seconds_left"], 0.0)


async def enforce(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, *, limit: int, window_s: float,
                  what: str = "requests") -> None:
    retry_after = await hit(conn, bucket, limit=limit, window_s=window_s)
    if retry_after is not None:
        seconds = max(1, math.ceil(retry_after))
        raise Problem("rate-limited", f"Too many {what}: at most {limit} per {window_s:g} s; "
                      f"retry in {seconds} s.", headers={"Retry-After": str(seconds)},
                      retry_after=seconds)


def client_ip(request: web.Request) -> str:
    """The client's IP: from the configured trusted proxy header (first address) when set, else the peer."""
    header = request.app[keys.CONFIG].trusted_proxy_header
    if header:
        raw = request.headers.get(header, "")
        first = raw.split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass
    return request.remote or "unknown"


def ip_bucket(request: web.Request, scope: str) -> str:
    """The rate-limit bucket of the client's address for ``scope``: ``<scope>:ip:<keyed hash>``.

    Raw IP addresses are never stored (README "Data retention and erasure"); the hash is the same one
    comments, reactions and reports keep, so a bucket can be matched to them by a moderator."""
    return f"{scope}:ip:{hash_ip(request.app[keys.CONFIG].hashing_key, client_ip(request))}"
