"""Retention: one background task deletes what the service no longer needs, on configurable schedules.

Every ``MODERATION_RETENTION_INTERVAL`` seconds each instance deletes, in bounded batches, the rows past
their retention age (README "Data retention and erasure" has the table; the ages are Config fields):

* webhook receipts (idempotency answers) after ``retain_receipts_days``;
* rate-limit windows once the longest window in use is over (``retain_rate_limits_s``);
* moderator sessions past their idle or absolute expiry;
* login back-off state a day after the pair's last failure;
* confirmation challenges, their tokens and redeemed proofs ``retain_challenges_s`` after they expired;
* delivered callbacks (outbox rows) after ``retain_outbox_days`` (failed ones stay for an admin);
* the reactions abuse log after ``retain_abuse_log_days``.

Each batch is its own statement with ``FOR UPDATE SKIP LOCKED``: several instances pruning at once split
the work, nobody waits on live traffic's row locks, and no session state is needed (PgBouncer-safe).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from moderation.core import keys
from moderation.core.background import workers
from moderation.core.config import Config
from moderation.core.sql import Q

log = logging.getLogger(__name__)

BATCH = 5000
DAY_S = 86_400.0
FIRST_RUN_MAX_DELAY_S = 60.0  # spread the first round of instances started together


@dataclass(frozen=True)
class Schedule:
    what: str        # the name in logs, metrics and README
    statement: str   # a Q name taking ($1 age seconds, $2 batch)
    age_s: float     # rows older than this (past the column the statement names) are deleted


def schedules(config: Config) -> tuple[Schedule, ...]:
    """What is pruned, and after how long, under ``config``.  An age of 0 days for receipts, outbox or the
    abuse log keeps those rows forever (the schedule is left out)."""
    found = [
        Schedule("webhook_receipts", "retention_receipts", config.retain_receipts_days * DAY_S),
        Schedule("rate_limits", "retention_rate_limits", config.retain_rate_limits_s),
        Schedule("moderator_sessions", "retention_sessions", 0.0),
        Schedule("login_failures", "retention_login_failures", DAY_S),
        Schedule("challenges", "retention_challenges", config.retain_challenges_s),
        Schedule("challenge_tokens", "retention_challenge_tokens", config.retain_challenges_s),
        Schedule("proof_redemptions", "retention_proof_redemptions", config.retain_challenges_s),
        Schedule("outbox_delivered", "retention_outbox", config.retain_outbox_days * DAY_S),
        Schedule("reaction_abuse", "retention_reaction_abuse", config.retain_abuse_log_days * DAY_S),
    ]
    keep_forever = {"webhook_receipts": config.retain_receipts_days, "outbox_delivered": config.retain_outbox_days,
                    "reaction_abuse": config.retain_abuse_log_days}
    return tuple(s for s in found if keep_forever.get(s.what, 1) != 0)


async def _delete_all_due(pool: asyncpg.Pool | asyncpg.Connection, schedule: Schedule, batch: int) -> int:
    total = 0
    while True:
        status = await pool.execute(getattr(Q, schedule.statement), float(schedule.age_s), batch)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)  # let live traffic in between batches


async def prune_once(pool: asyncpg.Pool | asyncpg.Connection, config: Config, *,
                     batch: int = BATCH) -> dict[str, int]:
    """One round of every schedule; returns the rows deleted per schedule.  A failing schedule is logged and
    skipped (the next round retries it); the others still run."""
    deleted: dict[str, int] = {}
    for schedule in schedules(config):
        try:
            deleted[schedule.what] = await _delete_all_due(pool, schedule, batch)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            log.warning("retention: pruning %s failed: %s", schedule.what, exc.__class__.__name__)
    if any(deleted.values()):
        log.info("retention: deleted %s", ", ".join(f"{n} {what}" for what, n in deleted.items() if n))
    return deleted


async def _run_forever(app: web.Application) -> None:
    config = app[keys.CONFIG]
    metrics = app[keys.METRICS]
    await asyncio.sleep(random.uniform(0, min(FIRST_RUN_MAX_DELAY_S, config.retention_interval_s)))
    while True:
        try:
            for what, n in (await prune_once(app[keys.POOL], config)).items():
                if n:
                    metrics.child(metrics.retention_deleted, what).inc(n)
        except Exception as exc:  # never let the worker die: the database may be away for a while
            log.warning("retention round failed: %s", exc.__class__.__name__)
        await asyncio.sleep(config.retention_interval_s)


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """The retention worker of this instance: started after the pool, cancelled before it closes."""
    async with workers(retention=_run_forever(app)):
        yield
