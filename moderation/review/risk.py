"""The queue's risk: one number per comment that says which held comment to read first, and why.

**risk = the comment's highest attribute probability**, and the card names that attribute: a comment held for
``threat 0.98`` with toxicity 0.71 shows *0.98 threat* in red and sorts above one held for spam 0.86.  The
attributes are the classifier's calibrated per-attribute probabilities (toxicity, severe_toxicity, insult,
threat, identity_attack, profanity, sexually_explicit, spam; only those scored for the comment's language), so
the number reads as "the model is 98 % sure this is a threat", the same figure the reason quotes
("held: threat 0.98 ≥ 0.89").  Before, risk was max(spam, abuse), and abuse is toxicity only: the attribute that
held a comment was often not in it.

Special cases: a comment scored by a model from before per-attribute scores (``attributes`` NULL) keeps
max(spam, abuse); a comment the model did not score (the classifier was unavailable, or its language has no
heads: empty ``attributes``) counts as 1, as unscored comments always have — nothing vouches for it, so it is
read early.  Colours (:func:`moderation.review.views.helpers.risk_class`): red from 0.8, amber from the hold
threshold of the attribute named, green below.

Why not the score relative to its hold threshold (``max(score / threshold)``)?  A ratio is not a probability
and means nothing to a moderator without the table of thresholds; the thresholds in force lie close together
(0.75-0.95), so the two orders rarely differ, and where they do the reasons say which threshold was crossed.

Where it is computed: in Postgres, by ``queue_risk_of()`` (schema.sql, migration 0170), into
``comments.queue_risk``, which intake (``intake_store()``) fills for every new comment and the decision writer
(``decision_write()``) refreshes on every status change; :func:`risk_of` is the same rule in Python (the UI
uses it to name the attribute).  Comments stored before 0170 are filled by :func:`backfill` (the worker of
:func:`backfill_ctx`, on every start, in small committed batches); until then the queue reads
``coalesce(queue_risk, risk)``, i.e. their old max(spam, abuse).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any, NamedTuple

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.background import workers
from moderation.core.sql import Q
from moderation.decisions.decide import ATTRIBUTES

log = logging.getLogger(__name__)

BATCH = 1000               # rows per committed backfill batch (row locks held for milliseconds)
PAUSE_S = 0.05             # between batches: live traffic first
FIRST_RUN_MAX_DELAY_S = 5.0
MAX_PASSES = 5             # rows skipped because someone held their lock are retried by the next pass


class Risk(NamedTuple):
    value: float
    attribute: str | None  # the attribute the value is; "spam"/"abuse" for an old model; None when unscored


def risk_of(attributes: Mapping[str, Any] | None, spam: float | None, abuse: float | None) -> Risk:
    """The queue's risk of a comment and the attribute it comes from (``queue_risk_of()`` in SQL): the highest
    of the classifier's attributes (:data:`~moderation.decisions.decide.ATTRIBUTES`; other keys and values that
    are not numbers are ignored), the first of equal ones in that order."""
    if isinstance(attributes, Mapping):
        scored = [(float(attributes[a]), a) for a in ATTRIBUTES
                  if isinstance(attributes.get(a), int | float) and not isinstance(attributes.get(a), bool)]
        if not scored:
            return Risk(1.0, None)
        value, attribute = max(scored, key=lambda s: s[0])  # max() keeps the first of equal scores
        return Risk(value, attribute)
    if spam is None or abuse is None:  # unscored (greatest(coalesce(spam, 1), coalesce(abuse, 1)) in SQL)
        return Risk(1.0, None)
    return Risk(spam, "spam") if spam >= abuse else Risk(abuse, "abuse")


async def backfill_batch(conn: asyncpg.Connection | asyncpg.Pool, after_id: int, batch: int = BATCH,
                         ) -> tuple[int, int | None]:
    """Fill ``queue_risk`` of up to ``batch`` comments with an id above ``after_id`` that have none, in one
    committed statement; rows locked by someone else are skipped.  Returns (rows filled, the last id)."""
    row = await conn.fetchrow(Q.queue_risk_backfill, after_id, batch)
    return row["filled"], row["last_id"]


async def backfill(conn: asyncpg.Connection | asyncpg.Pool, *, batch: int = BATCH, pause_s: float = 0.0) -> int:
    """Fill ``queue_risk`` of every comment that has none (those stored before migration 0170), batch after
    batch in id order; returns how many were filled.  A pass that found nothing ends it (one probe of the empty
    index ``comments_queue_risk_unset`` once it is done).  Several instances may run it at once."""
    total = 0
    for _ in range(MAX_PASSES):
        filled_in_pass, after = 0, 0
        while True:
            filled, last = await backfill_batch(conn, after, batch)
            filled_in_pass += filled
            if last is None or filled < batch:
                break
            after = last
            await asyncio.sleep(pause_s)
        total += filled_in_pass
        if filled_in_pass == 0:
            break
    return total


async def _run(app: web.Application) -> None:
    await asyncio.sleep(random.uniform(0, FIRST_RUN_MAX_DELAY_S))  # not all instances at once, not mid-start
    try:
        filled = await backfill(app[keys.POOL], pause_s=PAUSE_S)
    except Exception as exc:  # the database may be away: the next start tries again, the queue reads risk
        log.warning("queue risk backfill failed: %s (the next start resumes it)", exc.__class__.__name__)
        return
    if filled:
        log.info("queue risk: filled %d comments stored before migration 0170", filled)


async def backfill_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: this instance's backfill, started after the pool, cancelled before it closes."""
    async with workers(queue_risk_backfill=_run(app)):
        yield
