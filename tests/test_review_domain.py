"""Review domain functions called directly with a real Postgres connection: queue, claims, decisions,
undo, bulk, commenters, word lists and the append-only audit log."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from moderation.core import audit
from moderation.core.problems import Problem
from moderation.review import commenters, decisions, queue, wordlists
from tests.test_review_support import actor, seed_comments


def slug(exc: pytest.ExceptionInfo[Problem]) -> str:
    return exc.value.slug


async def callback_body(db: asyncpg.Connection, comment_id: int) -> dict[str, Any]:
    """The body the outbox worker would POST for the comment's latest outbox row."""
    from moderation.core.sql import Q
    from moderation.decisions.payload import callback_payload

    row = await db.fetchrow(f"{Q.outbox_rows_select} WHERE o.comment_id = $1 ORDER BY o.id DESC LIMIT 1", comment_id)
    body = callback_payload(row)
    assert body is not None
    return body


# ── queue ───────────────────────────────────────────────────────────────────────────────────────────
async def test_queue_orders_by_risk_and_paginates_with_keyset(db: Any) -> None:
    ids = await seed_comments(db, 7)
    await seed_comments(db, 2, status="approved", prefix="ok")
    page1, cur = await queue.list_queue(db, limit=3)
    assert [i["id"] for i in page1] == ids[::-1][:3]      # highest risk first
    assert cur is not None
    page2, cur2 = await queue.list_queue(db, limit=3, cursor=cur)
    page3, cur3 = await queue.list_queue(db, limit=3, cursor=cur2)
    assert [i["id"] for i in page2 + page3] == ids[::-1][3:]
    assert cur3 is None
    oldest, _ = await queue.list_queue(db, order="age", limit=2)
    assert [i["id"] for i in oldest] == ids[:2]
    item = page1[0]
    assert item["article"]["url"] == "https://news.example/art-1" and item["article"]["title"] == "Article art-1"
    assert item["author"]["history"] == {"pending": 7, "approved": 2}
    assert item["scores"]["spam"] > 0.6 and item["reasons"][0]["code"] == "spam" and item["claimed_by"] is None


async def test_queue_filters_and_parent(db: Any) -> None:
    await seed_comments(db, 1, status="approved", prefix="parent", text="The original parent remark")
    await seed_comments(db, 2, article="art-2", author="troll", prefix="t", parent="parent-0",
                        reason_codes=("abuse",))
    await seed_comments(db, 3)
    items, _ = await queue.list_queue(db, article="art-2")
    assert len(items) == 2 and all(i["article"]["id"] == "art-2" for i in items)
    assert items[0]["parent"]["text"] == "The original parent remark"
    assert len((await queue.list_queue(db, author="troll"))[0]) == 2
    assert len((await queue.list_queue(db, reason="abuse"))[0]) == 2
    assert len((await queue.list_queue(db, status="approved"))[0]) == 1
    with pytest.raises(Problem) as exc:
        await queue.list_queue(db, status="bogus", order="sideways")
    fields = {e["field"] for e in exc.value.body_dict["errors"]}
    assert fields == {"status", "order"}
    with pytest.raises(Problem) as exc:
        await queue.list_queue(db, cursor="not-a-cursor!!")
    assert exc.value.body_dict["errors"][0]["field"] == "cursor"


async def test_keyword_and_exact_phrase_search(db: Any) -> None:
    await seed_comments(db, 1, prefix="a", text="The mayor lied about the budget.")
    await seed_comments(db, 1, prefix="b", text="Budget lies everywhere, said the mayor")
    await seed_comments(db, 1, prefix="c", text="Nothing to see here")
    hits = {i["external_id"] for i in (await queue.list_queue(db, q="mayor budget"))[0]}
    assert hits == {"a-0", "b-0"}
    hits = {i["external_id"] for i in (await queue.list_queue(db, q='"mayor lied"'))[0]}
    assert hits == {"a-0"}
    hits = {i["external_id"] for i in (await queue.list_queue(db, q='"the budget."'))[0]}
    assert hits == {"a-0"}  # punctuation counts in an exact phrase
    hits = {i["external_id"] for i in (await queue.list_queue(db, q="mayor -lied"))[0]}
    assert hits == {"b-0"}
    assert (await queue.list_queue(db, q="%_\\"))[0] == []


# ── claims ──────────────────────────────────────────────────────────────────────────────────────────
async def test_claims_are_disjoint_and_expire(db: Any, database_url: str) -> None:
    ids = await seed_comments(db, 10)
    a = await queue.claim(db, 1, 4)
    b = await queue.claim(db, 2, 4)
    c = await queue.claim(db, 3, 4)
    got = [i["id"] for i in a + b + c]
    assert len(got) == len(set(got)) == 10 and set(got) == set(ids)
    assert all(i["claimed_by"] == 1 for i in a)
    assert [i["id"] for i in a] == ids[::-1][:4]   # highest risk first
    mine, _ = await queue.list_queue(db, claimed_by=2)
    assert {i["id"] for i in mine} == {i["id"] for i in b}
    # an abandoned (expired) claim returns to the pool
    await db.execute("UPDATE comments SET claim_expires_at = now() - interval '1 second' WHERE claimed_by = 1")
    again = await queue.claim(db, 4, 10)
    assert {i["id"] for i in again} == {i["id"] for i in a}
    assert await queue.release(db, 4, [again[0]["id"]]) == [again[0]["id"]]


async def test_concurrent_claims_never_overlap(db: Any, database_url: str) -> None:
    await seed_comments(db, 200)
    conns = [await asyncpg.connect(database_url) for _ in range(8)]
    for c in conns:
        await c.set_type_codec("jsonb", encoder=__import__("json").dumps, decoder=__import__("json").loads,
                               schema="pg_catalog")
    try:
        async def worker(n: int, conn: Any) -> list[int]:
            got: list[int] = []
            while batch := await queue.claim(conn, n, 7):
                got += [i["id"] for i in batch]
            return got
        results = await asyncio.gather(*(worker(n, c) for n, c in enumerate(conns, 1)))
    finally:
        for c in conns:
            await c.close()
    flat = [i for r in results for i in r]
    assert len(flat) == len(set(flat)) == 200


# ── decisions ───────────────────────────────────────────────────────────────────────────────────────
async def test_apply_records_decision_outbox_and_audit(db: Any, config: Any) -> None:
    cfg = config.with_changes(callback_url="http://127.0.0.1:9/cms")
    [cid] = await seed_comments(db, 1)
    await queue.claim(db, 1, 1)
    out = await decisions.apply(db, cfg, cid, "reject", actor(1), "insults")
    assert out["comment"]["status"] == "rejected" and out["decision"]["from_status"] == "pending"
    row = await db.fetchrow("SELECT status, claimed_by FROM comments WHERE id = $1", cid)
    assert row["status"] == "rejected" and row["claimed_by"] is None      # the claim ends with the decision
    d = await db.fetchrow("SELECT * FROM decisions WHERE id = $1", out["decision"]["decision_id"])
    assert d["actor"] == "moderator:1" and d["action"] == "reject" and d["note"] == "insults"
    ob = await db.fetchrow("SELECT * FROM outbox WHERE comment_id = $1", cid)
    assert ob["event_type"] == "comment.rejected" and ob["decision_id"] == out["decision"]["decision_id"]
    assert (await callback_body(db, cid))["data"]["decided_by"] == "moderator:1"
    assert ob["webhook_id"].startswith("msg_")
    a = await db.fetchrow("SELECT * FROM audit_log WHERE target_id = $1", str(cid))
    assert a["action"] == "decision.reject" and a["before"] == {"status": "pending"} and a["reason"] == "insults"
    # impossible transitions and unknown ids
    with pytest.raises(Problem) as exc:
        await decisions.apply(db, cfg, cid, "reject", actor(2), None)
    assert slug(exc) == "conflict" and exc.value.body_dict["current_status"] == "rejected"
    with pytest.raises(Problem) as exc:
        await decisions.apply(db, cfg, 999_999, "approve", actor(1), None)
    assert slug(exc) == "not-found"
    with pytest.raises(Problem) as exc:
        await decisions.apply(db, cfg, cid, "destroy", actor(1), 5)
    assert {e["field"] for e in exc.value.body_dict["errors"]} == {"action", "reason"}
    await db.execute("UPDATE comments SET status = 'deleted' WHERE id = $1", cid)
    with pytest.raises(Problem) as exc:
        await decisions.apply(db, cfg, cid, "approve", actor(1), None)
    assert slug(exc) == "conflict"


async def test_not_spam_approves_and_no_outbox_without_callback_url(db: Any, config: Any) -> None:
    [cid] = await seed_comments(db, 1, status="spam")
    out = await decisions.apply(db, config, cid, "not_spam", actor(), None)
    assert out["comment"]["status"] == "approved"
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_undo_restores_and_is_audited(db: Any, config: Any) -> None:
    cfg = config.with_changes(callback_url="http://127.0.0.1:9/cms")
    [cid] = await seed_comments(db, 1)
    d = (await decisions.apply(db, cfg, cid, "spam", actor(1), None))["decision"]["decision_id"]
    out = await decisions.undo(db, cfg, d, actor(2))
    assert out["comment"]["status"] == "pending" and out["decision"]["undid"] == d
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "pending"
    events = [r["event_type"] for r in await db.fetch("SELECT event_type FROM outbox ORDER BY id")]
    assert events == ["comment.spam", "comment.pending"]
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'decision.undo'")
    assert entry["actor"] == "moderator:2" and entry["target_id"] == str(d)
    with pytest.raises(Problem) as exc:     # already undone: no longer the latest decision
        await decisions.undo(db, cfg, d, actor(2))
    assert slug(exc) == "conflict"
    with pytest.raises(Problem) as exc:     # the undo itself isn't undoable; automatic decisions neither
        await decisions.undo(db, cfg, out["decision"]["decision_id"], actor(2))
    assert slug(exc) == "conflict"
    with pytest.raises(Problem) as exc:
        await decisions.undo(db, cfg, 10**9, actor(2))
    assert slug(exc) == "not-found"


async def test_bulk_by_ids_is_all_or_nothing(db: Any, config: Any) -> None:
    ids = await seed_comments(db, 5)
    [done] = await seed_comments(db, 1, status="rejected", prefix="r")
    with pytest.raises(Problem) as exc:
        await decisions.bulk(db, config, "reject", actor(), "spam wave", ids=[*ids, 424242])
    assert slug(exc) == "not-found" and exc.value.body_dict["missing"] == [424242]
    assert await db.fetchval("SELECT count(*) FROM comments WHERE status = 'rejected'") == 1   # nothing changed
    out = await decisions.bulk(db, config, "reject", actor(), "spam wave", ids=[*ids, done])
    assert out["count"] == 5 and out["unchanged"] == [done]
    assert await db.fetchval("SELECT count(*) FROM comments WHERE status = 'rejected'") == 6
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'decision.reject'") == 5
    bulk_entry = await db.fetchrow("SELECT * FROM audit_log WHERE action = 'decision.bulk'")
    assert sorted(bulk_entry["after"]["comment_ids"]) == ids
    with pytest.raises(Problem) as exc:
        await decisions.bulk(db, config, "reject", actor(), None, ids=["x"])
    assert exc.value.body_dict["errors"][0]["field"] == "ids[0]"
    with pytest.raises(Problem):
        await decisions.bulk(db, config, "reject", actor(), None)


async def test_bulk_by_filter(db: Any, config: Any) -> None:
    await seed_comments(db, 3, author="troll", prefix="t", text="buy cheap pills {i}")
    await seed_comments(db, 2, author="fine", prefix="f")
    out = await decisions.bulk(db, config, "spam", actor(), None, filter={"author": "troll"})
    assert out["count"] == 3
    assert await db.fetchval("SELECT count(*) FROM comments WHERE status = 'spam'") == 3
    out = await decisions.bulk(db, config, "approve", actor(), None, filter={"q": "pills", "status": "spam"})
    assert out["count"] == 3
    with pytest.raises(Problem) as exc:
        await decisions.bulk(db, config, "approve", actor(), None, filter={"colour": "red"})
    assert exc.value.body_dict["errors"][0]["field"] == "filter.colour"
    with pytest.raises(Problem) as exc:
        await decisions.bulk(db, config, "approve", actor(), None, filter={"status": "nope"})
    assert exc.value.body_dict["errors"][0]["field"] == "filter.status"


async def test_comment_detail_has_decision_history(db: Any, config: Any) -> None:
    [cid] = await seed_comments(db, 1)
    await decisions.apply(db, config, cid, "approve", actor(), "fine")
    detail = await queue.get_comment(db, cid)
    assert [d["action"] for d in detail["decisions"]] == ["created", "approve"]
    assert detail["decisions"][0]["model_version"] == "test-model"
    assert detail["decisions"][1]["note"] == "fine" and detail["thresholds"]["spam_reject"] == 0.9
    with pytest.raises(Problem):
        await queue.get_comment(db, 10**9)


# ── commenters ──────────────────────────────────────────────────────────────────────────────────────
async def test_block_unblock_and_history(db: Any) -> None:
    await seed_comments(db, 2, author="troll", prefix="t")
    await seed_comments(db, 1, author="troll", prefix="u", status="approved")
    b = await commenters.block(db, "author", "troll", "spam wave", actor())
    assert b["reason"] == "spam wave"
    assert (await commenters.block(db, "author", "troll", "still", actor()))["reason"] == "still"
    await commenters.block(db, "ip_hash", "iphash-1", "", actor())
    h = await commenters.history(db, "troll")
    assert h["counts"]["pending"] == 2 and h["counts"]["approved"] == 1 and h["total"] == 3
    assert h["blocked"] and {x["kind"] for x in h["blocks"]} == {"author", "ip_hash"}
    listed, _ = await commenters.list_blocked(db)
    assert len(listed) == 2
    await commenters.unblock(db, "author", "troll", actor())
    with pytest.raises(Problem) as exc:
        await commenters.unblock(db, "author", "troll", actor())
    assert slug(exc) == "not-found"
    with pytest.raises(Problem) as exc:
        await commenters.block(db, "email", "", None, actor())
    assert {e["field"] for e in exc.value.body_dict["errors"]} == {"kind", "value"}
    with pytest.raises(Problem):
        await commenters.history(db, "nobody")
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["commenter.block", "commenter.block", "commenter.block", "commenter.unblock"]


# ── word lists ──────────────────────────────────────────────────────────────────────────────────────
async def test_word_lists_edit(db: Any) -> None:
    entry, created = await wordlists.add(db, "banned", "  Scam  Link ", actor())
    assert created and entry["term"] == "scam link"
    assert (await wordlists.add(db, "banned", "scam link", actor()))[1] is False
    assert "scam link" in [e["term"] for e in (await wordlists.list_terms(db))["banned"]]
    await wordlists.remove(db, "banned", "SCAM LINK", actor())
    with pytest.raises(Problem):
        await wordlists.remove(db, "banned", "scam link", actor())
    with pytest.raises(Problem) as exc:
        await wordlists.add(db, "naughty", " ", actor())
    assert {e["field"] for e in exc.value.body_dict["errors"]} == {"list", "term"}


# ── audit ───────────────────────────────────────────────────────────────────────────────────────────
async def test_audit_is_append_only_and_searchable(db: Any) -> None:
    for i in range(5):
        await audit.record(db, actor(i % 2), "decision.approve" if i < 3 else "word_list.add", "comment", i,
                           {"status": "pending"}, {"status": "approved"}, "r")
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await db.execute(sql)
    page, cur = await audit.search(db, limit=2)
    assert [e["target"]["id"] for e in page] == ["4", "3"] and cur
    page2, _ = await audit.search(db, limit=2, cursor=cur)
    assert [e["target"]["id"] for e in page2] == ["2", "1"]
    assert len((await audit.search(db, actor="moderator:1"))[0]) == 2
    assert len((await audit.search(db, action="decision.*"))[0]) == 3
    assert len((await audit.search(db, target_type="comment", target_id="3"))[0]) == 1


async def test_search_text_is_quoted_safely(db: Any) -> None:
    await seed_comments(db, 1, prefix="a", text="dollar $q$ quoting and 'quotes'")
    for q in ["$q$", "'; DROP TABLE comments; --", "$q$'); DROP TABLE comments; --", '"$q$ quoting"', "\\"]:
        await queue.list_queue(db, q=q)
    hits = [i["external_id"] for i in (await queue.list_queue(db, q='"$q$ quoting"'))[0]]
    assert hits == ["a-0"]
    assert await db.fetchval("SELECT count(*) FROM comments") == 1


HOSTILE_VALUES = ["x$q", "$q", "$q$", "$$", "a'b", "'; DROP TABLE comments; --", "\\", '"x$q"', '"a b$q"', "%_"]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_every_queue_filter_binds_its_value(db: Any, value: str) -> None:
    """Filters are bound parameters, never SQL text: a value ending in ``$q`` broke the old dollar quoting
    (a 500); every filter, in the queue listing and in a bulk decision's filter, takes any value."""
    await seed_comments(db, 1, prefix="h", text=f"holds {value} inside", author=value, article=value)
    for name in ("reason", "article", "author", "q"):  # language is a checked code (en, ar, ...)
        items, _ = await queue.list_queue(db, **{name: value})
        if name in ("article", "author"):
            assert [i["external_id"] for i in items] == ["h-0"], name
    where, args = queue.filter_sql(queue.validate_filters(q=f'"{value}"', author=value, article=value,
                                                          reason=value))
    assert value not in where and value in args
    assert await db.fetchval("SELECT count(*) FROM comments") == 1


async def test_forged_cursors_are_422(db: Any) -> None:
    from moderation.core import pagination

    await seed_comments(db, 3)
    for forged in (pagination.encode(float("nan"), 1), pagination.encode("x", 1), pagination.encode(0.5),
                   pagination.encode("not-a-date", 2)):
        for order in ("risk", "age"):
            with pytest.raises(Problem) as exc:
                await queue.list_queue(db, cursor=forged, order=order)
            assert exc.value.body_dict["errors"][0]["field"] == "cursor"


async def test_bulk_writes_the_rows_one_decision_writes(db: Any, config: Any) -> None:
    """Bulk and single decisions go through the one writer: the same decision, audit and outbox rows per
    comment; the callback body is built from the decision row, and says what the MODERATOR did and why
    (not the model's earlier "held: spam 0.61 — …" reasons)."""
    cfg = config.with_changes(callback_url="http://127.0.0.1:9/cms")
    ids = await seed_comments(db, 3, spam=0.61237)
    [unscored] = await seed_comments(db, 1, spam=None, abuse=None, prefix="u")
    [single] = await seed_comments(db, 1, spam=0.61237, prefix="s")
    out = await decisions.bulk(db, cfg, "spam", actor(4), "wave", ids=[*ids, unscored])
    await decisions.apply(db, cfg, single, "spam", actor(4), "wave")
    assert [c["comment_id"] for c in out["changed"]] == sorted([*ids, unscored])
    assert all(c["from_status"] == "pending" and c["to_status"] == "spam" for c in out["changed"])
    batch = {r["comment_id"]: r for r in await db.fetch("SELECT * FROM outbox ORDER BY id")}
    ref = await db.fetchrow("SELECT * FROM decisions WHERE comment_id = $1 AND actor = $2", single, actor(4))
    skip = {"id", "created_at", "comment_id", "spam_score"}
    for cid in [*ids, unscored]:
        row = await db.fetchrow("SELECT * FROM comments WHERE id = $1", cid)
        got = await callback_body(db, cid)
        assert batch[cid]["payload"] is None      # built at delivery time from the decision row
        assert batch[cid]["event_type"] == "comment.spam" and got["type"] == "comment.spam"
        d = await db.fetchrow("SELECT * FROM decisions WHERE comment_id = $1 AND actor = $2", cid, actor(4))
        assert batch[cid]["decision_id"] == d["id"]
        assert got["timestamp"] == d["created_at"].isoformat()            # the decision's time, in UTC
        assert got["data"]["reasons"] == [{"code": "moderator", "outcome": "spam", "action": "spam",
                                           "note": "wave", "message": "marked as spam by a moderator: wave"}]
        assert got["data"]["decided_by"] == actor(4) and got["data"]["action"] == "spam"
        assert got["data"]["external_id"] == row["external_id"] and got["data"]["status"] == "spam"
        assert got["data"]["scores"] == (None if cid == unscored else {"spam": round(row["spam_score"], 4),
                                                                        "abuse": round(row["abuse_score"], 4)})
        assert row["reasons"][0]["code"] != "moderator"   # the comment keeps the evidence it was held on
        if cid != unscored:
            assert {k: v for k, v in d.items() if k not in skip} == {k: v for k, v in ref.items() if k not in skip}
        a = await db.fetchrow("SELECT * FROM audit_log WHERE target_id = $1", str(cid))
        assert a["action"] == "decision.spam" and a["before"] == {"status": "pending"} and a["reason"] == "wave"
        assert a["after"] == {"status": "spam", "comment_id": cid, "decision_id": d["id"]}
    entry = await db.fetchrow("SELECT * FROM audit_log WHERE id = $1", out["audit_id"])
    assert entry["action"] == "decision.bulk" and entry["before"] == {"ids": sorted([*ids, unscored])}
    assert entry["after"]["decision_ids"] == [c["decision_id"] for c in out["changed"]]
    assert entry["after"]["unchanged"] == [] and entry["target_id"] == "4 comments"
    # deleted comments refuse the whole batch, writing nothing
    [gone] = await seed_comments(db, 1, status="deleted", prefix="d")
    [fresh] = await seed_comments(db, 1, prefix="f")
    with pytest.raises(Problem) as exc:
        await decisions.bulk(db, cfg, "approve", actor(4), None, ids=[fresh, gone])
    assert slug(exc) == "conflict" and exc.value.body_dict["deleted"] == [gone]
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", fresh) == "pending"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'decision.bulk'") == 1


# ── author history counters ─────────────────────────────────────────────────────────────────────────
TRUTH = "SELECT author_id, status, count(*)::bigint AS n FROM comments GROUP BY 1, 2 ORDER BY 1, 2"
COUNTERS = "SELECT author_id, status, n FROM author_status_counts WHERE n <> 0 ORDER BY 1, 2"


async def test_author_history_counters_stay_exact(db: Any, config: Any, database_url: str) -> None:
    """The counters behind every queue item's author history (schema.sql triggers) equal a count of the
    comments after inserts, claims, single/bulk decisions, undo, an author change, deletes, and 16 moderators
    deciding the same authors' comments at once (one statement's counters are locked in one order: no
    deadlock)."""
    for k in range(6):
        await seed_comments(db, 30, author=f"reader-{k % 3}", prefix=f"p{k}")
    await seed_comments(db, 4, author="reader-0", status="approved", prefix="ok")
    assert [tuple(r) for r in await db.fetch(COUNTERS)] == [tuple(r) for r in await db.fetch(TRUTH)]

    ids = [r["id"] for r in await db.fetch("SELECT id FROM comments WHERE status = 'pending' ORDER BY id")]
    d = (await decisions.apply(db, config, ids[0], "spam", actor(1), None))["decision"]["decision_id"]
    await decisions.bulk(db, config, "reject", actor(1), None, ids=ids[1:6])
    await decisions.undo(db, config, d, actor(2))
    await db.execute("UPDATE comments SET author_id = 'renamed' WHERE id = $1", ids[7])
    await db.execute("DELETE FROM comments WHERE id = ANY($1::bigint[])", ids[8:10])
    items, _ = await queue.list_queue(db, author="reader-0", limit=1)
    truth0 = {r["status"]: r["n"] for r in await db.fetch(TRUTH) if r["author_id"] == "reader-0"}
    assert items[0]["author"]["history"] == truth0

    conns = [await asyncpg.connect(database_url) for _ in range(16)]
    for c in conns:
        await c.set_type_codec("jsonb", encoder=__import__("json").dumps, decoder=__import__("json").loads,
                               schema="pg_catalog")
    try:
        async def moderator(n: int, conn: Any) -> int:
            done = 0
            while batch := await queue.claim(conn, n, 5):
                action = ("approve", "reject", "spam")[n % 3]
                await decisions.bulk(conn, config, action, actor(n), None, ids=[i["id"] for i in batch])
                done += len(batch)
            return done
        done = await asyncio.gather(*(moderator(n, c) for n, c in enumerate(conns, 1)))
    finally:
        for c in conns:
            await c.close()
    assert sum(done) > 100
    assert [tuple(r) for r in await db.fetch(COUNTERS)] == [tuple(r) for r in await db.fetch(TRUTH)]
