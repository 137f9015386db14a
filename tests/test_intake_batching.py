"""Intake's hot-path machinery: batched reads/writes on held connections, and the scoring processes."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from moderation.app import create_app
from moderation.core import keys
from moderation.decisions.decide import explain_min
from moderation.intake import scoring
from moderation.intake.group_commit import GroupCommitWriter
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


async def test_a_failing_row_does_not_fail_its_set_based_batch(client: Any, db: Any) -> None:
    """The same with a set-based statement (``columns``, as intake's group commit): one statement per batch, and
    when it fails its rows are retried one by one, each alone in the arrays."""
    pool = client.server.app[keys.POOL]
    await db.execute("CREATE TABLE batch_probe (n int PRIMARY KEY CHECK (n >= 0))")
    statement = ("INSERT INTO batch_probe (n) SELECT u.n FROM unnest($1::int[]) WITH ORDINALITY AS u(n, ord) "
                 "ORDER BY u.ord RETURNING n")
    batcher = GroupCommitWriter(pool, statement, name="probe", columns=lambda rows: [[n for (n,) in rows]])
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.write((n,)) for n in (1, 2, -3, 4)), return_exceptions=True)
        assert [r["n"] for r in results if not isinstance(r, BaseException)] == [1, 2, 4]
        assert isinstance(results[2], Exception)
        assert batcher.batches >= 2  # the failed batch, then its rows alone
    finally:
        await batcher.close()
    assert sorted(r["n"] for r in await db.fetch("SELECT n FROM batch_probe")) == [1, 2, 4]

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


async def test_one_group_commit_statement_handles_duplicates_within_its_batch(client: Any, db: Any) -> None:
    """intake_store_batch writes a whole batch in one statement: a webhook-id twice in one batch stores one
    receipt and one comment (the second row is a replay); a CMS id twice under two webhook-ids stores one
    comment; an article's url/title end up as the batch's latest non-NULL values; every stored comment gets
    its decision row."""
    from datetime import UTC, datetime

    from moderation.core.sql import Q
    from moderation.intake.group_commit import store_columns

    ids = [r["id"] for r in await db.fetch("SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id "
                                           "FROM generate_series(1, 4)")]

    def row(webhook_id: str, comment_id: int, external_id: str, url: str | None, title: str | None) -> tuple:
        return (webhook_id, '{"comment": {}}', comment_id, external_id, "art-dup", url, title, None, "reader-1",
                "Ann", None, None, "text", "fp", "approved", 0.1, 0.2, "v1", '[{"code": "clean", "message": "ok"}]',
                "clean", '{"spam_hold": 0.5}', datetime.now(UTC), "en", '{"toxicity": 0.2, "spam": 0.1}', None, True)

    rows = [row("msg_a", ids[0], "c-dup-1", "https://a.example/1", None),
            row("msg_a", ids[1], "c-dup-1", None, None),                     # same webhook-id: a replay
            row("msg_b", ids[2], "c-dup-2", None, "Title"),
            row("msg_c", ids[3], "c-dup-2", None, None)]                     # same CMS id, other webhook-id
    result = await db.fetch(Q.intake_store_batch, *store_columns(rows))
    assert [(r["receipt_new"], r["comment_new"]) for r in result] == [(True, True), (False, False),
                                                                      (True, True), (True, False)]
    assert await db.fetchval("SELECT count(*) FROM comments WHERE external_id LIKE 'c-dup-%'") == 2
    assert await db.fetchval("SELECT count(*) FROM decisions WHERE comment_id = ANY($1::bigint[])", ids) == 2
    assert await db.fetchval("SELECT reason_codes FROM comments WHERE id = $1", ids[0]) == ["clean"]
    article = await db.fetchrow("SELECT url, title FROM articles WHERE id = 'art-dup'")
    assert (article["url"], article["title"]) == ("https://a.example/1", "Title")


def test_word_lists_prefilter_equals_the_terms_own_patterns() -> None:
    """WordLists._any (rewritten so that ``re`` can skip to a term's first character) matches exactly when
    one of the terms' own patterns matches, on generated adversarial texts and lists."""
    import random

    from classifier.rules import WordLists, normalise
    from classifier.rules_default import BANNED, SUSPECT

    rng = random.Random(3)
    alphabet = "aabdeiklostu $@!.-_*'\n\t1037é"
    lists = [WordLists(BANNED, SUSPECT), WordLists(["a", "aa b", "$$$", "!x", "é t", "ss"], ["o  o", "k-k"])]
    for _ in range(40):
        terms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(5)]
        lists.append(WordLists(terms[:2], terms[2:]))
    words = [*BANNED, *SUSPECT, "idiooot", "i d i o t", "class", "assess", "s.h.i.t", "fucks", "a", "b"]
    for lists_ in lists:
        entries = lists_._entries
        for _ in range(150):
            text = " ".join(rng.choice(words) if rng.random() < 0.3 else
                            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
                            for _ in range(rng.randint(0, 6)))
            norm = normalise(text)
            expected = any(rx.search(norm) for _, _, rx in entries)
            assert (lists_._any is not None and lists_._any.search(norm) is not None) == expected, (text, norm)


def test_explanations_only_where_a_decision_quotes_them() -> None:
    """Model.score(explain_min=...) gives the same probabilities, the same reasons for every attribute at or
    above its floor, and no reasons (no work) for the others."""
    from classifier import load_model
    from moderation.core.config import Thresholds

    model = load_model()
    texts = ["Thanks for the thoughtful article.", "BUY CHEAP PILLS NOW http://spam.example.com !!!",
             "you are a stupid idiot", "The council meets on Tuesday.", "Subscribe to my channel!!! bit.ly/x"]
    floors = explain_min(Thresholds())
    full, lean = model.score(texts), model.score(texts, explain_min=floors)
    explained = skipped = 0
    for f, s in zip(full, lean, strict=True):
        assert (s.spam, s.abuse, s.attributes) == (f.spam, f.abuse, f.attributes)
        assert s.reasons.keys() == f.reasons.keys()
        for key, reasons in f.reasons.items():
            attribute = "toxicity" if key == "abuse" else key
            if f.attributes[attribute] >= floors[attribute]:
                assert s.reasons[key] == reasons
                explained += 1
            else:
                assert s.reasons[key] == []
                skipped += bool(reasons)
    assert explained and skipped  # some attributes explained; some reasons of attributes below a floor saved
    assert model.score(texts[:1], explain_min={"spam": 2.0, "abuse": 2.0})[0].reasons == {
        **{a: [] for a in model.attributes_for("en")}, "abuse": []}


async def test_the_service_scores_with_its_decision_thresholds(aiohttp_client: Any, config: Any) -> None:
    """The app's scoring processes are told the thresholds (so a clean comment is not explained), and a
    held comment's decision still quotes the model's reasons."""
    client = await aiohttp_client(create_app(config.with_changes(scoring_processes=1)))
    app = client.server.app
    batcher = app[keys.SCORER]
    assert isinstance(getattr(batcher, "_executor", None), scoring.ScoringProcesses)
    assert batcher._score_fn.keywords == {"explain_min": explain_min(app[keys.THRESHOLDS])}
    clean = await (await post_webhook(client, comment_payload("c-clean", "The council meets on Tuesday."))).json()
    assert clean["comment"]["status"] == "approved"
    answer = await post_webhook(client, comment_payload("c-explain", "BUY CHEAP PILLS NOW http://spam.example.com "
                                                                     "visit www.cheap-pills.example.com !!!"))
    body = await answer.json()
    assert body["comment"]["status"] in ("pending", "spam")
    spam_reason = next(r for r in body["comment"]["reasons"] if r["code"] == "spam")
    assert " — " in spam_reason["message"]  # the model's top terms are quoted
