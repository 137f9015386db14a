"""Moderator decisions: one comment, many at once (one transaction), and undo.

Each change writes, in ONE transaction: the comment's new status (its claim released), a ``decisions``
row and — when a callback URL is configured — the outbox row announcing it, plus an ``audit_log`` entry.
Either all of it happens or none.  Decisions by id (single and bulk) are ONE SQL statement
(``decide_batch``, which writes exactly the rows ``intake.record_decision`` + ``audit.record`` would: see
tests/test_review_domain.py); undo, rarer and with more checks, goes through ``record_decision``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from moderation.core.config import Config
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.decisions.decide import APPROVED, DELETED, REJECTED, SPAM
from moderation.intake.webhook import record_decision
from moderation.review import audit, queue

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


async def _decide(conn: asyncpg.Connection, config: Config, ids: list[int], target: str, *, action: str,
                  actor: str, reason: str | None, bulk_before: dict[str, Any] | None = None) -> asyncpg.Record:
    """Decide ``ids`` (distinct) in ONE statement (``decide_batch``): status flip + claim release, and per
    changed comment the decision row, its audit entry and (with a callback URL) its outbox row, plus the
    ``decision.bulk`` entry when ``bulk_before`` is given.  Nothing is written when an id is unknown or a
    comment was deleted: the caller turns ``missing``/``deleted`` into the problem.

    One round trip instead of six-plus-one-per-comment: a batch is atomic by being one statement, and the
    rows it writes are exactly those ``record_decision`` + ``audit.record`` write (see the SQL)."""
    return await conn.fetchrow(Q.decide_batch, ids, target, actor, action, reason, bool(config.callback_url),
                               bulk_before is not None, bulk_before)


async def by_system(conn: asyncpg.Connection, config: Config, comment_id: int, target: str, *, action: str,
                    reason: str) -> None:
    """A status change the service makes by itself (readers' reports hold a comment): the same rows as a
    moderator's decision (``decide_batch``), by actor ``system``."""
    _raise_unless_ok(await _decide(conn, config, [comment_id], target, action=action, actor="system",
                                   reason=reason))


def _changes(res: asyncpg.Record, action: str, target: str) -> list[dict[str, Any]]:
    return [{"decision_id": d, "comment_id": c, "external_id": e, "action": action, "from_status": f,
             "to_status": target}
            for c, d, f, e in zip(res["comment_ids"], res["decision_ids"], res["from_statuses"], res["external_ids"],
                                  strict=True)]


def _raise_unless_ok(res: asyncpg.Record) -> None:
    if res["missing"]:
        missing = list(res["missing"])
        raise Problem("not-found", f"no comment with id(s) {', '.join(map(str, missing[:20]))}", missing=missing)
    if res["deleted"]:
        deleted = list(res["deleted"])
        raise Problem("conflict", f"comment(s) {', '.join(map(str, deleted[:20]))} were deleted by the CMS",
                      deleted=deleted)


async def apply(conn: asyncpg.Connection, config: Config, comment_id: int, action: str, actor: str,
                reason: str | None = None) -> dict[str, Any]:
    """Decide one comment: approve → approved, reject → rejected, spam → spam, not_spam → approved.

    404 problem for an unknown id; 409 when the comment is deleted or already in the target status (so of
    two moderators racing on one comment, the second learns it was decided).  Returns
    ``{"decision": {...}, "comment": {...}}``."""
    action, reason = validate(action, reason)
    target = ACTIONS[action]
    res = await _decide(conn, config, [comment_id], target, action=action, actor=actor, reason=reason)
    if res["missing"]:
        raise Problem("not-found", f"no comment with id {comment_id}")
    if res["deleted"]:
        raise Problem("conflict", f"comment {comment_id} was deleted by the CMS; it cannot be moderated",
                      current_status=DELETED)
    if res["unchanged"]:
        raise Problem("conflict", f"comment {comment_id} is already {target}", current_status=target)
    [change] = _changes(res, action, target)
    return {"decision": {**change, "actor": actor, "reason": reason},
            "comment": {"id": comment_id, "external_id": change["external_id"], "status": target}}


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
    if ids is not None:
        # The common case (a moderator deciding what they claimed): one statement, no explicit transaction.
        wanted = check_ids(ids)
        res = await _decide(conn, config, wanted, target, action=action, actor=actor, reason=reason,
                            bulk_before={"ids": wanted})
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
        async with conn.transaction():   # the filter's rows stay locked until decide_batch has changed them
            rows = await conn.fetch(f"SELECT c.id FROM comments c{where} ORDER BY c.id LIMIT ${len(args)} "
                                    "FOR UPDATE OF c", *args)
            if len(rows) > MAX_BULK:
                raise validation_error([{"field": "filter", "message": f"matches more than {MAX_BULK} comments; "
                                                                       "narrow it"}])
            selection = {"filter": {k: v for k, v in f.items() if v is not None and k != "order"}}
            res = await _decide(conn, config, [r["id"] for r in rows], target, action=action, actor=actor,
                                reason=reason, bulk_before=selection)
            _raise_unless_ok(res)
    _raise_unless_ok(res)
    return _bulk_result(res, action, target)


def _bulk_result(res: asyncpg.Record, action: str, target: str) -> dict[str, Any]:
    changed = _changes(res, action, target)
    return {"action": action, "to_status": target, "count": len(changed), "changed": changed,
            "unchanged": list(res["unchanged"]), "audit_id": res["audit_id"]}


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
