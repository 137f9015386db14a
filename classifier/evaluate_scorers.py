"""The scorers an evaluation compares: our models (shipped, previous, retrained per split) and the peer.

Every scorer maps texts to ``{attribute: probability}`` dicts (only the attributes it scores for that
text) and carries one hold threshold per attribute, so every figure in the report is computed the same
way for each of them.  Old models (before per-attribute heads) only have ``spam`` and ``abuse``: abuse is
read as ``toxicity``, as the classifier contract says.

alt-profanity-check has one probability (offensive or not) and a 0.5 operating point; it is given as the
score of every abuse attribute, which is how a newsroom would use it (one filter for everything).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ATTRIBUTES: tuple[str, ...] = (
    "toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity", "sexually_explicit", "spam",
)
ABUSE_ATTRIBUTES: tuple[str, ...] = tuple(a for a in ATTRIBUTES if a != "spam")
# A comment is held for abuse when one of these is at or above its hold threshold.  Profanity alone does not
# hold (a newsroom publishes "holy shit, the bridge is finally open"; the issue lists holding it as a bug);
# a model can say otherwise in ``metadata["hold_attributes"]``.
HOLDING: tuple[str, ...] = tuple(a for a in ABUSE_ATTRIBUTES if a != "profanity")
PHRASE_RULE = "phrase rule"  # not an attribute: a score dict's flag that a curated phrase holds the text
ROOT = Path(__file__).resolve().parent
PREVIOUS_MODEL_DIR = ROOT / "models" / "2026.11.26"
PREVIOUS_MODEL_COMMIT = "98ccdb9"  # the last commit shipping the two-head model (spam/abuse)

log = logging.getLogger(__name__)

ScoreFn = Callable[[list[str]], list[dict[str, float]]]


@dataclass
class Scorer:
    """A named scoring function with its hold thresholds (attribute -> threshold)."""

    name: str
    score: ScoreFn
    thresholds: dict[str, float]
    holding: tuple[str, ...] = HOLDING
    note: str = ""
    version: str = ""
    attributes: tuple[str, ...] = field(default_factory=tuple)
    model: Any = None  # the classifier.Model behind it, when there is one (for its full Scores)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its scoring function and model (an evaluation cache keeps scores, not models)."""
        return {**self.__dict__, "score": None, "model": None}

    def held(self, scores: Sequence[dict[str, float]]) -> list[bool]:
        """Held for abuse: any holding attribute at or above its threshold, or a curated phrase (the service's
        rule: :data:`PHRASE_RULE` is set by :func:`attributes_of` when ``Scores.phrases`` has a holding one)."""
        return [
            s.get(PHRASE_RULE, 0.0) >= 1.0
            or any(a in s and a in self.thresholds and s[a] >= self.thresholds[a] for a in self.holding)
            for s in scores
        ]

    def column(self, scores: Sequence[dict[str, float]], attribute: str) -> np.ndarray:
        """One attribute's probabilities (NaN where the scorer gave none for that text)."""
        return np.asarray([s.get(attribute, np.nan) for s in scores], dtype=np.float64)


def attributes_of(s: Any) -> dict[str, float]:
    """``Scores`` -> ``{attribute: probability}``, for new (``attributes``) and old (spam/abuse) models; plus
    ``PHRASE_RULE: 1.0`` when a curated phrase of a holding attribute was found (the decision holds on it)."""
    attrs = getattr(s, "attributes", None)
    if attrs:
        out = {k: float(v) for k, v in attrs.items()}
        if any(a in HOLDING for a in getattr(s, "phrases", None) or {}):
            out[PHRASE_RULE] = 1.0
        if "spam" not in out and getattr(s, "spam", None) is not None:
            out["spam"] = float(s.spam)
        return out
    out = {"toxicity": float(s.abuse)}
    if getattr(s, "spam", None) is not None:
        out["spam"] = float(s.spam)
    return out


def thresholds_of(metadata: dict[str, Any]) -> dict[str, float]:
    """Hold threshold per attribute from model metadata (old keys ``abuse_hold``/``spam_hold`` understood)."""
    raw = dict(metadata.get("thresholds", {}))
    out = {a: float(raw[a]) for a in ATTRIBUTES if isinstance(raw.get(a), int | float)}
    if "toxicity" not in out and "abuse_hold" in raw:
        out["toxicity"] = float(raw["abuse_hold"])
    if "spam" not in out and "spam_hold" in raw:
        out["spam"] = float(raw["spam_hold"])
    for k in ("spam_reject",):
        if k in raw:
            out[k] = float(raw[k])
    return out


def model_scorer(model: Any, name: str, note: str = "", batch: int = 512) -> Scorer:
    """A :class:`classifier.Model` as a scorer (no explanations: ``explain_min={}`` skips them)."""

    def score(texts: list[str]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for i in range(0, len(texts), batch):
            out += [attributes_of(s) for s in model.score(texts[i : i + batch], explain_min={})]
        return out

    meta = dict(getattr(model, "metadata", {}) or {})
    holding = tuple(meta.get("hold_attributes", HOLDING))
    attrs = tuple(getattr(model, "attributes", ()) or ())
    if not attrs and hasattr(model, "attributes_for"):
        attrs = tuple(model.attributes_for("en"))
    return Scorer(name, score, thresholds_of(meta), holding, note, str(getattr(model, "version", "")),
                  attrs or ("toxicity", "spam"), model)


def shipped_scorer(model_dir: str | Path | None = None) -> Scorer:
    from classifier.model import load_model

    model = load_model(model_dir)
    return model_scorer(model, "ours (shipped)")


def previous_scorer() -> Scorer | None:
    """The model shipped before per-attribute heads (2026.11.26), or None when it cannot be loaded.

    scores-model keeps a copy in ``classifier/models/2026.11.26/``; without it, it is read from git
    (``git show 98ccdb9:classifier/models/default/...``) into a temporary directory.
    """
    from classifier.model import load_model

    model_dir = PREVIOUS_MODEL_DIR
    if not (model_dir / "model.skops").is_file():
        model_dir = _previous_from_git()
        if model_dir is None:
            return None
    try:
        model = load_model(model_dir)
    except Exception as exc:  # an incompatible artefact format: report it, don't crash the evaluation
        log.warning("previous model %s could not be loaded: %s", model_dir, exc)
        return None
    note = "trained on youtube_spam, sms_spam, davidson and a 600-row jigsaw sample (in-sample there)"
    if getattr(model, "features_changed", False):
        note += "; loaded with today's feature code, which differs from the one it was trained with"
    return model_scorer(model, "previous model (2026.11.26)", note)


def _previous_from_git() -> Path | None:
    import subprocess
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="prev-model-"))
    for name in ("model.skops", "metadata.json"):
        try:
            blob = subprocess.run(  # noqa: S603 - fixed argv, no shell
                ["git", "show", f"{PREVIOUS_MODEL_COMMIT}:classifier/models/default/{name}"],  # noqa: S607
                cwd=ROOT.parent, capture_output=True, check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            log.warning("previous model not in git here: %s", exc)
            return None
        (out / name).write_bytes(blob)
    return out


def peer_shipped_scorer() -> Scorer | None:
    """alt-profanity-check's shipped model (the ``eval`` extra), or None when it is not installed."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        return None

    def score(texts: list[str]) -> list[dict[str, float]]:
        p = np.asarray(predict_prob(texts), dtype=np.float64) if texts else np.zeros(0)
        return [dict.fromkeys(ABUSE_ATTRIBUTES, float(v)) for v in p]

    return Scorer("alt-profanity-check (shipped)", score, dict.fromkeys(ABUSE_ATTRIBUTES, 0.5),
                  note="trained by its authors on all of Davidson and the Kaggle Jigsaw training set",
                  attributes=ABUSE_ATTRIBUTES)


def peer_recipe_scorer(texts: Sequence[str], labels: Sequence[int], name: str = "alt-profanity-check recipe") -> Scorer:
    """alt-profanity-check's published recipe (``profanity_check/data/train_model.py``) fitted on the given rows.

    TF-IDF with English stop words and ``min_df=0.0001``, class-balanced ``LinearSVC``, ``CalibratedClassifierCV``
    (unchanged except for sklearn's renamed ``estimator=`` argument).
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(stop_words="english", min_df=0.0001)
    x = vectorizer.fit_transform(list(texts))
    svm = LinearSVC(class_weight="balanced", dual=False, tol=1e-2, max_iter=100000)
    clf = CalibratedClassifierCV(estimator=svm).fit(x, list(labels))

    def score(batch: list[str]) -> list[dict[str, float]]:
        if not batch:
            return []
        p = clf.predict_proba(vectorizer.transform(batch))[:, 1]
        return [dict.fromkeys(ABUSE_ATTRIBUTES, float(v)) for v in p]

    return Scorer(name, score, dict.fromkeys(ABUSE_ATTRIBUTES, 0.5),
                  note="retrained on the same English abuse rows as ours", attributes=ABUSE_ATTRIBUTES)
