"""Figures of one scorer on one labelled set: ROC/PR AUC (with a bootstrap interval), MCC at the hold
threshold, calibration (reliability bins, expected calibration error, Brier score)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm

BOOTSTRAP = 200
BINS = 10


def _both(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 2


def fast_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half): equal to sklearn's, without its validation cost."""
    from scipy.stats import rankdata

    ranks = rankdata(p)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_interval(y: np.ndarray, p: np.ndarray, seed: int = 0, rounds: int = BOOTSTRAP) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the ROC AUC (resampling rows, stratified by class)."""
    if not _both(y):
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    vals = []
    for _ in range(rounds):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        vals.append(fast_auc(y[idx], p[idx]))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def figures(y: Any, p: Any, threshold: float | None, interval: bool = False) -> dict[str, Any]:
    """Rows where ``p`` is NaN (not scored) are left out and counted in ``unscored``."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    ok = ~np.isnan(p)
    out: dict[str, Any] = {"n": int(ok.sum()), "unscored": int((~ok).sum()), "positives": int(y[ok].sum())}
    y, p = y[ok], p[ok]
    nan = math.nan
    both = _both(y)
    out["roc_auc"] = float(skm.roc_auc_score(y, p)) if both else nan
    out["pr_auc"] = float(skm.average_precision_score(y, p)) if both else nan
    out["roc_ci"] = auc_interval(y, p) if interval and both else (nan, nan)
    if threshold is not None and len(y):
        pred = (p >= threshold).astype(int)
        out["threshold"] = float(threshold)
        out["mcc"] = float(skm.matthews_corrcoef(y, pred)) if both else nan
        out["precision"] = float(skm.precision_score(y, pred, zero_division=0))
        out["recall"] = float(skm.recall_score(y, pred, zero_division=0)) if y.sum() else nan
        out["accuracy"] = float(np.mean(pred == y))
        out["flagged_clean"] = float(pred[y == 0].mean()) if (y == 0).any() else nan
    return out


def reliability(y: Any, p: Any, bins: int = BINS) -> dict[str, Any]:
    """Equal-width bins: mean predicted vs observed rate per bin, ECE (weighted |gap|) and Brier score."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    ok = ~np.isnan(p)
    y, p = y[ok], p[ok]
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    mean_p, rate, count = [], [], []
    for b in range(bins):
        m = which == b
        count.append(int(m.sum()))
        mean_p.append(float(p[m].mean()) if m.any() else math.nan)
        rate.append(float(y[m].mean()) if m.any() else math.nan)
    n = max(len(y), 1)
    ece = sum(c / n * abs(mp - r) for c, mp, r in zip(count, mean_p, rate, strict=True) if c)
    brier = float(np.mean((p - y) ** 2)) if len(y) else math.nan
    return {"mean_p": mean_p, "rate": rate, "count": count, "ece": float(ece), "brier": brier, "n": len(y)}


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else f"{v:.{digits}f}"
    return str(v)
