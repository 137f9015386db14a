"""Who is calling a compat route (an API key), whether it may (its rate), and counting it per key."""

from __future__ import annotations

import math

from aiohttp import web
from prometheus_client import Counter

from moderation.compat.apikeys import ApiKey
from moderation.core import keys

INVALID_KEY_LABEL = "(invalid)"


class CompatMetrics:
    """``moderation_api_key_requests_total{key, protocol, method, outcome}`` in the service's registry: every
    compat call, counted under its key's name (never the key itself)."""

    def __init__(self, registry: object) -> None:
        self.calls = Counter("moderation_api_key_requests_total",
                             "Perspective/Akismet-protocol calls per API key, method and outcome",
                             ["key", "protocol", "method", "outcome"], registry=registry)
        self._children: dict[tuple[str, str, str, str], object] = {}

    def count(self, key: ApiKey | None, protocol: str, method: str, outcome: str) -> None:
        labels = (key.name if key is not None else INVALID_KEY_LABEL, protocol, method, outcome)
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self.calls.labels(*labels)
        child.inc()  # type: ignore[attr-defined]


async def lookup(request: web.Request, key: str | None) -> ApiKey | None:
    return await request.app[keys.COMPAT_KEYS].lookup(request.app[keys.POOL], key)


def retry_after(request: web.Request, key: ApiKey) -> int | None:
    """None when the key may make this call now; else whole seconds to wait (its rate is used up)."""
    wait = request.app[keys.COMPAT_KEYS].limiter.take(key)
    return None if wait is None else max(1, math.ceil(wait))


def count(request: web.Request, key: ApiKey | None, protocol: str, method: str, outcome: str) -> None:
    request.app[keys.COMPAT_METRICS].count(key, protocol, method, outcome)
