"""Errors of the Perspective routes, in Google's shape, and still problem details.

Google's clients read ``{"error": {"code", "message", "status", "details"}}`` (``googleapiclient``'s
``HttpError`` shows ``error.message``; integrations look for ``details[].errorType`` such as
``LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE``).  The same body also carries RFC 9457's members (``type``,
``title``, ``status``, ``detail``) with a stable ``type`` like every other error of this service: Google's
``status`` is inside ``error``, so the two shapes do not collide.  Content-Type is ``application/json`` as
Google sends it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PERSPECTIVE_ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"

# our problem slug -> (HTTP code, Google status, title)
KINDS: dict[str, tuple[int, str, str]] = {
    "perspective-invalid-argument": (400, "INVALID_ARGUMENT", "Invalid argument"),
    "perspective-invalid-key": (400, "INVALID_ARGUMENT", "API key not valid"),
    "perspective-missing-key": (403, "PERMISSION_DENIED", "API key missing"),
    "perspective-unknown-attribute": (400, "INVALID_ARGUMENT", "Unknown attribute"),
    "perspective-language-not-supported": (400, "INVALID_ARGUMENT", "Language not supported by attribute"),
    "perspective-comment-too-long": (400, "INVALID_ARGUMENT", "Comment too long"),
    "perspective-comment-empty": (400, "INVALID_ARGUMENT", "Comment empty"),
    "perspective-malformed-json": (400, "INVALID_ARGUMENT", "Invalid JSON payload"),
    "perspective-quota": (429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
    "perspective-not-found": (404, "NOT_FOUND", "Not found"),
    "perspective-method-not-allowed": (405, "UNIMPLEMENTED", "Method not allowed"),
    "perspective-unavailable": (503, "UNAVAILABLE", "Scoring unavailable"),
}

DESCRIPTIONS: dict[str, str] = {
    "perspective-invalid-argument": "A field of the Perspective request is invalid; `error.message` names it.",
    "perspective-invalid-key": "The `key` is not a live API key of this service (`moderation api-key list`).",
    "perspective-missing-key": "Send the API key as `?key=` (or the `X-Goog-Api-Key` header).",
    "perspective-unknown-attribute": "A requested attribute is not one this service scores.",
    "perspective-language-not-supported": "The model has no head for this attribute in the comment's language.",
    "perspective-comment-too-long": "`comment.text` is over 20,480 bytes of UTF-8.",
    "perspective-comment-empty": "`comment.text` is missing or empty.",
    "perspective-malformed-json": "The body is not JSON, or not of the request shape of the method.",
    "perspective-quota": "The key sent more requests per minute than its rate; retry after `Retry-After` seconds.",
    "perspective-not-found": "No Perspective method at this path.",
    "perspective-method-not-allowed": "Perspective methods are POST.",
    "perspective-unavailable": "The classifier did not answer in time; retry.",
}


class GoogleError(Exception):
    """Raised in a Perspective handler; :func:`render` turns it into the response."""

    def __init__(self, slug: str, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.slug = slug
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    @property
    def code(self) -> int:
        return KINDS[self.slug][0]


def body(err: GoogleError) -> dict[str, Any]:
    code, status, title = KINDS[err.slug]
    error: dict[str, Any] = {"code": code, "message": err.message, "status": status}
    if err.details:
        error["details"] = err.details
    return {"error": error, "type": f"/problems/{err.slug}", "title": title, "status": code, "detail": err.message}


def render(err: GoogleError) -> web.Response:
    return web.Response(status=err.code, text=json.dumps(body(err)), content_type="application/json",
                        headers=err.headers)


def perspective_detail(error_type: str, **fields: Any) -> dict[str, Any]:
    """One ``details`` entry of Perspective's own error type, e.g. LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE."""
    return {"@type": PERSPECTIVE_ERROR_TYPE, "errorType": error_type, **fields}


def invalid_key(message: str = "API key not valid. Please pass a valid API key.") -> GoogleError:
    return GoogleError("perspective-invalid-key", message, details=[
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com", "metadata": {"service": "commentanalyzer.googleapis.com"}}])


def from_http_exception(exc: web.HTTPException) -> GoogleError:
    """aiohttp's own refusals (body too large, ...) on a Perspective route, in Google's shape."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return GoogleError("perspective-invalid-argument", "Request payload size exceeds the limit.")
    if exc.status == 429:
        return GoogleError("perspective-quota", exc.text or "Quota exceeded.", headers=dict(exc.headers))
    if exc.status >= 500:
        return GoogleError("perspective-unavailable", "The service is unavailable; retry.",
                           headers={k: v for k, v in exc.headers.items() if k.lower() == "retry-after"})
    return GoogleError("perspective-invalid-argument", exc.reason or "Invalid request.")
