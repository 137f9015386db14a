"""Versioned migrations: a fresh migrate equals schema.sql, every earlier release's database converges to it,
applied files are immutable, code older than the database refuses to start, a no-op start locks nothing.

Run alone: ``.venv/bin/pytest tests/test_migrations.py -q``.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from moderation.core import migrations
from tests.migration_support import (
    DEV_STATES,
    RELEASES,
    ROOT,
    diff,
    empty_database,
    install_release,
    schema_dump,
)


@pytest.fixture(scope="module")
def fresh_dump() -> dict[str, str]:
    return {}  # filled once per module by _fresh_dump


async def _fresh_dump(postgres: Any, cache: dict[str, str]) -> str:
    if "dump" not in cache:
        dsn = await empty_database(postgres)
        await migrations.migrate_dsn(dsn)
        cache["dump"] = schema_dump(dsn)
    return cache["dump"]


async def test_fresh_migrate_equals_schema_sql(postgres: Any, fresh_dump: dict[str, str]) -> None:
    """schema.sql is the readable whole: run on an empty database it gives what the migrations give."""
    from_file = await empty_database(postgres)
    conn = await asyncpg.connect(from_file)
    try:
        await conn.execute((ROOT / "schema.sql").read_text())
    finally:
        await conn.close()
    expected, actual = schema_dump(from_file), await _fresh_dump(postgres, fresh_dump)
    assert actual == expected, "fresh migrate differs from schema.sql:\n" + diff(expected, actual,
                                                                                ("schema.sql", "migrations"))


@pytest.mark.parametrize("release", RELEASES + DEV_STATES)
async def test_earlier_release_upgrades_in_place(postgres: Any, fresh_dump: dict[str, str], release: str) -> None:
    dsn = await empty_database(postgres)
    await install_release(dsn, release)
    applied = await migrations.migrate_dsn(dsn)
    assert [m.version for m in applied] == [m.version for m in migrations.discover()]
    fresh = await _fresh_dump(postgres, fresh_dump)
    upgraded = schema_dump(dsn)
    assert upgraded == fresh, f"{release} upgraded differs from a fresh install:\n" + diff(fresh, upgraded)
    assert await migrations.migrate_dsn(dsn) == []  # and the next start has nothing to do


async def test_releases_upgraded_one_after_another(postgres: Any, fresh_dump: dict[str, str]) -> None:
    """An install that went through every release the old way (each re-running its schema.sql over the
    last) carries all their leftovers; it converges too."""
    dsn = await empty_database(postgres)
    await install_release(dsn, "dev-e6727f1", "dev-adc88f5", *RELEASES)
    await migrations.migrate_dsn(dsn)
    fresh = await _fresh_dump(postgres, fresh_dump)
    upgraded = schema_dump(dsn)
    assert upgraded == fresh, diff(fresh, upgraded)


async def test_pre_195ca4b_database_takes_webhooks_after_upgrade(postgres: Any, aiohttp_client: Any,
                                                                 config: Any) -> None:
    """The known break: comments.id GENERATED ALWAYS made every webhook answer 500 after an upgrade."""
    from moderation.app import create_app
    from tests.conftest import comment_payload, post_webhook

    dsn = await empty_database(postgres)
    await install_release(dsn, "dev-e6727f1", RELEASES[0])
    client = await aiohttp_client(create_app(config.with_changes(database_url=dsn)))
    resp = await post_webhook(client, comment_payload("after-upgrade"))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["comment"]["status"] == "approved"


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, target)
    return target


async def test_changed_applied_migration_is_refused(database_url: str, tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    first = sorted(folder.glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(migrations.MigrationError, match=r"0001_baseline\.sql was changed after it was applied"):
            await migrations.migrate(conn, migrations.discover(folder))
    finally:
        await conn.close()


async def test_code_older_than_the_database_refuses_naming_both_versions(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO schema_migrations (version, name, checksum, duration_ms) "
                           "VALUES (9999, 'from_the_future', 'x', 0)")
        with pytest.raises(migrations.MigrationError) as refused:
            await migrations.migrate(conn)
        message = str(refused.value)
        assert "9999_from_the_future" in message and migrations.code_version() in message
        assert "older than the database" in message
    finally:
        await conn.close()


async def test_a_release_before_migrations_refuses_before_any_ddl(database_url: str) -> None:
    """What stop 12's start does (db.apply_schema at 98ccdb9) against a migrated database: its first read
    of schema_applied raises, so its schema.sql is never re-applied."""
    conn = await asyncpg.connect(database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
        with pytest.raises(asyncpg.PostgresError) as refused:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", 7_346_001)
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_applied (id int PRIMARY KEY CHECK (id = 1), "
                                   "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
                await conn.fetchval("SELECT sha256 FROM schema_applied WHERE id = 1")
        assert f"schema is at version {migrations.code_version()}" in str(refused.value)
        assert "before versioned migrations" in str(refused.value)
        after = await conn.fetchval("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
        assert after == before
    finally:
        await conn.close()


async def test_noop_start_takes_no_lock_on_hot_tables(database_url: str, aiohttp_client: Any, config: Any) -> None:
    """With comments and outbox locked ACCESS EXCLUSIVE by someone else, a start with nothing to migrate
    still completes: it never asks for a lock on them (a schema.sql re-run queued behind such locks and
    stalled intake for everyone behind it)."""
    from moderation.app import create_app

    holder = await asyncpg.connect(database_url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("LOCK TABLE comments, outbox, decisions, webhook_receipts IN ACCESS EXCLUSIVE MODE")
        assert await asyncio.wait_for(migrations.migrate_dsn(database_url), 10) == []
        client = await asyncio.wait_for(aiohttp_client(create_app(config)), 60)  # the whole start-up
        assert (await client.get("/healthz")).status == 200
        await tx.rollback()
    finally:
        await holder.close()


async def test_concurrent_starts_apply_each_migration_once(postgres: Any) -> None:
    dsn = await empty_database(postgres)
    results = await asyncio.gather(*(migrations.migrate_dsn(dsn) for _ in range(3)))
    assert sorted(len(r) for r in results) == [0, 0, len(migrations.discover())]
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(migrations.discover())
    finally:
        await conn.close()


async def test_no_transaction_step_rebuilds_a_half_built_index(database_url: str, tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / "0998_probe_table.sql").write_text("CREATE TABLE probe (v int);\nINSERT INTO probe VALUES (1), (1);\n")
    (folder / "0999_probe_index.sql").write_text(
        "-- migrate: no-transaction\n-- a unique index built concurrently\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS probe_v ON probe (v);\n")
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.UniqueViolationError):  # the duplicate leaves an INVALID index behind
            await migrations.migrate(conn, migrations.discover(folder))
        assert await conn.fetchval("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 'probe_v'::regclass")
        assert 999 not in (await migrations.status(conn, migrations.discover(folder))).applied
        await conn.execute("DELETE FROM probe WHERE ctid = (SELECT max(ctid) FROM probe)")
        assert [m.version for m in await migrations.migrate(conn, migrations.discover(folder))] == [999]
        assert await conn.fetchval("SELECT indisvalid FROM pg_index WHERE indexrelid = 'probe_v'::regclass")
    finally:
        await conn.close()


def test_statements_of_a_no_transaction_file() -> None:
    sql = ("-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x); -- why\n"
           "CREATE INDEX CONCURRENTLY IF NOT EXISTS b ON t (y)\n    WHERE y > 0;\n")
    assert migrations.statements(sql) == ["CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x)",
                                          "CREATE INDEX CONCURRENTLY IF NOT EXISTS b ON t (y)\n    WHERE y > 0"]
    with pytest.raises(migrations.MigrationError):
        migrations.statements("DO $$ BEGIN END $$;\n")


def test_migration_files_are_well_formed() -> None:
    found = migrations.discover()
    assert found[0].label == "0001_baseline" and found[1].label == "0002_baseline_indexes"
    for m in found:
        if not m.transactional:
            migrations.statements(m.sql)  # parses


async def test_first_release_install_with_data_keeps_its_comments_and_takes_new_ones(
        postgres: Any, aiohttp_client: Any, config: Any) -> None:
    """A database written by stop 9's own code (tests/fixtures/schemas/make_release_install.py): after the
    upgrade (migrations at start) its comments, decisions, moderator token and reactions are all there, and
    the real webhook takes new comments."""
    from moderation.app import create_app
    from tests.conftest import comment_payload, post_webhook
    from tests.migration_support import SCHEMAS

    dsn = await empty_database(postgres)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute((SCHEMAS / "stop09-938e2c2.install.sql").read_text())
        await conn.execute("RESET search_path")  # the dump empties it for its session
        before = [dict(r) for r in await conn.fetch("SELECT id, external_id, status, text FROM comments ORDER BY id")]
    finally:
        await conn.close()
    assert len(before) == 5
    client = await aiohttp_client(create_app(config.with_changes(database_url=dsn)))
    token = (SCHEMAS / "stop09-938e2c2.install.token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    rejected = next(c for c in before if c["external_id"] == "rel-3")
    detail = await client.get(f"/v1/comments/{rejected['id']}", headers=auth)
    assert detail.status == 200, await detail.text()
    assert (await detail.json())["status"] == "rejected"

    resp = await post_webhook(client, comment_payload("after-upgrade", "A new comment after the upgrade."))
    assert resp.status == 200, await resp.text()
    new_id = (await resp.json())["comment"]["id"]
    assert new_id > max(c["id"] for c in before)
    replay = await post_webhook(client, comment_payload("rel-2", "x"), webhook_id="msg_rel-2")
    assert replay.status == 200 and replay.headers.get("Idempotent-Replayed") == "true"  # old receipts hold

    conn = await asyncpg.connect(dsn)
    try:
        after = [dict(r) for r in await conn.fetch("SELECT id, external_id, status, text FROM comments ORDER BY id")]
        assert after[:5] == before and after[5]["external_id"] == "after-upgrade"
        counts = await conn.fetch("SELECT author_id, status, n FROM author_status_counts WHERE n <> 0 ORDER BY 1, 2")
        truth = await conn.fetch("SELECT author_id, status, count(*) AS n FROM comments GROUP BY 1, 2 ORDER BY 1, 2")
        assert [tuple(r) for r in counts] == [tuple(r) for r in truth]
        assert await conn.fetchval("SELECT sum(likes) FROM reaction_counts") == 2
    finally:
        await conn.close()


def _cli(*args: str, dsn: str, data_dir: Path) -> Any:
    import os
    import subprocess
    import sys

    from tests.conftest import TEST_SECRET

    env = {**os.environ, "DATABASE_URL": dsn, "MODERATION_DATA_DIR": str(data_dir),
           "MODERATION_WEBHOOK_SECRET": TEST_SECRET, "MODERATION_PORT": "0"}
    return subprocess.run([sys.executable, "-m", "moderation", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_migrate_command_and_a_refused_serve(postgres: Any, tmp_path: Path) -> None:
    """`moderation migrate --status` lists, `moderation migrate` applies; `moderation serve` against a database
    newer than the code exits 1 naming both versions (no traceback, no DDL)."""
    dsn = await empty_database(postgres)
    pending = await asyncio.to_thread(_cli, "migrate", "--status", dsn=dsn, data_dir=tmp_path)
    assert pending.returncode == 0, pending.stderr
    assert "0001_baseline" in pending.stdout and f"{len(migrations.discover())} pending" in pending.stdout
    applied = await asyncio.to_thread(_cli, "migrate", dsn=dsn, data_dir=tmp_path)
    assert applied.returncode == 0 and "applied 0001_baseline" in applied.stdout, applied.stderr
    assert "0 pending" in (await asyncio.to_thread(_cli, "migrate", "--status", dsn=dsn, data_dir=tmp_path)).stdout
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO schema_migrations (version, name, checksum, duration_ms) "
                           "VALUES (9999, 'from_the_future', 'x', 0)")
    finally:
        await conn.close()
    refused = await asyncio.to_thread(_cli, "serve", dsn=dsn, data_dir=tmp_path)
    assert refused.returncode == 1
    assert "cannot start" in refused.stderr and "9999_from_the_future" in refused.stderr
    assert migrations.code_version() in refused.stderr and "Traceback" not in refused.stderr


HOT_TABLES = ("comments", "outbox", "decisions", "webhook_receipts", "author_status_counts", "audit_log",
              "reactions", "reaction_counts", "rate_limits")


def test_no_migration_takes_a_long_lock_on_a_hot_table() -> None:
    """Intake writes these tables on every comment: in a migration, an index on one is built CONCURRENTLY
    (a no-transaction file), and nothing rewrites or scans one under an exclusive lock."""
    import re

    hot = "|".join(HOT_TABLES)
    blocking = [
        (re.compile(rf"CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(IF\s+NOT\s+EXISTS\s+)?\w+\s+ON\s+({hot})\b", re.I),
         "builds an index without CONCURRENTLY"),
        (re.compile(rf"ALTER\s+TABLE\s+({hot})\b[^;]*ALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE", re.I | re.S),
         "changes a column type (rewrites the table)"),
        (re.compile(rf"ALTER\s+TABLE\s+({hot})\b[^;]*SET\s+NOT\s+NULL", re.I | re.S),
         "sets NOT NULL (scans the table under ACCESS EXCLUSIVE; add a CHECK ... NOT VALID, then VALIDATE)"),
    ]
    problems = []
    for m in migrations.discover():
        if m.version <= 2:  # the baseline: builds every index concurrently, converges old installs once
            continue
        code = "\n".join(line.split("--", 1)[0] for line in m.sql.splitlines())
        problems += [f"{m.label}: {why}" for pattern, why in blocking if pattern.search(code)]
    assert not problems, problems
