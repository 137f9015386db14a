"""The banned/suspect word lists used by the classifier's rule layer, editable by moderators.

Terms are stored lower-cased and trimmed (the rule layer matches case-insensitively and normalises
leetspeak itself).  After an edit, callers in the web app must invalidate ``app[keys.RULES]`` so this
instance picks the change up at once; other instances see it within ``rules_cache.CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from moderation.core import audit
from moderation.core.problems import Problem, validation_error
from moderation.core.sql import Q

LISTS = ("banned", "suspect")
MAX_TERM_CHARS = 100


def validate(list_name: Any, term: Any) -> tuple[str, str]:
    errors: list[dict[str, str]] = []
    if list_name not in LISTS:
        errors.append({"field": "list", "message": f"must be one of {', '.join(LISTS)}"})
    clean = " ".join(term.split()).lower() if isinstance(term, str) else ""
    if not clean:
        errors.append({"field": "term", "message": "must be a non-empty string"})
    elif len(clean) > MAX_TERM_CHARS or "\x00" in clean:
        errors.append({"field": "term", "message": f"must be at most {MAX_TERM_CHARS} characters, without NUL"})
    if errors:
        raise validation_error(errors)
    return list_name, clean


def _entry(row: asyncpg.Record) -> dict[str, Any]:
    return {"list": row["list"], "term": row["term"], "created_by": row["created_by"],
            "created_at": row["created_at"].isoformat()}


async def list_terms(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """``{"banned": [entries], "suspect": [entries]}``, alphabetical."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS}
    for row in await conn.fetch(Q.word_list_entries):
        out[row["list"]].append(_entry(row))
    return out


async def add(conn: asyncpg.Connection, list_name: str, term: str, actor: str) -> tuple[dict[str, Any], bool]:
    """Add a term; returns ``(entry, created)`` — adding an existing term is a no-op, not an error."""
    list_name, term = validate(list_name, term)
    async with conn.transaction():
        row = await conn.fetchrow(Q.word_list_add, list_name, term, actor)
        if row is None:
            existing = await conn.fetchrow(Q.word_list_get, list_name, term)
            return _entry(existing), False
        await audit.record(conn, actor, "word_list.add", "word_list", f"{list_name}:{term}", before=None,
                           after=_entry(row))
    return _entry(row), True


async def remove(conn: asyncpg.Connection, list_name: str, term: str, actor: str) -> dict[str, Any]:
    """Remove a term; 404 problem when it is not on the list."""
    list_name, term = validate(list_name, term)
    async with conn.transaction():
        row = await conn.fetchrow(Q.word_list_remove, list_name, term)
        if row is None:
            raise Problem("not-found", f"{term!r} is not on the {list_name} list")
        await audit.record(conn, actor, "word_list.remove", "word_list", f"{list_name}:{term}",
                           before=_entry(row), after=None)
    return _entry(row)
