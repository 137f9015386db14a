"""Explanations: which words (or shape features) pushed a head's score up, exactly and fast.

Word n-grams are shown quoted; character n-grams are attributed to the words of the cleaned text that
contain them; dense features by name, except the phrase patterns (:mod:`classifier.phrases`) and the
Arabic insult list (:mod:`classifier.lexicon_ar`), which quote what they matched ("'deserves to be shot'").
:func:`explain` is the per-row definition;
:func:`explain_batch` computes the same for a whole batch with vectorised products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from classifier.lexicon_ar import NAME as ARABIC_INSULT_NAME
from classifier.lexicon_ar import arabic_insults
from classifier.phrases import PHRASE_NAMES, phrase_match
from classifier.spelling import respellings
from classifier.text import TOKEN_NAMES, fold_arabic

if TYPE_CHECKING:
    from classifier.features import FeatureBatch, FeatureSpace

# Contributions (log-odds) below this are noise, not a "reason".
MIN_REASON_CONTRIBUTION = 0.02
# Characters stripped from a word before it is shown as a reason (see explain).
REASON_STRIP = ".,!?;:\"'()[]{}*"
# Top contributors looked at per document and head before grouping them into reasons.
EXPLAIN_TOP = 40


def _dense_label(space: FeatureSpace, j: int, raw: str) -> str:
    name = space.dense_names[j]
    if name in PHRASE_NAMES and raw:
        phrase = phrase_match(name, raw)
        if phrase:
            return f"'{phrase}'"
    if name == ARABIC_INSULT_NAME and raw:
        words = arabic_insults(fold_arabic(raw))
        if words:
            return " ".join(f"'{w}'" for w in dict.fromkeys(words))
    return name


def _respelled(names: list[str], raw: str) -> list[str]:
    """Quoted words that the spelling repair wrote (``'idiot'``) shown as the reader spelt them (``'idoit'``)."""
    spelt = respellings(raw) if raw else {}
    if not spelt:
        return names
    out = []
    for name in names:
        if len(name) > 2 and name[0] == name[-1] == "'":
            name = "'" + " ".join(spelt.get(w, w) for w in name[1:-1].split(" ")) + "'"
        out.append(name)
    return out


def top_contributions(
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
    tie = (ranked[1:] == ranked[:-1]) & (rank[:-1] < EXPLAIN_TOP)
    tied = set(row[:-1][tie].tolist())
    top = order[rank < EXPLAIN_TOP]
    cols: list[int] = pos_cols[top].tolist()
    vals: list[float] = pos_contrib[top].tolist()
    top_bounds = np.concatenate([[0], np.cumsum(np.minimum(counts, EXPLAIN_TOP))]).tolist()
    row_bounds = bounds.tolist()

    def top_of(i: int) -> tuple[list[int], list[float]]:
        if i in tied:
            a, b = row_bounds[i], row_bounds[i + 1]
            o = np.argsort(neg[a:b])[:EXPLAIN_TOP]
            return pos_cols[a:b][o].tolist(), pos_contrib[a:b][o].tolist()
        a, b = top_bounds[i], top_bounds[i + 1]
        return cols[a:b], vals[a:b]

    return top_of

def explain_batch(space: FeatureSpace, batch: FeatureBatch, coefs: list[np.ndarray], k: int = 5,
                  rows: Collection[int] | None = None) -> list[list[list[str]]]:
    """:meth:`explain` for every row of ``batch`` and every coefficient vector (one per head) at once.

    Returns ``out[row][head]``, identical to ``explain(batch.x[row], coefs[head], ...)``; with ``rows``,
    only those rows are explained and every other row gets empty lists (no work at all when it is empty).
    Contributions are one vectorised product per head over the batch's CSR arrays (no scipy
    row slicing), ranked for all rows at once (see :func:`top_contributions`); the char-gram
    owners are looked up once per row for both heads.
    """
    x = batch.x
    n = x.shape[0]
    n_word, n_text = space.n_word, space.n_word + space.n_char
    word_labels = space._word_labels
    if rows is not None and not rows:
        return [[[] for _ in coefs] for _ in range(n)]
    head_tops = [top_contributions(x, coef, n) for coef in coefs]
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
                    label = _dense_label(space, col - n_text, batch.texts[i])
                    scores[label] = scores.get(label, 0.0) + c
            # sorted(by (-value, name))[:k], keeping values > MIN: every kept value ranks before every
            # dropped one, so filtering first gives the same list with less to sort.
            ranked = sorted([(-val, name) for name, val in scores.items() if val > MIN_REASON_CONTRIBUTION])
            per_head.append(_respelled([name for _, name in ranked[:k]], batch.texts[i]))
        out.append(per_head)
    return out

def explain(space: FeatureSpace, row: Any, coef: np.ndarray, cleaned: str, k: int = 5, raw: str = "") -> list[str]:
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
    order = np.argsort(-contrib)[:EXPLAIN_TOP]
    for j in order:
        col, c = int(idx[j]), float(contrib[j])
        if col < space.n_word:
            term = str(space.word_names[col])
            label = TOKEN_NAMES.get(term) or f"'{term}'"
            scores[label] = scores.get(label, 0.0) + c
        elif col < space.n_word + space.n_char:
            gram = str(space.char_names[col - space.n_word])
            if words is None:
                words = cleaned.lower().split()
            owners = [w for w in words if gram in f" {w} "]
            if not owners:
                continue
            share = c / len(owners)
            for w in owners:
                w = w.strip(REASON_STRIP)
                if len(w) < 2:
                    continue
                label = TOKEN_NAMES.get(w) or f"'{w}'"
                scores[label] = scores.get(label, 0.0) + share
        else:
            label = _dense_label(space, col - space.n_word - space.n_char, raw)
            scores[label] = scores.get(label, 0.0) + c
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return _respelled([name for name, val in ranked[:k] if val > MIN_REASON_CONTRIBUTION], raw)

