"""Rate limits kept in Postgres, so every instance of the service shares them.

Fixed windows: simple, exact, and one upsert per hit.  Over the limit -> 429 problem+json with Retry-After.
A bucket keyed by a client address holds its keyed hash (:func:`ip_bucket`), never the address itself.
"""

from __future__ import annotations

import math

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.clientip import client_address, limit_key
from moderation.core.hashing import hash_ip
from moderation.core.problems import Problem
from moderation.core.sql import Q

_CLIENT_IP = "moderation.client_ip"


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
    """The client's address: the TCP peer, or behind trusted proxies the rightmost hop of the configured
    header that is not one of them (:mod:`moderation.core.clientip`).  Cached on the request."""
    cached = request.get(_CLIENT_IP)
    if cached is None:
        config = request.app[keys.CONFIG]
        header = config.trusted_proxy_header
        values = request.headers.getall(header, []) if header else []
        cached = request[_CLIENT_IP] = client_address(request.remote, header, values, config.trusted_proxies)
    return cached


def client_network(request: web.Request) -> str:
    """What a per-address limit counts: the client's address, or its /64 for IPv6 (``MODERATION_IPV6_PREFIX``)."""
    config = request.app[keys.CONFIG]
    return limit_key(client_ip(request), ipv6_prefix=config.ipv6_limit_prefix, ipv4_prefix=config.ipv4_limit_prefix)


def client_hash(request: web.Request) -> str | None:
    """The keyed hash of :func:`client_network` that rows and buckets keep (never the address)."""
    return hash_ip(request.app[keys.CONFIG].hashing_key, client_network(request))


def ip_bucket(request: web.Request, scope: str) -> str:
    """The rate-limit bucket of the client's address for ``scope``: ``<scope>:ip:<keyed hash>``.

    Raw IP addresses are never stored (README "Data retention and erasure"); the hash is the same one
    comments, reactions and reports keep, so a bucket can be matched to them by a moderator."""
    return f"{scope}:ip:{client_hash(request)}"
