"""The moderators' JSON API (``/v1/...``): thin handlers over the review domain modules.

Every route is guarded by ``require_moderator`` or ``require_admin`` (401/403 problem+json), validates
its input (422 naming the field) and answers JSON; the domain functions raise the 404/409 problems.
Route table: docs/review-api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from moderation.core import audit, keys, pagination
from moderation.core.body import read
from moderation.core.problems import validation_error
from moderation.delivery import outbox
from moderation.review import commenters, decisions, queue, shapes, wordlists
from moderation.review.auth import actor, require_admin, require_moderator


# ── input helpers ──────────────────────────────────────────────────────────────────────────────────
def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) == 0:  # '³'.isdigit(), int('³') fails
        raise validation_error([{"field": name, "message": "must be a positive integer id"}])
    return int(raw)


def query_time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error([{"field": name, "message": "must be an ISO 8601 timestamp with offset"}]) from None
    if value.tzinfo is None:
        raise validation_error([{"field": name, "message": "must include a time zone offset"}])
    return value


def _moderator_id(request: web.Request) -> int:
    return int(request["moderator"].id)


def _pool(request: web.Request) -> Any:
    return request.app[keys.POOL]


# ── queue ──────────────────────────────────────────────────────────────────────────────────────────
@require_moderator
async def get_queue(request: web.Request) -> web.Response:
    q = request.query
    mine = q.get("claimed")
    if mine not in (None, "", "mine"):
        raise validation_error([{"field": "claimed", "message": "must be 'mine' when given"}])
    async with _pool(request).acquire() as conn:
        items, next_cursor = await queue.list_queue(
            conn, status=q.get("status", "pending"), reason=q.get("reason"), article=q.get("article"),
            author=q.get("author"), q=q.get("q"), order=q.get("order", "risk"), language=q.get("language"),
            limit=pagination.check_limit(q.get("limit")), cursor=q.get("cursor"),
            claimed_by=_moderator_id(request) if mine else None)
    return web.json_response({"items": items, "next_cursor": next_cursor})


@require_moderator
async def post_claim(request: web.Request) -> web.Response:
    body = await read(request, shapes.ClaimBody, required=False, lenient=True)
    async with _pool(request).acquire() as conn:
        items = await queue.claim(conn, _moderator_id(request), body.limit, body.lease_s)
    lease = int(body.lease_s) if body.lease_s.is_integer() else body.lease_s
    return web.json_response({"items": items, "lease_s": lease})


@require_moderator
async def post_release(request: web.Request) -> web.Response:
    ids = (await read(request, shapes.ReleaseBody, lenient=True)).ids
    async with _pool(request).acquire() as conn:
        released = await queue.release(conn, _moderator_id(request), ids)
    return web.json_response({"released": released})


# ── comments and decisions ─────────────────────────────────────────────────────────────────────────
@require_moderator
async def get_comment(request: web.Request) -> web.Response:
    comment_id = path_int(request, "id")
    async with _pool(request).acquire() as conn:
        return web.json_response(await queue.get_comment(conn, comment_id))


@require_moderator
async def post_decision(request: web.Request) -> web.Response:
    comment_id = path_int(request, "id")
    body = await read(request, shapes.DecisionBody, lenient=True)
    async with _pool(request).acquire() as conn:
        result = await decisions.apply(conn, request.app[keys.CONFIG], comment_id, body.action,
                                       actor(request), body.reason)
    return web.json_response(result)


@require_moderator
async def post_bulk(request: web.Request) -> web.Response:
    body = await read(request, shapes.BulkBody, lenient=True)
    filters = msgspec.structs.asdict(body.filter) if body.filter is not None else None
    async with _pool(request).acquire() as conn:
        result = await decisions.bulk(conn, request.app[keys.CONFIG], body.action, actor(request),
                                      body.reason, ids=body.ids, filter=filters)
    return web.json_response(result)


@require_moderator
async def post_undo(request: web.Request) -> web.Response:
    decision_id = path_int(request, "id")
    body = await read(request, shapes.ReasonBody, required=False, lenient=True)
    async with _pool(request).acquire() as conn:
        result = await decisions.undo(conn, request.app[keys.CONFIG], decision_id, actor(request), body.reason)
    return web.json_response(result)


@require_moderator
async def post_bulk_undo(request: web.Request) -> web.Response:
    audit_id = path_int(request, "audit_id")
    body = await read(request, shapes.ReasonBody, required=False, lenient=True)
    async with _pool(request).acquire() as conn:
        result = await decisions.undo_bulk(conn, request.app[keys.CONFIG], audit_id, actor(request), body.reason)
    return web.json_response(result)


# ── commenters and blocks ──────────────────────────────────────────────────────────────────────────
@require_moderator
async def get_commenter(request: web.Request) -> web.Response:
    async with _pool(request).acquire() as conn:
        return web.json_response(await commenters.history(conn, request.match_info["author_id"]))


async def _block(request: web.Request, kind: str, value: str) -> web.Response:
    body = await read(request, shapes.ReasonBody, required=False, lenient=True)
    async with _pool(request).acquire() as conn:
        return web.json_response(await commenters.block(conn, kind, value, body.reason, actor(request)))


async def _unblock(request: web.Request, kind: str, value: str) -> web.Response:
    async with _pool(request).acquire() as conn:
        return web.json_response({"unblocked": await commenters.unblock(conn, kind, value, actor(request))})


@require_moderator
async def put_commenter_block(request: web.Request) -> web.Response:
    return await _block(request, "author", request.match_info["author_id"])


@require_moderator
async def delete_commenter_block(request: web.Request) -> web.Response:
    return await _unblock(request, "author", request.match_info["author_id"])


@require_moderator
async def get_blocks(request: web.Request) -> web.Response:
    async with _pool(request).acquire() as conn:
        items, next_cursor = await commenters.list_blocked(
            conn, kind=request.query.get("kind") or None, limit=pagination.check_limit(request.query.get("limit")),
            cursor=request.query.get("cursor"))
    return web.json_response({"items": items, "next_cursor": next_cursor})


@require_moderator
async def put_block(request: web.Request) -> web.Response:
    return await _block(request, request.match_info["kind"], request.match_info["value"])


@require_moderator
async def delete_block(request: web.Request) -> web.Response:
    return await _unblock(request, request.match_info["kind"], request.match_info["value"])


# ── word lists ─────────────────────────────────────────────────────────────────────────────────────
@require_moderator
async def get_wordlists(request: web.Request) -> web.Response:
    async with _pool(request).acquire() as conn:
        return web.json_response(await wordlists.list_terms(conn))


async def _add_term(request: web.Request, list_name: str, term: Any) -> web.Response:
    async with _pool(request).acquire() as conn:
        entry, created = await wordlists.add(conn, list_name, term, actor(request))
    request.app[keys.RULES].invalidate()
    return web.json_response(entry, status=201 if created else 200)


@require_admin
async def put_term(request: web.Request) -> web.Response:
    return await _add_term(request, request.match_info["list"], request.match_info["term"])


@require_admin
async def post_term(request: web.Request) -> web.Response:
    body = await read(request, shapes.TermBody, lenient=True)
    return await _add_term(request, request.match_info["list"], body.term)


@require_admin
async def delete_term(request: web.Request) -> web.Response:
    async with _pool(request).acquire() as conn:
        entry = await wordlists.remove(conn, request.match_info["list"], request.match_info["term"], actor(request))
    request.app[keys.RULES].invalidate()
    return web.json_response({"removed": entry})


# ── audit ──────────────────────────────────────────────────────────────────────────────────────────
@require_moderator
async def get_audit(request: web.Request) -> web.Response:
    q = request.query
    errors = [{"field": k, "message": "must be at most 256 characters, without NUL"}
              for k in ("actor", "action", "target_type", "target_id")
              if len(q.get(k, "")) > 256 or "\x00" in q.get(k, "")]
    if errors:
        raise validation_error(errors)
    async with _pool(request).acquire() as conn:
        items, next_cursor = await audit.search(
            conn, actor=q.get("actor") or None, action=q.get("action") or None,
            target_type=q.get("target_type") or None, target_id=q.get("target_id") or None,
            since=query_time(request, "since"), until=query_time(request, "until"),
            limit=pagination.check_limit(q.get("limit")), cursor=q.get("cursor"))
    return web.json_response({"items": items, "next_cursor": next_cursor})


# ── outbox (admins) ────────────────────────────────────────────────────────────────────────────────
@require_admin
async def get_outbox(request: web.Request) -> web.Response:
    q = request.query
    async with _pool(request).acquire() as conn:
        return web.json_response(await outbox.overview(
            conn, request.app[keys.CONFIG], state=q.get("state") or "all",
            limit=pagination.check_limit(q.get("limit")), cursor=q.get("cursor")))


@require_admin
async def post_endpoint_state(request: web.Request) -> web.Response:
    enable = request.match_info["verb"] == "enable"
    body = await read(request, shapes.ReasonBody, required=False, lenient=True)
    async with _pool(request).acquire() as conn:
        state = await outbox.set_endpoint(conn, request.app[keys.CONFIG], enabled=enable, actor=actor(request),
                                          reason=body.reason)
    return web.json_response(state)


@require_admin
async def post_outbox_retry(request: web.Request) -> web.Response:
    outbox_id = path_int(request, "id")
    async with _pool(request).acquire() as conn:
        return web.json_response(await outbox.retry(conn, outbox_id, actor(request)))


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/queue", get_queue)
    r.add_post("/v1/queue/claim", post_claim)
    r.add_post("/v1/queue/release", post_release)
    r.add_get("/v1/comments/{id}", get_comment)
    r.add_post("/v1/comments/{id}/decision", post_decision)
    r.add_post("/v1/decisions", post_bulk)
    r.add_post("/v1/decisions/{id}/undo", post_undo)
    r.add_post("/v1/decisions/bulk/{audit_id}/undo", post_bulk_undo)
    r.add_get("/v1/commenters/{author_id}", get_commenter)
    r.add_put("/v1/commenters/{author_id}/block", put_commenter_block)
    r.add_delete("/v1/commenters/{author_id}/block", delete_commenter_block)
    r.add_get("/v1/blocks", get_blocks)
    r.add_put("/v1/blocks/{kind}/{value}", put_block)
    r.add_delete("/v1/blocks/{kind}/{value}", delete_block)
    r.add_get("/v1/wordlists", get_wordlists)
    r.add_post("/v1/wordlists/{list}", post_term)
    r.add_put("/v1/wordlists/{list}/{term}", put_term)
    r.add_delete("/v1/wordlists/{list}/{term}", delete_term)
    r.add_get("/v1/audit", get_audit)
    r.add_get("/v1/outbox", get_outbox)
    r.add_post("/v1/outbox/endpoint/{verb:enable|disable}", post_endpoint_state)
    r.add_post("/v1/outbox/{id}/retry", post_outbox_retry)
