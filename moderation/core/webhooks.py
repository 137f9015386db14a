"""Standard Webhooks (https://www.standardwebhooks.com) signing and verification.

Signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"``; the signature header holds one or
more space-separated ``v1,<base64 HMAC-SHA256>`` entries (several allow key rotation).  Used for the CMS
webhook we receive and for the callbacks we send.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from moderation.core.hashing import same_secret

TOLERANCE_S = 5 * 60


class SignatureError(Exception):
    """Verification failed; ``slug`` is the problem type to answer with."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


@dataclass(frozen=True)
class SignedHeaders:
    webhook_id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"webhook-id": self.webhook_id, "webhook-timestamp": str(self.timestamp),
                "webhook-signature": self.signature}


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC with the key already absorbed; ``.copy()`` per message skips the key schedule."""
    return hmac.new(key, digestmod=hashlib.sha256)


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    mac = _keyed(key).copy()
    mac.update(f"{webhook_id}.{timestamp}.".encode())
    mac.update(body)  # no concatenated copy of the body
    return "v1," + base64.b64encode(mac.digest()).decode()


def sign(key: bytes, body: bytes, *, webhook_id: str | None = None, timestamp: int | None = None) -> SignedHeaders:
    webhook_id = webhook_id or "msg_" + secrets.token_urlsafe(16)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return SignedHeaders(webhook_id, timestamp, signature(key, webhook_id, timestamp, body))


def verify(key: bytes, headers: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> str:
    """Return the verified webhook-id, or raise SignatureError."""
    webhook_id = headers.get("webhook-id", "").strip()
    raw_ts = headers.get("webhook-timestamp", "").strip()
    raw_sigs = headers.get("webhook-signature", "").strip()
    missing = [name for name, value in (("webhook-id", webhook_id), ("webhook-timestamp", raw_ts),
                                        ("webhook-signature", raw_sigs)) if not value]
    if missing:
        raise SignatureError("missing-signature", f"missing header(s): {', '.join(missing)}")
    if len(webhook_id) > 256:
        raise SignatureError("invalid-signature", "webhook-id is longer than 256 characters")
    now = time.time() if now is None else now
    try:
        timestamp = int(raw_ts)
        skew = now - timestamp  # OverflowError for a "timestamp" too large for a float (e.g. 400 digits)
    except (ValueError, OverflowError):
        raise SignatureError("invalid-signature", "webhook-timestamp must be integer Unix seconds") from None
    if abs(skew) > tolerance_s:
        direction = "old" if timestamp < now else "far in the future"
        raise SignatureError("stale-timestamp",
                             f"webhook-timestamp is {abs(int(now - timestamp))} s {direction}; "
                             f"tolerance is {tolerance_s} s")
    expected = signature(key, webhook_id, timestamp, body).encode()
    matched = False
    for candidate in raw_sigs.split():
        # compare every candidate in constant time; don't stop early on a match
        if candidate.startswith("v1,") and same_secret(candidate, expected):
            matched = True
    if not matched:
        raise SignatureError("invalid-signature", "no v1 signature matched the body")
    return webhook_id
