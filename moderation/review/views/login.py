"""Signing in and out (CSRF-protected, throttled per account and address), and the UI home."""

from __future__ import annotations

import secrets

from aiohttp import web

from moderation.core import keys
from moderation.core.hashing import same_secret
from moderation.core.problems import Problem
from moderation.core.sql import Q
from moderation.review import auth, login_throttle
from moderation.review.views.common import page, render, safe_next

LOGIN_CSRF_COOKIE = "moderation_login_csrf"
LOGIN_LIMIT_PER_IP = 30      # attempts per LOGIN_WINDOW_S from one address
LOGIN_WINDOW_S = 300.0


# ── login / logout ─────────────────────────────────────────────────────────────────────────────────
async def login_page(request: web.Request, *, error: str | None = None, status: int = 200,
                     email: str = "", nxt: str | None = None) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"login_csrf": token, "error": error, "email": email,
                                              "next": safe_next(nxt or request.query.get("next"))}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/moderate/login", httponly=True,
                        secure=auth.cookie_secure(request), samesite="Strict", max_age=3600)
    return response


async def login_get(request: web.Request) -> web.StreamResponse:
    session_id = auth.session_cookie_value(request)
    if session_id:
        session = await auth.lookup_session(request.app[keys.POOL], session_id,
                                            ttl_s=request.app[keys.CONFIG].session_ttl_s)
        if session is not None:
            raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return await login_page(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    """Double-submit CSRF on the login form (no session yet), per-IP and per-account rate limits, then a
    fresh session id (never reuse one from before login: no session fixation)."""
    app = request.app
    config = app[keys.CONFIG]
    try:
        data = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    email = str(data.get("email", ""))[:320]
    password = str(data.get("password", ""))
    nxt = safe_next(str(data.get("next", "")))
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    form_token = str(data.get(auth.CSRF_FIELD, ""))
    if not cookie_token or not same_secret(cookie_token, form_token):
        return await login_page(request, error="The form expired; please try again.", status=403, email=email, nxt=nxt)
    pool = app[keys.POOL]
    try:
        await login_throttle.check(request, email, ip_limit=LOGIN_LIMIT_PER_IP, ip_window_s=LOGIN_WINDOW_S)
    except Problem as problem:
        return await login_page(request, error=problem.body_dict["detail"], status=429, email=email, nxt=nxt)
    async with pool.acquire() as conn:
        moderator = await auth.authenticate(conn, email, password, executor=app[keys.EXECUTOR])
        if moderator is None:
            await login_throttle.failed(request, email)
            return await login_page(request, error="Wrong e-mail or password.", status=401, email=email, nxt=nxt)
        await login_throttle.succeeded(request, email)
        old = auth.session_cookie_value(request)
        if old:
            await auth.delete_session(conn, old)
        await conn.execute(Q.auth_prune_sessions)  # expired sessions go here: logins are rare, the table small
        session_id, _ = await auth.create_session(conn, moderator.id, ttl_s=config.session_ttl_s,
                                                  user_agent=request.headers.get("User-Agent"))
    response = web.HTTPSeeOther(nxt)
    auth.set_session_cookie(request, response, session_id)
    login_throttle.remember_device(request, response, email)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/moderate/login")
    raise response


@page
@auth.require_moderator
async def logout(request: web.Request) -> web.StreamResponse:
    session_id = auth.session_cookie_value(request)
    if session_id:
        await auth.delete_session(request.app[keys.POOL], session_id)
    response = web.HTTPSeeOther("/moderate/login")
    auth.clear_session_cookie(response)
    raise response


@page
@auth.require_moderator
async def home(request: web.Request) -> web.StreamResponse:
    # keep the filters of a hand-typed or bookmarked /moderate?status=spam
    raise web.HTTPSeeOther("/moderate/queue" + (f"?{request.query_string}" if request.query_string else ""))
