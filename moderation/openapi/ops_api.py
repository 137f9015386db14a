"""The operations of the service, intake, challenges and review APIs."""

from __future__ import annotations

from moderation.core.config import Config
from moderation.core.problems import CATALOGUE
from moderation.intake.shapes import event_shape
from moderation.openapi.builders import (
    ID,
    INT,
    MODERATOR,
    N_STR,
    NUM,
    PUBLIC,
    STR,
    TIME,
    Schema,
    array,
    declared,
    header,
    json_body,
    links,
    moderator_errors,
    obj,
    ok,
    op,
    path_param,
    problems,
    query,
    ref,
    text,
)
from moderation.review import queue
from moderation.review import shapes as review_shapes


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
            parameters=[challenge_id], description="Each render counts; after 3 the challenge answers 429.")},
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
        "language": {"type": "string", "maxLength": 16, "pattern": queue.LANGUAGE_PATTERN,
                     "description": "The comment's detected language (ISO 639-1, e.g. en, ar, ko, de)."},
    }
    m = MODERATOR
    return {
        "/v1/queue": {"get": op("The review queue (one page)", "review", {
            "200": ok(ref("QueuePage")), **moderator_errors(422)}, operation_id="getQueue", security=m,
            parameters=[*(query(k, v, v.get("description", k)) for k, v in filters.items()),
                        query("order", {"enum": ["risk", "age", "newest"], "default": "risk"},
                              "Sort order: risk (highest first, see QueueItem.risk), age (oldest first), newest."),
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
