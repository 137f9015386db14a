"""Feedback from the compat protocols becomes training labels (``moderation train --include-decisions``).

One row per call in ``compat_labels``: the text, its language, ``attributes`` (``{"spam": 1|0,
"toxicity": 1|0, ...}``; a missing key is unknown, so that head is not trained on the row) and ``label``
(spam|ham|abusive|clean, the first that applies) for trainers that read one label per text.

- Perspective ``comments:suggestscore``: a suggested TOXICITY under 0.5 says the text is not abusive at all
  (every abuse attribute 0: Coral sends 0 when a moderator approves); 0.5 or more says toxicity 1; another
  abuse attribute at 0.5 or more says that attribute and toxicity 1 (an insult is toxic); SPAM says spam 1/0.
- Akismet ``submit-spam`` -> spam 1; ``submit-ham`` -> spam 0 (Akismet says nothing about abuse).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from moderation.compat.apikeys import ApiKey
from moderation.compat.perspective_shapes import ABUSE_ATTRIBUTES
from moderation.core.sql import Q


def from_perspective(suggested: dict[str, float]) -> dict[str, int]:
    """Our attribute -> suggested probability  ==>  our attribute -> 1/0 (unknown ones left out)."""
    out: dict[str, int] = {}
    toxicity = suggested.get("toxicity")
    if toxicity is not None and toxicity < 0.5:
        out.update(dict.fromkeys(ABUSE_ATTRIBUTES, 0))
    for attribute, value in suggested.items():
        if attribute == "spam":
            out["spam"] = int(value >= 0.5)
        elif value >= 0.5:
            out[attribute] = 1
            out["toxicity"] = 1
        elif attribute != "toxicity":
            out.setdefault(attribute, 0)
    return out


def label_of(attributes: dict[str, int]) -> str:
    if attributes.get("spam") == 1:
        return "spam"
    if any(attributes.get(a) == 1 for a in ABUSE_ATTRIBUTES):
        return "abusive"
    if attributes.get("spam") == 0:
        return "ham"
    return "clean"


async def store(conn: asyncpg.Connection | asyncpg.Pool, key: ApiKey, *, protocol: str, text: str, language: str,
                attributes: dict[str, int], client_token: str | None = None,
                community_id: str | None = None) -> int:
    return await conn.fetchval(Q.compat_label_insert, key.id, protocol, text, language or "", label_of(attributes),
                               attributes, (client_token or "")[:500] or None, (community_id or "")[:500] or None)


async def training_rows(conn: asyncpg.Connection | asyncpg.Pool) -> list[dict[str, Any]]:
    """``text, language, label, attributes`` of every stored compat label, oldest first."""
    return [dict(r) for r in await conn.fetch(Q.compat_training_labels)]
