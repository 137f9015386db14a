"""Held-out evaluation report: ``moderation evaluate`` (= ``python -m classifier.evaluate``).

    nice -n 10 moderation evaluate --data ../shared/datasets   # -> classifier/reports/evaluation.md + PNGs

What is computed (each beside alt-profanity-check and the previous shipped model):
- **held-out**: one model retrained without the test fold of every source (:mod:`classifier.splits`),
  scored on those test rows: ROC AUC (bootstrap 95 % interval), PR AUC, MCC at the hold threshold, per data
  set and attribute; the share of clean news comments (``civil_comments``) held; Arabic and Korean;
  reliability diagrams per attribute; PR curves;
- **leave one dataset out** for every English abuse source (:data:`classifier.splits.LEAVE_ONE_OUT`);
- **YouTube leave one video out** (spam) and SMS MCC (held-out fold);
- the **functional suite** (:mod:`classifier.functional`) and the identity-term false-positive rates, and the
  news-comments-in-spam-vocabulary fixture, with the shipped model;
- which attributes have thin labels.

Retrained models use the shipped model's thresholds (chosen by training on held-out predictions).  The whole
run retrains 10 models; ``--skip-lodo`` / ``--skip-lovo`` leave parts out.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import functional
from classifier.evaluate_data import Example, load
from classifier.evaluate_fit import fit_ours, fit_peer
from classifier.evaluate_scorers import Scorer, peer_shipped_scorer, previous_scorer, shipped_scorer
from classifier.splits import DEFAULT_SEED, LEAVE_ONE_OUT, is_heldout

REPORT = Path(__file__).resolve().parent / "reports" / "evaluation.md"


@dataclass
class Run:
    """Examples of one setting and each scorer's scores for them (aligned with ``examples``)."""

    name: str
    examples: list[Example]
    scorers: list[Scorer] = field(default_factory=list)
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def add(self, scorer: Scorer | None) -> None:
        if scorer is None:
            return
        self.scorers.append(scorer)
        self.scores[scorer.name] = scorer.score([e.text for e in self.examples])


@dataclass
class Evaluation:
    """Everything the report renders."""

    model_dir: str
    shipped: Scorer
    previous: Scorer | None
    peer: Scorer | None
    seed: int
    files: list[dict]
    examples: dict[str, list[Example]]
    heldout: Run | None = None
    lodo: dict[str, Run] = field(default_factory=dict)
    lovo: dict[str, Run] = field(default_factory=dict)
    suite: list[functional.SuiteResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_heldout(ev: Evaluation, data: str) -> None:
    test = [e for src in sorted(ev.examples) for e in ev.examples[src] if is_heldout(e.text, ev.seed)]
    banned = {e.text for e in test}
    _log(f"held-out: {len(test)} test rows")
    run = Run("held-out", test)
    run.add(fit_ours(data, seed=ev.seed, drop_texts=banned, thresholds=ev.shipped.thresholds))
    run.add(ev.previous)
    run.add(ev.peer)
    run.add(fit_peer(ev.examples, drop_texts=banned))
    ev.heldout = run


def run_lodo(ev: Evaluation, data: str) -> None:
    for name, group in LEAVE_ONE_OUT.items():
        if name not in ev.examples:
            continue
        test = ev.examples[name]
        banned = {e.text for e in test}
        _log(f"leave out {name} ({', '.join(group)}): {len(test)} test rows")
        run = Run(f"leave out {name}", test)
        run.add(fit_ours(data, seed=ev.seed, drop_texts=banned, drop_sources=group, attributes=("toxicity",),
                         thresholds=ev.shipped.thresholds))
        run.add(ev.previous)
        run.add(ev.peer)
        run.add(fit_peer(ev.examples, drop_texts=banned, drop_sources=group))
        ev.lodo[name] = run


def run_lovo(ev: Evaluation, data: str) -> None:
    yt = ev.examples.get("youtube_spam", [])
    for video in sorted({e.group for e in yt}):
        test = [e for e in yt if e.group == video]
        _log(f"leave out YouTube video {video}: {len(test)} rows")
        run = Run(video, test)
        run.add(fit_ours(data, seed=ev.seed, drop_texts={e.text for e in test}, attributes=("spam",),
                         thresholds=ev.shipped.thresholds))
        run.add(ev.previous)
        ev.lovo[video] = run


def run_suite(ev: Evaluation) -> None:
    cases = functional.expand()
    peer_recipe = ev.heldout.scorers[-1] if ev.heldout and ev.heldout.scorers else None
    for scorer in (ev.shipped, ev.previous, ev.peer, peer_recipe):
        if scorer is not None and scorer.name not in {r.scorer for r in ev.suite}:
            ev.suite.append(functional.run(scorer, cases))


def evaluate(data: str, model_dir: str | None, seed: int = DEFAULT_SEED, lodo: bool = True,
             lovo: bool = True) -> Evaluation:
    """Compute every figure of the report (retraining as needed)."""
    shipped = shipped_scorer(model_dir)
    examples, files = load(data)
    ev = Evaluation(str(model_dir or "classifier/models/default"), shipped, previous_scorer(), peer_shipped_scorer(),
                    seed, files, examples)
    if ev.previous is None:
        ev.notes.append("The previous model (2026.11.26) could not be loaded: its columns are missing.")
    if ev.peer is None:
        ev.notes.append("alt-profanity-check is not installed (pip install -e '.[eval]'): its columns are missing.")
    steps: list[tuple[str, Any]] = [("held-out", lambda: run_heldout(ev, data))]
    if lodo:
        steps.append(("leave one dataset out", lambda: run_lodo(ev, data)))
    if lovo:
        steps.append(("leave one video out", lambda: run_lovo(ev, data)))
    steps.append(("functional suite", lambda: run_suite(ev)))
    for name, step in steps:
        t0 = time.monotonic()
        step()
        ev.seconds[name] = time.monotonic() - t0
    return ev


def main(argv: list[str] | None = None) -> int:
    from classifier.evaluate_report import render

    parser = argparse.ArgumentParser(prog="moderation evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets", help="datasets directory")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--report", default=str(REPORT), help="report path; PNGs are written beside it")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="split seed (the held-out fold is a hash of seed and text; training uses the same)")
    parser.add_argument("--skip-lodo", action="store_true", help="no leave-one-dataset-out retraining")
    parser.add_argument("--skip-lovo", action="store_true", help="no YouTube leave-one-video-out retraining")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    ev = evaluate(args.data, args.model, args.seed, lodo=not args.skip_lodo, lovo=not args.skip_lovo)
    ev.seconds["total"] = time.monotonic() - t0
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    text, goals = render(ev, report.parent)
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    report.write_text(text.replace("{generated}", stamp), encoding="utf-8")
    for goal in goals:
        print(f"[{'met' if goal.met else 'NOT met'}] {goal.text}: {goal.value}")
    _log(f"report: {report} ({ev.seconds['total']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
