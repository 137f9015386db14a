"""The classifier's rule layer fed from Postgres: word lists (cached briefly) and repeated-text counts."""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from classifier.rules import WordLists
from moderation.core.sql import Q

CACHE_SECONDS = 5.0  # edits made on another instance show up within this many seconds


class RulesCache:
    def __init__(self) -> None:
        self._lists: WordLists | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    async def word_lists(self, conn: asyncpg.Connection | asyncpg.Pool) -> WordLists:
        if self._lists is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            rows = await conn.fetch(Q.word_lists)
            banned = [r["term"] for r in rows if r["list"] == "banned"]
            suspect = [r["term"] for r in rows if r["list"] == "suspect"]
            self._lists = WordLists(banned=banned, suspect=suspect)
            self._loaded_at = time.monotonic()
        return self._lists


async def seed_default_word_lists(conn: asyncpg.Connection) -> None:
    """A fresh database starts with the classifier's modest default lists; moderators edit from there."""
    if not await conn.fetchval(Q.word_lists_empty):
        return
    try:
        from classifier import rules_default
    except ImportError:  # the classifier ships without default lists: start empty
        return
    defaults: dict[str, Any] = {
        "banned": getattr(rules_default, "BANNED", []),
        "suspect": getattr(rules_default, "SUSPECT", []),
    }
    await conn.executemany(Q.seed_word_list, [(lst, term) for lst, terms in defaults.items() for term in terms])
