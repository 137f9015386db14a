"""Undo deliberate misspellings of abusive words before featurisation ("idoit", "trsh", "istrash", "I h a t e").

Why: a reader who wants past a filter swaps two letters, drops one or runs two words together; the word
n-grams then see a word they never saw in training and the character n-grams only part of one.  Measured
on the functional suite (2026-12-03, model 2026.12.03-c46d7562): the same templates were held 59 of 65
times when spelled right, but only 12 % with a dropped or swapped character or removed spaces.

How, and why it does not touch ordinary words: only a token that is *not* an English word (the word list of
``pyspellchecker``, 160k words with their frequencies in OpenSubtitles, shipped in its wheel) is ever
changed, and only into one of :data:`TARGETS` (abusive words from :mod:`classifier.lexicon` and a few more),
when it is exactly one edit away from it: an adjacent swap, a dropped letter or an added letter.  A token
that is two words run together ("istrash", "youidiot", "hatedeaf") is split where one part is a target and
the other an English word, and letters spaced out are joined when they spell a target ("I h a t e").  The
rules are deterministic and per token (cached).  A capitalised word ("Stabenow", "Nazir") is taken for a
name and left alone; so is every word the list has ("Moran" is a surname in it) and every non-ASCII token
(Arabic, Korean, accented names).
"""

from __future__ import annotations

import re
from functools import lru_cache

from classifier.lexicon import INSULTS, PROFANITY

# Words whose misspelling is a way around a filter.  Multi-word lexicon entries are left out (each of
# their words is matched on its own where it matters); two- and three-letter words are too close to
# ordinary words to repair ("as" -> "ass").
_EXTRA = (
    "hate", "hateful", "hating", "despise", "loathe", "disgusting", "disgust", "revolting", "repulsive",
    "vile", "kill", "killed", "killing", "murder", "shoot", "stab", "hang", "lynch", "rape", "die", "trash",
    "filth", "scum", "vermin", "animals", "idiots", "morons", "losers", "stupidity", "inferior", "subhuman",
    "cockroaches", "parasites", "rats", "pigs", "dogs", "apes", "monkeys", "savages", "terrorists",
)
TARGETS: frozenset[str] = frozenset(
    w for w in (*INSULTS, *PROFANITY, *_EXTRA) if " " not in w and len(w) >= 4 and w.isalpha()
)
_TOKEN_RE = re.compile(r"[A-Za-z]{3,}")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (loaded once per process, ~0.2 s)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", case_sensitive=False).word_frequency.dictionary)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _swaps(word: str) -> set[str]:
    return {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1) if word[i] != word[i + 1]}


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """Misspelling -> target, for a dropped letter or an adjacent swap of a target; ambiguous ones dropped.

    A three-letter misspelling must keep the target's first and last letters ("hte", "fck"; not "cum" for
    "scum" or "foo" for "fool"), and plurals are never shortened to three ("tis" is not "tits")."""
    out: dict[str, str | None] = {}
    for target in sorted(TARGETS):
        for v in _deletions(target) | _swaps(target):
            if v == target or v in TARGETS:
                continue
            if len(v) == 3 and (v[0] != target[0] or v[-1] != target[-1] or target.endswith("s")):
                continue
            out[v] = target if out.get(v, target) == target else None
    return {v: t for v, t in out.items() if t is not None}


# Short words that run into the next or previous one ("istrash", "ihate", "offuck"); any other English word
# part must have three letters or more ("dumbed" is not "dumb ed").
_SHORT_WORDS = frozenset("i u a is am an of in on to it at be me my we ur so go no or as by he".split())


def _word_part(part: str, known: frozenset[str]) -> bool:
    return part in _SHORT_WORDS or (len(part) >= 3 and part in known) or part in TARGETS


def _split(token: str, known: frozenset[str]) -> str | None:
    """``"istrash"`` -> ``"is trash"``: one part a target, the other an English word (the longest target wins)."""
    best: tuple[int, str] | None = None
    for i in range(1, len(token)):
        a, b = token[:i], token[i:]
        if a in TARGETS and _word_part(b, known):
            cand = (len(a), f"{a} {b}")
        elif b in TARGETS and _word_part(a, known):
            cand = (len(b), f"{a} {b}")
        else:
            continue
        if best is None or cand[0] > best[0]:
            best = cand
    return best[1] if best else None


@lru_cache(maxsize=8192)
def repair_token(token: str) -> str:
    """One ASCII letter token, lower-cased: the target it misspells, its two words, or itself."""
    low = token.lower()
    known = english_words()
    if low in TARGETS or low in known:
        return token
    hit = _variants().get(low)
    if hit is None and low.endswith("s") and len(low) > 4:  # a misspelt plural: "idoits"
        stem = _variants().get(low[:-1])
        hit = stem + "s" if stem else None
    if hit is not None:
        return hit
    if len(low) >= 5:  # before the added-letter rule: "ihate" is "i hate", not "hate"
        split = _split(low, known)
        if split is not None:
            return split
    # an added letter, not in front ("idiiot", "trassh", "fucka"; not "plame" or "thang")
    near = {low[:i] + low[i + 1:] for i in range(1, len(low))} & TARGETS
    return near.pop() if len(near) == 1 else token


# Letters spaced out with single separators ("h a t e", "I h a t e", "t.r.a.s.h"); joined only when the
# result is a target (or "I"/"u" + a target), so "a b c" and initials stay as they are.
_SPACED_LETTERS_RE = re.compile(r"(?<!\w)(?:[A-Za-z][ .\-_*]){2,}[A-Za-z](?!\w)")
_NOT_LETTER_RE = re.compile(r"[^A-Za-z]")


def _join_spaced(match: re.Match[str]) -> str:
    letters = _NOT_LETTER_RE.sub("", match.group(0))
    low = letters.lower()
    if low in TARGETS:
        return letters
    if low[0] in "iu" and low[1:] in TARGETS:
        return f"{letters[0]} {letters[1:]}"
    return match.group(0)


def _join_after_article(match: re.Match[str]) -> str:
    letters = _NOT_LETTER_RE.sub("", match.group(0))
    if letters[0] in "aA" and letters[1:].lower() in TARGETS:
        return f"{letters[0]} {letters[1:]}"
    return match.group(0)


def join_spaced_after_article(text: str) -> str:
    """Text version 5: "You are a m o r o n" -> "You are a moron".  The spaced run swallows the article, and
    :func:`repair` (versions 3-4) joins only "I"/"u" + a target, so the later spacing rule made it "amoron"."""
    if not _SPACED_LETTERS_RE.search(text):
        return text
    return _SPACED_LETTERS_RE.sub(_join_after_article, text)


def _repair_word(token: str) -> str:
    if token[0].isupper() and not token.isupper():  # a name ("Stabenow", "Nazir") or a sentence's first word
        return token
    return repair_token(token)


def _repair_match(match: re.Match[str]) -> str:
    return _repair_word(match.group(0))


@lru_cache(maxsize=1)
def kept_words() -> frozenset[str]:
    """Lower-cased words :func:`repair_token` returns unchanged: English words and the targets (built once)."""
    return english_words() | TARGETS


def _unchanged(text: str) -> bool:
    """True when :func:`_repair_match` leaves every token of ``text`` as it is (most comments); then the
    per-token Python callback of ``_TOKEN_RE.sub``, most of :func:`repair`'s cost, is skipped.

    :func:`repair_token` changes a token exactly when it changes the token's lower-case form (every branch
    depends on ``token.lower()`` only, and what it writes is never that form), so the distinct lower-cased
    tokens that are neither English words nor targets, set arithmetic in C, are all that need a look."""
    # ASCII: lower-casing first finds the same tokens (it maps letters to letters only), lower-cased, in one call
    tokens = _TOKEN_RE.findall(text.lower()) if text.isascii() else map(str.lower, _TOKEN_RE.findall(text))
    unknown = set(tokens).difference(kept_words())
    return all(repair_token(w) == w for w in unknown)


@lru_cache(maxsize=256)  # one comment is repaired for its n-grams, its lexicon features and its phrase rule
def repair(text: str) -> str:
    """``text`` with every misspelt abusive word (see the module docstring) written right."""
    if _SPACED_LETTERS_RE.search(text):
        text = _SPACED_LETTERS_RE.sub(_join_spaced, text)
    if _unchanged(text):
        return text
    return _TOKEN_RE.sub(_repair_match, text)


@lru_cache(maxsize=256)
def respellings(text: str) -> dict[str, str]:
    """Each target word that :func:`repair` wrote into ``text``, lower-cased -> the reader's own spelling.

    Explanations quote the reader's spelling ("'idoit'", "'istrash'", "'I h a t e'"), so a moderator sees
    and the queue highlights the word that is actually in the comment; a target also spelt right in the
    text is left out (it is quoted as written)."""
    out: dict[str, str] = {}
    if repair(text) == text and join_spaced_after_article(text) == text:  # nothing respelt (repair is cached)
        return out
    for m in _SPACED_LETTERS_RE.finditer(text):
        joined, spelt = _join_spaced(m), m.group(0)
        if joined == spelt:  # "a m o r o n": the reader's spelling of "moron" is "m o r o n"
            joined = _join_after_article(m)
            spelt = spelt[2:]
        if joined != m.group(0):
            out.setdefault(joined.split()[-1].lower(), spelt)
    for m in () if _unchanged(text) else _TOKEN_RE.finditer(text):
        fixed = _repair_match(m)
        if fixed != m.group(0):
            for word in fixed.lower().split():
                if word in TARGETS:
                    out.setdefault(word, m.group(0))
    if out:
        literal = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        out = {k: v for k, v in out.items() if k not in literal}
    return out
