"""The moderators' web UI at /moderate: server-rendered pages (aiohttp-jinja2) plus small form endpoints.

Pages work without JavaScript (every action is a plain form POST that redirects back); moderate.js
upgrades them with keyboard shortcuts and in-place actions by POSTing the same endpoints with
``Accept: application/json`` and the ``X-CSRF-Token`` header.  Domain work is done by the review modules
(queue, decisions, commenters, wordlists, audit); this module only translates between forms and them.

Security: Jinja autoescaping is on and comment text is never marked safe (highlighting escapes first,
then wraps matches in <mark>); every /moderate response carries a strict Content-Security-Policy (scripts
only from /static), X-Frame-Options DENY, nosniff and no-store.

Modules by area: ``common`` (headers, flash, render, forms), ``helpers`` (template helpers), ``login``,
``queue_pages`` (queue, comment, claims, decisions), ``tools`` (audit, word lists, blocked authors),
``admin`` (API tokens, callback deliveries); this package's ``setup`` is the UI's route table.
"""

from __future__ import annotations

from aiohttp import web

from moderation.review.views.admin import (
    deliveries_endpoint,
    deliveries_page,
    deliveries_retry,
    tokens_create,
    tokens_page,
    tokens_revoke,
)
from moderation.review.views.common import security_headers
from moderation.review.views.login import home, login_get, login_post, logout
from moderation.review.views.queue_pages import (
    claim_post,
    comment_page,
    decide_bulk,
    decide_one,
    queue_page,
    release_post,
    undo_decisions,
)
from moderation.review.views.tools import (
    audit_page,
    block_post,
    blocked_page,
    unblock_post,
    wordlists_add,
    wordlists_page,
    wordlists_remove,
)


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
