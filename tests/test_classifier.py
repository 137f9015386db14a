"""Contract, behaviour, determinism and safe-loading tests for the shipped classifier."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifier import ATTRIBUTES, Model, ModelIntegrityError, Scores, load_model
from classifier.data import Row
from classifier.model import ARTIFACT_NAME, DEFAULT_MODEL_DIR, METADATA_NAME
from classifier.train import train_heads

FIXTURES = Path(__file__).parent / "fixtures" / "classifier"

SPAM = "Subscribe to my channel!!! check out my videos http://bit.ly/abc123"
ABUSE = "you are a stupid idiot"
POLITE = (
    "Thanks for this report. I think the council should publish the full budget before the vote, "
    "so residents can judge the trade-offs for themselves."
)


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def test_interface_contract(model: Model) -> None:
    assert isinstance(model.version, str) and model.version
    meta = model.metadata
    assert {"spam_reject", "spam_hold", "abuse_hold"} <= set(meta["thresholds"])
    assert {"spam_reject", *model.attributes_for("en")} <= set(meta["thresholds"])
    assert {"python", "sklearn", "numpy"} <= set(meta["versions"])
    assert meta["training_data"] and all("sha256" in f and "rows" in f for f in meta["training_data"])
    assert "created_at" in meta and "seed" in meta
    texts = [SPAM, ABUSE, POLITE, "", "ok"]
    out = model.score(texts)
    assert len(out) == len(texts)
    for s in out:
        assert isinstance(s, Scores)
        assert 0.0 <= s.spam <= 1.0 and 0.0 <= s.abuse <= 1.0
        assert s.language_supported and s.language in {"en", "und"}
        assert set(s.attributes) == set(model.attributes_for("en")) <= set(ATTRIBUTES)
        assert s.abuse == s.attributes["toxicity"] and s.spam == s.attributes["spam"]
        assert set(s.reasons) == {*s.attributes, "abuse"} and s.reasons["abuse"] == s.reasons["toxicity"]
        assert isinstance(s.spam_signals, tuple)
        for reasons in s.reasons.values():
            assert isinstance(reasons, list) and len(reasons) <= 5
            assert all(isinstance(r, str) and r for r in reasons)
    assert model.score([]) == []
    with pytest.raises(AttributeError):
        out[0].spam = 0.5  # type: ignore[misc]


def test_batch_equals_individual(model: Model) -> None:
    texts = [SPAM, ABUSE, POLITE, "Great song!", "FREE entry, call 08001234567 to win £1000"]
    batch = model.score(texts)
    single = [model.score([t])[0] for t in texts]
    for b, s in zip(batch, single, strict=True):
        assert b.spam == pytest.approx(s.spam, abs=1e-6)
        assert b.abuse == pytest.approx(s.abuse, abs=1e-6)
        assert b.reasons == s.reasons


def test_obvious_cases(model: Model) -> None:
    spam, abuse, polite = model.score([SPAM, ABUSE, POLITE])
    hold = model.metadata["thresholds"]
    assert spam.spam > 0.9 and spam.spam > hold["spam_hold"]
    assert abuse.abuse > 0.7 and abuse.abuse > hold["abuse_hold"]
    assert polite.spam < 0.2 and polite.abuse < 0.2
    assert polite.spam < hold["spam_hold"] and polite.abuse < hold["abuse_hold"]
    assert "'subscribe'" in spam.reasons["spam"] or "URL" in spam.reasons["spam"]
    assert any("idiot" in r or "stupid" in r for r in abuse.reasons["abuse"])


def test_reasons_are_positive_contributors(model: Model) -> None:
    (s,) = model.score(["Visit www.example.com and subscribe to my channel"])
    assert s.reasons["spam"][0] in {"URL", "'subscribe'", "'channel'", "'subscribe to'", "'my channel'"}


def _fixture_rows() -> list[Row]:
    with open(FIXTURES / "train_small.csv", encoding="utf-8", newline="") as fh:
        return [Row(r["task"], r["text"], int(r["label"]), "fixture") for r in csv.DictReader(fh)]


def test_training_is_deterministic() -> None:
    rows = _fixture_rows()
    probe = ["subscribe to my channel now", "you moron", "a calm remark about trains", "call 0800 123 4567"]
    a = Model(train_heads(rows, seed=7)).predict_proba(probe)
    b = Model(train_heads(list(reversed(rows)), seed=7)).predict_proba(probe)
    for label in ("spam", "abuse"):
        np.testing.assert_array_equal(a[label], b[label])
    assert a["spam"][0] > a["spam"][2]
    assert a["abuse"][1] > a["abuse"][2]


def _copy_model(tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    return dst


def test_tampered_artifact_is_rejected(tmp_path: Path) -> None:
    dst = _copy_model(tmp_path)
    load_model(dst)  # the untouched copy loads
    art = dst / ARTIFACT_NAME
    data = bytearray(art.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8] = bytes(b ^ 0xFF for b in data[mid : mid + 8])
    art.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load_model(dst)


def test_artifact_with_forged_hash_but_bad_content_is_rejected(tmp_path: Path) -> None:
    from classifier.model import sha256_file

    dst = _copy_model(tmp_path)
    art = dst / ARTIFACT_NAME
    art.write_bytes(b"PK\x03\x04 definitely not a model")
    meta = json.loads((dst / METADATA_NAME).read_text())
    meta["artifact"]["sha256"] = sha256_file(art)
    (dst / METADATA_NAME).write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError):
        load_model(dst)


def test_missing_model_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError):
        load_model(tmp_path)


def test_hand_written_news_comments(model: Model) -> None:
    """Out-of-domain sanity check: news-style comments the model was never trained on."""
    from sklearn.metrics import roc_auc_score

    with open(FIXTURES / "news_comments.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    probs = model.predict_proba([r["text"] for r in rows])
    for head, positive in (("spam", "spam"), ("abuse", "abusive")):
        y = [int(r["label"] == positive) for r in rows]
        assert roc_auc_score(y, probs[head]) >= 0.95, head
    clean = [i for i, r in enumerate(rows) if r["label"] == "clean"]
    hold = model.metadata["thresholds"]
    false_holds = sum(
        1 for i in clean if probs["spam"][i] >= hold["spam_hold"] or probs["abuse"][i] >= hold["abuse_hold"]
    )
    assert false_holds <= 2


def test_load_decisions_csv_and_jsonl(tmp_path: Path) -> None:
    from classifier.data import build_rows, load_decisions

    csv_path = tmp_path / "d.csv"
    csv_path.write_text("text,label\nbuy pills here,spam\nnice article,ham\nyou clown,abusive\nthanks,clean\nx,other\n")
    jsonl_path = tmp_path / "d.jsonl"
    jsonl_path.write_text('{"text": "buy pills here", "label": "spam"}\n\n{"text": "you clown", "label": "abusive"}\n')
    recs, info = load_decisions(csv_path)
    assert info["rows"] == 5 and len(info["sha256"]) == 64
    assert sorted((r.text, r.spam, r.abuse) for r in recs) == [
        ("buy pills here", 1, None),
        ("nice article", 0, None),
        ("thanks", None, 0),
        ("you clown", None, 1),
    ]
    recs2, _ = load_decisions(jsonl_path)
    assert len(recs2) == 2
    rows = build_rows({"decisions": recs})
    assert {(r.task, r.label) for r in rows} == {("spam", 1), ("spam", 0), ("abuse", 1), ("abuse", 0)}
    assert all(r.weight == 3.0 for r in rows)


def test_score_is_thread_safe(model: Model) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [SPAM, ABUSE, POLITE, "call 0800 123 4567 now", "great song"] * 8
    expected = [(s.spam, s.abuse, s.reasons) for s in model.score(texts)]
    with ThreadPoolExecutor(max_workers=4) as ex:
        chunks = list(ex.map(model.score, [texts[i : i + 5] for i in range(0, len(texts), 5)]))
    got = [(s.spam, s.abuse, s.reasons) for chunk in chunks for s in chunk]
    assert got == expected


def test_shipped_model_was_trained_with_this_codes_features(model: Model) -> None:
    """The lexicons and patterns are code, not part of the artefact: change them and the shipped model must be
    retrained (``python -m classifier.train``), or it scores with weights learned for other features."""
    from classifier.features import definitions_fingerprint

    assert model.metadata["feature_definitions"] == definitions_fingerprint(model.features.text_version)
    assert not model.features_changed


def test_model_trained_with_other_features_loads_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                                ) -> None:
    dst = _copy_model(tmp_path)
    meta = json.loads((dst / METADATA_NAME).read_text())
    meta["feature_definitions"] = "0" * 16  # as if trained before a lexicon change
    (dst / METADATA_NAME).write_text(json.dumps(meta))
    with caplog.at_level("WARNING", logger="classifier.model"):
        changed = load_model(dst)
    assert changed.features_changed and "other feature definitions" in caplog.text
    assert changed.score([POLITE]) == load_model().score([POLITE])  # still scores: same weights, same code
    del meta["feature_definitions"]  # a model from before the digest was recorded: nothing to compare
    (dst / METADATA_NAME).write_text(json.dumps(meta))
    assert not load_model(dst).features_changed
