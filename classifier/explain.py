"""Explanations: which words (or shape features) pushed a head's score up, exactly and fast.

Word n-grams are shown quoted; character n-grams are attributed to the words of the cleaned text that
contain them; dense features by name, except the phrase patterns (:mod:`classifier.phrases`) and the
Arabic insult list (:mod:`classifier.lexicon_ar`), which quote what they matched ("'deserves to be shot'").
:func:`explain` is the per-row definition;
:func:`explain_batch` computes the same for a whole batch with vectorised products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from classifier.lexicon_ar import NAME as ARABIC_INSULT_NAME
from classifier.lexicon_ar import arabic_insults
from classifier.phrases import EXCLUSION_NAME, GENERALISATION_NAME, HATRED_NAME, PHRASE_NAMES, phrase_match
from classifier.spelling import respellings
from classifier.text import TOKEN_NAMES, fold_arabic, term_label

if TYPE_CHECKING:
    from classifier.features import FeatureBatch, FeatureSpace

# Contributions (log-odds) below this are noise, not a "reason".
MIN_REASON_CONTRIBUTION = 0.02
# Characters stripped from a word before it is shown as a reason (see explain).
REASON_STRIP = ".,!?;:\"'()[]{}*"
# Top contributors looked at per document and head before grouping them into reasons.
EXPLAIN_TOP = 40
# Up to this many (head, row) groups, each is ranked by its own ``np.argsort`` (exactly :func:`explain`'s call):
# four numpy calls a group beat the ~40 of the batched ranking (an Arabic or Korean group of a mixed batch has
# one to three heads and a row or two).
_FEW_GROUPS = 8


def _dense_label(space: FeatureSpace, j: int, raw: str) -> str:
    name = space.dense_names[j]
    if (name in PHRASE_NAMES or name in (EXCLUSION_NAME, GENERALISATION_NAME, HATRED_NAME)) and raw:
        phrase = phrase_match(name, raw)
        if phrase:
            return f"'{phrase}'"
    if name == ARABIC_INSULT_NAME and raw:
        words = arabic_insults(fold_arabic(raw), space.text_version > 5)
        if words:  # the first one: its weight then adds to the word's own n-gram entry, one reason term
            return f"'{words[0]}'"
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
    x: sp.csr_matrix, coefs: Sequence[np.ndarray] | np.ndarray, rows: Sequence[int]
) -> Callable[[int, int], tuple[list[int], list[float]]]:
    """For head ``h`` and the ``j``-th of ``rows``, the columns and contributions :meth:`explain` walks:
    the positive contributions in ``np.argsort(-contrib)[:40]`` order.

    Only the rows to be explained are looked at, and every head is ranked in the same numpy calls
    (a batch of 16 has up to 8 heads; the fixed cost of ~20 numpy calls per head and batch was most
    of the explanation time).  The groups (head, row) are ranked by one sort of the key
    ``(group << 32) | ~bits(contribution)``: the bit pattern of a positive float32 grows with its
    value, so this orders by group, then by decreasing contribution.  Where a group's first 41
    ranked values are all distinct that order is the only possible one; a group with a tie among
    them is re-ranked with :meth:`explain`'s own ``np.argsort``, whose tie order is then reproduced.
    """
    n_heads, n_rows = len(coefs), len(rows)
    starts = x.indptr[rows].astype(np.int64)
    lengths = x.indptr[np.asarray(rows, dtype=np.int64) + 1] - starts
    local_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=local_ptr[1:])
    m = int(local_ptr[-1])
    pos = np.arange(m, dtype=np.int64) + np.repeat(starts - local_ptr[:-1], lengths)
    sel_cols = x.indices[pos]
    if isinstance(coefs, np.ndarray):  # (heads, features), a view of (features, heads): one gather per feature
        weights = coefs.T[sel_cols].T
    else:
        weights = np.stack([coef[sel_cols] for coef in coefs])
    # the same float32 products as ``x.data * coef[x.indices]``, head after head
    contrib = (weights * x.data[pos]).ravel()
    group_ptr = np.empty(n_heads * n_rows + 1, dtype=np.int64)
    group_ptr[:-1] = (np.arange(n_heads, dtype=np.int64)[:, None] * m + local_ptr[:-1]).ravel()
    group_ptr[-1] = n_heads * m
    keep = np.flatnonzero(contrib > 0)
    pos_contrib = contrib[keep]
    pos_cols = sel_cols[keep % m] if m else sel_cols
    neg = -pos_contrib
    bounds = np.searchsorted(keep, group_ptr)
    if n_heads * n_rows <= _FEW_GROUPS:  # a small language group: explain's own argsort, group by group
        few_bounds = bounds.tolist()

        def argsort_of(h: int, j: int) -> tuple[list[int], list[float]]:
            a, b = few_bounds[h * n_rows + j], few_bounds[h * n_rows + j + 1]
            o = np.argsort(neg[a:b])[:EXPLAIN_TOP]
            return pos_cols[a:b][o].tolist(), pos_contrib[a:b][o].tolist()

        return argsort_of
    counts = np.diff(bounds)
    group = np.repeat(np.arange(n_heads * n_rows, dtype=np.uint64), counts)
    key = (group << np.uint64(32)) | (np.uint64(0xFFFFFFFF) - pos_contrib.view(np.uint32).astype(np.uint64))
    pos_bits = max(len(key) - 1, 1).bit_length()
    if pos_bits + 32 + max(n_heads * n_rows - 1, 1).bit_length() <= 64:
        # With each entry's position in the key's low bits, one np.sort (about twice as fast as
        # np.argsort) gives the order; positions only break ties, and a tied group is re-ranked below.
        packed = np.sort((key << np.uint64(pos_bits)) | np.arange(len(key), dtype=np.uint64))
        order = (packed & np.uint64((1 << pos_bits) - 1)).astype(np.int64)
        ranked = packed >> np.uint64(pos_bits)
    else:
        order = np.argsort(key)
        ranked = key[order]
    rank = np.arange(len(order)) - np.repeat(bounds[:-1], counts)
    tie = (ranked[1:] == ranked[:-1]) & (rank[:-1] < EXPLAIN_TOP)
    tied = set(group[:-1][tie].tolist())
    top = order[rank < EXPLAIN_TOP]
    cols: list[int] = pos_cols[top].tolist()
    vals: list[float] = pos_contrib[top].tolist()
    top_bounds = np.concatenate([[0], np.cumsum(np.minimum(counts, EXPLAIN_TOP))]).tolist()
    group_bounds = bounds.tolist()

    def top_of(h: int, j: int) -> tuple[list[int], list[float]]:
        g = h * n_rows + j
        if g in tied:
            a, b = group_bounds[g], group_bounds[g + 1]
            o = np.argsort(neg[a:b])[:EXPLAIN_TOP]
            return pos_cols[a:b][o].tolist(), pos_contrib[a:b][o].tolist()
        a, b = top_bounds[g], top_bounds[g + 1]
        return cols[a:b], vals[a:b]

    return top_of


def explain_batch(space: FeatureSpace, batch: FeatureBatch, coefs: Sequence[np.ndarray] | np.ndarray, k: int = 5,
                  rows: Collection[int] | Mapping[int, Collection[int]] | None = None) -> list[list[list[str]]]:
    """:meth:`explain` for every row of ``batch`` and every coefficient vector (one per head) at once.

    ``coefs``: the vectors, or the (heads, features) matrix of them (a transposed view of a C-ordered
    (features, heads) matrix, as :class:`classifier.model.LanguageHeads` keeps: the fastest to gather).

    Returns ``out[row][head]``, identical to ``explain(batch.x[row], coefs[head], ...)``; with ``rows``,
    only those rows are explained and every other row gets empty lists (no work at all when it is empty);
    a mapping from row to head indices explains only those heads of each row (the others get empty lists).
    Contributions are one vectorised product over the explained rows' CSR entries for all heads (no
    scipy row slicing), ranked at once (see :func:`top_contributions`); the char-gram owners and the
    dense features' labels are looked up once per row for all heads.
    """
    x = batch.x
    n = x.shape[0]
    n_word, n_text = space.n_word, space.n_word + space.n_char
    word_labels = space._word_labels
    picked = [i for i in range(n) if rows is None or i in rows]
    out: list[list[list[str]]] = [[[] for _ in coefs] for _ in range(n)]
    if not picked or not len(coefs):
        return out
    top_of = top_contributions(x, coefs, picked)
    every_head = range(len(coefs))
    heads_of = rows.get if isinstance(rows, Mapping) else None
    for j, i in enumerate(picked):
        heads = every_head if heads_of is None else set(heads_of(i, every_head))
        tops = [top_of(h, j) if h in heads else ([], []) for h in every_head]
        # Owners of each ranked char column: the words whose n-grams contain it, i.e. ``gram in f" {w} "`` as in
        # :meth:`explain`, repeats included.  Their order does not matter: every owner of a column receives the
        # same share.  A word's column set holds char columns only, so intersecting it with every ranked column
        # (word and dense ones too) keeps exactly the ranked char columns.
        wanted = set(chain.from_iterable(cols for cols, _ in tops))
        owner_map: defaultdict[int, list[str | None]] = defaultdict(list)
        for _, colset, label in batch.words[i]:
            for col in colset.intersection(wanted):
                owner_map[col].append(label)
        owners_of = owner_map.get  # .get: never grow the map below
        raw = batch.texts[i]
        spelt = respellings(raw) if raw else None
        dense_labels: dict[int, str] = {}  # a phrase's label is a regex search: once per row, not per head
        per_head: list[list[str]] = []
        for top_cols, top_vals in tops:
            scores: dict[str, float] = {}
            score_of = scores.get
            for col, c in zip(top_cols, top_vals):  # noqa: B905 (equal lengths by construction)
                if col < n_word:
                    label = word_labels[col]
                    scores[label] = score_of(label, 0.0) + c
                elif col < n_text:
                    owners = owners_of(col)
                    if owners is None:
                        continue
                    share = c / len(owners)
                    for owner in owners:
                        if owner is not None:
                            scores[owner] = score_of(owner, 0.0) + share
                else:
                    label = dense_labels.get(col)
                    if label is None:
                        label = dense_labels[col] = _dense_label(space, col - n_text, raw)
                    scores[label] = score_of(label, 0.0) + c
            # sorted(by (-value, name))[:k], keeping values > MIN: every kept value ranks before every
            # dropped one, so filtering first gives the same list with less to sort.
            ranked = sorted([(-val, name) for name, val in scores.items() if val > MIN_REASON_CONTRIBUTION])
            names = [name for _, name in ranked[:k]]
            per_head.append(_respelled(names, raw) if spelt else names)
        out[i] = per_head
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
            label = term_label(str(space.word_names[col]))
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

