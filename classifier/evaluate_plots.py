"""The report's figures (matplotlib, from the ``eval`` extra): PR curves, reliability diagrams, bar charts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pr_curves(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], title: str, path: Path) -> None:
    """Precision-recall curve per scorer (rows with NaN scores dropped)."""
    from sklearn.metrics import precision_recall_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=100)
    for name, y, p in curves:
        ok = ~np.isnan(p)
        if ok.sum() == 0 or len(np.unique(y[ok])) < 2:
            continue
        prec, rec, _ = precision_recall_curve(y[ok], p[ok])
        ax.plot(rec, prec, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability_diagram(series: Sequence[tuple[str, dict]], title: str, path: Path) -> None:
    """Observed positive rate against mean predicted probability per bin; the diagonal is perfect calibration."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    for name, rel in series:
        xs = [m for m, c in zip(rel["mean_p"], rel["count"], strict=True) if c]
        ys = [r for r, c in zip(rel["rate"], rel["count"], strict=True) if c]
        ax.plot(xs, ys, marker="o", markersize=3, label=f"{name} (ECE {rel['ece']:.3f}, n={rel['n']})")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed share positive")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def grouped_bars(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str, ylabel: str,
                 path: Path, goal: float | None = None, ylim: tuple[float, float] = (0.0, 1.0)) -> None:
    """One bar per scorer per group (NaN bars omitted), with an optional goal line; horizontal when many groups."""
    plt = _plt()
    horizontal = len(groups) > 8
    n = max(1, len(series))
    size = (7.5, 1.0 + 0.18 * n * len(groups)) if horizontal else (max(5.0, 1.2 * len(groups) + 2), 4.2)
    fig, ax = plt.subplots(figsize=size, dpi=100)
    width = 0.8 / n
    x = np.arange(len(groups))
    for i, (name, vals) in enumerate(series):
        v = np.nan_to_num(np.asarray(vals, dtype=np.float64), nan=0.0)
        pos = x + i * width - 0.4 + width / 2
        (ax.barh if horizontal else ax.bar)(pos, v, width, label=name)
    if horizontal:
        if goal is not None:
            ax.axvline(goal, color="black", linestyle="--", linewidth=1, label=f"goal {goal:g}")
        ax.set_yticks(x)
        ax.set_yticklabels(groups, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(*ylim)
        ax.set_xlabel(ylabel)
    else:
        if goal is not None:
            ax.axhline(goal, color="black", linestyle="--", linewidth=1, label=f"goal {goal:g}")
        ax.set_xticks(x)
        ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(*ylim)
        ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
