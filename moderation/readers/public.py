"""The public, reader-facing read API a CMS renders an article's comment section from.

``GET /v1/articles/{article_id}``           → ``{"id", "likes", "dislikes", "total_comments"}``
``GET /v1/articles/{article_id}/comments``  → published comments as threads, cursor-paginated

Only ``status = 'approved'`` rows are ever selected, straight from Postgres on every request (no in-process
cache), so a comment a moderator unpublishes is gone from the next response.  Responses carry a strong
``ETag`` (a hash of the body) and a short ``Cache-Control: public, max-age=<MODERATION_PUBLIC_MAX_AGE>`` so a
CMS or CDN may cache them for a few seconds; personalised answers (a reader id or reader cookie was given, so
``my_reaction`` is filled in) are ``private, no-cache``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import cors, keys
from moderation.core.problems import validation_error
from moderation.core.sql import Q
from moderation.readers.reactions import check_article_id, check_reader_id, known_reader

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_BIGINT = 2**63 - 1
FAR_FUTURE = datetime.fromisoformat("9999-12-31T00:00:00+00:00")
FAR_PAST = datetime.fromisoformat("0001-01-02T00:00:00+00:00")

# Paths whose responses get CORS headers: the reader-facing API only (never moderator endpoints).
CORS_PATHS = re.compile(r"^/v1/(articles/[^/]+(/comments|/reaction)?|comments/[^/]+/(reaction|reports))$")


# ── cursors ─────────────────────────────────────────────────────────────────────────────────────────
def encode_cursor(order: str, created_at: datetime, comment_id: int) -> str:
    raw = json.dumps([order, created_at.isoformat(), comment_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[datetime, int]:
    """Opaque to clients; a cursor from another ``order`` or a mangled one is a 422 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_order, created_at, comment_id = json.loads(raw)
        when = datetime.fromisoformat(created_at)
        if got_order != order or when.tzinfo is None or not isinstance(comment_id, int):
            raise ValueError
        if not 0 <= comment_id <= MAX_BIGINT:
            raise ValueError
        return when, comment_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise validation_error([{"field": "cursor", "message": "is not a cursor this list returned "
                                 "(for this order)"}]) from None


# ── shaping ─────────────────────────────────────────────────────────────────────────────────────────
def comment_public_json(row: asyncpg.Record, personal: bool) -> dict[str, Any]:
    """A published comment as readers may see it: never e-mail/IP hashes, scores or moderation data."""
    item: dict[str, Any] = {
        "id": row["id"],
        "external_id": row["external_id"],
        "parent_id": row["parent_external_id"],
        "author": {"name": row["author_name"]},
        "text": row["text"],
        "created_at": row["created_at"].isoformat(),
        "likes": row["likes"],
        "dislikes": row["dislikes"],
    }
    if personal:
        item["my_reaction"] = row["my_reaction"]
    item["replies"] = []
    return item


def thread(rows: Sequence[asyncpg.Record], personal: bool) -> list[dict[str, Any]]:
    """Nest the page's rows (roots in page order, then replies parents-first) by the CMS parent id."""
    roots: list[dict[str, Any]] = []
    by_external: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["id"] is None:  # the summary-only row of an empty page
            continue
        item = comment_public_json(row, personal)
        if row["depth"] == 0:
            roots.append(item)
        else:
            parent = by_external.get(row["parent_external_id"])
            if parent is None:
                continue
            parent["replies"].append(item)
        by_external[item["external_id"]] = item
    return roots


# ── HTTP caching ────────────────────────────────────────────────────────────────────────────────────
def cached_json(request: web.Request, body: dict[str, Any], *, personal: bool) -> web.Response:
    """JSON with an ETag (answering 304 to a matching If-None-Match) and Cache-Control."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    max_age = request.app[keys.CONFIG].public_max_age_s
    if personal:
        cache_control = "private, no-cache"
    elif max_age > 0:
        cache_control = f"public, max-age={max_age}"
    else:
        cache_control = "public, no-cache"
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Origin, Cookie"}
    candidates = {t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")}
    if etag in candidates or "*" in candidates:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type="application/json", charset="utf-8", headers=headers)


def _reader(request: web.Request) -> str | None:
    return known_reader(request, check_reader_id(request.query.get("reader_id"), "reader_id"))


# ── handlers ────────────────────────────────────────────────────────────────────────────────────────
async def article_summary(conn: asyncpg.Pool | asyncpg.Connection, article_id: str, reader: str | None
                          ) -> dict[str, Any]:
    """``{"id", "likes", "dislikes", "total_comments"}`` (+ ``my_reaction`` for a known reader)."""
    row = await conn.fetchrow(Q.public_summary, article_id, reader)
    body: dict[str, Any] = {"id": article_id, "likes": row["likes"], "dislikes": row["dislikes"],
                            "total_comments": row["total"]}
    if reader is not None:
        body["my_reaction"] = row["mine"]
    return body


async def get_article(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    reader = _reader(request)
    body = await article_summary(request.app[keys.POOL], article_id, reader)
    return cached_json(request, body, personal=reader is not None)


def _list_params(request: web.Request) -> tuple[int, str, str | None]:
    errors = []
    limit = DEFAULT_LIMIT
    raw = request.query.get("limit")
    if raw is not None:
        limit = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= limit <= MAX_LIMIT:
            errors.append({"field": "limit", "message": f"must be an integer from 1 to {MAX_LIMIT}"})
    order = request.query.get("order", "newest")
    if order not in ("newest", "oldest"):
        errors.append({"field": "order", "message": "must be \"newest\" or \"oldest\""})
    if errors:
        raise validation_error(errors)
    return limit, order, request.query.get("cursor")


async def comment_page(conn: asyncpg.Pool | asyncpg.Connection, article_id: str, *, limit: int = DEFAULT_LIMIT,
                       order: str = "newest", cursor: str | None = None, reader: str | None = None
                       ) -> dict[str, Any]:
    """One page of threads: ``limit`` thread roots with all their published replies nested, the counts, the
    reader's reactions and the article summary — one SQL statement, so one consistent snapshot."""
    if cursor:
        after_ts, after_id = decode_cursor(cursor, order)
    elif order == "newest":
        after_ts, after_id = FAR_FUTURE, MAX_BIGINT
    else:
        after_ts, after_id = FAR_PAST, 0
    query = Q.public_page_newest if order == "newest" else Q.public_page_oldest
    rows = await conn.fetch(query, article_id, after_ts, after_id, limit + 1, reader)
    more = sum(1 for r in rows if r["depth"] == 0) > limit
    if more:  # the extra root only says "there is a next page"; drop it and its replies
        extra = next(r for r in rows if r["root_rank"] == limit + 1)
        rows = [r for r in rows if r["id"] != extra["id"]]
    comments = thread(rows, reader is not None)
    summary: dict[str, Any] = {"id": article_id, "likes": rows[0]["a_likes"], "dislikes": rows[0]["a_dislikes"],
                               "total_comments": rows[0]["a_total"]}
    if reader is not None:
        summary["my_reaction"] = rows[0]["a_mine"]
    last = comments[-1] if comments else None
    return {
        "article": summary,
        "total": summary["total_comments"],
        "comments": comments,
        "next_cursor": encode_cursor(order, datetime.fromisoformat(last["created_at"]), last["id"])
        if (more and last) else None,
    }


async def list_comments(request: web.Request) -> web.Response:
    article_id = check_article_id(request.match_info["article_id"])
    limit, order, cursor = _list_params(request)
    reader = _reader(request)
    body = await comment_page(request.app[keys.POOL], article_id, limit=limit, order=order, cursor=cursor,
                              reader=reader)
    return cached_json(request, body, personal=reader is not None)


# ── CORS ────────────────────────────────────────────────────────────────────────────────────────────
async def cors_hook(request: web.Request, response: web.StreamResponse) -> None:
    """CORS headers (moderation.core.cors) on the reader API's responses, errors included; with a cross-site
    reader cookie, credentials must be allowed too (for a listed origin, never for ``*``)."""
    if not CORS_PATHS.match(request.path):
        return
    headers = cors.cors_headers(request)
    if not headers:
        return
    headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, Content-Type"
    if request.app[keys.CONFIG].reader_cookie_cross_site and headers["Access-Control-Allow-Origin"] != "*":
        headers["Access-Control-Allow-Credentials"] = "true"
    for name, value in headers.items():
        if name == "Vary":
            if "origin" not in response.headers.get("Vary", "").lower():
                response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), "Origin"]))
            continue
        response.headers[name] = value


def preflight(methods: tuple[str, ...]) -> Any:
    inner = cors.preflight(methods)

    async def handler(request: web.Request) -> web.Response:
        response = await inner(request)
        if "Access-Control-Allow-Origin" in response.headers:
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, If-None-Match"
        return response
    return handler


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/articles/{article_id}", get_article)
    r.add_get("/v1/articles/{article_id}/comments", list_comments)
    r.add_route("OPTIONS", "/v1/articles/{article_id}/reaction", preflight(("PUT", "DELETE")))
    r.add_route("OPTIONS", "/v1/comments/{id}/reaction", preflight(("PUT", "DELETE")))
    app.on_response_prepare.append(cors_hook)
