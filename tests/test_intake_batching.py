"""Intake's hot-path machinery: batched reads/writes on held connections, and the scoring processes."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from moderation import keys, scoring
from moderation.app import create_app
from moderation.group_commit import GroupCommitWriter
from tests.conftest import comment_payload, post_webhook


async def test_concurrent_webhooks_share_read_and_write_batches(client: Any, db: Any) -> None:
    """Concurrent comments share intake_context reads and group commits; every one is stored and answered."""
    app = client.server.app
    reader, writer = app[keys.INTAKE_READER], app[keys.INTAKE_WRITER]
    payloads = [comment_payload(f"c-batch-{i}", f"Comment number {i} about the council budget.")
                for i in range(24)]
    answers = await asyncio.gather(*(post_webhook(client, p) for p in payloads))
    assert [a.status for a in answers] == [200] * 24
    ids = sorted([(await a.json())["comment"]["id"] for a in answers])
    assert len(set(ids)) == 24
    assert await db.fetchval("SELECT count(*) FROM comments WHERE external_id LIKE 'c-batch-%'") == 24
    assert await db.fetchval("SELECT count(*) FROM decisions d JOIN comments c ON c.id = d.comment_id "
                             "WHERE c.external_id LIKE 'c-batch-%'") == 24
    assert reader.rows >= 24 and writer.rows >= 24
    assert reader.batches < reader.rows and writer.batches < writer.rows  # batched, not one round trip each


async def test_a_failing_row_does_not_fail_its_batch(client: Any, db: Any) -> None:
    """A bad row in a group-commit batch fails alone (rows are retried one by one); the batcher keeps going."""
    pool = client.server.app[keys.POOL]
    await db.execute("CREATE TABLE batch_probe (n int PRIMARY KEY CHECK (n >= 0))")
    batcher = GroupCommitWriter(pool, "INSERT INTO batch_probe (n) VALUES ($1) RETURNING n", name="probe")
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.write((n,)) for n in (1, 2, -3, 4)), return_exceptions=True)
        assert [r["n"] for r in results if not isinstance(r, BaseException)] == [1, 2, 4]
        assert isinstance(results[2], Exception)
        assert (await batcher.write((5,)))["n"] == 5  # its connection was replaced and works
    finally:
        await batcher.close()
    assert sorted(r["n"] for r in await db.fetch("SELECT n FROM batch_probe")) == [1, 2, 4, 5]


async def test_batchers_give_their_connections_back_with_a_tiny_pool(aiohttp_client: Any, config: Any) -> None:
    """With a pool of 2 the batchers acquire per batch instead of holding connections, so nothing starves."""
    client = await aiohttp_client(create_app(config.with_changes(db_pool_size=2)))
    answers = await asyncio.gather(*(post_webhook(client, comment_payload(f"c-tiny-{i}")) for i in range(6)))
    assert [a.status for a in answers] == [200] * 6
    assert (await client.get("/readyz")).status == 200


async def test_scoring_processes_score_on_the_loop_and_replace_a_dead_worker() -> None:
    loop = asyncio.get_running_loop()
    pool = scoring.process_pool(1, None)
    try:
        first = await loop.run_in_executor(pool, scoring.score, ["Thanks for the article", "BUY CHEAP PILLS NOW"])
        assert len(first) == 2 and 0 <= first[0].spam <= 1
        with pytest.raises(BrokenProcessPool):  # the worker dies in the middle of a call
            await loop.run_in_executor(pool, os._exit, 3)
        again = await loop.run_in_executor(pool, scoring.score, ["Thanks for the article"])
        assert again[0].spam == pytest.approx(first[0].spam)
        with pytest.raises(ZeroDivisionError):  # an exception in the worker is the caller's exception
            await loop.run_in_executor(pool, divmod, 1, 0)
        calls = [loop.run_in_executor(pool, scoring.score, [f"text {i}"]) for i in range(5)]  # queued behind
        assert [len(r) for r in await asyncio.gather(*calls)] == [1] * 5
    finally:
        await loop.run_in_executor(None, lambda: pool.shutdown(wait=True, cancel_futures=True))
    with pytest.raises(RuntimeError):
        pool.submit(scoring.score, ["after shutdown"])


async def test_scoring_processes_that_cannot_load_the_model_fail_fast(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    pool = scoring.process_pool(1, tmp_path / "no-model-here")
    try:
        with pytest.raises(BrokenProcessPool):
            await asyncio.wait_for(loop.run_in_executor(pool, scoring.score, ["hello"]), 60)
        with pytest.raises(BrokenProcessPool):  # and stays off instead of respawning in a loop
            pool.submit(scoring.score, ["hello"])
    finally:
        await loop.run_in_executor(None, lambda: pool.shutdown(wait=True, cancel_futures=True))
