"""``moderation evaluate`` (classifier/evaluate*.py) on a tiny synthetic data directory (no ../shared needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from classifier import evaluate
from classifier.evaluate_data import Example, load
from classifier.evaluate_fit import peer_rows
from classifier.evaluate_metrics import fast_auc, figures, reliability
from classifier.evaluate_scorers import peer_recipe_scorer

ABUSIVE = ["you are a stupid idiot", "shut up you pathetic moron", "what a worthless loser", "idiot troll get lost",
           "you disgusting piece of trash", "I will kill you, you moron"]
CLEAN = ["thanks for the article", "great reporting on the council vote", "I disagree with the mayor on taxes",
         "see you at the game on saturday", "the bus route change makes sense", "lovely photos of the river"]
SPAM = ["WIN cash now, call 0800 123 4567", "check out my channel and subscribe", "free ringtones, text WIN to 80082",
        "visit my site for cheap watches", "click here to claim your prize", "earn money from home, email me"]
HAM = ["ok see you later", "love this song so much", "are we still on for lunch", "this video makes me happy",
       "running late, save me a seat", "the chorus is amazing"]


def _rows(pos: list[str], neg: list[str], n: int) -> list[tuple[str, int]]:
    out = []
    for i in range(n):
        out.append((f"{pos[i % len(pos)]} {i}", 1))
        out.append((f"{neg[i % len(neg)]} {i}", 0))
    return out


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "train.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_data(root: Path, n: int = 30) -> Path:
    ab = lambda y: "abusive" if y else "clean"  # noqa: E731
    _write(root / "youtube_spam", ["text", "label", "group"],
           [[t, "spam" if y else "ham", "A" if i % 2 else "B"] for i, (t, y) in enumerate(_rows(SPAM, HAM, n))])
    _write(root / "sms_spam", ["text", "label"], [[f"sms {t}", "spam" if y else "ham"] for t, y in _rows(SPAM, HAM, n)])
    _write(root / "davidson", ["text", "label", "abusive"],
           [[f"tweet {t}", "offensive" if y else "neither", "true" if y else "false"]
            for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "jigsaw_sample", ["text", "label", "toxic", "severe_toxic", "obscene", "threat", "insult",
                                    "identity_hate", "group"],
           [[f"talk {t}", ab(y), y, 0, y, int(y and "kill" in t), y, 0, "random"] for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "civil_comments", ["text", "label", "original_label", "split", "source_site"],
           [[f"news {t}", ab(y), "", "", ""] for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "civil_comments_toxic", ["text", "label", "span_types"],
           [[f"toxic news {t}", "abusive", "Insult"] for t, y in _rows(ABUSIVE, CLEAN, n) if y])
    _write(root / "toxigen", ["text", "label", "group"],
           [[f"gen {t}", ab(y), "x"] for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "hatexplain", ["text", "label", "majority_label"],
           [[f"post {t}", ab(y), "offensive" if y else "normal"] for t, y in _rows(ABUSIVE, CLEAN, n)])
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data(tmp_path_factory.mktemp("datasets"))


def test_ground_truth_per_attribute(data_dir: Path) -> None:
    examples, files = load(data_dir)
    assert "arabic_mpold" not in examples  # missing sources are skipped, not an error
    assert {f["path"] for f in files} >= {"davidson/train.csv", "civil_comments_toxic/train.csv"}
    jig = examples["jigsaw_sample"]
    assert set(jig[0].labels) == {"toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity"}
    assert all(e.labels["toxicity"] == 1 and e.labels["insult"] == 1 for e in examples["civil_comments_toxic"])


def test_peer_recipe_never_sees_test_rows() -> None:
    """The like-for-like peer is trained on the English abuse rows ours may use: no test text (up to case and
    whitespace), no left-out source, nothing from spam or non-English sets."""
    examples = {
        "davidson": [Example("davidson", t, {"toxicity": 1}) for t in ABUSIVE]
                    + [Example("davidson", t, {"toxicity": 0}) for t in CLEAN],
        "toxigen": [Example("toxigen", "stupid moron", {"toxicity": 1})],
        "sms_spam": [Example("sms_spam", "WIN cash now", {"spam": 1})],
        "korean_kmhas": [Example("korean_kmhas", "바보", {"toxicity": 1}, language="ko")],
    }
    test = ["SHUT up  you pathetic moron", "great reporting on the council vote"]
    rows = peer_rows(examples, drop_texts=set(test), drop_sources=("toxigen",))
    texts = {e.text for e in rows}
    assert "shut up you pathetic moron" not in texts and "great reporting on the council vote" not in texts
    assert {e.source for e in rows} == {"davidson"}
    peer = peer_recipe_scorer([e.text for e in rows] * 3, [e.labels["toxicity"] for e in rows] * 3)
    p = [s["toxicity"] for s in peer.score(["what a worthless loser idiot", "thanks for the article"])]
    assert 0 <= p[1] < p[0] <= 1


def test_metrics_and_reliability() -> None:
    y = np.asarray([0, 0, 1, 1, 0, 1])
    p = np.asarray([0.1, 0.4, 0.35, 0.8, np.nan, 0.9])
    m = figures(y, p, 0.5, interval=True)
    assert m["n"] == 5 and m["unscored"] == 1 and m["roc_auc"] == pytest.approx(5 / 6)
    assert m["recall"] == pytest.approx(2 / 3) and m["flagged_clean"] == 0.0
    lo, hi = m["roc_ci"]
    assert 0 <= lo <= hi <= 1
    rng = np.random.default_rng(1)
    yy, pp = rng.integers(0, 2, 300), np.round(rng.random(300), 1)  # with ties
    assert fast_auc(yy, pp) == pytest.approx(roc_auc_score(yy, pp))
    rel = reliability(y, p)
    assert sum(rel["count"]) == 5 and 0 <= rel["ece"] <= 1


def test_report_on_synthetic_data(data_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "evaluation.md"
    cache = tmp_path / "cache.pickle"
    assert evaluate.main(["--data", str(data_dir), "--report", str(report), "--cache", str(cache)]) == 0
    text = report.read_text(encoding="utf-8")
    for heading in ("## Goals (issue #14)", "## Held-out figures per data set and attribute",
                    "### Clean news comments held", "## Calibration", "## Leave one dataset out",
                    "## Spam: SMS", "## Functional suite", "### False-positive rate per identity term",
                    "## News comments in spam's vocabulary", "## Attributes with thin labels"):
        assert heading in text, heading
    assert "alt-profanity-check recipe (retrained)" in text
    assert "previous model (2026.11.26)" in text
    assert "sexually_explicit | none | 0 | **yes**" in text
    pngs = {p.name for p in report.parent.glob("*.png")}
    assert {"reliability_toxicity.png", "lodo_roc_auc.png", "youtube_lovo.png", "functional_suite.png",
            "pr_civil_comments.png"} <= pngs

    # rendering again from the cache (no retraining) gives the same figures, and says where they come from
    again = tmp_path / "again" / "evaluation.md"
    assert evaluate.main(["--reuse", str(cache), "--report", str(again)]) == 0
    reused = again.read_text(encoding="utf-8")
    assert "Retrained figures reused from a cache" in reused
    goals = lambda t: t[t.index("## Goals"):t.index("## Held-out")]  # noqa: E731
    assert goals(reused) == goals(text)
