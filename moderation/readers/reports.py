"""Readers report published comments ("spam", "abuse", "off topic", "other"), as on Coral Talk or Disqus.

``POST /v1/comments/{id}/reports`` records one report per reader and comment (the reader is identified as
for reactions: the CMS's ``reader_id``, else the signed reader cookie).  When ``MODERATION_REPORTS_TO_HOLD``
readers have open reports on a comment — made after a moderator's last decision on it — the comment is
held for review like any decision: status ``pending``, a ``reported`` reason naming the counts (the queue
filter ``reason=reported`` finds it), a decision row by ``system``, an audit entry and a callback to the CMS.
A moderator's approval closes those reports: it takes that many new readers to hold the comment again.
The hold is written by the review decisions' own statement (``decisions.by_system``).
Reports are rate-limited per reader and per IP (429 with Retry-After).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import Problem, validation_error
from moderation.core.ratelimit import client_hash, enforce
from moderation.core.sql import Q
from moderation.decisions.decide import PENDING
from moderation.readers.reactions import (
    body_reader_id,
    check_comment_id,
    json_object,
    resolve_reader,
    set_reader_cookie,
)
from moderation.review import decisions

log = logging.getLogger(__name__)

REASONS = ("spam", "abuse", "off_topic", "other")
MAX_NOTE_CHARS = 500
RATE_WINDOW_S = 3600.0
RATE_READER = 30    # reports per hour per reader: plenty for a reader, few for a script
RATE_IP = 120       # per hour per client IP (hash): readers who clear their cookie


def _check(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    errors = []
    reason = body.get("reason")
    if reason not in REASONS:
        errors.append({"field": "reason", "message": "must be one of " + ", ".join(f'"{r}"' for r in REASONS)})
    note = body.get("note")
    if note is not None:
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            errors.append({"field": "note", "message": f"must be a string of at most {MAX_NOTE_CHARS} characters"})
        elif any(ord(ch) < 32 and ch not in "\n\t" for ch in note):
            errors.append({"field": "note", "message": "must not contain control characters"})
        else:
            note = note.strip() or None
    reader_id = body_reader_id(body, errors)
    if errors:
        raise validation_error(errors)
    return str(reason), note, reader_id


async def post_report(request: web.Request) -> web.Response:
    comment_id = check_comment_id(request.match_info["id"])
    reason, note, reader_id = _check(await json_object(request, required=True))
    config = request.app[keys.CONFIG]
    reader = resolve_reader(request, reader_id)
    ip_hash = client_hash(request)
    pool = request.app[keys.POOL]
    await enforce(pool, f"report:reader:{reader.key}", limit=RATE_READER, window_s=RATE_WINDOW_S,
                  what="reports from this reader")
    if ip_hash is not None:
        await enforce(pool, f"report:ip:{ip_hash}", limit=RATE_IP, window_s=RATE_WINDOW_S,
                      what="reports from this network address")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(Q.report_lock, comment_id)
        row = await conn.fetchrow(Q.report_record, comment_id, reader.key, reason, note, ip_hash)
        if not row["found"]:
            raise Problem("not-found", f"no published comment with id {comment_id}")
        n = row["open_reports"]
        if 0 < config.reports_to_hold <= n:
            await conn.execute(Q.report_hold_reason, comment_id,
                               f"held: reported by {n} reader{'' if n == 1 else 's'} ({row['detail']})")
            await decisions.by_system(conn, config, comment_id, PENDING, action="reported",
                                      reason=f"reported by readers: {row['detail']}")
            log.info("comment held after readers' reports", extra={"comment_id": comment_id, "reports": n})
    # What the reader may know: that the report counts (or was already made).  Not how many others reported.
    response = web.json_response({"comment_id": comment_id, "reason": reason, "recorded": row["added"]},
                                 status=201 if row["added"] else 200, headers={"Cache-Control": "no-store"})
    if reader.new_cookie is not None:
        set_reader_cookie(request, response, reader.new_cookie)
    return response


def setup(app: web.Application) -> None:
    """Register this capability's routes (no I/O)."""
    from moderation.readers.public import preflight

    app.router.add_post("/v1/comments/{id}/reports", post_report)
    app.router.add_route("OPTIONS", "/v1/comments/{id}/reports", preflight(("POST",)))
