"""The classifier's output as the decisions see it, and the thresholds a model comes with.

:func:`from_classifier` reads a ``classifier.Scores`` — per-attribute (``attributes``, ``language``,
``language_supported``, ``spam_signals``: the contract in HELPERS/classifier README) or from an older model
that knows only ``spam`` and ``abuse`` (then abuse is toxicity and the language is taken to be English).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moderation.core.config import Config, Thresholds, effective_thresholds
from moderation.decisions.decide import Signals


@dataclass(frozen=True)
class Scored:
    spam: float
    abuse: float                     # = toxicity
    attributes: dict[str, float]     # only those scored for the language
    terms: dict[str, list[str]] = field(default_factory=dict)
    language: str = "en"
    language_supported: bool = True
    spam_signals: tuple[str, ...] = ()
    phrases: dict[str, str] = field(default_factory=dict)  # attribute -> curated phrase found (holds on its own)


def from_classifier(s: Any) -> Scored:
    attributes = getattr(s, "attributes", None)
    if attributes is None:  # a model from before per-attribute scores
        attributes = {"toxicity": float(s.abuse), "spam": float(s.spam)}
    return Scored(spam=float(s.spam), abuse=float(s.abuse),
                  attributes={str(k): float(v) for k, v in dict(attributes).items()},
                  terms={str(k): list(v) for k, v in dict(s.reasons or {}).items()},
                  language=str(getattr(s, "language", "en") or "und"),
                  language_supported=bool(getattr(s, "language_supported", True)),
                  spam_signals=tuple(getattr(s, "spam_signals", ()) or ()),
                  phrases={str(k): str(v) for k, v in dict(getattr(s, "phrases", None) or {}).items()})


def signals(scored: Scored | None, *, unscored_why: str | None = None, **evidence: Any) -> Signals:
    """The decision's input from ``scored`` (None: not scored, ``unscored_why`` says why) and the rest of
    the evidence (``banned_hits``, ``suspect_hits``, ``repeat_authors``, ``blocked``)."""
    if scored is None:
        return Signals(spam=None, abuse=None, unscored_why=unscored_why, **evidence)
    return Signals(spam=scored.spam, abuse=scored.abuse, terms=scored.terms, attributes=scored.attributes,
                   language=scored.language, language_supported=scored.language_supported,
                   spam_signals=scored.spam_signals, phrases=scored.phrases, **evidence)


def thresholds_for(config: Config, metadata: Mapping[str, Any]) -> Thresholds:
    """The thresholds in force with a model: its metadata's (per attribute) under the config's overrides."""
    return effective_thresholds(config, metadata.get("thresholds"), metadata.get("hold_attributes"))
