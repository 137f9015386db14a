"""HTTP handlers for readers' browsers: issue a challenge, render it, answer it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from moderation.challenges import store
from moderation.core import keys
from moderation.core.body import read
from moderation.core.problems import Problem, validation_error
from moderation.core.ratelimit import client_hash, ip_bucket
from moderation.core.validation import Errors, string

ACTION_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")       # Turnstile's rule for `action`
CDATA_RE = re.compile(r"^[A-Za-z0-9_-]{0,255}$")       # ... and for `cdata`
ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NO_STORE = {"Cache-Control": "no-store"}
CHALLENGE_MEDIA = ("application/json", "application/octet-stream", "text/plain")


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object (empty: ``{}``), through the one body reader; ``text/plain`` too, so the
    widget's request is a CORS "simple request" without a preflight."""
    return await read(request, dict[str, Any], required=False, media=CHALLENGE_MEDIA)


def reader_ip_hash(request: web.Request) -> str:
    """The keyed hash of the client's network (``ratelimit.client_hash``: IPv6 per /64), as every
    confirmation counter, budget and row keys it."""
    ip_hash = client_hash(request)
    assert ip_hash is not None
    return ip_hash


def issue_bucket(request: web.Request) -> str:
    """The per-minute issuing limit's bucket, shared by code and proof challenges."""
    return ip_bucket(request, "challenge")


def hostname(request: web.Request) -> str | None:
    """Where the widget runs: the Origin (or Referer) host; Turnstile reports it as ``hostname``."""
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value and value != "null":
            host = urlsplit(value).hostname
            if host:
                return host[:253]
    return request.host.split(":")[0][:253] or None


def _challenge_id(request: web.Request) -> str:
    challenge_id = request.match_info["id"]
    if not ID_RE.match(challenge_id):
        raise Problem("not-found", "No such challenge (unknown id, or expired and cleaned up).")
    return challenge_id


def challenge_body(issued: store.Issued, action: str) -> dict[str, Any]:
    base = f"/v1/challenges/{issued.id}"
    return {
        "id": issued.id,
        "image_url": f"{base}/image",
        "audio_url": f"{base}/audio",
        "answer_url": f"{base}/answer",
        "expires_at": issued.expires_at.isoformat(),
        "code_length": issued.code_length,
        "action": action,
    }


async def create_challenge(request: web.Request) -> web.Response:
    """POST /v1/challenges {"article_id", "action"?, "cdata"?} → 201 {"id", "image_url", "audio_url", ...}.

    The code on its own: the classic flow (``MODERATION_CONFIRMATION=code``), and for readers without
    JavaScript in ``proof+code`` mode (tokens earned this way have a small hourly budget per address)."""
    app = request.app
    config = app[keys.CONFIG]
    if config.confirmation == "proof":
        raise Problem("confirmation-method-disabled", "This site confirms readers by proof of work only: "
                      "GET /v1/challenges/proof.")
    payload = await json_object(request)
    errors = Errors()
    article_id = string(errors, payload, "article_id", "article_id")
    action = string(errors, payload, "action", "action", required=False, max_len=32)
    if action is not None and not ACTION_RE.match(action):
        errors.add("action", "must be 1-32 characters of A-Z, a-z, 0-9, _ and -")
    cdata = string(errors, payload, "cdata", "cdata", required=False, max_len=255)
    if cdata is not None and not CDATA_RE.match(cdata):
        errors.add("cdata", "must be at most 255 characters of A-Z, a-z, 0-9, _ and -")
    if errors:
        raise validation_error(errors.items)
    assert article_id is not None
    issued = await store.issue_limited(app[keys.POOL], config, bucket=issue_bucket(request),
                                       limit=config.challenge_rate_per_minute, window_s=60, what="challenges",
                                       article_id=article_id, action=action or "comment", cdata=cdata,
                                       hostname=hostname(request), ip_hash=reader_ip_hash(request))
    return web.json_response(challenge_body(issued, action or "comment"), status=201,
                             headers={**NO_STORE, "Location": f"/v1/challenges/{issued.id}"})


async def _render(request: web.Request, kind: str) -> bytes:
    app = request.app
    code = await store.code_to_render(app[keys.POOL], app[keys.CONFIG], _challenge_id(request), kind)
    from moderation.challenges import render_code

    return await render_code(app, kind, code)


async def challenge_image(request: web.Request) -> web.Response:
    """GET /v1/challenges/{id}/image → image/png (same code, fresh noise on every render)."""
    return web.Response(body=await _render(request, "image"), content_type="image/png", headers=NO_STORE)


async def challenge_audio(request: web.Request) -> web.Response:
    """GET /v1/challenges/{id}/audio → audio/wav: the code read out, for readers who cannot see the image."""
    return web.Response(body=await _render(request, "audio"), content_type="audio/wav", headers=NO_STORE)


async def answer_challenge(request: web.Request) -> web.Response:
    """POST /v1/challenges/{id}/answer {"code"} → 200 {"token", "expires_at"}."""
    app = request.app
    challenge_id = _challenge_id(request)
    payload = await json_object(request)
    errors = Errors()
    code = string(errors, payload, "code", "code", max_len=64)
    if errors:
        raise validation_error(errors.items)
    assert code is not None
    token = await store.answer(app[keys.POOL], app[keys.CONFIG], challenge_id, code)
    return web.json_response({"token": token.token, "expires_at": token.expires_at.isoformat()}, headers=NO_STORE)
