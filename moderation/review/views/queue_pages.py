"""The queue and comment pages, claims, and decisions (one, bulk, undo) from forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.review import auth
from moderation.review.views.common import done, form, page, render
from moderation.review.views.helpers import ago, card_view, highlight, qs, risk_class

# ── the queue ──────────────────────────────────────────────────────────────────────────────────────
TABS = (("pending", "Pending"), ("spam", "Spam"), ("approved", "Approved"), ("rejected", "Rejected"))
REASON_CODES = (("", "Any reason"), ("spam", "Spam score"), ("abuse", "Abuse score"),
                ("phrase", "Threat/dehumanising phrase"), ("banned_word", "Banned word"),
                ("suspect_word", "Suspect word"), ("repeated_text", "Repeated text"), ("unscored", "Not scored"),
                ("premoderation", "Premoderation"), ("blocked_author", "Blocked author"),
                ("reported", "Reported by readers"), ("language", "Unsupported language"), ("threat", "Threat"),
                ("identity_attack", "Identity attack"), ("insult", "Insult"), ("severe_toxicity", "Severe toxicity"),
                ("sexually_explicit", "Sexually explicit"), ("profanity", "Profanity"))
PAGE_SIZE = 50
CLAIM_SIZE = 20  # "Claim next 20": enough for a few minutes of work, within the lease
COUNT_CAP = 1000  # tab badges count at most this many (an index-only scan that stays fast at 1M rows)


def _queue_filters(query: Any) -> dict[str, Any]:
    return {k: (query.get(k) or None) for k in ("status", "reason", "article", "author", "q", "order", "language")}


@page
@auth.require_moderator
async def queue_page(request: web.Request) -> web.Response:
    from moderation.review import queue

    filters = _queue_filters(request.query)
    explicit = {k: v for k, v in filters.items() if v and k != "status"}  # carried across tabs and pages
    filters["status"] = filters["status"] or "pending"
    filters["order"] = filters["order"] or ("risk" if filters["status"] in ("pending", "spam") else "newest")
    mine = request.query.get("mine") == "1" and filters["status"] == "pending"
    error = None
    items: list[dict[str, Any]] = []
    next_cursor = None
    async with request.app[keys.POOL].acquire() as conn:
        try:
            items, next_cursor = await queue.list_queue(
                conn, **filters, limit=PAGE_SIZE, cursor=request.query.get("cursor") or None,
                claimed_by=request["moderator"].id if mine else None)
        except Problem as problem:
            error = problem.body_dict["detail"]
        counts = {r["status"]: r["n"] for r in await conn.fetch(Q.ui_tab_counts, COUNT_CAP)}
    items = [card_view(item, filters["status"]) for item in items]
    keep = explicit
    if mine:
        keep["mine"] = "1"
    next_url = None
    if next_cursor:
        next_url = "/moderate/queue?" + urlencode({"status": filters["status"], **keep, "cursor": next_cursor})
    return render(request, "queue.html", {
        "items": items, "filters": filters, "error": error, "tabs": TABS, "counts": counts, "count_cap": COUNT_CAP,
        "keep": keep, "next_url": next_url, "reason_codes": REASON_CODES, "mine": mine,
        "here": str(request.rel_url.without_query_params("flash", "fs")),
        "claim_size": CLAIM_SIZE,
        "highlight": highlight, "ago": ago, "risk_class": risk_class, "qs": qs,
    })


@page
@auth.require_moderator
async def comment_page(request: web.Request) -> web.Response:
    """One comment in full: text, scores, every decision (who, model version, thresholds, reasons), blocks."""
    from moderation.core import audit
    from moderation.review import queue

    comment_id = _comment_id(request)
    async with request.app[keys.POOL].acquire() as conn:
        item = card_view(await queue.get_comment(conn, comment_id), "pending")
        entries, _ = await audit.search(conn, target_type="comment", target_id=str(comment_id), limit=100)
        names = {f"moderator:{m['id']}": m["email"] for m in await auth.list_moderators(conn)}
    return render(request, "comment.html", {
        "c": item, "entries": entries, "names": names, "highlight": highlight, "ago": ago,
        "risk_class": risk_class, "here": f"/moderate/comments/{comment_id}"})


@page
@auth.require_moderator
async def claim_post(request: web.Request) -> web.StreamResponse:
    """Take the next comments nobody else holds (a lease, see queue.claim) and show only those."""
    from moderation.review import queue

    await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        claimed = await queue.claim(conn, request["moderator"].id, CLAIM_SIZE)
    message = f"You hold {len(claimed)} comment(s) for {queue.DEFAULT_LEASE_S // 60} minutes" if claimed \
        else "Nothing left to claim"
    return done(request, {"claimed": [c["id"] for c in claimed], "message": message}, flash=message,
                to="/moderate/queue?mine=1")


@page
@auth.require_moderator
async def release_post(request: web.Request) -> web.StreamResponse:
    from moderation.review import queue

    data = await form(request)
    ids = _int_list(data.get("ids"), "ids")
    async with request.app[keys.POOL].acquire() as conn:
        released = await queue.release(conn, request["moderator"].id, ids)
    message = f"Released {len(released)} comment(s) back to the queue"
    return done(request, {"released": released, "message": message}, flash=message, to="/moderate/queue")


def _comment_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # '³'.isdigit(), int('³') fails
        raise validation_error([{"field": name, "message": "must be an integer id"}])
    return int(raw)


def _int_list(values: Any, field: str) -> list[int]:
    values = values if isinstance(values, list) else [values] if values else []
    try:
        out = [int(v) for v in values if str(v).strip()]
    except ValueError:
        raise validation_error([{"field": field, "message": "must be integer ids"}]) from None
    if not out:
        raise validation_error([{"field": field, "message": "select at least one comment"}])
    return out


PAST = {"approve": "Approved", "reject": "Rejected", "spam": "Marked as spam", "not_spam": "Marked not spam"}


@page
@auth.require_moderator
async def decide_one(request: web.Request) -> web.StreamResponse:
    from moderation.review import decisions

    comment_id = _comment_id(request)
    data = await form(request)
    async with request.app[keys.POOL].acquire() as conn:
        result = await decisions.apply(conn, request.app[keys.CONFIG], comment_id, data.get("action"),
                                       auth.actor(request), data.get("reason") or None)
    message = f"{PAST.get(result['decision']['action'], 'Decided')} comment {comment_id}"
    return done(request, {**result, "decision_ids": [result["decision"]["decision_id"]], "message": message},
                flash=message)


@page
@auth.require_moderator
async def decide_bulk(request: web.Request) -> web.StreamResponse:
    """Bulk by the checked ids, or (``scope=filter``) by the queue filter the page shows."""
    from moderation.review import decisions

    data = await form(request)
    kwargs: dict[str, Any]
    if data.get("scope") == "filter":
        kwargs = {"filter": {k: v for k, v in _queue_filters(data).items() if v and k != "order"}}
        kwargs["filter"].setdefault("status", "pending")
    else:
        kwargs = {"ids": _int_list(data.get("ids"), "ids")}
    async with request.app[keys.POOL].acquire() as conn:
        result = await decisions.bulk(conn, request.app[keys.CONFIG], data.get("action"), auth.actor(request),
                                      data.get("reason") or None, **kwargs)
    message = f"{PAST.get(result['action'], 'Decided')} {result['count']} comment(s)"
    if result["unchanged"]:
        message += f" ({len(result['unchanged'])} already {result['to_status']})"
    return done(request, {**result, "decision_ids": [c["decision_id"] for c in result["changed"]],
                          "message": message}, flash=message)


@page
@auth.require_moderator
async def undo_decisions(request: web.Request) -> web.StreamResponse:
    """Undo one or more decisions (the last bulk action is undone as a whole, newest first)."""
    from moderation.review import decisions

    data = await form(request)
    ids = sorted(set(_int_list(data.get("ids"), "ids")), reverse=True)
    undone = []
    async with request.app[keys.POOL].acquire() as conn:
        for decision_id in ids:
            undone.append(await decisions.undo(conn, request.app[keys.CONFIG], decision_id, auth.actor(request),
                                               data.get("reason") or None))
    message = f"Undone: {len(undone)} decision(s)"
    return done(request, {"undone": undone, "message": message}, flash=message)
