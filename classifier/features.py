"""Text cleaning and feature extraction shared by training and scoring.

Features are chosen to carry across domains (tweets, SMS, YouTube, Wikipedia talk -> news
comments): word 1-2-grams, character 2-5-grams inside word boundaries (robust to spelling,
slang and obfuscation), and a handful of dense "shape" features (URL, phone, e-mail, money,
repetition, case and symbol ratios).  Source-specific artefacts (tweet ``RT``, ``@mentions``,
HTML entities) are neutralised so that the model does not learn "looks like a tweet".
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

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


# Cheap necessary conditions for the costlier regexes: when one does not match, the regex it
# guards cannot match either, so it is skipped (the output is unchanged, only faster).
_DIGIT_RE = re.compile(r"\d")  # PHONE_RE and MONEY_RE both need a digit
# LEET_WORD_RE needs this very sequence (letter, digit/@/$ run, letter): unlike a bare digit ("#12", "2024",
# "5 people"), it is rare, and its search has none of LEET_WORD_RE's backtracking over \w* at every word.
_LEET_HINT_RE = re.compile(r"[^\W\d_][0-9@$]+[^\W\d_]")
# REPEAT_RE needs three equal characters in a row; this finds them ~8x faster than REPEAT_RE runs.
_TRIPLE_RE = re.compile(r"(.)\1\1", re.DOTALL)
# Exactly the characters that are neither ``str.isalnum()`` nor ``str.isspace()`` (re's \w is
# isalnum() plus "_", its \s is isspace(); checked over every code point in the tests).
_SYMBOL_RE = re.compile(r"[^\w\s]|_")
# Every URL_RE alternative contains one of these (the bare-domain one contains ".<tld>\b").
_URL_HINT_RE = re.compile(r"://|www\.|watch\?v=|\.\s{0,2}(?:com|net|org|info|biz|ly|io|tv|co\.uk|ru)\b", re.IGNORECASE)


def _count_digits(text: str) -> int:
    """``sum(c.isdigit() for c in text)``; for ASCII text ten C-level counts are much cheaper."""
    if text.isascii():
        return sum(map(text.count, "0123456789"))
    return sum(map(str.isdigit, text))


def _strip_html(text: str) -> str:
    """Keep link targets, drop tags (both patterns need a "<")."""
    if "<" not in text:
        return text
    return TAG_RE.sub(" ", HREF_RE.sub(r" \1 ", text))


def clean_text(text: str) -> str:
    """Model-side cleaning (keeps case; the vectorisers lowercase).

    Entities become placeholder tokens so that "http://bit.ly/x" and "www.foo.com" share
    evidence, and tweet mentions/RT markers are removed.
    """
    text = _strip_html(html.unescape(html.unescape(text)))
    text = unicodedata.normalize("NFKC", text)
    if "@" in text:
        text = EMAIL_RE.sub(" xemailx ", text)
    if _URL_HINT_RE.search(text):
        text = URL_RE.sub(" xurlx ", text)
    if "@" in text:
        text = MENTION_RE.sub(" ", text)
    text = RT_RE.sub(" ", text)
    if _DIGIT_RE.search(text):
        text = MONEY_RE.sub(lambda m: " xmoneyx " + m.group(0) + " ", text)
        text = PHONE_RE.sub(lambda m: " xphonex " if _is_phone(m.group(0)) else m.group(0), text)
    if _LEET_HINT_RE.search(text):
        text = deleet(text)
    if _TRIPLE_RE.search(text):
        text = REPEAT_RE.sub(r"\1\1", text)
    text = SPACED_RE.sub(lambda m: SEP_RE.sub("", m.group(0)), text)
    return WS_RE.sub(" ", text).strip()


def dense_features(raw: str) -> list[float]:
    """Shape features of the raw text, each scaled to roughly [0, 1]."""
    text = _strip_html(html.unescape(raw))
    has_at = "@" in text
    has_digit = _DIGIT_RE.search(text) is not None
    text_no_mentions = MENTION_RE.sub(" ", text) if has_at else text
    n_urls = len(URL_RE.findall(text)) if _URL_HINT_RE.search(text) else 0
    letters = "".join(filter(str.isalpha, text_no_mentions))
    n_letters = len(letters)
    caps = sum(map(str.isupper, letters)) / n_letters if n_letters >= 12 else 0.0
    n_chars = max(len(text), 1)
    words = list(map(str.lower, WORD_RE.findall(text_no_mentions)))
    rep_words = 1.0 - len(set(words)) / len(words) if len(words) >= 6 else 0.0
    rep_chars = min(len(REPEAT_RE.findall(text)) / 3.0, 1.0) if _TRIPLE_RE.search(text) else 0.0
    digits = _count_digits(deleet(text) if _LEET_HINT_RE.search(text) else text) / n_chars
    symbols = len(_SYMBOL_RE.findall(text)) / n_chars
    return [
        1.0 if n_urls else 0.0,
        1.0 if n_urls >= 2 else 0.0,
        1.0 if has_at and EMAIL_RE.search(text) else 0.0,
        1.0 if has_digit and _count_phones(text) else 0.0,
        1.0 if has_digit and MONEY_RE.search(text) else 0.0,
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


try:  # the Cython kernel behind sklearn's ``normalize(norm="l2")``: same arithmetic, no validation overhead
    from sklearn.utils.sparsefuncs_fast import _inplace_csr_row_normalize_l2 as _normalize_rows_l2
except ImportError:  # pragma: no cover - private API moved; fall back to the public wrapper
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2 as _normalize_csr_l2

    def _normalize_rows_l2(data: np.ndarray, shape: tuple[int, int], indices: np.ndarray, indptr: np.ndarray) -> None:
        _normalize_csr_l2(sp.csr_matrix((data, indices, indptr), shape=shape, copy=False))


# Characters stripped from a word before it is shown as a reason (see FeatureSpace.explain).
_REASON_STRIP = ".,!?;:\"'()[]{}*"
# Top contributors looked at per document and head before grouping them into reasons.
_EXPLAIN_TOP = 40
# Distinct lower-cased words whose char-n-gram columns are remembered (a few hundred bytes each).
_WORD_CACHE_SIZE = 1 << 16


def _supports_fast_path(vec: TfidfVectorizer, analyzer: str) -> bool:
    """True when ``vec`` is configured exactly as :class:`FeatureSpace`'s fast transform assumes."""
    p = vec.get_params()
    return (
        p["analyzer"] == analyzer
        and p["input"] == "content"
        and p["lowercase"] is True
        and p["strip_accents"] is None
        and p["preprocessor"] is None
        and p["tokenizer"] is None
        and p["stop_words"] is None
        and p["binary"] is False
        and p["norm"] == "l2"
        and p["use_idf"] is True
        and p["dtype"] is np.float32
        and (analyzer != "word" or tuple(p["ngram_range"]) == (1, 2))
    )


# Per distinct lower-cased word: its char-n-gram columns (with multiplicity), the set of them, and
# the reason label it is shown as (None when too short to be a reason).
WordInfo = tuple[np.ndarray, frozenset[int], str | None]


@dataclass(frozen=True)
class FeatureBatch:
    """One transformed batch: the CSR feature matrix plus what explanations need.

    ``words[i]`` holds the :data:`WordInfo` of each whitespace-separated word of the lower-cased
    cleaned text ``i``, in order.
    """

    x: sp.csr_matrix
    cleaned: list[str]
    words: list[list[WordInfo]]


class FeatureSpace:
    """Fitted vectorisers + dense features -> one CSR matrix; also maps columns to readable names.

    Scoring uses a fast transform that builds exactly the matrix the fitted sklearn vectorisers
    (+ :func:`dense_features`) would: the same analyzers re-implemented over a plain ``dict``
    vocabulary with per-word caching of character n-gram columns, then sklearn's own arithmetic
    for sublinear tf, idf and the l2 norm (same dtypes, same order of operations), all on flat
    numpy arrays for the whole batch.  :meth:`transform_reference` is the sklearn path, kept for
    training and for the equality tests.
    """

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
        self._sublinear = bool(word.get_params()["sublinear_tf"])
        self._fast = (
            _supports_fast_path(word, "word")
            and _supports_fast_path(char, "char_wb")
            and bool(char.get_params()["sublinear_tf"]) == self._sublinear
        )
        word_terms: list[str] = self.word_names.tolist()
        self._word_vocab = {t: i for i, t in enumerate(word_terms)}
        # Char columns are stored with their global offset, so both parts share one index space.
        self._char_vocab = {t: i + self.n_word for i, t in enumerate(self.char_names.tolist())}
        self._word_labels = [TOKEN_NAMES.get(t) or f"'{t}'" for t in word_terms]
        self._token_re = re.compile(str(word.get_params()["token_pattern"]))
        self._char_range = tuple(char.get_params()["ngram_range"])
        self._idf = np.concatenate([np.asarray(word.idf_), np.asarray(char.idf_)]) if self._fast else None
        self._word_info = lru_cache(maxsize=_WORD_CACHE_SIZE)(self._compute_word_info)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the word cache (an ``lru_cache`` wrapper does not pickle); it is rebuilt empty."""
        state = self.__dict__.copy()
        del state["_word_info"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._word_info = lru_cache(maxsize=_WORD_CACHE_SIZE)(self._compute_word_info)

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
        batch = self.transform_batch(texts)
        return batch.x, batch.cleaned

    def transform_reference(self, texts: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        """:meth:`transform` through sklearn's vectorisers (slow; the definition the fast path must equal)."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t) for t in texts]
        xw = self.word.transform(cleaned)
        xc = self.char.transform(cleaned)
        return self._stack(xw, xc, texts), cleaned

    # -- fast transform ---------------------------------------------------------------------

    def _compute_word_info(self, word: str) -> WordInfo:
        """Char-n-gram columns of one lower-cased word, exactly as sklearn's ``_char_wb_ngrams``."""
        min_n, max_n = self._char_range
        w = " " + word + " "
        w_len = len(w)
        if w_len < min_n:  # sklearn emits a word shorter than min_n once, whole
            grams = [w]
        else:  # every substring of length min_n..max_n; lengths beyond the word do not occur
            grams = [w[i : i + n] for n in range(min_n, min(max_n, w_len) + 1) for i in range(w_len - n + 1)]
        cols = [c for c in map(self._char_vocab.get, grams) if c is not None]
        stripped = word.strip(_REASON_STRIP)
        label = None if len(stripped) < 2 else TOKEN_NAMES.get(stripped) or f"'{stripped}'"
        return np.array(cols, dtype=np.int64), frozenset(cols), label

    def transform_batch(self, texts: list[str]) -> FeatureBatch:
        """Cleaned texts -> :class:`FeatureBatch` (the fast equivalent of :meth:`transform_reference`)."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t) for t in texts]
        lowered = [c.lower() for c in cleaned]
        if not self._fast:  # an artefact configured unlike VECTORIZER_PARAMS: stay correct, not fast
            xw = self.word.transform(cleaned)
            xc = self.char.transform(cleaned)
            x = self._stack(xw, xc, texts)
            return FeatureBatch(x, cleaned, [[self._word_info(w) for w in low.split()] for low in lowered])
        n = len(texts)
        if n == 0:
            return FeatureBatch(sp.csr_matrix((0, self.n_features), dtype=np.float32), [], [])
        n_cols = self.n_word + self.n_char
        word_vocab_get = self._word_vocab.get
        findall = self._token_re.findall
        word_info = self._word_info
        parts: list[np.ndarray] = []  # column ids with multiplicity, document after document
        offsets: list[int] = []  # per part: its document's key offset (doc * n_cols)
        doc_words: list[list[WordInfo]] = []
        for d, low in enumerate(lowered):
            toks = findall(low)
            grams = toks + [f"{a} {b}" for a, b in pairwise(toks)] if len(toks) > 1 else toks
            infos = [word_info(w) for w in low.split()]
            doc_words.append(infos)
            parts.append(np.array([c for c in map(word_vocab_get, grams) if c is not None], dtype=np.int64))
            parts.extend(info[0] for info in infos)
            offsets += [d * n_cols] * (len(infos) + 1)
        # Counting = sorting (document, column) keys: word columns sort before char columns, so
        # each document's word segment and char segment come out with sorted indices, as sklearn's.
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        keys = np.concatenate(parts) + np.repeat(np.array(offsets, dtype=np.int64), lengths)
        keys, counts = np.unique(keys, return_counts=True)
        docs = keys // n_cols
        cols = keys - docs * n_cols
        data = counts.astype(np.float32)
        indices = cols.astype(np.int32)
        seg_ptr = np.zeros(2 * n + 1, dtype=np.int32)  # two segments per document: word, then char columns
        np.cumsum(np.bincount(2 * docs + (cols >= self.n_word), minlength=2 * n), out=seg_ptr[1:])
        # TfidfTransformer.transform, operation for operation (float32 log, idf product, l2 rows).
        if self._sublinear:
            np.log(data, data)
            data += 1.0
        assert self._idf is not None
        data *= self._idf[indices]
        _normalize_rows_l2(data, (2 * n, self.n_word + self.n_char), indices, seg_ptr)
        # Dense features go after each document's char segment, like sp.hstack([xw, xc, xd]).
        dense = np.asarray([dense_features(t) for t in texts], dtype=np.float32) * self.DENSE_SCALE
        rows, dcols = np.nonzero(dense)
        if len(rows):
            at = seg_ptr[2 * rows + 2]
            data = np.insert(data, at, dense[rows, dcols])
            indices = np.insert(indices, at, dcols + (self.n_word + self.n_char))
        indptr = seg_ptr[::2].copy()
        indptr[1:] += np.cumsum(np.bincount(rows, minlength=n), dtype=np.int32)
        x = sp.csr_matrix((data, indices, indptr), shape=(n, self.n_features), copy=False)
        return FeatureBatch(x, cleaned, doc_words)

    # -- explanations -----------------------------------------------------------------------

    @staticmethod
    def _top_contributions(
        x: sp.csr_matrix, coef: np.ndarray, n: int
    ) -> Callable[[int], tuple[list[int], list[float]]]:
        """Per row, the columns and contributions :meth:`explain` walks: the positive contributions
        in ``np.argsort(-contrib)[:40]`` order.

        All rows are ranked by one sort of the key ``(row << 32) | ~bits(contribution)``: the bit
        pattern of a positive float32 grows with its value, so this orders by row, then by
        decreasing contribution.  Where a row's first 41 ranked values are all distinct that order
        is the only possible one; a row with a tie among them is re-ranked with :meth:`explain`'s own
        ``np.argsort``, whose tie order is then reproduced.
        """
        contrib = np.ascontiguousarray(x.data * coef[x.indices], dtype=np.float32)
        keep = np.flatnonzero(contrib > 0)
        pos_contrib = contrib[keep]
        pos_cols = x.indices[keep]
        neg = -pos_contrib
        bounds = np.searchsorted(keep, x.indptr)
        counts = np.diff(bounds)
        row = np.repeat(np.arange(n, dtype=np.uint64), counts)
        key = (row << np.uint64(32)) | (np.uint64(0xFFFFFFFF) - pos_contrib.view(np.uint32).astype(np.uint64))
        order = np.argsort(key)
        rank = np.arange(len(order)) - np.repeat(bounds[:-1], counts)
        ranked = key[order]
        tie = (ranked[1:] == ranked[:-1]) & (rank[:-1] < _EXPLAIN_TOP)
        tied = set(row[:-1][tie].tolist())
        top = order[rank < _EXPLAIN_TOP]
        cols: list[int] = pos_cols[top].tolist()
        vals: list[float] = pos_contrib[top].tolist()
        top_bounds = np.concatenate([[0], np.cumsum(np.minimum(counts, _EXPLAIN_TOP))]).tolist()
        row_bounds = bounds.tolist()

        def top_of(i: int) -> tuple[list[int], list[float]]:
            if i in tied:
                a, b = row_bounds[i], row_bounds[i + 1]
                o = np.argsort(neg[a:b])[:_EXPLAIN_TOP]
                return pos_cols[a:b][o].tolist(), pos_contrib[a:b][o].tolist()
            a, b = top_bounds[i], top_bounds[i + 1]
            return cols[a:b], vals[a:b]

        return top_of

    def explain_batch(self, batch: FeatureBatch, coefs: list[np.ndarray], k: int = 5,
                      rows: Collection[int] | None = None) -> list[list[list[str]]]:
        """:meth:`explain` for every row of ``batch`` and every coefficient vector (one per head) at once.

        Returns ``out[row][head]``, identical to ``explain(batch.x[row], coefs[head], ...)``; with ``rows``,
        only those rows are explained and every other row gets empty lists (no work at all when it is empty).
        Contributions are one vectorised product per head over the batch's CSR arrays (no scipy
        row slicing), ranked for all rows at once (see :meth:`_top_contributions`); the char-gram
        owners are looked up once per row for both heads.
        """
        x = batch.x
        n = x.shape[0]
        n_word, n_text = self.n_word, self.n_word + self.n_char
        word_labels = self._word_labels
        if rows is not None and not rows:
            return [[[] for _ in coefs] for _ in range(n)]
        head_tops = [self._top_contributions(x, coef, n) for coef in coefs]
        out: list[list[list[str]]] = []
        for i in range(n):
            if rows is not None and i not in rows:
                out.append([[] for _ in coefs])
                continue
            tops = [top_of(i) for top_of in head_tops]
            wanted = {col for cols, _ in tops for col in cols if n_word <= col < n_text}
            # Owners of each wanted char column: the words whose n-grams contain it, i.e.
            # ``gram in f" {w} "`` as in :meth:`explain`, repeats included.  Their order does not
            # matter: every owner of a column receives the same share.
            owner_map: defaultdict[int, list[str | None]] = defaultdict(list)
            if wanted:
                for _, colset, label in batch.words[i]:
                    for col in colset.intersection(wanted):
                        owner_map[col].append(label)
            per_head: list[list[str]] = []
            for top_cols, top_vals in tops:
                scores: dict[str, float] = {}
                for col, c in zip(top_cols, top_vals, strict=True):
                    if col < n_word:
                        label = word_labels[col]
                        scores[label] = scores.get(label, 0.0) + c
                    elif col < n_text:
                        owners = owner_map.get(col)  # .get: never grow the map here
                        if not owners:
                            continue
                        share = c / len(owners)
                        for owner in owners:
                            if owner is not None:
                                scores[owner] = scores.get(owner, 0.0) + share
                    else:
                        label = DENSE_NAMES[col - n_text]
                        scores[label] = scores.get(label, 0.0) + c
                # sorted(by (-value, name))[:k], keeping values > MIN: every kept value ranks before every
                # dropped one, so filtering first gives the same list with less to sort.
                ranked = sorted([(-val, name) for name, val in scores.items() if val > MIN_REASON_CONTRIBUTION])
                per_head.append([name for _, name in ranked[:k]])
            out.append(per_head)
        return out

    def explain(self, row: Any, coef: np.ndarray, cleaned: str, k: int = 5) -> list[str]:
        """Top positive contributors for one document, in human-readable form.

        Word n-grams are shown quoted; character n-grams are attributed to the words of the
        (cleaned) text that contain them, so the reader sees "'idiot'" rather than "'dio'".
        This is the per-row reference; scoring uses :meth:`explain_batch`.
        """
        idx = row.indices
        contrib = row.data * coef[idx]
        pos = contrib > 0
        if not pos.any():
            return []
        idx, contrib = idx[pos], contrib[pos]
        scores: dict[str, float] = {}
        words: list[str] | None = None
        order = np.argsort(-contrib)[:_EXPLAIN_TOP]
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
                    w = w.strip(_REASON_STRIP)
                    if len(w) < 2:
                        continue
                    label = TOKEN_NAMES.get(w) or f"'{w}'"
                    scores[label] = scores.get(label, 0.0) + share
            else:
                label = DENSE_NAMES[col - self.n_word - self.n_char]
                scores[label] = scores.get(label, 0.0) + c
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [name for name, val in ranked[:k] if val > MIN_REASON_CONTRIBUTION]


_FINGERPRINT_PROBES = [
    "", "Great article, thanks.", "Visit www.example.com or http://bit.ly/x and https://a.example.org/p?q=1",
    "mail me: john.doe+x@example.co.uk", "call +44 7700 900123 or 0800-123-4567", "win $500, £20 or 30 dollars",
    "THIS IS ALL CAPS!!!!!", "so so so so so so good", "soooo goooood", "1d10t st00pid m0r0n", "i.d.i.o.t",
    "<a href='http://x.example'>link</a> <b>bold</b> &amp;", "@someone hello", "RT : retweet this", "word " * 500,
    "check out my channel", "subscribe", "please subscribe to me", "click here", "work from home", "text WIN to 80888",
    "promo code", "like this comment if", "free prize giveaway", "you are an idiot", "go to hell", "shut up",
]


@lru_cache(maxsize=1)
def definitions_fingerprint() -> str:
    """A digest of what the artefact cannot carry: the dense features and text cleaning are code (regexes,
    the lexicons), so an artefact trained before they changed scores differently with the same weights.
    Computed from their outputs on probe texts (every lexicon entry among them), so a refactor that keeps
    every output keeps the digest; recorded in the metadata at training and compared at load."""
    from classifier import lexicon

    lists = {name: getattr(lexicon, name) for name in ("INSULTS", "PROFANITY", "THREATS", "DISMISSALS", "SELF_PROMO")}
    probes = [*_FINGERPRINT_PROBES, *(term for terms in lists.values() for term in terms)]
    payload = {
        "names": DENSE_NAMES,
        "lists": lists,
        "max_chars": MAX_CHARS,
        "dense": [dense_features(t) for t in probes],
        "clean": [clean_text(t) for t in probes],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
