"""The one decision writer: every status change of a comment goes through :func:`write`.

Intake (one comment, and every group-commit batch through ``intake_store``), moderators (one or many),
readers' reports, undo, the CMS's deletes and erasure all write the same rows the same way, in ONE SQL
function call (``decision_write`` in schema.sql): the comments' status (claims released, reasons added),
a ``decisions`` row per change (actor, action, scores, attribute scores, model version, thresholds,
reasons, note), its ``audit_log`` entry and, when callbacks are on, its ``outbox`` row, which references
the decision row: the callback body is built from it at delivery (:func:`moderation.decisions.payload.
callback_payload`), so a moderator's decision is announced with the moderator's reason, not the model's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from moderation.core.sql import Q
from moderation.decisions.reasons import Reason, make

MODES = ("created", "change", "decide")


@dataclass(frozen=True)
class Written:
    """What :func:`write` did.  ``ok`` is False (and nothing was written) when an id was unknown
    (``missing``) or, in mode ``decide``, a comment was deleted (``deleted``)."""

    ok: bool
    missing: list[int]
    deleted: list[int]
    unchanged: list[int]
    comment_ids: list[int]
    decision_ids: list[int]
    from_statuses: list[str | None]
    external_ids: list[str]
    audit_id: int | None

    def changes(self, action: str, to_status: str) -> list[dict[str, Any]]:
        return [{"decision_id": d, "comment_id": c, "external_id": e, "action": action, "from_status": f,
                 "to_status": to_status}
                for c, d, f, e in zip(self.comment_ids, self.decision_ids, self.from_statuses, self.external_ids,
                                      strict=True)]


def _each(values: Sequence[Any] | None) -> list[str | None] | None:
    """A per-comment (or single, for all) list of reason lists as JSON texts (a list of lists would be
    taken for a two-dimensional array)."""
    return None if values is None else [None if v is None else json.dumps(v) for v in values]


async def write(conn: asyncpg.Connection, ids: Sequence[int], statuses: str | Sequence[str], *, actor: str,
                action: str, mode: str, notify: bool, note: str | None = None,
                reasons: Sequence[list[Reason] | None] | None = None,
                add_reasons: Sequence[list[Reason] | None] | None = None, audit: str | None = None,
                audit_targets: Sequence[str] | None = None, bulk: dict[str, Any] | None = None) -> Written:
    """Write the decision of ``actor`` (``system``, ``cms``, ``moderator:<id>``, ``admin:<id>``) on the
    comments ``ids`` (distinct): their new status (one for all, or one per id), in ONE statement.

    ``mode``: ``created`` (intake inserted the comments with their status), ``change`` (set the status and
    record even when it stays), ``decide`` (all or nothing; an unknown id or a deleted comment writes
    nothing; comments already in the status are ``unchanged``).  ``reasons``: the decision rows' reasons
    (one list for all, or one per id; default: the comment's own).  ``add_reasons``: reasons added to the
    comments' own (replacing those of the same code, and 'clean').  ``notify``: an outbox row (a callback
    to the CMS) per status change.  ``audit``: the audit action of each change (None: no audit entry),
    on the comment or on ``audit_targets`` (``"decision:12"``); ``bulk``: also one ``decision.bulk``
    entry whose "before" is ``bulk``."""
    assert mode in MODES, mode
    status_list = [statuses] if isinstance(statuses, str) else list(statuses)
    row = await conn.fetchrow(Q.decision_write, list(ids), status_list, actor, action, note, _each(reasons),
                              _each(add_reasons), mode, notify, audit,
                              list(audit_targets) if audit_targets is not None else None, bulk)
    return Written(ok=row["ok"], missing=list(row["missing"]), deleted=list(row["deleted"]),
                   unchanged=list(row["unchanged"]), comment_ids=list(row["comment_ids"]),
                   decision_ids=list(row["decision_ids"]), from_statuses=list(row["from_statuses"]),
                   external_ids=list(row["external_ids"]), audit_id=row["audit_id"])


async def erase(conn: asyncpg.Connection, ids: Sequence[int], *, actor: str, note: str | None = None,
                notify: bool) -> Written:
    """Erasure (GDPR, at the author's request): the comments become ``deleted`` with a decision row per
    comment (action ``erased``, reason "deleted: erased at the author's request"), an ``comment.erase``
    audit entry each, and — with ``notify`` (callbacks on) — a ``comment.deleted`` callback so the CMS
    takes them down too.  Comments already deleted get the decision and audit entry, no callback.  Erasing
    the text itself is the caller's (this writes only the decision)."""
    return await write(conn, sorted(set(ids)), "deleted", actor=actor, action="erased", note=note, mode="change",
                       notify=notify, reasons=[[make("erased", "deleted", note=note)]], audit="comment.erase")
