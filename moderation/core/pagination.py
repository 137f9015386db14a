"""Opaque keyset cursors: base64url(JSON of the last row's sort key), validated on the way back in.

A cursor is a position, not an offset: pages stay O(limit) however deep a moderator scrolls, and rows
decided meanwhile never shift the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from moderation.core.problems import validation_error

MAX_LIMIT = 200


def encode(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, arity: int, field: str = "cursor") -> list[Any] | None:
    """Return the key list, or raise a 422 naming ``field`` for anything we did not issue."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise validation_error([{"field": field, "message": "is not a cursor this API issued"}]) from None
    # Postgres text cannot hold NUL: a forged cursor carrying one must be a 422 here, not a database error.
    if not isinstance(key, list) or len(key) != arity or any(isinstance(k, str) and "\x00" in k for k in key):
        raise validation_error([{"field": field, "message": "is not a cursor this API issued"}])
    return key


def check_limit(limit: Any, field: str = "limit", *, default: int = 50, maximum: int = MAX_LIMIT) -> int:
    if limit is None or limit == "":
        return default
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise validation_error([{"field": field, "message": "must be an integer"}]) from None
    if isinstance(limit, bool) or not 1 <= value <= maximum:
        raise validation_error([{"field": field, "message": f"must be between 1 and {maximum}"}])
    return value
