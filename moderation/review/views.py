"""The moderators' web UI at /moderate: server-rendered pages (aiohttp-jinja2) plus small form endpoints.

Pages work without JavaScript (every action is a plain form POST that redirects back); moderate.js
upgrades them with keyboard shortcuts and in-place actions by POSTing the same endpoints with
``Accept: application/json`` and the ``X-CSRF-Token`` header.  Domain work is done by the review modules
(queue, decisions, commenters, wordlists, audit); this module only translates between forms and them.

Security: Jinja autoescaping is on and comment text is never marked safe (highlighting escapes first,
then wraps matches in <mark>); every /moderate response carries a strict Content-Security-Policy (scripts
only from /static), X-Frame-Options DENY, nosniff and no-store.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup, escape
from yarl import URL

from moderation.core import keys
from moderation.core.hashing import keyed_hash
from moderation.core.problems import CATALOGUE, Problem, validation_error
from moderation.core.sql import Q
from moderation.decisions import reasons as reasons_data
from moderation.review import auth, login_throttle

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
LOGIN_CSRF_COOKIE = "moderation_login_csrf"
LOGIN_LIMIT_PER_IP = 30      # attempts per LOGIN_WINDOW_S from one address
LOGIN_WINDOW_S = 300.0

Handler = auth.Handler


# ── plumbing ───────────────────────────────────────────────────────────────────────────────────────
async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every /moderate answer (pages, redirects, errors) gets the strict headers."""
    if request.path.startswith("/moderate"):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _flash_sig(request: web.Request, message: str) -> str:
    return keyed_hash(request.app[keys.CONFIG].hashing_key, message, purpose="ui-flash")[:20]


def flash_message(request: web.Request) -> str | None:
    """The ``?flash=`` notice, only when we wrote it: a crafted link cannot put words in our mouth."""
    message, sig = request.query.get("flash"), request.query.get("fs", "")
    if not message or not hmac.compare_digest(sig.encode(), _flash_sig(request, message).encode()):
        return None
    return message


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    base = {"me": request.get("moderator"), "csrf_token": request.get("csrf_token", ""), "path": request.path,
            "query": request.query, "flash": flash_message(request)}
    return aiohttp_jinja2.render_template(f"moderate/{template}", request, {**base, **context}, status=status)


def page(handler: Handler) -> Handler:
    """Render problems raised by a UI handler as an HTML error page (JSON callers still get problem+json)."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem as problem:
            if wants_json(request):
                raise
            return render(request, "error.html", {"problem": problem.body_dict}, status=problem.status_code)

    if hasattr(handler, "required_role"):
        wrapped.required_role = handler.required_role  # type: ignore[attr-defined]
    return wrapped


def safe_next(target: str | None) -> str:
    """Only local /moderate paths: never an open redirect (``//evil``, ``/\\evil``, absolute URLs)."""
    if not target or not target.startswith("/moderate") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/moderate/queue"
    return target


def back(request: web.Request, default: str = "/moderate/queue") -> str:
    """Where a no-JS form post returns: its ``next`` field when local, else ``default``."""
    return safe_next(request.get("form_next") or default)


async def form(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    out: dict[str, Any] = {}
    for key in data:
        values = [v for v in data.getall(key) if isinstance(v, str)]
        out[key] = values if key.endswith("[]") or key == "ids" else (values[-1] if values else "")
    request["form_next"] = out.get("next")
    return out


def done(request: web.Request, payload: dict[str, Any], *, flash: str | None = None,
         to: str | None = None) -> web.StreamResponse:
    """Answer a UI action: JSON for moderate.js, else a 303 back to the page (with a flash message)."""
    if wants_json(request):
        return web.json_response(payload)
    target = to or back(request)
    if flash:
        target = str(URL(target).update_query(flash=flash, fs=_flash_sig(request, flash)))
    raise web.HTTPSeeOther(target)


# ── login / logout ─────────────────────────────────────────────────────────────────────────────────
async def login_page(request: web.Request, *, error: str | None = None, status: int = 200,
                     email: str = "", nxt: str | None = None) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"login_csrf": token, "error": error, "email": email,
                                              "next": safe_next(nxt or request.query.get("next"))}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/moderate/login", httponly=True,
                        secure=auth.cookie_secure(request), samesite="Strict", max_age=3600)
    return response


async def login_get(request: web.Request) -> web.StreamResponse:
    session_id = auth.session_cookie_value(request)
    if session_id:
        session = await auth.lookup_session(request.app[keys.POOL], session_id,
                                            ttl_s=request.app[keys.CONFIG].session_ttl_s)
        if session is not None:
            raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return await login_page(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    """Double-submit CSRF on the login form (no session yet), per-IP and per-account rate limits, then a
    fresh session id (never reuse one from before login: no session fixation)."""
    app = request.app
    config = app[keys.CONFIG]
    try:
        data = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    email = str(data.get("email", ""))[:320]
    password = str(data.get("password", ""))
    nxt = safe_next(str(data.get("next", "")))
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    form_token = str(data.get(auth.CSRF_FIELD, ""))
    if not cookie_token or not hmac.compare_digest(cookie_token.encode(), form_token.encode()):
        return await login_page(request, error="The form expired; please try again.", status=403, email=email, nxt=nxt)
    pool = app[keys.POOL]
    try:
        await login_throttle.check(request, email, ip_limit=LOGIN_LIMIT_PER_IP, ip_window_s=LOGIN_WINDOW_S)
    except Problem as problem:
        return await login_page(request, error=problem.body_dict["detail"], status=429, email=email, nxt=nxt)
    async with pool.acquire() as conn:
        moderator = await auth.authenticate(conn, email, password, executor=app[keys.EXECUTOR])
        if moderator is None:
            await login_throttle.failed(request, email)
            return await login_page(request, error="Wrong e-mail or password.", status=401, email=email, nxt=nxt)
        await login_throttle.succeeded(request, email)
        old = auth.session_cookie_value(request)
        if old:
            await auth.delete_session(conn, old)
        await conn.execute(Q.auth_prune_sessions)  # expired sessions go here: logins are rare, the table small
        session_id, _ = await auth.create_session(conn, moderator.id, ttl_s=config.session_ttl_s,
                                                  user_agent=request.headers.get("User-Agent"))
    response = web.HTTPSeeOther(nxt)
    auth.set_session_cookie(request, response, session_id)
    login_throttle.remember_device(request, response, email)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/moderate/login")
    raise response


@page
@auth.require_moderator
async def logout(request: web.Request) -> web.StreamResponse:
    session_id = auth.session_cookie_value(request)
    if session_id:
        await auth.delete_session(request.app[keys.POOL], session_id)
    response = web.HTTPSeeOther("/moderate/login")
    auth.clear_session_cookie(response)
    raise response


@page
@auth.require_moderator
async def home(request: web.Request) -> web.StreamResponse:
    # keep the filters of a hand-typed or bookmarked /moderate?status=spam
    raise web.HTTPSeeOther("/moderate/queue" + (f"?{request.query_string}" if request.query_string else ""))


# ── template helpers ───────────────────────────────────────────────────────────────────────────────
REASON_LABELS = {"spam": "spam term", "abuse": "abuse term", "banned_word": "banned word",
                 "suspect_word": "suspect word"}


def highlight(text: str, reasons: Any) -> Markup:
    """Escape ``text`` and wrap the reason terms in <mark>.  Matching runs on the raw text and every piece
    is escaped on output, so no user character ever reaches the page unescaped."""
    terms: dict[str, str] = {}
    for term, code in reasons_data.terms_of(reasons):   # from the reasons' data (old rows: their messages)
        if len(term) >= 2 and term.lower() not in terms:
            terms[term.lower()] = code
    if not terms or not text:
        return escape(text or "")
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # a plural or verb ending still matches ('idiot' marks 'idiots'), as the rule layer's matching does
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?:s|es|ed|ing)?(?!\w)", re.IGNORECASE)
    pieces: list[Markup] = []
    pos = 0
    for m in pattern.finditer(text):
        word = m.group(0).lower()
        code = terms.get(word) or next((c for t, c in terms.items() if word.startswith(t)), "spam")
        pieces.append(escape(text[pos:m.start()]))
        pieces.append(Markup('<mark class="t-{}" title="{}">{}</mark>').format(
            code, REASON_LABELS.get(code, code), m.group(0)))
        pos = m.end()
    pieces.append(escape(text[pos:]))
    return Markup("").join(pieces)


def ago(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return ""
    seconds = (datetime.now(UTC) - value).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def risk_class(risk: Any, thresholds: Any = None) -> str:
    """Colour of a risk score: red from 0.8, amber from the lowest hold threshold in force for the comment."""
    if not isinstance(risk, int | float):
        return "mid"
    t = thresholds if isinstance(thresholds, dict) else {}
    hold = min(float(t.get("spam_hold", 0.5)), float(t.get("abuse_hold", 0.5)))
    return "high" if risk >= 0.8 else "mid" if risk >= hold else "low"


def card_view(item: dict[str, Any], tab: str) -> dict[str, Any]:
    """Everything a queue card shows, formatted once in Python (Jinja filters per item were half the render
    time of a 50-item page)."""
    t = item.get("thresholds") if isinstance(item.get("thresholds"), dict) else {}
    author, article = item["author"], item["article"]
    url = article.get("url") or ""
    scores = item.get("scores") or {}
    abuse_hold = float(t.get("abuse_hold", 0.5))
    item["ui"] = {
        "risk": "—" if item.get("risk") is None else f"{item['risk']:.2f}",
        "risk_class": risk_class(item.get("risk"), t),
        "author_url": "/moderate/queue?" + urlencode({"status": tab, "author": author["id"]}),
        "article_filter_url": "/moderate/queue?" + urlencode({"status": tab, "article": article["id"]}),
        "block_url": "/moderate/blocked?" + urlencode({"kind": "author", "value": author["id"],
                                                       "name": author.get("name") or ""}),
        "article_link": url if url.startswith(("https://", "http://")) else None,
        "ago": ago(item.get("received_at")),
        "text": highlight(item.get("text") or "", item.get("reasons")),
        "spam": f"{scores['spam']:.2f}" if scores else "",
        "language": item.get("language"),
        "attributes": " · ".join(f"{a.replace('_', ' ')} {v:.2f}" for a, v in (item.get("attributes") or {}).items()
                                 if a not in ("spam", "toxicity") and v >= 0.05),
        "language_url": "/moderate/queue?" + urlencode({"status": tab, "language": item.get("language") or ""}),
        "abuse": f"{scores['abuse']:.2f}" if scores else "",
        "spam_hold": t.get("spam_hold", 0.5), "spam_reject": t.get("spam_reject", 0.9), "abuse_hold": abuse_hold,
        "abuse_high": min(abuse_hold + 0.3, 0.95),
    }
    return item


def qs(base: dict[str, Any], **overrides: Any) -> str:
    """A query string from ``base`` updated with ``overrides`` (empty values dropped)."""
    merged = {**base, **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def problem_title(slug: str) -> str:
    return CATALOGUE.get(slug, (0, slug, ""))[1]


# ── the queue ──────────────────────────────────────────────────────────────────────────────────────
TABS = (("pending", "Pending"), ("spam", "Spam"), ("approved", "Approved"), ("rejected", "Rejected"))
REASON_CODES = (("", "Any reason"), ("spam", "Spam score"), ("abuse", "Abuse score"), ("banned_word", "Banned word"),
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


def setup(app: web.Application) -> None:
    """Register the UI routes, the admin token API and the security headers (called from review.setup)."""
    from moderation.review import tokens_api

    app.on_response_prepare.append(security_headers)
    add_get, add_post = app.router.add_get, app.router.add_post
    add_get("/moderate", home)
    add_get("/moderate/login", login_get)
    add_post("/moderate/login", login_post)
    add_post("/moderate/logout", logout)
    add_get("/moderate/queue", queue_page)
    add_get("/moderate/comments/{id}", comment_page)
    add_post("/moderate/comments/{id}/decision", decide_one)
    add_post("/moderate/decisions", decide_bulk)
    add_post("/moderate/decisions/undo", undo_decisions)
    add_post("/moderate/claim", claim_post)
    add_post("/moderate/release", release_post)
    add_get("/moderate/audit", audit_page)
    add_get("/moderate/wordlists", wordlists_page)
    add_post("/moderate/wordlists", wordlists_add)
    add_post("/moderate/wordlists/remove", wordlists_remove)
    add_get("/moderate/blocked", blocked_page)
    add_post("/moderate/blocked", block_post)
    add_post("/moderate/blocked/remove", unblock_post)
    add_get("/moderate/tokens", tokens_page)
    add_post("/moderate/tokens", tokens_create)
    add_post("/moderate/tokens/{id}/revoke", tokens_revoke)
    add_get("/moderate/deliveries", deliveries_page)
    add_post("/moderate/deliveries/{id}/retry", deliveries_retry)
    add_post("/moderate/deliveries/endpoint", deliveries_endpoint)
    tokens_api.setup(app)
