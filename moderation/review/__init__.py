"""Moderator side: queue, claims, decisions, commenters, word lists, audit (JSON API), callbacks to the CMS
(outbox worker), and accounts & the web UI at /moderate."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this capability's routes, keys and cleanup contexts on the app (no I/O)."""
    from moderation.delivery import outbox
    from moderation.review import api

    api.setup_routes(app)   # JSON API: /v1/queue, /v1/comments, /v1/decisions, ... (review/api.py)
    outbox.setup(app)       # callback delivery worker, a cleanup_ctx (moderation/delivery/outbox.py)

    from moderation.review import views

    views.setup(app)  # accounts & UI: /moderate pages, /v1/tokens, /v1/moderators (review/views.py)
