"""Moderator decisions: one comment, many at once (one transaction), and undo.

Each change is written by the one decision writer (``moderation.decisions.writer.write``, ONE SQL function
call): the comment's new status (its claim released), a ``decisions`` row whose reason is the moderator's
action and note (what the CMS's callback says), an ``audit_log`` entry and — when a callback URL is
configured — the outbox row announcing it.  Either all of it happens or none.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from moderation.core import audit
from moderation.core.config import Config
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.decisions import reasons, writer
from moderation.decisions.decide import APPROVED, DELETED, REJECTED, SPAM
from moderation.review import queue

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


async def _decide(conn: asyncpg.Connection, config: Config, ids: list[int], target: str, *, action: str,
                  actor: str, reason: str | None, bulk_before: dict[str, Any] | None = None,
                  why: reasons.Reason | None = None) -> writer.Written:
    """Decide ``ids`` (distinct) in ONE call of the decision writer: status flip + claim release, and per
    changed comment the decision row (reason: ``why``, by default the moderator's action and ``reason``),
    its audit entry and (with a callback URL) its outbox row, plus the ``decision.bulk`` entry when
    ``bulk_before`` is given.  Nothing is written when an id is unknown or a comment was deleted: the
    caller turns ``missing``/``deleted`` into the problem."""
    why = why or reasons.moderator(action, reasons.outcome_of_status(target), reason)
    return await writer.write(conn, ids, target, actor=actor, action=action, note=reason, mode="decide",
                              notify=bool(config.callback_url), reasons=[[why]], audit=f"decision.{action}",
                              bulk=bulk_before)


async def by_system(conn: asyncpg.Connection, config: Config, comment_id: int, target: str, *, action: str,
                    reason: str, why: reasons.Reason) -> None:
    """A status change the service makes by itself (readers' reports hold a comment): the same rows as a
    moderator's decision, by actor ``system``; ``why`` is also added to the comment's own reasons."""
    res = await writer.write(conn, [comment_id], target, actor="system", action=action, note=reason,
                             mode="decide", notify=bool(config.callback_url), reasons=[[why]],
                             add_reasons=[[why]], audit=f"decision.{action}")
    _raise_unless_ok(res)


def _raise_unless_ok(res: writer.Written) -> None:
    if res.missing:
        missing = list(res.missing)
        raise Problem("not-found", f"no comment with id(s) {', '.join(map(str, missing[:20]))}", missing=missing)
    if res.deleted:
        deleted = list(res.deleted)
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
    if res.missing:
        raise Problem("not-found", f"no comment with id {comment_id}")
    if res.deleted:
        raise Problem("conflict", f"comment {comment_id} was deleted by the CMS; it cannot be moderated",
                      current_status=DELETED)
    if res.unchanged:
        raise Problem("conflict", f"comment {comment_id} is already {target}", current_status=target)
    [change] = res.changes(action, target)
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
    (``{"status", "reason", "article", "author", "q", "language"}`` as for ``queue.list_queue``), never both.

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
        unknown = sorted(set(filter) - {"status", "reason", "article", "author", "q", "language"})
        if unknown:
            raise validation_error([{"field": f"filter.{unknown[0]}",
                                     "message": "is not a queue filter (status, reason, article, author, q, "
                                                "language)"}])
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


def _bulk_result(res: writer.Written, action: str, target: str) -> dict[str, Any]:
    changed = res.changes(action, target)
    return {"action": action, "to_status": target, "count": len(changed), "changed": changed,
            "unchanged": list(res.unchanged), "audit_id": res.audit_id}


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
        target = d["from_status"]
        why = reasons.make("undo", reasons.outcome_of_status(target), undid=decision_id, note=reason)
        res = await writer.write(conn, [row["id"]], target, actor=actor, action="undo", note=note, mode="change",
                                 notify=bool(config.callback_url), reasons=[[why]], audit="decision.undo",
                                 audit_targets=[f"decision:{decision_id}"])
        [change] = res.changes("undo", target)
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
