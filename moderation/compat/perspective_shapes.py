"""Perspective's (commentanalyzer v1alpha1) request and response bodies, declared once.

The handlers decode with these Structs (validation messages name the field), encode the answers with them,
and :mod:`moderation.compat.discovery` builds the discovery document's ``schemas`` from them.  Field names
are Perspective's (camelCase on the wire).  Unknown fields are ignored, as a lenient server should.
"""

from __future__ import annotations

from typing import Literal

import msgspec

MAX_TEXT_BYTES = 20_480  # Perspective's limit on comment.text, in UTF-8 bytes

# Perspective attribute name -> the classifier's attribute (classifier.ATTRIBUTES)
ATTRIBUTES: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "profanity",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": "sexually_explicit",
    "SPAM": "spam",
}
ATTRIBUTES.update({f"{name}_EXPERIMENTAL": ours for name, ours in list(ATTRIBUTES.items())})
ABUSE_ATTRIBUTES = ("toxicity", "severe_toxicity", "identity_attack", "insult", "profanity", "threat",
                    "sexually_explicit")
SCORE_TYPES = ("PROBABILITY", "SCORE_TYPE_UNSPECIFIED")

TextType = Literal["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]
ScoreType = Literal["SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW"]


class TextEntry(msgspec.Struct, rename="camel", omit_defaults=True):
    """Represents a body of text."""

    text: str | None = None
    type: TextType | None = None


class ArticleAndParentComment(msgspec.Struct, rename="camel", omit_defaults=True):
    """The article and the parent comment of a reply (accepted, not used by the scores)."""

    article: TextEntry | None = None
    parent_comment: TextEntry | None = None


class Context(msgspec.Struct, rename="camel", omit_defaults=True):
    """What the comment replies to (accepted, not used by the scores)."""

    entries: list[TextEntry] | None = None
    article_and_parent_comment: ArticleAndParentComment | None = None


class AttributeParameters(msgspec.Struct, rename="camel", omit_defaults=True):
    """Configurable parameters for attribute scoring."""

    score_type: ScoreType | None = None
    score_threshold: float | None = None


class AnalyzeCommentRequest(msgspec.Struct, rename="camel", omit_defaults=True):
    """The comment analysis request message."""

    comment: TextEntry | None = None
    requested_attributes: dict[str, AttributeParameters] | None = None
    languages: list[str] | None = None
    do_not_store: bool = False
    span_annotations: bool = False
    client_token: str | None = None
    community_id: str | None = None
    session_id: str | None = None
    context: Context | None = None


class Score(msgspec.Struct, rename="camel", omit_defaults=True):
    """Analysis scores are described by a value and a ScoreType."""

    value: float
    type: ScoreType | None = None


class SpanScore(msgspec.Struct, rename="camel", omit_defaults=True):
    """One score for a span of the text; begin/end are UTF-16 code unit offsets, end exclusive."""

    score: Score
    begin: int | None = None
    end: int | None = None


class AttributeScores(msgspec.Struct, rename="camel", omit_defaults=True):
    """The scores of one attribute: a summary for the whole comment and per-span scores."""

    summary_score: Score | None = None
    span_scores: list[SpanScore] | None = None


class AnalyzeCommentResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    """The comment analysis response message."""

    attribute_scores: dict[str, AttributeScores] = {}
    languages: list[str] = []
    detected_languages: list[str] = []
    client_token: str | None = None


class SuggestCommentScoreRequest(msgspec.Struct, rename="camel", omit_defaults=True):
    """The comment score suggestion request message: what a moderator says the scores should be."""

    comment: TextEntry | None = None
    attribute_scores: dict[str, AttributeScores] | None = None
    languages: list[str] | None = None
    community_id: str | None = None
    client_token: str | None = None
    session_id: str | None = None
    context: Context | None = None


class SuggestCommentScoreResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    """The comment score suggestion response message."""

    client_token: str | None = None
    detected_languages: list[str] = []
    requested_languages: list[str] = []


ANALYZE_DECODER = msgspec.json.Decoder(AnalyzeCommentRequest)
SUGGEST_DECODER = msgspec.json.Decoder(SuggestCommentScoreRequest)
ENCODER = msgspec.json.Encoder()
