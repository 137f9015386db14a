"""Versioned schema migrations: numbered SQL files, each applied once, in order, under an advisory lock.

``moderation/migrations/NNNN_name.sql`` (gaps allowed).  ``schema_migrations`` records each applied file
with the sha256 of its text; a recorded file whose text changed is refused (never edit an applied
migration: add a new one).  A file whose first line is ``-- migrate: no-transaction`` runs statement by
statement outside a transaction, for ``CREATE INDEX CONCURRENTLY`` (simple ``;``-terminated statements
only, each idempotent).  ``schema.sql`` is the readable whole; ``tests/test_migrations.py`` proves that a
fresh migrate equals it and that every earlier release's database converges to it.

A start with nothing to migrate reads ``schema_migrations`` and nothing else: no advisory lock, no lock on
any other table, so starting an instance beside running ones never stalls intake.  Code older than the
database (the database has a version this code does not know) refuses to start instead of running.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The same id as the schema.sql era's lock: an older instance applying its schema.sql mid-rollout and a
# newer one migrating are serialised too.
LOCK_ID = 7_346_001
NO_TRANSACTION = "-- migrate: no-transaction"
LOCK_TIMEOUT = "5s"  # a migration waiting longer for a table lock gives up and retries (it would queue intake)
LOCK_RETRIES = 5
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_CONCURRENT_INDEX = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)

# The runner's own table; schema.sql repeats it (the equality test keeps the two in step).
TABLE_DDL = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version      int PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  int NOT NULL
)"""


class MigrationError(RuntimeError):
    """The database and this code's migrations disagree; the message says how and what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str
    transactional: bool

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def discover(directory: Path | None = None) -> list[Migration]:
    """The migration files, in version order; a misnamed ``.sql`` file or a duplicate number is an error."""
    found: dict[int, Migration] = {}
    for path in sorted((directory or MIGRATIONS_DIR).glob("*.sql")):
        match = _FILENAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: a migration is named NNNN_name.sql (4 digits, lower-case name)")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path}: version {version:04d} is also {found[version].label}.sql")
        text = path.read_text(encoding="utf-8")
        found[version] = Migration(version, match.group(2), text, hashlib.sha256(text.encode()).hexdigest(),
                                   transactional=not text.startswith(NO_TRANSACTION))
    return [found[v] for v in sorted(found)]


def code_version(migrations: Sequence[Migration] | None = None) -> str:
    """The latest migration this code knows, e.g. ``0160_receipt_body_hash``: the schema version it needs."""
    migrations = discover() if migrations is None else migrations
    return migrations[-1].label if migrations else "none"


@dataclass(frozen=True)
class Status:
    applied: dict[int, asyncpg.Record]  # version -> schema_migrations row
    pending: list[Migration]

    @property
    def database_version(self) -> str:
        if not self.applied:
            return "none"
        row = self.applied[max(self.applied)]
        return f"{row['version']:04d}_{row['name']}"


async def _applied(conn: asyncpg.Connection) -> dict[int, asyncpg.Record] | None:
    if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NULL"):
        return None
    rows = await conn.fetch("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
    return {r["version"]: r for r in rows}


def _check(applied: dict[int, asyncpg.Record], migrations: Sequence[Migration]) -> list[Migration]:
    """The pending migrations; raises when the database is newer than this code or a file was changed."""
    known = {m.version: m for m in migrations}
    unknown = [r for v, r in applied.items() if v not in known]
    if unknown:
        newest = max(unknown, key=lambda r: r["version"])
        raise MigrationError(
            f"the database schema is at version {newest['version']:04d}_{newest['name']}, newer than this code "
            f"(which knows migrations up to {code_version(migrations)}): this code is older than the database. "
            "Run the release that upgraded it, or a newer one; to go back, restore a backup taken before the "
            "upgrade (README \"Upgrading\", \"Backups\").")
    changed = [m for m in migrations if m.version in applied and applied[m.version]["checksum"] != m.checksum]
    if changed:
        m = changed[0]
        raise MigrationError(
            f"migration {m.label}.sql was changed after it was applied to this database (recorded sha256 "
            f"{applied[m.version]['checksum'][:12]}…, file {m.checksum[:12]}…). An applied migration is never "
            "edited: restore the file as it was and put the change in a new, higher-numbered migration.")
    return [m for m in migrations if m.version not in applied]


async def status(conn: asyncpg.Connection, migrations: Sequence[Migration] | None = None) -> Status:
    migrations = discover() if migrations is None else migrations
    applied = await _applied(conn) or {}
    return Status(applied, _check(applied, migrations))


async def migrate(conn: asyncpg.Connection, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration; returns those applied (empty on a no-op start).

    ``conn`` is a connection of its own (not a pooled one others use): the advisory lock is held on it
    for the session, and no-transaction steps set ``lock_timeout`` on it."""
    migrations = discover() if migrations is None else migrations
    applied = await _applied(conn)
    if applied is not None and not _check(applied, migrations):
        return []  # the fast path: one read of schema_migrations, no lock taken
    await _lock(conn)
    try:
        await conn.execute(TABLE_DDL)
        pending = _check(await _applied(conn) or {}, migrations)  # another instance may have done them
        for migration in pending:
            await _apply(conn, migration)
        return pending
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_ID)


async def _lock(conn: asyncpg.Connection) -> None:
    """Take the session advisory lock by polling, not by waiting in ``pg_advisory_lock``: a statement
    waiting there holds a snapshot, and the other instance's CREATE INDEX CONCURRENTLY waits for every
    snapshot to end -- a deadlock.  Each try is a short transaction of its own."""
    waited = time.monotonic()
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_ID):  # noqa: ASYNC110 (polls the db)
        await asyncio.sleep(0.2)
    if time.monotonic() - waited > 1:
        log.info("waited %.1f s for another instance's migrations", time.monotonic() - waited)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    started = time.monotonic()
    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            if migration.transactional:
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                    await conn.execute(migration.sql)
                    await _record(conn, migration, started)
            else:
                await _apply_outside_transaction(conn, migration)
                await _record(conn, migration, started)
            break
        except asyncpg.LockNotAvailableError:
            if attempt == LOCK_RETRIES:
                raise MigrationError(
                    f"migration {migration.label} could not get its table locks within {LOCK_TIMEOUT} in "
                    f"{LOCK_RETRIES} tries (a long transaction holds them); nothing of it was applied") from None
            log.warning("migration %s: a table lock is busy; retrying (%d/%d)", migration.label, attempt,
                        LOCK_RETRIES)
            await asyncio.sleep(attempt)
    log.info("migration %s applied in %.0f ms", migration.label, (time.monotonic() - started) * 1000)


async def _record(conn: asyncpg.Connection, migration: Migration, started: float) -> None:
    await conn.execute("INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                       migration.version, migration.name, migration.checksum,
                       int((time.monotonic() - started) * 1000))


def statements(sql: str) -> list[str]:
    """The statements of a no-transaction migration: ``;`` ends a statement at the end of a line; comments
    are dropped.  (No ``$$`` bodies in such files: they are for CREATE/DROP INDEX CONCURRENTLY.)"""
    out: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        code = line.split("--", 1)[0].rstrip()
        if not code.strip():
            continue
        if "$$" in code:
            raise MigrationError("a no-transaction migration holds only simple statements (no $$ bodies)")
        current.append(code)
        if code.endswith(";"):
            out.append("\n".join(current).rstrip(";"))
            current = []
    if current:
        raise MigrationError("a no-transaction migration's last statement has no terminating ';'")
    return out


async def _apply_outside_transaction(conn: asyncpg.Connection, migration: Migration) -> None:
    await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        for statement in statements(migration.sql):
            index = _CONCURRENT_INDEX.search(statement)
            if index and await conn.fetchval(
                    "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace", index.group(1)):
                # left INVALID by a build that was interrupted (a crash, a lock timeout): build it again
                log.warning("migration %s: dropping the half-built index %s", migration.label, index.group(1))
                await conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index.group(1)}"')
            await conn.execute(statement)
    finally:
        await conn.execute("RESET lock_timeout")


async def migrate_dsn(dsn: str, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """:func:`migrate` on a connection of its own, closed afterwards."""
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn, migrations)
    finally:
        await conn.close()
