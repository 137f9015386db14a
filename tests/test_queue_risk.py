"""The queue's risk (moderation/review/risk.py, migrations 0170-0171): the comment's highest attribute
probability, written by intake and the decision writer, backfilled for comments stored before, shown and
sorted by the queue (API, claims, UI).

Run alone: ``.venv/bin/pytest tests/test_queue_risk.py -q``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import pytest

from classifier import Scores
from moderation.app import create_app
from moderation.core import keys, migrations
from moderation.review import auth, queue, risk
from tests.conftest import comment_payload, post_webhook
from tests.test_review_auth import bearer, csrf_token, login, make_moderator
from tests.test_review_support import seed_comments

THREAT = "He deserves to be shot for what he did to this town."
SPAMMY = "Great deals on watches today, see my profile for the link."
CALM = "Thanks for the thorough reporting on the harbour plan."

# text -> attribute scores the (stand-in) model gives it; spam/abuse are spam/toxicity, as the model's are
_SCORES = {
    THREAT: {"toxicity": 0.71, "severe_toxicity": 0.2, "insult": 0.3, "threat": 0.98, "identity_attack": 0.02,
             "profanity": 0.01, "sexually_explicit": 0.01, "spam": 0.02},
    SPAMMY: {"toxicity": 0.05, "severe_toxicity": 0.01, "insult": 0.02, "threat": 0.01, "identity_attack": 0.01,
             "profanity": 0.01, "sexually_explicit": 0.01, "spam": 0.86},
}


def _scorer(texts: list[str]) -> list[Scores]:
    out = []
    for text in texts:
        attributes = _SCORES.get(text.split(" [")[0], {"toxicity": 0.03, "spam": 0.01, "threat": 0.01})
        if "[edited]" in text:
            attributes = {**attributes, "threat": 0.05, "toxicity": 0.9}
        out.append(Scores(spam=attributes["spam"], abuse=attributes["toxicity"], reasons={},
                          attributes=dict(attributes), language="en", language_supported=True, spam_signals=()))
    return out


async def _client(aiohttp_client: Any, config: Any) -> Any:
    """The app with a model stand-in that scores THREAT and SPAMMY as the module says, and premoderation (so
    the calm comment is held too, with a low risk), logged in to the UI as a moderator."""
    client = await aiohttp_client(create_app(config.with_changes(premoderation=True), score_fn=_scorer))
    await auth.create_moderator(client.app[keys.POOL], "mod@example.org", "correct horse battery staple", "admin")
    assert (await login(client)).status == 303
    client.csrf = await csrf_token(client)
    return client


async def _post(client: Any, external_id: str, text: str, event: str = "comment.created") -> dict[str, Any]:
    resp = await post_webhook(client, comment_payload(external_id, text, event=event))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["comment"]


async def test_held_threat_sorts_above_a_low_risk_comment_and_shows_its_risk(aiohttp_client: Any, config: Any,
                                                                             db: Any) -> None:
    """The issue: held for threat 0.98 (toxicity 0.71) it showed 0.71 in green and sorted below a comment held
    for spam 0.86.  Now its risk is 0.98, named 'threat', red, first in the queue, the claims and the UI."""
    client = await _client(aiohttp_client, config)
    calm = await _post(client, "calm-1", CALM)
    spammy = await _post(client, "spam-1", SPAMMY)
    threat = await _post(client, "threat-1", THREAT)
    assert threat["status"] == spammy["status"] == calm["status"] == "pending"
    assert any(r.get("attribute") == "threat" for r in threat["reasons"])

    stored = {r["external_id"]: r for r in await db.fetch("SELECT external_id, risk, queue_risk FROM comments")}
    assert stored["threat-1"]["risk"] == pytest.approx(0.71)          # the old generated column
    assert stored["threat-1"]["queue_risk"] == pytest.approx(0.98)    # written by intake_store()
    assert stored["spam-1"]["queue_risk"] == pytest.approx(0.86)
    assert stored["calm-1"]["queue_risk"] == pytest.approx(0.03)

    headers = await bearer(client, await make_moderator(client, "api@example.org"))
    body = await (await client.get("/v1/queue", headers=headers)).json()
    assert [(i["external_id"], i["risk"]) for i in body["items"]] == [
        ("threat-1", 0.98), ("spam-1", 0.86), ("calm-1", 0.03)]
    page1 = await (await client.get("/v1/queue?limit=1", headers=headers)).json()
    page2 = await (await client.get(f"/v1/queue?limit=2&cursor={page1['next_cursor']}", headers=headers)).json()
    assert [i["external_id"] for i in page1["items"] + page2["items"]] == ["threat-1", "spam-1", "calm-1"]
    searched = await (await client.get("/v1/queue?q=%22to+this+town%22+OR+harbour", headers=headers)).json()
    assert [i["external_id"] for i in searched["items"]] == ["threat-1", "calm-1"]

    claimed = await (await client.post("/v1/queue/claim", headers=headers, json={"limit": 1})).json()
    assert [(i["external_id"], i["risk"]) for i in claimed["items"]] == [("threat-1", 0.98)]

    html = await (await client.get("/moderate/queue")).text()
    assert re.findall(r'data-id="(\d+)"', html) == [str(threat["id"]), str(spammy["id"]), str(calm["id"])]
    cards = re.findall(r'<div class="risk (\w+)"[^>]*>\s*<span class="score">([\d.]+)</span>', html)
    assert cards == [("high", "0.98"), ("high", "0.86"), ("low", "0.03")]
    first = html[html.index(f'data-id="{threat["id"]}"'):]
    assert re.search(r'<span class="score">0\.98</span>\s*<span class="lbl">threat</span>', first)
    assert re.search(r'<span class="score">0\.86</span>\s*<span class="lbl">spam</span>', html)


async def test_an_edit_and_a_decision_rewrite_the_risk(aiohttp_client: Any, config: Any, db: Any) -> None:
    """The decision writer keeps queue_risk in step with the scores: an edit is re-scored (threat 0.05,
    toxicity 0.9: risk 0.9, toxicity), and a moderator's decision on a comment from before 0170 (queue_risk
    NULL) fills it."""
    client = await _client(aiohttp_client, config)
    threat = await _post(client, "threat-2", THREAT)
    await _post(client, "threat-2", THREAT + " [edited]", event="comment.updated")
    assert await db.fetchval("SELECT queue_risk FROM comments WHERE id = $1", threat["id"]) == pytest.approx(0.9)
    [item] = (await queue.list_queue(db))[0]
    assert item["risk"] == pytest.approx(0.9)

    [old] = await seed_comments(db, 1, prefix="old", spam=0.3, abuse=0.2)
    await db.execute("""UPDATE comments SET attributes = '{"threat": 0.97, "toxicity": 0.2, "spam": 0.3}'
                        WHERE id = $1""", old)
    assert await db.fetchval("SELECT queue_risk FROM comments WHERE id = $1", old) is None
    assert (await queue.items_by_id(db, [old]))[0]["risk"] == pytest.approx(0.3)   # coalesce(queue_risk, risk)
    headers = await bearer(client, await make_moderator(client, "api@example.org"))
    resp = await client.post(f"/v1/comments/{old}/decision", headers=headers, json={"action": "reject"})
    assert resp.status == 200, await resp.text()
    assert await db.fetchval("SELECT queue_risk FROM comments WHERE id = $1", old) == pytest.approx(0.97)


async def _unset(db: Any) -> int:
    return await db.fetchval("SELECT count(*) FROM comments WHERE queue_risk IS NULL")


async def test_backfill_fills_the_comments_stored_before(db: Any) -> None:
    """Comments written before 0170 (seeded straight into the table: queue_risk NULL) keep their old risk in
    the queue until the backfill fills them in small batches; then the queue sorts by the attribute scores.
    Nothing else of the rows changes (no updated_at, decision or audit entry)."""
    ids = await seed_comments(db, 23, prefix="b", spam=0.8, abuse=0.1)
    threat_id = ids[5]
    await db.execute("""UPDATE comments SET attributes = '{"toxicity": 0.71, "threat": 0.98, "spam": 0.02}',
                        spam_score = 0.02, abuse_score = 0.71 WHERE id = $1""", threat_id)
    await db.execute("UPDATE comments SET attributes = '{}', spam_score = 0, abuse_score = 0 WHERE id = $1",
                     ids[6])  # a language without heads: not scored
    before = {r["id"]: tuple(r) for r in await db.fetch(
        "SELECT id, status, updated_at, reasons, spam_score FROM comments")}
    counts = await db.fetchrow("SELECT (SELECT count(*) FROM decisions) d, (SELECT count(*) FROM audit_log) a")
    assert await _unset(db) == 23
    items, _ = await queue.list_queue(db, limit=50)
    assert next(i for i in items if i["id"] == threat_id)["risk"] == pytest.approx(0.71)   # old max(spam, abuse)
    assert items[0]["id"] != threat_id

    assert await risk.backfill(db, batch=5) == 23
    assert await _unset(db) == 0
    items, _ = await queue.list_queue(db, limit=50)
    assert [i["id"] for i in items[:2]] == [ids[6], threat_id]          # unscored counts as 1, then 0.98
    assert [i["risk"] for i in items[:2]] == [1.0, 0.98]
    rest = [i["risk"] for i in items[2:]]
    assert rest == sorted(rest, reverse=True) and rest[0] == pytest.approx(0.8 + 22 / 10_000)
    assert await db.fetchval("SELECT count(*) FROM comments WHERE queue_risk IS DISTINCT FROM risk "
                             "AND attributes IS NULL") == 0                # old-model rows: the same risk as before
    after = {r["id"]: tuple(r) for r in await db.fetch(
        "SELECT id, status, updated_at, reasons, spam_score FROM comments")}
    assert after == before
    assert await db.fetchrow("SELECT (SELECT count(*) FROM decisions) d, (SELECT count(*) FROM audit_log) a") == counts
    assert await risk.backfill(db) == 0                                   # done: the next start finds nothing


async def test_backfill_skips_a_locked_row_and_a_later_run_fills_it(db: Any, database_url: str) -> None:
    ids = await seed_comments(db, 4, prefix="l")
    holder = await asyncpg.connect(database_url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM comments WHERE id = $1 FOR UPDATE", ids[1])   # a decision in flight
        assert await asyncio.wait_for(risk.backfill(db, batch=2), 10) == 3               # never waits on it
        await tx.rollback()
    finally:
        await holder.close()
    assert await _unset(db) == 1
    assert await risk.backfill(db) == 1 and await _unset(db) == 0


async def test_each_start_runs_the_backfill(aiohttp_client: Any, config: Any, db: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(risk, "FIRST_RUN_MAX_DELAY_S", 0.0)
    await seed_comments(db, 3, prefix="s")
    assert await _unset(db) == 3
    await aiohttp_client(create_app(config))
    for _ in range(100):
        if await _unset(db) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _unset(db) == 0


async def test_the_queue_walks_the_risk_index(db: Any) -> None:
    """Pages and claims read coalesce(queue_risk, risk) in the index's own order: no sort of the queue."""
    await seed_comments(db, 300, prefix="i")
    await risk.backfill(db)
    await seed_comments(db, 100, prefix="j", status="approved")
    await db.execute("ANALYZE comments")
    order_by, keyset, _ = queue._ORDERS["risk"]
    w = queue._Where()
    queue._filters(w, status="pending", reason=None, article=None, author=None, q=None)
    w.add(keyset, 0.5, 10**9)
    plan = "\n".join(r[0] for r in await db.fetch(
        f"EXPLAIN SELECT c.id FROM comments c{w.sql()} ORDER BY {order_by} LIMIT 51", *w.args))
    assert "comments_queue_by_risk" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize(("attributes", "spam", "abuse", "expected"), [
    ({"toxicity": 0.71, "threat": 0.98, "spam": 0.02}, 0.02, 0.71, (0.98, "threat")),
    ({"toxicity": 0.4, "profanity": 0.4}, 0.0, 0.4, (0.4, "toxicity")),       # the first of equal scores
    ({"toxicity": 0.2}, 0.0, 0.2, (0.2, "toxicity")),                          # Arabic: toxicity only
    ({}, 0.0, 0.0, (1.0, None)),                                               # a language without heads
    (None, 0.6, 0.1, (0.6, "spam")),                                           # a model before attributes
    (None, 0.1, 0.3, (0.3, "abuse")),
    (None, None, None, (1.0, None)),                                           # unscored
    (None, 0.3, None, (1.0, None)),
    ({"toxicity": "high", "spam": 0.2, "insult": True}, 0.2, 0.0, (0.2, "spam")),  # only numbers count
    ({"threat": 0.3, "not_an_attribute": 0.99}, 0.0, 0.0, (0.3, "threat")),    # only the model's attributes
    ({"threat": None}, 0.0, 0.0, (1.0, None)),
    ([0.9], 0.2, 0.1, (0.2, "spam")),                                          # not an object: spam/abuse
])
async def test_sql_and_python_agree(db: Any, attributes: Any, spam: Any, abuse: Any, expected: Any) -> None:
    value, attribute = risk.risk_of(attributes, spam, abuse)
    assert (round(value, 4), attribute) == expected
    in_sql = await db.fetchval("SELECT queue_risk_of($1::jsonb, $2, $3)", attributes, spam, abuse)
    assert in_sql == pytest.approx(value, abs=1e-6)


async def test_an_upgraded_release_with_comments_gets_its_risk(postgres: Any) -> None:
    """A database written by stop 9's own code (5 comments): after the migrations the queue still shows each
    comment's old risk, and the backfill gives them queue_risk (their max(spam, abuse): no attributes then)."""
    from tests.migration_support import SCHEMAS, empty_database

    dsn = await empty_database(postgres)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute((SCHEMAS / "stop09-938e2c2.install.sql").read_text())
        await conn.execute("RESET search_path")
    finally:
        await conn.close()
    await migrations.migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        old = {r["id"]: r["risk"] for r in await conn.fetch("SELECT id, risk FROM comments")}
        assert len(old) == 5 and await _unset(conn) == 5
        shown = {i["id"]: i["risk"] for status in queue.STATUSES
                 for i in (await queue.list_queue(conn, status=status, limit=50))[0]}
        assert shown == {k: round(v, 4) for k, v in old.items()}
        assert await risk.backfill(conn) == 5
        assert {r["id"]: r["queue_risk"] for r in await conn.fetch("SELECT id, queue_risk FROM comments")} == old
        assert await conn.fetchval("SELECT count(*) FROM comments WHERE queue_risk IS NULL") == 0
    finally:
        await conn.close()
