"""Akismet 1.1: ``verify-key``, ``comment-check``, ``submit-spam``, ``submit-ham``.

A WordPress/Drupal/Discourse plugin (or any Akismet client) switches by pointing its host at this service.
The key is the form field ``api_key`` (``key`` for verify-key) or the first label of the Host header, as
older clients send it (``KEY.rest.example``).  ``comment-check`` runs the same decision as the CMS webhook
(model, word lists, blocked IPs) and answers ``true`` when that decision is spam, a banned word or a
blocked author, or holds the comment for its spam score; ``X-akismet-pro-tip: discard`` when it is
blatant (spam score at the reject threshold, or a blocked IP).  A comment held only for abuse is ``false``
(Akismet is a spam filter) and says so in ``X-Moderation-Status`` / ``X-Moderation-Reasons``.
Answers are Akismet's plain text; errors too (``invalid`` or a message, with ``X-akismet-debug-help``),
with HTTP 200 as Akismet sends them, except 429 for a key over its rate.  Nothing about a checked comment is
stored; submit-spam/submit-ham store the text as a label (not with ``is_test=1``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from moderation.compat import access, labels
from moderation.compat import scoring as compat_scoring
from moderation.compat.apikeys import ApiKey, looks_like_key
from moderation.compat.scoring import ScoringUnavailable
from moderation.core import keys
from moderation.decisions.decide import PENDING, REJECTED, SPAM, decide
from moderation.decisions.scores import from_classifier, signals

PROTOCOL = "akismet"
THANKS = "Thanks for making the web a better place."
GUARANTEED_SPAM = "akismet-guaranteed-spam"  # Akismet's documented test triggers
MAX_FIELD = 100_000

PROBLEMS = {
    "akismet-invalid-key": (200, "Invalid Akismet key",
                            "Akismet answers `invalid`: the api_key (or the Host's first label) is not a live key."),
    "akismet-missing-field": (200, "Missing Akismet field", "A required form field is missing; the body names it."),
    "akismet-rate-limited": (429, "Akismet key over its rate", "Retry after `Retry-After` seconds."),
}

Handler = Callable[[web.Request, ApiKey, dict[str, str]], Awaitable[web.Response]]


def _text(body: str, *, status: int = 200, debug: str | None = None, problem: str | None = None,
          headers: dict[str, str] | None = None) -> web.Response:
    extra = dict(headers or {})
    if debug:
        extra["X-akismet-debug-help"] = debug
    if problem:
        extra["X-Moderation-Problem"] = f"/problems/{problem}"
    return web.Response(text=body, status=status, content_type="text/plain", headers=extra)


def host_key(request: web.Request) -> str | None:
    """The key in ``KEY.rest.example``: the Host header's first label, when it looks like one of our keys."""
    host = (request.headers.get("Host") or "").split(":")[0]
    first = host.split(".")[0] if "." in host else ""
    return first if looks_like_key(first) else None


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = dict(request.query)  # Akismet also reads query parameters
    else:
        fields = {**request.query, **{k: v for k, v in (await request.post()).items() if isinstance(v, str)}}
    return {k: v[:MAX_FIELD] for k, v in fields.items()}


def akismet_route(method: str, key_field: str = "api_key") -> Callable[[Handler], Callable[..., Awaitable[Any]]]:
    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def route(request: web.Request) -> web.Response:
            key: ApiKey | None = None
            try:
                form = await _form(request)
            except (ValueError, web.HTTPException):
                access.count(request, None, PROTOCOL, method, "bad-request")
                return _text("Invalid request body.", status=400, debug="Send the fields as a form "
                             "(application/x-www-form-urlencoded) of at most the configured body size.")
            supplied = form.get(key_field) or host_key(request)
            if not supplied:
                access.count(request, None, PROTOCOL, method, "missing-key")
                if method == "verify-key":
                    return _text("invalid", debug="Empty \"key\" value", problem="akismet-invalid-key")
                return _text("Missing required field: api_key.", debug="Empty \"api_key\" value",
                             problem="akismet-missing-field")
            key = await access.lookup(request, supplied)
            if key is None:
                access.count(request, None, PROTOCOL, method, "invalid-key")
                return _text("invalid", debug="Your API key is not valid for this service; create one with "
                             "`moderation api-key create NAME`.", problem="akismet-invalid-key")
            wait = access.retry_after(request, key)
            if wait is not None:
                access.count(request, key, PROTOCOL, method, "quota")
                return _text("Too many requests.", status=429, problem="akismet-rate-limited",
                             debug=f"This key may send {key.rate_per_minute} requests per minute; "
                                   f"retry in {wait} s.", headers={"Retry-After": str(wait)})
            response = await handler(request, key, form)
            outcome = "ok" if "X-akismet-debug-help" not in response.headers else "error"
            access.count(request, key, PROTOCOL, method, outcome)
            return response
        route.compat_protocol = PROTOCOL  # type: ignore[attr-defined]
        route.__name__ = route.__qualname__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route
    return wrap


def _missing(form: dict[str, str], *names: str) -> web.Response | None:
    for name in names:
        if not form.get(name, "").strip():
            return _text(f"Missing required field: {name}.", debug=f"Empty \"{name}\" value",
                         problem="akismet-missing-field")
    return None


@akismet_route("verify-key", key_field="key")
async def verify_key(request: web.Request, key: ApiKey, form: dict[str, str]) -> web.Response:
    """``valid`` for a live key (``blog`` is accepted; keys here are not bound to one site)."""
    return _text("valid")


@akismet_route("comment-check")
async def comment_check(request: web.Request, key: ApiKey, form: dict[str, str]) -> web.Response:
    """``true`` (spam) or ``false``, from the same decision as the webhook's."""
    missing = _missing(form, "blog", "user_ip")
    if missing is not None:
        return missing
    if GUARANTEED_SPAM in (form.get("comment_author", ""), form.get("comment_author_email", "").split("@")[0]):
        return _text("true")
    if form.get("user_role", "").strip().lower() == "administrator":
        return _text("false")
    app = request.app
    text = form.get("comment_content", "")[: app[keys.CONFIG].max_text_chars]
    blocked = await app[keys.COMPAT_BLOCKED].reason(app[keys.POOL], form["user_ip"])
    try:
        scored = await compat_scoring.score(app, text)
    except ScoringUnavailable as exc:
        return _text("Scoring is unavailable; retry.", status=503, debug=str(exc), headers={"Retry-After": "1"})
    # the webhook's own reading of the classifier's output (attributes, language, spam signals) and decision
    evidence = signals(from_classifier(scored.raw), banned_hits=scored.banned, suspect_hits=scored.suspect,
                       blocked=blocked)
    decision = decide(evidence, app[keys.THRESHOLDS])
    codes = decision.reason_codes
    is_spam = (decision.status in (SPAM, REJECTED)) or (decision.status == PENDING and "spam" in codes)
    headers = {"X-Moderation-Status": decision.status, "X-Moderation-Reasons": ",".join(codes)}
    if blocked is not None or decision.status == SPAM:
        headers["X-akismet-pro-tip"] = "discard"
    return _text("true" if is_spam else "false", headers=headers)


async def _submit(request: web.Request, key: ApiKey, form: dict[str, str], spam: int) -> web.Response:
    missing = _missing(form, "blog")
    if missing is not None:
        return missing
    text = form.get("comment_content", "")
    if text.strip() and form.get("is_test", "").strip().lower() not in ("1", "true"):
        await labels.store(request.app[keys.POOL], key, protocol=PROTOCOL, text=text[:20_000],
                           language=form.get("blog_lang", "").split(",")[0].strip()[:2].lower(),
                           attributes={"spam": spam})
    return _text(THANKS)


@akismet_route("submit-spam")
async def submit_spam(request: web.Request, key: ApiKey, form: dict[str, str]) -> web.Response:
    """A missed spam: stored as a spam label."""
    return await _submit(request, key, form, 1)


@akismet_route("submit-ham")
async def submit_ham(request: web.Request, key: ApiKey, form: dict[str, str]) -> web.Response:
    """A false positive: stored as a ham label."""
    return await _submit(request, key, form, 0)


ROUTES = {"verify-key": verify_key, "comment-check": comment_check, "submit-spam": submit_spam,
          "submit-ham": submit_ham}
