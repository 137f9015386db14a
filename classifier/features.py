"""Text cleaning and feature extraction shared by training and scoring.

Features are chosen to carry across domains (tweets, SMS, YouTube, Wikipedia talk -> news
comments): word 1-2-grams, character 2-5-grams inside word boundaries (robust to spelling,
slang and obfuscation), and a handful of dense "shape" features (URL, phone, e-mail, money,
repetition, case and symbol ratios).  Source-specific artefacts (tweet ``RT``, ``@mentions``,
HTML entities) are neutralised so that the model does not learn "looks like a tweet".
"""

from __future__ import annotations

import html
import re
import unicodedata

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.lexicon import LEXICON_NAMES, lexicon_features

URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\bwatch\?v=\S+"
    # bounded label lengths/counts keep this linear on adversarial input like "a-a-a-a-..."
    r"|\b[a-z0-9][a-z0-9-]{0,62}(?:\s{0,2}\.\s{0,2}[a-z0-9-]{1,63}){0,4}\s{0,2}\.\s{0,2}(?:com|net|org|info|biz|ly|io|tv|co\.uk|ru)\b(?:/\S*)?",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}\b")
MENTION_RE = re.compile(r"(?<!\w)@\w+")
PHONE_RE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")
MONEY_RE = re.compile(r"[£$€]\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:pounds?|dollars?|usd|gbp|eur|euros?|bucks)\b", re.IGNORECASE)
RT_RE = re.compile(r"(?:^|\s)RT\s*:?\s", re.IGNORECASE)
REPEAT_RE = re.compile(r"(\D)\1{2,}")
WS_RE = re.compile(r"\s+")
HREF_RE = re.compile(r"<a\s[^>]*href=[\"']([^\"']+)[\"'][^>]*>", re.IGNORECASE)
TAG_RE = re.compile(r"</?[a-z][^>]{0,200}>", re.IGNORECASE)
# "i d i o t", "i.d.i.o.t": >= 3 single letters separated by single separators get joined.
SPACED_RE = re.compile(r"(?<!\w)(?:[^\W\d_][ .\-_*]){2,}[^\W\d_](?!\w)")
SEP_RE = re.compile(r"[ .\-_*]")
WORD_RE = re.compile(r"\w+")
# A leetspeak word: a digit/@/$ run *between* letters ("st00pid", "b1tch", "1d10t" via "d10t").
# Codes like "150p", "mp3", "2nite" are left alone: they are real signal in SMS spam.
LEET_WORD_RE = re.compile(r"\b\w*[^\W\d_][0-9@$]+[^\W\d_]\w*\b")
_LEET_MAP = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def deleet(text: str) -> str:
    """Undo leetspeak inside words only (see :data:`LEET_WORD_RE`)."""
    return LEET_WORD_RE.sub(lambda m: m.group(0).translate(_LEET_MAP), text)


# Placeholder tokens put in place of entities before vectorising; mapped to readable reasons.
TOKEN_NAMES = {"xurlx": "URL", "xemailx": "e-mail address", "xphonex": "phone number", "xmoneyx": "money amount"}

# Texts are cut to this many characters before featurisation: bounds CPU per comment (and the
# regexes' worst case on adversarial input); the "long text" feature already saturates at 2000.
MAX_CHARS = 4000

# Contributions (log-odds) below this are noise, not a "reason".
MIN_REASON_CONTRIBUTION = 0.02

DENSE_NAMES = [
    "URL",
    "several URLs",
    "e-mail address",
    "phone number",
    "money amount",
    "ALL CAPS",
    "many '!'",
    "repeated words",
    "repeated characters",
    "many digits",
    "many symbols",
    "long text",
    "very short text",
    *LEXICON_NAMES,
]


_GROUPED_NUMBER_RE = re.compile(r"\d{1,3}(?:[,.]\d{3})+")


def _is_phone(s: str) -> bool:
    """>= 7 digits and not a thousands-grouped number like "2,124,923,004" (view counts)."""
    return sum(c.isdigit() for c in s) >= 7 and not _GROUPED_NUMBER_RE.fullmatch(s.strip())


def _count_phones(text: str) -> int:
    return sum(1 for m in PHONE_RE.finditer(text) if _is_phone(m.group(0)))


def clean_text(text: str) -> str:
    """Model-side cleaning (keeps case; the vectorisers lowercase).

    Entities become placeholder tokens so that "http://bit.ly/x" and "www.foo.com" share
    evidence, and tweet mentions/RT markers are removed.
    """
    text = html.unescape(html.unescape(text))
    text = HREF_RE.sub(r" \1 ", text)
    text = TAG_RE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = EMAIL_RE.sub(" xemailx ", text)
    text = URL_RE.sub(" xurlx ", text)
    text = MENTION_RE.sub(" ", text)
    text = RT_RE.sub(" ", text)
    text = MONEY_RE.sub(lambda m: " xmoneyx " + m.group(0) + " ", text)
    text = PHONE_RE.sub(lambda m: " xphonex " if _is_phone(m.group(0)) else m.group(0), text)
    text = deleet(text)
    text = REPEAT_RE.sub(r"\1\1", text)
    text = SPACED_RE.sub(lambda m: SEP_RE.sub("", m.group(0)), text)
    return WS_RE.sub(" ", text).strip()


def dense_features(raw: str) -> list[float]:
    """Shape features of the raw text, each scaled to roughly [0, 1]."""
    text = TAG_RE.sub(" ", HREF_RE.sub(r" \1 ", html.unescape(raw)))
    text_no_mentions = MENTION_RE.sub(" ", text)
    n_urls = len(URL_RE.findall(text))
    letters = [c for c in text_no_mentions if c.isalpha()]
    n_letters = len(letters)
    caps = sum(1 for c in letters if c.isupper()) / n_letters if n_letters >= 12 else 0.0
    n_chars = max(len(text), 1)
    words = [w.lower() for w in WORD_RE.findall(text_no_mentions)]
    rep_words = 1.0 - len(set(words)) / len(words) if len(words) >= 6 else 0.0
    rep_chars = min(len(REPEAT_RE.findall(text)) / 3.0, 1.0)
    digits = sum(c.isdigit() for c in deleet(text)) / n_chars
    symbols = sum(1 for c in text if not (c.isalnum() or c.isspace())) / n_chars
    return [
        1.0 if n_urls else 0.0,
        1.0 if n_urls >= 2 else 0.0,
        1.0 if EMAIL_RE.search(text) else 0.0,
        1.0 if _count_phones(text) else 0.0,
        1.0 if MONEY_RE.search(text) else 0.0,
        max(0.0, (caps - 0.5) * 2.0),
        min(text.count("!") / 5.0, 1.0),
        rep_words,
        rep_chars,
        min(digits * 5.0, 1.0),
        min(symbols * 4.0, 1.0),
        min(max(0.0, len(text) - 600) / 1400.0, 1.0),
        1.0 if len(words) <= 3 else 0.0,
        *lexicon_features(text),
    ]


VECTORIZER_PARAMS: dict[str, dict[str, object]] = {
    "word": {
        "analyzer": "word",
        "ngram_range": (1, 2),
        "token_pattern": r"(?u)\b\w+\b",
        "min_df": 2,
        "max_features": 40000,
        "sublinear_tf": True,
    },
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 3, "max_features": 80000, "sublinear_tf": True},
}
# Only these parameters matter once the vocabulary is fixed; they are stored in the artefact.
_RUNTIME_PARAMS = ("analyzer", "ngram_range", "token_pattern", "sublinear_tf")


def make_vectorizers() -> dict[str, TfidfVectorizer]:
    """Unfitted vectorisers with bounded vocabularies (keeps the artefact a few MB)."""
    return {k: TfidfVectorizer(dtype=np.float32, **v) for k, v in VECTORIZER_PARAMS.items()}  # type: ignore[arg-type]


def vectorizer_state(vec: TfidfVectorizer) -> dict[str, object]:
    """Plain-data state of a fitted vectoriser: runtime params, terms (newline-joined), idf.

    Storing the vocabulary as one string keeps the skops file small and free of any object
    types (skops would otherwise write one entry per vocabulary item).
    """
    params = vec.get_params()
    terms = vec.get_feature_names_out().tolist()
    assert not any("\n" in t for t in terms)
    return {
        "params": {k: (list(params[k]) if isinstance(params[k], tuple) else params[k]) for k in _RUNTIME_PARAMS},
        "terms": "\n".join(terms),
        "idf": np.asarray(vec.idf_, dtype=np.float32),
    }


def vectorizer_from_state(state: dict[str, object]) -> TfidfVectorizer:
    params = dict(state["params"])  # type: ignore[call-overload]
    params["ngram_range"] = tuple(params["ngram_range"])
    terms = str(state["terms"]).split("\n")
    vec = TfidfVectorizer(dtype=np.float32, vocabulary={t: i for i, t in enumerate(terms)}, **params)
    vec.idf_ = np.asarray(state["idf"], dtype=np.float64)
    return vec


class FeatureSpace:
    """Fitted vectorisers + dense features -> one CSR matrix; also maps columns to readable names."""

    DENSE_SCALE = 1.0

    def state(self) -> dict[str, object]:
        return {"word": vectorizer_state(self.word), "char": vectorizer_state(self.char)}

    @classmethod
    def from_state(cls, state: dict[str, dict[str, object]]) -> FeatureSpace:
        return cls(vectorizer_from_state(state["word"]), vectorizer_from_state(state["char"]))

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer) -> None:
        self.word = word
        self.char = char
        self.word_names = word.get_feature_names_out()
        self.char_names = char.get_feature_names_out()
        self.n_word = len(self.word_names)
        self.n_char = len(self.char_names)
        self.n_dense = len(DENSE_NAMES)
        self.n_features = self.n_word + self.n_char + self.n_dense

    @classmethod
    def fit_transform(cls, texts: list[str]) -> tuple[FeatureSpace, sp.csr_matrix]:
        """Fit the vectorisers on ``texts`` and return the space plus their feature matrix."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t) for t in texts]
        vecs = make_vectorizers()
        xw = vecs["word"].fit_transform(cleaned)
        xc = vecs["char"].fit_transform(cleaned)
        for vec in vecs.values():
            vec.stop_words_ = None  # every pruned n-gram; large and unused
        space = cls(vecs["word"], vecs["char"])
        return space, space._stack(xw, xc, texts)

    def _stack(self, xw: sp.spmatrix, xc: sp.spmatrix, texts: list[str]) -> sp.csr_matrix:
        xd = sp.csr_matrix(np.asarray([dense_features(t) for t in texts], dtype=np.float32) * self.DENSE_SCALE)
        return sp.hstack([xw, xc, xd], format="csr", dtype=np.float32)

    def transform(self, texts: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        """Feature matrix for ``texts`` plus their cleaned form (used to phrase explanations)."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t) for t in texts]
        xw = self.word.transform(cleaned)
        xc = self.char.transform(cleaned)
        return self._stack(xw, xc, texts), cleaned

    def explain(self, row: sp.csr_matrix, coef: np.ndarray, cleaned: str, k: int = 5) -> list[str]:
        """Top positive contributors for one document, in human-readable form.

        Word n-grams are shown quoted; character n-grams are attributed to the words of the
        (cleaned) text that contain them, so the reader sees "'idiot'" rather than "'dio'".
        """
        idx = row.indices
        contrib = row.data * coef[idx]
        pos = contrib > 0
        if not pos.any():
            return []
        idx, contrib = idx[pos], contrib[pos]
        scores: dict[str, float] = {}
        words: list[str] | None = None
        order = np.argsort(-contrib)[:40]
        for j in order:
            col, c = int(idx[j]), float(contrib[j])
            if col < self.n_word:
                term = str(self.word_names[col])
                label = TOKEN_NAMES.get(term) or f"'{term}'"
                scores[label] = scores.get(label, 0.0) + c
            elif col < self.n_word + self.n_char:
                gram = str(self.char_names[col - self.n_word])
                if words is None:
                    words = cleaned.lower().split()
                owners = [w for w in words if gram in f" {w} "]
                if not owners:
                    continue
                share = c / len(owners)
                for w in owners:
                    w = w.strip(".,!?;:\"'()[]{}*")
                    if len(w) < 2:
                        continue
                    label = TOKEN_NAMES.get(w) or f"'{w}'"
                    scores[label] = scores.get(label, 0.0) + share
            else:
                label = DENSE_NAMES[col - self.n_word - self.n_char]
                scores[label] = scores.get(label, 0.0) + c
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [name for name, val in ranked[:k] if val > MIN_REASON_CONTRIBUTION]
