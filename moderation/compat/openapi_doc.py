"""The compat routes in the service's OpenAPI document.

Their errors are **not** this service's ``application/problem+json``: Perspective's routes answer Google's
``{"error": {"code", "message", "status", "details"}}`` as ``application/json`` (the body also carries the
problem members ``type``/``title``/``status``/``detail``), and Akismet's answer plain text with
``X-akismet-debug-help``, as the clients of those services expect.  Request and response schemas of
Perspective come from the Structs in :mod:`moderation.compat.perspective_shapes`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from moderation.compat import perspective_shapes as shapes
from moderation.compat.google_errors import KINDS

Schema = dict[str, Any]
PREFIX = "Perspective"
TAG_PERSPECTIVE, TAG_AKISMET = "perspective", "akismet"
STRUCTS = (shapes.AnalyzeCommentRequest, shapes.AnalyzeCommentResponse, shapes.SuggestCommentScoreRequest,
           shapes.SuggestCommentScoreResponse)


def _rename_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (v.replace("#/components/schemas/", f"#/components/schemas/{PREFIX}") if k == "$ref" else
                    _rename_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v) for v in node]
    return node


def schemas() -> dict[str, Schema]:
    _, components = msgspec.json.schema_components(STRUCTS, ref_template="#/components/schemas/{name}")
    out = {f"{PREFIX}{name}": _rename_refs(schema) for name, schema in components.items()}
    out["GoogleError"] = {
        "type": "object", "required": ["error"], "additionalProperties": True,
        "description": "Google's error shape (what Perspective's clients read), plus the RFC 9457 members.",
        "properties": {
            "error": {"type": "object", "required": ["code", "message", "status"], "properties": {
                "code": {"type": "integer"}, "message": {"type": "string"},
                "status": {"type": "string", "enum": sorted({s for _, s, _ in KINDS.values()})},
                "details": {"type": "array", "items": {"type": "object"}}}},
            "type": {"type": "string", "enum": [f"/problems/{slug}" for slug in KINDS]},
            "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}}}
    return out


def _google(description: str, *, retry: bool = False) -> Schema:
    out: Schema = {"description": description,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GoogleError"}}}}
    if retry:
        out["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}}
    return out


def _google_errors() -> dict[str, Schema]:
    return {"400": _google("INVALID_ARGUMENT: bad JSON, unknown attribute, language not supported by an attribute, "
                           "text over 20,480 bytes, invalid key"),
            "403": _google("PERMISSION_DENIED: no key"), "404": _google("NOT_FOUND"),
            "429": _google("RESOURCE_EXHAUSTED: the key's rate is used up", retry=True),
            "500": _google("INTERNAL"), "503": _google("UNAVAILABLE: the model did not answer", retry=True)}


def _perspective(method: str, request: str, response: str, summary: str, description: str) -> Schema:
    return {"post": {
        "operationId": f"perspective{method.capitalize()}", "summary": summary, "tags": [TAG_PERSPECTIVE],
        "description": description + " Errors are Google-shaped JSON, not problem+json.",
        "security": [{"perspectiveKey": []}],
        "parameters": [{"name": "key", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "API key (`moderation api-key create NAME`); or header X-Goog-Api-Key."}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{PREFIX}{request}"}}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{PREFIX}{response}"}}}}, **_google_errors()}}}


_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_DEBUG = {"X-akismet-debug-help": {"schema": {"type": "string"}, "description": "Why the call failed."}}
FORM_FIELDS = ("api_key", "blog", "user_ip", "user_agent", "referrer", "permalink", "comment_type",
               "comment_author", "comment_author_email", "comment_author_url", "comment_content",
               "comment_date_gmt", "comment_post_modified_gmt", "blog_lang", "blog_charset", "user_role", "is_test",
               "recheck_reason", "honeypot_field_name")


def _akismet(method: str, summary: str, answer: str, *, key_field: str = "api_key",
             required: tuple[str, ...] = ("blog",)) -> Schema:
    fields = ("key", "blog") if key_field == "key" else FORM_FIELDS
    form = {"type": "object", "additionalProperties": {"type": "string"},
            "properties": {f: {"type": "string"} for f in fields}, "required": list(required)}
    return {"post": {
        "operationId": "akismet" + "".join(p.capitalize() for p in method.split("-")), "summary": summary,
        "tags": [TAG_AKISMET],
        "description": f"{answer} The key is the form field `{key_field}` or the Host header's first label "
                       "(`KEY.rest.example`). Errors are Akismet's plain text (`invalid`, `Missing required "
                       "field: …`) with `X-akismet-debug-help`, HTTP 200 as Akismet sends them; not problem+json.",
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form}}},
        "responses": {
            "200": {"description": answer, "content": _TEXT, "headers": {
                **_DEBUG, "X-akismet-pro-tip": {"schema": {"type": "string", "enum": ["discard"]}},
                "X-Moderation-Status": {"schema": {"type": "string"}},
                "X-Moderation-Reasons": {"schema": {"type": "string"}}}},
            "400": {"description": "The body is not a form", "content": _TEXT, "headers": _DEBUG},
            "429": {"description": "The key's rate is used up", "content": _TEXT, "headers": _DEBUG},
            "500": {"description": "Internal error", "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}},
            "503": {"description": "The model did not answer, or overload", "content": {
                **_TEXT, "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}}


def paths() -> dict[str, Schema]:
    return {
        "/v1alpha1/comments:analyze": _perspective(
            "analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse", "Perspective: score a comment",
            "Perspective's AnalyzeComment: attributeScores.{NAME}.summaryScore, spanScores, languages."),
        "/v1alpha1/comments:suggestscore": _perspective(
            "suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse",
            "Perspective: suggest a score (stored as a training label)",
            "Perspective's SuggestCommentScore: the suggested scores become a label for "
            "`moderation train --include-decisions`."),
        "/$discovery/rest": {"get": {
            "operationId": "perspectiveDiscovery", "summary": "Perspective's discovery document (rootUrl: us)",
            "tags": [TAG_PERSPECTIVE],
            "parameters": [{"name": "version", "in": "query", "required": False,
                            "schema": {"type": "string"}, "description": "v1alpha1"}],
            "responses": {"200": {"description": "A Google discovery document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "404": _google("NOT_FOUND: another version"), "500": _google("INTERNAL"),
                          "503": _google("UNAVAILABLE")}}},
        "/1.1/verify-key": _akismet("verify-key", "Akismet: verify a key", "`valid` or `invalid`.", key_field="key",
                                    required=()),
        "/1.1/comment-check": _akismet("comment-check", "Akismet: is this comment spam?",
                                       "`true` (spam; `X-akismet-pro-tip: discard` when blatant) or `false`.",
                                       required=("blog", "user_ip")),
        "/1.1/submit-spam": _akismet("submit-spam", "Akismet: a missed spam (stored as a label)",
                                     "`Thanks for making the web a better place.`"),
        "/1.1/submit-ham": _akismet("submit-ham", "Akismet: a false positive (stored as a label)",
                                    "`Thanks for making the web a better place.`"),
    }


SECURITY_SCHEMES = {"perspectiveKey": {"type": "apiKey", "in": "query", "name": "key",
                                       "description": "A compat API key: scores and feedback only."}}
