"""RFC 9457 problem details: one error body, one middleware, stable type URIs.

Every error the service answers is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and, where useful, extension members (``errors`` for validation, ``attempts_left``, ...).
Type URIs are relative references (``/problems/<slug>``) that the service itself documents at that path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# slug -> (status, title, description).  Slugs are part of the API: never rename one.
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "bad-request": (400, "Bad request", "The request could not be understood."),
    "malformed-json": (400, "Malformed JSON", "The request body is not valid JSON."),
    "validation-error": (422, "Validation failed", "One or more fields are missing or invalid; see `errors`."),
    "unknown-event-type": (422, "Unknown event type", "The webhook `type` is not one we handle."),
    "payload-too-large": (413, "Payload too large", "The request body exceeds the configured limit."),
    "unsupported-media-type": (415, "Unsupported media type", "Send `application/json`."),
    "missing-signature": (401, "Missing webhook signature",
                          "The webhook-id, webhook-timestamp and webhook-signature headers are required."),
    "invalid-signature": (401, "Invalid webhook signature", "No signature matched the body with our secret."),
    "stale-timestamp": (401, "Webhook timestamp out of tolerance",
                        "webhook-timestamp is more than 5 minutes away from our clock; replays are refused."),
    "not-found": (404, "Not found", "No resource at this URL."),
    "method-not-allowed": (405, "Method not allowed", "This URL does not accept that method."),
    "conflict": (409, "Conflict", "The request conflicts with the current state of the resource."),
    "idempotency-key-reused": (409, "Idempotency key reused",
                               "This webhook-id was already used for a different body. A retry resends the "
                               "same body (and gets the first answer); a new event needs a new webhook-id."),
    "unauthorized": (401, "Authentication required", "Log in or send a valid bearer token."),
    "forbidden": (403, "Forbidden", "Your role may not do this."),
    "csrf-failed": (403, "CSRF check failed", "The form's CSRF token is missing or wrong; reload the page."),
    "rate-limited": (429, "Too many requests", "Slow down; retry after the number of seconds in Retry-After."),
    "confirmation-required": (422, "Confirmation required",
                              "This site requires a valid confirmation token for the article."),
    # confirmation codes (challenges)
    "challenge-expired": (410, "Challenge expired",
                          "The confirmation code has expired; request a new challenge."),
    "wrong-code": (400, "Wrong confirmation code",
                   "The code does not match the image; `attempts_left` says how many tries remain."),
    "challenge-burned": (410, "Challenge burned",
                         "Too many wrong answers; this challenge is void. Request a new one."),
    "challenge-answered": (409, "Challenge already answered",
                           "This challenge was already solved once; its token was issued then."),
    "render-limit": (429, "Too many renders",
                     "This challenge's image or audio was fetched too often; request a new challenge."),
    # proof of work (ALTCHA) confirmations
    "proof-invalid": (400, "Invalid proof of work",
                      "The payload is not a solution of a challenge this service issued; `errors` names the field."),
    "proof-expired": (410, "Proof of work expired", "The challenge expired before it was redeemed; solve a new one."),
    "proof-replayed": (409, "Proof of work already used", "Each solved challenge earns one token; solve a new one."),
    "proof-wrong-article": (422, "Proof of work for another article",
                            "The challenge was issued for another article or action than the one named."),
    "confirmation-method-disabled": (403, "Confirmation method disabled",
                                     "This site does not offer that way of confirming (MODERATION_CONFIRMATION)."),
    "invalid-token": (422, "Invalid confirmation token",
                      "The confirmation token is unknown, used, expired, or bound to another article or action."),
    "service-unavailable": (503, "Service unavailable", "A dependency is down or we are overloaded; retry later."),
    "internal-error": (500, "Internal error", "Something failed on our side; it has been logged."),
}


def type_uri(slug: str) -> str:
    return f"/problems/{slug}"


class Problem(web.HTTPException):
    """Raise anywhere in a handler; the middleware renders it.  ``extra`` becomes extension members."""

    def __init__(self, slug: str, detail: str | None = None, *, status: int | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> None:
        if slug not in CATALOGUE:
            raise KeyError(f"unknown problem type {slug!r}")
        default_status, default_title, description = CATALOGUE[slug]
        self.status_code = status or default_status
        self.slug = slug
        self.body_dict: dict[str, Any] = {
            "type": type_uri(slug),
            "title": title or default_title,
            "status": self.status_code,
            "detail": detail or description,
            **extra,
        }
        super().__init__(headers=headers, text=json.dumps(self.body_dict), content_type=PROBLEM_CONTENT_TYPE)


def validation_error(errors: list[dict[str, str]], detail: str | None = None) -> Problem:
    """``errors`` is a list of ``{"field": "data.text", "message": "..."}``."""
    if detail is None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return Problem("validation-error", detail, errors=errors)


def problem_response(slug: str, detail: str | None = None, **kw: Any) -> web.Response:
    p = Problem(slug, detail, **kw)
    return web.Response(status=p.status_code, text=p.text, content_type=PROBLEM_CONTENT_TYPE,
                        headers=p.headers if kw.get("headers") else None)


_STATUS_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                 405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
                 415: "unsupported-media-type", 422: "validation-error", 429: "rate-limited",
                 503: "service-unavailable"}


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    slug = _STATUS_SLUGS.get(exc.status, "bad-request" if exc.status < 500 else "internal-error")
    detail = None
    if isinstance(exc, web.HTTPMethodNotAllowed):
        detail = f"{exc.method} is not allowed here; allowed: {', '.join(sorted(exc.allowed_methods))}"
    elif isinstance(exc, web.HTTPRequestEntityTooLarge):
        detail = "The request body exceeds the configured limit."
    elif exc.text and not exc.text.startswith(f"{exc.status}:"):
        detail = exc.text
    headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after", "www-authenticate"}}
    problem = Problem(slug, detail, status=exc.status, headers=headers)
    return web.Response(status=exc.status, text=problem.text, content_type=PROBLEM_CONTENT_TYPE,
                        headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem:
        raise
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        wants_html = "text/html" in request.headers.get("Accept", "") and exc.status in (401, 403, 404)
        if wants_html and request.path.startswith("/moderate"):
            raise
        return _from_http_exception(exc)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return problem_response("internal-error")


async def problem_doc(request: web.Request) -> web.Response:
    """GET /problems/{slug}: the human documentation a problem's ``type`` points to."""
    slug = request.match_info["slug"]
    if slug not in CATALOGUE:
        raise Problem("not-found", f"no problem type {slug!r}")
    status, title, description = CATALOGUE[slug]
    return web.json_response({"type": type_uri(slug), "status": status, "title": title,
                              "description": description})
