"""Proof-of-work confirmations (ALTCHA) against the running service and a real Postgres.

The client side is the ``altcha`` library's own solver (``solve_challenge_v1``), so the payloads are what any
ALTCHA client sends.  Difficulty is kept low through config (``pow_difficulty``) so the suite stays fast.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from altcha import ChallengeV1, solve_challenge_v1

from moderation.app import create_app
from moderation.challenges import code_for, proof
from tests.conftest import comment_payload, post_webhook
from tests.test_challenges import assert_problem, siteverify

LOW = {"pow_difficulty": 500, "pow_max_difficulty": 200_000}


@pytest.fixture
def proof_config(config: Any) -> Any:
    return config.with_changes(**LOW)


@pytest.fixture
async def pclient(aiohttp_client: Any, proof_config: Any) -> Any:
    return await aiohttp_client(create_app(proof_config))


async def get_challenge(client: Any, article_id: str = "art-1", **query: str) -> dict[str, Any]:
    resp = await client.get("/v1/challenges/proof", params={"article_id": article_id, **query})
    body = await resp.json()
    assert resp.status == 200, body
    assert resp.headers["Cache-Control"] == "no-store"
    return body


def solve(ch: dict[str, Any]) -> str:
    """The payload an ALTCHA widget would send: base64 JSON {algorithm, challenge, number, salt, signature}."""
    challenge = ChallengeV1(ch["algorithm"], ch["challenge"], ch["maxnumber"], ch["salt"], ch["signature"])
    solution = solve_challenge_v1(challenge)
    assert solution is not None
    payload = {"algorithm": ch["algorithm"], "challenge": ch["challenge"], "number": solution.number,
               "salt": ch["salt"], "signature": ch["signature"], "took": int(solution.took * 1000)}
    return base64.b64encode(json.dumps(payload).encode()).decode()


async def redeem(client: Any, payload: str, **extra: Any) -> tuple[Any, dict[str, Any]]:
    resp = await client.post("/v1/challenges/proof", json={"payload": payload, **extra})
    return resp, await resp.json()


async def earn(client: Any, article_id: str = "art-1", **extra: Any) -> str:
    resp, body = await redeem(client, solve(await get_challenge(client, article_id)), **extra)
    assert resp.status == 200 and body["step"] == "done", body
    return body["token"]


def forged(payload: str, **changes: Any) -> str:
    data = json.loads(base64.b64decode(payload))
    data.update(changes)
    return base64.b64encode(json.dumps(data).encode()).decode()


# ── the flow ─────────────────────────────────────────────────────────────────────────────────────────
async def test_challenge_is_altcha_shaped(pclient: Any) -> None:
    ch = await get_challenge(pclient, "art-1")
    assert ch["algorithm"] == "SHA-256" and len(ch["challenge"]) == 64 and len(ch["signature"]) == 64
    assert ch["maxnumber"] == ch["maxNumber"] == LOW["pow_difficulty"]
    assert "expires=" in ch["salt"] and "a=art-1" in ch["salt"] and ch["salt"].endswith("&")
    assert ch["confirmation"] == "proof+code" and ch["level"] == 0


async def test_proof_earns_a_token_that_siteverify_accepts_once(pclient: Any, db: Any) -> None:
    ch = await get_challenge(pclient, "art-1", action="comment")
    resp, body = await redeem(pclient, solve(ch), article_id="art-1", action="comment")
    assert resp.status == 200, body
    assert body["step"] == "done" and body["method"] == "proof" and body["token"].startswith("mct_")
    row = await db.fetchrow("SELECT method, article_id, action, ip_hash FROM challenge_tokens")
    assert row["method"] == "proof" and row["article_id"] == "art-1" and row["action"] == "comment"
    assert row["ip_hash"] and "127.0.0.1" not in row["ip_hash"]
    verdict = await siteverify(pclient, response=body["token"])
    assert verdict["success"] is True and verdict["metadata"] == {"article_id": "art-1"}
    again = await siteverify(pclient, response=body["token"])
    assert again["success"] is False and again["error-codes"] == ["timeout-or-duplicate"]


async def test_proof_token_passes_the_webhook_for_its_article_only(aiohttp_client: Any, proof_config: Any,
                                                                   db: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(require_confirmation=True)))
    token = await earn(client, "art-1")
    resp = await post_webhook(client, comment_payload("c-1", confirmation_token=token))
    assert resp.status == 200, await resp.text()
    other = await earn(client, "art-2")
    resp = await post_webhook(client, comment_payload("c-2", confirmation_token=other))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert "another article" in body["detail"]


async def test_token_earned_for_a_reader_is_refused_for_another(aiohttp_client: Any, proof_config: Any,
                                                                db: Any) -> None:
    client = await aiohttp_client(create_app(proof_config))
    token = await earn(client, "art-1", author_id="someone-else")
    resp = await post_webhook(client, comment_payload("c-1", confirmation_token=token))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert "another reader" in body["detail"]
    mine = await earn(client, "art-1", author_id="reader-1")
    assert (await post_webhook(client, comment_payload("c-2", confirmation_token=mine))).status == 200


# ── refusals: replayed, forged, expired, wrong article ───────────────────────────────────────────────
async def test_replayed_payload_is_refused(pclient: Any) -> None:
    payload = solve(await get_challenge(pclient))
    first, _ = await redeem(pclient, payload)
    assert first.status == 200
    resp, body = await redeem(pclient, payload)
    assert_problem(resp, body, 409, "proof-replayed")
    assert body["errors"][0]["field"] == "payload"


async def test_concurrent_redemptions_of_one_payload_yield_one_token(pclient: Any, db: Any) -> None:
    import asyncio

    payload = solve(await get_challenge(pclient))
    results = await asyncio.gather(*(redeem(pclient, payload) for _ in range(20)))
    assert sorted(r.status for r, _ in results) == [200] + [409] * 19
    assert await db.fetchval("SELECT count(*) FROM challenge_tokens") == 1


@pytest.mark.parametrize("change, field", [
    ({"number": 0}, "payload"),                           # a wrong number: the hash does not match
    ({"signature": "0" * 64}, "payload"),                 # a signature that is not ours
    ({"algorithm": "SHA-1"}, "payload.algorithm"),
    ({"number": "12"}, "payload.number"),
    ({"challenge": "xyz"}, "payload.challenge"),
])
async def test_forged_payloads_are_refused(pclient: Any, change: dict[str, Any], field: str) -> None:
    ch = await get_challenge(pclient)
    payload = solve(ch)
    if change.get("number") == 0 and json.loads(base64.b64decode(payload))["number"] == 0:
        change = {"number": 1}
    resp, body = await redeem(pclient, forged(payload, **change))
    assert_problem(resp, body, 400, "proof-invalid")
    assert body["errors"][0]["field"] == field


async def test_a_challenge_signed_with_another_key_is_refused(pclient: Any) -> None:
    ch = proof.issue(b"not the service's key", maxnumber=500, ttl_s=600, article_id="art-1", action="comment",
                     level=0)
    resp, body = await redeem(pclient, solve(ch))
    assert_problem(resp, body, 400, "proof-invalid")


async def test_a_salt_edited_to_another_article_breaks_the_proof(pclient: Any) -> None:
    ch = await get_challenge(pclient, "art-1")
    data = json.loads(base64.b64decode(solve(ch)))
    data["salt"] = data["salt"].replace("a=art-1", "a=art-2")
    resp, body = await redeem(pclient, base64.b64encode(json.dumps(data).encode()).decode())
    assert_problem(resp, body, 400, "proof-invalid")


@pytest.mark.parametrize("payload", ["", "not base64!", base64.b64encode(b"[1, 2]").decode(),
                                     base64.b64encode(b"{\"algorithm\": 1}").decode(), "A" * 5000])
async def test_garbage_payloads_are_4xx_problems(pclient: Any, payload: str) -> None:
    resp, body = await redeem(pclient, payload)
    assert resp.status in (400, 422), body
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert body["errors"][0]["field"].startswith("payload")


async def test_expired_challenge_is_refused(pclient: Any, proof_config: Any) -> None:
    ch = proof.issue(proof_config.hashing_key, maxnumber=500, ttl_s=60, article_id="art-1", action="comment",
                     level=0, now=time.time() - 3600)
    resp, body = await redeem(pclient, solve(ch))
    assert_problem(resp, body, 410, "proof-expired")


async def test_payload_for_another_article_or_action_is_refused(pclient: Any) -> None:
    payload = solve(await get_challenge(pclient, "art-1"))
    resp, body = await redeem(pclient, payload, article_id="art-2")
    assert_problem(resp, body, 422, "proof-wrong-article")
    assert body["errors"][0]["field"] == "article_id"
    resp, body = await redeem(pclient, solve(await get_challenge(pclient, "art-1")), action="vote")
    assert_problem(resp, body, 422, "proof-wrong-article")


async def test_challenge_request_is_validated(pclient: Any) -> None:
    resp = await pclient.get("/v1/challenges/proof")
    body = await resp.json()
    assert_problem(resp, body, 422, "validation-error")
    assert body["errors"][0]["field"] == "article_id"
    resp = await pclient.get("/v1/challenges/proof", params={"article_id": "a", "action": "no spaces"})
    assert_problem(resp, await resp.json(), 422, "validation-error")


# ── adaptive difficulty ──────────────────────────────────────────────────────────────────────────────
async def test_difficulty_rises_with_challenges_from_one_address(aiohttp_client: Any, proof_config: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(pow_ip_free=3, pow_ip_doubling=1.0)))
    numbers = [(await get_challenge(client, f"art-{i}"))["maxnumber"] for i in range(7)]
    assert numbers[:3] == [500] * 3
    assert numbers[3:] == [1000, 2000, 4000, 8000]


async def test_difficulty_rises_with_load_on_one_article(aiohttp_client: Any, proof_config: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(
        pow_ip_free=1000, pow_article_free=4, pow_article_max_doublings=2.0)))
    hot = [(await get_challenge(client, "hot"))["maxnumber"] for _ in range(20)]
    assert hot[:4] == [500] * 4 and hot[7] == 1000 and hot[-1] == 2000       # 8 = 2x load; capped at 2 doublings
    assert (await get_challenge(client, "quiet"))["maxnumber"] == 500        # other articles are not affected


def test_difficulty_formula_is_capped() -> None:
    d = proof.difficulty(50_000, 10**9, ip_recent=10**6, article_recent=0, ip_free=5, ip_doubling=2,
                         article_free=300, article_max_doublings=4)
    assert d.maxnumber == 10**9
    d = proof.difficulty(50_000, 10**9, ip_recent=1, article_recent=10**9, ip_free=5, ip_doubling=2,
                         article_free=300, article_max_doublings=4)
    assert d.maxnumber == 800_000 and d.level == 4


# ── the code as a second step ────────────────────────────────────────────────────────────────────────
async def answer_code_step(client: Any, db: Any, config: Any, body: dict[str, Any]) -> str:
    assert body["step"] == "code", body
    ch = body["challenge"]
    assert (await client.get(ch["image_url"])).status == 200
    row = await db.fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1", ch["id"])
    resp = await client.post(ch["answer_url"], json={"code": code_for(config.hashing_key, row)})
    answer = await resp.json()
    assert resp.status == 200, answer
    return answer["token"]


async def test_many_challenges_from_one_address_ask_for_the_code(aiohttp_client: Any, proof_config: Any,
                                                                 db: Any) -> None:
    config = proof_config.with_changes(pow_risk_ip_challenges=3, pow_ip_free=100)
    client = await aiohttp_client(create_app(config))
    for _ in range(3):
        await earn(client)
    resp, body = await redeem(client, solve(await get_challenge(client)))
    assert resp.status == 200 and body["risk"] == ["many-challenges"] and "address" in body["reason"]
    token = await answer_code_step(client, db, config, body)
    assert await db.fetchval("SELECT method FROM challenge_tokens WHERE challenge_id = $1",
                             body["challenge"]["id"]) == "proof+code"
    assert (await siteverify(client, response=token))["success"] is True


async def test_a_failed_proof_makes_the_next_one_ask_for_the_code(pclient: Any, db: Any,
                                                                  proof_config: Any) -> None:
    payload = solve(await get_challenge(pclient))
    bad, _ = await redeem(pclient, forged(payload, signature="f" * 64))
    assert bad.status == 400
    _, body = await redeem(pclient, payload)
    assert body["step"] == "code" and body["risk"] == ["failed-proof"]
    await answer_code_step(pclient, db, proof_config, body)


async def test_a_too_fast_proof_asks_for_the_code(aiohttp_client: Any, proof_config: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(pow_max_hash_rate=1.0,
                                                                       pow_difficulty=100_000)))
    _, body = await redeem(client, solve(await get_challenge(client)))
    assert body["step"] == "code" and "too-fast" in body["risk"], body


async def test_an_author_with_held_comments_is_asked_for_the_code(aiohttp_client: Any, proof_config: Any,
                                                                  db: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(premoderation=True)))
    assert (await post_webhook(client, comment_payload("c-1"))).status == 200   # held: premoderation
    _, body = await redeem(client, solve(await get_challenge(client)), author_id="reader-1")
    assert body["step"] == "code" and body["risk"] == ["held-author"], body
    _, body = await redeem(client, solve(await get_challenge(client)), author_id="reader-2")
    assert body["step"] == "done"


# ── modes and budgets ────────────────────────────────────────────────────────────────────────────────
async def test_code_mode_offers_no_proof(aiohttp_client: Any, proof_config: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(confirmation="code")))
    resp = await client.get("/v1/challenges/proof", params={"article_id": "a"})
    assert_problem(resp, await resp.json(), 403, "confirmation-method-disabled")
    assert (await client.post("/v1/challenges", json={"article_id": "a"})).status == 201


async def test_proof_mode_offers_no_code_and_never_asks_for_it(aiohttp_client: Any, proof_config: Any) -> None:
    config = proof_config.with_changes(confirmation="proof", pow_risk_ip_challenges=0)
    client = await aiohttp_client(create_app(config))
    resp = await client.post("/v1/challenges", json={"article_id": "a"})
    assert_problem(resp, await resp.json(), 403, "confirmation-method-disabled")
    await earn(client)   # risky (every challenge is over the threshold of 0), but there is no code step


async def test_tokens_per_hour_per_address_are_capped(aiohttp_client: Any, proof_config: Any) -> None:
    client = await aiohttp_client(create_app(proof_config.with_changes(tokens_per_hour=3)))
    for _ in range(3):
        await earn(client)
    resp, body = await redeem(client, solve(await get_challenge(client)))
    assert_problem(resp, body, 429, "rate-limited")
    assert "an hour" in body["detail"]


async def test_code_only_tokens_have_their_own_small_budget(aiohttp_client: Any, proof_config: Any,
                                                            db: Any) -> None:
    config = proof_config.with_changes(code_only_per_hour=2)
    client = await aiohttp_client(create_app(config))
    for i in range(3):
        resp = await client.post("/v1/challenges", json={"article_id": "art-1"})
        ch = await resp.json()
        row = await db.fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1", ch["id"])
        resp = await client.post(ch["answer_url"], json={"code": code_for(config.hashing_key, row)})
        if i < 2:
            assert resp.status == 200
        else:
            assert_problem(resp, await resp.json(), 429, "rate-limited")
    await earn(client)   # proofs are not limited by the code-only budget
