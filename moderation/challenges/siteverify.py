"""``POST /v1/siteverify``: Cloudflare Turnstile's server-side check, same request and response shape.

A CMS plugin written for Turnstile works by changing the URL (and the secret).  Like Turnstile, every
answer is HTTP 200 with ``success`` and ``error-codes``; this endpoint is the one exception to
problem+json, because its callers parse Turnstile's shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from moderation.challenges import store
from moderation.core import body, keys
from moderation.core.hashing import same_secret

MAX_RESPONSE_CHARS = 2048   # Turnstile's limit for a token


def _fail(*codes: str, message: str | None = None) -> web.Response:
    body: dict[str, Any] = {"success": False, "error-codes": list(codes), "messages": [message] if message else []}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def _fields(request: web.Request) -> dict[str, Any] | None:
    """The request's fields, from JSON or a form; None when the body cannot be parsed."""
    ctype = request.content_type.lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        try:  # the one body reader's limits, but Turnstile's answer shape (no problem+json) on failure
            payload = body.loads(await request.read())
        except body.BodyError:
            return None
        return payload if isinstance(payload, dict) else None
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except ValueError:
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return None


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def siteverify(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    fields = await _fields(request)
    if fields is None:
        return _fail("bad-request", message="send secret and response as a form or a JSON object")
    secret, response = fields.get("secret"), fields.get("response")
    idem, remoteip = fields.get("idempotency_key"), fields.get("remoteip")
    for name, value in (("secret", secret), ("response", response), ("idempotency_key", idem),
                        ("remoteip", remoteip)):
        if value is not None and not isinstance(value, str):
            return _fail("bad-request", message=f"{name} must be a string")
    if not secret:
        return _fail("missing-input-secret")
    expected = config.siteverify_secret
    if expected is None or not same_secret(secret, expected):
        return _fail("invalid-input-secret")
    if not response:
        return _fail("missing-input-response")
    if len(response) > MAX_RESPONSE_CHARS:
        return _fail("invalid-input-response", message="token too long")
    if idem is not None and (not idem or len(idem) > 128):
        return _fail("bad-request", message="idempotency_key must be 1-128 characters (a UUID)")
    verdict = await store.consume(request.app[keys.POOL], config, response.strip(), article_id=None, action=None,
                                  used_by="siteverify", idempotency_key=idem or None)
    if not verdict.ok:
        assert verdict.error is not None
        return _fail(verdict.error, message=verdict.reason)
    row = verdict.row
    return web.json_response({
        "success": True,
        "challenge_ts": _iso(row["issued_at"]),
        "hostname": row["hostname"] or "",
        "action": row["action"],
        "cdata": row["cdata"] or "",
        "error-codes": [],
        "messages": [],
        "metadata": {"article_id": row["article_id"]},   # ours: the article the code was solved for
    }, headers={"Cache-Control": "no-store"})
