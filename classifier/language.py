"""Offline language detection: Unicode script first, then py3langid for Latin and Cyrillic text.

Why this shape: the model has heads for English, Arabic and Korean.  Arabic and Hangul are told by
their script alone (no identifier needed, and no identifier is reliable on a three-word comment);
any other non-Latin script names its language directly (Han -> zh, kana -> ja, Greek -> el, ...).
Latin-script text is English unless py3langid (a maintained fork of langid.py that ships its
naive-Bayes model inside the package, ~30 µs per comment, no download) is confident it is not:
a news site's comment section is mostly in its own language, and calling a terse English comment
("lol ok") Volapük would hold a civil reader as "unsupported language".  Texts with no letters
("👍", "12345") are ``"und"``: they carry no language, and the English heads score them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

UNDETERMINED = "und"

# Languages py3langid may answer for Latin/Cyrillic text (restricting its 97 languages removes the
# noise of rare ones on short text: 'vo', 'la', 'an' ...; measured in classifier/README.md).
LATIN_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "sk", "sl", "hr", "hu",
    "ro", "tr", "id", "ms", "tl", "vi", "sq", "lt", "lv", "et", "ca", "eu", "gl", "af", "sw", "is", "cy",
)
CYRILLIC_LANGUAGES = ("ru", "uk", "bg", "sr", "mk", "be", "kk")
# Below this confidence (or below MIN_WORDS words) Latin-script text stays English.
MIN_CONFIDENCE = 0.95
MIN_WORDS = 4
# Share of a text's words that are common English function words above which it is English, without
# asking the identifier (most comments; it saves the identifier's cost and its short-text mistakes).
_ENGLISH_SHARE = 0.2
_ENGLISH_WORDS = frozenset(
    "the a an and or but of to in on at for with from by about as is are was were be been being have has had "
    "do does did not no this that these those it its i you he she we they me him her us them my your his our "
    "their what which who whom why how when where there here so if than then too very can could would should "
    "will just also only all any some more most such own same other into over after before because while".split()
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# Scripts by the first word of the Unicode character name -> the language they imply (None: ask langid).
_SCRIPT_LANGUAGE = {
    "ARABIC": "ar", "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "CJK": "zh", "GREEK": "el",
    "HEBREW": "he", "DEVANAGARI": "hi", "BENGALI": "bn", "THAI": "th", "TAMIL": "ta", "TELUGU": "te",
    "GEORGIAN": "ka", "ARMENIAN": "hy", "ETHIOPIC": "am", "GUJARATI": "gu", "GURMUKHI": "pa", "KANNADA": "kn",
    "MALAYALAM": "ml", "SINHALA": "si", "KHMER": "km", "LAO": "lo", "MYANMAR": "my", "TIBETAN": "bo",
    "LATIN": None, "CYRILLIC": None,
}


@lru_cache(maxsize=4096)
def _script_of(ch: str) -> str | None:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    head = name.split(" ", 1)[0]
    if head == "FULLWIDTH" or head == "HALFWIDTH":  # "FULLWIDTH LATIN SMALL LETTER A"
        head = name.split(" ", 2)[1]
    return head if head in _SCRIPT_LANGUAGE else "OTHER"


def script_counts(text: str) -> dict[str, int]:
    """Letters per script (``str.isalpha`` characters only)."""
    counts: dict[str, int] = {}
    if text.isascii():
        n = sum(map(str.isalpha, text))
        return {"LATIN": n} if n else {}
    for ch in text:
        if ch.isalpha():
            script = _script_of(ch)
            if script is not None:
                counts[script] = counts.get(script, 0) + 1
    return counts


_identifiers: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def _identifier(languages: tuple[str, ...]) -> Any:
    """py3langid's identifier restricted to ``languages`` (loaded once per set, ~0.8 s; thread-safe)."""
    ident = _identifiers.get(languages)
    if ident is None:
        with _lock:
            ident = _identifiers.get(languages)
            if ident is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ident.set_languages(list(languages))
                _identifiers[languages] = ident
    return ident


def detect(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, or ``"und"`` (no letters, or an unknown script)."""
    counts = script_counts(text)
    if not counts:
        return UNDETERMINED
    script = max(counts, key=lambda s: (counts[s], s))
    if script == "CJK" and (counts.get("HIRAGANA", 0) or counts.get("KATAKANA", 0)):
        return "ja"
    if script not in ("LATIN", "CYRILLIC"):
        return _SCRIPT_LANGUAGE.get(script) or UNDETERMINED
    words = _WORD_RE.findall(text.lower())
    if script == "LATIN":
        if len(words) < MIN_WORDS or sum(w in _ENGLISH_WORDS for w in words) >= _ENGLISH_SHARE * len(words):
            return "en"
        lang, confidence = _identifier(LATIN_LANGUAGES).classify(text)
        return str(lang) if confidence >= MIN_CONFIDENCE else "en"
    lang, _ = _identifier(CYRILLIC_LANGUAGES).classify(text)
    return str(lang)


def detect_many(texts: list[str]) -> list[str]:
    return [detect(t) for t in texts]
