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
run retrains 10 models; ``--skip-lodo`` / ``--skip-lovo`` leave parts out.  The retrained models' scores are
kept in a cache outside the project (``--cache``, default in the temp directory: it holds data-set texts);
``--reuse CACHE`` renders again from it with the current shipped model (its thresholds, the functional suite
and the fixtures are recomputed, the retraining is not) — e.g. when only the shipped artefact changed since.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import functional
from classifier.evaluate_data import Example, load
from classifier.evaluate_fit import banned_texts, fit_ours, fit_peer
from classifier.evaluate_report import render
from classifier.evaluate_report_suite import score_fixture
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
    fixture: dict[str, list[Any]] = field(default_factory=dict)  # scorer name -> Scores on the spam fixture
    code: str = ""  # git commit of the training code the retrained figures come from
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_heldout(ev: Evaluation, data: str) -> None:
    test = [e for src in sorted(ev.examples) for e in ev.examples[src] if is_heldout(e.text, ev.seed)]
    banned = banned_texts(ev.examples, (e.text for e in test))
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
        banned = banned_texts(ev.examples, (e.text for e in test))
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
        run.add(fit_ours(data, seed=ev.seed, drop_texts=banned_texts(ev.examples, (e.text for e in test)),
                         attributes=("spam",),
                         thresholds=ev.shipped.thresholds))
        run.add(ev.previous)
        ev.lovo[video] = run


def run_suite(ev: Evaluation) -> None:
    """The functional suite and the spam-vocabulary fixture (scorers already done are kept)."""
    cases = functional.expand()
    peer_recipe = ev.heldout.scorers[-1] if ev.heldout and ev.heldout.scorers else None
    for scorer in (ev.shipped, ev.previous, ev.peer, peer_recipe):
        if scorer is not None and scorer.score is not None and scorer.name not in {r.scorer for r in ev.suite}:
            ev.suite.append(functional.run(scorer, cases))
    for scorer in (ev.shipped, ev.previous):
        scores = score_fixture(scorer)
        if scorer is not None and scores is not None:
            ev.fixture[scorer.name] = scores


def _git_head() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPORT.parent.parent.parent,  # noqa: S607
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def reuse(cache: Path, model_dir: str | None) -> Evaluation:
    """A cached evaluation with the current shipped model: thresholds, suite and fixtures recomputed."""
    with open(cache, "rb") as fh:
        ev: Evaluation = pickle.load(fh)  # noqa: S301 - our own cache file, written by save()
    ev.shipped = shipped_scorer(model_dir)
    ev.model_dir = str(model_dir or "classifier/models/default")
    ev.previous, ev.peer = previous_scorer(), peer_shipped_scorer()
    for run in [ev.heldout, *ev.lodo.values(), *ev.lovo.values()]:
        for s in run.scorers if run else []:
            if s.name.startswith("ours"):
                s.thresholds, s.holding = dict(ev.shipped.thresholds), ev.shipped.holding
    keep = {s.name for s in (ev.previous, ev.peer) if s is not None} | {"alt-profanity-check recipe (retrained)"}
    ev.suite = [r for r in ev.suite if r.scorer in keep]
    ev.fixture = {}
    t0 = time.monotonic()
    run_suite(ev)
    order = [ev.shipped.name, *(s.name for s in (ev.previous, ev.peer) if s is not None)]
    ev.suite.sort(key=lambda r: order.index(r.scorer) if r.scorer in order else len(order))
    ev.seconds["functional suite"] = time.monotonic() - t0
    ev.notes.append(f"Retrained figures reused from a cache of training code `{ev.code}`; thresholds, functional "
                    f"suite and fixtures are from the shipped model `{ev.shipped.version}`.")
    return ev


def save(ev: Evaluation, cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache, "wb") as fh:
        pickle.dump(ev, fh, protocol=pickle.HIGHEST_PROTOCOL)
    _log(f"cache: {cache} (reuse with --reuse {cache})")


def evaluate(data: str, model_dir: str | None, seed: int = DEFAULT_SEED, lodo: bool = True,
             lovo: bool = True) -> Evaluation:
    """Compute every figure of the report (retraining as needed)."""
    shipped = shipped_scorer(model_dir)
    examples, files = load(data)
    ev = Evaluation(str(model_dir or "classifier/models/default"), shipped, previous_scorer(), peer_shipped_scorer(),
                    seed, files, examples, code=_git_head())
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
    parser = argparse.ArgumentParser(prog="moderation evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/datasets", help="datasets directory")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--report", default=str(REPORT), help="report path; PNGs are written beside it")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="split seed (the held-out fold is a hash of seed and text; training uses the same)")
    parser.add_argument("--skip-lodo", action="store_true", help="no leave-one-dataset-out retraining")
    parser.add_argument("--skip-lovo", action="store_true", help="no YouTube leave-one-video-out retraining")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "moderation-evaluate.pickle"),
                        help="where the computed evaluation is kept (outside the project: it holds data texts)")
    parser.add_argument("--reuse", default=None, metavar="CACHE",
                        help="render from a cache, re-scoring only the shipped model (no retraining)")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    if args.reuse:
        ev = reuse(Path(args.reuse), args.model)
    else:
        ev = evaluate(args.data, args.model, args.seed, lodo=not args.skip_lodo, lovo=not args.skip_lovo)
        ev.seconds["total"] = time.monotonic() - t0
        save(ev, Path(args.cache))
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
    # run the imported module's main, so the cache pickles classifier.evaluate.Evaluation, not __main__'s
    from classifier.evaluate import main as _main

    raise SystemExit(_main())
