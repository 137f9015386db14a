"""Moderators: accounts, the queue, claims, decisions, commenters, word lists, audit, the outbox's admin
view (JSON API), and the web UI at /moderate."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this capability's routes (no I/O)."""
    from moderation.review import api

    api.setup_routes(app)   # JSON API: /v1/queue, /v1/comments, /v1/decisions, ... (review/api.py)

    from moderation.review import views

    views.setup(app)  # accounts & UI: /moderate pages, /v1/tokens, /v1/moderators (review/views/)
