"""CORS for the browser-facing APIs (the captcha widget, readers' reactions) embedded on the CMS's pages.

``MODERATION_CORS_ORIGINS`` lists the allowed origins (``https://news.example,https://www.news.example``);
``*`` allows any origin.  Empty (the default) sends no CORS headers: only same-origin pages (e.g. our demo
page) may call.  Credentials are never allowed: these APIs use no cookies.

Use ``cors_headers(request)`` for one response, ``response_hook(prefixes)`` to add them to every response
(errors included) under some path prefixes, and ``preflight(methods)`` as the OPTIONS handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from moderation.core import keys

MAX_AGE_S = 600
ALLOWED_HEADERS = "Content-Type"


def allowed_origin(request: web.Request) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this request's Origin is not allowed."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    allowed = request.app[keys.CONFIG].cors_origins
    if "*" in allowed:
        return "*"
    if origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return origin
    return None


def cors_headers(request: web.Request) -> dict[str, str]:
    origin = allowed_origin(request)
    if origin is None:
        return {}
    headers = {"Access-Control-Allow-Origin": origin,
               "Access-Control-Expose-Headers": "Retry-After, Content-Type"}
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers


def response_hook(prefixes: Iterable[str]) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` signal handler adding CORS headers to responses under ``prefixes``.

    A signal (not a route wrapper) so that error responses rendered by the middlewares get them too: a
    browser hides a cross-origin error body from the page unless the headers are present."""
    roots = tuple(prefixes)

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith(roots):
            for name, value in cors_headers(request).items():
                if name == "Vary" and "Vary" in response.headers:
                    if "origin" not in response.headers["Vary"].lower():
                        response.headers["Vary"] += ", Origin"
                    continue
                response.headers.setdefault(name, value)
    return hook


def preflight(methods: Iterable[str] = ("POST",)) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An OPTIONS handler: 204 with the allow headers when the origin is allowed, a bare 204 otherwise."""
    allow_methods = ", ".join(sorted({*methods, "OPTIONS"}))

    async def handler(request: web.Request) -> web.Response:
        headers = cors_headers(request)
        if headers:
            headers.update({"Access-Control-Allow-Methods": allow_methods,
                            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                            "Access-Control-Max-Age": str(MAX_AGE_S)})
        return web.Response(status=204, headers=headers)
    return handler
