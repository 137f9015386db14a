"""Readers report published comments: one report per reader, N open reports hold the comment for review."""

from __future__ import annotations

from typing import Any

import pytest

from moderation.app import create_app
from moderation.review import decisions, queue
from tests.test_reactions import seed_comment


@pytest.fixture
def config(config: Any) -> Any:
    # a callback URL makes decisions write outbox rows (nothing listens: delivery is not what is tested here)
    return config.with_changes(reports_to_hold=2, callback_url="http://127.0.0.1:9/cms-callback")


async def report(client: Any, comment_id: int, reader: str | None, reason: str = "abuse", **extra: Any) -> Any:
    body = {"reason": reason, **extra}
    if reader is not None:
        body["reader_id"] = reader
    return await client.post(f"/v1/comments/{comment_id}/reports", json=body)


async def test_reports_hold_a_comment_once_enough_readers_report_it(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-1", text="A published comment that readers dislike")
    clean = {"code": "clean", "message": "published: spam 0.01, abuse 0.02 below thresholds"}
    await db.execute("UPDATE comments SET reasons = $2, reason_codes = '{clean}' WHERE id = $1", cid, [clean])
    resp = await report(client, cid, "r1", "abuse", note="  insults the mayor  ")
    assert resp.status == 201 and await resp.json() == {"comment_id": cid, "reason": "abuse", "recorded": True}
    # the same reader again: recorded once, the first report stands
    resp = await report(client, cid, "r1", "spam")
    assert resp.status == 200 and (await resp.json())["recorded"] is False
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    assert await db.fetchval("SELECT note FROM comment_reports WHERE comment_id = $1", cid) == "insults the mayor"

    assert (await report(client, cid, "r2", "spam")).status == 201   # the second reader: held
    row = await db.fetchrow("SELECT status, reasons, reason_codes FROM comments WHERE id = $1", cid)
    assert row["status"] == "pending" and row["reason_codes"] == ["reported"]   # "published: …" no longer true
    assert row["reasons"] == [{"code": "reported", "message": "held: reported by 2 readers (abuse 1, spam 1)"}]
    decision = await db.fetchrow("SELECT * FROM decisions WHERE comment_id = $1", cid)
    assert (decision["actor"], decision["action"], decision["from_status"], decision["to_status"]) == (
        "system", "reported", "approved", "pending")
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE comment_id = $1 AND event_type = 'comment.pending' "
                             "AND decision_id = $2", cid, decision["id"]) == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'decision.reported'") == 1
    # gone from the public list; a held comment takes no more reports
    listing = await (await client.get("/v1/articles/art-1/comments")).json()
    assert listing["comments"] == [] and listing["total"] == 0
    resp = await report(client, cid, "r3")
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    # moderators find it by the reason, with the reports in the detail
    items, _ = await queue.list_queue(db, reason="reported")
    assert [i["id"] for i in items] == [cid]
    detail = await queue.get_comment(db, cid)
    assert [(r["reason"], r["note"]) for r in detail["reports"]] == [("spam", None), ("abuse", "insults the mayor")]


async def test_approval_closes_the_reports(client: Any, db: Any, config: Any) -> None:
    cid = await seed_comment(db, "c-2")
    for reader in ("r1", "r2"):
        await report(client, cid, reader)
    await decisions.apply(db, config, cid, "approve", "moderator:1", "fair criticism")
    # earlier reporters cannot re-open it; it takes two new readers to hold it again
    assert (await report(client, cid, "r1")).status == 200
    assert (await report(client, cid, "r3", "off_topic")).status == 201
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    await report(client, cid, "r4", "off_topic")
    row = await db.fetchrow("SELECT status, reasons FROM comments WHERE id = $1", cid)
    assert row["status"] == "pending"
    assert [r["message"] for r in row["reasons"] if r["code"] == "reported"] == [
        "held: reported by 2 readers (off topic 2)"]   # replaces the first hold's reason


async def test_bad_reports_get_clear_errors(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-3")
    held = await seed_comment(db, "c-held", status="pending")
    cases = [
        ({"reason": "boring"}, "reason"),
        ({}, "reason"),
        ({"reason": "spam", "note": "x" * 501}, "note"),
        ({"reason": "spam", "note": 5}, "note"),
        ({"reason": "spam", "note": "bell\x07"}, "note"),
        ({"reason": "spam", "reader_id": ""}, "reader_id"),
    ]
    for body, field in cases:
        resp = await client.post(f"/v1/comments/{cid}/reports", json=body)
        problem = await resp.json()
        assert resp.status == 422 and resp.content_type == "application/problem+json", body
        assert problem["type"].endswith("/validation-error") and problem["errors"][0]["field"] == field, body
    resp = await client.post(f"/v1/comments/{cid}/reports", data="reason=spam",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415
    for target in (held, 999_999):
        resp = await report(client, target, "r1")
        assert resp.status == 404 and "no published comment" in (await resp.json())["detail"]
    assert (await client.post("/v1/comments/abc/reports", json={"reason": "spam"})).status == 422
    assert await db.fetchval("SELECT count(*) FROM comment_reports") == 0


async def test_anonymous_reader_gets_a_cookie_and_is_counted_once(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-4")
    resp = await report(client, cid, None, "spam")
    assert resp.status == 201 and "moderation_reader" in resp.cookies
    resp = await report(client, cid, None, "spam")   # the cookie jar sends it back
    assert resp.status == 200 and (await resp.json())["recorded"] is False
    assert await db.fetchval("SELECT count(*) FROM comment_reports WHERE reader_id LIKE 'anon:%'") == 1


async def test_reports_are_rate_limited(client: Any, db: Any) -> None:
    from moderation.readers import reports

    ids = [await seed_comment(db, f"c-rl-{i}") for i in range(reports.RATE_READER + 1)]
    for cid in ids[:-1]:
        assert (await report(client, cid, "busy-reader")).status == 201
    resp = await report(client, ids[-1], "busy-reader")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    assert (await resp.json())["type"].endswith("/rate-limited")


async def test_holding_can_be_switched_off(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(reports_to_hold=0)))
    cid = await seed_comment(db, "c-5")
    for reader in ("r1", "r2", "r3", "r4"):
        assert (await report(client, cid, reader)).status == 201
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"


async def test_moderators_see_the_reports(aiohttp_client: Any, config: Any, db: Any) -> None:
    from tests.test_review_ui import _ui_client

    ui = await _ui_client(aiohttp_client, config)
    cid = await seed_comment(db, "c-6", text="Reported in the UI")
    await report(ui, cid, "r1", "off_topic", note="about football, not the budget")
    await report(ui, cid, "r2", "spam")
    queue_page = await (await ui.get("/moderate/queue?reason=reported")).text()
    assert "Reported in the UI" in queue_page and "held: reported by 2 readers (off topic 1, spam 1)" in queue_page
    detail = await (await ui.get(f"/moderate/comments/{cid}")).text()
    assert "Readers' reports (2)" in detail and "about football, not the budget" in detail
    assert "<code>reported</code>" in detail and "<code>cms:r1</code>" in detail


async def test_simultaneous_reports_hold_exactly_once(aiohttp_client: Any, config: Any, db: Any) -> None:
    import asyncio

    client = await aiohttp_client(create_app(config.with_changes(reports_to_hold=6)))
    cid = await seed_comment(db, "c-7")
    replies = await asyncio.gather(*(report(client, cid, f"r{i}") for i in range(6)))
    assert sorted(r.status for r in replies) == [201] * 6
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "pending"
    assert await db.fetchval("SELECT count(*) FROM decisions WHERE comment_id = $1 AND action = 'reported'", cid) == 1
