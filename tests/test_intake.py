"""The CMS webhook: signatures, payload validation, decisions, idempotency, degraded mode, durability."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from moderation.app import create_app
from tests.conftest import TEST_SECRET, comment_payload, post_webhook

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def assert_problem(resp: Any, body: dict[str, Any], status: int, slug: str) -> None:
    assert resp.status == status, body
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]


async def test_valid_comment_is_scored_decided_and_stored(client: Any, db: Any) -> None:
    resp = await post_webhook(client, comment_payload())
    body = await resp.json()
    assert resp.status == 200, body
    c = body["comment"]
    assert c["external_id"] == "c-1" and c["status"] == "approved"
    assert 0 <= c["scores"]["spam"] <= 1 and 0 <= c["scores"]["abuse"] <= 1
    assert c["model_version"] and c["reasons"][0]["code"] == "clean"
    row = await db.fetchrow("SELECT * FROM comments WHERE external_id = 'c-1'")
    assert row["status"] == "approved" and row["model_version"] == c["model_version"]
    # the thresholds in force are recorded: here the shipped model's recommended ones
    from classifier import load_model

    recommended = load_model().metadata["thresholds"]
    assert {k: row["thresholds"][k] for k in ("spam_reject", "spam_hold", "abuse_hold")} == {
        k: recommended[k] for k in ("spam_reject", "spam_hold", "abuse_hold")}
    # personal data only as keyed hashes
    assert row["author_email_hash"] and "ann@" not in row["author_email_hash"]
    assert row["author_ip_hash"] and "203.0" not in row["author_ip_hash"]
    decision = await db.fetchrow("SELECT * FROM decisions WHERE comment_id = $1", row["id"])
    assert decision["to_status"] == "approved" and decision["model_version"] == c["model_version"]
    assert decision["reasons"] == c["reasons"]


async def test_spam_is_rejected_and_abuse_held(client: Any) -> None:
    spam = ("WIN a FREE iPhone!!! Click http://free-prizes.example now, subscribe to my channel "
            "and text WIN to 80086 to claim your £1000 cash prize")
    resp = await post_webhook(client, comment_payload("c-spam", spam))
    c = (await resp.json())["comment"]
    assert c["status"] in ("spam", "pending") and c["scores"]["spam"] >= 0.5
    assert any(r["code"] == "spam" for r in c["reasons"])
    resp = await post_webhook(client, comment_payload("c-abuse", "Shut up you stupid idiot, you worthless moron"))
    c = (await resp.json())["comment"]
    assert c["status"] == "pending" and any(r["code"] == "abuse" for r in c["reasons"])


async def test_premoderation_holds_everything(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(premoderation=True)))
    c = (await (await post_webhook(client, comment_payload())).json())["comment"]
    assert c["status"] == "pending" and [r["code"] for r in c["reasons"]] == ["premoderation"]


# ── signatures ──────────────────────────────────────────────────────────────────────────────────────
async def test_wrong_key_is_401(client: Any) -> None:
    resp = await post_webhook(client, comment_payload(), secret=OTHER_SECRET)
    assert_problem(resp, await resp.json(), 401, "invalid-signature")


async def test_tampered_body_is_401(client: Any) -> None:
    from moderation.core.config import parse_webhook_secret
    from moderation.core.webhooks import sign

    body = json.dumps(comment_payload()).encode()
    signed = sign(parse_webhook_secret(TEST_SECRET), body)
    tampered = body.replace(b"thoughtful", b"thoughtless")
    resp = await client.post("/v1/webhooks/comments", data=tampered,
                             headers={**signed.as_dict(), "Content-Type": "application/json"})
    assert_problem(resp, await resp.json(), 401, "invalid-signature")


@pytest.mark.parametrize("offset", [-400, 400])
async def test_stale_or_future_timestamp_has_its_own_type(client: Any, offset: int) -> None:
    resp = await post_webhook(client, comment_payload(), timestamp=int(time.time()) + offset)
    assert_problem(resp, await resp.json(), 401, "stale-timestamp")


@pytest.mark.parametrize("drop", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_missing_headers_are_401(client: Any, drop: str) -> None:
    from moderation.core.config import parse_webhook_secret
    from moderation.core.webhooks import sign

    body = json.dumps(comment_payload()).encode()
    headers = sign(parse_webhook_secret(TEST_SECRET), body).as_dict()
    del headers[drop]
    resp = await client.post("/v1/webhooks/comments", data=body,
                             headers={**headers, "Content-Type": "application/json"})
    data = await resp.json()
    assert_problem(resp, data, 401, "missing-signature")
    assert drop in data["detail"]


async def test_several_signatures_one_valid_is_accepted(client: Any) -> None:
    from moderation.core.config import parse_webhook_secret
    from moderation.core.webhooks import sign

    body = json.dumps(comment_payload()).encode()
    good = sign(parse_webhook_secret(TEST_SECRET), body)
    bad = sign(parse_webhook_secret(OTHER_SECRET), body, webhook_id=good.webhook_id, timestamp=good.timestamp)
    headers = {**good.as_dict(), "webhook-signature": f"{bad.signature} {good.signature}",
               "Content-Type": "application/json"}
    resp = await client.post("/v1/webhooks/comments", data=body, headers=headers)
    assert resp.status == 200


# ── payloads ────────────────────────────────────────────────────────────────────────────────────────
async def test_malformed_json_is_400(client: Any) -> None:
    resp = await post_webhook(client, None, raw=b'{"type": "comment.created", "data": {')
    assert_problem(resp, await resp.json(), 400, "malformed-json")


async def test_unknown_event_type_is_422(client: Any) -> None:
    resp = await post_webhook(client, {"type": "comment.exploded", "data": {"id": "x"}})
    body = await resp.json()
    assert_problem(resp, body, 422, "unknown-event-type")
    assert body["errors"][0]["field"] == "type"


@pytest.mark.parametrize("mutate,field", [
    (lambda p: p["data"].pop("text"), "data.text"),
    (lambda p: p["data"].update(text=""), "data.text"),
    (lambda p: p["data"].update(text=12), "data.text"),
    (lambda p: p["data"].pop("id"), "data.id"),
    (lambda p: p["data"]["article"].pop("id"), "data.article.id"),
    (lambda p: p["data"].pop("article"), "data.article"),
    (lambda p: p["data"]["author"].pop("name"), "data.author.name"),
    (lambda p: p["data"]["author"].update(ip="not-an-ip"), "data.author.ip"),
    (lambda p: p["data"]["author"].update(email="nope"), "data.author.email"),
    (lambda p: p["data"].update(created_at="yesterday"), "data.created_at"),
    (lambda p: p["data"].update(text="x" * 10_001), "data.text"),
    (lambda p: p.pop("data"), "data"),
    (lambda p: p.pop("type"), "type"),
])
async def test_invalid_fields_are_422_naming_the_field(client: Any, mutate: Any, field: str) -> None:
    payload = comment_payload()
    mutate(payload)
    resp = await post_webhook(client, payload)
    body = await resp.json()
    assert_problem(resp, body, 422, "validation-error")
    assert field in [e["field"] for e in body["errors"]]
    assert field in body["detail"]


async def test_body_not_an_object_is_422(client: Any) -> None:
    resp = await post_webhook(client, [1, 2, 3])
    assert_problem(resp, await resp.json(), 422, "validation-error")


async def test_oversized_body_is_413(client: Any) -> None:
    resp = await post_webhook(client, comment_payload(text="y" * 300_000))
    assert_problem(resp, await resp.json(), 413, "payload-too-large")


async def test_wrong_method_and_unknown_path(client: Any) -> None:
    resp = await client.get("/v1/webhooks/comments")
    body = await resp.json()
    assert_problem(resp, body, 405, "method-not-allowed")
    assert "POST" in resp.headers["Allow"]
    resp = await client.get("/v1/nothing-here")
    assert_problem(resp, await resp.json(), 404, "not-found")


async def test_problem_types_are_documented(client: Any) -> None:
    resp = await client.get("/problems/stale-timestamp")
    assert resp.status == 200 and (await resp.json())["status"] == 401


# ── idempotency and durability ─────────────────────────────────────────────────────────────────────
async def test_replayed_webhook_id_returns_first_answer(client: Any, db: Any) -> None:
    first = await post_webhook(client, comment_payload(), webhook_id="msg_same")
    again = await post_webhook(client, comment_payload(), webhook_id="msg_same")  # a retry: the same body
    assert await first.json() == await again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM comments") == 1
    assert await db.fetchval("SELECT count(*) FROM decisions") == 1


@pytest.mark.parametrize("second", ["other text", "update", "delete", "other comment"])
async def test_webhook_id_reused_with_another_body_is_409(client: Any, db: Any, second: str) -> None:
    """The same webhook-id with a different body is a second event reusing the key, not a retry: 409
    idempotency-key-reused (never the first answer, which would drop the event silently)."""
    first = await post_webhook(client, comment_payload("c-key"), webhook_id="msg_key")
    assert first.status == 200
    payload = {"other text": comment_payload("c-key", text="changed text"),
               "update": comment_payload("c-key", text="changed text", event="comment.updated"),
               "delete": {"type": "comment.deleted", "data": {"id": "c-key"}},
               "other comment": comment_payload("c-other")}[second]
    reused = await post_webhook(client, payload, webhook_id="msg_key")
    assert reused.status == 409
    assert reused.headers["Content-Type"].startswith("application/problem+json")
    problem = await reused.json()
    assert problem["type"] == "/problems/idempotency-key-reused" and problem["webhook_id"] == "msg_key"
    assert await db.fetchval("SELECT count(*) FROM comments") == 1
    assert await db.fetchval("SELECT status FROM comments") == "approved"
    assert await db.fetchval("SELECT count(*) FROM decisions") == 1
    again = await post_webhook(client, comment_payload("c-key"), webhook_id="msg_key")  # the real retry
    assert again.status == 200 and await again.json() == await first.json()


async def test_receipt_from_before_the_body_hash_is_replayed(client: Any, db: Any) -> None:
    """Receipts stored before migration 0160 have no body hash: they keep answering replays as before."""
    first = await post_webhook(client, comment_payload("c-old"), webhook_id="msg_old")
    await db.execute("UPDATE webhook_receipts SET body_sha256 = NULL")
    again = await post_webhook(client, comment_payload("c-old", text="edited"), webhook_id="msg_old")
    assert again.status == 200 and await again.json() == await first.json()


async def test_second_create_for_same_cms_id_does_not_duplicate(client: Any, db: Any) -> None:
    a = await (await post_webhook(client, comment_payload())).json()
    b = await (await post_webhook(client, comment_payload())).json()
    assert a == b
    assert await db.fetchval("SELECT count(*) FROM comments") == 1


async def test_1000_concurrent_replays_store_one_row_and_answer_alike(client: Any, db: Any) -> None:
    payload = comment_payload("c-storm")
    body = json.dumps(payload).encode()
    from moderation.core.config import parse_webhook_secret
    from moderation.core.webhooks import sign

    headers = {**sign(parse_webhook_secret(TEST_SECRET), body, webhook_id="msg_storm").as_dict(),
               "Content-Type": "application/json"}

    async def one() -> tuple[int, Any]:
        resp = await client.post("/v1/webhooks/comments", data=body, headers=headers)
        return resp.status, await resp.json()

    results = await asyncio.gather(*(one() for _ in range(1000)))
    assert {status for status, _ in results} == {200}
    assert len({json.dumps(b, sort_keys=True) for _, b in results}) == 1
    assert await db.fetchval("SELECT count(*) FROM comments") == 1
    assert await db.fetchval("SELECT count(*) FROM decisions") == 1
    assert await db.fetchval("SELECT count(*) FROM webhook_receipts") == 1


async def test_comment_is_durable_once_answered(client: Any, db: Any) -> None:
    resp = await post_webhook(client, comment_payload("c-durable"))
    assert resp.status == 200
    # a separate connection sees it immediately: it was committed before the reply
    assert await db.fetchval("SELECT status FROM comments WHERE external_id = 'c-durable'") == "approved"


async def test_update_rescores_and_delete_hides(client: Any, db: Any) -> None:
    await post_webhook(client, comment_payload("c-edit"))
    resp = await post_webhook(client, comment_payload("c-edit", "Shut up you stupid idiot, you worthless moron",
                                                      event="comment.updated"))
    c = (await resp.json())["comment"]
    assert c["status"] == "pending"
    resp = await post_webhook(client, {"type": "comment.deleted", "data": {"id": "c-edit"}})
    assert (await resp.json())["comment"]["status"] == "deleted"
    actions = [r["action"] for r in await db.fetch(
        "SELECT action FROM decisions d JOIN comments c ON c.id = d.comment_id "
        "WHERE c.external_id = 'c-edit' ORDER BY d.id")]
    assert actions == ["created", "updated", "deleted"]
    resp = await post_webhook(client, {"type": "comment.deleted", "data": {"id": "nope"}})
    assert_problem(resp, await resp.json(), 404, "not-found")


# ── degraded mode ──────────────────────────────────────────────────────────────────────────────────
async def test_scorer_failure_stores_pending_unscored(aiohttp_client: Any, config: Any, db: Any) -> None:
    def broken(texts: list[str]) -> list[Any]:
        raise RuntimeError("model exploded")

    client = await aiohttp_client(create_app(config, score_fn=broken))
    resp = await post_webhook(client, comment_payload("c-degraded"))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["comment"]["status"] == "pending" and body["comment"]["scores"] is None
    assert body["comment"]["reasons"][0]["code"] == "unscored"
    assert await db.fetchval("SELECT status FROM comments WHERE external_id = 'c-degraded'") == "pending"


async def test_scorer_timeout_stores_pending_unscored(aiohttp_client: Any, config: Any) -> None:
    def slow(texts: list[str]) -> list[Any]:
        time.sleep(0.5)
        raise RuntimeError("unreachable")

    client = await aiohttp_client(create_app(config.with_changes(scoring_deadline_s=0.05), score_fn=slow))
    body = await (await post_webhook(client, comment_payload("c-slow"))).json()
    assert body["comment"]["status"] == "pending"
    assert "exceeded" in body["comment"]["reasons"][0]["message"]


async def test_health_and_readiness(client: Any) -> None:
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200 and body["checks"]["database"] == "ok"


async def test_scoring_in_a_worker_process(aiohttp_client: Any, config: Any) -> None:
    """Production scores in worker processes (the GIL stays with the event loop); same answers."""
    client = await aiohttp_client(create_app(config.with_changes(scoring_processes=1)))
    spam = "WIN a FREE iPhone!!! Click http://free-prizes.example now and text WIN to 80086"
    c = (await (await post_webhook(client, comment_payload("c-proc", spam))).json())["comment"]
    assert c["scores"]["spam"] >= 0.5 and c["model_version"]
