"""Challenge and token state in Postgres: issue, count renders, answer, consume tokens.

Expired rows are deleted by the retention worker (moderation/privacy/retention.py).

Domain functions take plain values and a connection/pool; the HTTP handlers stay thin.  The database does
the concurrency: answering locks the challenge row (``FOR UPDATE``) so 100 concurrent correct answers
produce one token; consuming a token is one conditional ``UPDATE ... RETURNING`` so exactly one caller wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from moderation.challenges import codes
from moderation.core.config import Config
from moderation.core.problems import Problem
from moderation.core.sql import Q

MAX_ATTEMPTS = 5
MAX_IMAGE_RENDERS = 3   # first view + two reloads: each render is one more independent OCR read (captcha_attack)
MAX_AUDIO_RENDERS = 3


@dataclass(frozen=True)
class Issued:
    id: str
    expires_at: datetime
    code_length: int


@dataclass(frozen=True)
class Token:
    token: str
    expires_at: datetime


async def issue_limited(conn: asyncpg.Connection | asyncpg.Pool, config: Config, *, bucket: str, limit: int,
                        window_s: float, what: str, article_id: str, action: str, cdata: str | None,
                        hostname: str | None, ip_hash: str | None = None, after_proof: bool = False) -> Issued:
    """Rate-limit check + challenge insert in one statement (one round trip, one commit): the hit is counted
    and the challenge inserted only when within ``limit``; otherwise the same 429 problem as ``enforce``.

    ``after_proof``: the code step the service asked for after a risky proof of work (its token's method is
    then ``proof+code``, and it is not counted as a code-only token)."""
    key = config.hashing_key
    challenge_id, salt, length = codes.new_challenge_id(), codes.new_salt(), config.challenge_code_length
    code = codes.derive_code(key, challenge_id, salt, length)
    row = await conn.fetchrow(Q.challenge_issue, challenge_id, salt, codes.code_hash(key, code), length,
                              article_id, action, cdata, hostname, float(config.challenge_ttl_s), bucket,
                              float(window_s), limit, ip_hash, after_proof)
    if row["id"] is None:
        seconds = max(1, math.ceil(max(row["seconds_left"], 0.0)))
        raise Problem("rate-limited", f"Too many {what}: at most {limit} per {window_s:g} s; "
                      f"retry in {seconds} s.", headers={"Retry-After": str(seconds)}, retry_after=seconds)
    return Issued(row["id"], row["expires_at"], length)


def _refuse_state(row: Any) -> None:
    """Raise the problem that says why a challenge can no longer be answered or rendered."""
    if row["answered_at"] is not None:
        raise Problem("challenge-answered", "This challenge was already solved; request a new one to post again.")
    if row["attempts"] >= MAX_ATTEMPTS:
        raise Problem("challenge-burned", f"{MAX_ATTEMPTS} wrong answers: this challenge is void; "
                      "request a new one.", attempts_left=0)
    if row["expired"]:
        raise Problem("challenge-expired", "The code has expired; request a new one.")


def _not_found(challenge_id: str) -> Problem:
    return Problem("not-found", "No such challenge (unknown id, or expired and cleaned up).")


async def code_to_render(conn: asyncpg.Connection | asyncpg.Pool, config: Config, challenge_id: str,
                         kind: str) -> str:
    """Count one render of ``kind`` ('image'/'audio') and return the code to draw, or raise why not."""
    row = await conn.fetchrow(Q.challenge_count_render, challenge_id, kind, MAX_ATTEMPTS)
    if row is None:
        row = await conn.fetchrow(Q.challenge_get, challenge_id)
        if row is None:
            raise _not_found(challenge_id)
        _refuse_state(row)
        raise _not_found(challenge_id)  # pragma: no cover - the UPDATE and the SELECT disagree only in a race
    renders, limit = ((row["image_renders"], MAX_IMAGE_RENDERS) if kind == "image"
                      else (row["audio_renders"], MAX_AUDIO_RENDERS))
    if renders > limit:
        raise Problem("render-limit", f"This challenge's {kind} was fetched {limit} times already; "
                      "request a new challenge.")
    return codes.code_for(config.hashing_key, row)


async def answer(pool: asyncpg.Pool, config: Config, challenge_id: str, code: str) -> Token:
    """Check ``code``; on success mark the challenge answered and issue its single-use token.

    Wrong answers count (in the same transaction) and raise ``wrong-code`` with ``attempts_left``."""
    key = config.hashing_key
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(Q.challenge_lock, challenge_id)
            if row is None:
                raise _not_found(challenge_id)
            _refuse_state(row)
            if codes.matches(key, code, row["code_hash"]):
                method = "proof+code" if row["after_proof"] else "code"
                await take_token_budget(conn, config, row["ip_hash"], method)
                await conn.fetchval(Q.challenge_solved, challenge_id)
                return await mint(conn, config, challenge_id=challenge_id, article_id=row["article_id"],
                                  action=row["action"], cdata=row["cdata"], hostname=row["hostname"],
                                  method=method, ip_hash=row["ip_hash"])
            attempts = await conn.fetchval(Q.challenge_wrong, challenge_id)
        left = max(MAX_ATTEMPTS - attempts, 0)
        detail = (f"That is not the code; {left} attempt{'s' if left != 1 else ''} left." if left
                  else f"That is not the code, and that was the last of {MAX_ATTEMPTS} attempts: "
                       "request a new code.")
        raise Problem("wrong-code", detail, attempts_left=left)


TOKEN_WINDOW_S = 3600.0


async def take_token_budget(conn: asyncpg.Connection, config: Config, ip_hash: str | None, method: str) -> None:
    """Count one token against the address's hourly budgets, or raise 429 when one is spent.

    Every token counts against ``MODERATION_TOKENS_PER_HOUR``; in ``proof+code`` mode a token earned by the
    code alone (no proof: a reader without JavaScript, or a script skipping the proof) also counts against
    the much smaller ``MODERATION_CODE_ONLY_PER_HOUR``.  Run it inside the transaction that mints the token,
    so a refused or failed mint gives the budget back."""
    if ip_hash is None:
        return
    budgets = [("tok", config.tokens_per_hour, "confirmations")]
    if method == "code" and config.confirmation == "proof+code":
        budgets.append(("tok-code", config.code_only_per_hour, "confirmations by code alone"))
    for prefix, limit, what in budgets:
        if await conn.fetchval(Q.sliding_take, f"{prefix}:ip:{ip_hash}", TOKEN_WINDOW_S, float(limit)) is None:
            raise Problem("rate-limited", f"Too many {what} from your address: at most {limit} an hour. "
                          "Try again later.", headers={"Retry-After": "600"}, retry_after=600)


async def mint(conn: asyncpg.Connection, config: Config, *, challenge_id: str, article_id: str, action: str,
               cdata: str | None, hostname: str | None, method: str, ip_hash: str | None,
               author_id: str | None = None) -> Token:
    """Insert a new single-use token (stored as a keyed hash) and return it."""
    token = codes.new_token()
    t = await conn.fetchrow(Q.token_insert, codes.token_hash(config.hashing_key, token), challenge_id, article_id,
                            action, cdata, hostname, float(config.token_ttl_s), method, ip_hash, author_id)
    return Token(token, t["expires_at"])


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a token: ``ok`` with its row, or the Turnstile error code saying why not."""

    ok: bool
    row: Any = None
    error: str | None = None      # 'invalid-input-response' | 'timeout-or-duplicate'
    reason: str = ""              # for people: why exactly


async def consume(conn: asyncpg.Connection | asyncpg.Pool, config: Config, token: str, *,
                  article_id: str | None, action: str | None, used_by: str,
                  idempotency_key: str | None = None) -> Verdict:
    """Use a token once.  ``article_id``/``action`` (when given) must match what the challenge was issued for.

    With an ``idempotency_key`` a second siteverify call carrying the same key gets the first verdict again
    (Turnstile's documented retry behaviour); without one, a second use is ``timeout-or-duplicate``."""
    if not token.startswith("mct_") or len(token) > 512:
        return Verdict(False, error="invalid-input-response", reason="not a token issued by this service")
    token_hash = codes.token_hash(config.hashing_key, token)
    row = await conn.fetchrow(Q.token_consume, token_hash, article_id, action, used_by, idempotency_key)
    if row is not None:
        return Verdict(True, row)
    row = await conn.fetchrow(Q.token_get, token_hash)
    if row is None:
        return Verdict(False, error="invalid-input-response", reason="unknown token")
    if row["used_at"] is not None:
        if (idempotency_key is not None and row["used_by"] == used_by
                and row["idempotency_key"] is not None and row["idempotency_key"] == idempotency_key):
            return Verdict(True, row)
        return Verdict(False, row, "timeout-or-duplicate", "the token was already used")
    if row["expired"]:
        return Verdict(False, row, "timeout-or-duplicate", "the token has expired")
    if article_id is not None and row["article_id"] != article_id:
        return Verdict(False, row, "invalid-input-response", "the token was issued for another article")
    if action is not None and row["action"] != action:
        return Verdict(False, row, "invalid-input-response",
                       f"the token was issued for action {row['action']!r}, not {action!r}")
    return Verdict(False, row, "timeout-or-duplicate", "the token was used concurrently")
