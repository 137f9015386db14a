"""Admin pages: API tokens and callback deliveries (the outbox)."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import validation_error
from moderation.core.sql import Q
from moderation.review import auth
from moderation.review.views.common import done, form, page, render, wants_json
from moderation.review.views.helpers import ago
from moderation.review.views.queue_pages import PAGE_SIZE, _comment_id


# ── admin: API tokens ──────────────────────────────────────────────────────────────────────────────
@page
@auth.require_admin
async def tokens_page(request: web.Request) -> web.Response:
    return await _render_tokens(request)


async def _render_tokens(request: web.Request, *, new_token: str | None = None, status: int = 200) -> web.Response:
    pool = request.app[keys.POOL]
    tokens = await pool.fetch(Q.auth_list_tokens)
    moderators = await auth.list_moderators(pool)
    api_keys = await pool.fetch(Q.api_key_list)  # the Perspective/Akismet keys (moderation/compat)
    return render(request, "tokens.html", {"tokens": tokens, "moderators": moderators, "new_token": new_token,
                                           "api_keys": api_keys, "ago": ago}, status=status)


@page
@auth.require_admin
async def tokens_create(request: web.Request) -> web.StreamResponse:
    """Shows the new token on the answer page itself (never in a URL, never stored in plain)."""
    data = await form(request)
    name = (data.get("name") or "").strip()
    errors = []
    if not name or len(name) > 100:
        errors.append({"field": "name", "message": "must be 1 to 100 characters"})
    try:
        moderator_id = int(data.get("moderator_id") or request["moderator"].id)
    except ValueError:
        moderator_id = 0
    days_raw = (data.get("expires_in_days") or "").strip()
    try:
        days = float(days_raw) if days_raw else None
        if days is not None and not 0 < days <= 3650:
            raise ValueError
    except ValueError:
        errors.append({"field": "expires_in_days", "message": "must be a number of days between 0 and 3650"})
        days = None
    if errors:
        raise validation_error(errors)
    pool = request.app[keys.POOL]
    if await auth.get_moderator(pool, moderator_id) is None:
        raise validation_error([{"field": "moderator_id", "message": "no such (active) moderator"}])
    _, token = await auth.new_token(pool, moderator_id, name, actor=auth.actor(request),
                                    expires_in_s=None if days is None else days * 86400)
    if wants_json(request):
        return web.json_response({"token": token})
    return await _render_tokens(request, new_token=token, status=201)


@page
@auth.require_admin
async def tokens_revoke(request: web.Request) -> web.StreamResponse:
    token_id = _comment_id(request)
    revoked = await auth.revoke_token(request.app[keys.POOL], token_id, actor=auth.actor(request))
    message = f"Revoked token {token_id}" if revoked else f"Token {token_id} was already revoked"
    return done(request, {"revoked": revoked, "message": message}, flash=message, to="/moderate/tokens")


# ── admin: callback deliveries (the outbox) ────────────────────────────────────────────────────────
@page
@auth.require_admin
async def deliveries_page(request: web.Request) -> web.Response:
    from moderation.delivery import outbox

    state = request.query.get("state") or "all"
    state = state if state in outbox.STATES else "all"
    async with request.app[keys.POOL].acquire() as conn:
        data = await outbox.overview(conn, request.app[keys.CONFIG], state=state, limit=PAGE_SIZE,
                                     cursor=request.query.get("cursor") or None)
    next_url = ("/moderate/deliveries?" + urlencode({"state": state, "cursor": data["next_cursor"]})
                if data["next_cursor"] else None)
    return render(request, "deliveries.html", {**data, "state": state, "states": list(outbox.STATES),
                                               "next_url": next_url, "ago": ago})


@page
@auth.require_admin
async def deliveries_retry(request: web.Request) -> web.StreamResponse:
    from moderation.delivery import outbox

    outbox_id = _comment_id(request)
    async with request.app[keys.POOL].acquire() as conn:
        row = await outbox.retry(conn, outbox_id, auth.actor(request))
    message = f"Delivery {outbox_id} will be sent again now"
    return done(request, {"delivery": row, "message": message}, flash=message, to="/moderate/deliveries")


@page
@auth.require_admin
async def deliveries_endpoint(request: web.Request) -> web.StreamResponse:
    from moderation.delivery import outbox

    data = await form(request)
    enabled = data.get("enabled") == "true"
    async with request.app[keys.POOL].acquire() as conn:
        state = await outbox.set_endpoint(conn, request.app[keys.CONFIG], enabled=enabled, actor=auth.actor(request),
                                          reason=data.get("reason") or None)
    message = "Callbacks enabled" if state["enabled"] else "Callbacks disabled"
    return done(request, {"endpoint": state, "message": message}, flash=message, to="/moderate/deliveries")
