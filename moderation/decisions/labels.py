"""Moderators' decisions (and the compat protocols' feedback) as per-attribute training labels.

A moderator's action says something about spam or abuse; their reason says which abuse:

==============  ==========================================================================================
action          labels
==============  ==========================================================================================
``spam``        spam = 1
``not_spam``    spam = 0
``approve``     spam = 0 and every abuse attribute = 0 (a published comment is neither)
``reject``      from the reason's words: "threat" → threat = 1, toxicity = 1; "insult", "personal attack" →
                insult; "racist", "slur", "hate" … → identity_attack; "obscene", "swearing" … → profanity;
                "sexual", "explicit" → sexually_explicit; "severe", "extreme" → severe_toxicity (each with
                toxicity = 1); "spam", "advert" → spam = 1; a reason naming none of them ("off topic",
                no reason) → toxicity = 1 unless it says off topic / duplicate, which label nothing
==============  ==========================================================================================

An attribute the decision says nothing about is left empty (unknown): the trainer does not train that
head on the row (``classifier.corpus.load_labelled_decisions``, the CSV format agreed in NOTES).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ATTRIBUTES = ("spam", "toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity",
              "sexually_explicit")
ABUSE = ATTRIBUTES[1:]
COLUMNS = ("text", "language", "label", *ATTRIBUTES)

# (words a moderator's reason may use, attributes they name); matched as word prefixes, case-insensitive
REASON_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("threat", "violen", "kill", "shoot", "shot", "murder", "death", "harm"), ("threat",)),
    (("insult", "personal attack", "name-calling", "name calling", "abusive", "attacks another", "troll"),
     ("insult",)),
    (("racis", "sexis", "homophob", "transphob", "antisemit", "islamophob", "bigot", "hate", "slur", "identity",
      "xenophob", "dehumani"), ("identity_attack",)),
    (("obscen", "profan", "swear", "vulgar", "curs"), ("profanity",)),
    (("sexual", "explicit", "porn", "lewd"), ("sexually_explicit",)),
    (("severe", "extreme"), ("severe_toxicity",)),
)
SPAM_WORDS = ("spam", "advert", "promotion", "scam", "phishing")
NO_ABUSE_WORDS = ("off topic", "off-topic", "duplicate", "unrelated")


def _mentions(reason: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(w)}", reason) for w in words)


def from_decision(action: str, reason: str | None) -> dict[str, int]:
    """The labels a moderator's decision gives (attribute → 1/0; a missing attribute is unknown)."""
    if action == "spam":
        return {"spam": 1}
    if action == "not_spam":
        return {"spam": 0}
    if action == "approve":
        return dict.fromkeys(ATTRIBUTES, 0)
    if action != "reject":
        return {}
    text = (reason or "").lower()
    out: dict[str, int] = {}
    for words, attributes in REASON_WORDS:
        if _mentions(text, words):
            out.update(dict.fromkeys(attributes, 1))
            out["toxicity"] = 1
    if _mentions(text, SPAM_WORDS):
        out["spam"] = 1
    if not out and not _mentions(text, NO_ABUSE_WORDS):
        out["toxicity"] = 1   # rejected for no stated reason: abusive, as before per-attribute labels
    return out


def legacy_label(labels: Mapping[str, int]) -> str:
    """The one label an older trainer reads (spam|ham|abusive|clean, the first that applies; '' if none)."""
    if labels.get("spam") == 1:
        return "spam"
    if any(labels.get(a) == 1 for a in ABUSE):
        return "abusive"
    if labels.get("spam") == 0:
        return "ham"
    if labels.get("toxicity") == 0:
        return "clean"
    return ""


def write_csv(path: Path, rows: Iterable[tuple[str, str | None, Mapping[str, Any]]]) -> int:
    """Write ``(text, language, labels)`` rows in the agreed format; rows without any label are skipped.
    Returns the number of rows written."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for text, language, labels in rows:
            known = {a: int(v) for a, v in labels.items() if a in ATTRIBUTES and v in (0, 1, True, False)}
            if not known or not text.strip():
                continue
            out.writerow([text, language or "", legacy_label(known), *(known.get(a, "") for a in ATTRIBUTES)])
            count += 1
    return count
