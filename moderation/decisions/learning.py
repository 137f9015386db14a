"""Learning from moderators: their decisions become labels, a retrained model runs in shadow, then is promoted.

- ``moderation train --include-decisions`` exports every comment's latest moderator decision as a label
  (spam → spam; not_spam → ham; approve → ham and clean; reject → abusive) and trains with them.
- ``moderation model shadow DIR`` registers a trained model as the shadow: on the next start every
  instance scores each new comment with both; only the active model decides, the shadow's would-be
  status is stored beside it (``shadow_scores``).
- ``moderation model report`` shows the agreement and what would have changed; ``moderation model
  promote`` makes the shadow the active model (instances pick it up when restarted).
Every decision row keeps the model version it was made with, so past decisions stay explainable.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.sql import Q
from moderation.decisions.decide import Signals, decide
from moderation.decisions.payload import attributes_json
from moderation.decisions.scores import from_classifier
from moderation.decisions.scores import signals as signals_of

log = logging.getLogger(__name__)

LABELS = {"spam": ("spam",), "not_spam": ("ham",), "approve": ("ham", "clean"), "reject": ("abusive",)}


async def export_labels(conn: asyncpg.Connection, path: Path) -> int:
    """Write ``text,label`` rows for classifier training; returns the number of rows."""
    rows = await conn.fetch(Q.moderator_labels)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for row in rows:
            for label in LABELS[row["action"]]:
                writer.writerow([row["text"], label])
                count += 1
        # feedback sent through the Perspective/Akismet protocols (suggestscore, submit-spam/-ham): see
        # moderation/compat/labels.py for how a suggestion becomes a label
        for row in await conn.fetch(Q.compat_training_labels):
            writer.writerow([row["text"], row["label"]])
            count += 1
    return count


async def registered(conn: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    return {r["role"]: dict(r) for r in await conn.fetch(Q.registered_models)}


async def register_shadow(conn: asyncpg.Connection, model_dir: Path) -> str:
    from classifier import load_model

    model = load_model(model_dir)  # refuses a tampered or broken artifact before anyone relies on it
    async with conn.transaction():
        await conn.execute(Q.retire_shadow)
        await conn.execute(Q.register_shadow, model.version, str(model_dir.resolve()), model.metadata)  # noqa: ASYNC240
    return model.version


async def promote(conn: asyncpg.Connection) -> dict[str, Any] | None:
    async with conn.transaction():
        await conn.execute(Q.retire_active)
        row = await conn.fetchrow(Q.promote_shadow)
    return dict(row) if row else None


async def report(conn: asyncpg.Connection) -> dict[str, Any]:
    models = await registered(conn)
    shadow = models.get("shadow")
    if shadow is None:
        return {"shadow": None}
    pairs = [dict(r) for r in await conn.fetch(Q.shadow_report, shadow["version"])]
    total = sum(p["n"] for p in pairs)
    agree = sum(p["n"] for p in pairs if p["active_status"] == p["would_status"])
    return {"shadow": shadow["version"], "active": models.get("active", {}).get("version", "shipped default"),
            "compared": total, "agreement": round(agree / total, 4) if total else None,
            "would_change": [p for p in pairs if p["active_status"] != p["would_status"]]}


async def shadow_score(app: web.Application, comment_id: int, text: str, signals: Signals, active_status: str) -> None:
    """Score with the shadow model and store what it would have decided.  Off the request path."""
    shadow = app.get(keys.SHADOW_MODEL)
    if shadow is None:
        return
    try:
        loop = asyncio.get_running_loop()
        scored = from_classifier((await loop.run_in_executor(app[keys.EXECUTOR], shadow.score, [text]))[0])
        config = app[keys.CONFIG]
        would = decide(signals_of(scored, banned_hits=signals.banned_hits, suspect_hits=signals.suspect_hits,
                                  repeat_authors=signals.repeat_authors, blocked=signals.blocked),
                       app[keys.THRESHOLDS], premoderation=config.premoderation,
                       unsupported_language=config.unsupported_language)
        await app[keys.POOL].execute(Q.insert_shadow_score, comment_id, shadow.version, scored.spam, scored.abuse,
                                     would.status, active_status, attributes_json(scored.attributes))
    except Exception as exc:  # a shadow is advisory: it never affects intake
        log.warning("shadow scoring failed: %s", exc.__class__.__name__)
