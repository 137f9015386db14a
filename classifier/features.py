"""The fitted feature space shared by training and scoring: vectorisers + dense features -> one CSR matrix.

Features are chosen to carry across domains (tweets, SMS, YouTube, Wikipedia talk -> news
comments): word 1-2-grams, character 2-5-grams inside word boundaries (robust to spelling,
slang and obfuscation), and a handful of dense "shape" features (:mod:`classifier.text`).
Explanations live in :mod:`classifier.explain`; the names below are re-exported for older imports.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier import explain as _explain
from classifier.explain import MIN_REASON_CONTRIBUTION, REASON_STRIP
from classifier.fingerprint import definitions_fingerprint  # noqa: F401  (re-exported)
from classifier.text import (  # noqa: F401  (re-exported: older code imports them from here)
    _SYMBOL_RE,
    DENSE_NAMES,
    EMAIL_RE,
    HREF_RE,
    MAX_CHARS,
    MENTION_RE,
    MONEY_RE,
    PHONE_RE,
    REPEAT_RE,
    RT_RE,
    SEP_RE,
    SPACED_RE,
    TAG_RE,
    TEXT_VERSIONS,
    TOKEN_NAMES,
    URL_RE,
    WORD_RE,
    WS_RE,
    _count_phones,
    _is_phone,
    clean_text,
    deleet,
    dense_features,
    dense_names,
    term_label,
)

_ = MIN_REASON_CONTRIBUTION

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


def make_vectorizers(params: dict[str, dict[str, object]] | None = None) -> dict[str, TfidfVectorizer]:
    """Unfitted vectorisers with bounded vocabularies (keeps the artefact a few MB)."""
    params = VECTORIZER_PARAMS if params is None else params
    return {k: TfidfVectorizer(dtype=np.float32, **v) for k, v in params.items()}  # type: ignore[arg-type]


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
    texts: list[str]  # the (truncated) raw texts, to quote matched phrases


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
        out: dict[str, object] = {"word": vectorizer_state(self.word), "char": vectorizer_state(self.char)}
        if self.text_version != 1:  # a version-1 state has no key (the 2026.11.26 artefact)
            out["text_version"] = self.text_version
        return out

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureSpace:
        version = int(state.get("text_version", 1))
        if version not in TEXT_VERSIONS:
            raise ValueError(f"unknown text version {version}")
        return cls(vectorizer_from_state(state["word"]), vectorizer_from_state(state["char"]), version)

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer, text_version: int = 1) -> None:
        self.word = word
        self.char = char
        self.text_version = text_version
        self.dense_names = dense_names(text_version)
        self.word_names = word.get_feature_names_out()
        self.char_names = char.get_feature_names_out()
        self.n_word = len(self.word_names)
        self.n_char = len(self.char_names)
        self.n_dense = len(self.dense_names)
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
        self._word_labels = [term_label(t) for t in word_terms]
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
    def fit_transform(cls, texts: list[str], text_version: int = 1,
                      params: dict[str, dict[str, object]] | None = None) -> tuple[FeatureSpace, sp.csr_matrix]:
        """Fit the vectorisers on ``texts`` and return the space plus their feature matrix."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t, text_version) for t in texts]
        vecs = make_vectorizers(params)
        xw = vecs["word"].fit_transform(cleaned)
        xc = vecs["char"].fit_transform(cleaned)
        for vec in vecs.values():
            vec.stop_words_ = None  # every pruned n-gram; large and unused
        space = cls(vecs["word"], vecs["char"], text_version)
        return space, space._stack(xw, xc, texts)

    def _stack(self, xw: sp.spmatrix, xc: sp.spmatrix, texts: list[str]) -> sp.csr_matrix:
        dense = np.asarray([dense_features(t, self.text_version) for t in texts], dtype=np.float32)
        xd = sp.csr_matrix(dense * self.DENSE_SCALE)
        return sp.hstack([xw, xc, xd], format="csr", dtype=np.float32)

    def transform(self, texts: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        """Feature matrix for ``texts`` plus their cleaned form (used to phrase explanations)."""
        batch = self.transform_batch(texts)
        return batch.x, batch.cleaned

    def transform_reference(self, texts: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        """:meth:`transform` through sklearn's vectorisers (slow; the definition the fast path must equal)."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t, self.text_version) for t in texts]
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
        stripped = word.strip(REASON_STRIP)
        label = None if len(stripped) < 2 else TOKEN_NAMES.get(stripped) or f"'{stripped}'"
        return np.array(cols, dtype=np.int64), frozenset(cols), label

    def transform_batch(self, texts: list[str]) -> FeatureBatch:
        """Cleaned texts -> :class:`FeatureBatch` (the fast equivalent of :meth:`transform_reference`)."""
        texts = [t[:MAX_CHARS] for t in texts]
        cleaned = [clean_text(t, self.text_version) for t in texts]
        lowered = [c.lower() for c in cleaned]
        if not self._fast:  # an artefact configured unlike VECTORIZER_PARAMS: stay correct, not fast
            xw = self.word.transform(cleaned)
            xc = self.char.transform(cleaned)
            x = self._stack(xw, xc, texts)
            return FeatureBatch(x, cleaned, [[self._word_info(w) for w in low.split()] for low in lowered], texts)
        n = len(texts)
        if n == 0:
            return FeatureBatch(sp.csr_matrix((0, self.n_features), dtype=np.float32), [], [], [])
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
        dense = np.asarray([dense_features(t, self.text_version) for t in texts], dtype=np.float32)
        if self.DENSE_SCALE != 1.0:  # (x * 1.0 is x)
            dense *= self.DENSE_SCALE
        rows, dcols = np.nonzero(dense)
        if len(rows):
            # np.insert(data, seg_ptr[2 * rows + 2], values), done once for both arrays: the insertion points are
            # sorted, so the k-th value lands at its point + k.
            at = seg_ptr[2 * rows + 2] + np.arange(len(rows))
            old = np.ones(len(data) + len(rows), dtype=bool)
            old[at] = False
            merged_data = np.empty(len(old), dtype=np.float32)
            merged_data[old] = data
            merged_data[at] = dense[rows, dcols]
            merged_indices = np.empty(len(old), dtype=np.int32)
            merged_indices[old] = indices
            merged_indices[at] = dcols + (self.n_word + self.n_char)
            data, indices = merged_data, merged_indices
        indptr = seg_ptr[::2].copy()
        indptr[1:] += np.cumsum(np.bincount(rows, minlength=n), dtype=np.int32)
        x = sp.csr_matrix((data, indices, indptr), shape=(n, self.n_features), copy=False)
        return FeatureBatch(x, cleaned, doc_words, texts)

    # -- explanations -----------------------------------------------------------------------


    # -- explanations (classifier.explain) ---------------------------------------------------

    def explain_batch(self, batch: FeatureBatch, coefs: list[np.ndarray] | np.ndarray, k: int = 5,
                      rows: Collection[int] | Mapping[int, Collection[int]] | None = None
                      ) -> list[list[list[str]]]:
        """:func:`classifier.explain.explain_batch`."""
        return _explain.explain_batch(self, batch, coefs, k, rows)

    def explain(self, row: Any, coef: np.ndarray, cleaned: str, k: int = 5, raw: str = "") -> list[str]:
        """:func:`classifier.explain.explain` (``raw``: the text, to quote matched phrases)."""
        return _explain.explain(self, row, coef, cleaned, k, raw)
