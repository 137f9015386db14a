"""The CMS webhook: verify → parse → score → decide → store → reply.

``POST /v1/webhooks/comments`` (contract in README).  The comment, its decision, its outbox row and the
webhook receipt are written in one transaction that commits before we answer 2xx.  A replayed
``webhook-id`` gets the first answer back; a second ``comment.created`` for a CMS id returns that comment.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from classifier.rules import fingerprint_normalised, normalise
from moderation.core import keys
from moderation.core.background import spawn
from moderation.core.body import convert, loads_body
from moderation.core.config import Config, Thresholds
from moderation.core.hashing import hash_email, hash_ip
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.core.webhooks import SignatureError, verify
from moderation.decisions import writer
from moderation.decisions.decide import DELETED, Decision, Signals, decide
from moderation.decisions.payload import attributes_json, comment_json
from moderation.decisions.reasons import make as make_reason
from moderation.decisions.scores import Scored, from_classifier
from moderation.decisions.scores import signals as signals_of
from moderation.intake.shapes import EVENT_TYPES, event_shape, parse_timestamp

log = logging.getLogger(__name__)

REPEAT_WINDOW_S = 600


@dataclass(frozen=True)
class CommentEvent:
    type: str
    external_id: str
    article_id: str | None = None
    article_url: str | None = None
    article_title: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    author_ip: str | None = None
    parent_id: str | None = None
    text: str | None = None
    created_at: datetime | None = None
    confirmation_token: str | None = None


def parse_event(body: bytes, config: Config) -> CommentEvent:
    """The webhook body as a CommentEvent, through the one body reader and the declared shape."""
    payload = loads_body(body)
    event_type = payload.get("type") if isinstance(payload, dict) else None
    if (isinstance(event_type, str) and event_type not in EVENT_TYPES) or not isinstance(event_type, str | None):
        raise Problem("unknown-event-type",
                      f"type {str(event_type)[:64]!r} is not one of {', '.join(EVENT_TYPES)}",
                      errors=[{"field": "type", "message": f"must be one of {', '.join(EVENT_TYPES)}"}])
    if event_type is None and isinstance(payload, dict):
        raise validation_error([{"field": "type", "message": "is required"}]
                               + [e for e in _errors_as_created(payload, config) if e["field"] != "type"])
    event = convert(payload, event_shape(config.max_text_chars), raw=body)
    data = event.data
    if event_type == "comment.deleted":
        return CommentEvent(type=event_type, external_id=data.id)
    article, author = data.article, data.author
    created_at = parse_timestamp(data.created_at) if data.created_at is not None else None
    return CommentEvent(event_type, data.id, article.id, article.url, article.title, author.id, author.name,
                        author.email, author.ip, data.parent_id, data.text, created_at, data.confirmation_token)


def _errors_as_created(payload: dict[str, Any], config: Config) -> list[dict[str, str]]:
    """The field errors of a body without a ``type`` (as if it were a comment.created)."""
    try:
        convert({**payload, "type": "comment.created"}, event_shape(config.max_text_chars))
    except Problem as exc:
        return list(exc.body_dict.get("errors", []))
    return []


async def _score(request: web.Request, text: str) -> tuple[Scored | None, str | None]:
    """Score with a deadline; any failure degrades to 'unscored' (None and why) instead of failing."""
    app = request.app
    config = app[keys.CONFIG]
    scorer = app.get(keys.SCORER)
    if scorer is None:
        return None, "model not loaded"
    metrics = app[keys.METRICS]
    try:
        async with asyncio.timeout(config.scoring_deadline_s):  # no extra task, unlike wait_for
            scores = await scorer.score(text)
    except TimeoutError:
        log.warning("scoring exceeded its %.3f s deadline; storing unscored", config.scoring_deadline_s)
        metrics.child(metrics.unscored, "deadline").inc()
        return None, f"scoring exceeded {config.scoring_deadline_s:g} s"
    except Exception as exc:
        log.warning("scoring failed (%s); storing unscored", exc.__class__.__name__)
        metrics.child(metrics.unscored, "error").inc()
        return None, f"scoring failed: {exc.__class__.__name__}"
    metrics.child(metrics.scores, "spam").observe(scores.spam)
    metrics.child(metrics.scores, "abuse").observe(scores.abuse)
    return from_classifier(scores), None


async def _answer(conn: asyncpg.Connection, webhook_id: str, status: int, body: dict[str, Any]) -> web.Response:
    await conn.execute(Q.finish_receipt, webhook_id, status, body)
    return web.json_response(body, status=status)


async def _replayed(conn: asyncpg.Connection, webhook_id: str, digest: str) -> web.Response | None:
    receipt = await conn.fetchrow(Q.get_receipt, webhook_id)
    if receipt is None or receipt["status"] == 0:
        return None
    return _replay_response(dict(receipt), webhook_id, digest)


def _replay_response(receipt: dict[str, Any], webhook_id: str, digest: str) -> web.Response:
    """The first answer to this webhook-id, for a retry of the same delivery (the same body, byte for byte).

    A different body under a used webhook-id is not a retry but a second event reusing the key: answering
    the first event's outcome would silently drop it, so it is a 409 (receipts stored before migration
    0160 have no body hash and are replayed as before)."""
    stored = receipt.get("body_sha256")
    if stored is not None and stored != digest:
        raise Problem("idempotency-key-reused",
                      f"webhook-id {webhook_id[:128]!r} was already used for a different body; a retry must send "
                      "the same body, a new event needs a new webhook-id", webhook_id=webhook_id[:128])
    return web.json_response(receipt["response"], status=receipt["status"], headers={"Idempotent-Replayed": "true"})


async def handle_comment_webhook(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    body = await request.read()
    try:
        webhook_id = verify(_keys(config).webhook, request.headers, body)
    except SignatureError as exc:
        raise Problem(exc.slug, exc.detail) from None
    ctype = request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
    if ctype not in ("application/json", "") and not ctype.endswith("+json"):
        raise Problem("unsupported-media-type", f"Content-Type {ctype!r} is not application/json")
    event = parse_event(body, config)
    digest = hashlib.sha256(body).hexdigest()  # a replay is the same body; the same webhook-id with another is a 409
    if event.type == "comment.deleted":
        return await _delete(request, webhook_id, digest, event)
    return await _create_or_update(request, webhook_id, digest, event)


@dataclass(frozen=True)
class _Keys:
    webhook: bytes
    hashing: bytes


_KEYS: dict[int, tuple[Config, _Keys]] = {}


def _keys(config: Config) -> _Keys:
    """The decoded webhook and hashing keys: Config derives them from the secrets on every access."""
    entry = _KEYS.get(id(config))
    if entry is None or entry[0] is not config:
        if len(_KEYS) > 64:  # configs come and go in tests; a service has one
            _KEYS.clear()
        entry = _KEYS[id(config)] = (config, _Keys(config.webhook_key, config.hashing_key))
    return entry[1]


async def _run_checks(request: web.Request, event: CommentEvent) -> None:
    for check in request.app.get(keys.INTAKE_CHECKS, ()):
        await check(request, event)


def _signals(ev: CommentEvent, scored: tuple[Scored | None, str | None], lists: Any, blocked: str | None,
             repeats: int, normalised: str | None = None) -> Signals:
    assert ev.text is not None
    hits = lists.match(ev.text, normalised=normalised)
    return signals_of(scored[0], unscored_why=scored[1],
                      banned_hits=[h.term for h in hits if h.list == "banned"],
                      suspect_hits=[h.term for h in hits if h.list == "suspect"],
                      repeat_authors=repeats, blocked=blocked)


def _decide(app: web.Application, signals: Signals) -> Decision:
    config = app[keys.CONFIG]
    return decide(signals, app[keys.THRESHOLDS], premoderation=config.premoderation,
                  unsupported_language=config.unsupported_language)


def _model_version(app: web.Application, scored: Scored | None) -> str | None:
    model = app.get(keys.MODEL)
    return model.version if (scored is not None and model is not None) else None


async def _create_or_update(request: web.Request, webhook_id: str, digest: str, ev: CommentEvent) -> web.Response:
    """The hot path is one read (intake_context, while the model scores) and one write, committed together
    with whatever other comments arrived meanwhile (group commit, see moderation/intake/group_commit.py)."""
    app = request.app
    config = app[keys.CONFIG]
    key = _keys(config).hashing
    email_hash, ip_hash = hash_email(key, ev.author_email), hash_ip(key, ev.author_ip)
    assert ev.text is not None
    normalised = normalise(ev.text)  # once, for both the fingerprint and the word lists
    fingerprint = fingerprint_normalised(normalised)
    pool = app[keys.POOL]
    scoring = asyncio.ensure_future(_score(request, ev.text))
    try:
        # Batched with the other webhooks in flight: one round trip on the reader's own connection.
        ctx = await app[keys.INTAKE_READER].fetchrow((webhook_id, ev.external_id, ev.author_id, ip_hash,
                                                      fingerprint, float(REPEAT_WINDOW_S)))
        if ctx["receipt"] is not None:
            return _replay_response(ctx["receipt"], webhook_id, digest)
        await _run_checks(request, ev)
        if ctx["existing_id"] is not None:
            if ev.type == "comment.created":
                async with pool.acquire() as conn:
                    return await _answer_duplicate_create(conn, webhook_id, digest, ctx["existing_id"])
            scored = await scoring  # no connection is held while the model works
            async with pool.acquire() as conn:
                return await _update(request, conn, webhook_id, digest, ev, ctx, scored, fingerprint)
        scored = await scoring
    finally:
        scoring.cancel()
    lists = await app[keys.RULES].word_lists(pool)
    signals = _signals(ev, scored, lists, ctx["blocked"], int(ctx["repeats"]), normalised)
    decision = _decide(app, signals)
    model_version = _model_version(app, scored[0])
    reasons = decision.reasons_json()
    attributes = attributes_json(scored[0].attributes) if scored[0] is not None else None
    language = scored[0].language if scored[0] is not None else None
    row = {"id": ctx["next_id"], "external_id": ev.external_id, "article_id": ev.article_id,
           "status": decision.status, "spam_score": signals.spam, "abuse_score": signals.abuse,
           "attributes": attributes, "language": language, "reasons": reasons, "model_version": model_version}
    # JSON encoded once: the same text is the stored receipt and the answer's body
    response = json.dumps({"comment": comment_json(row)})
    # the comment, its decision and (with callbacks on) its outbox row: intake_store -> decision_write
    stored = await app[keys.INTAKE_WRITER].write((
        webhook_id, response, ctx["next_id"], ev.external_id, ev.article_id, ev.article_url, ev.article_title,
        ev.parent_id, ev.author_id, ev.author_name, email_hash, ip_hash, ev.text, fingerprint, decision.status,
        signals.spam, signals.abuse, model_version, json.dumps(reasons), ",".join(decision.reason_codes),  # slugs
        _thresholds_json(app[keys.THRESHOLDS]), ev.created_at or datetime.now(UTC), language,
        None if attributes is None else json.dumps(attributes), digest, bool(config.callback_url)))
    if not stored["receipt_new"]:  # a concurrent delivery of this webhook-id answered first
        async with pool.acquire() as conn:
            return await _replayed(conn, webhook_id, digest) or _gone_replay()
    if not stored["comment_new"]:  # a concurrent create of this CMS id under another webhook-id won
        async with pool.acquire() as conn:
            existing = await conn.fetchrow(Q.get_comment_by_external_id, ev.external_id)
            return await _answer(conn, webhook_id, 200, {"comment": comment_json(existing)})
    metrics = app[keys.METRICS]
    metrics.child(metrics.decisions, decision.status, "system").inc()
    if keys.SHADOW_MODEL in app:
        from moderation.decisions.learning import shadow_score

        spawn(app, shadow_score(app, ctx["next_id"], ev.text, signals, decision.status))
    return web.Response(text=response, content_type="application/json")  # what web.json_response sends


@functools.lru_cache(maxsize=8)
def _thresholds_json(thresholds: Thresholds) -> str:
    return json.dumps(thresholds.as_dict())


async def _answer_duplicate_create(conn: asyncpg.Connection, webhook_id: str, digest: str,
                                   comment_id: int) -> web.Response:
    """A second create for the same CMS id: answer with what we have, store nothing new."""
    async with conn.transaction():
        if await conn.fetchval(Q.claim_receipt, webhook_id, digest) is None:
            return await _replayed(conn, webhook_id, digest) or _gone_replay()
        existing = await conn.fetchrow(Q.get_comment, comment_id)
        return await _answer(conn, webhook_id, 200, {"comment": comment_json(existing)})


async def _update(request: web.Request, conn: asyncpg.Connection, webhook_id: str, digest: str, ev: CommentEvent,
                  ctx: asyncpg.Record, scored: tuple[Scored | None, str | None], fingerprint: str) -> web.Response:
    """comment.updated: the edited text is re-scored and re-decided; the decision is recorded."""
    app = request.app
    config = app[keys.CONFIG]
    lists = await app[keys.RULES].word_lists(conn)
    signals = _signals(ev, scored, lists, ctx["blocked"], int(ctx["repeats"]))
    decision = _decide(app, signals)
    attributes = attributes_json(scored[0].attributes) if scored[0] is not None else None
    async with conn.transaction():
        if await conn.fetchval(Q.claim_receipt, webhook_id, digest) is None:
            return await _replayed(conn, webhook_id, digest) or _gone_replay()
        existing = await conn.fetchrow(Q.get_comment + " FOR UPDATE", ctx["existing_id"])
        if existing["status"] == DELETED:
            raise Problem("conflict", f"comment {ev.external_id!r} was deleted; it cannot be updated")
        await conn.execute(
            Q.update_comment_content, existing["id"], ev.text, fingerprint, signals.spam, signals.abuse,
            _model_version(app, scored[0]), decision.reasons_json(), decision.reason_codes,
            app[keys.THRESHOLDS].as_dict(), ev.author_name, scored[0].language if scored[0] else None, attributes)
        await writer.write(conn, [existing["id"]], decision.status, actor="system", action="updated",
                           mode="change", notify=bool(config.callback_url))
        row = await conn.fetchrow(Q.get_comment, existing["id"])
        response = await _answer(conn, webhook_id, 200, {"comment": comment_json(row)})
    app[keys.METRICS].decisions.labels(row["status"], "system").inc()
    return response


async def _delete(request: web.Request, webhook_id: str, digest: str, ev: CommentEvent) -> web.Response:
    async with request.app[keys.POOL].acquire() as conn, conn.transaction():
        replay = await _replayed(conn, webhook_id, digest)
        if replay is not None:
            return replay
        existing = await conn.fetchrow(Q.get_comment_by_external_id + " FOR UPDATE", ev.external_id)
        if existing is None:
            raise Problem("not-found", f"no comment with id {ev.external_id!r}")
        if await conn.fetchval(Q.claim_receipt, webhook_id, digest) is None:
            return await _replayed(conn, webhook_id, digest) or _gone_replay()
        row = existing
        if existing["status"] != DELETED:  # the CMS knows: no callback
            await writer.write(conn, [existing["id"]], DELETED, actor="cms", action="deleted", mode="change",
                               notify=False, reasons=[[make_reason("deleted", "deleted")]])
            row = await conn.fetchrow(Q.get_comment, existing["id"])
        return await _answer(conn, webhook_id, 200, {"comment": comment_json(row)})


def _gone_replay() -> web.Response:
    # The concurrent first delivery rolled back after we waited on it; the CMS should simply retry.
    raise Problem("service-unavailable", "a concurrent delivery of this webhook-id failed; retry",
                  headers={"Retry-After": "1"})
