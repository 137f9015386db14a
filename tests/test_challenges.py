"""Confirmation codes: issue, render, answer, tokens, webhook check, siteverify, CORS, limits, cleanup.

The test seam for the code is ``moderation.challenges.code_for(hashing_key, row)``: tests hold the config's
hashing key and read the challenge row, and compute the code exactly as the server does.
"""

from __future__ import annotations

import asyncio
import io
import json
import wave
from typing import Any

import pytest
from PIL import Image

from moderation.app import create_app
from moderation.challenges import code_for
from moderation.challenges.codes import ALPHABET, derive_code, normalise
from moderation.challenges.store import MAX_AUDIO_RENDERS, MAX_IMAGE_RENDERS
from tests.conftest import comment_payload, post_webhook


def assert_problem(resp: Any, body: dict[str, Any], status: int, slug: str) -> None:
    assert resp.status == status, body
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status and body["title"] and body["detail"]


async def new_challenge(client: Any, article_id: str = "art-1", **extra: Any) -> dict[str, Any]:
    resp = await client.post("/v1/challenges", json={"article_id": article_id, **extra})
    body = await resp.json()
    assert resp.status == 201, body
    return body


async def code_of(db: Any, config: Any, challenge_id: str) -> str:
    row = await db.fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1", challenge_id)
    return code_for(config.hashing_key, row)


async def solve(client: Any, db: Any, config: Any, article_id: str = "art-1", **extra: Any) -> str:
    ch = await new_challenge(client, article_id, **extra)
    resp = await client.post(ch["answer_url"], json={"code": await code_of(db, config, ch["id"])})
    body = await resp.json()
    assert resp.status == 200, body
    return body["token"]


def wrong(code: str) -> str:
    return "".join(ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)] for c in code)


async def siteverify(client: Any, **fields: Any) -> dict[str, Any]:
    resp = await client.post("/v1/siteverify", data={"secret": "sv_test_secret", **fields})
    assert resp.status == 200
    return await resp.json()


# ── the flow ─────────────────────────────────────────────────────────────────────────────────────────
async def test_full_flow_issue_render_answer_verify(client: Any, db: Any, config: Any) -> None:
    resp = await client.post("/v1/challenges", json={"article_id": "art-1", "cdata": "session_42"},
                             headers={"Origin": "https://news.example"})
    ch = await resp.json()
    assert resp.status == 201, ch
    assert set(ch) >= {"id", "image_url", "audio_url", "expires_at"}
    assert ch["image_url"] == f"/v1/challenges/{ch['id']}/image" and ch["code_length"] == config.challenge_code_length
    assert len(ch["id"]) >= 20 and resp.headers["Cache-Control"] == "no-store"

    img = await client.get(ch["image_url"])
    assert img.status == 200 and img.headers["Content-Type"] == "image/png"
    picture = Image.open(io.BytesIO(await img.read()))
    assert picture.format == "PNG" and picture.size == (220, 80)

    audio = await client.get(ch["audio_url"])
    assert audio.status == 200 and audio.headers["Content-Type"] == "audio/wav"
    data = await audio.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() / w.getframerate() > 2  # seconds of speech

    code = await code_of(db, config, ch["id"])
    typed = " ".join(code.lower())  # case-insensitive, whitespace ignored
    resp = await client.post(ch["answer_url"], json={"code": typed})
    body = await resp.json()
    assert resp.status == 200, body
    assert body["token"].startswith("mct_") and body["expires_at"]

    verdict = await siteverify(client, response=body["token"])
    assert verdict["success"] is True and verdict["error-codes"] == []
    assert verdict["action"] == "comment" and verdict["cdata"] == "session_42"
    assert verdict["hostname"] == "news.example" and verdict["challenge_ts"].endswith("Z")
    assert verdict["metadata"] == {"article_id": "art-1"}


async def test_codes_use_the_alphabet_and_configured_length(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(challenge_code_length=6)))
    seen = set()
    for _ in range(5):
        ch = await new_challenge(client)
        code = await code_of(db, config, ch["id"])
        assert len(code) == 6 and set(code) <= set(ALPHABET)
        seen.add(code)
    assert len(seen) == 5
    assert not set("0O1IL") & set(ALPHABET)


async def test_code_is_stored_only_as_a_keyed_hash(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    row = await db.fetchrow("SELECT * FROM challenges WHERE id = $1", ch["id"])
    stored = json.dumps({k: (v.hex() if isinstance(v, bytes) else str(v)) for k, v in row.items()})
    assert code not in stored and code.lower() not in stored
    assert len(row["code_hash"]) == 64
    # without the key, the salt gives nothing away: another key derives another code
    assert derive_code(b"another key", row["id"], bytes(row["salt"]), row["code_length"]) != code


async def test_tokens_are_stored_only_as_keyed_hashes(client: Any, db: Any, config: Any) -> None:
    token = await solve(client, db, config)
    rows = await db.fetch("SELECT * FROM challenge_tokens")
    assert len(rows) == 1 and token not in json.dumps([{k: str(v) for k, v in r.items()} for r in rows])


async def test_rerender_shows_the_same_code_and_is_capped(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    for _ in range(MAX_IMAGE_RENDERS):
        assert (await client.get(ch["image_url"])).status == 200
        assert await code_of(db, config, ch["id"]) == code
    resp = await client.get(ch["image_url"])
    assert_problem(resp, await resp.json(), 429, "render-limit")
    for _ in range(MAX_AUDIO_RENDERS):
        assert (await client.get(ch["audio_url"])).status == 200
    resp = await client.get(ch["audio_url"])
    assert_problem(resp, await resp.json(), 429, "render-limit")
    # still answerable: the cap is on renders, not on the challenge
    assert (await client.post(ch["answer_url"], json={"code": code})).status == 200


async def test_normalise() -> None:
    assert normalise(" ab c\td\n") == "ABCD"


# ── wrong, burned, expired, answered ─────────────────────────────────────────────────────────────────
async def test_wrong_codes_count_down_then_burn(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    for left in (4, 3, 2, 1, 0):
        resp = await client.post(ch["answer_url"], json={"code": wrong(code)})
        body = await resp.json()
        assert_problem(resp, body, 400, "wrong-code")
        assert body["attempts_left"] == left
    resp = await client.post(ch["answer_url"], json={"code": code})
    body = await resp.json()
    assert_problem(resp, body, 410, "challenge-burned")
    assert body["attempts_left"] == 0
    resp = await client.get(ch["image_url"])
    assert_problem(resp, await resp.json(), 410, "challenge-burned")
    assert await db.fetchval("SELECT count(*) FROM challenge_tokens") == 0


async def test_expired_challenge_has_its_own_type(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    await db.execute("UPDATE challenges SET expires_at = now() - interval '1 second' WHERE id = $1", ch["id"])
    resp = await client.post(ch["answer_url"], json={"code": code})
    assert_problem(resp, await resp.json(), 410, "challenge-expired")
    resp = await client.get(ch["image_url"])
    assert_problem(resp, await resp.json(), 410, "challenge-expired")


async def test_challenge_ttl_comes_from_config(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(challenge_ttl_s=30)))
    ch = await new_challenge(client)
    ttl = await db.fetchval("SELECT extract(epoch FROM expires_at - created_at) FROM challenges WHERE id = $1",
                            ch["id"])
    assert 29 <= float(ttl) <= 31


async def test_answered_challenge_cannot_be_answered_again(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    assert (await client.post(ch["answer_url"], json={"code": code})).status == 200
    for attempt in (code, wrong(code)):
        resp = await client.post(ch["answer_url"], json={"code": attempt})
        assert_problem(resp, await resp.json(), 409, "challenge-answered")
    resp = await client.get(ch["image_url"])
    assert_problem(resp, await resp.json(), 409, "challenge-answered")


async def test_100_concurrent_correct_answers_yield_exactly_one_token(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])

    async def attempt() -> tuple[int, dict[str, Any]]:
        resp = await client.post(ch["answer_url"], json={"code": code})
        return resp.status, await resp.json()

    results = await asyncio.gather(*(attempt() for _ in range(100)))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(200) == 1 and statuses.count(409) == 99, statuses
    assert all(b["type"] == "/problems/challenge-answered" for s, b in results if s == 409)
    assert await db.fetchval("SELECT count(*) FROM challenge_tokens") == 1


async def test_concurrent_wrong_answers_never_exceed_five(client: Any, db: Any, config: Any) -> None:
    ch = await new_challenge(client)
    code = await code_of(db, config, ch["id"])
    resps = await asyncio.gather(*(client.post(ch["answer_url"], json={"code": wrong(code)}) for _ in range(30)))
    slugs = [(await r.json())["type"].split("/")[-1] for r in resps]
    assert slugs.count("wrong-code") == 5 and slugs.count("challenge-burned") == 25
    assert await db.fetchval("SELECT attempts FROM challenges WHERE id = $1", ch["id"]) == 5


# ── tokens in the comment webhook ────────────────────────────────────────────────────────────────────
@pytest.fixture
async def strict(aiohttp_client: Any, config: Any) -> Any:
    return await aiohttp_client(create_app(config.with_changes(require_confirmation=True)))


async def test_required_confirmation_refuses_comment_without_token(strict: Any, db: Any) -> None:
    resp = await post_webhook(strict, comment_payload("c-1"))
    body = await resp.json()
    assert_problem(resp, body, 422, "confirmation-required")
    assert body["errors"][0]["field"] == "data.confirmation_token"
    assert await db.fetchval("SELECT count(*) FROM comments") == 0


async def test_valid_token_lets_the_comment_in_once(strict: Any, db: Any, config: Any) -> None:
    token = await solve(strict, db, config)
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    assert resp.status == 200, await resp.json()
    used = await db.fetchrow("SELECT used_at, used_by FROM challenge_tokens")
    assert used["used_at"] is not None and used["used_by"] == "webhook"
    # token reuse for another comment
    resp = await post_webhook(strict, comment_payload("c-2", confirmation_token=token))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert body["error_code"] == "timeout-or-duplicate" and "already used" in body["detail"]
    assert await db.fetchval("SELECT count(*) FROM comments") == 1
    # the CMS retrying the same comment (new webhook-id) gets the stored comment, not a refusal
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    assert resp.status == 200 and (await resp.json())["comment"]["external_id"] == "c-1"
    # edits need no new code
    resp = await post_webhook(strict, comment_payload("c-1", text="Edited text.", event="comment.updated"))
    assert resp.status == 200


async def test_token_for_another_article_or_action_is_refused(strict: Any, db: Any, config: Any) -> None:
    token = await solve(strict, db, config, article_id="art-2")
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert "another article" in body["detail"]
    token = await solve(strict, db, config, action="login")
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert "login" in body["detail"]
    # refused tokens were not consumed: the right article could still use the first one
    assert await db.fetchval("SELECT count(*) FROM challenge_tokens WHERE used_at IS NOT NULL") == 0
    assert await db.fetchval("SELECT count(*) FROM comments") == 0


async def test_expired_token_is_refused(strict: Any, db: Any, config: Any) -> None:
    token = await solve(strict, db, config)
    await db.execute("UPDATE challenge_tokens SET expires_at = now() - interval '1 second'")
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert "expired" in body["detail"]


async def test_token_ttl_comes_from_config(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(token_ttl_s=42)))
    await solve(client, db, config)
    ttl = await db.fetchval("SELECT extract(epoch FROM expires_at - issued_at) FROM challenge_tokens")
    assert 41 <= float(ttl) <= 43


async def test_without_requirement_a_missing_token_is_fine_but_a_bad_one_is_refused(client: Any, db: Any) -> None:
    assert (await post_webhook(client, comment_payload("c-1"))).status == 200
    resp = await post_webhook(client, comment_payload("c-2", confirmation_token="mct_forged"))
    body = await resp.json()
    assert_problem(resp, body, 422, "invalid-token")
    assert body["errors"][0]["field"] == "data.confirmation_token"
    resp = await post_webhook(client, comment_payload("c-3", confirmation_token="not-even-ours"))
    assert_problem(resp, await resp.json(), 422, "invalid-token")
    assert await db.fetchval("SELECT count(*) FROM comments") == 1


async def test_replayed_webhook_id_does_not_need_the_token_twice(strict: Any, db: Any, config: Any) -> None:
    token = await solve(strict, db, config)
    first = await post_webhook(strict, comment_payload("c-1", confirmation_token=token), webhook_id="msg_1")
    again = await post_webhook(strict, comment_payload("c-1", confirmation_token=token), webhook_id="msg_1")
    assert first.status == again.status == 200
    assert await first.json() == await again.json()


async def test_a_siteverified_token_cannot_also_pass_the_webhook(strict: Any, db: Any, config: Any) -> None:
    token = await solve(strict, db, config)
    assert (await siteverify(strict, response=token))["success"] is True
    resp = await post_webhook(strict, comment_payload("c-1", confirmation_token=token))
    assert_problem(resp, await resp.json(), 422, "invalid-token")


# ── siteverify (Turnstile-compatible) ────────────────────────────────────────────────────────────────
async def test_siteverify_error_codes(client: Any, db: Any, config: Any) -> None:
    token = await solve(client, db, config)

    async def post(**kw: Any) -> dict[str, Any]:
        resp = await client.post("/v1/siteverify", **kw)
        assert resp.status == 200
        body = await resp.json()
        assert body["success"] is False and set(body) >= {"success", "error-codes"}
        return body

    assert (await post(data={"response": token}))["error-codes"] == ["missing-input-secret"]
    assert (await post(data={"secret": "wrong", "response": token}))["error-codes"] == ["invalid-input-secret"]
    assert (await post(data={"secret": "sv_test_secret"}))["error-codes"] == ["missing-input-response"]
    assert (await post(data={"secret": "sv_test_secret", "response": "mct_nope"}))["error-codes"] == [
        "invalid-input-response"]
    assert (await post(data={"secret": "sv_test_secret", "response": "x" * 5000}))["error-codes"] == [
        "invalid-input-response"]
    assert (await post(data=b"{not json", headers={"Content-Type": "application/json"}))["error-codes"] == [
        "bad-request"]
    assert (await post(json=["a"]))["error-codes"] == ["bad-request"]
    assert (await post(json={"secret": "sv_test_secret", "response": 5}))["error-codes"] == ["bad-request"]
    assert (await post(data=b"hello", headers={"Content-Type": "text/plain"}))["error-codes"] == ["bad-request"]
    # the token was not used by any of these
    assert (await siteverify(client, response=token))["success"] is True
    assert (await siteverify(client, response=token))["error-codes"] == ["timeout-or-duplicate"]


async def test_siteverify_accepts_json_and_expired_is_timeout(client: Any, db: Any, config: Any) -> None:
    token = await solve(client, db, config)
    resp = await client.post("/v1/siteverify", json={"secret": "sv_test_secret", "response": token,
                                                     "remoteip": "203.0.113.9"})
    assert (await resp.json())["success"] is True
    token = await solve(client, db, config)
    await db.execute("UPDATE challenge_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL")
    assert (await siteverify(client, response=token))["error-codes"] == ["timeout-or-duplicate"]


async def test_siteverify_idempotency_key_allows_retrying(client: Any, db: Any, config: Any) -> None:
    token = await solve(client, db, config)
    key = "7d4a3c2e-6f1b-4c55-9a77-0e8f2d1b3a44"
    first = await siteverify(client, response=token, idempotency_key=key)
    again = await siteverify(client, response=token, idempotency_key=key)
    assert first["success"] is True and again == first
    other = await siteverify(client, response=token, idempotency_key="another-key")
    assert other["error-codes"] == ["timeout-or-duplicate"]
    assert (await siteverify(client, response=token))["error-codes"] == ["timeout-or-duplicate"]


async def test_siteverify_without_configured_secret_refuses_all(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(siteverify_secret=None)))
    assert (await siteverify(client, response="mct_x"))["error-codes"] == ["invalid-input-secret"]


# ── malformed input → clear 4xx problem+json ─────────────────────────────────────────────────────────
@pytest.mark.parametrize(("body", "status", "slug", "field"), [
    (b"{oops", 400, "malformed-json", None),
    (b"[1, 2]", 422, "validation-error", "(body)"),
    (b"{}", 422, "validation-error", "article_id"),
    (b'{"article_id": 7}', 422, "validation-error", "article_id"),
    (b'{"article_id": "  "}', 422, "validation-error", "article_id"),
    (b'{"article_id": "' + b"a" * 300 + b'"}', 422, "validation-error", "article_id"),
    (b'{"article_id": "a", "action": "no spaces"}', 422, "validation-error", "action"),
    (b'{"article_id": "a", "action": ""}', 422, "validation-error", "action"),
    (b'{"article_id": "a", "cdata": "<script>"}', 422, "validation-error", "cdata"),
])
async def test_bad_challenge_requests(client: Any, body: bytes, status: int, slug: str, field: str | None) -> None:
    resp = await client.post("/v1/challenges", data=body, headers={"Content-Type": "application/json"})
    problem = await resp.json()
    assert_problem(resp, problem, status, slug)
    if field:
        assert field in [e["field"] for e in problem["errors"]]


async def test_bad_answer_requests(client: Any) -> None:
    ch = await new_challenge(client)
    for body, status, slug in ((b"{oops", 400, "malformed-json"), (b'{"code": 5}', 422, "validation-error"),
                               (b"{}", 422, "validation-error"), (b'{"code": ""}', 422, "validation-error"),
                               (b'{"code": "' + b"A" * 100 + b'"}', 422, "validation-error")):
        resp = await client.post(ch["answer_url"], data=body, headers={"Content-Type": "application/json"})
        assert_problem(resp, await resp.json(), status, slug)
    resp = await client.post(ch["answer_url"], data=b"code=1", headers={"Content-Type": "application/xml"})
    assert_problem(resp, await resp.json(), 415, "unsupported-media-type")
    # validation failures do not cost an attempt
    resp = await client.post(ch["answer_url"], json={"code": "ZZZZZ"})
    assert (await resp.json())["attempts_left"] == 4


@pytest.mark.parametrize("path", ["/v1/challenges/unknownchallengeid00/image", "/v1/challenges/x/image",
                                  "/v1/challenges/unknownchallengeid00/audio", "/v1/challenges/%00%00/image"])
async def test_unknown_challenge_is_404(client: Any, path: str) -> None:
    resp = await client.get(path)
    assert_problem(resp, await resp.json(), 404, "not-found")


async def test_unknown_challenge_answer_and_wrong_method(client: Any) -> None:
    resp = await client.post("/v1/challenges/unknownchallengeid00/answer", json={"code": "ABCDE"})
    assert_problem(resp, await resp.json(), 404, "not-found")
    resp = await client.get("/v1/challenges")
    assert_problem(resp, await resp.json(), 405, "method-not-allowed")
    ch = await new_challenge(client)
    resp = await client.head(ch["image_url"])  # would spend a render without showing it
    assert resp.status == 405


@pytest.mark.parametrize("slug", ["wrong-code", "challenge-expired", "challenge-burned", "challenge-answered",
                                  "invalid-token", "render-limit"])
async def test_problem_types_are_documented(client: Any, slug: str) -> None:
    resp = await client.get(f"/problems/{slug}")
    assert resp.status == 200 and (await resp.json())["title"]


# ── rate limit ───────────────────────────────────────────────────────────────────────────────────────
async def test_issuance_is_rate_limited_per_client_ip(aiohttp_client: Any, config: Any) -> None:
    from moderation.core.clientip import parse_networks

    app = create_app(config.with_changes(challenge_rate_per_minute=3, trusted_proxy_header="X-Forwarded-For",
                                         trusted_proxies=parse_networks("127.0.0.1")))
    client = await aiohttp_client(app)
    ip_a = {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(3):
        assert (await client.post("/v1/challenges", json={"article_id": "a"}, headers=ip_a)).status == 201
    resp = await client.post("/v1/challenges", json={"article_id": "a"}, headers=ip_a)
    body = await resp.json()
    assert_problem(resp, body, 429, "rate-limited")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60 and body["retry_after"] == int(resp.headers["Retry-After"])
    ip_b = {"X-Forwarded-For": "198.51.100.2"}
    assert (await client.post("/v1/challenges", json={"article_id": "a"}, headers=ip_b)).status == 201


# ── CORS for the embedded widget ─────────────────────────────────────────────────────────────────────
async def test_cors_for_configured_origin(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(cors_origins=("https://news.example",))))
    pre = await client.options("/v1/challenges", headers={
        "Origin": "https://news.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]
    resp = await client.post("/v1/challenges", json={"article_id": "a"}, headers={"Origin": "https://news.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://news.example" and "Origin" in resp.headers["Vary"]
    ch = await resp.json()
    pre = await client.options(ch["answer_url"], headers={"Origin": "https://news.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert pre.headers["Access-Control-Allow-Origin"] == "https://news.example"
    # errors carry the headers too, so the widget can read the problem's detail
    resp = await client.post(ch["answer_url"], json={"code": "ZZZZZ"}, headers={"Origin": "https://news.example"})
    assert resp.status == 400 and resp.headers["Access-Control-Allow-Origin"] == "https://news.example"
    # other origins get nothing
    resp = await client.post("/v1/challenges", json={"article_id": "a"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    pre = await client.options("/v1/challenges", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in pre.headers


async def test_cors_wildcard_and_default_off(aiohttp_client: Any, config: Any, client: Any) -> None:
    wild = await aiohttp_client(create_app(config.with_changes(cors_origins=("*",))))
    resp = await wild.post("/v1/challenges", json={"article_id": "a"}, headers={"Origin": "https://any.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await client.post("/v1/challenges", json={"article_id": "a"}, headers={"Origin": "https://any.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers


# ── cleanup, demo page ───────────────────────────────────────────────────────────────────────────────
async def test_demo_page_and_submit(client: Any, db: Any, config: Any) -> None:
    resp = await client.get("/demo/challenge")
    html = await resp.text()
    assert resp.status == 200 and "data-moderation-challenge" in html and "/static/widget.js" in html
    assert 'name="email"' in html and 'name="comment"' in html and "Confirming you are a person" in html
    js = await client.get("/static/widget.js")
    assert js.status == 200 and "confirmation_token" in await js.text()
    token = await solve(client, db, config, article_id="demo-article")
    form = {"name": "Ann", "comment": "Hello", "article_id": "demo-article", "confirmation_token": token}
    resp = await client.post("/demo/challenge", data=form)
    assert resp.status == 200 and 'data-result="accepted"' in await resp.text()
    resp = await client.post("/demo/challenge", data=form)
    assert resp.status == 422 and "already used" in await resp.text()


async def test_rendering_in_the_shared_thread_executor(aiohttp_client: Any, config: Any) -> None:
    """MODERATION_CHALLENGE_RENDER_PROCESSES=0: same answers, rendered in app[keys.EXECUTOR]."""
    client = await aiohttp_client(create_app(config.with_changes(challenge_render_processes=0)))
    ch = await new_challenge(client)
    img = await client.get(ch["image_url"])
    assert img.status == 200 and (await img.read())[:8] == b"\x89PNG\r\n\x1a\n"
    wav = await client.get(ch["audio_url"])
    assert wav.status == 200 and (await wav.read())[:4] == b"RIFF"


async def test_a_dead_renderer_process_is_replaced(client: Any) -> None:
    import os
    import signal

    from moderation.core import keys

    ch = await new_challenge(client)
    assert (await client.get(ch["audio_url"])).status == 200   # starts the workers; the 3 image renders stay
    pool = client.app[keys.CHALLENGE_PROCESSES]
    killed = pool.pids
    assert killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    # several renders in flight while the deaths are noticed one by one: each still gets its picture
    resps = await asyncio.gather(*(client.get(ch["image_url"]) for _ in range(3)))
    for resp in resps:
        assert resp.status == 200 and (await resp.read())[:4] == b"\x89PNG"
    assert not set(pool.pids) & set(killed)


def test_cached_glyphs_are_pixel_identical_to_the_librarys(monkeypatch: pytest.MonkeyPatch) -> None:
    """HardImageCaptcha caches each glyph's rasterisation; replaying the library's own ``_draw_character``
    and ours with the same random stream must give the same pixels, glyph for glyph (every font and size,
    every character, offsets that clip and that do not)."""
    import random
    import secrets
    from types import SimpleNamespace

    from captcha.image import ImageCaptcha
    from PIL import ImageDraw

    from moderation.challenges import render

    ours = render.HardImageCaptcha(render.IMAGE_WIDTH, render.IMAGE_HEIGHT, fonts=render.available_fonts(),
                                   font_sizes=render.FONT_SIZES)
    canvas = ImageDraw.Draw(Image.new("RGB", (render.IMAGE_WIDTH, render.IMAGE_HEIGHT)))

    def replay(seed: int) -> None:
        rng = random.Random(seed)
        monkeypatch.setattr(secrets, "randbelow", lambda n: rng.randrange(n))
        monkeypatch.setattr(secrets, "randbits", rng.getrandbits)
        monkeypatch.setattr(secrets, "choice", lambda seq: seq[rng.randrange(len(seq))])
        monkeypatch.setattr(render, "_rng", SimpleNamespace(randbelow=lambda n: rng.randrange(n),
                                                            randbits=rng.getrandbits))

    for seed in range(1500):
        char = ALPHABET[seed % len(ALPHABET)]
        color = (20 + seed % 101, 20 + (seed * 7) % 101, 20 + (seed * 13) % 101, 255)
        replay(seed)
        theirs = ImageCaptcha._draw_character(ours, char, canvas, color)
        replay(seed)
        mine = ours._draw_character(char, canvas, color)
        assert (mine.size, mine.tobytes()) == (theirs.size, theirs.tobytes()), (seed, char)
    assert len(ours._glyphs) < 1500  # the cache was hit
    for seed in range(50):  # the noise dots, drawn from render._rng, match the library's too
        pictures = []
        for draw_dots in (ImageCaptcha.create_noise_dots, render.HardImageCaptcha.create_noise_dots):
            replay(seed)
            picture = Image.new("RGB", (render.IMAGE_WIDTH, render.IMAGE_HEIGHT), (255, 255, 255))
            draw_dots(picture, (10, 20, 30), width=ours.dot_width, number=ours.dots)
            pictures.append(picture.tobytes())
        assert pictures[0] == pictures[1], seed


def test_png_writer_is_lossless_and_standard() -> None:
    """render._png (no row filter, zlib 1) decodes, with Pillow's reader, to exactly the rendered pixels."""
    from moderation.challenges import render

    renderer = render.Renderer()
    for code in ("CEFHJ", "KMNPR", "TWXY3"):
        picture = renderer._image.generate_image(code)
        png = render._png(picture)
        decoded = Image.open(io.BytesIO(png))
        decoded.load()
        assert decoded.format == "PNG" and decoded.mode == "RGB" and decoded.size == picture.size
        assert decoded.tobytes() == picture.tobytes()
