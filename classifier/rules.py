"""Deterministic word-list rules (pure functions, no I/O).

The service keeps banned/suspect word lists in Postgres and builds a :class:`WordLists` from
them.  Matching is done on :func:`normalise`-d text so that the common evasion tricks
(leetspeak, accents, "i d i o t", "i.d.i.o.t", "idiooooot") do not get past a list, while
word boundaries are respected so that "class" never hits "ass".
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = ["RuleHit", "WordLists", "normalise", "repeat_fingerprint"]

# Characters that stand in for letters.  Only applied inside tokens that also contain at least
# one real letter, so that plain numbers ("1000 people", "2024") stay numbers.
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "+": "t",
        "|": "l",
        "€": "e",
        "£": "l",
    }
)
# Typographic look-alikes that NFKD does not fold.
_CONFUSABLES = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})

# A run of >= 3 single characters separated by one separator: "i d i o t", "i.d.i.o.t", "f-u-c-k".
_SPACED = re.compile(r"(?<![\w@$])(?:[\w@$][ .\-_*,/]){2,}[\w@$](?![\w@$])")
_SEP = re.compile(r"[ .\-_*,/]")
_TOKEN = re.compile(r"[\w@$+|€£!]+")
_REPEAT3 = re.compile(r"(\D)\1{2,}")  # digits are left alone: "1000" stays
_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)
_WS = re.compile(r"\s+")
_BANG_IN_WORD = re.compile(r"(?<=[a-z])!(?=[a-z])")
_PUNCT = re.compile(r"[^\w\s]")


# Only tokens containing a character that _deleet_token can change are worth a Python callback:
# the same maximal runs as _TOKEN (the look-behind pins each match to a run's start, keeping the
# scan linear), restricted to runs holding a _LEET key or "!".
_LEET_TOKEN = re.compile(r"(?<![\w@$+|€£!])[\w@$+|€£!]*[013457-9@$+|€£!][\w@$+|€£!]*")
_LEET_CHAR = re.compile(r"[013457-9@$+|€£!]")


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    """``str.translate`` table deleting every code point with a non-zero combining class (built once, ~0.1 s)."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def _strip_accents(text: str) -> str:
    if text.isascii():  # NFKD leaves ASCII alone and ASCII has no combining marks
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


def _deleet_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if not any(ch.isalpha() for ch in token):
        return token
    token = _BANG_IN_WORD.sub("i", token)
    # Leading "@"/"$" of a mention or price is translated too; that is harmless for matching.
    return token.translate(_LEET)


@lru_cache(maxsize=256)   # one comment is normalised by the lexicon, the phrases and the signals in turn
def normalise(text: str) -> str:
    """Fold text into the canonical form used for word-list matching and fingerprints.

    Steps: NFKD + drop combining marks (accents), case-fold, join letters spaced out with single
    separators, undo leetspeak inside words, collapse runs of 3+ identical characters to 2,
    collapse whitespace.  Runs are collapsed to two (not one) so real double letters survive
    ("ass", "good"); :class:`WordLists` patterns additionally accept any run length >= the
    term's own, so "idiooot" still matches "idiot".
    """
    text = _strip_accents(text).casefold()
    if not text.isascii():  # every _CONFUSABLES key is non-ASCII
        text = text.translate(_CONFUSABLES)
    text = _SPACED.sub(lambda m: _SEP.sub("", m.group(0)), text)
    if _LEET_CHAR.search(text):
        text = _LEET_TOKEN.sub(_deleet_token, text)
    if _TRIPLE.search(text):  # a cheap necessary condition for _REPEAT3
        text = _REPEAT3.sub(r"\1\1", text)
    return _WS.sub(" ", text).strip()


def repeat_fingerprint(text: str) -> str:
    """sha1 hex of the normalised text with punctuation dropped and whitespace collapsed.

    Used by the service to spot the same comment posted by many authors; punctuation and
    spacing variations of the same text deliberately collide.
    """
    return fingerprint_normalised(normalise(text))


def fingerprint_normalised(norm: str) -> str:
    """:func:`repeat_fingerprint` of text already passed through :func:`normalise`."""
    norm = _PUNCT.sub(" ", norm)
    norm = _WS.sub(" ", norm).strip()
    return hashlib.sha1(norm.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class RuleHit:
    """One word-list match: which list (``"banned"`` or ``"suspect"``) and the list's term."""

    list: Literal["banned", "suspect"]
    term: str


def _term_pattern(term: str) -> str | None:
    """Regex for one list term: normalised, whitespace-flexible, repeat-tolerant, word-bounded."""
    parts = _term_parts(term)
    if parts is None:
        return None
    first, n, rest = parts
    body = (f"{first}+" if n == 1 else f"{first}{{{n},}}") + rest
    # An optional plural ending: "idiot" also hits "idiots", never "idiotic".
    return rf"(?<!\w){body}(?:e?s)?(?!\w)"


def _any_alternative(term: str) -> str | None:
    """:func:`_term_pattern` rewritten to start with a literal character, for :attr:`WordLists._any`.

    ``(?<!\\w)c+`` and ``c(?<!\\w.)c*`` match the same strings at the same places (the look-behind
    moves past the consumed ``c``), but only the second form lets ``re`` see the set of characters a
    match can start with: it then skips every other position in C instead of trying each term at
    every position of the text (~10x faster on ordinary comments, which hit no term)."""
    parts = _term_parts(term)
    if parts is None:
        return None
    first, n, rest = parts
    return rf"{first}(?<!\w[\s\S]){first}{{{n - 1},}}{rest}(?:e?s)?(?!\w)"


def _term_parts(term: str) -> tuple[str, int, str] | None:
    """A term's pattern pieces: its first character (escaped), that character's run length, the rest."""
    norm = normalise(term)
    if not norm:
        return None
    parts: list[str] = []
    first: tuple[str, int] | None = None
    for word in norm.split(" "):
        pieces: list[str] = []
        for run in re.finditer(r"(.)\1*", word):
            ch, n = run.group(1), len(run.group(0))
            esc = re.escape(ch)
            if first is None:
                first = (esc, n)
                continue
            pieces.append(f"{esc}+" if n == 1 else f"{esc}{{{n},}}")
        parts.append("".join(pieces))
    assert first is not None
    rest = r"[\s\W_]*".join(parts) if len(parts) > 1 else parts[0]
    return first[0], first[1], rest


class WordLists:
    """Compiled banned/suspect lists.  Immutable after construction; safe to share across threads."""

    def __init__(self, banned: Iterable[str] = (), suspect: Iterable[str] = ()) -> None:
        self._entries: list[tuple[Literal["banned", "suspect"], str, re.Pattern[str]]] = []
        seen: set[tuple[str, str]] = set()
        for list_name, terms in (("banned", banned), ("suspect", suspect)):
            for term in terms:
                term = term.strip()
                key = (list_name, normalise(term))
                if not term or key in seen:
                    continue
                pattern = _term_pattern(term)
                if pattern is None:
                    continue
                seen.add(key)
                self._entries.append((list_name, term, re.compile(pattern)))  # type: ignore[arg-type]
        # One pass over the text rules out every term at once: most comments hit no list.
        alternatives = [_any_alternative(term) for _, term, _ in self._entries]
        self._any = re.compile("|".join(f"(?:{alt})" for alt in alternatives)) if self._entries else None

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, text: str, *, normalised: str | None = None) -> list[RuleHit]:
        """All list terms found in ``text`` (banned first, each term at most once).

        ``normalised`` is ``normalise(text)`` when the caller already has it (intake also fingerprints)."""
        if self._any is None:
            return []
        norm = normalise(text) if normalised is None else normalised
        if not self._any.search(norm):
            return []
        return [RuleHit(name, term) for name, term, rx in self._entries if rx.search(norm)]
