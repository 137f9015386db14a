"""Readers' likes and dislikes on articles and comments: exact counts, reader identity, abuse limits.

``PUT|DELETE /v1/articles/{article_id}/reaction`` and ``PUT|DELETE /v1/comments/{id}/reaction``.

Design (docs/readers.md has the long form):

* **Truth** is one ``reactions`` row per (target, reader): the primary key makes "one reaction per reader"
  a database fact, whatever the concurrency.
* **Counts** live in ``reaction_counts``, one row per (target, shard) with ``SHARDS`` shards.  The shard is a
  hash of the reader, stored on the truth row.  The SQL function ``reaction_apply`` changes the truth row and
  adds the delta (old kind → new kind) to that shard in the same transaction, so the sum of the shards equals
  ``count(*)`` of the truth rows at every commit; reads sum at most ``SHARDS`` rows.  Writers to one viral
  target spread over ``SHARDS`` counter rows instead of queueing on one row lock (held until commit).
* **One round trip**: rate limits, the "comment is published" check, the truth row, the counter shard and
  the new totals happen in one call of ``reaction_apply``.
* **Identity**: ``reader_id`` from the CMS (namespaced ``cms:``), else an anonymous id in a cookie signed with
  the hashing key (namespaced ``anon:``).  Bursts per reader and per IP hash get 429 and are logged in
  ``reaction_abuse`` for moderators (``GET /v1/reactions/abuse``).
"""

from __future__ import annotations

import logging
import math
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.body import read
from moderation.core.hashing import keyed_hash, same_secret
from moderation.core.problems import Problem, validation_error
from moderation.core.ratelimit import client_hash
from moderation.core.sql import Q

log = logging.getLogger(__name__)

SHARDS = 32  # docs/readers.md: P(a writer waits on another's shard) ~ 1-(1-1/SHARDS)^(concurrent writers-1)
KINDS = ("like", "dislike")
TARGET_TYPES = ("article", "comment")
RATE_WINDOW_S = 60.0
READER_COOKIE = "moderation_reader"
READER_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_ID_CHARS = 256
MAX_BIGINT = 2**63 - 1

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ── reader identity ─────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Reader:
    """Who reacts.  ``key`` is the namespaced id stored in ``reactions.reader_id``; ``new_cookie`` is set
    when we minted an anonymous id on this request and must send it back in ``Set-Cookie``."""

    key: str
    new_cookie: str | None = None


def _cookie_sig(hashing_key: bytes, anon_id: str) -> str:
    return keyed_hash(hashing_key, anon_id, purpose="reader-cookie")[:32]


def sign_reader_cookie(hashing_key: bytes, anon_id: str) -> str:
    return f"{anon_id}.{_cookie_sig(hashing_key, anon_id)}"


def verify_reader_cookie(hashing_key: bytes, value: str | None) -> str | None:
    """The anonymous id in a cookie we signed, or None (missing, malformed or forged)."""
    if not value or len(value) > 128 or "." not in value:
        return None
    anon_id, _, sig = value.rpartition(".")
    if not anon_id or not same_secret(sig, _cookie_sig(hashing_key, anon_id)):
        return None
    return anon_id


def check_reader_id(raw: Any, field: str) -> str | None:
    """Validate a CMS reader id (None when absent); raises 422 naming ``field``."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise validation_error([{"field": field, "message": "must be a non-empty string"}])
    if len(raw) > MAX_ID_CHARS or any(ord(ch) < 32 for ch in raw):
        raise validation_error([{"field": field, "message":
                                 f"must be at most {MAX_ID_CHARS} printable characters"}])
    return raw


def body_reader_id(body: dict[str, Any], errors: list[dict[str, str]]) -> str | None:
    """The body's ``reader_id`` (None when absent); a bad one adds its error to ``errors`` (one 422 for all)."""
    try:
        return check_reader_id(body.get("reader_id"), "reader_id")
    except Problem as exc:
        errors.extend(exc.body_dict["errors"])
        return None


def known_reader(request: web.Request, reader_id: str | None) -> str | None:
    """The reader key for a read (no cookie is minted): CMS id first, else a valid reader cookie."""
    if reader_id is not None:
        return "cms:" + reader_id
    anon = verify_reader_cookie(request.app[keys.CONFIG].hashing_key, request.cookies.get(READER_COOKIE))
    return None if anon is None else "anon:" + anon


def resolve_reader(request: web.Request, reader_id: str | None) -> Reader:
    """The reader for a write: the CMS id, else the signed cookie, else a freshly minted anonymous id."""
    key = known_reader(request, reader_id)
    if key is not None:
        return Reader(key)
    # the mint time rides inside the signed id: a report weighs by the cookie's age (readers/report_trust.py)
    anon = f"{secrets.token_urlsafe(16)}.{int(time.time())}"
    return Reader("anon:" + anon, sign_reader_cookie(request.app[keys.CONFIG].hashing_key, anon))


def set_reader_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """HttpOnly (scripts cannot read or steal it), SameSite=Lax by default; SameSite=None; Secure when the
    reacting page is on another site (``MODERATION_READER_COOKIE_CROSS_SITE``) — browsers only send
    third-party cookies that are Secure, and some block them entirely (then the CMS should pass reader_id)."""
    config = request.app[keys.CONFIG]
    cross = config.reader_cookie_cross_site
    response.set_cookie(READER_COOKIE, value, max_age=READER_COOKIE_MAX_AGE, path="/", httponly=True,
                        secure=cross or config.secure_cookies or request.secure,
                        samesite="None" if cross else "Lax")


# ── targets ─────────────────────────────────────────────────────────────────────────────────────────
def check_article_id(raw: str) -> str:
    if not raw.strip() or len(raw) > MAX_ID_CHARS or any(ord(ch) < 32 for ch in raw):
        raise validation_error([{"field": "article_id", "message":
                                 f"must be 1 to {MAX_ID_CHARS} printable characters"}])
    return raw


def check_comment_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_BIGINT:
        raise validation_error([{"field": "id", "message": "must be a comment id (a positive integer, "
                                 "the `id` of the public comment object)"}])
    return int(raw)


def _target(request: web.Request) -> tuple[str, str]:
    if "article_id" in request.match_info:
        return "article", check_article_id(request.match_info["article_id"])
    return "comment", str(check_comment_id(request.match_info["id"]))


def shard_for(reader_key: str) -> int:
    return zlib.crc32(reader_key.encode()) % SHARDS


# ── handlers ────────────────────────────────────────────────────────────────────────────────────────
async def json_object(request: web.Request, *, required: bool) -> dict[str, Any]:
    """The body as a JSON object, through the one body reader (limits, duplicate keys, UTF-8).  Requiring
    JSON also means a cross-site <form> cannot send this request without a CORS preflight."""
    return await read(request, dict[str, Any], required=required)


async def put_reaction(request: web.Request) -> web.Response:
    target_type, target_id = _target(request)
    body = await json_object(request, required=True)
    kind = body.get("kind")
    errors = []
    if kind not in KINDS:
        errors.append({"field": "kind", "message": "must be \"like\" or \"dislike\""})
    reader_id = body_reader_id(body, errors)
    if errors:
        raise validation_error(errors)
    return await _apply(request, target_type, target_id, resolve_reader(request, reader_id), kind)


async def delete_reaction(request: web.Request) -> web.Response:
    target_type, target_id = _target(request)
    body = await json_object(request, required=False)
    raw = body.get("reader_id", request.query.get("reader_id"))
    reader_id = check_reader_id(raw, "reader_id")
    # An unknown reader has nothing to take back: key "" matches no row (every stored id is namespaced),
    # so the answer is just the current counts, and no cookie is minted.
    key = known_reader(request, reader_id) or ""
    return await _apply(request, target_type, target_id, Reader(key), None)


async def _apply(request: web.Request, target_type: str, target_id: str, reader: Reader,
                 kind: str | None) -> web.Response:
    config = request.app[keys.CONFIG]
    ip_hash = client_hash(request)
    scopes: list[str] = []
    subjects: list[str] = []
    limits: list[int] = []
    if reader.key:
        scopes.append("reader")
        subjects.append(reader.key)
        limits.append(config.reaction_rate_reader)
    if ip_hash is not None:
        scopes.append("ip")
        subjects.append(ip_hash)
        limits.append(config.reaction_rate_ip)
    row = await request.app[keys.POOL].fetchrow(
        Q.reaction_apply, target_type, target_id, reader.key, kind, shard_for(reader.key), ip_hash,
        scopes, subjects, limits, RATE_WINDOW_S)
    if row["outcome"] == "limited":
        seconds = max(1, math.ceil(row["retry_after"]))
        who = "this reader" if row["limited_scope"] == "reader" else "this network address"
        limit = limits[scopes.index(row["limited_scope"])]
        log.info("reaction rate limit hit", extra={"scope": row["limited_scope"], "target": target_id})
        raise Problem("rate-limited", f"Too many reactions from {who}: at most {limit} per "
                      f"{RATE_WINDOW_S:g} s; retry in {seconds} s.", headers={"Retry-After": str(seconds)},
                      retry_after=seconds, scope=row["limited_scope"])
    if row["outcome"] == "not_found":
        raise Problem("not-found", f"no published comment with id {target_id}")
    response = web.json_response(
        {"target": {"type": target_type, "id": target_id}, "likes": row["likes"], "dislikes": row["dislikes"],
         "my_reaction": row["new_kind"], "changed": row["old_kind"] != row["new_kind"]},
        headers={"Cache-Control": "no-store"})
    if reader.new_cookie is not None:
        set_reader_cookie(request, response, reader.new_cookie)
    return response


# ── moderators: reaction abuse ──────────────────────────────────────────────────────────────────────
def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def since_and_limit(request: web.Request, errors: list[dict[str, str]]) -> tuple[datetime, int]:
    """A moderators' abuse listing's ``since`` (RFC 3339, default 24 h ago) and ``limit`` (1–1000, default
    100) query parameters; a bad one adds its error to ``errors``."""
    since = datetime.now(UTC) - timedelta(hours=24)
    if "since" in request.query:
        try:
            since = datetime.fromisoformat(request.query["since"].replace("Z", "+00:00"))
            if since.tzinfo is None:
                raise ValueError
        except ValueError:
            errors.append({"field": "since", "message": "must be an RFC 3339 timestamp with an offset"})
    limit = 100
    if "limit" in request.query:
        raw = request.query["limit"]
        limit = int(raw) if raw.isascii() and raw.isdigit() else 0  # '³'.isdigit(), int('³') fails
        if not 1 <= limit <= 1000:
            errors.append({"field": "limit", "message": "must be an integer from 1 to 1000"})
    return since, limit


async def list_abuse(request: web.Request) -> web.Response:
    """GET /v1/reactions/abuse?since=&scope=reader|ip&limit=: rate-limit refusals, newest first."""
    errors: list[dict[str, str]] = []
    since, limit = since_and_limit(request, errors)
    scope = request.query.get("scope")
    if scope is not None and scope not in ("reader", "ip"):
        errors.append({"field": "scope", "message": "must be \"reader\" or \"ip\""})
    if errors:
        raise validation_error(errors)
    rows = await request.app[keys.POOL].fetch(Q.reaction_abuse_list, since, scope, limit)
    items = [{"scope": r["scope"], "subject": r["subject"],
              "target": {"type": r["target_type"], "id": r["target_id"]},
              "window": {"start": _iso(r["window_start"]), "seconds": r["window_s"]},
              "refused": r["refused"], "reader_id": r["reader_id"], "ip_hash": r["ip_hash"],
              "first_at": _iso(r["first_at"]), "last_at": _iso(r["last_at"]),
              "standing_reactions": r["standing_reactions"]} for r in rows]
    return web.json_response({"items": items, "since": since.isoformat()}, headers={"Cache-Control": "no-store"})


async def purge_reactions(request: web.Request) -> web.Response:
    """POST /v1/reactions/purge {"reader_id"} or {"ip_hash"}: take back every reaction of an abuser."""
    body = await json_object(request, required=True)
    reader_id, ip_hash = body.get("reader_id"), body.get("ip_hash")
    if (reader_id is None) == (ip_hash is None):
        raise validation_error([{"field": "reader_id", "message": "give exactly one of reader_id or ip_hash"}])
    for name, value in (("reader_id", reader_id), ("ip_hash", ip_hash)):
        if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS + 5):
            raise validation_error([{"field": name, "message": "must be a non-empty string (as listed in "
                                     "/v1/reactions/abuse)"}])
    # reaction_purge() (schema.sql) deletes (locks) every truth row before it touches a counter shard, so it
    # cannot deadlock with reactions, and locks shards in key order; should Postgres still abort one, retry.
    for attempt in range(3):
        try:
            row = await request.app[keys.POOL].fetchrow(Q.reaction_purge, reader_id, ip_hash)
            break
        except asyncpg.DeadlockDetectedError:
            if attempt == 2:
                raise Problem("service-unavailable", "the purge collided with another; retry",
                              headers={"Retry-After": "1"}) from None
    moderator = request.get("moderator")
    log.info("reactions purged", extra={"by": str(getattr(moderator, "id", moderator)), "removed": row["removed"]})
    return web.json_response({"removed": row["removed"], "targets": row["targets"]})


def moderator_only(handler: Handler) -> Handler:
    """Protect ``handler`` with the review capability's ``require_moderator`` (401/403 problem+json)."""
    try:
        from moderation.review.auth import require_moderator
    except ImportError:  # that capability missing from this build: fail closed
        async def refuse(request: web.Request) -> web.StreamResponse:
            raise Problem("unauthorized", "moderator authentication is not available")
        return refuse
    return require_moderator(handler)


# ── operators: `moderation reactions-check [--repair]` ────────────────────────────────────────────
async def audit(conn: Any, *, repair: bool = False) -> list[dict[str, Any]]:
    """Targets whose counters disagree with their truth rows (none, unless someone edited tables by hand);
    with ``repair`` their shards are rebuilt from the truth rows, writers blocked meanwhile."""
    async with conn.transaction():
        if repair:
            await conn.execute(Q.reaction_repair_lock)
        rows = [dict(r) for r in await conn.fetch(Q.reaction_audit)]
        if repair:
            for r in rows:
                await conn.execute(Q.reaction_repair_delete, r["target_type"], r["target_id"])
                await conn.execute(Q.reaction_repair_target, r["target_type"], r["target_id"])
    return rows


def setup(app: web.Application) -> None:
    """Register the reaction routes (no I/O)."""
    router = app.router
    router.add_put("/v1/articles/{article_id}/reaction", put_reaction)
    router.add_delete("/v1/articles/{article_id}/reaction", delete_reaction)
    router.add_put("/v1/comments/{id}/reaction", put_reaction)
    router.add_delete("/v1/comments/{id}/reaction", delete_reaction)
    router.add_get("/v1/reactions/abuse", moderator_only(list_abuse))
    router.add_post("/v1/reactions/purge", moderator_only(purge_reactions))
