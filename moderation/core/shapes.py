"""Field types shared by the declared shapes: strings with their limits, ids, timestamps.

``Text(200)`` is a string of 1 to 200 characters with at least one that is not whitespace (the message
for each limit comes from ``moderation.core.body``).  NUL characters are refused for every body by the
reader itself (Postgres text cannot hold them).
"""


from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec

NOT_BLANK = r"\S"
MAX_BIGINT = 2**63 - 1


def Text(max_length: int, *, description: str | None = None, examples: list[Any] | None = None,
         blank_ok: bool = False, **extra: Any) -> Any:
    """A string of at most ``max_length`` characters; not empty, not only whitespace unless ``blank_ok``."""
    meta = msgspec.Meta(max_length=max_length, min_length=None if blank_ok else 1,
                        pattern=None if blank_ok else NOT_BLANK, description=description, examples=examples,
                        extra_json_schema=extra or None)
    return Annotated[str, meta]


def Int(*, ge: int | None = None, le: int | None = None, description: str | None = None,
        examples: list[Any] | None = None) -> Any:
    return Annotated[int, msgspec.Meta(ge=ge, le=le, description=description, examples=examples)]


def Number(*, ge: float | None = None, le: float | None = None, description: str | None = None) -> Any:
    return Annotated[float, msgspec.Meta(ge=ge, le=le, description=description)]


Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_BIGINT)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]

Checks = dict[str, Callable[[Any], str | None]]


class Shape(msgspec.Struct, kw_only=True):
    """Base of the declared bodies: ``checks`` maps a field to a function returning an error message (or
    None) for a value of the right type — a rule no JSON Schema keyword states (an IP address, a timestamp
    with an offset).  The reader runs them per field, so one answer still names every bad field."""

    checks: ClassVar[Checks] = {}

    def __post_init__(self) -> None:
        for name, check in self.checks.items():
            value = getattr(self, name)
            if value is not None and (message := check(value)) is not None:
                raise ValueError(f"{name}: {message}")
