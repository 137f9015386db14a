"""Moderator accounts and access: argon2 passwords, Postgres-backed UI sessions with CSRF, bearer API tokens.

Two ways in, one decorator:

* the UI: a session cookie (HttpOnly, SameSite=Strict, Secure on https or ``MODERATION_SECURE_COOKIES``)
  whose random value is stored only as a SHA-256 hash in ``moderator_sessions``; every cookie-authenticated
  unsafe request must carry the session's synchronizer CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``);
* the API: ``Authorization: Bearer <token>``; tokens are 256 random bits, shown once, stored as SHA-256.
  Bearer requests skip CSRF: a browser never attaches them on its own.

Why SHA-256 and not the keyed hash used for e-mails/IPs: session ids and tokens carry 256 bits of entropy,
so a plain digest cannot be brute-forced, and tokens then survive a rotation of the webhook secret (from
which the hashing key is derived by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from moderation.core import audit, keys
from moderation.core.hashing import same_secret
from moderation.core.problems import Problem
from moderation.core.sql import Q

ROLES = ("admin", "moderator")
ADMIN, MODERATOR = "admin", "moderator"
SESSION_COOKIE = "moderation_session"
SECURE_SESSION_COOKIE = "__Host-moderation_session"  # the __Host- prefix pins it to our origin, path / and https
SESSION_ABSOLUTE_S = 24 * 3600.0  # a session never outlives this, however active
SESSION_TOUCH_S = 60.0            # write last_seen/expiry at most this often per session
TOKEN_PREFIX = "mdt_"  # noqa: S105 - a public marker (secret scanners), not a secret
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
LOGIN_PATH = "/moderate/login"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_hasher = PasswordHasher()  # argon2id with the library's current RFC 9106 defaults


@dataclass(frozen=True)
class Moderator:
    id: int
    email: str
    role: str  # "admin" | "moderator"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


class AccountError(ValueError):
    """Invalid account input (bad e-mail, weak password, unknown role, duplicate e-mail); message is for humans."""


def actor(request: web.Request) -> str:
    """The audit-log actor for the authenticated request: ``moderator:<id>``."""
    return f"moderator:{request['moderator'].id}"


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if "@" not in value or len(value) > 320 or value.startswith("@") or value.endswith("@") or " " in value:
        raise AccountError(f"not an e-mail address: {email!r}")
    return value


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _in_executor(executor: Executor | None, fn: Callable[..., Any], *args: Any) -> Any:
    # argon2 costs ~50 ms of CPU by design: never on the event loop.
    return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


# ── accounts ───────────────────────────────────────────────────────────────────────────────────────
async def create_moderator(conn: asyncpg.Connection | asyncpg.Pool, email: str, password: str, role: str, *,
                           executor: Executor | None = None) -> Moderator:
    """Create an account; raises AccountError on bad input or when the e-mail is taken."""
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise AccountError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    password_hash = await _in_executor(executor, _hasher.hash, password)
    try:
        row = await conn.fetchrow(Q.auth_insert_moderator, email, password_hash, role)
    except asyncpg.UniqueViolationError:
        raise AccountError(f"a moderator with e-mail {email} already exists") from None
    return Moderator(row["id"], row["email"], row["role"])


async def set_password(conn: asyncpg.Connection, email: str, password: str, *, actor: str = "cli",
                       executor: Executor | None = None) -> Moderator | None:
    """Change a password and end that moderator's sessions and API tokens (a reset should lock a thief out,
    whichever credential they stole); audited."""
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise AccountError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    password_hash = await _in_executor(executor, _hasher.hash, password)
    async with conn.transaction():
        row = await conn.fetchrow(Q.auth_set_password, normalise_email(email), password_hash)
        if row is None:
            return None
        ended = await _end_credentials(conn, row["id"])
        await audit.record(conn, actor, "moderator.password_set", "moderator", row["id"], after=ended)
    return Moderator(row["id"], row["email"], row["role"])


async def set_disabled(conn: asyncpg.Connection, email: str, disabled: bool, *, actor: str = "cli") -> Any:
    """Disable (sessions and API tokens end for good: re-enabling does not revive them) or re-enable an
    account; audited.  The moderator's row, or None when there is no such e-mail."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.auth_disable_moderator, normalise_email(email), disabled)
        if row is None:
            return None
        ended = await _end_credentials(conn, row["id"]) if disabled else None
        await audit.record(conn, actor, "moderator.disabled" if disabled else "moderator.enabled", "moderator",
                           row["id"], after=ended)
    return row


async def _end_credentials(conn: asyncpg.Connection, moderator_id: int) -> dict[str, int]:
    sessions = await conn.fetchval(Q.auth_delete_moderator_sessions, moderator_id)
    tokens = await conn.fetchval(Q.auth_revoke_moderator_tokens, moderator_id)
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool, email: str, password: str, *,
                       executor: Executor | None = None) -> Moderator | None:
    """The moderator for these credentials, or None.  Unknown e-mails still pay for one argon2 verify, so
    the answer time does not reveal which addresses have accounts."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = ""
    row = await conn.fetchrow(Q.auth_moderator_by_email, email) if email else None
    if row is None or len(password) > MAX_PASSWORD:
        await _in_executor(executor, _verify, _dummy_hash(), password[:MAX_PASSWORD])
        return None
    if not await _in_executor(executor, _verify, row["password_hash"], password):
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        await conn.execute(Q.auth_set_password_hash, row["id"], await _in_executor(executor, _hasher.hash, password))
    await conn.execute(Q.auth_touch_login, row["id"])
    return Moderator(row["id"], row["email"], row["role"])


async def get_moderator(conn: asyncpg.Connection | asyncpg.Pool, moderator_id: int) -> Moderator | None:
    row = await conn.fetchrow(Q.auth_moderator_by_id, moderator_id)
    return None if row is None else Moderator(row["id"], row["email"], row["role"])


async def list_moderators(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(Q.auth_list_moderators)


# ── API tokens ─────────────────────────────────────────────────────────────────────────────────────
async def issue_token(conn: asyncpg.Connection | asyncpg.Pool, moderator_id: int, name: str, *, actor: str = "cli",
                      expires_in_s: float | None = None) -> str:
    """A new bearer token for the moderator.  Returned once; only its SHA-256 is stored."""
    return (await new_token(conn, moderator_id, name, actor=actor, expires_in_s=expires_in_s))[1]


async def new_token(conn: asyncpg.Connection | asyncpg.Pool, moderator_id: int, name: str, *, actor: str = "cli",
                    expires_in_s: float | None = None) -> tuple[int, str]:
    """Like issue_token, also returning the token's id (for listing and revoking).  The audit log says who
    issued it for whom: an admin can mint a token for another moderator, and then act as them."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with _connection(conn) as c, c.transaction():
        token_id = await c.fetchval(Q.auth_insert_token, moderator_id, name, digest(token),
                                    token[:len(TOKEN_PREFIX) + 6],
                                    None if expires_in_s is None else float(expires_in_s))
        await audit.record(c, actor, "token.issued", "token", token_id,
                           after={"moderator_id": moderator_id, "name": name, "expires_in_s": expires_in_s})
    return token_id, token


async def revoke_token(conn: asyncpg.Connection | asyncpg.Pool, token_id: int, *, actor: str = "cli") -> bool:
    """Revoke (audited); False when there is no such live token (unknown or already revoked)."""
    async with _connection(conn) as c, c.transaction():
        row = await c.fetchrow(Q.auth_revoke_token, token_id)
        if row is None:
            return False
        await audit.record(c, actor, "token.revoked", "token", token_id,
                           before={"moderator_id": row["moderator_id"], "name": row["name"]})
    return True


@contextlib.asynccontextmanager
async def _connection(conn: asyncpg.Connection | asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as c:
            yield c
    else:
        yield conn


async def lookup_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Moderator | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await conn.fetchrow(Q.auth_lookup_token, digest(token))
    if row is None:
        return None
    if row["stale"]:
        await conn.execute(Q.auth_touch_token, row["token_id"])
    return Moderator(row["id"], row["email"], row["role"])


# ── sessions ───────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Session:
    moderator: Moderator
    csrf_token: str


async def create_session(conn: asyncpg.Connection | asyncpg.Pool, moderator_id: int, *, ttl_s: float,
                         user_agent: str | None = None) -> tuple[str, str]:
    """Start a session; returns (session id for the cookie, CSRF token).  Only the id's hash is stored."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    absolute = max(SESSION_ABSOLUTE_S, ttl_s)
    await conn.execute(Q.auth_insert_session, digest(session_id), moderator_id, csrf, float(ttl_s), absolute,
                       (user_agent or "")[:300] or None)
    return session_id, csrf


async def lookup_session(conn: asyncpg.Connection | asyncpg.Pool, session_id: str, *,
                         ttl_s: float) -> Session | None:
    if not session_id or len(session_id) > 100:
        return None
    row = await conn.fetchrow(Q.auth_lookup_session, digest(session_id))
    if row is None:
        return None
    if row["idle_s"] > SESSION_TOUCH_S:
        await conn.execute(Q.auth_touch_session, digest(session_id), float(ttl_s))
    return Session(Moderator(row["id"], row["email"], row["role"]), row["csrf_token"])


async def delete_session(conn: asyncpg.Connection | asyncpg.Pool, session_id: str) -> None:
    await conn.execute(Q.auth_delete_session, digest(session_id))


def cookie_secure(request: web.Request) -> bool:
    return bool(request.app[keys.CONFIG].secure_cookies or request.secure)


def session_cookie_value(request: web.Request) -> str | None:
    return request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)


def set_session_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    secure = cookie_secure(request)
    response.set_cookie(SECURE_SESSION_COOKIE if secure else SESSION_COOKIE, session_id, path="/",
                        httponly=True, secure=secure, samesite="Strict",
                        max_age=int(max(SESSION_ABSOLUTE_S, request.app[keys.CONFIG].session_ttl_s)))


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(SECURE_SESSION_COOKIE, path="/", secure=True)


# ── the guards ─────────────────────────────────────────────────────────────────────────────────────
def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="moderation"' + (f', error="{error}"' if error else "")
    return Problem("unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _wants_login_page(request: web.Request) -> bool:
    if request.method not in ("GET", "HEAD") or not request.path.startswith("/moderate"):
        return False
    accept = request.headers.get("Accept", "")
    return not accept or "text/html" in accept or "*/*" in accept


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}")


async def _check_csrf(request: web.Request, expected: str) -> None:
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except ValueError:  # malformed form body (e.g. multipart without a boundary): it carries no token
            form = {}
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not supplied or not same_secret(supplied, expected):
        raise Problem("csrf-failed", "The CSRF token is missing or does not match this session; reload the page.")


async def authenticate_request(request: web.Request) -> Moderator:
    """Who is calling: bearer token first, then the session cookie.  Raises 401 (or redirects a browser to the
    login page); enforces CSRF on cookie-authenticated unsafe methods.  Sets ``request["moderator"]``."""
    if "moderator" in request:
        return request["moderator"]
    pool = request.app[keys.POOL]
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Send 'Authorization: Bearer <token>'.", "invalid_request")
        moderator = await lookup_token(pool, token.strip())
        if moderator is None:
            raise _unauthorized("The bearer token is unknown, expired or revoked.", "invalid_token")
        request["moderator"], request["auth"] = moderator, "token"
        return moderator
    session_id = session_cookie_value(request)
    session = None
    if session_id:
        session = await lookup_session(pool, session_id, ttl_s=request.app[keys.CONFIG].session_ttl_s)
    if session is None:
        if _wants_login_page(request):
            raise login_redirect(request)
        raise _unauthorized("Log in, or send 'Authorization: Bearer <token>'." if not session_id
                            else "Your session has expired; log in again.")
    if request.method in UNSAFE_METHODS:
        await _check_csrf(request, session.csrf_token)
    request["moderator"], request["auth"], request["csrf_token"] = session.moderator, "session", session.csrf_token
    return session.moderator


def _guard(handler: Handler, role: str) -> Handler:
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        moderator = await authenticate_request(request)
        if role == ADMIN and moderator.role != ADMIN:
            raise Problem("forbidden", "Only admins may do this.")
        return await handler(request)

    guarded.required_role = role  # type: ignore[attr-defined]  # lets tests prove every route is guarded
    return guarded


def require_moderator(handler: Handler) -> Handler:
    """Any logged-in moderator or admin (session cookie + CSRF, or bearer token)."""
    return _guard(handler, MODERATOR)


def require_admin(handler: Handler) -> Handler:
    """Admins only: 401 without credentials, 403 for a moderator."""
    return _guard(handler, ADMIN)
