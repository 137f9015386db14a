"""Small metric helpers (thin wrappers so train and evaluate compute figures identically)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def mcc(y: np.ndarray, pred: np.ndarray) -> float:
    return float(skm.matthews_corrcoef(y, pred.astype(int)))


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y == pred.astype(int)))


def all_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC AUC, PR AUC, and MCC/F1/precision/recall/accuracy at ``threshold``."""
    pred = (p >= threshold).astype(int)
    both = len(set(np.asarray(y).tolist())) == 2
    return {
        "n": len(y),
        "positives": int(np.sum(y)),
        "roc_auc": float(skm.roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(skm.average_precision_score(y, p)) if both else float("nan"),
        "threshold": float(threshold),
        "mcc": float(skm.matthews_corrcoef(y, pred)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "accuracy": float(np.mean(pred == y)),
    }
