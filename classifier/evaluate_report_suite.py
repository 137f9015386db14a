"""Report sections on hand-written fixtures: the functional suite, identity-term FPR, spam vocabulary."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier import evaluate_plots as plots
from classifier import functional
from classifier.evaluate_metrics import fmt
from classifier.evaluate_report import Goal, _row, record
from classifier.evaluate_scorers import Scorer

if TYPE_CHECKING:
    from classifier.evaluate import Evaluation

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "classifier"
SPAM_VOCABULARY_FIXTURE = FIXTURES / "news_comments_spam_vocabulary.csv"
# A model's spam probability alone never rejects (issue #14): auto-reject also needs this many named signals.
REJECT_SIGNALS = 2
SPAM_FLAG_GOAL = 0.05


def suite_section(ev: Evaluation, out: Path, goals: list[Goal]) -> list[str]:
    if not ev.suite:
        return []
    ours = ev.suite[0]
    names = [r.scorer for r in ev.suite]
    per = [r.per_functionality() for r in ev.suite]
    check = ours.per_functionality(("check",))
    lines = [
        "## Functional suite (HateCheck-style)", "",
        f"`classifier/functional.py` expands {len(ours.cases)} cases from hand-written templates in",
        "`tests/fixtures/classifier/functional/` (no model was trained on them).  Accuracy = share of cases whose",
        "decision (held or published) is the expected one; *check* is the set nobody tuned on; *attr fired* is the",
        "share of abusive cases whose expected attribute (e.g. threat) is at or above its own threshold.", "",
        "| functionality | expected | n | " + " | ".join(names) + " | ours, check set | ours, attr fired |",
        "|---|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for f, d in per[0].items():
        cells = [fmt(p[f]["accuracy"]) if f in p else "n/a" for p in per]
        fired = d["fired_share"]
        lines.append(_row([f, d["label"], d["n"], *cells, fmt(check[f]["accuracy"]) if f in check else "",
                           fmt(fired) if fired is not None else ""]))
    overall = [r.overall() for r in ev.suite]
    lines.append(_row(["**overall**", "", len(ours.cases), *(fmt(o) for o in overall), fmt(ours.overall(("check",))),
                       ""]))
    # Goals are judged on the check set (nobody tuned on it); all cases are shown beside.
    for i, result in enumerate(ev.suite):
        scorer = _scorer(ev, result.scorer)
        checked = result.per_functionality(("check",))
        low = {f: d["accuracy"] for f, d in checked.items() if d["accuracy"] < functional.FUNCTIONALITY_GOAL}
        low_all = [f for f, d in per[i].items() if d["accuracy"] < functional.FUNCTIONALITY_GOAL]
        value = f"check set: {len(checked) - len(low)} of {len(checked)} met"
        if i == 0:
            value += f" (all cases: {len(per[i]) - len(low_all)})"
            if low:
                value += "; below: " + ", ".join(f"{f} {a:.2f}" for f, a in sorted(low.items(), key=lambda x: x[1]))
        record(goals, f"functional suite: every functionality >= {functional.FUNCTIONALITY_GOAL:.0%}", scorer, i == 0,
               not low, value)
        value = f"check set {result.overall(('check',)):.3f}" + (f" (all cases {overall[i]:.3f})" if i == 0 else "")
        record(goals, f"functional suite overall >= {functional.OVERALL_GOAL:.0%}", scorer, i == 0,
               result.overall(("check",)) >= functional.OVERALL_GOAL, value)
    funcs = list(per[0])
    png = out / "functional_suite.png"
    plots.grouped_bars(funcs, [(n, [p.get(f, {}).get("accuracy", math.nan) for f in funcs]) for n, p in
                               zip(names, per, strict=True)], "functional suite: accuracy per functionality",
                       "accuracy", png, goal=functional.FUNCTIONALITY_GOAL)
    lines += ["", f"![functional suite]({png.name})", ""]
    lines += identity_section(ev, goals)
    return lines


def _scorer(ev: Evaluation, name: str) -> Scorer:
    scorers = [ev.shipped, ev.previous, ev.peer, *(ev.heldout.scorers if ev.heldout else [])]
    return next(s for s in scorers if s is not None and s.name == name)


def identity_section(ev: Evaluation, goals: list[Goal]) -> list[str]:
    names = [r.scorer for r in ev.suite]
    fprs = [r.identity_fpr() for r in ev.suite]
    per0 = fprs[0][1]
    factor = functional.IDENTITY_FPR_FACTOR
    lines = [
        "### False-positive rate per identity term (Dixon et al., 2018)", "",
        "Clean templates that mention an identity neutrally or kindly (" + ", ".join(functional.NEUTRAL_IDENTITY) +
        "), expanded per term: share held.", "",
        "| identity term | cases | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names),
        _row(["**all terms**", sum(n for _, n in per0.values()), *(fmt(o) for o, _ in fprs)]),
    ]
    for term in sorted(per0, key=lambda t: (-per0[t][0], t)):
        cells = []
        for _, per in fprs:
            fp, n = per.get(term, (0, 0))
            cells.append(fmt(fp / n) if n else "n/a")
        lines.append(_row([term, per0[term][1], *cells]))
    text = f"identity-term FPR <= {factor:g} x the overall one for every term (neutral templates)"
    for i, (overall, per) in enumerate(fprs):
        over = [f"{t} {fp}/{n}" for t, (fp, n) in sorted(per.items()) if fp and fp / n > factor * overall]
        value = f"overall {overall:.3f}; " + ("over: " + ", ".join(over) if over else f"all {len(per)} terms within")
        record(goals, text, _scorer(ev, ev.suite[i].scorer), i == 0, not over, value if i == 0 else
               f"{len(per) - len(over)}/{len(per)} within")
    return [*lines, ""]


def _rejected(s: Any, reject: float) -> bool:
    signals = getattr(s, "spam_signals", None)
    if signals is None:  # a model from before spam signals: probability alone
        return s.spam >= reject
    return s.spam >= reject and len(signals) >= REJECT_SIGNALS


def fixture_rows() -> list[dict[str, str]]:
    if not SPAM_VOCABULARY_FIXTURE.is_file():
        return []
    with open(SPAM_VOCABULARY_FIXTURE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def score_fixture(scorer: Scorer | None) -> list[Any] | None:
    """The scorer's full ``Scores`` (reasons, spam signals) on the spam-vocabulary fixture."""
    rows = fixture_rows()
    if scorer is None or scorer.model is None or not rows:
        return None
    return list(scorer.model.score([r["text"] for r in rows]))


def spam_vocabulary_section(ev: Evaluation, goals: list[Goal]) -> list[str]:
    from classifier.evaluate_scorers import attributes_of

    rows = fixture_rows()
    if not rows:
        return []
    lines = [
        "## News comments in spam's vocabulary", "",
        f"`{SPAM_VOCABULARY_FIXTURE.name}`: hand-written news comments that use spam's words (prices,",
        "subscriptions, links, prizes) and news-site spam, unseen by every model.  *Flagged*: held as spam or for",
        f"abuse; *rejected*: spam at or above `spam_reject` and (models with spam signals) at least {REJECT_SIGNALS}",
        "independent spam signals, the service's evidence rule.", "",
        "| scorer | set | clean | clean flagged | clean rejected | spam | spam caught |",
        "|---|---|---|---|---|---|---|",
    ]
    false_alarms: list[tuple[float, str, str]] = []
    for scorer in (ev.shipped, ev.previous):
        scores = ev.fixture.get(scorer.name) if scorer is not None else None
        if scorer is None or scores is None:
            continue
        held = scorer.held([attributes_of(s) for s in scores])
        hold, reject = scorer.thresholds.get("spam", 0.5), scorer.thresholds.get("spam_reject", 0.99)
        totals = [0, 0, 0, 0, 0]
        for name in [*sorted({r["set"] for r in rows}, reverse=True), "all"]:
            part = [(r, s, h) for r, s, h in zip(rows, scores, held, strict=True) if name in ("all", r["set"])]
            clean = [(r, s, h) for r, s, h in part if r["label"] == "clean"]
            spam = [s for r, s, h in part if r["label"] == "spam"]
            flagged = [(r, s) for r, s, h in clean if s.spam >= hold or h]
            rejected = sum(_rejected(s, reject) for _, s, _ in clean)
            caught = sum(s.spam >= hold for s in spam)
            lines.append(_row([scorer.name, name, len(clean), len(flagged), rejected, len(spam), caught]))
            if name == "all":
                totals = [len(clean), len(flagged), rejected, len(spam), caught]
                if scorer is ev.shipped:
                    false_alarms = [(s.spam, r["text"], ", ".join(s.reasons.get("spam", [])[:4])) for r, s in flagged]
        n_clean, n_flag, n_rej, n_spam, n_caught = totals
        share = n_flag / n_clean if n_clean else math.nan
        ours = scorer is ev.shipped
        record(goals, f"spam-vocabulary fixture: <= {SPAM_FLAG_GOAL:.0%} of clean comments flagged", scorer, ours,
               share <= SPAM_FLAG_GOAL, f"{n_flag}/{n_clean} ({share:.1%})")
        record(goals, "spam-vocabulary fixture: no clean comment rejected", scorer, ours, n_rej == 0, f"{n_rej}")
        record(goals, "spam-vocabulary fixture: every spam caught", scorer, ours, n_caught == n_spam,
               f"{n_caught}/{n_spam}")
    if false_alarms:
        lines += ["", "Clean comments the shipped model flags (spam probability, top spam reasons):", ""]
        lines += [f"- {p:.2f} {t[:90]!r}: {why}" for p, t, why in sorted(false_alarms, reverse=True)]
    return [*lines, ""]
