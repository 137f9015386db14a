"""Named SQL statements, loaded once from the ``*.sql`` files in this folder.

A file holds statements separated by ``-- name: <name>`` lines (procrastinate / aiosql style)::

    -- name: get_comment
    SELECT * FROM comments WHERE id = $1;

``Q.get_comment`` is then the statement text.  Capabilities keep their statements in their own file
(``queries.sql``, ``review.sql``, ...); a name may be defined only once across all files.
"""

from __future__ import annotations

import re
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse(text: str, source: str = "<sql>") -> dict[str, str]:
    parts = _NAME.split(text)
    statements: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in statements:
            raise ValueError(f"{source}: statement {name!r} defined twice")
        statements[name] = body.strip().rstrip(";").strip()
    return statements


class _Queries:
    def __init__(self) -> None:
        self._statements: dict[str, str] = {}
        for path in sorted(Path(__file__).parent.glob("*.sql")):
            for name, sql in parse(path.read_text(), path.name).items():
                if name in self._statements:
                    raise ValueError(f"{path.name}: statement {name!r} already defined in another file")
                self._statements[name] = sql

    def __getattr__(self, name: str) -> str:
        try:
            return self._statements[name]
        except KeyError:
            raise AttributeError(f"no SQL statement named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._statements)


Q = _Queries()
