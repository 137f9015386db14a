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
