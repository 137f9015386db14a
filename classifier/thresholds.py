"""Hold thresholds per attribute, chosen on held-out (out-of-fold) predictions, and the metadata figures.

Rules (all on held-out predictions, never on a test fixture):

- each attribute's hold threshold maximises the MCC averaged over the sources that label it (each source
  counts once, so a big one cannot dictate it), smoothed over ±``SMOOTH_STEPS`` grid steps (the curve is
  flat near its top and small sources make it a step function);
- then it is raised, if needed, until at most ``CLEAN_NEWS_BUDGET[attribute]`` of the clean news comments
  (``civil_comments`` rows labelled clean) reach it: a news desk's first complaint is civil readers held;
- the budgets overlap and add up to more than the goal of <= 3 % held by anything, so their union over the
  holding attributes and spam is then held to ``CLEAN_NEWS_UNION_BUDGET`` (:func:`within_union_budget`);
- ``spam_reject`` is the lowest threshold whose pooled held-out precision is >= 0.995 and that no clean
  news comment reaches; the service still requires named evidence (``spam_signals``) to auto-reject.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from classifier import metrics as M
from classifier.heads import OOF

SMOOTH_STEPS = 3
GRID = np.round(np.arange(0.05, 0.991, 0.01), 2)
NEWS = "civil_comments"
# Share of clean news comments each attribute may hold (toxicity takes most of the 3 % goal).
CLEAN_NEWS_BUDGET = {"toxicity": 0.02, "severe_toxicity": 0.002, "insult": 0.006, "threat": 0.002,
                     "identity_attack": 0.004, "profanity": 0.004, "sexually_explicit": 0.002, "spam": 0.01}
REJECT_PRECISION = 0.995
# The budgets above overlap and add up to more than the goal (<= 3 % of clean news comments held by anything):
# their union over the holding attributes and spam is held to this, a margin below the goal for news sites whose
# comments we do not have.
CLEAN_NEWS_UNION_BUDGET = 0.025


def _by_source(o: OOF) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    src = np.asarray([e.source for e in o.examples])
    out = {}
    for s in sorted(set(src.tolist())):
        m = src == s
        out[s] = (o.y[m], o.p[m])
    return out


def _clean_news(o: OOF) -> np.ndarray:
    m = np.asarray([e.source == NEWS for e in o.examples]) & (o.y == 0)
    return o.p[m]


def hold_threshold(o: OOF, groups: list[tuple[np.ndarray, np.ndarray]] | None = None) -> float:
    parts = groups if groups is not None else [yp for yp in _by_source(o).values() if len(set(yp[0].tolist())) == 2]
    if not parts:
        return 0.5
    mean_mcc = np.asarray([np.mean([M.mcc(y, p >= t) for y, p in parts]) for t in GRID])
    k = SMOOTH_STEPS
    smoothed = [mean_mcc[max(0, i - k): i + k + 1].mean() for i in range(len(GRID))]
    t = float(GRID[int(np.argmax(smoothed))])
    clean = _clean_news(o)
    budget = CLEAN_NEWS_BUDGET.get(o.attribute)
    if budget is not None and len(clean):
        while t < GRID[-1] and np.mean(clean >= t) > budget:
            t = round(t + 0.01, 2)
    return t


def _clean_news_by_text(o: OOF, clean: set[str] | None = None) -> dict[str, float]:
    """Scores of the clean news comments (``clean``: the texts that count as clean; by default the rows this head
    labels 0 -- for spam that is every news comment, toxic ones included, so pass the toxicity head's)."""
    return {e.text: float(p) for e, y, p in zip(o.examples, o.y, o.p, strict=True)
            if e.source == NEWS and (e.text in clean if clean is not None else y == 0)}


def _clean_news_texts(per: dict[str, OOF]) -> set[str] | None:
    """The clean news comments: labelled clean for toxicity (None: no toxicity head)."""
    o = per.get("toxicity")
    return set(_clean_news_by_text(o)) if o is not None else None


def within_union_budget(thresholds: dict[str, float], per: dict[str, OOF], attributes: tuple[str, ...],
                        budget: float = CLEAN_NEWS_UNION_BUDGET) -> dict[str, float]:
    """The thresholds of ``attributes``, raised until at most ``budget`` of the clean news comments reach any of
    them (out of fold).  Greedy: each step raises one attribute just past its lowest-scoring held clean comment,
    the one whose step releases the most clean comments per held-out positive (pooled) it stops holding."""
    attrs = [a for a in attributes if a in per and a in thresholds]
    texts_clean = _clean_news_texts(per)
    clean = {a: _clean_news_by_text(per[a], texts_clean) for a in attrs}
    texts = sorted(set().union(*clean.values())) if attrs else []
    if not texts:
        return {a: thresholds[a] for a in attrs}
    scores = np.asarray([[clean[a].get(t, 0.0) for t in texts] for a in attrs])  # (attributes, clean comments)
    positives = [per[a].p[per[a].y == 1] for a in attrs]
    th = np.asarray([thresholds[a] for a in attrs])

    def share(t: np.ndarray) -> float:
        return float((scores >= t[:, None]).any(axis=0).mean())

    while (now := share(th)) > budget:
        best: tuple[float, int, float] | None = None
        for i in range(len(attrs)):
            held = scores[i][scores[i] >= th[i]]
            if not len(held) or held.min() >= GRID[-1]:
                continue
            step = np.copy(th)
            step[i] = float(GRID[np.searchsorted(GRID, held.min(), side="right")])
            released = now - share(step)
            lost = float(np.mean((positives[i] >= th[i]) & (positives[i] < step[i]))) if len(positives[i]) else 0.0
            value = released / (lost + 1e-3)
            if best is None or value > best[0]:
                best = (value, i, step[i])
        if best is None:
            break
        th[best[1]] = best[2]
    return {a: round(float(t), 2) for a, t in zip(attrs, th, strict=True)}


def choose_thresholds(oofs: dict[str, dict[str, OOF]], lovo: list[OOF],
                      holding: tuple[str, ...] = ()) -> dict[str, float]:
    """Per English attribute, plus ``"<attr>/<lang>"`` for the other languages' own operating points (train.py
    maps those onto the English threshold), ``spam_reject`` and the old ``spam_hold``/``abuse_hold`` names.
    ``holding``: the attributes that hold on their own; with spam, their union is kept within
    :data:`CLEAN_NEWS_UNION_BUDGET` (:func:`within_union_budget`)."""
    out: dict[str, float] = {}
    for lang, per in oofs.items():
        for attr, o in per.items():
            groups = None
            if attr == "spam" and lovo:  # YouTube held out by video, SMS by fold: each source once
                sms = _by_source(o).get("sms_spam")
                groups = [(v.y, v.p) for v in lovo] + ([sms] if sms else [])
            t = hold_threshold(o, groups)
            out[attr if lang == "en" else f"{attr}/{lang}"] = t
    if holding and "en" in oofs:
        out.update(within_union_budget(out, oofs["en"], (*holding, "spam")))
    spam = oofs["en"].get("spam")
    if spam is not None:
        clean = _clean_news(spam)
        reject = 0.99
        for t in GRID:
            pred = spam.p >= t
            if pred.sum() and spam.y[pred].mean() >= REJECT_PRECISION and not (clean >= t).any():
                reject = float(t)
                break
        out["spam_reject"] = max(reject, out["spam"])
        out["spam_hold"] = out["spam"]
    out["abuse_hold"] = out["toxicity"]
    return out


def _threshold_for(thresholds: dict[str, float], attr: str, lang: str) -> float:
    return thresholds.get(attr if lang == "en" else f"{attr}/{lang}", thresholds.get(attr, 0.5))


def summarise(oofs: dict[str, dict[str, OOF]], extra: dict[str, list[OOF]], thresholds: dict[str, float],
              holding: tuple[str, ...] = ()) -> dict[str, Any]:
    """Held-out figures: per language, attribute and source (out-of-fold), leave-one-out runs, and the share
    of clean news comments each attribute (and any of them) holds."""
    out: dict[str, Any] = {}
    for lang, per in oofs.items():
        lang_out: dict[str, Any] = {}
        for attr, o in per.items():
            t = _threshold_for(thresholds, attr, lang)
            lang_out[attr] = {s: (M.all_metrics(y, p, t) if len(set(y.tolist())) == 2 else
                                  {"n": len(y), "positives": int(y.sum()), "flagged": float(np.mean(p >= t))})
                              for s, (y, p) in _by_source(o).items()}
        out[lang] = lang_out
    for kind, runs in extra.items():
        out[kind] = {}
        for o in runs:
            attr = o.attribute.split(" ", 1)[0]
            t = _threshold_for(thresholds, attr, "en")
            if len(set(o.y.tolist())) == 2:
                fig = M.all_metrics(o.y, o.p, t)
            else:
                fig = {"n": len(o.y), "flagged": float(np.mean(o.p >= t))}
            out[kind][o.attribute] = fig
    # clean news comments held (the <= 3 % goal), from the OOF predictions: by any English abuse attribute, and
    # by what the service holds on (the holding attributes or spam; phrase rules aside)
    per = oofs.get("en", {})
    figure = _clean_news_held(per, tuple(a for a in per if a != "spam"), thresholds)
    if figure:
        out["clean_news_held_any_abuse_attribute"] = figure
    figure = _clean_news_held(per, (*holding, "spam"), thresholds, _clean_news_texts(per)) if holding else None
    if figure:
        out["clean_news_held"] = figure
    return out


def _clean_news_held(per: dict[str, OOF], attributes: tuple[str, ...], thresholds: dict[str, float],
                     clean: set[str] | None = None) -> dict[str, float] | None:
    """``{"n", "share"}`` of the clean news comments at or above the threshold of any of ``attributes``."""
    held: dict[str, bool] = {}
    for attr in attributes:
        if attr in per:
            t = _threshold_for(thresholds, attr, "en")
            for text, p in _clean_news_by_text(per[attr], clean).items():
                held[text] = held.get(text, False) or p >= t
    return {"n": len(held), "share": float(np.mean(list(held.values())))} if held else None
