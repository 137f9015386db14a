"""``moderation backup FILE`` / ``moderation restore FILE`` round trips, through the real command line:
against DATABASE_URL, and against the embedded server (its own pg_dump/pg_restore)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from moderation.core.db import EmbeddedPostgres
from tests.conftest import TEST_SECRET, comment_payload, post_webhook
from tests.migration_support import empty_database, schema_dump

ROWS = "SELECT id, external_id, status, text, reasons FROM comments ORDER BY id"


def _cli(*args: str, database_url: str | None, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"MODERATION_DATA_DIR": str(data_dir), "MODERATION_WEBHOOK_SECRET": TEST_SECRET})
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "moderation", *args], env=env, capture_output=True, text=True,
                          timeout=180)


async def _rows(dsn: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(ROWS)]
    finally:
        await conn.close()


async def test_backup_and_restore_round_trip(postgres: Any, aiohttp_client: Any, config: Any,
                                             database_url: str, tmp_path: Path) -> None:
    from moderation.app import create_app

    client = await aiohttp_client(create_app(config))
    for i, text in enumerate(["Thanks for the article.", "WIN a FREE iPhone!!! http://free.example text WIN",
                              "You are an idiot."]):
        assert (await post_webhook(client, comment_payload(f"b-{i}", text))).status == 200
    await client.close()  # the service stops (as it should before a restore; a backup may run beside it)
    before = await _rows(database_url)
    assert len(before) == 3

    dump = tmp_path / "backups" / "moderation.dump"
    made = await asyncio.to_thread(_cli, "backup", str(dump), database_url=database_url, data_dir=tmp_path / "d")
    assert made.returncode == 0, made.stderr
    assert "3 comments" in made.stdout and dump.stat().st_size > 0
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # it holds every comment
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    target = await empty_database(postgres)
    restored = await asyncio.to_thread(_cli, "restore", str(dump), database_url=target, data_dir=tmp_path / "d")
    assert restored.returncode == 0, restored.stderr
    assert await _rows(target) == before
    assert schema_dump(target) == schema_dump(database_url)

    # a database in use is refused; a non-empty one needs --replace
    holder = await asyncpg.connect(target)
    try:
        busy = await asyncio.to_thread(_cli, "restore", str(dump), "--replace", database_url=target,
                                       data_dir=tmp_path / "d")
    finally:
        await holder.close()
    assert busy.returncode == 1 and "stop the service" in busy.stderr
    refused = await asyncio.to_thread(_cli, "restore", str(dump), database_url=target, data_dir=tmp_path / "d")
    assert refused.returncode == 1 and "--replace" in refused.stderr
    conn = await asyncpg.connect(target)
    try:
        await conn.execute("DELETE FROM comments WHERE external_id = 'b-0'")
    finally:
        await conn.close()
    replaced = await asyncio.to_thread(_cli, "restore", str(dump), "--replace", database_url=target,
                                       data_dir=tmp_path / "d")
    assert replaced.returncode == 0, replaced.stderr
    assert await _rows(target) == before

    # the restored install runs: it takes new comments
    client = await aiohttp_client(create_app(config.with_changes(database_url=target)))
    assert (await post_webhook(client, comment_payload("b-after", "After the restore."))).status == 200


@pytest.mark.slow
async def test_embedded_backup_restores_into_a_new_install() -> None:
    """No DATABASE_URL: the commands start the embedded server of the data dir and use its own binaries."""
    root = Path(tempfile.mkdtemp(prefix="backup-"))  # not tmp_path: see tests/test_crash_recovery.py
    try:
        first, second = root / "first", root / "second"
        init = await asyncio.to_thread(_cli, "init-db", database_url=None, data_dir=first)
        assert init.returncode == 0, init.stderr
        pg = EmbeddedPostgres(first / "postgres")
        await asyncio.to_thread(pg.start)
        try:
            conn = await asyncpg.connect(pg.uri("moderation"))
            try:
                await conn.execute("INSERT INTO articles (id) VALUES ('a-1')")
                await conn.execute(
                    "INSERT INTO comments (external_id, article_id, author_id, author_name, text, fingerprint, "
                    "status, created_at) VALUES ('e-1', 'a-1', 'r-1', 'Ann', 'Kept across installs.', 'fp', "
                    "'approved', now())")
            finally:
                await conn.close()
            before = await _rows(pg.uri("moderation"))
            # the server is running (as beside a live service): the command attaches to it
            made = await asyncio.to_thread(_cli, "backup", str(root / "e.dump"), database_url=None, data_dir=first)
            assert made.returncode == 0, made.stderr
        finally:
            await asyncio.to_thread(pg.stop)
        restored = await asyncio.to_thread(_cli, "restore", str(root / "e.dump"), database_url=None, data_dir=second)
        assert restored.returncode == 0, restored.stderr
        assert "1 comments" in restored.stdout
        pg2 = EmbeddedPostgres(second / "postgres")
        await asyncio.to_thread(pg2.start)
        try:
            assert await _rows(pg2.uri("moderation")) == before
        finally:
            await asyncio.to_thread(pg2.stop)
    finally:
        shutil.rmtree(root, ignore_errors=True)
