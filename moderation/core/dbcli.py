"""``moderation backup FILE`` and ``moderation restore FILE``: the database commands (README "Backups")."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from moderation.core.commands import command, config_from_env


def with_service_dsn(fn: Callable[[str], Awaitable[Any]]) -> Any:
    """Run ``await fn(dsn)`` with the service's database: the server's own URL behind a pooler
    (``MODERATION_DB_DIRECT_URL``), else ``DATABASE_URL``, else the embedded server (started for the command
    when the service is not running, and stopped after)."""
    from moderation.core.db import open_embedded

    config = config_from_env()

    async def run() -> Any:
        embedded = None
        dsn = config.db_direct_url or config.database_url
        try:
            if dsn is None:
                embedded, dsn = await open_embedded(config.data_dir)
            return await fn(dsn)
        finally:
            if embedded is not None:
                await asyncio.get_running_loop().run_in_executor(None, embedded.stop)

    return asyncio.run(run())


@command("backup", "write a backup of the database to FILE (pg_dump custom format)")
def cmd_backup(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.core import backup

    parser = argparse.ArgumentParser(prog="moderation backup")
    parser.add_argument("file", type=Path)
    opts = parser.parse_args(rest)

    async def run(dsn: str) -> tuple[backup.Summary, int]:
        before = await backup.summary(dsn)
        size = await asyncio.get_running_loop().run_in_executor(None, backup.backup, dsn, opts.file)
        return before, size

    try:
        summary, size = with_service_dsn(run)
    except backup.BackupError as exc:
        print(f"moderation backup: {exc}", file=sys.stderr)
        return 1
    print(f"backup of schema {summary.schema_version} ({summary.comments} comments) written to {opts.file} "
          f"({size / 1e6:.1f} MB); restore with: moderation restore {opts.file}")
    return 0


@command("restore", "load a backup FILE into the database (empty, or --replace); stop the service first")
def cmd_restore(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.core import backup
    from moderation.core.migrations import code_version

    parser = argparse.ArgumentParser(prog="moderation restore")
    parser.add_argument("file", type=Path)
    parser.add_argument("--replace", action="store_true",
                        help="drop everything in the database first (it must be empty otherwise)")
    parser.add_argument("--force", action="store_true", help="restore even while other sessions use the database")
    opts = parser.parse_args(rest)
    if not opts.file.is_file():
        print(f"moderation restore: {opts.file}: no such file", file=sys.stderr)
        return 1

    async def run(dsn: str) -> backup.Summary:
        await backup.check_restorable(dsn, replace=opts.replace, force=opts.force)
        await asyncio.get_running_loop().run_in_executor(None, backup.restore, dsn, opts.file)
        return await backup.summary(dsn)

    try:
        summary = with_service_dsn(run)
    except backup.BackupError as exc:
        print(f"moderation restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {opts.file}: schema {summary.schema_version}, {summary.comments} comments "
          f"(this code's schema is {code_version()}; the next start or `moderation migrate` brings an older one up "
          "to date)")
    return 0
