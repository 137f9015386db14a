"""Fitting one language's heads: a shared feature space, one L2 logistic regression per attribute,
Platt calibration on out-of-fold decision values, and the held-out predictions that come with them.

The out-of-fold (OOF) predictions are the within-source held-out figures: the folds are
:func:`classifier.splits.fold_of` (a hash of seed and text), each row is predicted by the model
trained on the other four folds, so every row of every source gets an honest prediction, and the
same predictions fit each head's Platt scaling (as ``CalibratedClassifierCV(ensemble=False)`` does).
The shipped head is then refitted on every row, so explanations stay one exact linear model.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifier.corpus import Example, head_weights
from classifier.features import FeatureSpace
from classifier.identity import DAMPED_HEADS, DAMPING, identity_columns
from classifier.splits import FOLDS, fold_of

# L2 strength per head (chosen on the OOF figures; see classifier/README.md).
C_BY_HEAD = {"toxicity": 4.0, "severe_toxicity": 2.0, "insult": 4.0, "threat": 4.0, "identity_attack": 4.0,
             "profanity": 4.0, "sexually_explicit": 2.0, "spam": 16.0}
# lbfgs stopping tolerance.  At 1e-3 the heads stopped far enough from the optimum that a change to 13 of 65,751
# texts moved held-out figures by 0.01 (identity_attack OOF ROC AUC, Jigsaw 0.920 -> 0.910, HateXplain 0.815 ->
# 0.803) and the thresholds with them; at 1e-4 the same change moves them by <= 0.001 (2026-12-03), for ~1.6x
# the training time.
TOL = 1e-4
MAX_ITER = 3000
NB_ALPHA = 1.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def nb_ratios(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, n_dense: int) -> np.ndarray:
    """Naive-Bayes log-count ratios per feature (Wang & Manning 2012, "NBSVM"), from weighted training rows.

    Scaling the n-gram columns by them before the logistic regression measured +2 ROC AUC points on held-out
    news comments (0.898 -> 0.918, same data).  The dense features keep scale 1 (they are not counts).
    """
    xw = sp.diags(w) @ x
    pos = np.asarray(xw[y == 1].sum(axis=0)).ravel() + NB_ALPHA
    neg = np.asarray(xw[y == 0].sum(axis=0)).ravel() + NB_ALPHA
    r = np.log((pos / pos.sum()) / (neg / neg.sum()))
    if n_dense:
        r[-n_dense:] = 1.0
    return r.astype(np.float32)


def fit_lr(x: Any, y: np.ndarray, w: np.ndarray, c: float, seed: int, n_dense: int = 0,
           nb: bool = True, scale: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """One head: NB-scaled L2 logistic regression; the scaling is folded into the returned coefficients,
    so the head stays one linear model over the unscaled features (exact explanations, no runtime cost).
    ``scale``: a further per-column factor (a column scaled by s has its weight penalised 1/s**2 as much;
    see :mod:`classifier.identity`)."""
    from sklearn.linear_model import LogisticRegression

    r = nb_ratios(x, y, w, n_dense) if nb else np.ones(x.shape[1], dtype=np.float32)
    if scale is not None:
        r = (r * scale).astype(np.float32)
    clf = LogisticRegression(C=c, max_iter=MAX_ITER, tol=TOL, random_state=seed)
    clf.fit(x @ sp.diags(r), y, sample_weight=w)
    return (clf.coef_[0] * r).astype(np.float32), float(clf.intercept_[0])


def platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    cal = LogisticRegression(C=1e6, max_iter=1000)
    cal.fit(scores.reshape(-1, 1), y, sample_weight=w)
    return float(cal.coef_[0, 0]), float(cal.intercept_[0])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class HeadData:
    """One head's rows: matrix row ids, labels, weights, the examples they come from, and their folds."""

    rows: np.ndarray
    y: np.ndarray
    w: np.ndarray
    examples: list[Example]
    folds: np.ndarray
    attribute: str = ""


@dataclass
class OOF:
    """Out-of-fold calibrated predictions of one head (aligned with ``examples``)."""

    attribute: str
    examples: list[Example]
    y: np.ndarray
    p: np.ndarray


class LanguageTrainer:
    """Featurises one language's examples once; fits heads, OOF predictions and held-out variants on it.

    The vocabulary and idf are fitted once on every text of the language (labels unused), so held-out
    variants reuse one matrix: a term seen only in held-out rows gets no weight (nothing trains it),
    which is what a model trained without those rows would do, up to the idf values and the
    ``max_features`` cut (a small, label-free optimism; see classifier/README.md).
    """

    def __init__(self, examples: list[Example], language: str, seed: int, text_version: int = 2,
                 params: dict[str, dict[str, object]] | None = None, nb: bool = True,
                 c_by_head: dict[str, float] | None = None, damp_identity: bool = False) -> None:
        self.examples = [e for e in examples if e.language == language]
        self.language = language
        self.seed = seed
        self.nb = nb  # NB scaling of the n-gram columns (see fit_lr); measured per language
        self.c_by_head = {**C_BY_HEAD, **(c_by_head or {})}
        texts = sorted({e.text for e in self.examples})
        self.index = {t: i for i, t in enumerate(texts)}
        t0 = time.monotonic()
        self.space, x = FeatureSpace.fit_transform(texts, text_version=text_version, params=params)
        self.x: sp.csr_matrix = x.tocsr()
        log(f"{language}: featurised {len(texts)} texts x {self.space.n_features} in {time.monotonic() - t0:.0f}s")
        self.column_scale: dict[str, np.ndarray] = {}
        if damp_identity:  # group names damped in some heads (classifier/identity.py)
            scale = np.ones(self.space.n_features, dtype=np.float32)
            scale[identity_columns(self.space)] = DAMPING
            self.column_scale = dict.fromkeys(DAMPED_HEADS, scale)

    def head_data(self, attribute: str, keep: set[str] | None = None, budgets: dict[str, float] | None = None,
                  exclude_texts: set[str] | None = None) -> HeadData:
        exs = self.examples
        if keep is not None or exclude_texts:
            exs = [e for e in exs
                   if (keep is None or e.source in keep) and not (exclude_texts and e.text in exclude_texts)]
        idx, y, w = head_weights(exs, attribute, budgets)
        chosen = [exs[i] for i in idx]
        rows = np.asarray([self.index[e.text] for e in chosen], dtype=np.int64)
        folds = np.asarray([fold_of(e.text, self.seed) for e in chosen], dtype=np.int64)
        return HeadData(rows, y, w, chosen, folds, attribute)

    def fit(self, d: HeadData, c: float) -> tuple[np.ndarray, float]:
        return fit_lr(self.x[d.rows], d.y, d.w, c, self.seed, self.space.n_dense, self.nb,
                      self.column_scale.get(d.attribute))

    def decision(self, coef: np.ndarray, intercept: float, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.x[rows] @ coef, dtype=np.float64) + intercept

    def oof_decisions(self, d: HeadData, c: float, folds: tuple[int, ...] = tuple(range(FOLDS))) -> np.ndarray:
        """Decision values of each row in ``folds`` from a model trained on the other folds (others: 0)."""
        out = np.zeros(len(d.y))
        for k in folds:
            tr, te = d.folds != k, d.folds == k
            if not te.any() or len(set(d.y[tr].tolist())) < 2:
                continue
            coef, b = fit_lr(self.x[d.rows[tr]], d.y[tr], d.w[tr], c, self.seed, self.space.n_dense, self.nb,
                             self.column_scale.get(d.attribute))
            out[te] = self.decision(coef, b, d.rows[te])
        return out

    def train_head(self, attribute: str, c: float | None = None, quick: bool = False) -> tuple[dict[str, Any], OOF]:
        """The shipped head (fitted on every row, Platt from OOF) and its OOF predictions.

        ``quick`` (evaluation retrains): Platt is fitted on one fold's held-out decisions (2 fits, not 6) and
        the returned predictions cover that fold only."""
        c = self.c_by_head.get(attribute, 4.0) if c is None else c
        t0 = time.monotonic()
        d = self.head_data(attribute)
        # quick: the first fold with both classes (evaluation's held-out split drops fold 0 entirely, and Platt
        # fitted on no held-out decisions made every probability 0.5)
        quick_fold = next((k for k in range(FOLDS) if len(set(d.y[d.folds == k].tolist())) == 2), 0)
        folds = (quick_fold,) if quick else tuple(range(FOLDS))
        oof = self.oof_decisions(d, c, folds)
        m = np.isin(d.folds, folds)
        if len(set(d.y[m].tolist())) < 2:
            m = np.ones(len(d.y), dtype=bool)
        a, b = platt(oof[m], d.y[m], d.w[m])
        coef, intercept = self.fit(d, c)
        log(f"{self.language}/{attribute}: {len(d.y)} rows ({int(d.y.sum())} positive) in {time.monotonic() - t0:.0f}s")
        head = {"coef": coef, "intercept": intercept, "platt_a": a, "platt_b": b}
        kept = [e for e, k in zip(d.examples, m, strict=True) if k]
        return head, OOF(attribute, kept, d.y[m], sigmoid(a * oof[m] + b))

    def held_out_source(self, attribute: str, sources: tuple[str, ...], platt_ab: tuple[float, float],
                        c: float | None = None) -> OOF | None:
        """Train without ``sources`` (and without any text they contain); predict their rows (None: cannot)."""
        c = self.c_by_head.get(attribute, 4.0) if c is None else c
        held = [e for e in self.examples if e.source in sources and e.label(attribute) is not None]
        held_texts = {e.text for e in held}
        train = self.head_data(attribute, keep={e.source for e in self.examples} - set(sources),
                               exclude_texts=held_texts)
        test = self.head_data(attribute, keep=set(sources))
        if len(set(train.y.tolist())) < 2 or not len(test.y):
            return None
        coef, b = self.fit(train, c)
        z = self.decision(coef, b, test.rows)
        a, bb = platt_ab
        return OOF(attribute, test.examples, test.y, sigmoid(a * z + bb))

    def held_out_group(self, attribute: str, source: str, group: str, c: float | None = None) -> OOF | None:
        """Train without one group of a source (a YouTube video), calibrated on its own OOF; predict the group."""
        c = self.c_by_head.get(attribute, 4.0) if c is None else c
        held = {e.text for e in self.examples if e.source == source and e.group == group}
        train = self.head_data(attribute, exclude_texts=held)
        if len(set(train.y.tolist())) < 2:
            return None
        oof = self.oof_decisions(train, c)
        a, b = platt(oof, train.y, train.w)
        coef, intercept = self.fit(train, c)
        test = self.head_data(attribute, keep={source})
        mask = np.asarray([e.group == group for e in test.examples])
        z = self.decision(coef, intercept, test.rows[mask])
        return OOF(attribute, [e for e, m in zip(test.examples, mask, strict=True) if m], test.y[mask],
                   sigmoid(a * z + b))
