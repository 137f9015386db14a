"""HTTP handlers of the proof-of-work confirmation: issue an ALTCHA challenge, redeem a solution for a token.

``GET /v1/challenges/proof?article_id=…&action=…`` answers ALTCHA's challenge JSON, so any ALTCHA widget
(``challengeurl``) can solve it.  ``POST /v1/challenges/proof {"payload", "article_id"?, "action"?,
"author_id"?}`` redeems the widget's payload: ``{"step": "done", "token", ...}`` (the same single-use,
article- and action-bound ``mct_`` token the code earns), or, when the request looks risky,
``{"step": "code", "reason", "challenge": {...}}``: the code challenge to solve as well (``risk.py``).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from moderation.challenges import proof, risk, store
from moderation.challenges.api import (
    ACTION_RE,
    NO_STORE,
    challenge_body,
    hostname,
    issue_bucket,
    json_object,
    reader_ip_hash,
)
from moderation.core import keys, ratelimit
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.core.validation import Errors, string

MAX_ID_CHARS = 256


def _require_proof_mode(request: web.Request) -> None:
    if request.app[keys.CONFIG].confirmation == "code":
        raise Problem("confirmation-method-disabled", "This site confirms readers with the code only "
                      "(MODERATION_CONFIRMATION=code): POST /v1/challenges.")


def _article_and_action(errors: Errors, source: dict[str, Any], required: bool) -> tuple[str | None, str | None]:
    article_id = string(errors, source, "article_id", "article_id", required=required, max_len=MAX_ID_CHARS)
    action = string(errors, source, "action", "action", required=False, max_len=32)
    if action is not None and not ACTION_RE.match(action):
        errors.add("action", "must be 1-32 characters of A-Z, a-z, 0-9, _ and -")
    return article_id, action


async def confirmation_config(request: web.Request) -> web.Response:
    """GET /v1/challenges/config → which confirmation this site uses (the widget asks once per page)."""
    mode = request.app[keys.CONFIG].confirmation
    return web.json_response({"confirmation": mode,
                              "proof_url": None if mode == "code" else "/v1/challenges/proof",
                              "code_url": None if mode == "proof" else "/v1/challenges"},
                             headers={"Cache-Control": "public, max-age=60"})


async def issue_proof(request: web.Request) -> web.Response:
    """GET /v1/challenges/proof → 200 ALTCHA challenge (+ ``expires_at``, ``level``, ``verify_url``)."""
    _require_proof_mode(request)
    app = request.app
    config, pool = app[keys.CONFIG], app[keys.POOL]
    errors = Errors()
    article_id, action = _article_and_action(errors, dict(request.query), required=True)
    if errors:
        raise validation_error(errors.items)
    assert article_id is not None
    action = action or "comment"
    await ratelimit.enforce(pool, issue_bucket(request), limit=config.challenge_rate_per_minute, window_s=60,
                            what="challenges")
    ip_hash = reader_ip_hash(request)
    rows = await pool.fetch(Q.sliding_hits, [risk.ip_bucket(ip_hash), risk.article_bucket(article_id)],
                            risk.WINDOW_S)
    recent = {r["bucket"]: r["estimate"] for r in rows}
    level = proof.difficulty(config.pow_difficulty, config.pow_max_difficulty,
                             ip_recent=recent[risk.ip_bucket(ip_hash)],
                             article_recent=recent[risk.article_bucket(article_id)],
                             ip_free=config.pow_ip_free, ip_doubling=config.pow_ip_doubling,
                             article_free=config.pow_article_free,
                             article_max_doublings=config.pow_article_max_doublings)
    now = time.time()
    body = proof.issue(config.hashing_key, maxnumber=level.maxnumber, ttl_s=config.pow_ttl_s,
                       article_id=article_id, action=action, level=level.level, now=now)
    body.update({"expires_at": _iso(now + config.pow_ttl_s), "level": round(level.level, 2),
                 "article_id": article_id, "action": action, "verify_url": "/v1/challenges/proof",
                 "confirmation": config.confirmation})
    return web.json_response(body, headers=NO_STORE)


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


async def redeem_proof(request: web.Request) -> web.Response:
    """POST /v1/challenges/proof → 200 ``{"step": "done", "token", "expires_at", "method"}`` or
    ``{"step": "code", "reason", "risk", "challenge"}``; refusals are problems naming the field."""
    _require_proof_mode(request)
    app = request.app
    config, pool = app[keys.CONFIG], app[keys.POOL]
    body = await json_object(request)
    errors = Errors()
    payload = string(errors, body, "payload", "payload", max_len=proof.MAX_PAYLOAD_CHARS)
    article_id, action = _article_and_action(errors, body, required=False)
    author_id = string(errors, body, "author_id", "author_id", required=False, max_len=MAX_ID_CHARS)
    if errors:
        raise validation_error(errors.items)
    assert payload is not None
    ip_hash = reader_ip_hash(request)
    try:
        solved = proof.check(config.hashing_key, proof.decode(payload))
        if (article_id is not None and article_id != solved.article_id) or \
                (action is not None and action != solved.action):
            raise proof.ProofError("proof-wrong-article", f"the challenge was issued for article "
                                   f"{solved.article_id!r}, action {solved.action!r}", "article_id")
    except proof.ProofError as exc:
        await risk.record_failure(pool, ip_hash)
        raise Problem(exc.slug, f"{exc.field}: {exc}", errors=[{"field": exc.field, "message": str(exc)}]) from None
    signals = await risk.assess(pool, config, solved, ip_hash, author_id)
    code_step = bool(signals) and config.confirmation == "proof+code"
    async with pool.acquire() as conn:
        async with conn.transaction():
            redeemed = await conn.fetchval(Q.proof_redeem, solved.challenge, ip_hash, float(solved.expires))
            if redeemed is not None and not code_step:
                await store.take_token_budget(conn, config, ip_hash, "proof")
                token = await store.mint(conn, config, challenge_id="proof:" + solved.challenge[:32],
                                         article_id=solved.article_id, action=solved.action, cdata=None,
                                         hostname=hostname(request), method="proof", ip_hash=ip_hash,
                                         author_id=author_id)
                return web.json_response({"step": "done", "token": token.token,
                                          "expires_at": token.expires_at.isoformat(), "method": "proof"},
                                         headers=NO_STORE)
        if redeemed is None:
            await risk.record_failure(conn, ip_hash)
            raise Problem("proof-replayed", "payload: this solved challenge was already redeemed; each earns "
                          "one token", errors=[{"field": "payload", "message": "already redeemed"}])
    # The code as a second step: a challenge the reader answers like any other (POST …/answer).
    issued = await store.issue_limited(pool, config, bucket=issue_bucket(request),
                                       limit=config.challenge_rate_per_minute, window_s=60, what="challenges",
                                       article_id=solved.article_id, action=solved.action, cdata=None,
                                       hostname=hostname(request), ip_hash=ip_hash, after_proof=True)
    return web.json_response({"step": "code", "reason": signals.reason, "risk": list(signals.signals),
                              "challenge": challenge_body(issued, solved.action)}, headers=NO_STORE)
