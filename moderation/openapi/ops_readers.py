"""The operations of the readers' API and the HTML pages (documented minimally)."""

from __future__ import annotations

from moderation.core.problems import PROBLEM_CONTENT_TYPE
from moderation.openapi.builders import (
    INT,
    MODERATOR,
    PRINTABLE,
    PUBLIC,
    STR,
    TIME,
    Schema,
    array,
    header,
    json_body,
    moderator_errors,
    obj,
    ok,
    op,
    path_param,
    problems,
    query,
    ref,
)
from moderation.readers.reports import MAX_NOTE_CHARS
from moderation.readers.reports import REASONS as REPORT_REASONS


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
