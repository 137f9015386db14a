"""``GET /openapi.json``: the service's OpenAPI 3.1 description, assembled from the route descriptions.

Request bodies are generated from their declarations (``declared(shape)``: the msgspec Structs the one body
reader validates — intake's CommentEvent, the review API's bodies, tokens), so a limit changes in one place;
the remaining hand-written parts (responses, parameters, operation texts) are kept honest by tests
(tests/test_openapi.py): every route registered on the app must be described (and nothing else), and a
bounded schemathesis run against the live service must find no server error and no response that
contradicts this document.  Modules: ``builders`` (small builders, ``declared``), ``components`` (shared
schemas and responses), ``ops_api`` and ``ops_readers`` (the operations by area).

Conventions: every error is ``application/problem+json`` (RFC 9457, ``components.schemas.Problem``) and each
operation lists the statuses it can answer.  Two exceptions are documented as such: ``POST /v1/siteverify``
answers Turnstile's shape with HTTP 200, and the HTML pages (``/moderate/*``, ``/demo/*``) are described
minimally; compat's Perspective/Akismet operations bring their own error shapes (compat/openapi_doc.py).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from moderation.core import keys
from moderation.core.config import Config
from moderation.openapi.builders import _DECLARED, HTML_PREFIXES, Schema
from moderation.openapi.components import _components
from moderation.openapi.ops_api import _ops_challenges, _ops_intake, _ops_review, _ops_service
from moderation.openapi.ops_readers import _ops_pages, _ops_readers

__all__ = ["HTML_PREFIXES", "build_spec", "setup"]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"


# ── the document ───────────────────────────────────────────────────────────────────────────────────
DESCRIPTION = """\
Self-hosted comment moderation: the CMS posts every reader comment to a signed webhook; the service scores it
with its own classifier, decides (approved / pending / spam / rejected / deleted), stores it and answers.
Readers solve confirmation codes and react to articles and comments; moderators work a review queue.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` (`/problems/<slug>`, documented at
`GET /problems/{slug}`); 422s carry `errors: [{"field", "message"}]` naming every offending field.  Any URL
answers 404 problem+json when no route matches and 405 (with `Allow`) for a method it does not accept.  Every
response carries `X-Request-ID` (echoed from the request when it is a safe token).  Every GET also answers
HEAD, except the challenge image and audio (a HEAD would count as a render).

**Authentication**: moderator routes take `Authorization: Bearer mdt_...` or the UI session cookie (+ CSRF
token for unsafe methods); the webhook takes a Standard Webhooks signature; reader routes are public.
"""


def build_spec(config: Config) -> dict[str, Any]:
    """The whole OpenAPI document for an app built with ``config``."""
    paths: dict[str, Schema] = {}
    from moderation.compat import openapi_doc as compat_doc  # Perspective/Akismet: their own error shapes

    _DECLARED.clear()
    for part in (_ops_service(), _ops_intake(config), _ops_challenges(config), _ops_review(), _ops_readers(),
                 _ops_pages(), compat_doc.paths()):
        for path, operations in part.items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Comment moderation service", "version": API_VERSION, "description": DESCRIPTION,
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "tags": [{"name": t} for t in ("intake", "challenges", "readers", "review", "accounts", "operations",
                                       "html pages", compat_doc.TAG_PERSPECTIVE, compat_doc.TAG_AKISMET)],
        "paths": dict(sorted(paths.items())),
        "components": _with_compat(_components(config), compat_doc),
    }


def _with_compat(components: Schema, compat_doc: Any) -> Schema:
    components["schemas"].update(_DECLARED)
    components["schemas"].update(compat_doc.schemas())
    components["securitySchemes"].update(compat_doc.SECURITY_SCHEMES)
    return components


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.app[keys.OPENAPI_SPEC], content_type="application/json")


def setup(app: web.Application) -> None:
    """Register ``GET /openapi.json`` (the document is built once, here: no I/O)."""
    app[keys.OPENAPI_SPEC] = json.dumps(build_spec(app[keys.CONFIG]), ensure_ascii=False).encode()
    app.router.add_get("/openapi.json", openapi_json)
