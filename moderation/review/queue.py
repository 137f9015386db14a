"""The review queue: filtered, risk- or age-ordered listing with keyset pagination, search, and claims.

Every function takes plain values and an asyncpg connection, so the JSON API, the web UI and the tests
call the same code.  Invalid arguments raise ``validation_error`` (a 422 problem naming the field).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from moderation.core import pagination
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q
from moderation.decisions.payload import attributes_json

STATUSES = ("pending", "spam", "approved", "rejected", "deleted")
ORDERS = ("risk", "age", "newest")
MAX_Q_CHARS = 200
MAX_CLAIM = 100
DEFAULT_LEASE_S = 300
_PHRASE = re.compile(r'"([^"]+)"')
_OR = re.compile(r"(?<![\w-])or(?!\w)", re.IGNORECASE)   # websearch_to_tsquery's OR operator
_WORD = re.compile(r"[^\W_]+")
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"   # ISO 639-1/-3, optionally a region
_LANGUAGE = re.compile(LANGUAGE_PATTERN)
# what queue_select reads from a page's rows
_PAGE_COLUMNS = ", ".join("c." + col for col in (
    "id", "external_id", "status", "text", "author_id", "author_name", "author_ip_hash", "article_id",
    "parent_external_id", "spam_score", "abuse_score", "attributes", "language", "queue_risk", "risk", "reasons",
    "reason_codes", "model_version",
    "thresholds", "created_at", "received_at", "claimed_by", "claim_expires_at"))

# The risk a queue item shows and the risk order sorts by (moderation/review/risk.py): queue_risk, or the old
# max(spam, abuse) of a comment the backfill has not reached yet.  The same expression as the index
# comments_queue_by_risk (migration 0171), or Postgres would not walk it.
RISK = "coalesce(c.queue_risk, c.risk)"
# order -> (ORDER BY, keyset comparison, the columns the order reads)
_ORDERS = {
    "risk": (f"{RISK} DESC, c.id DESC", f"({RISK}, c.id) < ({{}}::real, {{}}::bigint)", "c.queue_risk, c.risk"),
    "age": ("c.received_at ASC, c.id ASC", "(c.received_at, c.id) > ({}::timestamptz, {}::bigint)",
            "c.received_at"),
    "newest": ("c.received_at DESC, c.id DESC", "(c.received_at, c.id) < ({}::timestamptz, {}::bigint)",
               "c.received_at"),
}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


class Search(NamedTuple):
    tsquery: str            # for websearch_to_tsquery('simple', ...)
    patterns: list[str]     # ILIKE patterns: each required phrase, verbatim
    phrases: list[str]      # the required phrases themselves (for the word-pair index, see _filters)


def parse_search(q: str) -> Search:
    """``q`` uses web-search syntax (words AND-ed, ``"exact phrase"``, ``-word``, ``or``).

    Returns the text for ``websearch_to_tsquery('simple', ...)`` and the quoted phrases every match must
    contain, as ILIKE patterns that re-check them verbatim (the tsquery ignores punctuation and case; the
    recheck keeps "exact" exact).  A phrase is required only when it is not negated (``-"..."``) and the
    query has no ``or``: there, a comment may match without containing it, so it is not rechecked."""
    outside = _PHRASE.sub(" ", q)
    if _OR.search(outside):
        return Search(q, [], [])
    phrases = [m[1].strip() for m in _PHRASE.finditer(q)
               if m[1].strip() and not q[:m.start()].rstrip().endswith("-")]
    return Search(q, [f"%{_like_escape(p)}%" for p in phrases], phrases)


class _Where:
    """WHERE fragments whose values are bound parameters (``{}`` becomes ``$n``).  Several ``_Where`` of one
    statement share ``args``, so their numbers do not collide."""

    def __init__(self, args: list[Any] | None = None) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = [] if args is None else args

    def param(self, value: Any) -> str:
        if isinstance(value, float) and not math.isfinite(value):
            raise validation_error([{"field": "cursor", "message": "is not a cursor this API issued"}])
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, fragment: str, *values: Any) -> None:
        self.parts.append(fragment.format(*(self.param(v) for v in values)))

    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.parts) if self.parts else ""


def validate_filters(*, status: Any = "pending", reason: Any = None, article: Any = None, author: Any = None,
                     q: Any = None, order: Any = "risk", language: Any = None,
                     field_prefix: str = "") -> dict[str, Any]:
    """Check queue filters (from a query string or a bulk ``filter`` object); 422 names every bad field."""
    errors: list[dict[str, str]] = []
    p = field_prefix
    status = status or "pending"
    if status not in STATUSES:
        errors.append({"field": f"{p}status", "message": f"must be one of {', '.join(STATUSES)}"})
    order = order or "risk"
    if order not in ORDERS:
        errors.append({"field": f"{p}order", "message": f"must be one of {', '.join(ORDERS)}"})
    out: dict[str, Any] = {"status": status, "order": order}
    if language not in (None, "") and (not isinstance(language, str) or not _LANGUAGE.fullmatch(language.strip())):
        errors.append({"field": f"{p}language", "message": "must be a language code such as en, ar, ko or und"})
        language = None
    out["language"] = language.strip().lower() if language else None
    for name, value, max_len in (("reason", reason, 64), ("article", article, 256), ("author", author, 256),
                                 ("q", q, MAX_Q_CHARS)):
        if value is None or value == "":
            out[name] = None
            continue
        if not isinstance(value, str):
            errors.append({"field": f"{p}{name}", "message": "must be a string"})
        elif len(value) > max_len:
            errors.append({"field": f"{p}{name}", "message": f"is longer than {max_len} characters"})
        elif "\x00" in value:
            errors.append({"field": f"{p}{name}", "message": "must not contain NUL characters"})
        else:
            out[name] = value.strip() or None
            continue
        out[name] = None
    if errors:
        raise validation_error(errors)
    return out


def _filters(w: _Where, *, status: str, reason: str | None, article: str | None, author: str | None,
             q: str | None, claimed_by: int | None = None, late: _Where | None = None,
             language: str | None = None) -> None:
    """Add the filters to ``w``.  With ``late``, the per-row rechecks of a phrase search that has the
    word-pair index go there instead: list_queue applies them only to candidates in sort order, until the
    page is full (see list_queue)."""
    # Values are bound parameters, never quoted into the text; list_queue runs the page with
    # plan_cache_mode = force_custom_plan, so Postgres still plans each page with the real selectivity of
    # its filters instead of a generic plan after five runs (which could walk the whole risk index for a
    # rare search term).
    assert status in STATUSES
    w.add("c.status = {}", status)
    if reason:
        w.add("c.reason_codes @> ARRAY[{}::text]", reason)
    if article:
        w.add("c.article_id = {}", article)
    if author:
        w.add("c.author_id = {}", author)
    if language:
        w.add("c.language = {}", language)
    if q:
        search = parse_search(q)
        pairs = [p for p in search.phrases if len(_WORD.findall(p)) > 1] if status == "pending" else []
        match = "c.search @@ websearch_to_tsquery('simple', {})"
        if pairs and len(pairs) == len(search.phrases) and not _WORD.search(_PHRASE.sub(" ", q)):
            # Only phrases of 2+ words: the word-pair index below is at least as selective as the words'
            # GIN index, and Postgres, which takes the two conditions as independent, would AND the two
            # bitmaps (at 1M comments: the 134k comments holding 'the' and 'council' to drop nothing).
            # ts_match_vq is the function behind @@: the same test, but not an index condition.
            match = "ts_match_vq(c.search, websearch_to_tsquery('simple', {}))"
        recheck = late if pairs and late is not None else w
        (recheck if match.startswith("ts_match_vq") else w).add(match, search.tsquery)
        if search.patterns:
            recheck.add("c.text ILIKE ALL({}::text[])", search.patterns)
        if pairs:
            # GIN cannot check word adjacency: without this, a phrase of common words rechecks on the heap
            # every pending comment holding all its words.  comments_bigrams_pending indexes each pending
            # comment's adjacent word pairs (from the same tsvector the phrase must match, so every real
            # match holds all the phrase's pairs): only comments with all of them are candidates.
            w.parts.append("comment_bigrams(c.search) @> (" + " || ".join(
                f"comment_bigrams(to_tsvector('simple', {w.param(p)}::text))" for p in pairs) + ")")
    if claimed_by is not None:
        w.add("c.claimed_by = {} AND c.claim_expires_at > now()", claimed_by)


def filter_sql(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """The WHERE clause (over ``comments c``) for validated filters; used by bulk decisions."""
    w = _Where()
    _filters(w, status=filters["status"], reason=filters.get("reason"), article=filters.get("article"),
             author=filters.get("author"), q=filters.get("q"), language=filters.get("language"))
    return w.sql(), w.args


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_json(row: asyncpg.Record, history: dict[str, int]) -> dict[str, Any]:
    """One queue item: the comment, its scores and reasons, article, parent comment and author history."""
    scores = None if row["spam_score"] is None else {"spam": round(row["spam_score"], 4),
                                                     "abuse": round(row["abuse_score"], 4)}
    parent = None
    if row["parent_external_id"]:
        parent = {"external_id": row["parent_external_id"], "id": row["parent_id"],
                  "text": row["parent_text"], "author_name": row["parent_author_name"]}
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "status": row["status"],
        "text": row["text"],
        "author": {"id": row["author_id"], "name": row["author_name"], "ip_hash": row["author_ip_hash"],
                   "history": history},
        "article": {"id": row["article_id"], "url": row["article_url"], "title": row["article_title"]},
        "parent": parent,
        "scores": scores,
        "attributes": attributes_json(row["attributes"]),
        "language": row["language"],
        "risk": round(row["risk"], 4) if row["risk"] is not None else None,
        "reasons": row["reasons"],
        "reason_codes": list(row["reason_codes"]),
        "model_version": row["model_version"],
        "thresholds": row["thresholds"],
        "created_at": _iso(row["created_at"]),
        "received_at": _iso(row["received_at"]),
        "claimed_by": row["claimed_by"],
        "claim_expires_at": _iso(row["claim_expires_at"]),
    }


def _item(row: asyncpg.Record) -> dict[str, Any]:
    """``item_json`` of a ``queue_select`` or ``claim_pending`` row, whose author history comes as two
    arrays (statuses, counts)."""
    return item_json(row, dict(zip(row["history_statuses"] or (), row["history_counts"] or (), strict=True)))


async def items_by_id(conn: asyncpg.Connection, ids: list[int], order: str = "risk") -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = await conn.fetch(Q.queue_select + f" WHERE c.id = ANY($1::bigint[]) ORDER BY {_ORDERS[order][0]}", ids)
    return [_item(r) for r in rows]


async def list_queue(conn: asyncpg.Connection, *, status: str = "pending", reason: str | None = None,
                     article: str | None = None, author: str | None = None, q: str | None = None,
                     order: str = "risk", limit: int = 50, cursor: str | None = None,
                     claimed_by: int | None = None, language: str | None = None,
                     ) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the queue.

    ``order``: ``risk`` (highest risk first: the comment's highest attribute probability, see
    :mod:`moderation.review.risk`; unscored counts as 1), ``age`` (oldest first) or ``newest``.  ``q``: keyword
    search (see ``parse_search``).  ``claimed_by``: only comments this moderator holds a live claim on.
    Returns ``(items, next_cursor)``; pass next_cursor back with the SAME filters."""
    f = validate_filters(status=status, reason=reason, article=article, author=author, q=q, order=order,
                         language=language)
    limit = pagination.check_limit(limit)
    w = _Where()
    late = _Where(w.args)
    _filters(w, status=f["status"], reason=f["reason"], article=f["article"], author=f["author"], q=f["q"],
             claimed_by=claimed_by, late=late, language=f["language"])
    order_by, keyset, sort_cols = _ORDERS[f["order"]]
    by_risk = f["order"] == "risk"
    key = pagination.decode(cursor, 2)
    if key is not None:
        sort_key, last_id = key
        try:
            sort_value: Any = float(sort_key) if by_risk else datetime.fromisoformat(sort_key)
            last_id = int(last_id)
        except (TypeError, ValueError):
            raise validation_error([{"field": "cursor", "message": "is not a cursor this API issued"}]) from None
        w.add(keyset, sort_value, last_id)
    # The page is chosen first (an index walk or a search) and only its rows are joined to their article,
    # parent comment and author history, in one round trip.  The subquery carries only the columns an item
    # shows (not the tsvector, which a top-N sort of many search matches would drag along).
    if late.parts:
        # Phrase search: the word-pair index gives candidates that nearly all match; rather than recheck
        # (tsquery phrase, verbatim ILIKE) every one of them before a top-N sort, sort the candidates' keys
        # (narrow: id + sort column; OFFSET 0 keeps the rechecks out of that subquery) and recheck them in
        # order, stopping when the page is full.
        keys = f"SELECT c.id, {sort_cols} FROM comments c{w.sql()} ORDER BY {order_by} OFFSET 0"
        page = (f"SELECT {_PAGE_COLUMNS} FROM ({keys}) k JOIN comments c ON c.id = k.id{late.sql()} "
                f"ORDER BY {order_by.replace('c.', 'k.')} LIMIT {int(limit) + 1}")
    else:
        page = f"SELECT {_PAGE_COLUMNS} FROM comments c{w.sql()} ORDER BY {order_by} LIMIT {int(limit) + 1}"
    assert Q.queue_select.count("FROM comments c\n") == 1
    sql = Q.queue_select.replace("FROM comments c\n", f"FROM ({page}) c\n") + f" ORDER BY {order_by}"
    async with conn.transaction():  # SET LOCAL: this page only (also behind a transaction-mode pooler)
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await conn.fetch(sql, *w.args)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        sort_key = last["risk"] if by_risk else last["received_at"].isoformat()
        next_cursor = pagination.encode(sort_key, last["id"])
    return [_item(r) for r in rows], next_cursor


async def claim(conn: asyncpg.Connection, moderator_id: int, limit: int, lease_s: float = DEFAULT_LEASE_S,
                ) -> list[dict[str, Any]]:
    """Give ``moderator_id`` up to ``limit`` pending comments nobody else holds, highest risk first.

    ``FOR UPDATE SKIP LOCKED`` means concurrent claims never wait on or overlap each other; the lease
    (``claim_expires_at``) ends by itself, so a moderator who walks away doesn't hide comments.  A decision
    releases the claim.  Already-held comments are not handed out again (see ``list_queue(claimed_by=)``)."""
    limit = pagination.check_limit(limit, "limit", maximum=MAX_CLAIM)
    if not 1 <= lease_s <= 86_400:
        raise validation_error([{"field": "lease_s", "message": "must be between 1 and 86400 seconds"}])
    rows = await conn.fetch(Q.claim_pending, moderator_id, limit, float(lease_s))
    return [_item(r) for r in rows]


async def release(conn: asyncpg.Connection, moderator_id: int, ids: list[int]) -> list[int]:
    """Give back claims early (e.g. the moderator logs out); returns the ids actually released."""
    return [r["id"] for r in await conn.fetch(Q.release_claims, moderator_id, ids)]


async def get_comment(conn: asyncpg.Connection, comment_id: int) -> dict[str, Any]:
    """Full detail: the queue item plus every decision (model version, scores, thresholds, reasons), any
    block on the author or their IP hash, and readers' reports.  404 problem when unknown."""
    row = await conn.fetchrow(Q.queue_select + " WHERE c.id = $1", comment_id)
    if row is None:
        raise Problem("not-found", f"no comment with id {comment_id}")
    item = _item(row)
    item["decisions"] = [
        {"id": d["id"], "actor": d["actor"], "action": d["action"], "from_status": d["from_status"],
         "to_status": d["to_status"],
         "scores": None if d["spam_score"] is None else {"spam": round(d["spam_score"], 4),
                                                         "abuse": round(d["abuse_score"], 4)},
         "attributes": attributes_json(d["attributes"]),
         "model_version": d["model_version"], "thresholds": d["thresholds"], "reasons": d["reasons"],
         "note": d["note"], "created_at": _iso(d["created_at"])}
        for d in await conn.fetch(Q.comment_decisions, comment_id)]
    item["blocks"] = [{"kind": b["kind"], "value": b["value"], "reason": b["reason"], "created_by": b["created_by"],
                       "created_at": _iso(b["created_at"])}
                      for b in await conn.fetch(Q.comment_blocks, row["author_id"], row["author_ip_hash"])]
    item["reports"] = [{"reason": r["reason"], "note": r["note"], "reader": r["reader_id"],
                        "reader_kind": r["reader_kind"], "weight": r["weight"], "created_at": _iso(r["created_at"])}
                       for r in await conn.fetch(Q.reports_of_comment, comment_id)]
    return item
