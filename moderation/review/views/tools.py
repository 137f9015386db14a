"""The audit log, the word lists and the blocked authors pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import Problem
from moderation.review import auth
from moderation.review.views.common import done, form, page, render
from moderation.review.views.helpers import ago
from moderation.review.views.queue_pages import PAGE_SIZE

# ── audit log ──────────────────────────────────────────────────────────────────────────────────────
AUDIT_FILTERS = ("actor", "action", "target_type", "target_id")


@page
@auth.require_moderator
async def audit_page(request: web.Request) -> web.Response:
    from moderation.core import audit

    filters = {k: (request.query.get(k) or "").strip()[:256] or None for k in AUDIT_FILTERS}
    error = None
    entries: list[dict[str, Any]] = []
    next_cursor = None
    async with request.app[keys.POOL].acquire() as conn:
        try:
            entries, next_cursor = await audit.search(conn, **filters, limit=PAGE_SIZE,
                                                      cursor=request.query.get("cursor") or None)
        except Problem as problem:
            error = problem.body_dict["detail"]
        names = {f"moderator:{m['id']}": m["email"] for m in await auth.list_moderators(conn)}
    keep = {k: v for k, v in filters.items() if v}
    next_url = "/moderate/audit?" + urlencode({**keep, "cursor": next_cursor}) if next_cursor else None
    return render(request, "audit.html", {"entries": entries, "filters": filters, "error": error,
                                          "next_url": next_url, "ago": ago, "names": names})


# ── word lists ─────────────────────────────────────────────────────────────────────────────────────
@page
@auth.require_moderator
async def wordlists_page(request: web.Request) -> web.Response:
    from moderation.review import wordlists

    async with request.app[keys.POOL].acquire() as conn:
        lists = await wordlists.list_terms(conn)
    return render(request, "wordlists.html", {"lists": lists})


@page
@auth.require_admin  # like PUT/DELETE /v1/wordlists: the lists steer every comment
async def wordlists_add(request: web.Request) -> web.StreamResponse:
    from moderation.review import wordlists

    data = await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        entry, created = await wordlists.add(conn, data.get("list"), data.get("term"), auth.actor(request))
    request.app[keys.RULES].invalidate()
    message = (f"Added “{entry['term']}” to the {entry['list']} list" if created
               else f"“{entry['term']}” was already on the {entry['list']} list")
    return done(request, {"entry": entry, "created": created, "message": message}, flash=message,
                to="/moderate/wordlists")


@page
@auth.require_admin  # like PUT/DELETE /v1/wordlists: the lists steer every comment
async def wordlists_remove(request: web.Request) -> web.StreamResponse:
    from moderation.review import wordlists

    data = await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        entry = await wordlists.remove(conn, data.get("list"), data.get("term"), auth.actor(request))
    request.app[keys.RULES].invalidate()
    message = f"Removed “{entry['term']}” from the {entry['list']} list"
    return done(request, {"entry": entry, "message": message}, flash=message, to="/moderate/wordlists")


# ── blocked authors ────────────────────────────────────────────────────────────────────────────────
@page
@auth.require_moderator
async def blocked_page(request: web.Request) -> web.Response:
    from moderation.review import commenters

    kind = request.query.get("kind_filter") or None
    error = None
    blocks: list[dict[str, Any]] = []
    next_cursor = None
    subject = None
    async with request.app[keys.POOL].acquire() as conn:
        try:
            blocks, next_cursor = await commenters.list_blocked(conn, kind=kind, limit=PAGE_SIZE,
                                                                cursor=request.query.get("cursor") or None)
        except Problem as problem:
            error = problem.body_dict["detail"]
        if request.query.get("kind") == "author" and request.query.get("value"):
            try:
                subject = await commenters.history(conn, request.query["value"][:256])
            except Problem:
                subject = None
    next_url = ("/moderate/blocked?" + urlencode({**({"kind_filter": kind} if kind else {}), "cursor": next_cursor})
                if next_cursor else None)
    return render(request, "blocked.html", {
        "blocks": blocks, "error": error, "next_url": next_url, "kind_filter": kind, "subject": subject,
        "prefill": {"kind": request.query.get("kind", "author"), "value": request.query.get("value", ""),
                    "name": request.query.get("name", "")}, "ago": ago})


@page
@auth.require_moderator
async def block_post(request: web.Request) -> web.StreamResponse:
    from moderation.review import commenters

    data = await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        entry = await commenters.block(conn, data.get("kind"), data.get("value"), data.get("reason") or None,
                                       auth.actor(request))
    message = f"Blocked {entry['kind']} {entry['value']}: their future comments are rejected"
    return done(request, {"block": entry, "message": message}, flash=message, to="/moderate/blocked")


@page
@auth.require_moderator
async def unblock_post(request: web.Request) -> web.StreamResponse:
    from moderation.review import commenters

    data = await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        entry = await commenters.unblock(conn, data.get("kind"), data.get("value"), auth.actor(request),
                                         data.get("reason") or None)
    message = f"Unblocked {entry['kind']} {entry['value']}"
    return done(request, {"block": entry, "message": message}, flash=message, to="/moderate/blocked")
