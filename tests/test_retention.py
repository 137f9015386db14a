"""Retention: the worker deletes exactly what is due, on the configured schedules; no raw IP is stored."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from moderation.app import create_app
from moderation.core.clientip import parse_networks
from moderation.core.config import Config, ConfigError
from moderation.privacy import prune_once, schedules
from moderation.review import auth
from tests.conftest import comment_payload, post_webhook
from tests.pg_dump_support import dump_text


async def _seed_due_and_kept(db: Any) -> None:
    """Per table one row just past its retention and one just within it."""
    await db.execute("""INSERT INTO webhook_receipts (webhook_id, status, response, received_at) VALUES
                          ('msg_old', 200, '{}', now() - interval '7 days 1 minute'),
                          ('msg_new', 200, '{}', now() - interval '6 days 23 hours')""")
    # two hours: the sliding hour windows of the confirmations read the previous window
    await db.execute("""INSERT INTO rate_limits VALUES ('old', now() - interval '121 minutes', 1),
                                                       ('new', now() - interval '119 minutes', 1)""")
    mod = await auth.create_moderator(db, "mod@news.example", "correct horse battery staple", "moderator")
    await db.execute("""INSERT INTO moderator_sessions (id_hash, moderator_id, csrf_token, expires_at,
                                                        absolute_expires_at) VALUES
                          ('idle', $1, 'x', now() - interval '1 second', now() + interval '1 hour'),
                          ('capped', $1, 'x', now() + interval '1 hour', now() - interval '1 second'),
                          ('live', $1, 'x', now() + interval '1 hour', now() + interval '2 hours')""", mod.id)
    for name, expired in (("old", timedelta(minutes=11)), ("new", timedelta(minutes=9))):
        await db.execute("""INSERT INTO challenges (id, salt, code_hash, code_length, article_id, action, expires_at)
                            VALUES ($1, '\\x00', 'h', 5, 'a', 'comment', now() - $2::interval)""", name, expired)
        await db.execute("""INSERT INTO challenge_tokens (token_hash, challenge_id, article_id, action, expires_at)
                            VALUES ($1, $1, 'a', 'comment', now() - $2::interval)""", name, expired)
        await db.execute("""INSERT INTO proof_redemptions (challenge, expires_at) VALUES ($1, now() - $2::interval)""",
                         name, expired)
    await db.execute("""INSERT INTO outbox (event_type, payload, delivered_at) VALUES
                          ('comment.approved', '{"n": "old"}', now() - interval '14 days 1 minute'),
                          ('comment.approved', '{"n": "new"}', now() - interval '13 days 23 hours')""")
    await db.execute("""INSERT INTO outbox (event_type, payload, created_at, failed_at) VALUES
                          ('comment.rejected', '{"n": "failed"}', now() - interval '9 days', now() - interval '8 days'),
                          ('comment.rejected', '{"n": "pending"}', now() - interval '90 days', NULL)""")
    await db.execute("""INSERT INTO reaction_abuse (scope, subject, target_type, target_id, window_start, window_s,
                                                    last_at) VALUES
                          ('ip', 'old', 'article', 'a', now() - interval '31 days', 60,
                           now() - interval '30 days 1 minute'),
                          ('ip', 'new', 'article', 'a', now() - interval '30 days', 60,
                           now() - interval '29 days 23 hours')""")
    await db.execute("""INSERT INTO login_failures (key, failures, blocked_until, last_at) VALUES
                          ('old', 9, now() - interval '1 hour', now() - interval '25 hours'),
                          ('new', 9, now() - interval '1 hour', now() - interval '23 hours')""")


async def test_prune_deletes_exactly_what_is_due(db: Any, config: Config) -> None:
    await _seed_due_and_kept(db)
    deleted = await prune_once(db, config, batch=1)  # batch 1: the loop over batches is exercised too
    assert deleted == {"webhook_receipts": 1, "rate_limits": 1, "moderator_sessions": 2, "challenges": 1,
                       "challenge_tokens": 1, "proof_redemptions": 1, "outbox_delivered": 1, "reaction_abuse": 1,
                       "login_failures": 1}
    assert await db.fetchval("SELECT array_agg(webhook_id) FROM webhook_receipts") == ["msg_new"]
    assert await db.fetchval("SELECT array_agg(bucket) FROM rate_limits") == ["new"]
    assert await db.fetchval("SELECT array_agg(id_hash) FROM moderator_sessions") == ["live"]
    assert await db.fetchval("SELECT array_agg(id) FROM challenges") == ["new"]
    assert await db.fetchval("SELECT array_agg(token_hash) FROM challenge_tokens") == ["new"]
    assert sorted(await db.fetchval("SELECT array_agg(payload->>'n') FROM outbox")) == ["failed", "new", "pending"]
    assert await db.fetchval("SELECT array_agg(subject) FROM reaction_abuse") == ["new"]
    assert await db.fetchval("SELECT array_agg(key) FROM login_failures") == ["new"]
    assert set((await prune_once(db, config)).values()) == {0}  # nothing more is due


async def test_zero_days_keeps_rows_forever(db: Any, config: Config) -> None:
    await _seed_due_and_kept(db)
    forever = config.with_changes(retain_receipts_days=0, retain_outbox_days=0, retain_abuse_log_days=0)
    assert {s.what for s in schedules(forever)} == {"rate_limits", "moderator_sessions", "challenges",
                                                    "challenge_tokens", "proof_redemptions", "login_failures"}
    await prune_once(db, forever)
    assert await db.fetchval("SELECT count(*) FROM webhook_receipts") == 2
    assert await db.fetchval("SELECT count(*) FROM outbox") == 4
    assert await db.fetchval("SELECT count(*) FROM reaction_abuse") == 2


def test_schedules_are_configured_from_the_environment() -> None:
    config = Config.from_env({"MODERATION_RETAIN_RECEIPTS_DAYS": "2", "MODERATION_RETAIN_OUTBOX_DAYS": "0.5",
                              "MODERATION_RETAIN_RATE_LIMITS": "7200", "MODERATION_RETENTION_INTERVAL": "60"})
    ages = {s.what: s.age_s for s in schedules(config)}
    assert ages["webhook_receipts"] == 2 * 86400 and ages["outbox_delivered"] == 43200
    assert ages["rate_limits"] == 7200 and config.retention_interval_s == 60
    with pytest.raises(ConfigError, match="MODERATION_RETAIN_RECEIPTS_DAYS"):
        Config.from_env({"MODERATION_RETAIN_RECEIPTS_DAYS": "0.5"})  # shorter than any replay could come
    with pytest.raises(ConfigError, match="MODERATION_RETAIN_RATE_LIMITS"):
        Config.from_env({"MODERATION_RETAIN_RATE_LIMITS": "60"})  # would cut the 1 h report window short


async def test_the_app_runs_the_worker(aiohttp_client: Any, db: Any, config: Config) -> None:
    await db.execute("""INSERT INTO webhook_receipts (webhook_id, status, response, received_at)
                        VALUES ('msg_old', 200, '{}', now() - interval '30 days')""")
    client = await aiohttp_client(create_app(config.with_changes(retention_interval_s=0.05)))
    counted = 'moderation_retention_deleted_total{what="webhook_receipts"} 1.0'
    for _ in range(200):  # the round's counts reach the metrics when the round is over
        if counted in await (await client.get("/metrics")).text():
            break
        await asyncio.sleep(0.05)
    assert counted in await (await client.get("/metrics")).text()
    assert await db.fetchval("SELECT count(*) FROM webhook_receipts") == 0


async def test_no_raw_ip_address_is_stored_anywhere(aiohttp_client: Any, db: Any, config: Config,
                                                    database_url: str) -> None:
    """Every feature that sees the client's address, used from one address; the dump never holds it."""
    ip = "198.51.100.77"
    behind_proxy = config.with_changes(trusted_proxy_header="X-Forwarded-For",
                                       trusted_proxies=parse_networks("127.0.0.1"))
    client = await aiohttp_client(create_app(behind_proxy))
    fwd = {"X-Forwarded-For": ip}
    payload = comment_payload("c-ip")
    payload["data"]["author"]["ip"] = ip
    assert (await post_webhook(client, payload)).status == 200
    cid = (await db.fetchval("SELECT id FROM comments WHERE external_id = 'c-ip'"))
    await db.execute("UPDATE comments SET status = 'approved' WHERE id = $1", cid)
    resp = await client.put(f"/v1/comments/{cid}/reaction", json={"kind": "like"}, headers=fwd)
    assert resp.status == 200, await resp.text()
    resp = await client.post(f"/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=fwd)
    assert resp.status in (200, 201), await resp.text()
    assert (await client.post("/v1/challenges", json={"article_id": "art-1"}, headers=fwd)).status in (200, 201)
    await client.get("/moderate/login", headers=fwd)
    csrf = client.session.cookie_jar.filter_cookies(client.make_url("/moderate/login"))["moderation_login_csrf"].value
    resp = await client.post("/moderate/login", data={"email": "x@news.example", "password": "wrong",
                                                      "csrf_token": csrf}, headers=fwd, allow_redirects=False)
    assert resp.status == 401
    buckets = await db.fetchval("SELECT array_agg(bucket) FROM rate_limits")
    assert {b.split(":ip:")[0] for b in buckets if ":ip:" in b} >= {"challenge", "login", "reaction", "report"}, buckets
    dump = dump_text(database_url)
    assert "COPY public.rate_limits" in dump and "c-ip" in dump  # the data is there ...
    assert ip not in dump  # ... but not the address
    from moderation.core.hashing import hash_ip

    assert hash_ip(config.hashing_key, ip) in dump  # (the service did see it: its hash is there)
