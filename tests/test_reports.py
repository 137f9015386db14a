"""Readers report published comments: one report per reader; enough trusted weight from more than one network
address holds the comment for review; scripts with fake reader ids and fresh cookies hold nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moderation.app import create_app
from moderation.core.clientip import parse_networks
from moderation.core.config import parse_webhook_secret
from moderation.readers.report_trust import reader_signature
from moderation.review import decisions, queue
from tests.conftest import TEST_SECRET
from tests.test_reactions import seed_comment

BEHIND_PROXY = {"trusted_proxy_header": "X-Forwarded-For", "trusted_proxies": parse_networks("127.0.0.1")}


@pytest.fixture
def config(config: Any) -> Any:
    # a callback URL makes decisions write outbox rows (nothing listens: delivery is not what is tested here);
    # the test client is "the proxy", so each reader can come from an address of its own
    return config.with_changes(reports_to_hold=2, callback_url="http://127.0.0.1:9/cms-callback", **BEHIND_PROXY)


def signed(reader_id: str) -> str:
    return reader_signature(parse_webhook_secret(TEST_SECRET), reader_id)


def address_of(reader: str | None) -> str:
    return f"198.51.100.{(sum(map(ord, reader or 'anon')) % 250) + 1}"


async def report(client: Any, comment_id: int, reader: str | None, reason: str = "abuse", *,
                 sign: bool = True, ip: str | None = None, **extra: Any) -> Any:
    """A report as the CMS's page sends it: a signed-in reader with its signature, from the reader's own
    address (one per reader name unless ``ip`` says otherwise)."""
    body = {"reason": reason, **extra}
    if reader is not None:
        body["reader_id"] = reader
        if sign:
            body["reader_signature"] = signed(reader)
    return await client.post(f"/v1/comments/{comment_id}/reports", json=body,
                             headers={"X-Forwarded-For": ip or address_of(reader)})


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
    assert [(r["code"], r["message"]) for r in row["reasons"]] == [
        ("reported", "held: reported by 2 readers (abuse 1, spam 1)")]
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


async def test_a_moderators_approval_is_final(client: Any, db: Any, config: Any) -> None:
    """After a moderator approved it, reports only list the comment under "Reported" (no re-hiding loop)."""
    cid = await seed_comment(db, "c-2")
    for reader in ("r1", "r2"):
        await report(client, cid, reader)
    await decisions.apply(db, config, cid, "approve", "moderator:1", "fair criticism")
    assert (await report(client, cid, "r1")).status == 200            # earlier reporters: already recorded
    for reader in ("r3", "r4", "r5"):
        assert (await report(client, cid, reader, "off_topic")).status == 201
    row = await db.fetchrow("SELECT status, reasons FROM comments WHERE id = $1", cid)
    assert row["status"] == "approved"
    [flag] = [r["message"] for r in row["reasons"] if r["code"] == "reported"]
    assert flag == ("published: reported by 3 readers (off topic 3); a moderator approved it, "
                    "so reports no longer hold it")
    items, _ = await queue.list_queue(db, status="approved", reason="reported")
    assert [i["id"] for i in items] == [cid]


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
        assert (await report(client, cid, reader, ip=address_of(reader))).status == 201
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
    assert "<code>reported</code>" in detail and "<code><bdi>cms:r1</bdi></code>" in detail


async def test_simultaneous_reports_hold_exactly_once(aiohttp_client: Any, config: Any, db: Any) -> None:
    import asyncio

    client = await aiohttp_client(create_app(config.with_changes(reports_to_hold=6)))
    cid = await seed_comment(db, "c-7")
    replies = await asyncio.gather(*(report(client, cid, f"r{i}") for i in range(6)))
    assert sorted(r.status for r in replies) == [201] * 6
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "pending"
    assert await db.fetchval("SELECT count(*) FROM decisions WHERE comment_id = $1 AND action = 'reported'", cid) == 1


# ── brigading: one client with scripts, many fake reader ids, many fresh cookies ──────────────────────────
async def test_a_thousand_fake_reader_ids_from_one_address_hold_nothing(
        aiohttp_client: Any, config: Any, db: Any, monkeypatch: Any) -> None:
    from moderation.readers import reports

    monkeypatch.setattr(reports, "RATE_IP", 10_000)   # not the per-address limit: the weighting must hold alone
    client = await aiohttp_client(create_app(config))
    cid = await seed_comment(db, "c-brigade-1")
    for i in range(1000):
        resp = await report(client, cid, f"sock-{i}", sign=False, ip="203.0.113.66")
        assert resp.status == 201
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    assert await db.fetchval("SELECT count(*) FROM decisions WHERE comment_id = $1", cid) == 0
    # moderators see it under "Reported", and the flood in the abuse listing
    items, _ = await queue.list_queue(db, status="approved", reason="reported")
    assert [i["id"] for i in items] == [cid]
    assert "report weight 0.00 of 2 from 0 network addresses" in items[0]["reasons"][-1]["message"]
    token = await _moderator_token(client)
    body = await (await client.get("/v1/reports/abuse", headers={"Authorization": f"Bearer {token}"})).json()
    [flood] = body["items"]
    assert (flood["reports"], flood["readers"], flood["comments"], flood["weightless"]) == (1000, 1000, 1, 1000)
    assert (await client.get("/v1/reports/abuse")).status == 401


async def test_fifty_addresses_with_new_cookies_hold_nothing(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-brigade-2")
    for i in range(50):
        client.session.cookie_jar.clear()   # a brand-new anonymous reader each time
        resp = await report(client, cid, None, "spam", ip=f"192.0.2.{i + 1}")
        assert resp.status == 201 and "moderation_reader" in resp.cookies
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    assert await db.fetchval("SELECT count(DISTINCT ip_hash) FROM comment_reports WHERE comment_id = $1", cid) == 50
    assert await db.fetchval("SELECT max(weight) FROM comment_reports WHERE comment_id = $1", cid) == 0


async def test_aged_cookies_count_once_per_address(client: Any, config: Any, db: Any) -> None:
    import time

    from moderation.readers.reactions import READER_COOKIE, sign_reader_cookie

    week_old = int(time.time()) - 8 * 86400

    async def aged_report(cid: int, n: int, ip: str) -> None:
        client.session.cookie_jar.clear()
        cookie = sign_reader_cookie(config.hashing_key, f"aged{n}.{week_old}")
        client.session.cookie_jar.update_cookies({READER_COOKIE: cookie})
        assert (await report(client, cid, None, ip=ip)).status == 201

    one_address = await seed_comment(db, "c-aged-1")
    for n in range(6):   # six week-old cookies, one address: 0.5, not 3
        await aged_report(one_address, n, "192.0.2.7")
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", one_address) == "approved"
    spread = await seed_comment(db, "c-aged-2")
    for n in range(4):   # four week-old cookies from four addresses: 4 x 0.5 = 2 -> held
        await aged_report(spread, 10 + n, f"192.0.2.{20 + n}")
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", spread) == "pending"


async def test_verified_readers_need_two_addresses_and_a_forged_signature_weighs_nothing(
        client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-verified")
    for reader in ("v1", "v2", "v3"):   # three signed-in readers behind one office address
        assert (await report(client, cid, reader, ip="192.0.2.99")).status == 201
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    forged = await client.post(f"/v1/comments/{cid}/reports", headers={"X-Forwarded-For": "192.0.2.100"},
                               json={"reason": "abuse", "reader_id": "v4", "reader_signature": "ab" * 32})
    assert forged.status == 201
    kinds = dict(await db.fetch("SELECT reader_id, reader_kind FROM comment_reports WHERE comment_id = $1", cid))
    assert kinds == {"cms:v1": "verified", "cms:v2": "verified", "cms:v3": "verified", "cms:v4": "unsigned"}
    for n, hostile in enumerate(("pB\U000f2961", "\u00e9" * 64, "ab\ud800")):   # non-ASCII, a lone surrogate
        resp = await client.post(
            f"/v1/comments/{cid}/reports",
            headers={"X-Forwarded-For": "192.0.2.100", "Content-Type": "application/json"},
            data=json.dumps({"reason": "abuse", "reader_id": f"h{n}", "reader_signature": hostile}))
        if n < 2:
            assert resp.status == 201, await resp.text()   # weighs nothing (unsigned), never a 500
        else:
            assert resp.status == 400 and (await resp.json())["errors"][0]["field"] == "reader_signature"
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "approved"
    assert (await report(client, cid, "v5", ip="192.0.2.101")).status == 201   # a second address: held
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", cid) == "pending"


async def test_upheld_reports_earn_weight(client: Any, db: Any, config: Any) -> None:
    abusive = await seed_comment(db, "c-upheld-1", text="An abusive comment")
    assert (await report(client, abusive, "watchful", sign=False)).status == 201
    await decisions.apply(db, config, abusive, "reject", "moderator:1", "abuse")
    later = await seed_comment(db, "c-upheld-2")
    assert (await report(client, later, "watchful", sign=False)).status == 201
    weights = [r["weight"] for r in await db.fetch(
        "SELECT weight FROM comment_reports WHERE reader_id = 'cms:watchful' ORDER BY created_at")]
    assert weights == [0.0, 0.5]


async def _moderator_token(client: Any) -> str:
    from tests.test_reactions import _moderator_token as token

    return await token(client)
