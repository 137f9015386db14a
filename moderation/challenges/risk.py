"""When a proof of work is not enough: the signals that make the service ask for the code as well.

Each signal is cheap to read (sliding-window counters in ``rate_limits``, the per-author status counts) and
says something a proof cannot: a proof is bought with CPU, and a script has CPU.  So a proof earns a token
on its own only when the request looks like a reader's:

* ``many-challenges`` — more than ``MODERATION_POW_RISK_IP_CHALLENGES`` proof challenges from this IP hash in
  the last hour (a person comments a few times an hour; a farm asks again and again);
* ``failed-proof`` — a forged, expired, replayed or wrong-article payload from this IP hash in the last hour;
* ``too-fast`` — the number found implies more hashes per second (from issue to redemption) than
  ``MODERATION_POW_MAX_HASH_RATE``: native code or a GPU, not a browser (a browser tops out near 5-10 M/s);
* ``held-author`` — the CMS reader named by ``author_id`` has comments held for review or rejected as spam.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg

from moderation.challenges.proof import Proof
from moderation.core.config import Config
from moderation.core.sql import Q

WINDOW_S = 3600.0

MESSAGES = {
    "many-challenges": "many confirmations were asked from your address in the last hour",
    "failed-proof": "a confirmation from your address failed recently",
    "too-fast": "the confirmation was solved faster than a browser can",
    "held-author": "some of your comments are waiting for a moderator",
}


def ip_bucket(ip_hash: str) -> str:
    return f"pow:ip:{ip_hash}"      # '<scope>:ip:<hash>' like every per-address bucket (privacy.sql erases them)


def fail_bucket(ip_hash: str) -> str:
    return f"pow-fail:ip:{ip_hash}"


def article_bucket(article_id: str) -> str:
    return f"pow-art:{article_id}"


@dataclass(frozen=True)
class Risk:
    signals: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.signals)

    @property
    def reason(self) -> str:
        return "; ".join(MESSAGES[s] for s in self.signals)


def implied_hash_rate(proof: Proof, now: float | None = None) -> float:
    """Hashes per second the solver must have managed: at least ``number`` hashes since the challenge was
    issued (it may have started at 0; ALTCHA's widget splits the range between workers, which only lowers
    what this assumes)."""
    elapsed = max(((time.time() if now is None else now) * 1000 - proof.issued_ms) / 1000, 0.001)
    return proof.number / elapsed


async def assess(conn: asyncpg.Connection | asyncpg.Pool, config: Config, proof: Proof, ip_hash: str,
                 author_id: str | None) -> Risk:
    signals: list[str] = []
    rows = await conn.fetch(Q.sliding_peek, [ip_bucket(ip_hash), fail_bucket(ip_hash)], WINDOW_S)
    recent = {r["bucket"]: r["estimate"] for r in rows}
    if recent.get(ip_bucket(ip_hash), 0.0) > config.pow_risk_ip_challenges:
        signals.append("many-challenges")
    if recent.get(fail_bucket(ip_hash), 0.0) >= 1.0:
        signals.append("failed-proof")
    if implied_hash_rate(proof) > config.pow_max_hash_rate:
        signals.append("too-fast")
    if author_id is not None and await conn.fetchval(Q.author_held_comments, author_id) > 0:
        signals.append("held-author")
    return Risk(tuple(signals))


async def record_failure(conn: asyncpg.Connection | asyncpg.Pool, ip_hash: str) -> None:
    await conn.fetch(Q.sliding_hits, [fail_bucket(ip_hash)], WINDOW_S)
