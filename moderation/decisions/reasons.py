"""Reasons as data: why a comment has its status, stored as JSON and rendered to text only here.

A reason is a JSON object (it is stored in ``comments.reasons`` and ``decisions.reasons`` and sent to the
CMS) with a stable ``code`` (what the queue filters on), an ``outcome`` — what this piece of evidence did:
``held``, ``rejected``, ``spam``, ``published``, ``deleted``, or ``noted`` when a stronger outcome decided
(a suspect word in a comment rejected as spam is "also: suspect word(s) 'x'", not "held: …") — and the
evidence itself:

=============  ======================================================================================
``attribute``  the model attribute (``toxicity``, ``threat``, ``spam`` …) of a model reason
``score``      its calibrated probability; ``threshold`` the threshold it was compared with
``terms``      words of the comment that explain it (model terms, word-list hits): what the UI highlights
``features``   named features that explain it but are not words ("URL", "money amount")
``signals``    independent spam signals ("phone number", "e-mail address")
``phrase``     the curated phrase (code ``phrase``: a threat's or dehumanisation's shape) that held it
``language``   the detected language (code ``language``)
``count``      other authors (``repeated_text``) or readers (``reported``)
``detail``     free text: why an author is blocked, why scoring failed, readers' report counts
``standing``   why readers' reports do not (yet) hold a published comment
``action``     a moderator's action; ``note`` their reason; ``undid`` the decision an undo reverted
=============  ======================================================================================

``message`` is the rendered sentence, written once by :func:`make` when the reason is created.  Rows
written before reasons were data hold only ``code`` and ``message``: they render as they are, and
:func:`terms_of` reads their highlight terms with the old message format (:func:`_legacy_terms`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

Reason = dict[str, Any]

VERBS = {"held": "held", "rejected": "rejected", "spam": "spam", "published": "published", "noted": "also",
         "deleted": "deleted"}
OUTCOMES = tuple(VERBS)
ATTRIBUTE_LABELS = {"toxicity": "toxicity", "severe_toxicity": "severe toxicity", "insult": "insult",
                    "threat": "threat", "identity_attack": "identity attack", "profanity": "profanity",
                    "sexually_explicit": "sexually explicit", "spam": "spam"}
# outcome of a moderator's action, by the status it sets
_MODERATOR_TEXT = {"approve": "published by a moderator", "reject": "rejected by a moderator",
                   "spam": "marked as spam by a moderator", "not_spam": "published by a moderator (not spam)"}
SPAM_SIGNALS_TO_REJECT = 2
MAX_TERMS = 5

# Words that carry weight in the model (``you`` in "you idiot") but explain nothing to a moderator on their own.
FUNCTION_WORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been am i me my we us our you "
    "your he him his she her it its they them their this that these those there here up down out so do does did "
    "not no yes just than then too very can will would should could has have had".split()
    # Arabic, as the classifier folds it (ى -> ي, أ/إ -> ا) and as written: "يا" (the vocative "O ..."), "و" (and), ...
    + "يا و في من علي على الي إلى عن ان أن او أو ما لا هذا هذه ذلك التي الذي".split()
    + "هو هي هم انت أنت انتم نحن انا أنا قد كان مع ثم كل".split()
)


def make(code: str, outcome: str, **evidence: Any) -> Reason:
    """A reason with its rendered ``message``; ``None`` and empty evidence are left out."""
    assert outcome in VERBS, outcome
    reason: Reason = {"code": code, "outcome": outcome}
    reason.update({k: v for k, v in evidence.items() if v is not None and v != [] and v != ()})
    for key in ("terms", "features", "signals"):
        if key in reason:
            reason[key] = list(reason[key])
    reason["message"] = render(reason)
    return reason


def with_outcome(reason: Reason, outcome: str) -> Reason:
    """The same evidence with another outcome (re-rendered)."""
    evidence = {k: v for k, v in reason.items() if k not in ("code", "outcome", "message")}
    return make(reason["code"], outcome, **evidence)


def model_terms(terms: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split the classifier's explanation (``'word'`` quoted, features named: ``URL``) into the words a reason
    quotes and the features it names: at most 5 in all, in the model's order, without quoted function words
    ('a', 'you', 'if you', 'they are') or a word that a named feature already quotes ("insult aimed at
    'you'"), unless nothing else is left."""
    named = " ".join(t for t in terms if not t.startswith("'"))
    shown: list[str] = []
    for term in terms:
        word = term[1:-1] if term.startswith("'") and term.endswith("'") and len(term) > 2 else None
        if term in shown or (word is not None and (_is_function_phrase(word) or term in named)):
            continue
        shown.append(term)
    shown = (shown or list(dict.fromkeys(terms)))[:MAX_TERMS]
    words = [t[1:-1] for t in shown if t.startswith("'") and t.endswith("'") and len(t) > 2]
    return words, [t for t in shown if not (t.startswith("'") and t.endswith("'") and len(t) > 2)]


def _is_function_phrase(words: str) -> bool:
    return all(w in FUNCTION_WORDS for w in words.lower().split())


def _quoted(words: Iterable[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _explained(r: Reason) -> str:
    parts = [*r.get("signals", ()), _quoted(r.get("terms", ())), *r.get("features", ())]
    parts = [p for p in parts if p]
    return f" — {', '.join(parts)}" if parts else ""


def render(r: Reason) -> str:
    """The sentence a moderator (and the CMS) reads for reason ``r``: the one place reasons become text."""
    if "outcome" not in r:  # written before reasons were data
        return str(r.get("message", r.get("code", "")))
    code, outcome = r["code"], r["outcome"]
    verb = VERBS[outcome]
    if code == "phrase":  # a curated phrase holds on its own, below the attribute's threshold
        label = ATTRIBUTE_LABELS.get(str(r.get("attribute")), str(r.get("attribute", "")).replace("_", " "))
        text = f"{verb}: {label} phrase '{r.get('phrase', '')}'"
        if "score" in r and "threshold" in r:
            text += f" ({label} {r['score']:.2f} < {r['threshold']:.2f})"
        return text
    if "attribute" in r and "score" in r:
        label = ATTRIBUTE_LABELS.get(r["attribute"], str(r["attribute"]).replace("_", " "))
        text = f"{verb}: {label} {r['score']:.2f}"
        if "threshold" in r:
            text += f" ≥ {r['threshold']:.2f}"
        text += _explained(r)
        if "reject_threshold" in r:  # spam at or above the reject threshold, held for want of evidence
            n = len(r.get("signals", ()))
            text += (f" (not rejected: spam {r['score']:.2f} ≥ {r['reject_threshold']:.2f} but {n} of "
                     f"{SPAM_SIGNALS_TO_REJECT} spam signals and no other evidence)")
        return text
    if code == "clean":
        scores = ", ".join(f"{ATTRIBUTE_LABELS.get(k, k)} {v:.2f}" for k, v in r.get("scores", {}).items())
        return f"{verb}: {scores} below thresholds" if scores else f"{verb}: below thresholds"
    if code == "banned_word":
        return f"{verb}: banned word(s) {_quoted(r.get('terms', ()))}"
    if code == "suspect_word":
        return f"{verb}: suspect word(s) {_quoted(r.get('terms', ()))}"
    if code == "repeated_text":
        return f"{verb}: same text posted by {r.get('count', 0)} other authors recently"
    if code == "blocked_author":
        return f"{verb}: author is blocked ({r.get('detail') or 'blocked'})"
    if code == "unscored":
        return f"{verb}: not scored ({r.get('detail') or 'classifier unavailable'})"
    if code == "premoderation":
        return f"{verb}: premoderation is on, every comment is reviewed"
    if code == "language":
        return f"{verb}: language '{r.get('language', 'und')}' is not supported by the model"
    if code == "reported":
        n = int(r.get("count", 0))
        text = f"{verb}: reported by {n} reader{'' if n == 1 else 's'}" + (f" ({r['detail']})" if r.get("detail")
                                                                          else "")
        return text + (f"; {r['standing']}" if r.get("standing") else "")
    if code == "moderator":
        text = _MODERATOR_TEXT.get(str(r.get("action")), f"{verb} by a moderator")
        return text + (f": {r['note']}" if r.get("note") else "")
    if code == "undo":
        text = f"{verb}: undo of decision {r.get('undid')} by a moderator"
        return text + (f": {r['note']}" if r.get("note") else "")
    if code == "deleted":
        return f"{verb} by the CMS"
    if code == "erased":
        return f"{verb}: erased at the author's request" + (f" ({r['note']})" if r.get("note") else "")
    return f"{verb}: {code.replace('_', ' ')}" + (f" ({r['detail']})" if r.get("detail") else "")


def codes(reasons: Iterable[Reason]) -> list[str]:
    """The filterable slugs of ``reasons`` (``comments.reason_codes``): each code, and the attribute of a
    model reason that holds (``reason=threat`` finds a comment held for a threat), outcome ``noted`` too."""
    out: list[str] = []
    for r in reasons:
        for slug in (r.get("code"), r.get("attribute")):
            if isinstance(slug, str) and slug and slug not in out:
                out.append(slug)
    return out


def terms_of(reasons: Any) -> list[tuple[str, str]]:
    """(term, reason code) pairs to highlight in the comment's text: the ``terms`` of each reason, or for a
    row written before reasons were data, the terms its message quoted."""
    out: list[tuple[str, str]] = []
    for r in reasons if isinstance(reasons, list) else []:
        if not isinstance(r, dict):
            continue
        code = str(r.get("attribute") or r.get("code", ""))
        code = "abuse" if code not in ("spam", "banned_word", "suspect_word") and "attribute" in r else code
        if "outcome" in r:
            out += [(str(t), code) for t in r.get("terms", ()) if isinstance(t, str)]
        else:
            out += _legacy_terms(r)
    return out


_QUOTED = re.compile(r"'([^']{1,100})'")


def _legacy_terms(r: Reason) -> list[tuple[str, str]]:
    """Highlight terms of a reason written before reasons were data (``{"code", "message"}`` only): the
    quoted word-list hits, and the model's quoted terms after ' — '."""
    code, message = str(r.get("code", "")), str(r.get("message", ""))
    if code in ("banned_word", "suspect_word"):
        return [(t, code) for t in _QUOTED.findall(message)]
    if code in ("spam", "abuse") and " — " in message:
        # model terms are quoted ('free'); unquoted ones name features (URL, money amount), not words
        return [(t, code) for t in _QUOTED.findall(message.split(" — ", 1)[1])]
    return []


def moderator(action: str, outcome: str, note: str | None) -> Reason:
    """A moderator's decision as the reason the CMS is told (instead of the model's earlier reasons)."""
    return make("moderator", outcome, action=action, note=note)


def outcome_of_status(status: str) -> str:
    return {"approved": "published", "pending": "held", "spam": "spam", "rejected": "rejected",
            "deleted": "deleted"}[status]
