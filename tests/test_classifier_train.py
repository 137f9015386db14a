"""The per-attribute, per-language trainer on a tiny synthetic data directory (no ../shared needed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from classifier import ATTRIBUTES, load_model
from classifier.corpus import head_weights, load_corpus
from classifier.splits import fold_of, is_heldout

ABUSIVE = ["you are a stupid idiot", "shut up you pathetic moron", "what a worthless loser", "idiot troll get lost",
           "you disgusting piece of shit, suck my dick", "Smith deserves to be shot", "immigrants are vermin",
           "I will kill you"]
CLEAN = ["thanks for the article", "great reporting on the council vote", "I disagree with the mayor on taxes",
         "see you at the game on saturday", "the bus route change makes sense", "lovely photos of the river",
         "I've been a subscriber for 12 years and was charged twice ($14.99 each)", "the suspect was shot by police"]
SPAM = ["WIN cash now, call 0800 123 4567", "check out my channel and subscribe", "free ringtones, text WIN to 80082",
        "visit my site for cheap watches www.cheap.example.com", "click here to claim your prize"]
HAM = ["ok see you later", "love this song so much", "are we still on for lunch", "this video makes me happy"]
AR_ABUSIVE = ["يا غبي يا حمار", "انت كلب وحقير", "اخرس يا جاهل"]
AR_CLEAN = ["مقال رائع شكرا لكم", "الله يحفظ بلادنا", "خبر مهم جدا"]
KO_ABUSIVE = ["미친돼지새끼 육갑떠네", "꺼져 이 병신아", "개새끼 진짜"]
KO_CLEAN = ["좋은 기사 감사합니다", "서로만이 이렇게 있을때 보기 좋다", "오늘 날씨 좋네요"]


def _rows(pos: list[str], neg: list[str], n: int) -> list[tuple[str, int]]:
    return [row for i in range(n) for row in ((f"{pos[i % len(pos)]} {i}", 1), (f"{neg[i % len(neg)]} {i}", 0))]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "train.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_data(root: Path, n: int = 40) -> Path:
    ab = lambda y: "abusive" if y else "clean"  # noqa: E731
    _write(root / "youtube_spam", ["text", "label", "group"],
           [[t, "spam" if y else "ham", "AB"[i % 2]] for i, (t, y) in enumerate(_rows(SPAM, HAM, n))])
    _write(root / "sms_spam", ["text", "label"], [[f"sms {t}", "spam" if y else "ham"] for t, y in _rows(SPAM, HAM, n)])
    _write(root / "davidson", ["text", "label", "abusive"],
           [[f"tweet {t}", "hate" if y and "vermin" in t else "offensive" if y else "neither", str(bool(y)).lower()]
            for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "jigsaw_sample", ["text", "label", "toxic", "severe_toxic", "obscene", "threat", "insult",
                                    "identity_hate", "group"],
           [[f"talk {t}", ab(y), y, int(y and "shit" in t), int(y and "shit" in t),
             int(y and ("kill" in t or "shot" in t)), y, int(y and "vermin" in t), "random"]
            for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "civil_comments", ["text", "label", "original_label", "split", "source_site"],
           [[f"news {t}", ab(y), "", "", ""] for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "civil_comments_toxic", ["text", "label", "frac_raters_not_toxic", "span_types"],
           [[f"toxic news {t}", "abusive", "0.0", "Threat" if "shot" in t else "Insult"]
            for t, y in _rows(ABUSIVE, CLEAN, n) if y])
    _write(root / "toxigen", ["text", "label", "group"],
           [[f"gen {t}", ab(y), "x"] for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "hatexplain", ["text", "label", "majority_label"],
           [[f"post {t}", ab(y), "hatespeech" if y and "vermin" in t else "offensive" if y else "normal"]
            for t, y in _rows(ABUSIVE, CLEAN, n)])
    _write(root / "arabic_mpold", ["text", "label"], [[t, ab(y)] for t, y in _rows(AR_ABUSIVE, AR_CLEAN, n)])
    _write(root / "korean_kmhas", ["text", "label", "hate_classes"],
           [[t, ab(y), "profanity" if y else "not_hate_speech"] for t, y in _rows(KO_ABUSIVE, KO_CLEAN, n)])
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data(tmp_path_factory.mktemp("datasets"))


def test_corpus_labels_and_pairing(data_dir: Path) -> None:
    examples, files = load_corpus(data_dir)
    assert {f["path"] for f in files} == {f"{s}/train.csv" for s in {e.source for e in examples}}
    assert all(len(str(f["sha256"])) == 64 for f in files)
    assert {e.language for e in examples} == {"en", "ar", "ko"}
    en = [e for e in examples if e.language == "en"]
    idx, y, w = head_weights(en, "toxicity")
    # classes balanced, and within the news family (civil_comments + civil_comments_toxic) too
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())
    news = np.asarray([en[i].source in ("civil_comments", "civil_comments_toxic") for i in idx])
    # paired within the family, then the global class balance rescales them (ToxiGen adds negatives only)
    assert w[news & (y == 1)].sum() == pytest.approx(w[news & (y == 0)].sum(), rel=0.3)
    # civil_comments_toxic never teaches the spam head spam, only ham
    sidx, sy, _ = head_weights(en, "spam")
    assert not any(en[i].source == "civil_comments_toxic" and lab for i, lab in zip(sidx, sy, strict=True))


def test_splits_are_deterministic_and_shared() -> None:
    assert fold_of("a comment", 42) == fold_of("a comment", 42)
    folds = [fold_of(f"text {i}") for i in range(2000)]
    assert set(folds) == {0, 1, 2, 3, 4} and 300 < folds.count(0) < 500
    assert is_heldout("x", 7) == (fold_of("x", 7) == 0)


@pytest.fixture(scope="module")
def trained(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from classifier import train

    out = tmp_path_factory.mktemp("model")
    assert train.main(["--data", str(data_dir), "--out", str(out), "--seed", "3"]) == 0
    return out


def test_train_writes_every_head_threshold_and_provenance(trained: Path, data_dir: Path) -> None:
    model = load_model(trained)
    meta = json.loads((trained / "metadata.json").read_text())
    assert set(model.languages) == {"en", "ar", "ko"}
    assert model.attributes_for("en") == ATTRIBUTES
    assert model.attributes_for("ar") == ("toxicity",)
    for lang in model.languages:
        for attr in model.attributes_for(lang):
            assert 0 < meta["thresholds"][attr] < 1
    assert meta["thresholds"]["spam_reject"] >= meta["thresholds"]["spam"]
    assert {f["path"] for f in meta["training_data"]} >= {"civil_comments_toxic/train.csv", "korean_kmhas/train.csv"}
    assert "sexually_explicit" in meta["thin_labels"]
    assert meta["heldout_metrics"]["lodo"] and meta["heldout_metrics"]["lovo"]
    assert not model.features_changed
    ar, ko, de = model.score(["يا غبي يا حمار", "꺼져 이 병신아", "Das ist ein dummer Artikel, du Idiot"])
    assert (ar.language, set(ar.attributes)) == ("ar", {"toxicity"})
    assert ko.language == "ko" and set(ko.attributes) == set(model.attributes_for("ko"))
    assert not de.language_supported and de.attributes == {}


def test_training_is_reproducible(trained: Path, data_dir: Path, tmp_path: Path) -> None:
    from classifier import train

    again = tmp_path / "again"
    assert train.main(["--data", str(data_dir), "--out", str(again), "--seed", "3", "--skip-heldout"]) == 0
    a, b = load_model(trained), load_model(again)
    probe = ["you stupid idiot", "thanks for the article", "call 0800 123 4567", "꺼져 이 병신아"]
    for x, y in zip(a.score(probe), b.score(probe), strict=True):
        assert x.attributes == y.attributes


def test_fit_model_in_memory(data_dir: Path) -> None:
    from classifier.train import fit_model

    model = fit_model(str(data_dir), seed=1, drop_sources=("davidson",), attributes=("toxicity",))
    assert model.attributes_for("en") == ("toxicity",)
    (s,) = model.score(["you are a stupid idiot 3"])
    assert s.attributes["toxicity"] > 0.5


def test_fit_model_without_the_heldout_fold_still_calibrates(data_dir: Path) -> None:
    """Evaluation's held-out split drops every fold-0 text; the quick Platt fit must use another fold (it was
    fitted on nothing and every probability came out 0.5)."""
    from classifier.corpus import load_corpus
    from classifier.splits import is_heldout
    from classifier.train import fit_model

    examples, _ = load_corpus(data_dir)
    heldout = {e.text for e in examples if is_heldout(e.text, 1)}
    model = fit_model(str(data_dir), seed=1, drop_texts=heldout, attributes=("toxicity", "spam"))
    scores = model.score(["you are a stupid idiot 3", "thanks for the careful reporting 3", "WIN cash text 80086"])
    assert len({round(s.attributes["toxicity"], 6) for s in scores}) > 1
    assert scores[0].attributes["toxicity"] > scores[1].attributes["toxicity"]
