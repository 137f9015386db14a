"""Admin routes for a commenter's data: ``GET /v1/commenters/{author_id}/export`` and ``POST .../erase``."""

from __future__ import annotations

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import validation_error
from moderation.privacy import commenter
from moderation.review.api import json_body
from moderation.review.auth import actor, require_admin

MAX_REASON_CHARS = 1000


@require_admin
async def export_commenter(request: web.Request) -> web.Response:
    async with request.app[keys.POOL].acquire() as conn:
        data = await commenter.export(conn, request.match_info["author_id"])
    return web.json_response(data, headers={"Cache-Control": "no-store"})


@require_admin
async def erase_commenter(request: web.Request) -> web.Response:
    body = await json_body(request, required=False)
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS or "\x00" in reason):
        raise validation_error([{"field": "reason",
                                 "message": f"must be a string of at most {MAX_REASON_CHARS} characters, no NUL"}])
    async with request.app[keys.POOL].acquire() as conn:
        summary = await commenter.erase(conn, request.app[keys.CONFIG], request.match_info["author_id"],
                                        actor=actor(request), reason=reason)
    return web.json_response(summary)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/commenters/{author_id}/export", export_commenter)
    app.router.add_post("/v1/commenters/{author_id}/erase", erase_commenter)
