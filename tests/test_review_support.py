"""Seeding helpers shared by the review and outbox tests: comments straight into Postgres (no model)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def seed_comments(db: asyncpg.Connection, n: int = 1, *, status: str = "pending", article: str = "art-1",
                        author: str = "reader-1", text: str = "comment number {i}", spam: float | None = 0.6,
                        abuse: float | None = 0.1, parent: str | None = None, reason_codes: tuple[str, ...] = ("spam",),
                        prefix: str = "c", start: int = 0, ip_hash: str | None = "iphash-1") -> list[int]:
    """Insert ``n`` comments (risk rises with i when spam is given as a float) and return their ids.

    ``db`` must have the JSON codecs of the ``db`` fixture (jsonb parameters are Python objects)."""
    await db.execute("INSERT INTO articles (id, url, title) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                     article, f"https://news.example/{article}", f"Article {article}")
    ids = []
    for i in range(start, start + n):
        reasons = [{"code": c, "message": f"held: {c}"} for c in reason_codes]
        s = None if spam is None else min(0.99, spam + i / 10_000)
        row_id = await db.fetchval(
            """INSERT INTO comments (external_id, article_id, parent_external_id, author_id, author_name,
                                     author_ip_hash, text, fingerprint, status, spam_score, abuse_score,
                                     model_version, reasons, reason_codes, thresholds, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'test-model', $12::jsonb, $13, $14::jsonb, now())
               RETURNING id""",
            f"{prefix}-{i}", article, parent, author, "Ann Reader", ip_hash, text.format(i=i), f"fp-{prefix}-{i}",
            status, s, abuse, reasons, list(reason_codes), {"spam_reject": 0.9, "spam_hold": 0.5, "abuse_hold": 0.5})
        await db.execute("""INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score,
                                                   abuse_score, model_version, reasons)
                            VALUES ($1, 'system', 'created', NULL, $2, $3, $4, 'test-model', '[]')""",
                         row_id, status, s, abuse)
        ids.append(row_id)
    return ids


def actor(mod_id: int = 1) -> str:
    return f"moderator:{mod_id}"


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
