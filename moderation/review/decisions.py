"""Moderator decisions: one comment, many at once (one transaction), and undo.

Each change writes, in ONE transaction: the comment's new status (its claim released), a ``decisions``
row and — when a callback URL is configured — the outbox row announcing it (both via
``moderation.intake.record_decision``), plus an ``audit_log`` entry.  Either all of it happens or none.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from moderation.config import Config
from moderation.decide import APPROVED, DELETED, REJECTED, SPAM
from moderation.intake import outbox_payload, record_decision
from moderation.problems import Problem, validation_error
from moderation.review import audit, queue
from moderation.sql import Q

# action -> the status it sets
ACTIONS: dict[str, str] = {"approve": APPROVED, "reject": REJECTED, "spam": SPAM, "not_spam": APPROVED}
UNDOABLE = frozenset(ACTIONS)   # automatic decisions and undos themselves are not undoable
MAX_REASON_CHARS = 1000
MAX_BULK = 5000


def validate(action: Any, reason: Any, *, prefix: str = "") -> tuple[str, str | None]:
    errors: list[dict[str, str]] = []
    if not isinstance(action, str) or action not in ACTIONS:  # a JSON object or list is unhashable
        errors.append({"field": f"{prefix}action", "message": f"must be one of {', '.join(ACTIONS)}"})
    if reason is not None and not isinstance(reason, str):
        errors.append({"field": f"{prefix}reason", "message": "must be a string"})
    elif isinstance(reason, str) and len(reason) > MAX_REASON_CHARS:
        errors.append({"field": f"{prefix}reason", "message": f"is longer than {MAX_REASON_CHARS} characters"})
    elif isinstance(reason, str) and "\x00" in reason:
        errors.append({"field": f"{prefix}reason", "message": "must not contain NUL characters"})
    if errors:
        raise validation_error(errors)
    return action, (reason.strip() or None) if isinstance(reason, str) else None


def _conflict(row: asyncpg.Record, target: str) -> str | None:
    """Why ``row`` cannot move to ``target`` (None when it can)."""
    if row["status"] == DELETED:
        return f"comment {row['id']} was deleted by the CMS; it cannot be moderated"
    if row["status"] == target:
        return f"comment {row['id']} is already {target}"
    return None


async def _change(conn: asyncpg.Connection, config: Config, row: asyncpg.Record, target: str, *, action: str,
                  actor: str, reason: str | None, audit_action: str | None = None,
                  audit_target: tuple[str, int] | None = None) -> dict[str, Any]:
    new = await conn.fetchrow(Q.decide_comment, row["id"], target)
    decision_id = await record_decision(conn, config, new, actor=actor, action=action,
                                        from_status=row["status"], note=reason)
    target_type, target_id = audit_target or ("comment", row["id"])
    await audit.record(conn, actor, audit_action or f"decision.{action}", target_type, target_id,
                       before={"status": row["status"]},
                       after={"status": target, "comment_id": row["id"], "decision_id": decision_id}, reason=reason)
    return {"decision_id": decision_id, "comment_id": row["id"], "external_id": row["external_id"],
            "action": action, "from_status": row["status"], "to_status": target}


async def _change_many(conn: asyncpg.Connection, config: Config, rows: list[asyncpg.Record], target: str, *,
                       action: str, actor: str, reason: str | None) -> list[dict[str, Any]]:
    """``_change`` for a batch in a constant number of statements (not four per comment).

    Writes exactly the rows ``record_decision`` writes (decision; outbox with ``intake.outbox_payload`` when
    a callback URL is set) plus one audit entry per comment (written by ``insert_decisions_bulk``)."""
    if not rows:
        return []
    before = {r["id"]: r for r in rows}
    ids = sorted(before)
    new_rows = {r["id"]: r for r in await conn.fetch(Q.decide_comments, ids, target)}
    decided = await conn.fetch(Q.insert_decisions_bulk, ids, [before[i]["status"] for i in ids], actor, action,
                               reason)
    decision_of = {r["comment_id"]: r["id"] for r in decided}
    if config.callback_url:
        await conn.executemany(Q.insert_outbox, [(f"comment.{target}", i, outbox_payload(new_rows[i], actor))
                                                 for i in ids])
    return [{"decision_id": decision_of[i], "comment_id": i, "external_id": before[i]["external_id"],
             "action": action, "from_status": before[i]["status"], "to_status": target} for i in ids]


async def apply(conn: asyncpg.Connection, config: Config, comment_id: int, action: str, actor: str,
                reason: str | None = None) -> dict[str, Any]:
    """Decide one comment: approve → approved, reject → rejected, spam → spam, not_spam → approved.

    404 problem for an unknown id; 409 when the comment is deleted or already in the target status (so of
    two moderators racing on one comment, the second learns it was decided).  Returns
    ``{"decision": {...}, "comment": {...}}``."""
    action, reason = validate(action, reason)
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_comment, comment_id)
        if row is None:
            raise Problem("not-found", f"no comment with id {comment_id}")
        why = _conflict(row, ACTIONS[action])
        if why:
            raise Problem("conflict", why, current_status=row["status"])
        change = await _change(conn, config, row, ACTIONS[action], action=action, actor=actor, reason=reason)
    return {"decision": {**change, "actor": actor, "reason": reason},
            "comment": {"id": row["id"], "external_id": row["external_id"], "status": change["to_status"]}}


def check_ids(ids: Any) -> list[int]:
    """A non-empty list of positive integer comment ids (deduplicated, sorted); 422 naming the bad one."""
    if not isinstance(ids, list) or not ids:
        raise validation_error([{"field": "ids", "message": "must be a non-empty list of comment ids"}])
    if len(ids) > MAX_BULK:
        raise validation_error([{"field": "ids", "message": f"must hold at most {MAX_BULK} ids"}])
    bad = [i for i, v in enumerate(ids) if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2**63]
    if bad:
        raise validation_error([{"field": f"ids[{bad[0]}]", "message": "must be a positive integer comment id"}])
    return sorted(set(ids))


async def bulk(conn: asyncpg.Connection, config: Config, action: str, actor: str, reason: str | None = None, *,
               ids: list[int] | None = None, filter: dict[str, Any] | None = None) -> dict[str, Any]:
    """Decide many comments in ONE transaction: by ``ids`` or by a queue ``filter``
    (``{"status", "reason", "article", "author", "q"}`` as for ``queue.list_queue``), never both.

    All or nothing: an unknown id is a 404 and a deleted comment a 409 for the whole batch, naming the
    ids.  Comments already in the target status are reported as ``unchanged``.  A filter matching more
    than MAX_BULK comments is refused (422) rather than half-applied.  Every change gets its decision,
    outbox and audit rows, plus one ``decision.bulk`` audit entry listing the comment ids."""
    action, reason = validate(action, reason)
    if (ids is None) == (filter is None):
        raise validation_error([{"field": "ids", "message": "give either ids or filter (exactly one)"}])
    target = ACTIONS[action]
    async with conn.transaction():
        if ids is not None:
            wanted = check_ids(ids)
            rows = await conn.fetch(Q.lock_comments, wanted)
            missing = sorted(set(wanted) - {r["id"] for r in rows})
            if missing:
                raise Problem("not-found", f"no comment with id(s) {', '.join(map(str, missing[:20]))}",
                              missing=missing)
            selection: dict[str, Any] = {"ids": wanted}
        else:
            if not isinstance(filter, dict):
                raise validation_error([{"field": "filter", "message": "must be an object of queue filters"}])
            unknown = sorted(set(filter) - {"status", "reason", "article", "author", "q"})
            if unknown:
                raise validation_error([{"field": f"filter.{unknown[0]}",
                                         "message": "is not a queue filter (status, reason, article, author, q)"}])
            f = queue.validate_filters(**filter, field_prefix="filter.")
            where, args = queue.filter_sql(f)
            args.append(MAX_BULK + 1)
            rows = await conn.fetch(f"SELECT c.* FROM comments c{where} ORDER BY c.id LIMIT ${len(args)} "
                                    "FOR UPDATE OF c", *args)
            if len(rows) > MAX_BULK:
                raise validation_error([{"field": "filter", "message": f"matches more than {MAX_BULK} comments; "
                                                                       "narrow it"}])
            selection = {"filter": {k: v for k, v in f.items() if v is not None and k != "order"}}
        deleted = [r["id"] for r in rows if r["status"] == DELETED]
        if deleted:
            raise Problem("conflict", f"comment(s) {', '.join(map(str, deleted[:20]))} were deleted by the CMS",
                          deleted=deleted)
        changed = await _change_many(conn, config, [r for r in rows if r["status"] != target], target,
                                     action=action, actor=actor, reason=reason)
        unchanged = [r["id"] for r in rows if r["status"] == target]
        audit_id = await audit.record(conn, actor, "decision.bulk", "comments", f"{len(changed)} comments",
                                      before=selection, after={"action": action, "to_status": target,
                                                               "comment_ids": [c["comment_id"] for c in changed],
                                                               "decision_ids": [c["decision_id"] for c in changed],
                                                               "unchanged": unchanged}, reason=reason)
    return {"action": action, "to_status": target, "count": len(changed), "changed": changed,
            "unchanged": unchanged, "audit_id": audit_id}


async def undo(conn: asyncpg.Connection, config: Config, decision_id: int, actor: str,
               reason: str | None = None) -> dict[str, Any]:
    """Undo a moderator decision: the comment returns to the decision's ``from_status`` (back to the queue
    when it was pending).  The undo is itself a decision (action ``undo``), audited and announced to the CMS.

    404 for an unknown decision; 409 when it is not a moderator decision, is no longer the comment's latest
    decision (undo the later one first), or the comment was deleted."""
    _, reason = validate("approve", reason)
    async with conn.transaction():
        d = await conn.fetchrow(Q.get_decision, decision_id)
        if d is None:
            raise Problem("not-found", f"no decision with id {decision_id}")
        if d["action"] not in UNDOABLE or d["from_status"] is None:
            raise Problem("conflict", f"decision {decision_id} ({d['action']}) is not a moderator decision; "
                                      "only approve, reject, spam and not_spam can be undone")
        row = await conn.fetchrow(Q.lock_comment, d["comment_id"])
        latest = await conn.fetchval(Q.latest_decision_for_update, d["comment_id"])
        if latest != decision_id:
            raise Problem("conflict", f"decision {decision_id} is not the latest for comment {d['comment_id']} "
                                      f"(decision {latest} came after it)", latest_decision_id=latest)
        if row["status"] == DELETED:
            raise Problem("conflict", f"comment {row['id']} was deleted by the CMS; it cannot be moderated")
        note = f"undo of decision {decision_id}" + (f": {reason}" if reason else "")
        change = await _change(conn, config, row, d["from_status"], action="undo", actor=actor, reason=note,
                               audit_action="decision.undo", audit_target=("decision", decision_id))
    return {"decision": {**change, "actor": actor, "reason": reason, "undid": decision_id},
            "comment": {"id": row["id"], "external_id": row["external_id"], "status": change["to_status"]}}


async def undo_bulk(conn: asyncpg.Connection, config: Config, audit_id: int, actor: str,
                    reason: str | None = None) -> dict[str, Any]:
    """Undo a whole bulk decision (``audit_id`` is the ``audit_id`` that ``bulk`` returned), in ONE
    transaction: every comment goes back to its previous status, or nothing changes (409 naming the first
    decision that can no longer be undone)."""
    _, reason = validate("approve", reason)
    async with conn.transaction():
        entry = await conn.fetchrow(Q.get_audit_entry, audit_id)
        if entry is None or entry["action"] != "decision.bulk":
            raise Problem("not-found", f"no bulk decision with audit id {audit_id}")
        results = [await undo(conn, config, d, actor, reason) for d in entry["after"].get("decision_ids", [])]
        await audit.record(conn, actor, "decision.bulk_undo", "audit", audit_id,
                           before={"decision_ids": entry["after"].get("decision_ids", [])},
                           after={"decision_ids": [r["decision"]["decision_id"] for r in results]}, reason=reason)
    return {"count": len(results), "undone": [r["decision"] for r in results]}
