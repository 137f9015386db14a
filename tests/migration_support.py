"""Helpers for the migration tests: empty databases, old releases' schemas, normalised schema dumps."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from pathlib import Path

import asyncpg

from moderation.core.pgtools import pg_binary

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
ROOT = Path(__file__).resolve().parent.parent
# The releases that landed (CI passed on them; `issues stops`), oldest first: their schema.sql as it was.
RELEASES = ["stop09-938e2c2", "stop10-45aaeca", "stop11-faa7625", "stop12-98ccdb9"]
# Development states with drift of their own (never released, but such databases exist): before 195ca4b
# comments.id was GENERATED ALWAYS; adc88f5 had per-event author counter functions.
DEV_STATES = ["dev-e6727f1", "dev-adc88f5"]


async def empty_database(postgres: object) -> str:
    """A new, empty database (not the migrated test template); returns its DSN."""
    name = f"m_{os.getpid()}_{time.monotonic_ns() % 10**12}"
    conn = await asyncpg.connect(postgres.admin_dsn)  # type: ignore[attr-defined]
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    postgres.created.append(name)  # type: ignore[attr-defined]
    return postgres.dsn(name)  # type: ignore[attr-defined]


async def install_release(dsn: str, *releases: str) -> None:
    """Do what a release's own start did: run its schema.sql, and record its sha256 in schema_applied
    (releases since 3a4f378 kept it there and re-ran the file when it differed).  Several releases: an
    install upgraded from one to the next the way those releases upgraded."""
    conn = await asyncpg.connect(dsn)
    try:
        for release in releases:
            sql = (SCHEMAS / f"{release}.sql").read_text()
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_applied (id int PRIMARY KEY CHECK (id = 1), "
                                   "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
                await conn.execute("INSERT INTO schema_applied (id, sha256) VALUES (1, $1) ON CONFLICT (id) DO "
                                   "UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()",
                                   hashlib.sha256(sql.encode()).hexdigest())
    finally:
        await conn.close()


def _normalise(dump: str) -> str:
    lines = []
    for line in dump.splitlines():
        if not line.strip() or line.startswith("--") or line.startswith("\\"):
            continue  # comments, blank lines, psql meta-commands (\restrict KEY changes every run)
        if line.startswith("SET ") or "pg_catalog.set_config" in line:
            continue
        lines.append(line)
    text = "\n".join(lines) + "\n"
    return re.sub(r"\n{2,}", "\n", text)


def schema_dump(dsn: str) -> str:
    """``pg_dump --schema-only`` (the bundled pg_dump, the server's major), without what varies by run."""
    out = subprocess.run([str(pg_binary("pg_dump")), "--schema-only", "--no-owner", "--no-privileges",
                          "--dbname", dsn], check=True, capture_output=True, text=True, timeout=60)
    return _normalise(out.stdout)


def diff(expected: str, actual: str, names: tuple[str, str] = ("fresh", "upgraded")) -> str:
    import difflib

    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), *names, n=2))
