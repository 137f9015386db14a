"""Personal data over time: retention (what is deleted, when) and a commenter's data (export, erasure).

``retention`` is the background worker that prunes receipts, rate-limit windows, sessions, expired
challenges and tokens, delivered callbacks and the reactions abuse log on configurable schedules;
``commenter`` exports or erases everything held about one author (GDPR Art. 15/17), from ``api`` (admin
routes) and ``cli`` (``moderation commenter export|erase``).
README "Data retention and erasure" documents both.
"""

from __future__ import annotations

from aiohttp import web

from moderation.privacy.retention import prune_once, retention_ctx, schedules

__all__ = ["prune_once", "retention_ctx", "schedules", "setup"]


def setup(app: web.Application) -> None:
    """Register the admin routes for a commenter's data; create_app owns the retention worker
    (``retention_ctx``: started after the pool, stopped before it closes)."""
    from moderation.privacy import api

    api.setup_routes(app)
