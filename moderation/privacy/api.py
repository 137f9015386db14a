"""Admin routes for a commenter's data: ``GET /v1/commenters/{author_id}/export`` and ``POST .../erase``."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from moderation.core import keys
from moderation.core.body import read
from moderation.core.shapes import Shape
from moderation.privacy import commenter
from moderation.review.auth import actor, require_admin

MAX_REASON_CHARS = 1000


class EraseBody(Shape):
    """Why the commenter's data is erased (kept, pseudonymised, in the audit log)."""

    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON_CHARS)] | None = None


@require_admin
async def export_commenter(request: web.Request) -> web.Response:
    async with request.app[keys.POOL].acquire() as conn:
        data = await commenter.export(conn, request.match_info["author_id"])
    return web.json_response(data, headers={"Cache-Control": "no-store"})


@require_admin
async def erase_commenter(request: web.Request) -> web.Response:
    reason = (await read(request, EraseBody, required=False, lenient=True)).reason
    async with request.app[keys.POOL].acquire() as conn:
        summary = await commenter.erase(conn, request.app[keys.CONFIG], request.match_info["author_id"],
                                        actor=actor(request), reason=reason)
    return web.json_response(summary)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/commenters/{author_id}/export", export_commenter)
    app.router.add_post("/v1/commenters/{author_id}/erase", erase_commenter)
