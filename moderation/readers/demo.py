"""``/demo/articles/{id}``: an example news article page built only on the public API and the CMS webhook.

It shows what a CMS integration renders (the article's like/dislike counts, "Total Comments (N)", each
published comment with its own counts) and plays the CMS when a reader posts: the form goes to
``POST /demo/articles/{id}/comments``, which builds the ``comment.created`` webhook payload, signs it with the
webhook secret server-side and sends it over HTTP to our own ``/v1/webhooks/comments`` — the very path a CMS
uses, signature check and all — then shows "published" or "held for review".

Off unless ``MODERATION_DEMO=true``: it lets anyone post comments as if they came from the CMS.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import aiohttp_jinja2
from aiohttp import web

from moderation.core import keys
from moderation.core.problems import Problem
from moderation.core.ratelimit import client_ip
from moderation.core.sql import Q
from moderation.core.webhooks import sign
from moderation.readers.public import comment_page
from moderation.readers.reactions import check_article_id, known_reader, resolve_reader, set_reader_cookie

log = logging.getLogger(__name__)

WIDGET_JS = Path(__file__).parents[1] / "static" / "widget.js"
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
       "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PLACEHOLDER_BODY = (
    "This is a demonstration article served by the moderation service. Everything below the article is "
    "built from the public API: the reaction counts, the total, and the published comments.",
    "Post a comment with the form: it travels through the same signed webhook a CMS sends, is scored by "
    "the classifier, and is either published at once or held for a moderator.",
)


def _enabled(request: web.Request) -> None:
    if not request.app[keys.CONFIG].demo_enabled:
        raise Problem("not-found", "The demo article page is off; set MODERATION_DEMO=true to serve it.")


async def _context(request: web.Request, article_id: str, *, form: dict[str, str] | None = None,
                   errors: list[str] | None = None) -> dict[str, Any]:
    config = request.app[keys.CONFIG]
    reader = known_reader(request, None)
    cursor = request.query.get("cursor") or None
    async with request.app[keys.POOL].acquire() as conn:
        article = await conn.fetchrow(Q.public_article, article_id)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            page = await comment_page(conn, article_id, cursor=cursor, reader=reader)
        flash = None
        posted = request.query.get("posted")
        if posted and reader is not None:
            row = await conn.fetchrow(Q.get_comment_by_external_id, posted[:256])
            if row is not None and row["author_id"] == reader and row["article_id"] == article_id:
                # Anything not published reads "held for review": no hint to spammers about what tripped.
                published = row["status"] == "approved"
                flash = {"kind": "published" if published else "held",
                         "message": "Your comment was published." if published
                         else "Thanks! Your comment is held for review by a moderator."}
    return {
        "article": {"id": article_id, "title": (article and article["title"]) or f"Demo article {article_id}"},
        "paragraphs": PLACEHOLDER_BODY,
        "summary": page["article"],
        "comments": page["comments"],
        "next_cursor": page["next_cursor"],
        "flash": flash,
        "errors": errors or [],
        "form": form or {},
        "widget": WIDGET_JS.exists(),
        "confirmation_required": config.require_confirmation,
    }


async def article_page(request: web.Request) -> web.Response:
    _enabled(request)
    article_id = check_article_id(request.match_info["id"])
    context = await _context(request, article_id)
    response = aiohttp_jinja2.render_template("demo/article.html", request, context)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _internal_url(request: web.Request) -> str:
    """Our own listening socket: the request goes to this very server, not out through a proxy."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname or not isinstance(sockname, tuple):
        raise Problem("service-unavailable", "the demo cannot find its own listening address")
    host, port = sockname[0], sockname[1]
    if host in ("0.0.0.0", "::"):  # noqa: S104  (a wildcard bind: talk to ourselves over loopback)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/v1/webhooks/comments"


def _error_messages(status: int, body: dict[str, Any]) -> list[str]:
    if body.get("errors"):
        names = {"data.author.name": "Name", "data.author.email": "E-mail", "data.text": "Comment",
                 "data.confirmation_token": "Confirmation code"}
        return [f"{names.get(e.get('field'), e.get('field'))}: {e.get('message')}" for e in body["errors"]]
    return [str(body.get("detail") or body.get("title") or f"the service answered {status}")]


async def post_comment(request: web.Request) -> web.Response:
    _enabled(request)
    article_id = check_article_id(request.match_info["id"])
    config = request.app[keys.CONFIG]
    try:
        form_data = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    form = {k: str(form_data.get(k) or "") for k in ("name", "email", "text", "parent_id", "confirmation_token")}
    reader = resolve_reader(request, None)
    title = await request.app[keys.POOL].fetchval(Q.public_article_title, article_id)
    author: dict[str, Any] = {"id": reader.key, "name": form["name"].strip(), "ip": client_ip(request)}
    if form["email"].strip():
        author["email"] = form["email"].strip()
    external_id = "demo-" + secrets.token_urlsafe(12)
    page_url = str(request.url.with_query(None).with_path(f"/demo/articles/{quote(article_id, safe='')}",
                                                          encoded=True))
    data: dict[str, Any] = {
        "id": external_id,
        "article": {"id": article_id, "url": page_url, "title": title or f"Demo article {article_id}"},
        "author": author,
        "text": form["text"],
        "created_at": datetime.now(UTC).isoformat(),
    }
    if form["parent_id"]:
        data["parent_id"] = form["parent_id"]
    if form["confirmation_token"]:
        data["confirmation_token"] = form["confirmation_token"]
    if author["ip"] == "unknown":
        del author["ip"]
    body = json.dumps({"type": "comment.created", "data": data}).encode()
    headers = {"Content-Type": "application/json", **sign(config.webhook_key, body).as_dict()}
    session = request.app[keys.DEMO_HTTP]
    try:
        async with session.post(_internal_url(request), data=body, headers=headers) as resp:
            status = resp.status
            answer = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
        log.warning("demo: posting to our own webhook failed: %s", exc.__class__.__name__)
        status, answer = 503, {"detail": "The moderation service did not answer; try again."}
    if status == 200:
        # Post/Redirect/Get: a reload does not post twice; the page then shows the comment's fate.
        response = web.Response(status=303, headers={
            "Location": f"/demo/articles/{quote(article_id, safe='')}?posted={external_id}#post-result"})
    else:
        form.pop("confirmation_token", None)
        context = await _context(request, article_id, form=form, errors=_error_messages(status, answer))
        response = aiohttp_jinja2.render_template("demo/article.html", request, context,
                                                  status=status if 400 <= status < 500 else 502)
        response.headers["Content-Security-Policy"] = CSP
    if reader.new_cookie is not None:
        set_reader_cookie(request, response, reader.new_cookie)
    return response


async def http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        app[keys.DEMO_HTTP] = session
        yield


def setup(app: web.Application) -> None:
    """Routes always (a helpful 404 when off); the HTTP client only when the demo is on."""
    app.router.add_get("/demo/articles/{id}", article_page)
    app.router.add_post("/demo/articles/{id}/comments", post_comment)
    if app[keys.CONFIG].demo_enabled:
        app.cleanup_ctx.append(http_client_ctx)
