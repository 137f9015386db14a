"""Commenters: block/unblock an author id or an IP hash, list blocks, and an author's history.

Intake already rejects new comments from a blocked author or IP hash (reason ``blocked_author`` with the
block's reason); blocking does not touch comments already stored (decide those from the queue, e.g. a
bulk reject with ``filter: {"author": ...}``).  Every change is audited in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from moderation.core import audit, pagination
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q

KINDS = ("author", "ip_hash")


def validate(kind: Any, value: Any, reason: Any = None) -> tuple[str, str, str]:
    errors: list[dict[str, str]] = []
    if kind not in KINDS:
        errors.append({"field": "kind", "message": f"must be one of {', '.join(KINDS)}"})
    if not isinstance(value, str) or not value.strip():
        errors.append({"field": "value", "message": "must be a non-empty string"})
    elif len(value) > 256 or "\x00" in value:
        errors.append({"field": "value", "message": "must be at most 256 characters, without NUL"})
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000 or "\x00" in reason):
        errors.append({"field": "reason", "message": "must be a string of at most 1000 characters"})
    if errors:
        raise validation_error(errors)
    return kind, value.strip(), (reason or "").strip()


def _block_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"kind": row["kind"], "value": row["value"], "reason": row["reason"], "created_by": row["created_by"],
            "created_at": row["created_at"].isoformat()}


async def block(conn: asyncpg.Connection, kind: str, value: str, reason: str | None, actor: str) -> dict[str, Any]:
    """Block future comments from an author id (``kind="author"``) or IP hash (``kind="ip_hash"``, the
    ``author.ip_hash`` shown on queue items).  Blocking again updates the reason."""
    kind, value, reason_text = validate(kind, value, reason)
    async with conn.transaction():
        before = await conn.fetchrow(Q.block_get, kind, value)
        row = await conn.fetchrow(Q.block_upsert, kind, value, reason_text, actor)
        await audit.record(conn, actor, "commenter.block", kind, value,
                           before=_block_json(before) if before else None, after=_block_json(row),
                           reason=reason_text)
    return _block_json(row)


async def unblock(conn: asyncpg.Connection, kind: str, value: str, actor: str,
                  reason: str | None = None) -> dict[str, Any]:
    """Lift a block; 404 problem when there is none."""
    kind, value, reason_text = validate(kind, value, reason)
    async with conn.transaction():
        row = await conn.fetchrow(Q.block_delete, kind, value)
        if row is None:
            raise Problem("not-found", f"{kind} {value!r} is not blocked")
        await audit.record(conn, actor, "commenter.unblock", kind, value, before=_block_json(row), after=None,
                           reason=reason_text)
    return _block_json(row)


async def list_blocked(conn: asyncpg.Connection, *, kind: str | None = None, limit: int = 50,
                       cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest block first; keyset-paginated like the queue."""
    if kind is not None and kind not in KINDS:
        raise validation_error([{"field": "kind", "message": f"must be one of {', '.join(KINDS)}"}])
    limit = pagination.check_limit(limit)
    args: list[Any] = []
    where: list[str] = []
    if kind:
        args.append(kind)
        where.append(f"kind = ${len(args)}")
    key = pagination.decode(cursor, 3)
    if key is not None:
        try:
            at = datetime.fromisoformat(str(key[0]))
        except ValueError:
            raise validation_error([{"field": "cursor", "message": "is not a cursor this API issued"}]) from None
        args += [at, str(key[1]), str(key[2])]
        where.append(f"(created_at, kind, value) < (${len(args) - 2}, ${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    sql = ("SELECT kind, value, reason, created_by, created_at FROM blocked_authors"
           + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY created_at DESC, kind DESC, value DESC LIMIT ${len(args)}")
    rows = await conn.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = pagination.encode(rows[-1]["created_at"].isoformat(), rows[-1]["kind"], rows[-1]["value"]) if more else None
    return [_block_json(r) for r in rows], nxt


async def history(conn: asyncpg.Connection, author_id: str) -> dict[str, Any]:
    """An author's record: comment counts by status, first/last seen, latest name, and active blocks.
    404 problem for an author we have never seen (and who is not blocked)."""
    if not isinstance(author_id, str) or not author_id or len(author_id) > 256 or "\x00" in author_id:
        raise validation_error([{"field": "author_id", "message": "must be a non-empty string (≤ 256 chars, no NUL)"}])
    summary = await conn.fetchrow(Q.author_summary, author_id)
    counts = {s: 0 for s in ("approved", "pending", "spam", "rejected", "deleted")}
    for r in await conn.fetch(Q.author_status_counts, author_id):
        counts[r["status"]] = r["n"]
    blocks = [_block_json(b) for b in await conn.fetch(Q.comment_blocks, author_id, summary["latest_ip_hash"])]
    if summary["total"] == 0 and not blocks:
        raise Problem("not-found", f"no comments from author {author_id!r}")
    return {
        "author_id": author_id,
        "name": summary["latest_name"],
        "counts": counts,
        "total": summary["total"],
        "first_seen": summary["first_seen"].isoformat() if summary["first_seen"] else None,
        "last_seen": summary["last_seen"].isoformat() if summary["last_seen"] else None,
        "latest_ip_hash": summary["latest_ip_hash"],
        "blocked": bool(blocks),
        "blocks": blocks,
    }
