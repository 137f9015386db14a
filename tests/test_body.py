"""The one JSON body reader (moderation/core/body.py): hostile bodies on EVERY JSON route of the app are a
400 ``malformed-json`` naming the problem, never a 500 — found from the route table, so a new route is
covered the day it lands; and the declared shapes name every bad field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moderation.core import body
from moderation.core.problems import Problem
from moderation.intake.shapes import event_shape
from moderation.review import auth
from tests.conftest import comment_payload, post_webhook

HOSTILE = {
    "deep nesting": b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "duplicate keys": b'{"reason": "a", "reason": "b", "action": "spam"}',
    "invalid UTF-8": b'{"reason": "\xff\xfe"}',
    "huge number": b'{"limit": 1' + b"0" * 5000 + b"}",
    "NaN": b'{"limit": NaN}',
    "unpaired surrogate": b'{"reason": "\\ud800"}',
    "NUL": b'{"reason": "a\\u0000b"}',
}
# Routes that are not JSON: HTML forms, and Akismet's form-encoded protocol.
# POST/PUT routes that take no body at all (they ignore one): everything else must read it as JSON.
BODILESS = {("POST", "/v1/outbox/{id}/retry"), ("PUT", "/v1/wordlists/{list}/{term}")}
NOT_JSON = ("/moderate", "/demo/", "/1.1/", "/akismet")


def _json_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method in ("POST", "PUT") and path and not path.startswith(NOT_JSON):
            out.append((route.method, path))
    return sorted(set(out))


def _concrete(path: str) -> str:
    if path.startswith("/v1/challenges/"):
        path = path.replace("{id}", "abcdefgh12")  # a well-formed challenge id
    return (path.replace("{verb:enable|disable}", "enable").replace("{verb}", "enable").replace("{id}", "1")
            .replace("{author_id}", "a1")
            .replace("{audit_id}", "1").replace("{kind}", "author").replace("{value}", "v")
            .replace("{list}", "suspect").replace("{term}", "t").replace("{article_id}", "art-1"))


@pytest.fixture
async def admin(db: Any) -> dict[str, str]:
    mod = await auth.create_moderator(db, "body-admin@example.org", "correct horse battery", "admin")
    return {"Authorization": f"Bearer {await auth.issue_token(db, mod.id, 'test')}"}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_json_on_every_json_route_is_a_400(client: Any, admin: dict[str, str], case: str) -> None:
    raw = HOSTILE[case]
    routes = _json_routes(client.app)
    assert len(routes) >= 15, routes
    seen: list[tuple[str, str]] = []
    others: list[tuple[str, str, int]] = []
    for method, path in routes:
        if path.startswith("/v1/comments/{id}/analyze") or path.startswith(("/v1alpha1", "/compat")):
            continue  # compat's Google-shaped errors: test_compat_perspective
        if path == "/v1/webhooks/comments":
            resp = await post_webhook(client, None, raw=raw)
        else:
            resp = await client.request(method, _concrete(path), data=raw,
                                        headers={**admin, "Content-Type": "application/json"})
        text = await resp.text()
        assert resp.status < 500, (method, path, resp.status, text[:300])
        if path == "/v1/siteverify":  # Turnstile's shape: HTTP 200, success false
            assert json.loads(text)["success"] is False, text
            continue
        if resp.status != 400:
            others.append((method, path, resp.status))  # a route that takes no body (ignores it)
            continue
        problem = json.loads(text)
        assert problem["type"] == "/problems/malformed-json" and problem["errors"][0]["field"], problem
        seen.append((method, path))
    assert {(m, p) for m, p, _ in others} <= BODILESS, others
    assert len(seen) >= 15 and ("POST", "/v1/webhooks/comments") in seen


async def test_ten_thousand_levels_of_nesting_is_a_400_not_a_recursion_error(client: Any) -> None:
    resp = await post_webhook(client, None, raw=b"[" * 100_000 + b"]" * 100_000)
    problem = await resp.json()
    assert resp.status == 400 and "nested too deeply" in problem["detail"]


async def test_duplicate_keys_name_the_key(client: Any) -> None:
    raw = json.dumps(comment_payload()).encode()[:-1] + b', "type": "comment.deleted"}'
    resp = await post_webhook(client, None, raw=raw)
    problem = await resp.json()
    assert resp.status == 400 and problem["errors"] == [{"field": "type",
                                                         "message": "duplicate key 'type' in an object"}]


def test_the_shape_names_every_bad_field() -> None:
    bad = comment_payload(text="x" * 20)
    bad["data"]["author"].update(ip="nope", email="no-at-sign", name=" ")
    bad["data"]["article"].pop("id")
    bad["data"]["created_at"] = "2026-11-25T12:00:00"
    with pytest.raises(Problem) as caught:
        body.decode(json.dumps(bad).encode(), event_shape(10))
    assert caught.value.body_dict["errors"] == [
        {"field": "data.article.id", "message": "is required"},
        {"field": "data.author.name", "message": "must not be empty"},
        {"field": "data.author.email", "message": "must be an e-mail address"},
        {"field": "data.author.ip", "message": "must be an IPv4 or IPv6 address"},
        {"field": "data.text", "message": "is longer than 10 characters"},
        {"field": "data.created_at", "message": "must include a time zone offset (RFC 3339)"},
    ]


@pytest.mark.parametrize("raw,message", [
    (b'{"a": 1e999}', "finite number"), (b'{"a": [' + b"9" * 400 + b'.5]}', "finite number"),
    (b'{"a" : 1, "a": 2}', "duplicate key"), (b'{"t": "x\\":", "a": 1, "a": 2}', "duplicate key"),
    (b'{"a": {"b": 1}, "c": [{"b": 1, "b": 2}]}', "duplicate key"), (b'{"a": 1' + b"0" * 25 + b"}", "out of range"),
    (b'{"a": -Infinity}', "is not JSON"), (b"\xef\xbb\xbf{}", "byte order mark"),
    (b'\xff\xfe{\x00}\x00', "not UTF-8"), (b'{"a": [1, 2,]}', "not valid JSON"), (b'{"a": "\\udc00x"}', "surrogates"),
])
def test_malformed_bodies(raw: bytes, message: str) -> None:
    with pytest.raises(body.BodyError, match=message):
        body.loads(raw)


def test_the_depth_limit_ignores_brackets_inside_strings() -> None:
    assert body.loads(json.dumps({"text": "[" * 1000 + "{" * 1000}).encode())["text"].startswith("[[")
    nested: Any = "x"
    for _ in range(body.MAX_DEPTH - 1):
        nested = [nested]
    assert body.loads(json.dumps(nested).encode())
    with pytest.raises(body.BodyError, match="nested"):
        body.loads(json.dumps([[nested]]).encode())
