"""Accounts under attack: no lockout of the real user, credentials end on a reset or a disable, tokens audited."""

from __future__ import annotations

from typing import Any

import pytest

from moderation.core.clientip import parse_networks
from moderation.review import auth
from moderation.review.login_throttle import ACCOUNT_LIMIT, DEVICE_COOKIE, backoff_s
from tests.test_review_auth import PASSWORD, bearer, login, make_moderator


@pytest.fixture
def config(config: Any) -> Any:
    # the test client is "the proxy": each attempt can come from an address of its own
    return config.with_changes(trusted_proxy_header="X-Forwarded-For", trusted_proxies=parse_networks("127.0.0.1"))


async def login_from(client: Any, ip: str, password: str = PASSWORD) -> int:
    page = await client.get("/moderate/login", headers={"X-Forwarded-For": ip})
    from tests.test_review_auth import LOGIN_CSRF_RE

    token = LOGIN_CSRF_RE.search(await page.text()).group(1)
    resp = await client.post("/moderate/login", allow_redirects=False, headers={"X-Forwarded-For": ip},
                             data={"email": "admin@example.org", "password": password, "csrf_token": token,
                                   "next": "/moderate/queue"})
    return resp.status


def test_back_off_grows_exponentially_and_is_capped() -> None:
    assert [backoff_s(n) for n in range(1, 8)] == [0, 0, 0, 2, 4, 8, 16]
    assert backoff_s(100) == 900


async def test_a_distributed_guesser_cannot_lock_the_admin_out_of_a_known_device(client: Any) -> None:
    await make_moderator(client, "admin@example.org", "admin")
    assert await login_from(client, "198.51.100.10") == 303          # the admin's own browser
    [device] = [c.value for c in client.session.cookie_jar if c.key == DEVICE_COOKIE]

    client.session.cookie_jar.clear()                                 # a guesser spread over many addresses
    statuses = [await login_from(client, f"203.0.113.{i % 250}", "guess-" + str(i)) for i in range(ACCOUNT_LIMIT + 5)]
    budget = ACCOUNT_LIMIT - 1   # the admin's own first login (then an unknown device) counted too
    assert statuses[:budget] == [401] * budget and set(statuses[budget:]) == {429}
    # a new device with the right password is throttled too (the guesser's budget is spent) ...
    client.session.cookie_jar.clear()
    assert await login_from(client, "192.0.2.1") == 429
    # ... but the admin's known device is not, from the same or another address
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({DEVICE_COOKIE: device})
    assert await login_from(client, "198.51.100.10") == 303
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({DEVICE_COOKIE: device})
    assert await login_from(client, "198.51.100.77") == 303


async def test_a_guesser_at_one_address_slows_only_itself(client: Any) -> None:
    await make_moderator(client, "admin@example.org", "admin")
    statuses = [await login_from(client, "203.0.113.9", "wrong") for _ in range(8)]
    assert statuses.count(401) == 4 and statuses[4:] == [429] * 4
    client.session.cookie_jar.clear()
    assert await login_from(client, "198.51.100.10") == 303   # the admin elsewhere: fine


async def test_set_password_and_disable_end_sessions_and_tokens(client: Any, db: Any) -> None:
    moderator = await make_moderator(client)
    pool = client.app[auth.keys.POOL]
    headers = await bearer(client, moderator)
    assert (await client.get("/v1/queue", headers=headers)).status == 200
    async with pool.acquire() as conn:
        await auth.set_password(conn, "mod@example.org", "another long passphrase")
    assert (await client.get("/v1/queue", headers=headers)).status == 401
    assert await db.fetchval("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL") == 0

    await login(client, password="another long passphrase")
    headers = await bearer(client, moderator)
    async with pool.acquire() as conn:
        await auth.set_disabled(conn, "mod@example.org", True)
        await auth.set_disabled(conn, "mod@example.org", False)   # re-enabling revives nothing
    assert (await client.get("/v1/queue", headers=headers)).status == 401
    resp = await client.get("/moderate/queue", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/moderate/login")
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log WHERE target_type = 'moderator' "
                                                   "ORDER BY id")]
    assert actions == ["moderator.password_set", "moderator.disabled", "moderator.enabled"]


async def test_issuing_and_revoking_tokens_is_audited_with_who_did_it(client: Any, db: Any) -> None:
    admin = await make_moderator(client, "boss@example.org", "admin")
    other = await make_moderator(client, "mod@example.org")
    headers = await bearer(client, admin)
    resp = await client.post("/v1/tokens", json={"name": "acting as mod", "moderator_id": other.id}, headers=headers)
    assert resp.status == 201
    token_id = (await resp.json())["id"]
    assert (await client.delete(f"/v1/tokens/{token_id}", headers=headers)).status == 204
    rows = await db.fetch("SELECT actor, action, target_id, before, after FROM audit_log "
                          "WHERE target_type = 'token' AND target_id = $1 ORDER BY id", str(token_id))
    assert [(r["actor"], r["action"]) for r in rows] == [(f"moderator:{admin.id}", "token.issued"),
                                                         (f"moderator:{admin.id}", "token.revoked")]
    assert rows[0]["after"]["moderator_id"] == other.id and rows[0]["after"]["name"] == "acting as mod"
    assert rows[1]["before"]["moderator_id"] == other.id
