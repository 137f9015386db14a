"""What a compat call learns about a text: the service's own model (through its micro-batcher and worker
processes, never on the event loop), its word lists, and the per-attribute scores the model honestly gives.

The classifier contract (``classifier.Scores``): ``attributes`` holds only the attributes scored for the
text's detected ``language``.  A model from before the per-attribute heads has only ``spam`` and ``abuse``:
it is read as ``{"toxicity": abuse, "spam": spam}`` in English, which is what it was trained on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from moderation.core import keys

log = logging.getLogger(__name__)

OLD_MODEL_ATTRIBUTES = ("toxicity", "spam")
UNDETERMINED = "und"


class ScoringUnavailable(Exception):
    """The model did not answer (not loaded, deadline, worker failure)."""


@dataclass(frozen=True)
class Scored:
    attributes: dict[str, float]          # attribute -> calibrated probability, honest ones only
    language: str                         # ISO 639-1, or "und"
    spam: float
    abuse: float
    reasons: dict[str, list[str]] = field(default_factory=dict)
    banned: tuple[str, ...] = ()
    suspect: tuple[str, ...] = ()
    spam_signals: tuple[str, ...] = ()
    raw: Any = None                       # the classifier.Scores itself (Akismet decides on it as intake does)


def attributes_of(scores: Any) -> tuple[dict[str, float], str]:
    """``(attributes, language)`` of one ``classifier.Scores``, old models included."""
    attributes = getattr(scores, "attributes", None)
    if attributes is None:
        return {"toxicity": float(scores.abuse), "spam": float(scores.spam)}, "en"
    return {k: float(v) for k, v in attributes.items()}, str(getattr(scores, "language", UNDETERMINED) or UNDETERMINED)


def model_attributes_for(model: Any, language: str) -> tuple[str, ...]:
    """The attributes the model scores in ``language`` (``Model.attributes_for``; an old model: English)."""
    attributes_for = getattr(model, "attributes_for", None)
    if attributes_for is None:
        return OLD_MODEL_ATTRIBUTES if language == "en" else ()
    return tuple(attributes_for(language))


def model_languages(model: Any) -> tuple[str, ...]:
    return tuple(getattr(model, "languages", None) or ("en",))


async def score_texts(app: web.Application, texts: list[str]) -> list[Any]:
    """Raw ``classifier.Scores`` for each text, scored concurrently through the service's batcher."""
    scorer = app.get(keys.SCORER)
    if scorer is None:
        raise ScoringUnavailable("the model is not loaded")
    config = app[keys.CONFIG]
    try:
        async with asyncio.timeout(config.scoring_deadline_s):
            if len(texts) == 1:  # the common case: no task per text
                return [await scorer.score(texts[0])]
            return list(await asyncio.gather(*(scorer.score(t) for t in texts)))
    except TimeoutError:
        metrics = app[keys.METRICS]
        metrics.child(metrics.unscored, "deadline").inc()
        raise ScoringUnavailable(f"scoring exceeded {config.scoring_deadline_s:g} s") from None
    except Exception as exc:
        log.warning("compat scoring failed (%s)", exc.__class__.__name__)
        metrics = app[keys.METRICS]
        metrics.child(metrics.unscored, "error").inc()
        raise ScoringUnavailable(f"scoring failed: {exc.__class__.__name__}") from None


async def score(app: web.Application, text: str) -> Scored:
    """Model scores plus the moderators' word lists for ``text``."""
    raw = (await score_texts(app, [text]))[0]
    attributes, language = attributes_of(raw)
    lists = await app[keys.RULES].word_lists(app[keys.POOL])
    hits = lists.match(text)
    metrics = app[keys.METRICS]
    metrics.child(metrics.scores, "spam").observe(float(raw.spam))
    metrics.child(metrics.scores, "abuse").observe(float(raw.abuse))
    return Scored(attributes=attributes, language=language, spam=float(raw.spam), abuse=float(raw.abuse),
                  reasons=dict(raw.reasons),
                  banned=tuple(h.term for h in hits if h.list == "banned"),
                  suspect=tuple(h.term for h in hits if h.list == "suspect"),
                  spam_signals=tuple(getattr(raw, "spam_signals", ()) or ()), raw=raw)
