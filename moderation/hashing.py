"""Keyed hashes for personal data (e-mail, IP) and secrets we only need to compare (codes, tokens)."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(key: bytes, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 hex; ``purpose`` separates domains so an e-mail hash never equals an IP hash."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def hash_email(key: bytes, email: str | None) -> str | None:
    return None if not email else keyed_hash(key, email.strip().lower(), purpose="email")


def hash_ip(key: bytes, ip: str | None) -> str | None:
    return None if not ip else keyed_hash(key, ip.strip(), purpose="ip")
