"""Moderator accounts and access: every moderator route is guarded, sessions + CSRF, bearer tokens, CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moderation.app import create_app
from moderation.review import auth
from tests.conftest import TEST_SECRET

# Every route under these prefixes is for moderators (the readers' public routes are listed in PUBLIC).
MODERATOR_PREFIXES = ("/v1/queue", "/v1/comments/", "/v1/decisions", "/v1/commenters", "/v1/wordlists",
                      "/v1/audit", "/v1/outbox", "/v1/tokens", "/v1/moderators", "/v1/callbacks", "/v1/blocks",
                      "/v1/reactions/", "/moderate")
PUBLIC = {("PUT", "/v1/comments/{id}/reaction"), ("DELETE", "/v1/comments/{id}/reaction"),
          ("OPTIONS", "/v1/comments/{id}/reaction"), ("POST", "/v1/comments/{id}/reports"),
          ("OPTIONS", "/v1/comments/{id}/reports"), ("GET", "/moderate/login"), ("HEAD", "/moderate/login"),
          ("POST", "/moderate/login")}
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
LOGIN_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def moderator_routes(app: Any) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, required role) for every moderator route; path parameters are filled with a
    value their pattern accepts (``1``, or the first alternative of ``{verb:enable|disable}``)."""
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method == "HEAD" or not path.startswith(MODERATOR_PREFIXES) or (route.method, path) in PUBLIC:
            continue
        pattern = info["pattern"].pattern if "pattern" in info else ""

        def value(m: re.Match[str], pattern: str = pattern) -> str:
            group = re.search(rf"\(\?P<{m.group(1)}>([^)]*)\)", pattern)
            regex = group.group(1) if group else ""
            return "1" if not regex or regex.startswith("[^") else regex.split("|")[0]

        out.append((route.method, re.sub(r"\{([^}:]+)[^}]*\}", value, path),
                    getattr(route.handler, "required_role", None)))
    return out


def concrete(path: str) -> str:
    return path


async def make_moderator(client: Any, email: str = "mod@example.org", role: str = "moderator") -> auth.Moderator:
    pool = client.app[auth.keys.POOL]
    return await auth.create_moderator(pool, email, PASSWORD, role)


async def bearer(client: Any, moderator: auth.Moderator) -> dict[str, str]:
    token = await auth.issue_token(client.app[auth.keys.POOL], moderator.id, "tests")
    return {"Authorization": f"Bearer {token}"}


async def login(client: Any, email: str = "mod@example.org", password: str = PASSWORD,
                next_path: str = "/moderate/queue") -> Any:
    page = await client.get("/moderate/login")
    token = LOGIN_CSRF_RE.search(await page.text()).group(1)
    return await client.post("/moderate/login", data={"email": email, "password": password, "csrf_token": token,
                                                       "next": next_path}, allow_redirects=False)


async def csrf_token(client: Any) -> str:
    page = await client.get("/moderate/queue")
    assert page.status == 200, await page.text()
    return CSRF_RE.search(await page.text()).group(1)


# ── every route is guarded ──────────────────────────────────────────────────────────────────────────
async def test_every_moderator_route_is_guarded(client: Any) -> None:
    routes = moderator_routes(client.app)
    paths = {p for _, p, _ in routes}
    assert {"/moderate/queue", "/v1/tokens", "/v1/moderators"} <= paths
    unguarded = [(m, p) for m, p, role in routes if role is None]
    assert not unguarded, f"moderator routes without require_moderator/require_admin: {unguarded}"


async def test_every_moderator_route_answers_401_without_credentials(client: Any) -> None:
    checked = 0
    for method, path, _ in moderator_routes(client.app):
        browser_get = method == "GET" and path.startswith("/moderate")
        resp = await client.request(method, concrete(path), allow_redirects=False, json={},
                                    headers={} if browser_get else {"Accept": "application/json"})
        if browser_get:
            assert resp.status == 303, (method, path, resp.status)
            assert resp.headers["Location"].startswith("/moderate/login?next="), (method, path)
        else:
            body = await resp.json()
            assert resp.status == 401, (method, path, resp.status, body)
            assert resp.headers["Content-Type"].startswith("application/problem+json")
            assert body["type"] == "/problems/unauthorized"
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 15
    # a browser form post without a session gets a readable 401 page, not JSON
    resp = await client.post("/moderate/decisions", data={"action": "approve", "ids": "1"})
    assert resp.status == 401 and "text/html" in resp.headers["Content-Type"] and "Log in" in await resp.text()


async def test_bad_tokens_and_schemes_are_401(client: Any) -> None:
    for header in ("Bearer mdt_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "mdt_x"):
        resp = await client.get("/v1/tokens", headers={"Authorization": header})
        assert resp.status == 401, header
        assert (await resp.json())["type"] == "/problems/unauthorized"


async def test_moderator_gets_403_on_every_admin_route(client: Any) -> None:
    moderator = await make_moderator(client)
    headers = await bearer(client, moderator)
    admin_routes = [(m, p) for m, p, role in moderator_routes(client.app) if role == "admin"]
    assert ("GET", "/v1/tokens") in admin_routes and ("GET", "/moderate/tokens") in admin_routes
    for method, path in admin_routes:
        resp = await client.request(method, concrete(path), headers={**headers, "Accept": "application/json"},
                                    json={})
        assert resp.status == 403, (method, path, resp.status)
        assert (await resp.json())["type"] == "/problems/forbidden"
    # and over the UI session, the admin page is a readable 403 page
    assert (await login(client)).status == 303
    resp = await client.get("/moderate/tokens")
    assert resp.status == 403 and "Forbidden" in await resp.text()


async def test_admin_reaches_admin_routes(client: Any) -> None:
    admin = await make_moderator(client, "boss@example.org", "admin")
    headers = await bearer(client, admin)
    resp = await client.get("/v1/moderators", headers=headers)
    assert resp.status == 200
    assert [m["email"] for m in (await resp.json())["moderators"]] == ["boss@example.org"]


# ── sessions, CSRF, login ───────────────────────────────────────────────────────────────────────────
async def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client: Any, db: Any) -> None:
    await make_moderator(client)
    resp = await login(client)
    assert resp.status == 303 and resp.headers["Location"] == "/moderate/queue"
    cookie = resp.cookies[auth.SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    # only a hash of the session id is stored
    stored = await db.fetchval("SELECT id_hash FROM moderator_sessions")
    assert stored == auth.digest(cookie.value) and cookie.value not in stored
    page = await client.get("/moderate/queue")
    assert page.status == 200 and "mod@example.org" in await page.text()
    token = await csrf_token(client)
    resp = await client.post("/moderate/logout", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert await db.fetchval("SELECT count(*) FROM moderator_sessions") == 0
    client.session.cookie_jar.update_cookies({auth.SESSION_COOKIE: cookie.value})  # replay the old cookie
    resp = await client.get("/moderate/queue", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/moderate/login")


async def test_secure_cookie_when_configured(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(secure_cookies=True)))
    await make_moderator(client)
    page = await client.get("/moderate/login")
    assert page.cookies["moderation_login_csrf"]["secure"]
    token = LOGIN_CSRF_RE.search(await page.text()).group(1)
    # our test client speaks http, so it would not send a Secure cookie back: send it by hand
    resp = await client.post("/moderate/login", data={"email": "mod@example.org", "password": PASSWORD,
                                                       "csrf_token": token},
                             headers={"Cookie": f"moderation_login_csrf={token}"}, allow_redirects=False)
    assert resp.status == 303
    cookie = resp.cookies[auth.SECURE_SESSION_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"


async def test_wrong_password_and_unknown_email_fail(client: Any, db: Any) -> None:
    await make_moderator(client)
    for email, password in (("mod@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)):
        resp = await login(client, email, password)
        assert resp.status == 401 and "Wrong e-mail or password" in await resp.text()
        assert auth.SESSION_COOKIE not in resp.cookies
    assert await db.fetchval("SELECT count(*) FROM moderator_sessions") == 0
    assert await auth.authenticate(db, "MOD@example.org ", PASSWORD) is not None  # e-mail normalised
    assert await auth.authenticate(db, "mod@example.org", "nope nope") is None


async def test_password_is_argon2_hashed(client: Any, db: Any) -> None:
    await make_moderator(client)
    stored = await db.fetchval("SELECT password_hash FROM moderators WHERE email = 'mod@example.org'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_create_moderator_rejects_bad_input(client: Any) -> None:
    await make_moderator(client)
    pool = client.app[auth.keys.POOL]
    for email, password, role in (("MOD@example.org", PASSWORD, "moderator"), ("not-an-email", PASSWORD, "admin"),
                                  ("x@example.org", "short", "admin"), ("y@example.org", PASSWORD, "root")):
        with pytest.raises(auth.AccountError):
            await auth.create_moderator(pool, email, password, role)


async def test_login_form_needs_its_csrf_token(client: Any) -> None:
    await make_moderator(client)
    resp = await client.post("/moderate/login", data={"email": "mod@example.org", "password": PASSWORD},
                             allow_redirects=False)
    assert resp.status == 403 and auth.SESSION_COOKIE not in resp.cookies


async def test_login_never_redirects_off_site(client: Any) -> None:
    await make_moderator(client)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/v1/tokens"):
        client.session.cookie_jar.clear()
        resp = await login(client, next_path=evil)
        assert resp.headers["Location"] == "/moderate/queue", evil


async def test_login_backs_off_per_account_and_address(client: Any) -> None:
    import asyncio

    from moderation.review.login_throttle import FREE_FAILURES

    await make_moderator(client)
    statuses = [(await login(client, password="wrong password!")).status for _ in range(FREE_FAILURES + 2)]
    # three free failures, a fourth sets a 2 s back-off, and the next attempt waits — even the right password
    assert statuses == [401] * (FREE_FAILURES + 1) + [429]
    resp = await login(client)
    assert resp.status == 429 and "retry in" in await resp.text()
    await asyncio.sleep(2.2)
    assert (await login(client)).status == 303   # a success clears the pair


async def test_cookie_post_without_or_with_wrong_csrf_token_is_refused(client: Any, db: Any) -> None:
    await make_moderator(client)
    await login(client)
    token = await csrf_token(client)
    block = {"kind": "author", "value": "troll-1"}
    for data, headers in ((block, {}), ({**block, "csrf_token": "x" * len(token)}, {}),
                          (block, {"X-CSRF-Token": token[:-1] + ("B" if token.endswith("A") else "A")})):
        resp = await client.post("/moderate/blocked", data=data, headers={"Accept": "application/json", **headers},
                                 allow_redirects=False)
        assert resp.status == 403
        assert (await resp.json())["type"] == "/problems/csrf-failed"
    # part A's JSON API over the cookie needs it too
    resp = await client.put("/v1/commenters/troll-1/block", json={"reason": "x"})
    assert resp.status == 403 and (await resp.json())["type"] == "/problems/csrf-failed"
    assert await db.fetchval("SELECT count(*) FROM blocked_authors") == 0
    # with the right token (form field or header) it goes through
    resp = await client.post("/moderate/blocked", data={**block, "csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert await db.fetchval("SELECT count(*) FROM blocked_authors") == 1
    resp = await client.post("/moderate/blocked/remove", data=block,
                             headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.status == 200
    assert await db.fetchval("SELECT count(*) FROM blocked_authors") == 0


async def test_bearer_requests_skip_csrf(client: Any, db: Any) -> None:
    moderator = await make_moderator(client)
    resp = await client.post("/moderate/blocked", data={"kind": "author", "value": "troll-2"},
                             headers={**await bearer(client, moderator), "Accept": "application/json"})
    assert resp.status == 200, await resp.text()
    assert await db.fetchval("SELECT created_by FROM blocked_authors") == f"moderator:{moderator.id}"


async def test_moderate_pages_send_strict_security_headers(client: Any) -> None:
    for path in ("/moderate/login", "/moderate/queue"):
        resp = await client.get(path, allow_redirects=False)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


# ── tokens ──────────────────────────────────────────────────────────────────────────────────────────
async def test_token_api_issue_list_revoke(client: Any, db: Any) -> None:
    admin = await make_moderator(client, "boss@example.org", "admin")
    moderator = await make_moderator(client)
    headers = await bearer(client, admin)
    resp = await client.post("/v1/tokens", json={"name": "cms", "moderator_id": moderator.id, "expires_in_days": 30},
                             headers=headers)
    body = await resp.json()
    assert resp.status == 201, body
    token = body["token"]
    assert token.startswith("mdt_") and body["moderator_email"] == "mod@example.org" and body["expires_at"]
    # stored only as a hash; listed without the secret
    assert await db.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash = $1", auth.digest(token)) == 1
    assert await db.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash = $1 OR prefix = $1", token) == 0
    listing = await (await client.get("/v1/tokens", headers=headers)).json()
    assert token not in str(listing) and {t["name"] for t in listing["tokens"]} == {"cms", "tests"}
    # the new token works (a moderator: 403 on admin routes, but authenticated), then is revoked
    mod_headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/tokens", headers=mod_headers)).status == 403
    assert (await client.delete(f"/v1/tokens/{body['id']}", headers=headers)).status == 204
    assert (await client.delete(f"/v1/tokens/{body['id']}", headers=headers)).status == 204  # idempotent
    assert (await client.delete("/v1/tokens/999999", headers=headers)).status == 404
    resp = await client.get("/v1/tokens", headers=mod_headers)
    assert resp.status == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


async def test_token_api_validates(client: Any) -> None:
    headers = await bearer(client, await make_moderator(client, "boss@example.org", "admin"))
    for body, field in (({}, "name"), ({"name": "x", "moderator_id": "3"}, "moderator_id"),
                        ({"name": "x", "expires_in_days": -1}, "expires_in_days"),
                        ({"name": "x", "moderator_id": 999}, "moderator_id")):
        resp = await client.post("/v1/tokens", json=body, headers=headers)
        problem = await resp.json()
        assert resp.status == 422, body
        assert problem["errors"][0]["field"] == field
    resp = await client.post("/v1/tokens", data=b"{not json", headers=headers)
    assert resp.status == 400


async def test_revoked_and_expired_tokens_are_401(client: Any, db: Any) -> None:
    moderator = await make_moderator(client)
    pool = client.app[auth.keys.POOL]
    token_id, token = await auth.new_token(pool, moderator.id, "t")
    assert await auth.lookup_token(pool, token) == moderator
    assert await auth.revoke_token(pool, token_id) and not await auth.revoke_token(pool, token_id)
    resp = await client.get("/v1/queue", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    token_id, token = await auth.new_token(pool, moderator.id, "short", expires_in_s=60)
    await db.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", token_id)
    assert (await client.get("/v1/queue", headers={"Authorization": f"Bearer {token}"})).status == 401


async def test_admin_issues_a_token_in_the_ui(client: Any, db: Any) -> None:
    await make_moderator(client, "boss@example.org", "admin")
    await login(client, "boss@example.org")
    token = await csrf_token(client)
    resp = await client.post("/moderate/tokens", data={"name": "cms", "csrf_token": token})
    html = await resp.text()
    assert resp.status == 201
    issued = re.search(r'id="new-token">(mdt_[^<]+)<', html).group(1)
    assert (await client.get("/v1/moderators", headers={"Authorization": f"Bearer {issued}"})).status == 200
    token_id = await db.fetchval("SELECT id FROM api_tokens WHERE name = 'cms'")
    resp = await client.post(f"/moderate/tokens/{token_id}/revoke", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/v1/moderators", headers={"Authorization": f"Bearer {issued}"})).status == 401


# ── CLI ─────────────────────────────────────────────────────────────────────────────────────────────
def _cli(database_url: str, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MODERATION_WEBHOOK_SECRET": TEST_SECRET,
           "MODERATION_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "moderation", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, cwd=Path(__file__).parent.parent)


async def test_cli_create_moderator_and_issue_token(database_url: str, tmp_path: Path, db: Any,
                                                    client: Any) -> None:
    done = _cli(database_url, tmp_path, "create-moderator", "--email", "Chief@Example.org", "--role", "admin",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "created admin chief@example.org" in done.stdout
    row = await db.fetchrow("SELECT email, role, password_hash FROM moderators")
    assert row["email"] == "chief@example.org" and row["role"] == "admin"
    assert row["password_hash"].startswith("$argon2id$")
    assert await auth.authenticate(db, "chief@example.org", PASSWORD) is not None
    again = _cli(database_url, tmp_path, "create-moderator", "--email", "chief@example.org", "--role", "admin",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    issued = _cli(database_url, tmp_path, "issue-token", "--email", "chief@example.org", "--name", "ops")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("mdt_")
    assert (await client.get("/v1/moderators", headers={"Authorization": f"Bearer {token}"})).status == 200


async def test_cli_disable_moderator_locks_out_sessions_and_tokens(database_url: str, tmp_path: Path,
                                                                    client: Any) -> None:
    moderator = await make_moderator(client)
    headers = await bearer(client, moderator)
    await login(client)
    assert (await client.get("/moderate/queue", allow_redirects=False)).status == 200
    done = _cli(database_url, tmp_path, "disable-moderator", "--email", "mod@example.org")
    assert done.returncode == 0, done.stderr
    assert (await client.get("/moderate/queue", allow_redirects=False)).status == 303
    assert (await client.get("/v1/queue", headers=headers)).status == 401
    assert (await login(client)).status == 401
    assert _cli(database_url, tmp_path, "disable-moderator", "--email", "mod@example.org", "--enable").returncode == 0
    assert (await client.get("/v1/queue", headers=headers)).status == 401   # ended for good, not suspended
    assert (await login(client)).status == 303                               # the password works again


def test_cli_refuses_to_prompt_without_a_terminal(database_url: str, tmp_path: Path) -> None:
    done = _cli(database_url, tmp_path, "create-moderator", "--email", "a@example.org", "--role", "moderator")
    assert done.returncode != 0 and "--password-stdin" in done.stderr
