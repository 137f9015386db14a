"""The evaluation's ground truth: every shared data set read as labelled examples per attribute.

Which label of which source stands for which attribute is decided here, once, and printed in the report:

| source | attributes (0/1) |
|---|---|
| youtube_spam, sms_spam | spam |
| davidson | toxicity (hate or offensive), identity_attack (hate) |
| jigsaw_sample | toxicity (any flag), severe_toxicity, insult, threat, identity_attack (identity_hate), |
|   | profanity (obscene) |
| civil_comments | toxicity |
| civil_comments_toxic | toxicity (all 1); insult, threat, identity_attack, profanity from the raters' span |
|   | types (rows without spans have none) |
| toxigen | toxicity, identity_attack (every statement is about a group) |
| hatexplain | toxicity (hate or offensive), identity_attack (hate speech) |
| arabic_mpold | toxicity; identity_attack (hate_speech), profanity (vulgar) |
| korean_kmhas | toxicity; identity_attack (origin, race, religion, gender, age), profanity |

``sexually_explicit`` has no labels in any source (the trainer derives weak ones, :mod:`classifier.corpus`).
These are the sources' own labels, not the trainer's: it also infers negatives (e.g. a clean news comment is
no insult) and weights rows by rater agreement, which an evaluation must not do.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

SOURCES = ("youtube_spam", "sms_spam", "davidson", "jigsaw_sample", "civil_comments", "civil_comments_toxic",
           "toxigen", "hatexplain", "arabic_mpold", "korean_kmhas")
LANGUAGE = {"arabic_mpold": "ar", "korean_kmhas": "ko"}
SPAM_SOURCES = ("youtube_spam", "sms_spam")
KMHAS_IDENTITY = frozenset({"origin", "race", "religion", "gender", "age"})  # as classifier/corpus.py
SPAN_ATTRIBUTE = {"Insult": "insult", "Threat": "threat", "Identity based Attack": "identity_attack",
                  "Profane/Obscene": "profanity"}


@dataclass(frozen=True)
class Example:
    """One labelled text; ``labels`` holds only the attributes the source labels for it."""

    source: str
    text: str
    labels: dict[str, int] = field(default_factory=dict)
    group: str = ""  # youtube video, jigsaw draw, ...
    language: str = "en"


def _flag(v: str) -> int:
    return int(str(v).strip().lower() in ("1", "true", "abusive", "spam"))


def _labels(source: str, r: dict[str, str]) -> dict[str, int] | None:
    if source in SPAM_SOURCES:
        return {"spam": _flag(r["label"])}
    if source == "davidson":
        return {"toxicity": _flag(r["abusive"]), "identity_attack": int(r["label"] == "hate")}
    if source == "jigsaw_sample":
        return {"toxicity": _flag(r["label"]), "severe_toxicity": _flag(r["severe_toxic"]),
                "insult": _flag(r["insult"]),
                "threat": _flag(r["threat"]), "identity_attack": _flag(r["identity_hate"]),
                "profanity": _flag(r["obscene"])}
    if source == "civil_comments_toxic":
        spans = {s.strip() for s in str(r.get("span_types", "")).split("|")} - {"", "nan"}
        out = {"toxicity": 1}
        if spans:
            out |= {attr: int(name in spans) for name, attr in SPAN_ATTRIBUTE.items()}
        return out
    if source == "toxigen":
        return {"toxicity": _flag(r["label"]), "identity_attack": _flag(r["label"])}
    if source == "hatexplain":
        return {"toxicity": _flag(r["label"]), "identity_attack": int(r.get("majority_label") == "hatespeech")}
    if source == "arabic_mpold":
        kind = r.get("offense_type", "")
        return {"toxicity": _flag(r["label"]), "identity_attack": int(kind == "hate_speech"),
                "profanity": int(kind == "vulgar")}
    if source == "korean_kmhas":
        classes = set(str(r.get("hate_classes", "")).split("|"))
        return {"toxicity": _flag(r["label"]), "identity_attack": int(bool(classes & KMHAS_IDENTITY)),
                "profanity": int("profanity" in classes)}
    if source == "civil_comments":
        return {"toxicity": _flag(r["label"])}
    return None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(data_dir: str | Path, sources: tuple[str, ...] = SOURCES) -> tuple[dict[str, list[Example]], list[dict]]:
    """Examples per source (sorted by text, so order never depends on the file) and file provenance.

    A source whose ``train.csv`` is missing is skipped (the report says so), so a partial data
    directory still evaluates what it has.
    """
    data_dir = Path(data_dir)
    out: dict[str, list[Example]] = {}
    files: list[dict] = []
    for source in sources:
        path = data_dir / source / "train.csv"
        if not path.is_file():
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        examples = []
        for r in rows:
            text = r.get("text", "")
            labels = _labels(source, r)
            if not text.strip() or labels is None:
                continue
            examples.append(Example(source, text, labels, r.get("group", ""), LANGUAGE.get(source, "en")))
        examples.sort(key=lambda e: (e.text, e.group))
        out[source] = examples
        files.append({"path": f"{source}/train.csv", "rows": len(rows), "sha256": sha256_file(path)})
    return out, files


def positives(examples: dict[str, list[Example]]) -> dict[str, dict[str, tuple[int, int]]]:
    """{attribute: {source: (positives, labelled rows)}} — how much each attribute has to learn from."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for source, exs in examples.items():
        for e in exs:
            for attr, y in e.labels.items():
                pos, n = out.setdefault(attr, {}).get(source, (0, 0))
                out[attr][source] = (pos + y, n + 1)
    return out
