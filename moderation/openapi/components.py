"""``components``: the response schemas, problem responses and headers shared by the operations."""

from __future__ import annotations

from moderation.core.config import Config
from moderation.core.problems import CATALOGUE, PROBLEM_CONTENT_TYPE
from moderation.openapi.builders import (
    BOOL,
    INT,
    N_INT,
    N_STR,
    N_TIME,
    NUM,
    STR,
    TIME,
    Schema,
    array,
    header,
    nullable,
    obj,
    ref,
)
from moderation.readers.reports import REASONS as REPORT_REASONS


# ── components ─────────────────────────────────────────────────────────────────────────────────────
def _schemas(config: Config) -> dict[str, Schema]:
    statuses = ["approved", "pending", "spam", "rejected", "deleted"]
    scores = nullable(obj({"spam": {"type": "number", "minimum": 0, "maximum": 1},
                           "abuse": {"type": "number", "minimum": 0, "maximum": 1}}, ["spam", "abuse"],
                          description="Classifier probabilities (4 decimals); null when the comment is unscored."))
    reason = obj({"code": {"type": "string", "examples": ["spam", "abuse", "banned_word", "suspect_word", "phrase",
                                                          "repeated_text", "unscored", "blocked_author",
                                                          "premoderation", "language", "reported", "moderator",
                                                          "clean"]},
                  "message": {**STR, "description": "The reason as a sentence (rendered from the data)."},
                  "outcome": {"enum": ["held", "rejected", "spam", "published", "noted", "deleted"],
                              "description": "What this evidence did (`noted`: a stronger outcome decided). "
                                             "Absent on reasons stored before reasons were data."},
                  "attribute": STR, "score": NUM, "threshold": NUM, "terms": array(STR), "features": array(STR),
                  "signals": array(STR), "phrase": STR, "language": STR, "action": STR, "note": STR},
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
        "scores": ref("Scores"), "attributes": attributes, "language": language,
        "risk": {**nullable(NUM), "description": "What the risk order sorts by: the comment's highest attribute "
                 "probability (max(spam, abuse) for a model from before attributes; 1 when unscored)."},
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
