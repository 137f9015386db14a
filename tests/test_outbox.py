"""Callbacks to the CMS through the outbox: a real aiohttp receiver plays the CMS (no mocks).

Signatures verify with the reference ``standardwebhooks`` library; 500s are retried with backoff; a 410
disables the endpoint until an admin re-enables it; attempts run out into ``failed``; several workers
share the work without double-sending; shutdown lets the in-flight delivery finish."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import standardwebhooks
from aiohttp import web

from moderation.core.db import create_pool
from moderation.delivery import outbox
from moderation.review import decisions
from tests.conftest import TEST_SECRET
from tests.test_review_support import actor, seed_comments

CALLBACK_SECRET = "whsec_" + "Y2FsbGJhY2stc2VjcmV0LWZvci10ZXN0cy0zMmJ5dGVz"


class Receiver:
    """A CMS stand-in: records every POST; ``script`` decides the answer for the n-th request."""

    def __init__(self, secret: str = CALLBACK_SECRET) -> None:
        self.verifier = standardwebhooks.Webhook(secret)
        self.seen: list[dict[str, Any]] = []
        self.script: Callable[[int], int] = lambda n: 200
        self.delay_s = 0.0
        self.started = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        payload = self.verifier.verify(body, dict(request.headers))   # raises if the signature is wrong
        self.seen.append({"id": request.headers["webhook-id"], "payload": payload, "at": time.monotonic()})
        self.started.set()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.Response(status=self.script(len(self.seen)), text="ok")

    def ids(self) -> list[str]:
        return [s["id"] for s in self.seen]


@pytest.fixture
async def receiver(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/cms/callbacks", rec.handle)
    server = await aiohttp_server(app)
    yield rec, str(server.make_url("/cms/callbacks"))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    p = await create_pool(database_url, size=6)
    yield p
    await p.close()


def cb_config(config: Any, url: str, **changes: Any) -> Any:
    return config.with_changes(callback_url=url, callback_secret=CALLBACK_SECRET, callback_backoff_s=0.05,
                               callback_backoff_max_s=0.2, callback_timeout_s=5, **changes)


async def wait_for(predicate: Callable[[], Any], limit_s: float = 15) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def decide_some(db: Any, cfg: Any, n: int, action: str = "reject") -> list[int]:
    ids = await seed_comments(db, n)
    for cid in ids:
        await decisions.apply(db, cfg, cid, action, actor(), None)
    return ids



@contextlib.asynccontextmanager
async def running_worker(pool: Any, cfg: Any, *, poll_s: float) -> AsyncIterator[outbox.DeliveryWorker]:
    """A delivery worker running for the block, stopped after it (also when the block fails)."""
    worker = outbox.DeliveryWorker(pool, cfg, poll_s=poll_s)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()

async def test_delivers_signed_callbacks_that_verify(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    cfg = cb_config(config, url)
    ids = await decide_some(db, cfg, 3)
    async with running_worker(pool, cfg, poll_s=0.05):
        await wait_for(lambda: len(rec.seen) == 3)
        await wait_for(lambda: db.fetchval("SELECT count(*) = 3 FROM outbox WHERE delivered_at IS NOT NULL"))
    stored = {r["webhook_id"]: r for r in await db.fetch("SELECT * FROM outbox")}
    assert set(rec.ids()) == set(stored)
    for s in rec.seen:
        assert s["payload"]["type"] == "comment.rejected"
        assert s["payload"]["data"]["id"] in ids and s["payload"]["data"]["decided_by"] == "moderator:1"
        assert stored[s["id"]]["attempts"] == 1 and stored[s["id"]]["last_status"] == 200


async def test_falls_back_to_the_webhook_secret(aiohttp_server: Any, pool: Any, db: Any, config: Any) -> None:
    rec = Receiver(TEST_SECRET)
    app = web.Application()
    app.router.add_post("/cb", rec.handle)
    server = await aiohttp_server(app)
    cfg = cb_config(config, str(server.make_url("/cb"))).with_changes(callback_secret=None)
    await decide_some(db, cfg, 1)
    async with running_worker(pool, cfg, poll_s=0.05):
        await wait_for(lambda: len(rec.seen) == 1)


async def test_retries_500s_with_backoff_then_delivers(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.script = lambda n: 500 if n <= 3 else 200
    cfg = cb_config(config, url)
    await decide_some(db, cfg, 1)
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT delivered_at IS NOT NULL FROM outbox"))
    assert len(rec.seen) == 4 and len(set(rec.ids())) == 1      # same webhook-id on every attempt
    gaps = [b["at"] - a["at"] for a, b in zip(rec.seen, rec.seen[1:], strict=False)]
    assert all(g >= 0.02 for g in gaps)                          # waited between attempts
    row = await db.fetchrow("SELECT * FROM outbox")
    assert row["attempts"] == 4 and row["last_error"] is None and row["failed_at"] is None


def test_backoff_grows_exponentially_with_jitter() -> None:
    import random

    rng = random.Random(1)
    delays = [outbox.backoff_delay(n, 2.0, 3600.0, rng) for n in range(1, 12)]
    for n, d in enumerate(delays, 1):
        ceiling = min(3600.0, 2.0 * 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling
    assert outbox.backoff_delay(40, 2.0, 3600.0, rng) <= 3600.0


async def test_gives_up_after_max_attempts(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.script = lambda n: 503
    cfg = cb_config(config, url, callback_max_attempts=3)
    await decide_some(db, cfg, 1)
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT failed_at IS NOT NULL FROM outbox"))
    row = await db.fetchrow("SELECT * FROM outbox")
    assert row["attempts"] == 3 and row["last_status"] == 503 and "HTTP 503" in row["last_error"]
    assert len(rec.seen) == 3
    # an admin retries it: fresh budget, and it is delivered once the CMS is back
    rec.script = lambda n: 200
    await outbox.retry(db, row["id"], actor())
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT delivered_at IS NOT NULL FROM outbox"))


async def test_410_disables_endpoint_until_re_enabled(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.script = lambda n: 410
    cfg = cb_config(config, url, callback_concurrency=1)
    await decide_some(db, cfg, 3)
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT disabled_at IS NOT NULL FROM callback_endpoints"))
        await asyncio.sleep(0.5)
        assert len(rec.seen) == 1                            # deliveries stopped after the 410
        state = await outbox.endpoint_state(db, cfg)
        assert state["enabled"] is False and "410" in state["disabled_reason"]
        assert await db.fetchval("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL") == 3
        assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'outbox.endpoint.disable'") == 1
        rec.script = lambda n: 200
        await outbox.set_endpoint(db, cfg, enabled=True, actor=actor(9), reason="CMS fixed")
        await wait_for(lambda: db.fetchval("SELECT count(*) = 3 FROM outbox WHERE delivered_at IS NOT NULL"), 20)


async def test_a_comments_events_arrive_in_order(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.script = lambda n: 500 if n == 1 else 200             # the first event fails once
    cfg = cb_config(config, url)
    [cid] = await seed_comments(db, 1)
    d = (await decisions.apply(db, cfg, cid, "reject", actor(), None))["decision"]["decision_id"]
    await decisions.undo(db, cfg, d, actor())
    await decisions.apply(db, cfg, cid, "approve", actor(), None)
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT count(*) = 3 FROM outbox WHERE delivered_at IS NOT NULL"))
    delivered_types = []
    for s in rec.seen:
        if not delivered_types or delivered_types[-1][0] != s["id"]:
            delivered_types.append((s["id"], s["payload"]["type"]))
    assert [t for _, t in delivered_types] == ["comment.rejected", "comment.pending", "comment.approved"]
    # every row (payload built at delivery from its decision row) carries the body of ITS change, although
    # the comment was approved by the time any of them was sent
    bodies = {s["payload"]["type"]: s["payload"] for s in rec.seen}
    kinds = [r["payload"] is None for r in await db.fetch("SELECT payload FROM outbox ORDER BY id")]
    assert kinds == [True, True, True]
    for status in ("rejected", "pending", "approved"):
        body = bodies[f"comment.{status}"]
        assert body["data"]["status"] == status and body["data"]["id"] == cid
        assert body["data"]["external_id"] == "c-0" and body["data"]["article_id"] == "art-1"
        assert body["data"]["decided_by"] == "moderator:1" and body["data"]["scores"] == {"spam": 0.6, "abuse": 0.1}
        assert set(body) == {"type", "timestamp", "data"}


async def test_a_decision_row_whose_decision_is_gone_fails_visibly(receiver: Any, pool: Any, db: Any,
                                                                   config: Any) -> None:
    rec, url = receiver
    cfg = cb_config(config, url)
    [cid] = await seed_comments(db, 1)
    await decisions.apply(db, cfg, cid, "reject", actor(), None)
    await db.execute("DELETE FROM decisions WHERE comment_id = $1 AND actor <> 'system'", cid)   # by hand
    async with running_worker(pool, cfg, poll_s=0.02):
        await wait_for(lambda: db.fetchval("SELECT failed_at IS NOT NULL FROM outbox"))
    assert rec.seen == [] and "no longer exists" in await db.fetchval("SELECT last_error FROM outbox")


async def test_several_workers_share_without_double_sending(receiver: Any, pool: Any, database_url: str, db: Any,
                                                             config: Any) -> None:
    rec, url = receiver
    cfg = cb_config(config, url, callback_concurrency=4)
    await seed_comments(db, 1)
    await db.execute("""INSERT INTO outbox (event_type, comment_id, payload)
                        SELECT 'comment.approved', NULL, jsonb_build_object('type', 'comment.approved', 'n', g)
                        FROM generate_series(1, 60) g""")
    pool2 = await create_pool(database_url, size=4)
    workers = [outbox.DeliveryWorker(p, cfg, poll_s=0.02) for p in (pool, pool2, pool)]
    for w in workers:
        w.start()
    try:
        await wait_for(lambda: db.fetchval("SELECT count(*) = 60 FROM outbox WHERE delivered_at IS NOT NULL"))
    finally:
        for w in workers:
            await w.stop()
        await pool2.close()
    assert len(rec.ids()) == len(set(rec.ids())) == 60
    assert sum(1 for w in workers if w.delivered) >= 2


async def test_shutdown_finishes_the_in_flight_delivery(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.delay_s = 1.0
    cfg = cb_config(config, url)
    await decide_some(db, cfg, 1)
    worker = outbox.DeliveryWorker(pool, cfg, poll_s=0.02)
    worker.start()
    await asyncio.wait_for(rec.started.wait(), 10)
    await worker.stop(grace_s=5)
    assert await db.fetchval("SELECT delivered_at IS NOT NULL FROM outbox")


async def test_shutdown_past_grace_releases_the_lease(receiver: Any, pool: Any, db: Any, config: Any) -> None:
    rec, url = receiver
    rec.delay_s = 3.0
    cfg = cb_config(config, url)
    await decide_some(db, cfg, 1)
    worker = outbox.DeliveryWorker(pool, cfg, poll_s=0.02)
    worker.start()
    await asyncio.wait_for(rec.started.wait(), 10)
    await worker.stop(grace_s=0.2)
    row = await db.fetchrow("SELECT * FROM outbox")
    assert row["delivered_at"] is None and row["locked_until"] is None   # another instance may take it at once


async def test_app_runs_the_worker(aiohttp_client: Any, receiver: Any, config: Any, db: Any) -> None:
    from moderation.app import create_app
    from tests.conftest import comment_payload, post_webhook

    rec, url = receiver
    client = await aiohttp_client(create_app(cb_config(config, url)))
    resp = await post_webhook(client, comment_payload("c-live"))
    assert resp.status == 200
    await wait_for(lambda: len(rec.seen) == 1)
    assert rec.seen[0]["payload"]["data"]["external_id"] == "c-live"
    assert rec.seen[0]["payload"]["data"]["decided_by"] == "system"


