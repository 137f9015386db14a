"""Readers report published comments ("spam", "abuse", "off topic", "other"), as on Coral Talk or Disqus.

``POST /v1/comments/{id}/reports`` records one report per reader and comment (the reader is identified as
for reactions: the CMS's ``reader_id`` — vouched for by ``reader_signature`` — else the signed reader
cookie).  A report weighs what its reader has earned (``report_trust``): one client with scripts and many
fake reader ids cannot unpublish a comment.  When the open reports' weight reaches
``MODERATION_REPORTS_TO_HOLD`` from at least two network addresses, and no moderator has approved the
comment, it is held for review like any decision: status ``pending``, a ``reported`` reason naming the
counts, a decision row by ``system``, an audit entry and a callback to the CMS (written by the review
decisions' own statement, ``decisions.by_system``).  Below that it stays published with a ``reported``
reason, so moderators find it under "Reported by readers" (``reason=reported``, any status).
Reports are rate-limited per reader and per network address (429 with Retry-After); floods are listed at
``GET /v1/reports/abuse``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from moderation.core import keys
from moderation.core.problems import Problem, validation_error
from moderation.core.ratelimit import client_hash, enforce
from moderation.core.sql import Q
from moderation.decisions import reasons
from moderation.decisions.decide import PENDING
from moderation.readers import report_trust
from moderation.readers.reactions import (
    body_reader_id,
    check_comment_id,
    json_object,
    resolve_reader,
    set_reader_cookie,
    since_and_limit,
)
from moderation.review import decisions

log = logging.getLogger(__name__)

REASONS = ("spam", "abuse", "off_topic", "other")
MAX_NOTE_CHARS = 500
RATE_WINDOW_S = 3600.0
RATE_READER = 30    # reports per hour per reader: plenty for a reader, few for a script
RATE_IP = 120       # per hour per client IP (hash): readers who clear their cookie


def _check(body: dict[str, Any]) -> tuple[str, str | None, str | None, str | None]:
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
    signature = body.get("reader_signature")
    if signature is not None and (not isinstance(signature, str) or len(signature) > 128):
        errors.append({"field": "reader_signature", "message": "must be a hex string (HMAC-SHA256 of the reader id)"})
        signature = None
    if signature is not None and reader_id is None:
        errors.append({"field": "reader_signature", "message": "is only meaningful with reader_id"})
    if errors:
        raise validation_error(errors)
    return str(reason), note, reader_id, signature


def _reader_kind(config: Any, reader_id: str | None, signature: str | None) -> str:
    if reader_id is None:
        return report_trust.ANONYMOUS
    key = config.webhook_key if config.webhook_secret is not None else None
    return report_trust.VERIFIED if report_trust.is_verified(key, reader_id, signature) else report_trust.UNSIGNED


async def post_report(request: web.Request) -> web.Response:
    comment_id = check_comment_id(request.match_info["id"])
    reason, note, reader_id, signature = _check(await json_object(request, required=True))
    config = request.app[keys.CONFIG]
    reader = resolve_reader(request, reader_id)
    kind = _reader_kind(config, reader_id, signature)
    age = report_trust.cookie_age_s(reader.key) if kind == report_trust.ANONYMOUS else None
    weight = report_trust.base_weight(kind, age)
    ip_hash = client_hash(request)
    pool = request.app[keys.POOL]
    await enforce(pool, f"report:reader:{reader.key}", limit=RATE_READER, window_s=RATE_WINDOW_S,
                  what="reports from this reader")
    if ip_hash is not None:
        await enforce(pool, f"report:ip:{ip_hash}", limit=RATE_IP, window_s=RATE_WINDOW_S,
                      what="reports from this network address")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(Q.report_lock, comment_id)
        row = await conn.fetchrow(Q.report_record, comment_id, reader.key, reason, note, ip_hash, weight, kind)
        if not row["found"]:
            raise Problem("not-found", f"no published comment with id {comment_id}")
        n = row["open_reports"]
        if _holds(config.reports_to_hold, row):
            why = reasons.make("reported", "held", count=n, detail=row["detail"])
            await decisions.by_system(conn, config, comment_id, PENDING, action="reported",
                                      reason=f"reported by readers: {row['detail']}", why=why)
            log.info("comment held after readers' reports", extra={"comment_id": comment_id, "reports": n})
        elif row["added"]:
            standing = ("a moderator approved it, so reports no longer hold it" if row["moderator_approved"]
                        else f"report weight {row['open_weight']:.2f} of {config.reports_to_hold} from "
                             f"{row['addresses']} network address{'' if row['addresses'] == 1 else 'es'} to hold it")
            flag = reasons.make("reported", "published", count=n, detail=row["detail"], standing=standing)
            await conn.execute(Q.report_flag_reason, comment_id, flag)
    # What the reader may know: that the report counts (or was already made).  Not how many others reported.
    response = web.json_response({"comment_id": comment_id, "reason": reason, "recorded": row["added"]},
                                 status=201 if row["added"] else 200, headers={"Cache-Control": "no-store"})
    if reader.new_cookie is not None:
        set_reader_cookie(request, response, reader.new_cookie)
    return response


async def list_floods(request: web.Request) -> web.Response:
    """GET /v1/reports/abuse?since=&limit=&min_reports=: report floods per network address (IP hash), newest
    first — the sibling of /v1/reactions/abuse.  A flood of weightless reports holds nothing; this is where
    moderators see it."""
    errors: list[dict[str, str]] = []
    since, limit = since_and_limit(request, errors)
    raw = request.query.get("min_reports", "5")
    min_reports = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0
    if min_reports < 1:
        errors.append({"field": "min_reports", "message": "must be a positive integer"})
    if errors:
        raise validation_error(errors)
    rows = await request.app[keys.POOL].fetch(Q.report_floods, since, min_reports, limit)
    items = [{"ip_hash": r["ip_hash"], "reports": r["reports"], "readers": r["readers"], "comments": r["comments"],
              "weightless": r["weightless"], "first_at": r["first_at"].isoformat(),
              "last_at": r["last_at"].isoformat()} for r in rows]
    return web.json_response({"items": items, "since": since.isoformat()}, headers={"Cache-Control": "no-store"})


def _holds(reports_to_hold: int, row: Any) -> bool:
    """The hold rule of readers/report_trust.py on report_record's counts."""
    return (0 < reports_to_hold <= row["open_weight"] + 1e-6 and row["addresses"] >= report_trust.MIN_ADDRESSES
            and not row["moderator_approved"])


def setup(app: web.Application) -> None:
    """Register this capability's routes (no I/O)."""
    from moderation.readers.public import preflight
    from moderation.readers.reactions import moderator_only

    app.router.add_post("/v1/comments/{id}/reports", post_report)
    app.router.add_get("/v1/reports/abuse", moderator_only(list_floods))
    app.router.add_route("OPTIONS", "/v1/comments/{id}/reports", preflight(("POST",)))
