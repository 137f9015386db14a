"""``GET /openapi.json``: the service's OpenAPI 3.1 description, built as a plain dict.

Why a hand-written dict and not generated from the handlers: the handlers validate with small explicit
functions (``moderation.core.validation``, the review domain modules), not with schema classes, so there is
nothing to generate from.  Instead the spec is kept honest by tests (tests/test_openapi.py): every route
registered on the app must be described here (and nothing else), and a bounded schemathesis run against the
live service must find no server error and no response that contradicts this document.

Conventions: request bodies state what the handlers enforce (required fields, types, lengths, enums);
every error is ``application/problem+json`` (RFC 9457, ``components.schemas.Problem``) and each operation
lists the statuses it can answer.  Two exceptions are documented as such: ``POST /v1/siteverify`` answers
Turnstile's shape with HTTP 200, and the HTML pages (``/moderate/*``, ``/demo/*``) are described minimally.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from aiohttp import web

from moderation.core import keys
from moderation.core.config import Config
from moderation.core.problems import CATALOGUE, PROBLEM_CONTENT_TYPE
from moderation.intake.shapes import event_shape
from moderation.readers.reports import MAX_NOTE_CHARS
from moderation.readers.reports import REASONS as REPORT_REASONS
from moderation.review import shapes as review_shapes

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"

Schema = dict[str, Any]

# Routes described as HTML pages (not JSON APIs): they are listed, but only minimally.
HTML_PREFIXES = ("/moderate", "/demo/")


# ── small builders ─────────────────────────────────────────────────────────────────────────────────
def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: list[str] | tuple[str, ...] = (), *,
        additional: bool = True, description: str | None = None) -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if not additional:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


def array(items: Schema, **kw: Any) -> Schema:
    return {"type": "array", "items": items, **kw}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
N_STR, N_INT, N_TIME = nullable(STR), nullable(INT), nullable(TIME)
ID: Schema = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}   # review/api.py path_int: ≤ 18 digits
NON_BLANK = r"\S"   # at least one non-whitespace character (the validators strip and refuse empty strings)
PRINTABLE = r"^[^\u0000-\u001f]*[^\s\u0000-\u001f][^\u0000-\u001f]*$"   # no control characters, not blank


def text(max_len: int, *, min_len: int = 1, blank_ok: bool = False, description: str | None = None) -> Schema:
    out: Schema = {"type": "string", "minLength": min_len, "maxLength": max_len}
    if not blank_ok:
        out["pattern"] = NON_BLANK
    if description:
        out["description"] = description
    return out


_DECLARED: dict[str, Schema] = {}   # components generated from the declared shapes while build_spec runs


def declared(shape: Any, name: str | None = None) -> Schema:
    """The JSON Schema of a declared body (a msgspec Struct, see moderation/core/body.py): generated from the
    declaration, its Structs added to ``components.schemas``; ``name`` also names the top schema."""
    (schema,), components = msgspec.json.schema_components([shape], ref_template="#/components/schemas/{name}")
    _DECLARED.update(components)
    if name is None:
        return schema
    _DECLARED[name] = schema
    return ref(name)


def json_body(schema: Schema, *, required: bool = True, description: str | None = None) -> Schema:
    out: Schema = {"required": required, "content": {"application/json": {"schema": schema}}}
    if description:
        out["description"] = description
    return out


def ok(schema: Schema | None, description: str = "OK", *, headers: dict[str, Schema] | None = None,
       media: str = "application/json") -> Schema:
    out: Schema = {"description": description}
    if schema is not None:
        out["content"] = {media: {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


def links(**targets: tuple[str, str, str]) -> dict[str, Schema]:
    """OpenAPI links: ``name=(operationId, parameter, runtime expression)`` — how an answer feeds the next call."""
    return {name: {"operationId": op_id, "parameters": {param: expr}} for name, (op_id, param, expr) in targets.items()}


def header(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


_PROBLEM_RESPONSES = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone",
    413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "ValidationFailed", 429: "TooManyRequests",
    500: "InternalError", 503: "ServiceUnavailable",
}
# Every operation can answer these: an unexpected failure, and overload / database unavailability.
ALWAYS = (500, 503)


def problems(*statuses: int) -> dict[str, Schema]:
    return {str(s): {"$ref": f"#/components/responses/{_PROBLEM_RESPONSES[s]}"} for s in (*statuses, *ALWAYS)}


def path_param(name: str, schema: Schema, description: str, example: Any = None) -> Schema:
    out = {"name": name, "in": "path", "required": True, "schema": schema, "description": description}
    if example is not None:
        out["example"] = example
    return out


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


MODERATOR = [{"bearerAuth": []}, {"sessionCookie": []}]   # + CSRF for unsafe methods with the cookie
PUBLIC: list[Schema] = []


def op(summary: str, tag: str, responses: dict[str, Schema], *, operation_id: str, description: str | None = None,
       parameters: list[Schema] | None = None, body: Schema | None = None,
       security: list[Schema] | None = None) -> Schema:
    out: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag],
                   "responses": dict(sorted(responses.items()))}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    if security is not None:
        out["security"] = security
    return out


def moderator_errors(*statuses: int, admin: bool = False, unsafe: bool = False) -> dict[str, Schema]:
    """401 always; 403 for admin-only routes and for cookie-authenticated unsafe requests (CSRF)."""
    extra = (401, 403) if (admin or unsafe) else (401,)
    return problems(*sorted({*statuses, *extra}))


# ── components ─────────────────────────────────────────────────────────────────────────────────────
def _schemas(config: Config) -> dict[str, Schema]:
    statuses = ["approved", "pending", "spam", "rejected", "deleted"]
    scores = nullable(obj({"spam": {"type": "number", "minimum": 0, "maximum": 1},
                           "abuse": {"type": "number", "minimum": 0, "maximum": 1}}, ["spam", "abuse"],
                          description="Classifier probabilities (4 decimals); null when the comment is unscored."))
    reason = obj({"code": {"type": "string", "examples": ["spam", "abuse", "banned_word", "suspect_word",
                                                          "repeated_text", "unscored", "blocked_author",
                                                          "premoderation", "language", "reported", "moderator",
                                                          "clean"]},
                  "message": {**STR, "description": "The reason as a sentence (rendered from the data)."},
                  "outcome": {"enum": ["held", "rejected", "spam", "published", "noted", "deleted"],
                              "description": "What this evidence did (`noted`: a stronger outcome decided). "
                                             "Absent on reasons stored before reasons were data."},
                  "attribute": STR, "score": NUM, "threshold": NUM, "terms": array(STR), "features": array(STR),
                  "signals": array(STR), "language": STR, "action": STR, "note": STR},
                 ["code", "message"], description="Why a comment has its status (README: Decisions and reasons).")
    attributes = nullable({"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                           "description": "Calibrated probability per attribute scored for the comment's language "
                                          "(toxicity, severe_toxicity, insult, threat, identity_attack, profanity, "
                                          "sexually_explicit, spam); null when unscored."})
    language = {**N_STR, "description": "The detected language (ISO 639-1, `und` when unknown)."}
    block = obj({"kind": {"enum": ["author", "ip_hash"]}, "value": STR, "reason": N_STR, "created_by": STR,
                 "created_at": TIME}, ["kind", "value", "reason", "created_by", "created_at"])
    decision_change = obj({"decision_id": INT, "comment_id": INT, "external_id": STR, "action": STR,
                           "from_status": {"enum": statuses}, "to_status": {"enum": statuses}},
                          ["decision_id", "comment_id", "external_id", "action", "from_status", "to_status"])
    queue_item = obj({
        "id": INT, "external_id": STR, "status": {"enum": statuses}, "text": STR,
        "author": obj({"id": STR, "name": STR, "ip_hash": N_STR,
                       "history": {"type": "object", "additionalProperties": INT,
                                   "description": "The author's comment count by status."}},
                      ["id", "name", "ip_hash", "history"]),
        "article": obj({"id": STR, "url": N_STR, "title": N_STR}, ["id", "url", "title"]),
        "parent": nullable(obj({"external_id": STR, "id": N_INT, "text": N_STR, "author_name": N_STR},
                               ["external_id", "id", "text", "author_name"])),
        "scores": ref("Scores"), "attributes": attributes, "language": language, "risk": nullable(NUM),
        "reasons": array(ref("Reason")), "reason_codes": array(STR), "model_version": N_STR,
        "thresholds": nullable({"type": "object", "additionalProperties": NUM}),
        "created_at": N_TIME, "received_at": N_TIME, "claimed_by": N_INT, "claim_expires_at": N_TIME,
    }, ["id", "external_id", "status", "text", "author", "article", "parent", "scores", "risk", "reasons",
        "reason_codes", "model_version", "thresholds", "created_at", "received_at", "claimed_by",
        "claim_expires_at"], description="A comment as moderators see it in the queue.")
    stored_decision = obj({
        "id": INT, "actor": STR, "action": STR, "from_status": nullable({"enum": statuses}),
        "to_status": {"enum": statuses}, "scores": ref("Scores"), "model_version": N_STR,
        "thresholds": nullable({"type": "object"}), "reasons": {"type": "array"}, "note": N_STR, "created_at": N_TIME,
    }, ["id", "actor", "action", "from_status", "to_status", "scores", "model_version", "thresholds", "reasons",
        "note", "created_at"])
    public_comment: Schema = obj({
        "id": INT, "external_id": STR, "parent_id": {**N_STR, "description": "The CMS id of the parent comment."},
        "author": obj({"name": STR}, ["name"]), "text": STR, "created_at": TIME,
        "likes": {"type": "integer", "minimum": 0}, "dislikes": {"type": "integer", "minimum": 0},
        "my_reaction": {"enum": ["like", "dislike", None],
                        "description": "Only present when the reader is known (reader_id or reader cookie)."},
        "replies": array(ref("PublicComment")),
    }, ["id", "external_id", "parent_id", "author", "text", "created_at", "likes", "dislikes", "replies"],
        description="A published comment; never e-mail/IP hashes, scores or moderation data.")
    outbox_row = obj({
        "id": INT, "webhook_id": N_STR, "event_type": STR, "comment_id": N_INT,
        "state": {"enum": ["pending", "delivered", "failed"]}, "attempts": INT, "created_at": N_TIME,
        "next_attempt_at": N_TIME, "last_attempt_at": N_TIME, "last_status": N_INT, "last_error": N_STR,
        "delivered_at": N_TIME, "failed_at": N_TIME, "payload": {"type": "object"},
    }, ["id", "event_type", "state", "attempts", "payload"])
    endpoint = obj({"url": N_STR, "configured": BOOL, "enabled": BOOL, "disabled_at": N_TIME,
                    "disabled_reason": N_STR, "updated_by": N_STR},
                   ["url", "configured", "enabled", "disabled_at", "disabled_reason", "updated_by"])
    token = obj({"id": INT, "name": STR, "prefix": STR, "moderator_id": INT, "moderator_email": STR,
                 "created_at": N_TIME, "expires_at": N_TIME, "last_used_at": N_TIME, "revoked_at": N_TIME},
                ["id", "name", "prefix", "moderator_id", "moderator_email", "created_at", "expires_at",
                 "last_used_at", "revoked_at"])
    return {
        "FieldError": obj({"field": {"type": "string", "examples": ["data.text", "ids[3]", "filter.status"]},
                           "message": STR}, ["field", "message"]),
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.  `type` is a stable relative URI documented at "
                           "`GET /problems/{slug}`; extension members (`errors`, `attempts_left`, "
                           "`retry_after`, `missing`, `current_status`, ...) depend on the type.",
            "properties": {
                "type": {"type": "string", "format": "uri-reference",
                         "enum": [f"/problems/{slug}" for slug in CATALOGUE]},
                "title": STR, "status": {"type": "integer", "minimum": 400, "maximum": 599}, "detail": STR,
                "errors": array(ref("FieldError")),
                "attempts_left": {"type": "integer", "minimum": 0},
                "retry_after": {"type": "integer", "minimum": 1},
            },
            "required": ["type", "title", "status", "detail"],
            "additionalProperties": True,
        },
        "ValidationProblem": {
            "allOf": [ref("Problem"), {"required": ["errors"], "properties": {"errors": {"minItems": 1}}}],
            "description": "A 422: `errors` names every offending field (body paths such as `data.text`, "
                           "query parameters, path parameters).",
        },
        "Scores": scores,
        "Reason": reason,
        "Comment": obj({"id": INT, "external_id": STR, "article_id": STR, "status": {"enum": statuses},
                        "scores": ref("Scores"), "attributes": attributes, "language": language,
                        "reasons": array(ref("Reason")), "model_version": N_STR},
                       ["id", "external_id", "article_id", "status", "scores", "attributes", "language", "reasons",
                        "model_version"],
                       description="A comment and the decision taken on it."),
        "CommentEnvelope": obj({"comment": ref("Comment")}, ["comment"]),
        "QueueItem": queue_item,
        "QueuePage": obj({"items": array(ref("QueueItem")), "next_cursor": N_STR}, ["items", "next_cursor"]),
        "CommentDetail": {"allOf": [ref("QueueItem"), obj({
            "decisions": array(stored_decision), "blocks": array(ref("Block")),
            "reports": array(obj({"reason": {"enum": list(REPORT_REASONS)}, "note": N_STR,
                                  "reader": STR, "reader_kind": {"enum": ["verified", "unsigned", "anonymous"]},
                                  "weight": {"type": "number", "minimum": 0,
                                             "description": "What the report counts towards a hold."},
                                  "created_at": TIME},
                                 ["reason", "note", "reader", "reader_kind", "weight", "created_at"]),
                             description="Readers' reports, newest first.")},
            ["decisions", "blocks", "reports"])]},
        "DecisionChange": decision_change,
        "Decision": {"allOf": [ref("DecisionChange"),
                               obj({"actor": STR, "reason": N_STR,
                                    "undid": {"type": "integer", "description": "For an undo: the decision undone."}},
                                   ["actor", "reason"])]},
        "DecisionResult": obj({
            "decision": ref("Decision"),
            "comment": obj({"id": INT, "external_id": STR, "status": {"enum": statuses}},
                           ["id", "external_id", "status"])}, ["decision", "comment"]),
        "BulkResult": obj({"action": STR, "to_status": {"enum": statuses}, "count": INT,
                           "changed": array(ref("DecisionChange")), "unchanged": array(INT), "audit_id": INT},
                          ["action", "to_status", "count", "changed", "unchanged", "audit_id"]),
        "Block": block,
        "BlockPage": obj({"items": array(ref("Block")), "next_cursor": N_STR}, ["items", "next_cursor"]),
        "CommenterData": obj({"author_id": STR, "reader_id": STR, "comments": array(obj({})),
                              "reactions": array(obj({})), "reports": array(obj({})), "blocks": array(obj({})),
                              "reaction_rate_limit_refusals": array(obj({})), "audit": array(obj({})),
                              "protocol_feedback": array(obj({}))},
                             ["author_id", "reader_id", "comments", "reactions", "reports", "blocks",
                              "reaction_rate_limit_refusals", "audit", "protocol_feedback"]),
        "Erasure": obj({"pseudonym": STR, "comments": INT, "callbacks": INT, "reactions": INT, "reports": INT,
                        "blocks": INT, "receipts": INT, "audit_entries_pseudonymised": INT},
                       ["pseudonym", "comments", "callbacks", "reactions", "reports", "blocks", "receipts",
                        "audit_entries_pseudonymised"]),
        "Commenter": obj({
            "author_id": STR, "name": N_STR,
            "counts": obj({s: INT for s in statuses}, statuses), "total": INT,
            "first_seen": N_TIME, "last_seen": N_TIME, "latest_ip_hash": N_STR, "blocked": BOOL,
            "blocks": array(ref("Block"))},
            ["author_id", "name", "counts", "total", "first_seen", "last_seen", "latest_ip_hash", "blocked",
             "blocks"]),
        "WordListEntry": obj({"list": {"enum": ["banned", "suspect"]}, "term": STR, "created_by": STR,
                              "created_at": TIME}, ["list", "term", "created_by", "created_at"]),
        "WordLists": obj({"banned": array(ref("WordListEntry")), "suspect": array(ref("WordListEntry"))},
                         ["banned", "suspect"]),
        "AuditEntry": obj({"id": INT, "at": TIME, "actor": STR, "action": STR,
                           "target": obj({"type": STR, "id": STR}, ["type", "id"]),
                           "before": {}, "after": {}, "reason": N_STR},
                          ["id", "at", "actor", "action", "target", "before", "after", "reason"]),
        "AuditPage": obj({"items": array(ref("AuditEntry")), "next_cursor": N_STR}, ["items", "next_cursor"]),
        "OutboxRow": outbox_row,
        "CallbackEndpoint": endpoint,
        "OutboxOverview": obj({
            "endpoint": ref("CallbackEndpoint"),
            "counts": obj({"delivered": INT, "failed": INT, "pending": INT, "retrying": INT,
                           "oldest_pending_at": N_TIME},
                          ["delivered", "failed", "pending", "retrying", "oldest_pending_at"]),
            "items": array(ref("OutboxRow")), "next_cursor": N_STR}, ["endpoint", "counts", "items", "next_cursor"]),
        "Token": token,
        "TokenCreated": {"allOf": [ref("Token"), obj({"token": {
            "type": "string", "pattern": "^mdt_", "description": "The bearer token; shown in this answer only."}},
            ["token"])]},
        "Moderator": obj({"id": INT, "email": STR, "role": {"enum": ["admin", "moderator"]},
                          "created_at": N_TIME, "last_login_at": N_TIME, "disabled": BOOL},
                         ["id", "email", "role", "created_at", "last_login_at", "disabled"]),
        "ReactionResult": obj({
            "target": obj({"type": {"enum": ["article", "comment"]}, "id": STR}, ["type", "id"]),
            "likes": {"type": "integer", "minimum": 0}, "dislikes": {"type": "integer", "minimum": 0},
            "my_reaction": {"enum": ["like", "dislike", None]},
            "changed": {"type": "boolean", "description": "False when the reader's reaction was already this."}},
            ["target", "likes", "dislikes", "my_reaction", "changed"]),
        "ReportResult": obj({
            "comment_id": INT, "reason": {"enum": list(REPORT_REASONS)},
            "recorded": {"type": "boolean", "description": "False when this reader had already reported the "
                                                           "comment (the first report stands)."}},
            ["comment_id", "reason", "recorded"]),
        "ReactionAbuse": obj({
            "scope": {"enum": ["reader", "ip"]}, "subject": STR,
            "target": obj({"type": STR, "id": STR}, ["type", "id"]),
            "window": obj({"start": N_TIME, "seconds": NUM}, ["start", "seconds"]),
            "refused": INT, "reader_id": N_STR, "ip_hash": N_STR, "first_at": N_TIME, "last_at": N_TIME,
            "standing_reactions": INT},
            ["scope", "subject", "target", "window", "refused", "reader_id", "ip_hash", "first_at", "last_at",
             "standing_reactions"]),
        "ReportFlood": obj({
            "ip_hash": STR, "reports": INT, "readers": INT, "comments": INT,
            "weightless": {"type": "integer", "description": "Reports from brand-new cookies or unsigned reader "
                                                             "ids: they count nothing towards a hold."},
            "first_at": TIME, "last_at": TIME},
            ["ip_hash", "reports", "readers", "comments", "weightless", "first_at", "last_at"]),
        "ArticleSummary": obj({
            "id": STR, "likes": {"type": "integer", "minimum": 0}, "dislikes": {"type": "integer", "minimum": 0},
            "total_comments": {"type": "integer", "minimum": 0},
            "my_reaction": {"enum": ["like", "dislike", None],
                            "description": "Only present when the reader is known."}},
            ["id", "likes", "dislikes", "total_comments"]),
        "PublicComment": public_comment,
        "CommentPage": obj({"article": ref("ArticleSummary"), "total": {"type": "integer", "minimum": 0},
                            "comments": array(ref("PublicComment")), "next_cursor": N_STR},
                           ["article", "total", "comments", "next_cursor"]),
        "Challenge": obj({
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
            "image_url": STR, "audio_url": STR, "answer_url": STR, "expires_at": TIME,
            "code_length": {"type": "integer", "minimum": 4, "maximum": 8}, "action": STR},
            ["id", "image_url", "audio_url", "answer_url", "expires_at", "code_length", "action"]),
        "ConfirmationToken": obj({"token": {"type": "string", "pattern": "^mct_"}, "expires_at": TIME},
                                 ["token", "expires_at"]),
        "SiteverifyRequest": obj({
            "secret": {"type": "string", "description": "MODERATION_SITEVERIFY_SECRET"},
            "response": {"type": "string", "maxLength": 2048, "description": "The reader's confirmation token."},
            "remoteip": STR,
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128}},
            ["secret", "response"]),
        "SiteverifyResponse": obj({
            "success": BOOL, "challenge_ts": TIME, "hostname": STR, "action": STR, "cdata": STR,
            "error-codes": array({"type": "string", "examples": [
                "missing-input-secret", "invalid-input-secret", "missing-input-response",
                "invalid-input-response", "timeout-or-duplicate", "bad-request"]}),
            "messages": array(STR), "metadata": obj({"article_id": STR})},
            ["success", "error-codes"]),
        "ProblemType": obj({"type": STR, "status": INT, "title": STR, "description": STR},
                           ["type", "status", "title", "description"]),
    }


def _responses() -> dict[str, Schema]:
    def problem(description: str, *, schema: str = "Problem", headers: dict[str, Schema] | None = None) -> Schema:
        out: Schema = {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": ref(schema)}}}
        if headers:
            out["headers"] = headers
        return out

    return {
        "BadRequest": problem("Malformed JSON (`/problems/malformed-json`), a value the database refused "
                              "(`/problems/bad-request`), or a wrong confirmation code (`/problems/wrong-code`, "
                              "with `attempts_left`)."),
        "Unauthorized": problem("No valid credentials (`/problems/unauthorized`), or — on the webhook — a "
                                "missing, invalid or stale signature (`/problems/missing-signature`, "
                                "`/problems/invalid-signature`, `/problems/stale-timestamp`).",
                                headers={"WWW-Authenticate": header("WWW-Authenticate")}),
        "Forbidden": problem("The role may not do this (`/problems/forbidden`), or a cookie-authenticated "
                             "unsafe request without the session's CSRF token (`/problems/csrf-failed`)."),
        "NotFound": problem("No such resource (`/problems/not-found`); also any URL that matches no route."),
        "Conflict": problem("The request conflicts with the resource's state (`/problems/conflict`, "
                            "`/problems/challenge-answered`)."),
        "Gone": problem("The confirmation code expired or was burned by too many wrong answers "
                        "(`/problems/challenge-expired`, `/problems/challenge-burned`)."),
        "PayloadTooLarge": problem("The body exceeds MODERATION_MAX_BODY_BYTES (`/problems/payload-too-large`)."),
        "UnsupportedMediaType": problem("The body is not `application/json` (`/problems/unsupported-media-type`)."),
        "ValidationFailed": problem("Invalid input: `/problems/validation-error` with `errors` naming every "
                                    "offending field; on the webhook also `/problems/unknown-event-type`, "
                                    "`/problems/confirmation-required`, `/problems/invalid-token`."),
        "TooManyRequests": problem("Rate limited (`/problems/rate-limited`, with `retry_after`; "
                                   "`/problems/render-limit` for a challenge rendered too often).",
                                   headers={"Retry-After": header("Retry-After")}),
        "InternalError": problem("An unexpected failure, logged with the request id (`/problems/internal-error`)."),
        "ServiceUnavailable": problem("Overloaded (MODERATION_MAX_CONCURRENCY requests in flight) or the database "
                                      "is unavailable (`/problems/service-unavailable`).",
                                      headers={"Retry-After": header("Retry-After")}),
    }


def _components(config: Config) -> Schema:
    return {
        "schemas": _schemas(config),
        "responses": _responses(),
        "headers": {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
            "WWW-Authenticate": {"description": "`Bearer realm=\"moderation\"` (RFC 6750), with `error` when a "
                                                "token was sent.", "schema": {"type": "string"}},
            "Location": {"description": "The URL of the created resource.", "schema": {"type": "string"}},
            "ETag": {"description": "Strong validator of the body; send it back in If-None-Match.",
                     "schema": {"type": "string"}},
            "Cache-Control": {"description": "`public, max-age=N` (MODERATION_PUBLIC_MAX_AGE), or "
                                             "`private, no-cache` for personalised answers.",
                              "schema": {"type": "string"}},
            "Set-Cookie": {"description": "`moderation_reader`: the signed anonymous reader id, minted on a "
                                          "reader's first reaction (HttpOnly).", "schema": {"type": "string"}},
            "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an earlier delivery "
                                                   "of the same webhook-id.", "schema": {"type": "string"}},
        },
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "mdt_...",
                           "description": "A moderator API token (issued with `POST /v1/tokens`, the UI, or "
                                          "`moderation create-token`)."},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "moderation_session",
                              "description": "The moderator UI session (`__Host-moderation_session` over https); "
                                             "unsafe methods also need the session's CSRF token in "
                                             "`X-CSRF-Token` or the form field `csrf_token`."},
            "webhookSignature": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                                 "description": "Standard Webhooks: HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}"
                                                ".{body}` with MODERATION_WEBHOOK_SECRET, as `v1,<base64>`."},
        },
    }


# ── paths ──────────────────────────────────────────────────────────────────────────────────────────
def _ops_service() -> dict[str, Schema]:
    return {
        "/healthz": {"get": op("Liveness", "operations", {
            "200": ok(obj({"status": {"const": "ok"}}, ["status"])), **problems()},
            operation_id="healthz", security=PUBLIC, description="Never touches the database; never shed.")},
        "/readyz": {"get": op("Readiness: database reachable and model loaded", "operations", {
            "200": ok(obj({"status": {"const": "ready"}, "checks": {"type": "object", "additionalProperties": STR}},
                          ["status", "checks"])), **problems()},
            operation_id="readyz", security=PUBLIC,
            description="503 problem+json with `checks` (and Retry-After) when a dependency is not ready.")},
        "/metrics": {"get": op("Prometheus metrics", "operations", {
            "200": ok({"type": "string"}, "Prometheus text exposition format", media="text/plain"), **problems()},
            operation_id="metrics", security=PUBLIC)},
        "/problems/{slug}": {"get": op("Documentation of a problem type", "operations", {
            "200": ok(ref("ProblemType")), **problems(404)}, operation_id="problemType", security=PUBLIC,
            parameters=[path_param("slug", {"type": "string", "examples": list(CATALOGUE)[:3]},
                                   "A problem slug, the last segment of a problem's `type`.")])},
        "/openapi.json": {"get": op("This OpenAPI document", "operations", {
            "200": ok({"type": "object"}), **problems()}, operation_id="openapi", security=PUBLIC)},
    }


def _ops_intake(config: Config) -> dict[str, Schema]:
    webhook_headers = [
        {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 256},
         "description": "Unique per event; a redelivery with the same id gets the first answer back."},
        {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Integer Unix seconds; refused when more than 5 minutes from our clock."},
        {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Space-separated `v1,<base64 HMAC-SHA256>` signatures; one must match."},
    ]
    return {"/v1/webhooks/comments": {"post": op(
        "Receive a comment event from the CMS (Standard Webhooks)", "intake", {
            "200": {**ok(ref("CommentEnvelope"), "The stored comment and its status.",
                         headers={"Idempotent-Replayed": header("Idempotent-Replayed")}),
                    "links": links(comment=("getComment", "id", "$response.body#/comment/id"),
                                   decide=("decideComment", "id", "$response.body#/comment/id"))},
            **problems(400, 401, 404, 409, 413, 415, 422)},
        operation_id="receiveCommentWebhook", security=[{"webhookSignature": []}], parameters=webhook_headers,
        body=json_body(declared(event_shape(config.max_text_chars), "CommentEvent")),
        description="Verifies the signature over the raw body, parses, scores, decides, stores and answers in one "
                    "transaction.  `comment.created` for a known CMS id returns the stored comment; "
                    "`comment.updated` re-scores the new text (409 if deleted); `comment.deleted` of an unknown "
                    "id is a 404.  A retry (same `webhook-id`, same body) gets the first answer again; the same "
                    "`webhook-id` with another body is a 409 `idempotency-key-reused`.")}}


def _ops_challenges(config: Config) -> dict[str, Schema]:
    challenge_id = path_param("id", {"type": "string"}, "The challenge id (8-64 of A-Z a-z 0-9 _ -).")
    def preflight(operation_id: str, *params: Schema) -> Schema:
        return op("CORS preflight", "challenges", {
            "204": ok(None, "Allowed (with Access-Control-* headers when the Origin is in MODERATION_CORS_ORIGINS)"),
            **problems(*((404,) if params else ()))}, operation_id=operation_id, security=PUBLIC,
            parameters=list(params))
    create_body = obj({
        "article_id": {**text(256), "description": "The article the reader wants to comment on."},
        "action": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$", "default": "comment"},
        "cdata": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,255}$", "minLength": 1,
                  "description": "Opaque data echoed by siteverify."},
    }, ["article_id"])
    return {
        "/v1/challenges": {
            "post": op("Issue a confirmation code (captcha)", "challenges", {
                "201": {**ok(ref("Challenge"), "Created", headers={"Location": header("Location")}),
                        "links": links(image=("challengeImage", "id", "$response.body#/id"),
                                       audio=("challengeAudio", "id", "$response.body#/id"),
                                       answer=("answerChallenge", "id", "$response.body#/id"))},
                **problems(400, 413, 415, 422, 429)},
                operation_id="createChallenge", security=PUBLIC, body=json_body(create_body),
                description=f"Rate-limited per client IP (MODERATION_CHALLENGE_RATE_PER_MINUTE, "
                            f"{config.challenge_rate_per_minute}/min).  Also accepts text/plain and "
                            "application/octet-stream bodies holding JSON (sendBeacon-friendly)."),
            "options": preflight("preflightChallenges"),
        },
        "/v1/challenges/{id}/image": {"get": op("The code as a PNG image", "challenges", {
            "200": ok({"type": "string", "contentMediaType": "image/png"}, "The image (fresh noise each time)",
                      media="image/png"),
            **problems(404, 409, 410, 429)}, operation_id="challengeImage", security=PUBLIC,
            parameters=[challenge_id], description="Each render counts; after 6 the challenge answers 429.")},
        "/v1/challenges/{id}/audio": {"get": op("The code read out as a WAV", "challenges", {
            "200": ok({"type": "string", "contentMediaType": "audio/wav"}, "The audio", media="audio/wav"),
            **problems(404, 409, 410, 429)}, operation_id="challengeAudio", security=PUBLIC,
            parameters=[challenge_id], description="Each render counts; after 3 the challenge answers 429.")},
        "/v1/challenges/{id}/answer": {
            "post": op("Answer a code; get a single-use confirmation token", "challenges", {
                "200": ok(ref("ConfirmationToken")),
                **problems(400, 404, 409, 410, 413, 415, 422)},
                operation_id="answerChallenge", security=PUBLIC, parameters=[challenge_id],
                body=json_body(obj({"code": text(64)}, ["code"])),
                description="A wrong code is a 400 `/problems/wrong-code` with `attempts_left`; after 5 the "
                            "challenge is burned (410)."),
            "options": preflight("preflightChallengeAnswer", challenge_id),
        },
        "/v1/challenges/config": {"get": op("Which confirmation this site uses", "challenges", {
            "200": ok(obj({"confirmation": {"enum": ["proof+code", "proof", "code"]}, "proof_url": N_STR,
                           "code_url": N_STR}, ["confirmation"])), **problems()},
            operation_id="confirmationConfig", security=PUBLIC,
            description="MODERATION_CONFIRMATION: `proof+code` (proof of work; the code too when risky), "
                        "`proof` or `code`.  The widget asks once per page.")},
        "/v1/challenges/proof": {
            "get": op("Issue an ALTCHA proof-of-work challenge", "challenges", {
                "200": ok(obj({"algorithm": {"const": "SHA-256"}, "challenge": STR, "maxnumber": INT,
                               "maxNumber": INT, "salt": STR, "signature": STR, "expires_at": TIME, "level": NUM,
                               "article_id": STR, "action": STR, "verify_url": STR, "confirmation": STR},
                              ["algorithm", "challenge", "maxnumber", "salt", "signature"])),
                **problems(403, 422, 429)},
                operation_id="issueProofChallenge", security=PUBLIC,
                parameters=[{**query("article_id", text(256), "The article the reader wants to comment on."),
                             "required": True},
                            query("action", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$",
                                             "default": "comment"}, "Bound into the token.")],
                description="ALTCHA PoW v1 (`challenge = SHA-256(salt + number)`, HMAC-signed).  `maxnumber` "
                            f"adapts: {config.pow_difficulty} at normal load, doubling with challenges per IP "
                            "hash and with load on the article (docs/challenges.md)."),
            "post": op("Redeem a solved proof for a token (or the code as a second step)", "challenges", {
                "200": ok(obj({"step": {"enum": ["done", "code"]}, "token": {"type": "string", "pattern": "^mct_"},
                               "expires_at": TIME, "method": STR, "reason": STR, "risk": array(STR),
                               "challenge": ref("Challenge")}, ["step"])),
                **problems(400, 403, 409, 410, 413, 415, 422, 429)},
                operation_id="redeemProof", security=PUBLIC,
                body=json_body(obj({"payload": text(2048, description="The widget's base64 JSON payload."),
                                    "article_id": text(256), "author_id": text(256),
                                    "action": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}},
                                   ["payload"])),
                description="Forged, expired, replayed (single use) and wrong-article payloads are problems "
                            "naming the field."),
            "options": preflight("preflightProof"),
        },
        "/v1/siteverify": {"post": op("Verify a confirmation token (Cloudflare Turnstile compatible)", "challenges", {
            "200": ok(ref("SiteverifyResponse"), "Always 200, like Turnstile: see `success` and `error-codes`."),
            **problems(413)}, operation_id="siteverify", security=PUBLIC,
            body={"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": ref("SiteverifyRequest")},
                "application/json": {"schema": ref("SiteverifyRequest")}}},
            description="The one endpoint that does not answer problem+json for bad input: callers parse "
                        "Turnstile's shape.  A token verifies once (or again with the same idempotency_key).")},
    }


def _list_params(*, max_limit: int = 200) -> list[Schema]:
    return [query("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": 50}, "Page size."),
            query("cursor", {"type": "string"}, "`next_cursor` of the previous page (same filters).")]


def _ops_review() -> dict[str, Schema]:
    cid = path_param("id", ID, "The comment id (our `id`, not the CMS's).", 1)
    reason_body = json_body(declared(review_shapes.ReasonBody), required=False)
    author = path_param("author_id", {"type": "string", "minLength": 1, "maxLength": 256}, "The CMS's author id.",
                        "reader-1")
    kind = path_param("kind", {"enum": ["author", "ip_hash"]}, "What to block.")
    value = path_param("value", {"type": "string", "minLength": 1, "maxLength": 256},
                       "An author id, or an IP hash (`author.ip_hash` of a queue item).")
    wl = path_param("list", {"enum": ["banned", "suspect"]}, "Which word list.", "suspect")
    term = path_param("term", {"type": "string", "minLength": 1, "maxLength": 100},
                      "The term (trimmed, whitespace-collapsed, lower-cased).", "cheap watches")
    filters = {
        "status": {"enum": ["pending", "spam", "approved", "rejected", "deleted"], "default": "pending"},
        "reason": {"type": "string", "maxLength": 64, "description": "A reason code, e.g. spam, banned_word."},
        "article": {"type": "string", "maxLength": 256}, "author": {"type": "string", "maxLength": 256},
        "q": {"type": "string", "maxLength": 200,
              "description": "Web-search syntax: words AND-ed, \"exact phrase\", -word, or."},
    }
    m = MODERATOR
    return {
        "/v1/queue": {"get": op("The review queue (one page)", "review", {
            "200": ok(ref("QueuePage")), **moderator_errors(422)}, operation_id="getQueue", security=m,
            parameters=[*(query(k, v, v.get("description", k)) for k, v in filters.items()),
                        query("order", {"enum": ["risk", "age", "newest"], "default": "risk"}, "Sort order."),
                        query("claimed", {"enum": ["mine"]}, "Only comments I hold a live claim on."),
                        *_list_params()])},
        "/v1/queue/claim": {"post": op("Claim pending comments (lease)", "review", {
            "200": ok(obj({"items": array(ref("QueueItem")), "lease_s": NUM}, ["items", "lease_s"])),
            **moderator_errors(400, 413, 415, 422, unsafe=True)}, operation_id="claimQueue", security=m,
            body=json_body(declared(review_shapes.ClaimBody), required=False))},
        "/v1/queue/release": {"post": op("Give claims back early", "review", {
            "200": ok(obj({"released": array(INT)}, ["released"])),
            **moderator_errors(400, 413, 415, 422, unsafe=True)}, operation_id="releaseClaims", security=m,
            body=json_body(declared(review_shapes.ReleaseBody)))},
        "/v1/comments/{id}": {"get": op("A comment with its decision history and blocks", "review", {
            "200": ok(ref("CommentDetail")), **moderator_errors(404, 422)}, operation_id="getComment", security=m,
            parameters=[cid])},
        "/v1/comments/{id}/decision": {"post": op("Decide one comment", "review", {
            "200": {**ok(ref("DecisionResult")),
                    "links": links(undo=("undoDecision", "id", "$response.body#/decision/decision_id"))},
            **moderator_errors(400, 404, 409, 413, 415, 422, unsafe=True)},
            operation_id="decideComment", security=m, parameters=[cid],
            body=json_body(declared(review_shapes.DecisionBody)),
            description="409 (with `current_status`) when the comment was deleted by the CMS or already has "
                        "that status.")},
        "/v1/decisions": {"post": op("Decide many comments at once (one transaction)", "review", {
            "200": {**ok(ref("BulkResult")),
                    "links": links(undo=("undoBulkDecision", "audit_id", "$response.body#/audit_id"))},
            **moderator_errors(400, 404, 409, 413, 415, 422, unsafe=True)},
            operation_id="decideBulk", security=m,
            body=json_body(declared(review_shapes.BulkBody)),
            description="All or nothing: an unknown id is a 404 (`missing`), a deleted comment a 409 (`deleted`).")},
        "/v1/decisions/{id}/undo": {"post": op("Undo a moderator decision", "review", {
            "200": ok(ref("DecisionResult")), **moderator_errors(400, 404, 409, 413, 415, 422, unsafe=True)},
            operation_id="undoDecision", security=m,
            parameters=[path_param("id", ID, "The decision id.", 1)], body=reason_body,
            description="Only the comment's latest moderator decision can be undone (409 with "
                        "`latest_decision_id` otherwise).")},
        "/v1/decisions/bulk/{audit_id}/undo": {"post": op("Undo a whole bulk decision", "review", {
            "200": ok(obj({"count": INT, "undone": array(ref("Decision"))}, ["count", "undone"])),
            **moderator_errors(400, 404, 409, 413, 415, 422, unsafe=True)}, operation_id="undoBulkDecision",
            security=m, body=reason_body,
            parameters=[path_param("audit_id", ID,
                                   "The `audit_id` a bulk decision returned.")])},
        "/v1/commenters/{author_id}": {"get": op("An author's history and blocks", "review", {
            "200": ok(ref("Commenter")), **moderator_errors(400, 404, 422)}, operation_id="getCommenter", security=m,
            parameters=[author])},
        "/v1/commenters/{author_id}/block": {
            "put": op("Block an author", "review", {
                "200": ok(ref("Block")), **moderator_errors(400, 404, 413, 415, 422, unsafe=True)},
                operation_id="blockCommenter", security=m, parameters=[author], body=reason_body),
            "delete": op("Unblock an author", "review", {
                "200": ok(obj({"unblocked": ref("Block")}, ["unblocked"])),
                **moderator_errors(400, 404, 422, unsafe=True)},
                operation_id="unblockCommenter", security=m, parameters=[author]),
        },
        "/v1/commenters/{author_id}/export": {"get": op(
            "Everything held about an author (admin; GDPR Art. 15)", "review", {
                "200": ok(ref("CommenterData")), **moderator_errors(400, 404, 422, admin=True)},
            operation_id="exportCommenter", security=m, parameters=[author],
            description="Their comments (with decisions and reports received), reactions and reports as the "
                        "reader `cms:<author_id>`, blocks, abuse-log rows and the audit entries naming them.")},
        "/v1/commenters/{author_id}/erase": {"post": op(
            "Erase an author's data (admin; GDPR Art. 17)", "review", {
                "200": ok(ref("Erasure")), **moderator_errors(400, 404, 413, 415, 422, admin=True)},
            operation_id="eraseCommenter", security=m, parameters=[author], body=reason_body,
            description="One transaction: comments become tombstones (status `deleted`, text, names and hashes "
                        "gone) with one `comment.deleted` callback each; their reactions, reports and blocks go; "
                        "audit entries name a pseudonym instead.  404 when nothing is held about the author.")},
        "/v1/blocks": {"get": op("All blocks, newest first", "review", {
            "200": ok(ref("BlockPage")), **moderator_errors(400, 422)}, operation_id="listBlocks", security=m,
            parameters=[query("kind", {"enum": ["author", "ip_hash"]}, "Only this kind."), *_list_params()])},
        "/v1/blocks/{kind}/{value}": {
            "put": op("Block an author id or an IP hash", "review", {
                "200": ok(ref("Block")), **moderator_errors(400, 404, 413, 415, 422, unsafe=True)},
                operation_id="putBlock", security=m, parameters=[kind, value], body=reason_body),
            "delete": op("Lift a block", "review", {
                "200": ok(obj({"unblocked": ref("Block")}, ["unblocked"])),
                **moderator_errors(400, 404, 422, unsafe=True)},
                operation_id="deleteBlock", security=m, parameters=[kind, value]),
        },
        "/v1/wordlists": {"get": op("The banned and suspect word lists", "review", {
            "200": ok(ref("WordLists")), **moderator_errors()}, operation_id="getWordLists", security=m)},
        "/v1/wordlists/{list}": {"post": op("Add a term (admin; for terms containing `/`)", "review", {
            "200": ok(ref("WordListEntry"), "Already on the list"), "201": ok(ref("WordListEntry"), "Added"),
            **moderator_errors(400, 404, 413, 415, 422, admin=True)}, operation_id="addTerm", security=m,
            parameters=[wl], body=json_body(declared(review_shapes.TermBody)))},
        "/v1/wordlists/{list}/{term}": {
            "put": op("Add a term (admin)", "review", {
                "200": ok(ref("WordListEntry"), "Already on the list"), "201": ok(ref("WordListEntry"), "Added"),
                **moderator_errors(400, 404, 422, admin=True)}, operation_id="putTerm", security=m,
                parameters=[wl, term]),
            "delete": op("Remove a term (admin)", "review", {
                "200": ok(obj({"removed": ref("WordListEntry")}, ["removed"])),
                **moderator_errors(400, 404, 422, admin=True)}, operation_id="deleteTerm", security=m,
                parameters=[wl, term]),
        },
        "/v1/audit": {"get": op("Search the append-only audit log (newest first)", "review", {
            "200": ok(ref("AuditPage")), **moderator_errors(400, 422)}, operation_id="searchAudit", security=m,
            parameters=[query("actor", {"type": "string", "maxLength": 256}, "e.g. moderator:3"),
                        query("action", {"type": "string", "maxLength": 256},
                              "Exact, or a prefix ending in `*` (decision.*)."),
                        query("target_type", {"type": "string", "maxLength": 256}, "e.g. comment"),
                        query("target_id", {"type": "string", "maxLength": 256}, "e.g. 812"),
                        query("since", TIME, "Inclusive, with an offset."),
                        query("until", TIME, "Exclusive, with an offset."), *_list_params()])},
        "/v1/outbox": {"get": op("Callback deliveries: endpoint state, counts, rows (admin)", "review", {
            "200": ok(ref("OutboxOverview")), **moderator_errors(422, admin=True)}, operation_id="getOutbox",
            security=m, parameters=[query("state", {"enum": ["all", "pending", "delivered", "failed"],
                                                    "default": "all"}, "Delivery state."), *_list_params()])},
        "/v1/outbox/endpoint/{verb}": {"post": op("Resume or pause callback delivery (admin)", "review", {
            "200": ok(ref("CallbackEndpoint")), **moderator_errors(400, 404, 409, 413, 415, 422, admin=True)},
            operation_id="setCallbackEndpoint", security=m, body=reason_body,
            parameters=[path_param("verb", {"enum": ["enable", "disable"]}, "enable or disable")],
            description="409 when no MODERATION_CALLBACK_URL is configured.")},
        "/v1/outbox/{id}/retry": {"post": op("Send a failed or waiting callback again now (admin)", "review", {
            "200": ok(ref("OutboxRow")), **moderator_errors(404, 409, 422, admin=True)},
            operation_id="retryCallback", security=m,
            parameters=[path_param("id", ID, "The outbox row id.", 1)])},
        "/v1/tokens": {
            "post": op("Issue an API token (admin)", "accounts", {
                "201": ok(ref("TokenCreated"), "Created; the token is in this answer only",
                          headers={"Location": header("Location")}),
                **moderator_errors(400, 413, 415, 422, admin=True)}, operation_id="createToken", security=m,
                body=json_body(declared(review_shapes.TokenBody))),
            "get": op("List API tokens (admin)", "accounts", {
                "200": ok(obj({"tokens": array(ref("Token"))}, ["tokens"])), **moderator_errors(admin=True)},
                operation_id="listTokens", security=m),
        },
        "/v1/tokens/{id}": {"delete": op("Revoke an API token (admin; idempotent)", "accounts", {
            "204": ok(None, "Revoked"), **moderator_errors(404, 422, admin=True)}, operation_id="revokeToken",
            security=m, parameters=[path_param("id", {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
                                               "The token id.")])},
        "/v1/moderators": {"get": op("List moderator accounts (admin)", "accounts", {
            "200": ok(obj({"moderators": array(ref("Moderator"))}, ["moderators"])), **moderator_errors(admin=True)},
            operation_id="listModerators", security=m)},
    }


def _ops_readers() -> dict[str, Schema]:
    article = path_param("article_id", {"type": "string", "minLength": 1, "maxLength": 256, "pattern": PRINTABLE},
                         "The CMS's article id (printable characters).", "art-1")
    comment = path_param("id", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "The public comment `id`.", 1)
    reader_q = query("reader_id", {"type": "string", "minLength": 1, "maxLength": 256, "pattern": PRINTABLE},
                     "The CMS's reader id (else the `moderation_reader` cookie identifies the reader).")
    inm = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
           "description": "An ETag from an earlier answer: 304 when unchanged."}
    cache_headers = {"ETag": header("ETag"), "Cache-Control": header("Cache-Control")}
    put_body = json_body(obj({"kind": {"enum": ["like", "dislike"]},
                              "reader_id": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": PRINTABLE,
                                            "description": "The CMS's reader id; else the reader cookie is used "
                                                           "(and minted on the first reaction)."}}, ["kind"]))
    delete_body = json_body(obj({"reader_id": {"type": "string", "minLength": 1, "maxLength": 256,
                                               "pattern": PRINTABLE}}), required=False)
    report_body = json_body(obj({
        "reason": {"enum": list(REPORT_REASONS)},
        "note": {"type": "string", "maxLength": MAX_NOTE_CHARS, "description": "What the reader adds (moderators "
                                                                               "see it)."},
        "reader_id": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": PRINTABLE,
                      "description": "The CMS's reader id; else the reader cookie is used (and minted)."},
        "reader_signature": {"type": "string", "maxLength": 128,
                             "description": "hex HMAC-SHA256 of `\"reader:\" + reader_id` keyed with the webhook "
                                            "secret: the CMS vouches for a signed-in reader, whose report then "
                                            "weighs 1 (an unsigned reader_id weighs nothing)."}},
        ["reason"]))
    reaction_ok = ok(ref("ReactionResult"), "The target's totals and this reader's reaction",
                     headers={"Set-Cookie": header("Set-Cookie")})

    def reactions(target: str, params: list[Schema], op_suffix: str) -> Schema:
        # 404: an unpublished/unknown comment, or (both) a path that matches no route
        extra = (404,)
        return {
            "put": op(f"Like or dislike {target}", "readers", {
                "200": reaction_ok, **problems(400, *extra, 413, 415, 422, 429)},
                operation_id=f"put{op_suffix}Reaction", security=PUBLIC, parameters=params, body=put_body,
                description="One reaction per reader: PUT again to switch like ⇄ dislike.  Rate-limited per "
                            "reader and per IP (429 with Retry-After)."),
            "delete": op(f"Take back the reader's reaction on {target}", "readers", {
                "200": reaction_ok, **problems(400, *extra, 413, 415, 422, 429)},
                operation_id=f"delete{op_suffix}Reaction", security=PUBLIC, parameters=[*params, reader_q],
                body=delete_body),
            "options": op("CORS preflight", "readers", {"204": ok(None, "Allowed (with Access-Control-* headers "
                                                                        "for a configured Origin)"),
                                                        **problems(404)},
                          operation_id=f"preflight{op_suffix}Reaction", security=PUBLIC, parameters=params),
        }

    return {
        "/v1/articles/{article_id}/reaction": reactions("an article", [article], "Article"),
        "/v1/comments/{id}/reaction": reactions("a published comment", [comment], "Comment"),
        "/v1/comments/{id}/reports": {
            "post": op("Report a published comment", "readers", {
                "201": ok(ref("ReportResult"), "Recorded", headers={"Set-Cookie": header("Set-Cookie")}),
                "200": ok(ref("ReportResult"), "This reader had already reported it",
                          headers={"Set-Cookie": header("Set-Cookie")}),
                **problems(400, 404, 413, 415, 422, 429)},
                operation_id="postCommentReport", security=PUBLIC, parameters=[comment], body=report_body,
                description="One report per reader and comment.  Each report weighs what its reader has "
                            "earned (a verified reader 1, a week-old cookie 0.5, a new cookie or unsigned id 0, "
                            "+0.5 per upheld report).  When the open reports' weight reaches "
                            "MODERATION_REPORTS_TO_HOLD from two or more network addresses and no moderator has "
                            "approved the comment, it is held for review (reason `reported`) and the CMS is told; "
                            "below that it stays published under \"Reported\".  Rate-limited per reader and per "
                            "network address (429 with Retry-After)."),
            "options": op("CORS preflight", "readers", {"204": ok(None, "Allowed (with Access-Control-* headers "
                                                                        "for a configured Origin)"),
                                                        **problems(404)},
                          operation_id="preflightCommentReport", security=PUBLIC, parameters=[comment]),
        },
        "/v1/articles/{article_id}": {"get": op("An article's reaction counts and comment total", "readers", {
            "200": ok(ref("ArticleSummary"), headers=cache_headers), "304": ok(None, "Not modified",
                                                                               headers=cache_headers),
            **problems(400, 404, 422)}, operation_id="getArticle", security=PUBLIC,
            parameters=[article, reader_q, inm])},
        "/v1/articles/{article_id}/comments": {"get": op("Published comments as threads (one page)", "readers", {
            "200": ok(ref("CommentPage"), headers=cache_headers), "304": ok(None, "Not modified",
                                                                            headers=cache_headers),
            **problems(400, 404, 422)}, operation_id="listArticleComments", security=PUBLIC,
            parameters=[article, reader_q, inm,
                        query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                              "Thread roots per page (their replies come along)."),
                        query("order", {"enum": ["newest", "oldest"], "default": "newest"}, "Sort order."),
                        query("cursor", {"type": "string"}, "`next_cursor` of the previous page (same order).")])},
        "/v1/reactions/abuse": {"get": op("Reaction rate-limit refusals (moderators)", "readers", {
            "200": ok(obj({"items": array(ref("ReactionAbuse")), "since": TIME}, ["items", "since"])),
            **moderator_errors(422)}, operation_id="listReactionAbuse", security=MODERATOR,
            parameters=[query("since", TIME, "Default: 24 hours ago."),
                        query("scope", {"enum": ["reader", "ip"]}, "Only this scope."),
                        query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                              "At most this many rows.")])},
        "/v1/reports/abuse": {"get": op("Report floods per network address (moderators)", "readers", {
            "200": ok(obj({"items": array(ref("ReportFlood")), "since": TIME}, ["items", "since"])),
            **moderator_errors(422)}, operation_id="listReportFloods", security=MODERATOR,
            parameters=[query("since", TIME, "Default: 24 hours ago."),
                        query("min_reports", {"type": "integer", "minimum": 1, "default": 5},
                              "Only addresses with at least this many reports."),
                        query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                              "At most this many rows.")])},
        "/v1/reactions/purge": {"post": op("Take back every reaction of a reader or an IP hash (moderators)",
                                           "readers", {
            "200": ok(obj({"removed": INT, "targets": INT}, ["removed", "targets"])),
            **moderator_errors(400, 413, 415, 422, unsafe=True)}, operation_id="purgeReactions", security=MODERATOR,
            body=json_body({"type": "object", "properties": {
                "reader_id": {"type": "string", "minLength": 1, "maxLength": 261},
                "ip_hash": {"type": "string", "minLength": 1, "maxLength": 261}},
                "oneOf": [{"required": ["reader_id"]}, {"required": ["ip_hash"]}],
                "description": "Exactly one of `reader_id` (as listed in /v1/reactions/abuse, e.g. `cms:...`) "
                               "or `ip_hash`."}))},
    }


# ── HTML pages (documented minimally) ──────────────────────────────────────────────────────────────
_HTML: Schema = {"type": "string"}


def _page(summary: str, operation_id: str, *, form: dict[str, Schema] | None = None,
          parameters: list[Schema] | None = None, security: list[Schema] | None = None,
          statuses: tuple[int, ...] = (200,)) -> Schema:
    responses: dict[str, Schema] = {}
    for status in statuses:
        if status == 303:
            responses["303"] = {"description": "Redirect (Post/Redirect/Get, or to the login page)",
                                "headers": {"Location": header("Location")}}
        else:
            responses[str(status)] = ok(_HTML, "An HTML page", media="text/html")
    responses["default"] = {
        "description": "An error: an HTML page for browsers, problem+json for API clients (or JSON when "
                       "`Accept: application/json` asks the UI for it).",
        "content": {"text/html": {"schema": _HTML}, PROBLEM_CONTENT_TYPE: {"schema": ref("Problem")},
                    "application/json": {"schema": {"type": "object"}}, "text/plain": {"schema": _HTML}}}
    body = None
    if form is not None:
        body = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": obj(form)}}}
    return op(summary, "html pages", responses, operation_id=operation_id, parameters=parameters, body=body,
              security=security,
              description="An HTML page (not a JSON API), listed for completeness.")


def _ops_pages() -> dict[str, Schema]:
    ui = [{"sessionCookie": []}]
    cid = path_param("id", {"type": "string"}, "Comment id.")
    csrf = {"csrf_token": STR}
    page_statuses = (200, 303)
    action = (200, 303)   # 200 = JSON answer for moderate.js (Accept: application/json), 303 back to the page
    return {
        "/moderate": {"get": _page("Moderator UI home (redirects to the queue)", "uiHome", security=ui,
                                   statuses=(303,))},
        "/moderate/login": {
            "get": _page("Login page", "uiLoginPage", security=PUBLIC, statuses=(200, 303)),
            "post": _page("Log in", "uiLogin", security=PUBLIC, statuses=(303,),
                          form={"email": STR, "password": STR, "next": STR, **csrf}),
        },
        "/moderate/logout": {"post": _page("Log out", "uiLogout", security=ui, statuses=(303,), form=csrf)},
        "/moderate/queue": {"get": _page("Review queue page", "uiQueue", security=ui, statuses=page_statuses)},
        "/moderate/comments/{id}": {"get": _page("Comment page", "uiComment", security=ui, statuses=page_statuses,
                                                 parameters=[cid])},
        "/moderate/comments/{id}/decision": {"post": _page("Decide a comment", "uiDecide", security=ui,
                                                           statuses=action, parameters=[cid],
                                                           form={"action": STR, "reason": STR, **csrf})},
        "/moderate/decisions": {"post": _page("Decide selected comments", "uiDecideBulk", security=ui,
                                              statuses=action, form={"action": STR, "ids": STR, **csrf})},
        "/moderate/decisions/undo": {"post": _page("Undo decisions", "uiUndo", security=ui, statuses=action,
                                                   form=csrf)},
        "/moderate/claim": {"post": _page("Claim comments", "uiClaim", security=ui, statuses=action, form=csrf)},
        "/moderate/release": {"post": _page("Release claims", "uiRelease", security=ui, statuses=action, form=csrf)},
        "/moderate/audit": {"get": _page("Audit log page", "uiAudit", security=ui, statuses=page_statuses)},
        "/moderate/wordlists": {
            "get": _page("Word lists page", "uiWordLists", security=ui, statuses=page_statuses),
            "post": _page("Add a term", "uiAddTerm", security=ui, statuses=action,
                          form={"list": STR, "term": STR, **csrf}),
        },
        "/moderate/wordlists/remove": {"post": _page("Remove a term", "uiRemoveTerm", security=ui, statuses=action,
                                                     form={"list": STR, "term": STR, **csrf})},
        "/moderate/blocked": {
            "get": _page("Blocked commenters page", "uiBlocked", security=ui, statuses=page_statuses),
            "post": _page("Block", "uiBlock", security=ui, statuses=action,
                          form={"kind": STR, "value": STR, "reason": STR, **csrf}),
        },
        "/moderate/blocked/remove": {"post": _page("Unblock", "uiUnblock", security=ui, statuses=action,
                                                   form={"kind": STR, "value": STR, **csrf})},
        "/moderate/tokens": {
            "get": _page("API tokens page (admin)", "uiTokens", security=ui, statuses=page_statuses),
            "post": _page("Issue a token (admin)", "uiCreateToken", security=ui, statuses=(201, 303),
                          form={"name": STR, "moderator_id": STR, "expires_in_days": STR, **csrf}),
        },
        "/moderate/tokens/{id}/revoke": {"post": _page("Revoke a token (admin)", "uiRevokeToken", security=ui,
                                                       statuses=action, parameters=[cid], form=csrf)},
        "/moderate/deliveries": {"get": _page("Callback deliveries page (admin)", "uiDeliveries", security=ui,
                                              statuses=page_statuses)},
        "/moderate/deliveries/{id}/retry": {"post": _page("Retry a callback (admin)", "uiRetryDelivery",
                                                          security=ui, statuses=action, parameters=[cid], form=csrf)},
        "/moderate/deliveries/endpoint": {"post": _page("Enable/disable callbacks (admin)", "uiCallbackEndpoint",
                                                        security=ui, statuses=action,
                                                        form={"enabled": STR, "reason": STR, **csrf})},
        "/demo/challenge": {
            "get": _page("Demo comment form with the confirmation-code widget", "demoChallengePage",
                         security=PUBLIC, parameters=[query("article_id", STR, "Article id.")]),
            "post": _page("Demo: what a CMS does with the form's confirmation token", "demoChallengeSubmit",
                          security=PUBLIC, form={"confirmation_token": STR, "article_id": STR, "name": STR,
                                                 "comment": STR}),
        },
        "/demo/articles/{id}": {"get": _page("Demo article page (MODERATION_DEMO=true)", "demoArticle",
                                             security=PUBLIC, parameters=[
                                                 path_param("id", STR, "Article id."),
                                                 query("cursor", STR, "Comments page cursor."),
                                                 query("posted", STR, "The comment just posted.")])},
        "/demo/articles/{id}/comments": {"post": _page("Demo: post a comment through the signed webhook",
                                                       "demoPostComment", security=PUBLIC, statuses=(303,),
                                                       parameters=[path_param("id", STR, "Article id.")],
                                                       form={"name": STR, "email": STR, "text": STR,
                                                             "parent_id": STR, "confirmation_token": STR})},
    }


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
