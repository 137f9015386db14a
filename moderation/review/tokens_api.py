"""Admin API for access: ``POST/GET /v1/tokens``, ``DELETE /v1/tokens/{id}``, ``GET /v1/moderators``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.body import read
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.review import auth, shapes
from moderation.review.auth import require_admin

MAX_TOKEN_DAYS = shapes.MAX_TOKEN_DAYS


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def token_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "prefix": row["prefix"], "moderator_id": row["moderator_id"],
            "moderator_email": row["email"], "created_at": _iso(row["created_at"]),
            "expires_at": _iso(row["expires_at"]), "last_used_at": _iso(row["last_used_at"]),
            "revoked_at": _iso(row["revoked_at"])}


def moderator_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "email": row["email"], "role": row["role"], "created_at": _iso(row["created_at"]),
            "last_login_at": _iso(row["last_login_at"]), "disabled": row["disabled_at"] is not None}


@require_admin
async def create_token(request: web.Request) -> web.Response:
    """Body ``{"name": "...", "moderator_id": 3?, "expires_in_days": 90?}``; the token is in this answer only."""
    body = await read(request, shapes.TokenBody, lenient=True)
    name, days = body.name, body.expires_in_days
    moderator_id = body.moderator_id if body.moderator_id is not None else request["moderator"].id
    pool = request.app[keys.POOL]
    async with pool.acquire() as conn:
        if await auth.get_moderator(conn, moderator_id) is None:
            raise validation_error([{"field": "moderator_id", "message": "no such (active) moderator"}])
        token_id, token = await auth.new_token(conn, moderator_id, name.strip(), actor=auth.actor(request),
                                               expires_in_s=None if days is None else float(days) * 86400)
        row = await conn.fetchrow(Q.auth_get_token, token_id)
    return web.json_response({**token_json(row), "token": token}, status=201,
                             headers={"Location": f"/v1/tokens/{row['id']}", "Cache-Control": "no-store"})


@require_admin
async def list_tokens(request: web.Request) -> web.Response:
    rows = await request.app[keys.POOL].fetch(Q.auth_list_tokens)
    return web.json_response({"tokens": [token_json(r) for r in rows]})


def _token_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # '³'.isdigit(), int('³') fails
        raise validation_error([{"field": "id", "message": "must be a token id (an integer)"}])
    return int(raw)


@require_admin
async def delete_token(request: web.Request) -> web.Response:
    """Revoke.  Idempotent: revoking a revoked token answers 204 too; an unknown id is 404."""
    token_id = _token_id(request)
    async with request.app[keys.POOL].acquire() as conn:
        revoked = await auth.revoke_token(conn, token_id, actor=auth.actor(request))
        if not revoked and await conn.fetchrow(Q.auth_get_token, token_id) is None:
            raise Problem("not-found", f"no token {token_id}")
    return web.Response(status=204)


@require_admin
async def list_moderators(request: web.Request) -> web.Response:
    rows = await auth.list_moderators(request.app[keys.POOL])
    return web.json_response({"moderators": [moderator_json(r) for r in rows]})


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/tokens", create_token)
    app.router.add_get("/v1/tokens", list_tokens)
    app.router.add_delete("/v1/tokens/{id}", delete_token)
    app.router.add_get("/v1/moderators", list_moderators)
