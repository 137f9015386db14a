"""Append-only audit log: who did what to which object, when, before → after, and why.

Rows are written in the same transaction as the change they describe (the caller's transaction).
``audit_log`` refuses UPDATE/DELETE/TRUNCATE with a trigger, so even a bug or a stray psql session
cannot rewrite history; only ``record`` and ``search`` exist here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from moderation.core import pagination
from moderation.core.sql import Q


async def record(conn: asyncpg.Connection, actor: str, action: str, target_type: str, target_id: str | int,
                 before: Any = None, after: Any = None, reason: str | None = None) -> int:
    """Append one entry; returns its id.  ``before``/``after`` are JSON-able snapshots (or None)."""
    row = await conn.fetchrow(Q.insert_audit, actor, action, target_type, str(target_id), before, after,
                              reason or None)
    return int(row["id"])


def entry_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "at": row["at"].isoformat(), "actor": row["actor"], "action": row["action"],
            "target": {"type": row["target_type"], "id": row["target_id"]},
            "before": row["before"], "after": row["after"], "reason": row["reason"]}


async def search(conn: asyncpg.Connection, *, actor: str | None = None, action: str | None = None,
                 target_type: str | None = None, target_id: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first.  ``action`` ending in ``.`` or ``*`` matches a prefix (``decision.*``).

    Returns ``(entries, next_cursor)``; next_cursor is None on the last page."""
    where: list[str] = []
    args: list[Any] = []

    def add(fragment: str, value: Any) -> None:
        args.append(value)
        where.append(fragment.replace("?", f"${len(args)}"))

    if actor:
        add("actor = ?", actor)
    if action:
        if action.endswith(("*", ".")):
            add("action LIKE ?", action.rstrip("*").replace("%", r"\%").replace("_", r"\_") + "%")
        else:
            add("action = ?", action)
    if target_type:
        add("target_type = ?", target_type)
    if target_id:
        add("target_id = ?", str(target_id))
    if since:
        add("at >= ?", since)
    if until:
        add("at < ?", until)
    key = pagination.decode(cursor, 1)
    if key is not None:
        if not isinstance(key[0], int):
            pagination.decode("!", 1)  # raises the standard 422
        add("id < ?", key[0])
    args.append(limit + 1)
    sql = ("SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY id DESC LIMIT ${len(args)}")
    rows = await conn.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    return [entry_json(r) for r in rows], (pagination.encode(rows[-1]["id"]) if more else None)
