"""Thresholds and rules turn scores into a status and human-readable reasons.  Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moderation.core.config import Thresholds

APPROVED, PENDING, SPAM, REJECTED, DELETED = "approved", "pending", "spam", "rejected", "deleted"
STATUSES = (APPROVED, PENDING, SPAM, REJECTED, DELETED)


@dataclass(frozen=True)
class Reason:
    code: str      # stable, filterable: spam, abuse, banned_word, suspect_word, repeated_text, ...
    message: str   # what a moderator reads

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Signals:
    """Everything known about a comment when deciding.  ``spam``/``abuse`` are None when unscored."""

    spam: float | None
    abuse: float | None
    terms: dict[str, list[str]] = field(default_factory=dict)   # label -> top contributing terms
    banned_hits: Sequence[str] = ()
    suspect_hits: Sequence[str] = ()
    repeat_authors: int = 0            # other authors who posted the same text recently
    blocked: str | None = None         # why the author is blocked, if they are
    unscored_why: str | None = None


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: tuple[Reason, ...]

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def reasons_json(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]


REPEAT_AUTHORS_HOLD = 2  # the same text from this many other authors recently looks like a campaign


# Words that carry weight in the model (``you`` in "you idiot") but explain nothing to a moderator on their own.
FUNCTION_WORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been am i me my we us our you "
    "your he him his she her it its they them their this that these those there here up down out so do does did "
    "not no yes just than then too very can will would should could has have had".split()
)


def _is_function_phrase(words: str) -> bool:
    return all(w in FUNCTION_WORDS for w in words.lower().split())


def _terms(terms: Sequence[str]) -> str:
    """The terms a reason quotes: at most 5, in the model's order, without quoted function words ('a', 'you',
    'if you', 'they are') or a word that a named feature already quotes ("insult aimed at 'you'"), unless
    nothing else is left."""
    named = " ".join(t for t in terms if not t.startswith("'"))
    shown: list[str] = []
    for term in terms:
        word = term[1:-1] if term.startswith("'") and term.endswith("'") else None
        if term in shown or (word is not None and (_is_function_phrase(word) or term in named)):
            continue
        shown.append(term)
    shown = shown or list(dict.fromkeys(terms))
    return f" — {', '.join(shown[:5])}" if shown else ""


def explain_min(t: Thresholds) -> dict[str, float]:
    """The probability from which :func:`decide` quotes a label's terms (the spam reason from the lower of
    hold and reject, the abuse reason from abuse_hold): the model need not explain a label below it, since
    the explanation would be computed and thrown away (``classifier.Model.score(explain_min=...)``)."""
    return {"spam": min(t.spam_hold, t.spam_reject), "abuse": t.abuse_hold}


def decide(s: Signals, t: Thresholds, *, premoderation: bool = False) -> Decision:
    reasons: list[Reason] = []
    status = APPROVED

    if s.blocked is not None:
        return Decision(REJECTED, (Reason("blocked_author", f"rejected: author is blocked ({s.blocked})"),))

    if s.spam is None or s.abuse is None:
        status = PENDING
        reasons.append(Reason("unscored", f"held: not scored ({s.unscored_why or 'classifier unavailable'})"))
    else:
        if s.spam >= t.spam_reject:
            status = SPAM
            reasons.append(Reason("spam", f"spam: spam {s.spam:.2f} ≥ {t.spam_reject:.2f}"
                                          f"{_terms(s.terms.get('spam', []))}"))
        elif s.spam >= t.spam_hold:
            status = PENDING
            reasons.append(Reason("spam", f"held: spam {s.spam:.2f} ≥ {t.spam_hold:.2f}"
                                          f"{_terms(s.terms.get('spam', []))}"))
        if s.abuse >= t.abuse_hold:
            status = SPAM if status == SPAM else PENDING
            reasons.append(Reason("abuse", f"held: abuse {s.abuse:.2f} ≥ {t.abuse_hold:.2f}"
                                           f"{_terms(s.terms.get('abuse', []))}"))

    if s.banned_hits:
        if status != SPAM:
            status = REJECTED
        quoted = ", ".join(f"'{w}'" for w in s.banned_hits[:5])
        reasons.append(Reason("banned_word", f"rejected: banned word(s) {quoted}"))
    if s.suspect_hits:
        if status == APPROVED:
            status = PENDING
        quoted = ", ".join(f"'{w}'" for w in s.suspect_hits[:5])
        reasons.append(Reason("suspect_word", f"held: suspect word(s) {quoted}"))
    if s.repeat_authors >= REPEAT_AUTHORS_HOLD:
        if status == APPROVED:
            status = PENDING
        reasons.append(Reason("repeated_text",
                              f"held: same text posted by {s.repeat_authors} other authors recently"))

    if premoderation and status == APPROVED:
        status = PENDING
        reasons.append(Reason("premoderation", "held: premoderation is on, every comment is reviewed"))

    if status == APPROVED:
        reasons.append(Reason("clean", f"published: spam {s.spam:.2f}, abuse {s.abuse:.2f} below thresholds"))
    return Decision(status, tuple(reasons))
