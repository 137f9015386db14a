"""Keyed hashes for personal data (e-mail, IP) and secrets we only need to compare (codes, tokens)."""

from __future__ import annotations

import functools
import hashlib
import hmac


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC with the key already absorbed: ``.copy()`` skips re-deriving the inner/outer pads per hash."""
    return hmac.new(key, digestmod=hashlib.sha256)


def keyed_hash(key: bytes, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 hex; ``purpose`` separates domains so an e-mail hash never equals an IP hash."""
    mac = _keyed(key).copy()
    mac.update(f"{purpose}\x00{value}".encode())
    return mac.hexdigest()


def hash_email(key: bytes, email: str | None) -> str | None:
    return None if not email else keyed_hash(key, email.strip().lower(), purpose="email")


def hash_ip(key: bytes, ip: str | None) -> str | None:
    return None if not ip else keyed_hash(key, ip.strip(), purpose="ip")


def same_secret(supplied: str | bytes, expected: str | bytes) -> bool:
    """Constant-time equality of a client-supplied secret (signature, token, cookie) and ours.

    ``hmac.compare_digest`` raises ``TypeError`` on ``str`` with non-ASCII characters, so a hostile client could
    turn a failed check into a 500; both sides are compared as UTF-8 bytes instead (``surrogatepass``: JSON may
    carry lone surrogates)."""
    a = supplied.encode("utf-8", "surrogatepass") if isinstance(supplied, str) else supplied
    b = expected.encode("utf-8", "surrogatepass") if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)
