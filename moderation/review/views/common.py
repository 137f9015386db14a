"""Plumbing shared by the UI pages: security headers, flash messages, rendering, forms, redirects."""

from __future__ import annotations

import functools
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from moderation.core import keys
from moderation.core.hashing import keyed_hash, same_secret
from moderation.core.problems import Problem
from moderation.review import auth

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

Handler = auth.Handler


# ── plumbing ───────────────────────────────────────────────────────────────────────────────────────
async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every /moderate answer (pages, redirects, errors) gets the strict headers."""
    if request.path.startswith("/moderate"):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _flash_sig(request: web.Request, message: str) -> str:
    return keyed_hash(request.app[keys.CONFIG].hashing_key, message, purpose="ui-flash")[:20]


def flash_message(request: web.Request) -> str | None:
    """The ``?flash=`` notice, only when we wrote it: a crafted link cannot put words in our mouth."""
    message, sig = request.query.get("flash"), request.query.get("fs", "")
    if not message or not same_secret(sig, _flash_sig(request, message)):
        return None
    return message


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    base = {"me": request.get("moderator"), "csrf_token": request.get("csrf_token", ""), "path": request.path,
            "query": request.query, "flash": flash_message(request)}
    return aiohttp_jinja2.render_template(f"moderate/{template}", request, {**base, **context}, status=status)


def page(handler: Handler) -> Handler:
    """Render problems raised by a UI handler as an HTML error page (JSON callers still get problem+json)."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem as problem:
            if wants_json(request):
                raise
            return render(request, "error.html", {"problem": problem.body_dict}, status=problem.status_code)

    if hasattr(handler, "required_role"):
        wrapped.required_role = handler.required_role  # type: ignore[attr-defined]
    return wrapped


def safe_next(target: str | None) -> str:
    """Only local /moderate paths: never an open redirect (``//evil``, ``/\\evil``, absolute URLs)."""
    if not target or not target.startswith("/moderate") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/moderate/queue"
    return target


def back(request: web.Request, default: str = "/moderate/queue") -> str:
    """Where a no-JS form post returns: its ``next`` field when local, else ``default``."""
    return safe_next(request.get("form_next") or default)


async def form(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    out: dict[str, Any] = {}
    for key in data:
        values = [v for v in data.getall(key) if isinstance(v, str)]
        out[key] = values if key.endswith("[]") or key == "ids" else (values[-1] if values else "")
    request["form_next"] = out.get("next")
    return out


def done(request: web.Request, payload: dict[str, Any], *, flash: str | None = None,
         to: str | None = None) -> web.StreamResponse:
    """Answer a UI action: JSON for moderate.js, else a 303 back to the page (with a flash message)."""
    if wants_json(request):
        return web.json_response(payload)
    target = to or back(request)
    if flash:
        target = str(URL(target).update_query(flash=flash, fs=_flash_sig(request, flash)))
    raise web.HTTPSeeOther(target)
