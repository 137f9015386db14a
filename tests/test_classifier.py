"""Contract, behaviour, determinism and safe-loading tests for the shipped classifier."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifier import Model, ModelIntegrityError, Scores, load_model
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
    assert {"python", "sklearn", "numpy"} <= set(meta["versions"])
    assert meta["training_data"] and all("sha256" in f and "rows" in f for f in meta["training_data"])
    assert "created_at" in meta and "seed" in meta
    texts = [SPAM, ABUSE, POLITE, "", "ok"]
    out = model.score(texts)
    assert len(out) == len(texts)
    for s in out:
        assert isinstance(s, Scores)
        assert 0.0 <= s.spam <= 1.0 and 0.0 <= s.abuse <= 1.0
        assert set(s.reasons) == {"spam", "abuse"}
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
