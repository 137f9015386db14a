"""Several instances behind PgBouncer in transaction mode (README "Running several instances").

A real PgBouncer (Debian's) pools the instances' connections onto a few server connections, so consecutive
statements of one client run on different server sessions: anything relying on session state (named
prepared statements, SET, session advisory locks, LISTEN) breaks here.  The scale-out tests of
tests/test_scale_out.py run again through it (this module's ``config`` fixture), plus idempotency, every
feature on both instances, retention, erasure, and the start-up rules for migrations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from moderation.app import create_app
from moderation.core import keys
from moderation.core.config import Config
from moderation.core.migrations import MigrationError
from moderation.core.webhooks import sign
from moderation.privacy import prune_once
from moderation.review import auth
from tests.conftest import TEST_SECRET, comment_payload, post_webhook
from tests.pgbouncer_support import PgBouncer, require_pgbouncer
from tests.test_challenges import solve
from tests.test_scale_out import (
    test_captcha_token_issued_on_one_instance_is_single_use_on_both as test_captcha_token_via_pgbouncer,
)
from tests.test_scale_out import test_claims_never_overlap_across_instances as test_claims_via_pgbouncer
from tests.test_scale_out import test_each_callback_delivered_once_by_two_workers as test_callbacks_via_pgbouncer
from tests.test_scale_out import test_rate_limit_is_shared_by_instances as test_rate_limits_via_pgbouncer

__all__ = ["test_callbacks_via_pgbouncer", "test_captcha_token_via_pgbouncer", "test_claims_via_pgbouncer",
           "test_rate_limits_via_pgbouncer"]

POOL_SIZE = 3  # server connections per database: far fewer than the instances' client connections


@pytest.fixture(scope="module")
def bouncer(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgBouncer]:
    require_pgbouncer()
    bouncer = PgBouncer(postgres.admin_dsn, tmp_path_factory.mktemp("pgbouncer"), pool_size=POOL_SIZE)
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def config(database_url: str, bouncer: PgBouncer, tmp_path: Path) -> Config:
    """The tests' config, with every connection of the app through PgBouncer in transaction mode."""
    name = urlsplit(database_url).path.lstrip("/")
    return Config(database_url=bouncer.dsn(name), db_pooler="transaction", db_pool_size=8,
                  data_dir=tmp_path / "data", webhook_secret=TEST_SECRET, siteverify_secret="sv_test_secret",
                  log_json=False, scoring_processes=0, challenge_render_processes=0)


async def _admin(db: Any) -> dict[str, str]:
    mod = await auth.create_moderator(db, "admin@news.example", "correct horse battery staple", "admin")
    return {"Authorization": f"Bearer {await auth.issue_token(db, mod.id, 'pgbouncer test')}"}


async def test_the_pooler_multiplexes(aiohttp_client: Any, config: Config, db: Any) -> None:
    """Sixteen client connections of two instances share POOL_SIZE server sessions."""
    a, b = await aiohttp_client(create_app(config)), await aiohttp_client(create_app(config))
    conns = [await app.app[keys.POOL].acquire() for app in (a, b) for _ in range(8)]
    try:
        pids = await asyncio.gather(*(c.fetchval("SELECT pg_backend_pid()") for c in conns))
        assert len(set(pids)) <= POOL_SIZE
    finally:
        for app, conn in zip([a] * 8 + [b] * 8, conns, strict=True):
            await app.app[keys.POOL].release(conn)


async def test_replays_across_instances_store_one_comment(aiohttp_client: Any, config: Config, db: Any) -> None:
    a, b = await aiohttp_client(create_app(config)), await aiohttp_client(create_app(config))
    body = json.dumps(comment_payload("c-once")).encode()
    from moderation.core.config import parse_webhook_secret

    headers = {"Content-Type": "application/json",
               **sign(parse_webhook_secret(TEST_SECRET), body, webhook_id="msg_once").as_dict()}
    answers = await asyncio.gather(*(c.post("/v1/webhooks/comments", data=body, headers=headers)
                                     for c in (a, b) * 6))
    assert {r.status for r in answers} == {200}
    bodies = [await r.json() for r in answers]
    assert len({json.dumps(x, sort_keys=True) for x in bodies}) == 1
    assert await db.fetchval("SELECT count(*) FROM comments WHERE external_id = 'c-once'") == 1
    # many different comments at once, through both
    results = await asyncio.gather(*(post_webhook(a if i % 2 else b, comment_payload(f"c-{i}")) for i in range(40)))
    assert {r.status for r in results} == {200}
    assert await db.fetchval("SELECT count(*) FROM comments") == 41


async def test_every_feature_works_through_the_pooler(aiohttp_client: Any, config: Config, db: Any) -> None:
    a, b = await aiohttp_client(create_app(config)), await aiohttp_client(create_app(config))
    admin = await _admin(db)
    for client in (a, b):
        assert (await client.get("/readyz")).status == 200
        assert "moderation_http_requests_total" in await (await client.get("/metrics")).text()
    token = await solve(a, db, config)  # challenge on a, answered on a, token verified on b
    verdict = await (await b.post("/v1/siteverify", data={"secret": "sv_test_secret", "response": token})).json()
    assert verdict["success"] is True
    author = {"id": "reader-9", "name": "Nina Nine", "email": "n@x.example", "ip": "192.0.2.9"}
    assert (await post_webhook(a, comment_payload("c-1", author=author))).status == 200
    cid = await db.fetchval("SELECT id FROM comments WHERE external_id = 'c-1'")
    resp = await b.post(f"/v1/comments/{cid}/decision", json={"action": "reject"}, headers=admin)
    assert resp.status == 200, await resp.text()
    decision = (await resp.json())["decision"]["decision_id"]
    resp = await a.post(f"/v1/decisions/{decision}/undo", json={}, headers=admin)
    assert resp.status == 200, await resp.text()
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"  # undone
    resp = await a.put(f"/v1/comments/{cid}/reaction", json={"kind": "like", "reader_id": "r-1"})
    assert resp.status == 200, await resp.text()
    resp = await b.put(f"/v1/comments/{cid}/reaction", json={"kind": "dislike", "reader_id": "r-2"})
    assert resp.status == 200
    resp = await a.post(f"/v1/comments/{cid}/reports", json={"reason": "spam", "reader_id": "r-3"})
    assert resp.status in (200, 201), await resp.text()
    resp = await b.get("/v1/articles/art-1/comments")
    assert resp.status == 200, await resp.text()
    assert [c["id"] for c in (await resp.json())["comments"]] == [cid]
    assert (await a.get("/v1/queue", headers=admin)).status == 200
    assert (await b.get("/v1/audit", headers=admin)).status == 200
    assert (await a.get("/v1/commenters/reader-9/export", headers=admin)).status == 200
    resp = await b.post("/v1/commenters/reader-9/erase", headers=admin)  # transaction-local audit rewrite
    assert resp.status == 200, await resp.text()
    assert await db.fetchval("SELECT text FROM comments WHERE id = $1", cid) == ""
    await db.execute("""INSERT INTO webhook_receipts (webhook_id, status, response, received_at)
                        VALUES ('msg_old', 200, '{}', now() - interval '30 days')""")
    assert (await prune_once(a.app[keys.POOL], config))["webhook_receipts"] == 1


async def test_pending_migrations_need_the_direct_url(aiohttp_client: Any, bouncer: PgBouncer, postgres: Any,
                                                      tmp_path: Path) -> None:
    conn = await postgres._admin()
    try:
        await conn.execute('CREATE DATABASE "pgbouncer_fresh"')
    finally:
        await conn.close()
    postgres.created.append("pgbouncer_fresh")
    config = Config(database_url=bouncer.dsn("pgbouncer_fresh"), db_pooler="transaction", data_dir=tmp_path / "d",
                    webhook_secret=TEST_SECRET, siteverify_secret="sv", log_json=False, scoring_processes=0,
                    challenge_render_processes=0)
    with pytest.raises(MigrationError, match="MODERATION_DB_DIRECT_URL"):
        await aiohttp_client(create_app(config))
    direct = config.with_changes(db_direct_url=postgres.dsn("pgbouncer_fresh"))
    client = await aiohttp_client(create_app(direct))  # migrates on the direct URL, serves through the pooler
    assert (await client.get("/readyz")).status == 200
    check = await asyncpg.connect(postgres.dsn("pgbouncer_fresh"))
    try:
        assert await check.fetchval("SELECT count(*) FROM schema_migrations") >= 1
    finally:
        await check.close()
