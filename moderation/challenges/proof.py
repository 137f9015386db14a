"""ALTCHA-compatible proof of work (PoW v1): issue a challenge, check a solution, choose the difficulty.

The protocol is ALTCHA's (``altcha`` on PyPI, ``create_challenge_v1``; the widget in ``static/altcha``):

* challenge ``{algorithm: "SHA-256", challenge, maxnumber, salt, signature}`` where
  ``challenge = SHA-256(salt + str(number))`` for a secret ``number`` drawn uniformly from ``[0, maxnumber]``
  and ``signature = HMAC-SHA-256(key, challenge)``;
* the browser tries numbers until the hash matches and sends back base64 JSON
  ``{algorithm, challenge, number, salt, signature}``.

What the salt carries, as URL query parameters after its random hex part (so the HMAC covers them):
``expires`` (ALTCHA's own, Unix seconds), ``a`` the article id, ``act`` the action, ``ts`` when it was issued
(Unix milliseconds: a solution that came back faster than any browser hashes is a risk signal) and ``d`` the
difficulty level it was issued at.  The challenge is stateless until it is redeemed; single use is the
``proof_redemptions`` table (see ``store_proof``).

Checking a solution is one SHA-256 and one HMAC of ~100 bytes (~3 µs, measured in
``bench/captcha_attack.py``): cheaper than the JSON parsing around it, so it runs on the event loop.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from altcha import create_challenge_v1, hash_hex, hmac_hex

from moderation.core.hashing import same_secret

ALGORITHM = "SHA-256"
MAX_PAYLOAD_CHARS = 2048
_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Difficulty:
    """How hard the next challenge is, and why (shown in the challenge response and the metrics)."""

    maxnumber: int
    level: float          # log2(maxnumber / base): 0 at normal load
    ip_recent: float      # challenges issued to this IP hash in the sliding window (this one included)
    article_recent: float


def difficulty(base: int, cap: int, *, ip_recent: float, article_recent: float, ip_free: int,
               ip_doubling: float, article_free: int, article_max_doublings: float) -> Difficulty:
    """mCaptcha-style adaptive difficulty from how much was recently asked of us.

    * per IP hash: the first ``ip_free`` challenges of the window cost ``base``; every ``ip_doubling`` more
      double it, so one address's n-th token costs ~2^(n/ip_doubling) times more than its first;
    * per article: at up to ``article_free`` challenges per window the article adds nothing; above, the
      difficulty doubles each time the article's traffic doubles, at most ``article_max_doublings`` times
      (a hot article slows everyone a little; a brigade from many addresses pays more per comment).
    """
    ip_level = max(0.0, ip_recent - ip_free) / ip_doubling
    article_level = 0.0
    if article_recent > article_free > 0:
        article_level = min(article_max_doublings, math.log2(article_recent / article_free))
    level = ip_level + article_level
    maxnumber = cap if level >= 62 else min(cap, max(base, round(base * 2.0 ** level)))
    return Difficulty(maxnumber, math.log2(maxnumber / base) if base else 0.0, ip_recent, article_recent)


def issue(key: bytes, *, maxnumber: int, ttl_s: float, article_id: str, action: str, level: float,
          now: float | None = None) -> dict[str, Any]:
    """A fresh challenge as the ALTCHA widget expects it (``maxnumber`` and ``maxNumber`` both: widget 1.x
    reads the first, 2.x either, the Python library the second)."""
    now = time.time() if now is None else now
    params = {"a": article_id, "act": action, "ts": str(int(now * 1000)), "d": f"{level:.2f}"}
    challenge = create_challenge_v1(algorithm=ALGORITHM, max_number=maxnumber, salt_length=12, hmac_key=key,
                                    salt="", number=None, expires=_utc(now + ttl_s), params=params)
    body = challenge.to_dict()
    body["maxnumber"] = body["maxNumber"]
    return body


def _utc(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


class ProofError(ValueError):
    """Why a payload is refused: ``slug`` is the problem type, ``field`` the payload member at fault."""

    def __init__(self, slug: str, message: str, field: str = "payload") -> None:
        super().__init__(message)
        self.slug = slug
        self.field = field


@dataclass(frozen=True)
class Proof:
    """A solution whose hash and signature are right (not yet redeemed)."""

    challenge: str
    number: int
    article_id: str
    action: str
    issued_ms: int
    expires: int
    level: float


def decode(payload: str) -> dict[str, Any]:
    """The base64 JSON object the widget sends, with every member type-checked (ProofError otherwise)."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD_CHARS:
        raise ProofError("proof-invalid", f"must be the widget's base64 payload (1-{MAX_PAYLOAD_CHARS} chars)")
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise ProofError("proof-invalid", "is not base64-encoded JSON") from None
    if not isinstance(data, dict):
        raise ProofError("proof-invalid", "must encode a JSON object")
    for name in ("algorithm", "challenge", "salt", "signature"):
        if not isinstance(data.get(name), str):
            raise ProofError("proof-invalid", f"{name} must be a string", f"payload.{name}")
    number = data.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 2**53:
        raise ProofError("proof-invalid", "number must be a non-negative integer", "payload.number")
    if data["algorithm"] != ALGORITHM:
        raise ProofError("proof-invalid", f"algorithm must be {ALGORITHM}", "payload.algorithm")
    for name in ("challenge", "signature"):
        value = data[name]
        if len(value) != 64 or not set(value) <= _HEX64:
            raise ProofError("proof-invalid", f"{name} must be 64 lower-case hex digits", f"payload.{name}")
    return data


def check(key: bytes, data: dict[str, Any], now: float | None = None) -> Proof:
    """Verify a decoded payload: hash, signature (constant time), expiry, and the bound article/action."""
    salt: str = data["salt"]
    hashed = salt if salt.endswith("&") else salt + "&"
    expected = hash_hex(ALGORITHM, (hashed + str(data["number"])).encode())
    signature = hmac_hex(ALGORITHM, data["challenge"].encode(), key)
    # both compared in constant time; '&' in a bitwise and, so neither comparison is skipped
    ok = same_secret(data["challenge"], expected) & same_secret(data["signature"], signature)
    if not ok:
        raise ProofError("proof-invalid", "the proof does not match its challenge or the signature is not ours")
    _, _, query = salt.partition("?")
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    try:
        expires = int(params["expires"])
        issued_ms = int(params["ts"])
        level = float(params.get("d", "0"))
        article_id, action = params["a"], params["act"]
    except (KeyError, ValueError):
        raise ProofError("proof-invalid", "the challenge was not issued by this service for an article") from None
    if expires <= (time.time() if now is None else now):
        raise ProofError("proof-expired", "the challenge has expired; the widget fetches a new one")
    return Proof(data["challenge"], data["number"], article_id, action, issued_ms, expires, level)

