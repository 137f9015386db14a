"""The command registry behind ``moderation COMMAND``: each capability registers its own commands here
(``@command``) in its ``cli`` module; ``moderation.cli`` imports those modules and dispatches."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from moderation.core import secrets
from moderation.core.config import Config, ConfigError

Command = Callable[[argparse.Namespace, list[str]], int]
COMMANDS: dict[str, tuple[str, Command]] = {}
_resolved: secrets.Resolved | None = None  # the last config_from_env(): where each secret came from


def command(name: str, help_text: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = (help_text, fn)
        return fn
    return register


def config_from_env() -> Config:
    """The configuration with every secret resolved.  A secret this start generated is printed here, once;
    a secret from the environment or the data dir never is (only where it comes from, by ``serve``)."""
    global _resolved
    try:
        _resolved = secrets.resolve(Config.from_env())
        for line in secrets.announce(_resolved):
            if " generated " in line:
                print(line, file=sys.stderr, flush=True)
        return _resolved.config
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def last_resolved() -> secrets.Resolved | None:
    """Where each secret of the last ``config_from_env()`` came from."""
    return _resolved


def run_with_db(fn: Callable[[Any], Any], *, migrate: bool = True) -> Any:
    """Run ``await fn(conn)`` against the service's database (DATABASE_URL, or the embedded one), after
    applying pending migrations unless ``migrate`` is false.  ``conn`` is a connection of its own."""
    import asyncpg

    from moderation.core.db import _init_connection, connect_options, migrate_for_start, open_embedded

    config = config_from_env()
    # behind a transaction-mode pooler, commands use the server's own URL when given (a session of their own)
    pooler = None if config.db_direct_url else config.db_pooler

    async def run() -> Any:
        embedded = None
        dsn = config.db_direct_url or config.database_url
        try:
            if dsn is None:
                embedded, dsn = await open_embedded(config.data_dir)
            if migrate:
                await migrate_for_start(dsn, pooler=pooler)
            conn = await asyncpg.connect(dsn, **connect_options(pooler))
            try:
                await _init_connection(conn)
                return await fn(conn)
            finally:
                await conn.close()
        finally:
            if embedded is not None:
                embedded.stop()

    return asyncio.run(run())
