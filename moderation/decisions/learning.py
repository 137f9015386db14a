"""Learning from moderators: their decisions become labels, a retrained model runs in shadow, then is promoted.

- ``moderation train --include-decisions`` exports every comment's latest moderator decision as labels per
  attribute — the action and the moderator's reason ("threat" → threat = 1, toxicity = 1; see
  ``decisions/labels.py``) — plus the Perspective/Akismet protocols' feedback, and trains with them.
- ``moderation model shadow DIR`` registers a trained model as the shadow: on the next start every
  instance scores each new comment with both; only the active model decides, the shadow's would-be
  status is stored beside it (``shadow_scores``).
- ``moderation model report`` shows the agreement (overall and per attribute: how often the two models
  land on the same side of the attribute's hold threshold, the mean score difference, how many each would
  hold) and what would have changed; ``moderation model promote`` prints the same comparison and makes the
  shadow the active model (instances pick it up when restarted).
Every decision row keeps the model version it was made with, so past decisions stay explainable.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.sql import Q
from moderation.decisions import labels
from moderation.decisions.decide import Signals, decide
from moderation.decisions.payload import attributes_json
from moderation.decisions.scores import from_classifier
from moderation.decisions.scores import signals as signals_of

log = logging.getLogger(__name__)


async def export_labels(conn: asyncpg.Connection, path: Path) -> int:
    """Write the training labels (moderators' decisions, then the feedback sent through the
    Perspective/Akismet protocols: see moderation/compat/labels.py) as the CSV
    ``classifier.corpus.load_labelled_decisions`` reads; returns the number of rows."""
    rows: list[tuple[str, str | None, dict[str, Any]]] = [
        (r["text"], r["language"], labels.from_decision(r["action"], r["note"]))
        for r in await conn.fetch(Q.moderator_labels)]
    rows += [(r["text"], r["language"], dict(r["attributes"] or {}))
             for r in await conn.fetch(Q.compat_training_labels)]
    return labels.write_csv(path, rows)


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
    """Make the shadow the active model; returns it with the comparison it was promoted on (``report``)."""
    compared = await report(conn)
    async with conn.transaction():
        await conn.execute(Q.retire_active)
        row = await conn.fetchrow(Q.promote_shadow)
    return {**dict(row), "compared": compared} if row else None


async def report(conn: asyncpg.Connection) -> dict[str, Any]:
    models = await registered(conn)
    shadow = models.get("shadow")
    if shadow is None:
        return {"shadow": None}
    pairs = [dict(r) for r in await conn.fetch(Q.shadow_report, shadow["version"])]
    total = sum(p["n"] for p in pairs)
    agree = sum(p["n"] for p in pairs if p["active_status"] == p["would_status"])
    attributes = {r["attribute"]: {"compared": r["n"], "agreement": round(r["agree"] / r["n"], 4),
                                   "mean_abs_difference": round(r["mean_abs_diff"], 4),
                                   "active_holds": r["active_holds"], "shadow_holds": r["shadow_holds"]}
                  for r in await conn.fetch(Q.shadow_attribute_report, shadow["version"]) if r["n"]}
    return {"shadow": shadow["version"], "active": models.get("active", {}).get("version", "shipped default"),
            "compared": total, "agreement": round(agree / total, 4) if total else None,
            "attributes": attributes,
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
