"""The moderators' JSON API over HTTP: auth on every route, validation (422 naming fields), queue,
claims, decisions, bulk, undo, commenters, word lists, audit and the admin outbox view."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from moderation.app import create_app
from moderation.review import auth
from moderation.review.api import setup_routes
from tests.test_review_support import seed_comments


def _cursor_with_nul(arity: int) -> str:
    """A forged keyset cursor whose text key holds a NUL (Postgres text cannot store one)."""
    raw = json.dumps(["a\x00b"] + [1] * (arity - 1)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")

MY_ROUTES: list[tuple[str, str]] = []


class _Collect:
    def __init__(self) -> None:
        self.router = self

    def __getattr__(self, name: str) -> Any:
        method = name.removeprefix("add_").upper()
        return lambda path, handler: MY_ROUTES.append((method, path))


setup_routes(_Collect())  # type: ignore[arg-type]
ADMIN_ONLY = {("GET", "/v1/outbox"), ("POST", "/v1/outbox/endpoint/{verb:enable|disable}"),
              ("POST", "/v1/outbox/{id}/retry"), ("POST", "/v1/wordlists/{list}"),
              ("PUT", "/v1/wordlists/{list}/{term}"), ("DELETE", "/v1/wordlists/{list}/{term}")}


@pytest.fixture
async def tokens(db: Any) -> dict[str, Any]:
    admin = await auth.create_moderator(db, "admin@example.org", "correct horse battery", "admin")
    mod = await auth.create_moderator(db, "mod@example.org", "correct horse battery", "moderator")
    return {"admin": {"Authorization": f"Bearer {await auth.issue_token(db, admin.id, 'test')}"},
            "mod": {"Authorization": f"Bearer {await auth.issue_token(db, mod.id, 'test')}"},
            "admin_id": admin.id, "mod_id": mod.id}


def assert_problem(resp: Any, body: dict[str, Any], status: int, slug: str) -> None:
    assert resp.status == status, body
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert body["type"] == f"/problems/{slug}"


def concrete(path: str) -> str:
    return (path.replace("{verb:enable|disable}", "enable").replace("{id}", "1").replace("{author_id}", "a1")
            .replace("{audit_id}", "1")
            .replace("{kind}", "author").replace("{value}", "a1").replace("{list}", "banned")
            .replace("{term}", "x"))


async def test_every_route_needs_credentials_and_the_right_role(client: Any, tokens: dict[str, Any]) -> None:
    assert len(MY_ROUTES) >= 20
    for method, path in MY_ROUTES:
        url = concrete(path)
        resp = await client.request(method, url, json={})
        assert_problem(resp, await resp.json(), 401, "unauthorized")
        resp = await client.request(method, url, json={}, headers={"Authorization": "Bearer mdt_nope"})
        assert_problem(resp, await resp.json(), 401, "unauthorized")
        if (method, path) in ADMIN_ONLY:
            resp = await client.request(method, url, json={}, headers=tokens["mod"])
            assert_problem(resp, await resp.json(), 403, "forbidden")
        resp = await client.request(method, url, json={}, headers=tokens["admin"])
        assert resp.status < 500, (method, url, await resp.text())


async def test_queue_page_claim_and_decide(client: Any, db: Any, tokens: dict[str, Any]) -> None:
    ids = await seed_comments(db, 5)
    h = tokens["mod"]
    resp = await client.get("/v1/queue", params={"limit": "2"}, headers=h)
    body = await resp.json()
    assert resp.status == 200 and [i["id"] for i in body["items"]] == ids[::-1][:2] and body["next_cursor"]
    body2 = await (await client.get("/v1/queue", params={"limit": "2", "cursor": body["next_cursor"]},
                                    headers=h)).json()
    assert [i["id"] for i in body2["items"]] == ids[::-1][2:4]

    resp = await client.post("/v1/queue/claim", json={"limit": 3}, headers=h)
    claimed = (await resp.json())["items"]
    assert resp.status == 200 and len(claimed) == 3 and all(i["claimed_by"] == tokens["mod_id"] for i in claimed)
    other = (await (await client.post("/v1/queue/claim", json={"limit": 10}, headers=tokens["admin"])).json())["items"]
    assert {i["id"] for i in other}.isdisjoint({i["id"] for i in claimed}) and len(other) == 2
    mine = (await (await client.get("/v1/queue", params={"claimed": "mine"}, headers=h)).json())["items"]
    assert {i["id"] for i in mine} == {i["id"] for i in claimed}

    cid = claimed[0]["id"]
    resp = await client.post(f"/v1/comments/{cid}/decision", json={"action": "approve", "reason": "fine"}, headers=h)
    out = await resp.json()
    assert resp.status == 200 and out["comment"]["status"] == "approved"
    assert out["decision"]["actor"] == f"moderator:{tokens['mod_id']}"
    resp = await client.post(f"/v1/comments/{cid}/decision", json={"action": "approve"}, headers=h)
    assert_problem(resp, await resp.json(), 409, "conflict")
    resp = await client.post("/v1/comments/999999/decision", json={"action": "approve"}, headers=h)
    assert_problem(resp, await resp.json(), 404, "not-found")

    detail = await (await client.get(f"/v1/comments/{cid}", headers=h)).json()
    assert [d["action"] for d in detail["decisions"]] == ["created", "approve"]
    assert detail["decisions"][0]["model_version"] == "test-model" and detail["thresholds"]

    undo = await client.post(f"/v1/decisions/{out['decision']['decision_id']}/undo", headers=h)
    assert undo.status == 200 and (await undo.json())["comment"]["status"] == "pending"


async def test_validation_names_fields(client: Any, db: Any, tokens: dict[str, Any]) -> None:
    h = tokens["mod"]
    [cid] = await seed_comments(db, 1)
    cases = [
        ("GET", "/v1/queue?status=nope&order=up", None, {"status", "order"}),
        ("GET", "/v1/queue?limit=0", None, {"limit"}),
        ("GET", "/v1/queue?limit=abc", None, {"limit"}),
        ("GET", "/v1/queue?cursor=zzz", None, {"cursor"}),
        ("GET", "/v1/queue?claimed=yours", None, {"claimed"}),
        ("POST", "/v1/queue/claim", {"limit": 1000}, {"limit"}),
        ("POST", "/v1/queue/claim", {"limit": 2, "lease_s": "long"}, {"lease_s"}),
        ("POST", f"/v1/comments/{cid}/decision", {"action": "burn", "reason": ["x"]}, {"action", "reason"}),
        ("POST", "/v1/comments/abc/decision", {"action": "approve"}, {"id"}),
        ("POST", "/v1/decisions", {"action": "reject", "ids": [1, "two"]}, {"ids[1]"}),
        ("POST", "/v1/decisions", {"action": "reject"}, {"ids"}),
        ("POST", "/v1/decisions", {"action": "reject", "filter": {"status": "x"}}, {"filter.status"}),
        ("POST", "/v1/decisions", {"action": "reject", "ids": [1], "colour": 1}, {"colour"}),
        ("POST", "/v1/decisions/0/undo", None, {"id"}),
        ("PUT", "/v1/blocks/email/someone", {"reason": "x"}, {"kind"}),
        ("GET", "/v1/blocks?kind=email", None, {"kind"}),
        ("GET", "/v1/audit?since=yesterday", None, {"since"}),
        ("GET", "/v1/audit?cursor=%21", None, {"cursor"}),
        ("POST", "/v1/queue/release", {"ids": "all"}, {"ids"}),
        ("GET", "/v1/audit?target_id=%00", None, {"target_id"}),
        ("GET", "/v1/queue?q=a%00b", None, {"q"}),
        ("GET", "/v1/commenters/" + "x" * 300, None, {"author_id"}),
        ("GET", "/v1/commenters/a%00b", None, {"author_id"}),
        ("GET", "/v1/blocks?cursor=" + _cursor_with_nul(3), None, {"cursor"}),
        ("PUT", "/v1/blocks/author/" + "x" * 300, None, {"value"}),
        ("POST", "/v1/queue/claim", {"limit": True}, {"limit"}),
    ]
    for method, url, body, fields in cases:
        resp = await client.request(method, url, json=body, headers=h)
        problem = await resp.json()
        assert_problem(resp, problem, 422, "validation-error")
        assert {e["field"] for e in problem["errors"]} == fields, (url, problem)
    resp = await client.post(f"/v1/comments/{cid}/decision", data=b"{not json", headers=h)
    assert_problem(resp, await resp.json(), 400, "malformed-json")
    resp = await client.post(f"/v1/comments/{cid}/decision", data=b"[1]", headers=h)
    assert_problem(resp, await resp.json(), 422, "validation-error")
    resp = await client.post("/v1/wordlists/naughty", json={"term": ""}, headers=tokens["admin"])
    body = await resp.json()
    assert_problem(resp, body, 422, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"list", "term"}


async def test_search_and_bulk_by_filter(client: Any, db: Any, tokens: dict[str, Any]) -> None:
    h = tokens["mod"]
    await seed_comments(db, 3, prefix="w", text="Buy cheap watches at example dot com {i}", author="spammer")
    await seed_comments(db, 2, prefix="n", text="I disagree with the council {i}")
    found = (await (await client.get("/v1/queue", params={"q": '"cheap watches"'}, headers=h)).json())["items"]
    assert len(found) == 3
    resp = await client.post("/v1/decisions", json={"action": "spam", "reason": "watch spam",
                                                     "filter": {"q": '"cheap watches"'}}, headers=h)
    out = await resp.json()
    assert resp.status == 200 and out["count"] == 3
    left = (await (await client.get("/v1/queue", headers=h)).json())["items"]
    assert {i["external_id"] for i in left} == {"n-0", "n-1"}
    resp = await client.post("/v1/decisions", json={"action": "approve", "ids": [i["id"] for i in left]}, headers=h)
    approved = await resp.json()
    assert approved["count"] == 2
    resp = await client.post(f"/v1/decisions/bulk/{approved['audit_id']}/undo", headers=h)
    assert resp.status == 200 and (await resp.json())["count"] == 2
    assert len((await (await client.get("/v1/queue", headers=h)).json())["items"]) == 2
    resp = await client.post(f"/v1/decisions/bulk/{approved['audit_id']}/undo", headers=h)
    assert_problem(resp, await resp.json(), 409, "conflict")       # already undone
    resp = await client.post("/v1/decisions/bulk/999999/undo", headers=h)
    assert_problem(resp, await resp.json(), 404, "not-found")
    audit = (await (await client.get("/v1/audit", params={"action": "decision.bulk"}, headers=h)).json())["items"]
    assert len(audit) == 2 and audit[1]["actor"] == f"moderator:{tokens['mod_id']}"


async def test_commenters_blocks_and_intake_rejects_blocked(client: Any, db: Any, tokens: dict[str, Any]) -> None:
    from tests.conftest import comment_payload, post_webhook

    h = tokens["mod"]
    await post_webhook(client, comment_payload("c-1"))
    resp = await client.put("/v1/commenters/reader-1/block", json={"reason": "troll"}, headers=h)
    assert resp.status == 200 and (await resp.json())["reason"] == "troll"
    c = (await (await post_webhook(client, comment_payload("c-2"))).json())["comment"]
    assert c["status"] == "rejected" and c["reasons"][0]["code"] == "blocked_author"
    hist = await (await client.get("/v1/commenters/reader-1", headers=h)).json()
    assert hist["counts"]["approved"] == 1 and hist["counts"]["rejected"] == 1 and hist["blocked"]
    ip_hash = hist["latest_ip_hash"]
    resp = await client.delete("/v1/commenters/reader-1/block", headers=h)
    assert resp.status == 200
    resp = await client.delete("/v1/commenters/reader-1/block", headers=h)
    assert_problem(resp, await resp.json(), 404, "not-found")
    resp = await client.put(f"/v1/blocks/ip_hash/{ip_hash}", json={"reason": "open proxy"}, headers=h)
    assert resp.status == 200
    blocks = (await (await client.get("/v1/blocks", headers=h)).json())["items"]
    assert [b["kind"] for b in blocks] == ["ip_hash"]
    c = (await (await post_webhook(client, comment_payload("c-3"))).json())["comment"]
    assert c["status"] == "rejected"
    resp = await client.get("/v1/commenters/nobody-at-all", headers=h)
    assert_problem(resp, await resp.json(), 404, "not-found")


async def test_word_list_edit_takes_effect_at_once(client: Any, db: Any, tokens: dict[str, Any]) -> None:
    from tests.conftest import comment_payload, post_webhook

    h = tokens["admin"]
    await post_webhook(client, comment_payload("c-0"))   # warms the rules cache
    resp = await client.put("/v1/wordlists/banned/frobnicate", headers=h)
    assert resp.status == 201
    resp = await client.put("/v1/wordlists/banned/frobnicate", headers=h)
    assert resp.status == 200
    lists = await (await client.get("/v1/wordlists", headers=tokens["mod"])).json()
    assert "frobnicate" in [e["term"] for e in lists["banned"]]
    c = (await (await post_webhook(client, comment_payload("c-1", "you should frobnicate the mayor"))).json())
    assert c["comment"]["status"] == "rejected"
    resp = await client.delete("/v1/wordlists/banned/frobnicate", headers=h)
    assert resp.status == 200
    resp = await client.post("/v1/wordlists/suspect", json={"term": "a/b testing"}, headers=h)
    assert resp.status == 201
    entries = (await (await client.get("/v1/audit", params={"action": "word_list.*"}, headers=h)).json())["items"]
    assert [e["action"] for e in entries] == ["word_list.add", "word_list.remove", "word_list.add"]


async def test_outbox_admin_view(aiohttp_client: Any, config: Any, db: Any, tokens: dict[str, Any]) -> None:
    cfg = config.with_changes(callback_url="http://127.0.0.1:9/unreachable", callback_backoff_s=60)
    client = await aiohttp_client(create_app(cfg))
    [cid] = await seed_comments(db, 1)
    await client.post(f"/v1/comments/{cid}/decision", json={"action": "reject"}, headers=tokens["mod"])
    resp = await client.get("/v1/outbox", headers=tokens["admin"])
    body = await resp.json()
    assert resp.status == 200 and body["endpoint"]["enabled"] and body["endpoint"]["url"].endswith("/unreachable")
    assert body["counts"]["pending"] + body["counts"]["failed"] + body["counts"]["delivered"] == 1
    [row] = body["items"]
    assert row["event_type"] == "comment.rejected" and row["webhook_id"].startswith("msg_")
    assert row["payload"]["type"] == "comment.rejected" and row["payload"]["data"]["id"] == cid  # from the decision
    resp = await client.post("/v1/outbox/endpoint/disable", json={"reason": "maintenance"}, headers=tokens["admin"])
    assert (await resp.json())["enabled"] is False
    resp = await client.post("/v1/outbox/endpoint/enable", headers=tokens["admin"])
    assert (await resp.json())["enabled"] is True
    resp = await client.post(f"/v1/outbox/{row['id']}/retry", headers=tokens["admin"])
    retried = await resp.json()
    assert resp.status == 200 and retried["attempts"] == 0 and retried["payload"] == row["payload"]
    resp = await client.get("/v1/outbox?state=bogus", headers=tokens["admin"])
    assert_problem(resp, await resp.json(), 422, "validation-error")
