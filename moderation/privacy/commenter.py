"""A commenter's data (GDPR Articles 15 and 17): everything held about one author id, exported or erased.

The author id is the CMS's; as a reader the same person is ``cms:<author id>`` (reactions, reports).

**Export** gathers their comments (with their decisions and the reports they received), their reactions and
reports, blocks on their id or the IP hashes of their comments, the reactions abuse log about them, the audit
entries naming them, and feedback sent through the Perspective/Akismet protocols with one of their texts.

**Erase** does, in one transaction: each comment becomes a tombstone (status ``deleted``, text, name, author id,
e-mail and IP hashes, fingerprint and reasons gone; the CMS's comment id and article stay so a replayed webhook
is answered, not re-created), announced to the CMS by one ``comment.deleted`` callback per comment through the
outbox; the decisions on them keep what was decided but lose their reasons and notes; webhook receipts and
pending callbacks carrying their reasons go; their reactions and reports (and those on their comments) go, and
so do blocks, rate-limit buckets, abuse-log rows and author counters keyed by them.  Audit entries stay but name
a pseudonym (``erased:<random>``) instead of the author id, names and hashes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg

from moderation.core import audit
from moderation.core.config import Config
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.decisions import writer
from moderation.decisions.decide import DELETED

MAX_AUTHOR_ID = 256
ERASED_ACTION = "erased"


def check_author_id(author_id: Any) -> str:
    if not isinstance(author_id, str) or not author_id.strip() or len(author_id) > MAX_AUTHOR_ID \
            or "\x00" in author_id:
        raise validation_error([{"field": "author_id", "message": "must be a non-empty string (at most "
                                                                  f"{MAX_AUTHOR_ID} characters, no NUL)"}])
    return author_id


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _rows(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [_json(dict(r)) for r in rows]


COMMENT_FIELDS = ("id", "external_id", "article_id", "article_url", "article_title", "parent_external_id",
                  "author_name", "author_email_hash", "author_ip_hash", "text", "status", "spam_score",
                  "abuse_score", "model_version", "reasons", "created_at", "received_at", "updated_at")


async def _gather(conn: asyncpg.Connection, author_id: str, *, lock: bool = False) -> dict[str, Any]:
    comments = await conn.fetch(Q.privacy_comments + (" FOR UPDATE OF c" if lock else ""), author_id)
    ids = [c["id"] for c in comments]
    ip_hashes = sorted({c["author_ip_hash"] for c in comments if c["author_ip_hash"]})
    decisions: dict[int, list[dict[str, Any]]] = {}
    for d in await conn.fetch(Q.privacy_decisions, ids):
        decisions.setdefault(d["comment_id"], []).append(_json({k: v for k, v in dict(d).items()
                                                                if k != "comment_id"}))
    received: dict[int, list[dict[str, Any]]] = {}
    for r in await conn.fetch(Q.privacy_reports_received, ids):
        received.setdefault(r["comment_id"], []).append(_json({"reason": r["reason"], "at": r["created_at"]}))
    identifiers = sorted({author_id, *(c["author_name"] for c in comments if c["author_name"]), *ip_hashes,
                          *(c["author_email_hash"] for c in comments if c["author_email_hash"])})
    return {
        "author_id": author_id,
        "reader_id": f"cms:{author_id}",
        "comments": [{**{k: _json(c[k]) for k in COMMENT_FIELDS if k in c},
                      "decisions": decisions.get(c["id"], []), "reports_received": received.get(c["id"], [])}
                     for c in comments],
        "reactions": _rows(await conn.fetch(Q.privacy_reactions, author_id)),
        "reports": _rows(await conn.fetch(Q.privacy_reports, author_id)),
        "blocks": _rows(await conn.fetch(Q.privacy_blocks, author_id, ip_hashes)),
        "reaction_rate_limit_refusals": _rows(await conn.fetch(Q.privacy_abuse, author_id)),
        "audit": _rows(await conn.fetch(Q.privacy_audit, identifiers)),
        "protocol_feedback": _rows(await conn.fetch(Q.privacy_compat_labels, [c["text"] for c in comments])),
        "_ids": ids, "_ip_hashes": ip_hashes, "_identifiers": identifiers,
    }


def _held_anything(data: dict[str, Any]) -> bool:
    return any(data[k] for k in ("comments", "reactions", "reports", "blocks", "reaction_rate_limit_refusals",
                                 "audit"))


async def export(conn: asyncpg.Connection, author_id: str) -> dict[str, Any]:
    """Everything held about ``author_id`` (Art. 15), as JSON-able data; 404 problem when nothing is."""
    author_id = check_author_id(author_id)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        data = await _gather(conn, author_id)
    if not _held_anything(data):
        raise Problem("not-found", f"nothing is held about author {author_id!r}")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _replace(value: Any, table: dict[str, str]) -> Any:
    """``value`` with every occurrence of each key of ``table`` (longest first) replaced, inside JSON too."""
    if isinstance(value, str):
        for old in sorted(table, key=len, reverse=True):
            value = value.replace(old, table[old])
        return value
    if isinstance(value, dict):
        return {_replace(k, table): _replace(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, table) for v in value]
    return value


async def erase(conn: asyncpg.Connection, config: Config, author_id: str, *, actor: str,
                reason: str | None = None) -> dict[str, Any]:
    """Erase ``author_id``'s data (Art. 17) in one transaction; returns what was done (counts, the pseudonym).
    404 problem when nothing is held about them."""
    author_id = check_author_id(author_id)
    pseudonym = f"erased:{secrets.token_hex(8)}"
    async with conn.transaction():
        data = await _gather(conn, author_id, lock=True)
        if not _held_anything(data):
            raise Problem("not-found", f"nothing is held about author {author_id!r}")
        ids, ip_hashes = data["_ids"], data["_ip_hashes"]
        await conn.execute(Q.privacy_drop_outbox, ids)
        await conn.execute(Q.privacy_drop_compat_labels, [c["text"] for c in data["comments"]])
        announced = 0
        for comment in data["comments"]:
            await conn.fetchrow(Q.privacy_scrub_comment, comment["id"], pseudonym)
            await conn.execute(Q.privacy_scrub_decisions, [comment["id"]])
            # the one decision writer: status deleted, decision (action "erased"), audit entry and, with
            # callbacks on, one comment.deleted callback (none for a comment the CMS deleted itself)
            await writer.erase(conn, [comment["id"]], actor=actor, notify=bool(config.callback_url))
            announced += int(bool(config.callback_url) and comment["status"] != DELETED)
        receipts = await conn.execute(Q.privacy_drop_receipts, [str(i) for i in ids])
        reactions = await conn.fetchval(Q.privacy_purge_reactions, author_id)
        reactions_on = await conn.fetchval(Q.privacy_drop_reactions_on, [str(i) for i in ids])
        reports = await conn.execute(Q.privacy_drop_reports, author_id, ids)
        await conn.execute(Q.privacy_drop_abuse, author_id, ip_hashes)
        await conn.execute(Q.privacy_drop_rate_limits, author_id, ip_hashes)
        await conn.execute(Q.privacy_drop_confirmations, author_id, ip_hashes)
        blocks = await conn.execute(Q.privacy_drop_blocks, author_id, ip_hashes)
        await conn.execute(Q.privacy_drop_counts, author_id)
        await conn.execute(Q.privacy_unlink_ip_hashes, ip_hashes)
        table = {ident: pseudonym for ident in data["_identifiers"]}
        if data["audit"]:
            await conn.execute(Q.privacy_allow_audit_rewrite)
            for entry in await conn.fetch(Q.privacy_audit, data["_identifiers"]):
                await conn.execute(Q.privacy_audit_rewrite, entry["id"], _replace(entry["target_id"], table),
                                   _replace(entry["before"], table), _replace(entry["after"], table),
                                   _replace(entry["reason"], table))
        summary = {"pseudonym": pseudonym, "comments": len(ids), "callbacks": announced,
                   "reactions": int(reactions or 0) + int(reactions_on or 0),
                   "reports": int(reports.split()[-1]), "blocks": int(blocks.split()[-1]),
                   "receipts": int(receipts.split()[-1]), "audit_entries_pseudonymised": len(data["audit"])}
        await audit.record(conn, actor, "commenter.erase", "commenter", pseudonym, before=None, after=summary,
                           reason=reason)
    return summary
