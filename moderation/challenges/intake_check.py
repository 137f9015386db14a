"""The comment webhook's confirmation check (``data.confirmation_token``), run before scoring.

* token present → it must be valid for this article and action ``comment``, and it is consumed (single use);
  a present-but-invalid token is refused even when confirmation is not required: the CMS passed it on
  purpose, and accepting a forged or replayed token silently would hide a broken or abused integration;
* token absent → refused only for ``comment.created`` when ``MODERATION_REQUIRE_CONFIRMATION`` is on
  (edits and deletions of an accepted comment need no new code);
* a ``comment.created`` for a CMS id we already stored is let through untouched: intake answers it with the
  stored comment and stores nothing, so a CMS retry with a new webhook-id is not refused for reusing its token.

The token is consumed here, before the intake transaction: if the database fails between the two, the
reader must solve a new code.  We accept that rare loss rather than ever letting one token post twice.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from moderation.challenges import store
from moderation.core import keys
from moderation.core.problems import Problem
from moderation.core.sql import Q


async def check_confirmation(request: web.Request, event: Any) -> None:
    """``event`` is intake's parsed comment (``type``, ``external_id``, ``article_id``, ``confirmation_token``);
    intake calls every check in ``keys.INTAKE_CHECKS``, so neither capability imports the other."""
    if event.type == "comment.deleted":
        return
    app = request.app
    config = app[keys.CONFIG]
    token = event.confirmation_token
    if token is None and not (config.require_confirmation and event.type == "comment.created"):
        return
    pool = app[keys.POOL]
    if event.type == "comment.created" and await pool.fetchval(Q.get_comment_by_external_id, event.external_id):
        return
    if token is None:
        raise Problem("confirmation-required",
                      f"This site requires a confirmation code: send data.confirmation_token, the token the "
                      f"reader earned for article {event.article_id!r}.",
                      errors=[{"field": "data.confirmation_token", "message": "is required"}])
    verdict = await store.consume(pool, config, token.strip(), article_id=event.article_id, action="comment",
                                  used_by="webhook")
    if verdict.ok and verdict.row["author_id"] is not None and verdict.row["author_id"] != event.author_id:
        verdict = store.Verdict(False, verdict.row, "invalid-input-response", "the token was earned for another reader")
    if not verdict.ok:
        raise Problem("invalid-token", f"data.confirmation_token: {verdict.reason}",
                      errors=[{"field": "data.confirmation_token", "message": verdict.reason}],
                      error_code=verdict.error)
