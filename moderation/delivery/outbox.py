"""Callbacks to the CMS: the delivery worker for the transactional outbox, and its admin view.

Every status change writes an ``outbox`` row in the same transaction (the one decision writer,
``moderation.decisions.writer``): the row stores only the id of the decision row it announces, and the body
is built at delivery time from that immutable row (``decisions.payload.callback_payload``, the one function
that builds it; see schema.sql for why).  This worker, started by ``review.setup``
in a cleanup_ctx when ``MODERATION_CALLBACK_URL`` is set, leases due rows with ``FOR UPDATE SKIP LOCKED``
(any number of instances may run it) and POSTs each one, signed the Standard Webhooks way:

* ``webhook-id`` is the row's stable ``webhook_id``: the same on every attempt, so the CMS can drop the
  duplicates that at-least-once delivery implies (a crash after the POST but before we record success);
* key: ``MODERATION_CALLBACK_SECRET`` (a ``whsec_`` secret), falling back to the webhook secret, so a
  CMS that verifies our webhooks with one shared secret needs no second one;
* 2xx → delivered; 410 Gone → the endpoint is disabled (rows are kept, an admin re-enables it);
  anything else (other status, timeout, connection error) → retry after an exponential, jittered backoff,
  until ``callback_max_attempts`` → failed (visible to admins, who can retry it);
* a comment's events are delivered in order: a row waits while an older undelivered row for the same
  comment exists;
* a crash mid-delivery loses nothing: the lease (timeout + margin) expires and the row is sent again;
* delivered rows are deleted by the retention worker (moderation/privacy/retention.py, 14 days by default);
  failed rows stay until an admin retries them.

On shutdown the worker stops claiming, lets in-flight deliveries finish within a grace period, and then
cancels them and releases their leases so another instance can take over immediately.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from moderation.core import audit, keys, pagination
from moderation.core.config import Config, parse_webhook_secret
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.core.webhooks import sign
from moderation.decisions.payload import callback_payload

log = logging.getLogger(__name__)

LEASE_MARGIN_S = 5.0      # a lease outlives the HTTP timeout by this much
IDLE_POLL_S = 0.5         # how often an idle worker looks for due rows
DISABLED_POLL_S = 2.0     # how often a worker checks whether a disabled endpoint was re-enabled
SHUTDOWN_GRACE_S = 10.0
MAX_ERROR_CHARS = 500
USER_AGENT = "moderation-callbacks/1"


def callback_key(config: Config) -> bytes:
    """The signing key: MODERATION_CALLBACK_SECRET, else the webhook secret (documented fallback)."""
    if config.callback_secret:
        return parse_webhook_secret(config.callback_secret, "MODERATION_CALLBACK_SECRET")
    return config.webhook_key


def backoff_delay(attempts: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempts + 1``: base·2^(attempts-1), capped, with "equal jitter" (half fixed,
    half random) so that a CMS recovering from an outage is not hit by every instance at the same instant."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempts - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, config: Config, *, poll_s: float = IDLE_POLL_S,
                 session: aiohttp.ClientSession | None = None) -> None:
        assert config.callback_url, "no callback URL configured"
        self.pool = pool
        self.config = config
        self.url: str = config.callback_url
        self.key = callback_key(config)
        self.poll_s = poll_s
        self._session = session
        self._own_session = session is None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()
        self.delivered = 0

    @property
    def lease_s(self) -> float:
        return self.config.callback_timeout_s + LEASE_MARGIN_S

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-delivery")

    async def stop(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Stop claiming; give in-flight deliveries ``grace_s`` to finish, then cancel and release them."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            if self._own_session and self._session is not None:
                await self._session.close()

    async def run(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        while not self._stopping.is_set():
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database blip: log, back off, keep going
                log.warning("outbox worker: %s: %s", exc.__class__.__name__, exc)
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_s)

    async def endpoint_disabled(self) -> bool:
        row = await self.pool.fetchrow(Q.endpoint_get, self.url)
        return row is not None and row["disabled_at"] is not None

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them concurrently; returns how many were attempted."""
        if await self.endpoint_disabled():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), DISABLED_POLL_S)
            return 0
        rows = await self.pool.fetch(Q.outbox_claim_due, self.config.callback_concurrency, self.lease_s)
        if not rows:
            return 0
        self._in_flight.update(r["id"] for r in rows)
        try:
            await asyncio.gather(*(self._deliver(r) for r in rows))
        except asyncio.CancelledError:
            # Shutdown ran out of grace: hand the leases back so another instance need not wait them out.
            ids = list(self._in_flight)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.execute(Q.outbox_release, ids), 2)
            raise
        finally:
            self._in_flight.difference_update(r["id"] for r in rows)
        return len(rows)

    async def _deliver(self, row: asyncpg.Record) -> None:
        payload = callback_payload(row)
        if payload is None:   # its decision row was deleted by hand: nothing true can be sent
            await self.pool.fetchrow(Q.outbox_retry_later, row["id"], None,
                                     f"decision {row['decision_id']} no longer exists", 0.0, 0)
            log.error("outbox: %s: decision %s no longer exists", row["webhook_id"], row["decision_id"])
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {**sign(self.key, body, webhook_id=row["webhook_id"]).as_dict(),
                   "Content-Type": "application/json"}
        status: int | None = None
        error: str
        assert self._session is not None
        try:
            async with self._session.post(self.url, data=body, headers=headers, allow_redirects=False,
                                          timeout=aiohttp.ClientTimeout(total=self.config.callback_timeout_s)
                                          ) as resp:
                status = resp.status
                text = (await resp.content.read(MAX_ERROR_CHARS)).decode("utf-8", "replace")
            error = f"HTTP {status}: {text.strip()}"[:MAX_ERROR_CHARS]
        except TimeoutError:
            error = f"timed out after {self.config.callback_timeout_s:g} s"
        except aiohttp.ClientError as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:MAX_ERROR_CHARS]
        if status is not None and 200 <= status < 300:
            await self.pool.execute(Q.outbox_delivered, row["id"], status)
            self.delivered += 1
            return
        if status == 410:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(Q.outbox_gone, row["id"], error)
                await _disable(conn, self.url, "system", f"the CMS answered 410 Gone to {row['webhook_id']}")
            log.error("outbox: %s answered 410 Gone; callbacks are disabled until an admin re-enables them",
                      self.url)
            return
        delay = backoff_delay(row["attempts"] + 1, self.config.callback_backoff_s, self.config.callback_backoff_max_s)
        result = await self.pool.fetchrow(Q.outbox_retry_later, row["id"], status, error, delay,
                                          self.config.callback_max_attempts)
        if result["failed_at"] is not None:
            log.error("outbox: gave up on %s after %d attempts: %s", row["webhook_id"], result["attempts"], error)
        else:
            log.warning("outbox: %s attempt %d failed (%s); retrying in %.1f s", row["webhook_id"],
                        result["attempts"], error, delay)


async def _disable(conn: asyncpg.Connection, url: str, actor: str, reason: str) -> asyncpg.Record:
    before = await conn.fetchrow(Q.endpoint_get, url)
    row = await conn.fetchrow(Q.endpoint_disable, url, reason, actor)
    if before is None or before["disabled_at"] is None:
        await audit.record(conn, actor, "outbox.endpoint.disable", "callback_endpoint", url,
                           before={"enabled": True}, after={"enabled": False}, reason=reason)
    return row


# ── admin view ─────────────────────────────────────────────────────────────────────────────────────
STATES = {"all": "TRUE", "pending": "o.delivered_at IS NULL AND o.failed_at IS NULL",
          "delivered": "o.delivered_at IS NOT NULL", "failed": "o.failed_at IS NOT NULL"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state(row: asyncpg.Record) -> str:
    return "delivered" if row["delivered_at"] else "failed" if row["failed_at"] else "pending"


def row_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "webhook_id": row["webhook_id"], "event_type": row["event_type"],
            "comment_id": row["comment_id"], "state": _state(row), "attempts": row["attempts"],
            "created_at": _iso(row["created_at"]), "next_attempt_at": _iso(row["next_attempt_at"]),
            "last_attempt_at": _iso(row["last_attempt_at"]), "last_status": row["last_status"],
            "last_error": row["last_error"], "delivered_at": _iso(row["delivered_at"]),
            "failed_at": _iso(row["failed_at"]), "payload": callback_payload(row)}


async def endpoint_state(conn: asyncpg.Connection, config: Config) -> dict[str, Any]:
    row = await conn.fetchrow(Q.endpoint_get, config.callback_url) if config.callback_url else None
    return {"url": config.callback_url, "configured": bool(config.callback_url),
            "enabled": bool(config.callback_url) and (row is None or row["disabled_at"] is None),
            "disabled_at": _iso(row["disabled_at"]) if row else None,
            "disabled_reason": row["disabled_reason"] if row else None,
            "updated_by": row["updated_by"] if row else None}


async def overview(conn: asyncpg.Connection, config: Config, *, state: str = "all", limit: int = 50,
                   cursor: str | None = None) -> dict[str, Any]:
    """Endpoint state, counts by delivery state, and rows (newest first, keyset-paginated)."""
    if state not in STATES:
        raise validation_error([{"field": "state", "message": f"must be one of {', '.join(STATES)}"}])
    key = pagination.decode(cursor, 1)
    args: list[Any] = []
    where = STATES[state]
    if key is not None:
        if not isinstance(key[0], int):
            raise validation_error([{"field": "cursor", "message": "is not a cursor this API issued"}])
        args.append(key[0])
        where += f" AND o.id < ${len(args)}"
    args.append(limit + 1)
    rows = await conn.fetch(f"{Q.outbox_rows_select} WHERE {where} ORDER BY o.id DESC LIMIT ${len(args)}", *args)
    more = len(rows) > limit
    rows = rows[:limit]
    counts = dict(await conn.fetchrow(Q.outbox_counts))
    counts["oldest_pending_at"] = _iso(counts["oldest_pending_at"])
    return {"endpoint": await endpoint_state(conn, config), "counts": counts,
            "items": [row_json(r) for r in rows],
            "next_cursor": pagination.encode(rows[-1]["id"]) if more else None}


async def set_endpoint(conn: asyncpg.Connection, config: Config, *, enabled: bool, actor: str,
                       reason: Any = None) -> dict[str, Any]:
    """Enable (e.g. after a 410 was fixed on the CMS side) or disable callbacks; audited."""
    if not config.callback_url:
        raise Problem("conflict", "no callback URL is configured (MODERATION_CALLBACK_URL)")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        raise validation_error([{"field": "reason", "message": "must be a string of at most 1000 characters"}])
    async with conn.transaction():
        if enabled:
            before = await endpoint_state(conn, config)
            await conn.execute(Q.endpoint_enable, config.callback_url, actor)
            if not before["enabled"]:
                await audit.record(conn, actor, "outbox.endpoint.enable", "callback_endpoint", config.callback_url,
                                   before={"enabled": False}, after={"enabled": True}, reason=reason)
        else:
            await _disable(conn, config.callback_url, actor, reason or f"disabled by {actor}")
        return await endpoint_state(conn, config)


async def retry(conn: asyncpg.Connection, outbox_id: int, actor: str) -> dict[str, Any]:
    """Send a failed (or waiting) row again now with a fresh attempt budget; 409 if already delivered."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.outbox_retry, outbox_id)
        if row is None:
            if await conn.fetchrow(Q.outbox_get, outbox_id) is None:
                raise Problem("not-found", f"no outbox row with id {outbox_id}")
            raise Problem("conflict", f"outbox row {outbox_id} was already delivered")
        await audit.record(conn, actor, "outbox.retry", "outbox", outbox_id, after={"state": "pending"})
        row = await conn.fetchrow(f"{Q.outbox_rows_select} WHERE o.id = $1", outbox_id)
    return row_json(row)


# ── app wiring ─────────────────────────────────────────────────────────────────────────────────────
async def outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: run one delivery worker per instance while the app runs (when a callback URL is set)."""
    config = app[keys.CONFIG]
    worker: DeliveryWorker | None = None
    if config.callback_url:
        worker = DeliveryWorker(app[keys.POOL], config)
        worker.start()
        app[keys.OUTBOX_WORKER] = worker
        log.info("outbox: delivering callbacks to %s", config.callback_url)
    yield
    if worker is not None:
        await worker.stop(SHUTDOWN_GRACE_S)

