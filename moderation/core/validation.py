"""Small field validators that collect every error with its path, so a 422 names all offending fields."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object: 400 ``malformed-json``, or 422 naming ``(body)`` for a non-object."""
    from moderation.core.problems import Problem, validation_error

    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem("malformed-json", f"The body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise validation_error([{"field": "(body)", "message": "must be a JSON object"}])
    return payload


class Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


def obj(errors: Errors, parent: Any, key: str, path: str, *, required: bool = True) -> dict[str, Any] | None:
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None:
        if required:
            errors.add(path, "is required (an object)")
        return None
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return None
    return value


def string(errors: Errors, parent: dict[str, Any] | None, key: str, path: str, *, required: bool = True,
           max_len: int = 256, allow_empty: bool = False) -> str | None:
    if parent is None:
        return None
    value = parent.get(key)
    if value is None:
        if required:
            errors.add(path, "is required")
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string")
        return None
    if not allow_empty and not value.strip():
        errors.add(path, "must not be empty")
        return None
    if "\x00" in value:
        errors.add(path, "must not contain NUL characters")
        return None
    if len(value) > max_len:
        errors.add(path, f"is longer than {max_len} characters")
        return None
    return value


def timestamp(errors: Errors, parent: dict[str, Any] | None, key: str, path: str,
              *, required: bool = False) -> datetime | None:
    raw = string(errors, parent, key, path, required=required, max_len=64)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        errors.add(path, "must be an RFC 3339 timestamp, e.g. 2026-11-25T12:00:00Z")
        return None
    if value.tzinfo is None:
        errors.add(path, "must include a time zone offset (RFC 3339)")
        return None
    return value
