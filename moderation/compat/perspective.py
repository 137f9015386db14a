"""Perspective's commentanalyzer v1alpha1: ``comments:analyze`` and ``comments:suggestscore``.

An integration switches by changing its endpoint to ``https://moderation.example/v1alpha1`` and its key
to one of ``moderation api-key create``.  Scores come from the service's own model, through its scoring
processes; a word on the moderators' banned list makes TOXICITY and PROFANITY 1.0 (the webhook rejects such
a comment; this way any threshold of the caller holds it).  The text is never stored by ``analyze``
(``doNotStore`` is honoured by construction); ``suggestscore`` stores the suggested scores as a training
label (:mod:`moderation.compat.labels`).  Errors are Google-shaped (:mod:`moderation.compat.google_errors`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from moderation.compat import access, labels
from moderation.compat import scoring as compat_scoring
from moderation.compat.apikeys import ApiKey
from moderation.compat.google_errors import GoogleError, from_http_exception, invalid_key, perspective_detail, render
from moderation.compat.perspective_shapes import (
    ATTRIBUTES,
    ENCODER,
    MAX_TEXT_BYTES,
    SCORE_TYPES,
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    AttributeScores,
    Score,
    SpanScore,
    SuggestCommentScoreRequest,
    SuggestCommentScoreResponse,
)
from moderation.compat.scoring import UNDETERMINED, ScoringUnavailable, model_attributes_for
from moderation.core import body, keys

PROTOCOL = "perspective"
BANNED_RAISES = ("toxicity", "profanity")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_MSGSPEC_PATH = re.compile(r" - at `\$\.?(.*)`$")

Handler = Callable[[web.Request, ApiKey], Awaitable[web.Response]]


def google_route(method: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.Response]]]:
    """Key check, per-key rate, per-key metrics, and every error in Google's shape, for one method."""
    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(handler)
        async def route(request: web.Request) -> web.Response:
            key: ApiKey | None = None
            try:
                supplied = request.query.get("key") or request.headers.get("X-Goog-Api-Key")
                if not supplied:
                    raise GoogleError("perspective-missing-key", "The request is missing a valid API key.")
                key = await access.lookup(request, supplied)
                if key is None:
                    raise invalid_key()
                wait = access.retry_after(request, key)
                if wait is not None:
                    raise GoogleError("perspective-quota", f"Quota exceeded for key '{key.name}': at most "
                                      f"{key.rate_per_minute} requests per minute; retry in {wait} s.",
                                      headers={"Retry-After": str(wait)})
                response = await handler(request, key)
            except GoogleError as err:
                access.count(request, key, PROTOCOL, method, err.slug.removeprefix("perspective-"))
                return render(err)
            except web.HTTPException as exc:  # aiohttp's own refusals (body too large, ...)
                if exc.status < 400:
                    raise
                err = from_http_exception(exc)
                access.count(request, key, PROTOCOL, method, err.slug.removeprefix("perspective-"))
                return render(err)
            access.count(request, key, PROTOCOL, method, "ok")
            return response
        route.compat_protocol = PROTOCOL  # type: ignore[attr-defined]
        return route
    return wrap


def _decode(shape: Any, raw: bytes) -> Any:
    """The body through the one body reader (size, depth, duplicate keys, UTF-8, numbers), errors in Google's
    shape."""
    if not raw.strip():
        raise GoogleError("perspective-malformed-json", "Invalid JSON payload received: the body is empty.")
    try:
        return body.parse(raw, shape)
    except body.BodyError as exc:
        if exc.field != "(body)" and "finite number" in str(exc):  # JSON, but a value no field can hold
            raise GoogleError("perspective-invalid-argument", f"Invalid value at '{exc.field}': {exc}.") from None
        raise GoogleError("perspective-malformed-json", f"Invalid JSON payload received. {exc}.") from None
    except body.ShapeError as exc:
        first = exc.errors[0]
        raise GoogleError("perspective-invalid-argument",
                          f"Invalid value at '{first['field']}': {first['message']}.") from None


def _text(entry: Any) -> str:
    text = entry.text if entry is not None else None
    if not text or not text.strip():
        raise GoogleError("perspective-comment-empty", "Comment must be non-empty.",
                          details=[perspective_detail("COMMENT_EMPTY")])
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise GoogleError("perspective-invalid-argument",
                          "Invalid value at 'comment.text': not valid Unicode (a lone surrogate).") from None
    if size > MAX_TEXT_BYTES:
        raise GoogleError("perspective-comment-too-long",
                          f"Comment text too long: {size} bytes of UTF-8, at most {MAX_TEXT_BYTES}.",
                          details=[perspective_detail("COMMENT_TOO_LONG")])
    return text


def _languages(raw: list[str] | None) -> list[str]:
    """ISO 639-1 codes of the request's languages ("en-US" -> "en"), in order, once each."""
    out: list[str] = []
    for code in raw or []:
        primary = code.strip().replace("_", "-").split("-")[0].lower()
        if not primary.isalpha() or len(primary) > 8:
            raise GoogleError("perspective-invalid-argument", f"Invalid value at 'languages': {code[:40]!r} "
                              "is not a language code.")
        if primary not in out:
            out.append(primary)
    return out


def _unsupported(name: str, languages: list[str], *, detected: bool) -> GoogleError:
    which = "detectedLanguages" if detected else "requestedLanguages"
    shown = ", ".join(languages) or UNDETERMINED
    return GoogleError("perspective-language-not-supported",
                       f"Attribute {name} does not support {'detected' if detected else 'request'} "
                       f"languages: {shown}",
                       details=[perspective_detail("LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                                                   languageNotSupportedByAttributeError={
                                                       which: languages or [UNDETERMINED], "attribute": name})])


def _requested(req: AnalyzeCommentRequest) -> dict[str, tuple[str, float | None]]:
    """Requested attribute name -> (our attribute, scoreThreshold)."""
    if not req.requested_attributes:
        raise GoogleError("perspective-invalid-argument", "Invalid value at 'requested_attributes': "
                          "request at least one attribute, e.g. {\"TOXICITY\": {}}.")
    out: dict[str, tuple[str, float | None]] = {}
    for name, params in req.requested_attributes.items():
        ours = ATTRIBUTES.get(name)
        if ours is None:
            raise GoogleError("perspective-unknown-attribute",
                              f"Unknown requested attribute: {name[:80]}. This service scores "
                              f"{', '.join(a for a in ATTRIBUTES if not a.endswith('_EXPERIMENTAL'))} "
                              "(and their _EXPERIMENTAL spellings).",
                              details=[perspective_detail("UNKNOWN_ATTRIBUTE", attribute=name[:80])])
        if params.score_type is not None and params.score_type not in SCORE_TYPES:
            raise GoogleError("perspective-invalid-argument",
                              f"Score type {params.score_type} is not supported for attribute {name}: "
                              "only PROBABILITY.")
        threshold = params.score_threshold
        if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
            raise GoogleError("perspective-invalid-argument", f"Invalid value at 'requested_attributes[{name}]"
                              ".score_threshold': must be between 0 and 1.")
        out[name] = (ours, threshold)
    return out


def _sentences(text: str) -> list[tuple[int, int, str]]:
    """(begin, end, sentence) in UTF-16 code units, as Perspective's spans count them."""
    spans: list[tuple[int, int, str]] = []
    start = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        piece = text[start:end]
        if piece.strip():
            begin16 = len(text[:start].encode("utf-16-le")) // 2
            spans.append((begin16, begin16 + len(piece.encode("utf-16-le")) // 2, piece))
        if match is not None:
            start = match.end()
    return spans


def _value(name: str, ours: str, scored: compat_scoring.Scored, asserted: bool) -> float:
    value = scored.attributes.get(ours)
    if value is None and asserted and scored.language == UNDETERMINED and ours in ("toxicity", "spam"):
        # too short to tell its language, and the caller says which: the model's overall heads answer
        value = scored.abuse if ours == "toxicity" else scored.spam
    if value is None:
        raise _unsupported(name, [scored.language], detected=True)
    if scored.banned and ours in BANNED_RAISES:
        value = 1.0
    return float(value)


@google_route("analyze")
async def analyze(request: web.Request, key: ApiKey) -> web.Response:
    req: AnalyzeCommentRequest = _decode(AnalyzeCommentRequest, await request.read())
    text = _text(req.comment)
    requested = _requested(req)
    languages = _languages(req.languages)
    model = request.app.get(keys.MODEL)
    if languages:  # the caller says which language: each attribute must have a head in one of them
        for name, (ours, _) in requested.items():
            if not any(ours in model_attributes_for(model, lang) for lang in languages):
                raise _unsupported(name, languages, detected=False)
    try:
        scored = await compat_scoring.score(request.app, text)
        spans = _sentences(text) if req.span_annotations else []
        span_scores = (await compat_scoring.score_texts(request.app, [s[2] for s in spans])
                       if len(spans) > 1 else [])
    except ScoringUnavailable as exc:
        raise GoogleError("perspective-unavailable", f"The comment could not be scored: {exc}.",
                          headers={"Retry-After": "1"}) from None
    answer: dict[str, AttributeScores] = {}
    for name, (ours, threshold) in requested.items():
        value = _value(name, ours, scored, bool(languages))
        floor = -1.0 if threshold is None else threshold
        entry = AttributeScores()
        if value >= floor:
            entry.summary_score = Score(value=value, type="PROBABILITY")
        if spans:
            entry.span_scores = _span_scores(spans, span_scores, ours, value, floor)
        if entry.summary_score is not None or entry.span_scores:
            answer[name] = entry
    body = AnalyzeCommentResponse(attribute_scores=answer, languages=languages or [scored.language],
                                  detected_languages=[scored.language], client_token=req.client_token)
    return web.Response(body=ENCODER.encode(body), content_type="application/json")


def _span_scores(spans: list[tuple[int, int, str]], raw: list[Any], ours: str, summary: float,
                 floor: float) -> list[SpanScore] | None:
    if len(spans) == 1:  # one sentence: its span score is the summary
        begin, end, _ = spans[0]
        out = [SpanScore(score=Score(value=summary, type="PROBABILITY"), begin=begin, end=end)]
    else:
        out = []
        for (begin, end, _), scores in zip(spans, raw, strict=True):
            attributes, _lang = compat_scoring.attributes_of(scores)
            value = attributes.get(ours)
            if value is not None:
                out.append(SpanScore(score=Score(value=float(value), type="PROBABILITY"), begin=begin, end=end))
    return [s for s in out if s.score.value >= floor] or None


@google_route("suggestscore")
async def suggestscore(request: web.Request, key: ApiKey) -> web.Response:
    req = _decode(SuggestCommentScoreRequest, await request.read())
    text = _text(req.comment)
    languages = _languages(req.languages)
    if not req.attribute_scores:
        raise GoogleError("perspective-invalid-argument", "Invalid value at 'attribute_scores': "
                          "suggest at least one attribute's score.")
    suggested: dict[str, float] = {}
    for name, scores in req.attribute_scores.items():
        ours = ATTRIBUTES.get(name)
        if ours is None:
            raise GoogleError("perspective-unknown-attribute", f"Unknown attribute: {name[:80]}.",
                              details=[perspective_detail("UNKNOWN_ATTRIBUTE", attribute=name[:80])])
        if scores.summary_score is None:
            raise GoogleError("perspective-invalid-argument", f"Invalid value at 'attribute_scores[{name}]': "
                              "a summaryScore is required (span-only suggestions are not used).")
        value = scores.summary_score.value
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise GoogleError("perspective-invalid-argument", f"Invalid value at 'attribute_scores[{name}]"
                              ".summary_score.value': must be between 0 and 1.")
        suggested[ours] = value
    detected = await _detect_language(request, text)
    await labels.store(request.app[keys.POOL], key, protocol=PROTOCOL, text=text,
                       language=(languages[0] if languages else detected),
                       attributes=labels.from_perspective(suggested),
                       client_token=req.client_token, community_id=req.community_id)
    body = SuggestCommentScoreResponse(client_token=req.client_token, detected_languages=[detected],
                                       requested_languages=languages)
    return web.Response(body=ENCODER.encode(body), content_type="application/json")


async def _detect_language(request: web.Request, text: str) -> str:
    """The detected language (the classifier's, when it answers; a label is stored either way)."""
    try:
        raw = (await compat_scoring.score_texts(request.app, [text]))[0]
    except ScoringUnavailable:
        return UNDETERMINED
    return compat_scoring.attributes_of(raw)[1]

