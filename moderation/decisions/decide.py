"""Thresholds and rules turn a comment's scores and evidence into a status and its reasons.  Pure functions.

The rules (README "Decisions and reasons"):

* an author who is blocked is rejected; a banned word rejects;
* every model attribute scored for the comment's language is held at its own threshold: a threat is held
  even when nothing else is (``MODERATION_THREAT_HOLD``, …; toxicity is ``MODERATION_ABUSE_HOLD``).
  Profanity aimed at no one is not held: profanity alone is only ``noted`` unless the model's metadata
  (``hold_attributes``) or ``MODERATION_PROFANITY_HOLD`` makes it hold;
* a curated phrase (a threat's or dehumanisation's shape: "deserves to be shot", "immigrants are vermin")
  holds on its own, like a suspect word, when its attribute's score is below the threshold;
* the spam probability alone never rejects: a comment is rejected as spam only when spam ≥ the reject
  threshold AND there is evidence a moderator accepts at a glance — at least two independent spam signals
  (phone number, e-mail address, link to a non-reference site, …) or the same text from other authors
  recently.  Spam at or above the hold threshold without that evidence is held;
* a language the model has no heads for is held (``MODERATION_UNSUPPORTED_LANGUAGE=hold``) or published
  (``publish``), with the reason "language 'de' is not supported by the model";
* suspect words, repeated text and premoderation hold; everything else is published.

A piece of evidence weaker than the outcome is kept as ``noted`` ("also: suspect word(s) 'x'" on a
comment rejected as spam), never as a "held:" reason on a rejected comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moderation.core.config import Thresholds
from moderation.decisions import reasons as R

APPROVED, PENDING, SPAM, REJECTED, DELETED = "approved", "pending", "spam", "rejected", "deleted"
STATUSES = (APPROVED, PENDING, SPAM, REJECTED, DELETED)
# the classifier's attributes (classifier.ATTRIBUTES), in the order reasons name them
ATTRIBUTES = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity",
              "sexually_explicit", "spam")
REPEAT_AUTHORS_HOLD = 2  # the same text from this many other authors recently looks like a campaign
SPAM_SIGNALS_TO_REJECT = R.SPAM_SIGNALS_TO_REJECT
UNSUPPORTED_LANGUAGE_POLICIES = ("hold", "publish")


@dataclass(frozen=True)
class Signals:
    """Everything known about a comment when deciding.  ``spam``/``abuse`` are None when unscored.

    ``attributes``: the calibrated probability per attribute scored for the comment's language (None:
    a model from before per-attribute scores, whose ``abuse`` is toxicity).  ``terms``: per attribute
    (and ``abuse`` for toxicity) the model's top contributing terms."""

    spam: float | None
    abuse: float | None
    terms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    banned_hits: Sequence[str] = ()
    suspect_hits: Sequence[str] = ()
    repeat_authors: int = 0            # other authors who posted the same text recently
    blocked: str | None = None         # why the author is blocked, if they are
    unscored_why: str | None = None
    attributes: Mapping[str, float] | None = None
    language: str = "en"
    language_supported: bool = True
    spam_signals: Sequence[str] = ()
    phrases: Mapping[str, str] = field(default_factory=dict)  # attribute -> curated phrase (classifier.phrases)

    def scored(self) -> dict[str, float]:
        """The attribute scores to decide on (an old model's spam/abuse as spam/toxicity)."""
        if self.attributes is not None:
            return {a: float(v) for a, v in self.attributes.items()}
        out = {}
        if self.abuse is not None:
            out["toxicity"] = float(self.abuse)
        if self.spam is not None:
            out["spam"] = float(self.spam)
        return out


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: tuple[R.Reason, ...]

    @property
    def reason_codes(self) -> list[str]:
        return R.codes(self.reasons)

    def reasons_json(self) -> list[dict[str, Any]]:
        return list(self.reasons)


def explain_min(t: Thresholds) -> dict[str, float]:
    """The probability from which :func:`decide` quotes an attribute's terms (spam from the lower of hold and
    reject, every other attribute from its hold threshold): the model need not explain an attribute below
    it, since the explanation would be computed and thrown away (``classifier.Model.score(explain_min=)``)."""
    floors = {a: t.hold(a) for a in ATTRIBUTES}
    floors["spam"] = min(t.spam_hold, t.spam_reject)
    floors["abuse"] = t.abuse_hold
    return floors


_RANK = {"spam": 3, "rejected": 2, "held": 1, "published": 0, "noted": 0}
_STATUS = {3: SPAM, 2: REJECTED, 1: PENDING, 0: APPROVED}
_EFFECT_OF_STATUS = {SPAM: "spam", REJECTED: "rejected", PENDING: "held", APPROVED: "published"}


def _terms(s: Signals, attribute: str) -> dict[str, list[str]]:
    raw = s.terms.get(attribute) or (s.terms.get("abuse") if attribute == "toxicity" else None) or []
    words, features = R.model_terms(list(raw))
    return {"terms": words, "features": features}


def decide(s: Signals, t: Thresholds, *, premoderation: bool = False,
           unsupported_language: str = "hold") -> Decision:
    if s.blocked is not None:
        return Decision(REJECTED, (R.make("blocked_author", "rejected", detail=s.blocked),))
    found: list[tuple[str, str, dict[str, Any]]] = []   # (effect, code, evidence)
    scores = s.scored()
    unscored = s.spam is None and s.abuse is None and s.attributes is None
    if unscored:
        found.append(("held", "unscored", {"detail": s.unscored_why}))
    if not s.language_supported:
        found.append(("held" if unsupported_language == "hold" else "published", "language",
                      {"language": s.language or "und"}))
    for attribute in ATTRIBUTES:
        score = scores.get(attribute)
        if attribute == "spam" or score is None or score < t.hold(attribute):
            continue
        found.append(("held" if t.holds(attribute) else "noted", "abuse",
                      {"attribute": attribute, "score": round(score, 4), "threshold": t.hold(attribute),
                       **_terms(s, attribute)}))
    for attribute, phrase in s.phrases.items():
        score = scores.get(attribute)
        if score is None or score >= t.hold(attribute):  # already a reason above
            continue
        found.append(("held" if t.holds(attribute) else "noted", "phrase",
                      {"attribute": attribute, "phrase": phrase, "score": round(score, 4),
                       "threshold": t.hold(attribute), "terms": [phrase]}))
    spam = scores.get("spam")
    repeated = s.repeat_authors >= REPEAT_AUTHORS_HOLD
    signals = list(dict.fromkeys(s.spam_signals))
    evidence = len(signals) >= SPAM_SIGNALS_TO_REJECT or repeated
    rejected_as_spam = spam is not None and spam >= t.spam_reject and evidence
    if rejected_as_spam:
        found.append(("spam", "spam", {"attribute": "spam", "score": round(spam, 4), "threshold": t.spam_reject,
                                       "signals": signals, **_terms(s, "spam")}))
    elif spam is not None and spam >= min(t.spam_hold, t.spam_reject):
        found.append(("held", "spam", {"attribute": "spam", "score": round(spam, 4), "threshold": t.spam_hold,
                                       "signals": signals, **_terms(s, "spam"),
                                       "reject_threshold": t.spam_reject if spam >= t.spam_reject else None}))
    if s.banned_hits:
        found.append(("rejected", "banned_word", {"terms": list(s.banned_hits[:5])}))
    if s.suspect_hits:
        found.append(("held", "suspect_word", {"terms": list(s.suspect_hits[:5])}))
    if repeated:
        found.append(("spam" if rejected_as_spam else "held", "repeated_text", {"count": s.repeat_authors}))
    rank = max((_RANK[effect] for effect, _, _ in found), default=0)
    if premoderation and rank == 0:
        found.append(("held", "premoderation", {}))
        rank = 1
    status = _STATUS[rank]
    if status == APPROVED and scores:
        shown = {a: round(scores[a], 4) for a in ("spam", "toxicity") if a in scores}
        found.append(("published", "clean", {"scores": shown or None}))
    final = _EFFECT_OF_STATUS[status]
    return Decision(status, tuple(R.make(code, effect if effect == final else "noted", **evidence)
                                  for effect, code, evidence in found))
