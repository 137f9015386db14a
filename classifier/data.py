"""Dataset loading, training-row construction and the held-out splits shared by train/evaluate."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

DATASETS = ("youtube_spam", "sms_spam", "davidson", "jigsaw_sample")

# Per-row weights by (task, source).  Cross-use of a source as the *negative* class of the other
# head is deliberate: Jigsaw (long-form discussion, the closest thing to news comments) teaches
# the spam head what ordinary argumentative comments look like, and SMS/YouTube "ham" teaches
# the abuse head that informal, slangy text is not abusive by itself (Davidson is 83% abusive,
# so on its own it would learn "tweet-like = abusive").
SOURCE_WEIGHTS: dict[tuple[str, str], float] = {
    ("spam", "youtube_spam"): 1.0,
    ("spam", "sms_spam"): 1.0,
    ("spam", "jigsaw_sample"): 0.3,
    ("spam", "davidson"): 1.0,
    ("spam", "decisions"): 3.0,
    ("abuse", "davidson"): 1.0,
    ("abuse", "jigsaw_sample"): 10.0,
    ("abuse", "sms_spam"): 0.5,
    ("abuse", "youtube_spam"): 0.5,
    ("abuse", "decisions"): 3.0,
}
# How many Davidson "neither" tweets to add as spam-head ham (deterministic sample).
# 0: tested, it cost YouTube leave-one-video-out accuracy (tweets are not comment-section ham).
DAVIDSON_AS_HAM = 0


@dataclass(frozen=True)
class Record:
    """One labelled text from a source file (labels that do not apply are ``None``)."""

    source: str
    text: str
    spam: int | None = None
    abuse: int | None = None
    group: str = ""


@dataclass(frozen=True)
class Row:
    """One training example for one head."""

    task: str  # "spam" | "abuse"
    text: str
    label: int
    source: str
    weight: float = 1.0


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_records(data_dir: str | Path) -> tuple[dict[str, list[Record]], list[dict[str, object]]]:
    """Read every dataset under ``data_dir``; returns records per source and file provenance."""
    data_dir = Path(data_dir)
    out: dict[str, list[Record]] = {}
    files: list[dict[str, object]] = []
    for name in DATASETS:
        path = data_dir / name / "train.csv"
        if not path.is_file():
            raise FileNotFoundError(f"missing dataset file {path}")
        raw = _read_csv(path)
        recs: list[Record] = []
        for r in raw:
            text = r["text"]
            if not text.strip():
                continue
            if name == "youtube_spam":
                recs.append(Record(name, text, spam=int(r["label"] == "spam"), group=r["group"]))
            elif name == "sms_spam":
                recs.append(Record(name, text, spam=int(r["label"] == "spam")))
            elif name == "davidson":
                recs.append(Record(name, text, abuse=int(r["abusive"] == "true"), group=r["label"]))
            else:
                recs.append(Record(name, text, abuse=int(r["label"] == "abusive")))
        recs.sort(key=lambda rec: (rec.text, rec.group))
        out[name] = recs
        files.append({"path": f"{name}/train.csv", "sha256": sha256_file(path), "rows": len(raw)})
    return out, files


def load_decisions(path: str | Path) -> tuple[list[Record], dict[str, object]]:
    """Moderator decisions exported by the service: CSV or JSONL with ``text,label``.

    ``label`` is one of spam|ham|abusive|clean; unknown labels are skipped.
    """
    path = Path(path)
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        rows = _read_csv(path)
    recs: list[Record] = []
    for r in rows:
        text, label = str(r.get("text", "")), str(r.get("label", "")).strip().lower()
        if not text.strip():
            continue
        if label in ("spam", "ham"):
            recs.append(Record("decisions", text, spam=int(label == "spam")))
        elif label in ("abusive", "clean"):
            recs.append(Record("decisions", text, abuse=int(label == "abusive")))
    recs.sort(key=lambda rec: (rec.text, rec.spam or -1, rec.abuse or -1))
    return recs, {"path": str(path), "sha256": sha256_file(path), "rows": len(rows)}


def build_rows(records: dict[str, list[Record]], seed: int = 42) -> list[Row]:
    """Turn source records into per-head training rows (incl. the cross-use described above)."""
    rows: list[Row] = []
    for source in sorted(records):
        recs = records[source]
        for rec in recs:
            if rec.spam is not None:
                rows.append(Row("spam", rec.text, rec.spam, source, SOURCE_WEIGHTS[("spam", source)]))
            if rec.abuse is not None:
                rows.append(Row("abuse", rec.text, rec.abuse, source, SOURCE_WEIGHTS[("abuse", source)]))
        if source == "jigsaw_sample":
            w = SOURCE_WEIGHTS[("spam", source)]
            rows.extend(Row("spam", r.text, 0, source, w) for r in recs)
        elif source == "davidson" and DAVIDSON_AS_HAM:
            pool = [r for r in recs if r.abuse == 0]
            random.Random(seed).shuffle(pool)
            w = SOURCE_WEIGHTS[("spam", source)]
            rows.extend(Row("spam", r.text, 0, source, w) for r in sorted(pool[:DAVIDSON_AS_HAM], key=lambda r: r.text))
        elif source in ("sms_spam", "youtube_spam"):
            w = SOURCE_WEIGHTS[("abuse", source)]
            rows.extend(Row("abuse", r.text, 0, source, w) for r in recs if r.spam == 0)
    return rows


@dataclass(frozen=True)
class Split:
    """One held-out evaluation: train on everything except ``test``; judge ``head`` on ``test``."""

    dataset: str  # report name, e.g. "youtube_spam (leave-out Psy)"
    family: str  # source name the figures aggregate under
    head: str
    test: list[Record]


def _stratified_folds(recs: list[Record], label: str, k: int, seed: int) -> list[list[Record]]:
    folds: list[list[Record]] = [[] for _ in range(k)]
    for cls in (0, 1):
        members = [r for r in recs if getattr(r, label) == cls]
        random.Random(seed).shuffle(members)
        for i, r in enumerate(members):
            folds[i % k].append(r)
    return folds


def heldout_splits(records: dict[str, list[Record]], seed: int = 42) -> Iterator[Split]:
    """The held-out protocol (identical in train.py and evaluate.py).

    YouTube leave-one-video-out; SMS stratified 80/20; Davidson stratified 80/20; Jigsaw
    stratified 5-fold CV (tiny).  Test texts are removed from *all* training rows.
    """
    yt = records["youtube_spam"]
    for video in sorted({r.group for r in yt}):
        yield Split(f"youtube_spam (leave out {video})", "youtube_spam", "spam", [r for r in yt if r.group == video])
    yield Split(
        "sms_spam (stratified 20%)", "sms_spam", "spam", _stratified_folds(records["sms_spam"], "spam", 5, seed)[0]
    )
    yield Split(
        "davidson (stratified 20%)", "davidson", "abuse", _stratified_folds(records["davidson"], "abuse", 5, seed)[0]
    )
    for i, fold in enumerate(_stratified_folds(records["jigsaw_sample"], "abuse", 5, seed)):
        yield Split(f"jigsaw_sample (fold {i + 1}/5)", "jigsaw_sample", "abuse", fold)


def without(records: dict[str, list[Record]], test: list[Record]) -> dict[str, list[Record]]:
    """Records minus the test texts (matched by text, across every source)."""
    banned = {r.text for r in test}
    return {k: [r for r in v if r.text not in banned] for k, v in records.items()}


def reweight(rows: list[Row], factor: float) -> list[Row]:
    return [replace(r, weight=r.weight * factor) for r in rows]
