"""Blocked IP hashes for Akismet's comment-check, cached: a check must not cost a Postgres round trip.

Moderators block IPs (``blocked_authors`` kind ``ip_hash``) for the webhook too; here the whole set is read at
most every ``CACHE_SECONDS`` (a new block reaches Akismet checks within that time).  A site with more than
``MAX_CACHED`` blocked IPs is asked per check instead.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from moderation.core.hashing import hash_ip
from moderation.core.sql import Q

CACHE_SECONDS = 10.0
MAX_CACHED = 50_000


class BlockedIps:
    def __init__(self, config: Any) -> None:
        self._config = config
        self._key: bytes | None = None  # derived on first use (Config derives it from the secret on each access)
        self._reasons: dict[str, str] | None = None
        self._loaded_at = 0.0

    async def reason(self, pool: asyncpg.Pool, ip: str | None) -> str | None:
        """Why this client IP is blocked, or None."""
        if self._key is None:
            self._key = self._config.hashing_key
        ip_hash = hash_ip(self._key, ip)
        if ip_hash is None:
            return None
        if self._reasons is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            rows = await pool.fetch(Q.compat_blocked_ips, MAX_CACHED + 1)
            self._reasons = None if len(rows) > MAX_CACHED else {r["value"]: r["reason"] for r in rows}
            self._loaded_at = time.monotonic()
        if self._reasons is None:
            return await pool.fetchval(Q.compat_blocked_ip, ip_hash)
        return self._reasons.get(ip_hash)
