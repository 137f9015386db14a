"""The runtime model: safe loading, batched scoring, explanations."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import FeatureSpace, definitions_fingerprint

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
ARTIFACT_NAME = "model.skops"
METADATA_NAME = "metadata.json"
FORMAT_VERSION = 1
LABELS = ("spam", "abuse")

# Everything the artefact may contain beyond skops' built-in safe types.  Anything else in the
# file is refused: skops never instantiates an object type that is not on this list.
# The artefact is deliberately plain data (dicts, lists, str, float, numpy arrays), so this list
# is empty: no class is ever instantiated from the file.
TRUSTED_TYPES: list[str] = []


class ModelIntegrityError(RuntimeError):
    """The model artefact is missing, tampered with, or contains untrusted types."""


@dataclass(frozen=True)
class Scores:
    """Per-text classifier output.

    ``spam``/``abuse`` are calibrated probabilities; ``reasons`` lists, per label, the top
    positive contributors (most important first, at most 5).
    """

    spam: float
    abuse: float
    reasons: dict[str, list[str]] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class Model:
    """Two linear heads (spam, abuse) over one shared feature space.

    Immutable after construction, so :meth:`score` is thread-safe (the vectorisers' transform
    and numpy/scipy products do not mutate shared state).
    """

    def __init__(self, artifact: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        if artifact.get("format_version") != FORMAT_VERSION:
            raise ModelIntegrityError(f"unsupported artefact format {artifact.get('format_version')!r}")
        self.features = FeatureSpace.from_state(artifact["features"])
        self._heads: dict[str, tuple[np.ndarray, float, float, float]] = {}
        for label in LABELS:
            head = artifact["heads"][label]
            coef = np.asarray(head["coef"], dtype=np.float32)
            if coef.shape != (self.features.n_features,):
                raise ModelIntegrityError(f"{label} head does not match the feature space")
            self._heads[label] = (
                coef,
                float(head["intercept"]),
                float(head["platt_a"]),
                float(head["platt_b"]),
            )
        self._coef_matrix = np.stack([self._heads[lab][0] for lab in LABELS], axis=1)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.version: str = str(self.metadata.get("version", "unversioned"))
        trained_with = self.metadata.get("feature_definitions")
        # None: an artefact from before the digest was recorded (nothing to compare)
        self.features_changed: bool = trained_with is not None and trained_with != definitions_fingerprint()

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Calibrated probabilities only (no explanations) — the fast path used in evaluation."""
        x, _ = self.features.transform(list(texts))
        return self._proba(x)

    def _proba(self, x: Any) -> dict[str, np.ndarray]:
        raw = np.asarray(x @ self._coef_matrix, dtype=np.float64)
        out = {}
        for i, label in enumerate(LABELS):
            _, b, a, c = self._heads[label]
            out[label] = _sigmoid(a * (raw[:, i] + b) + c)
        return out

    def score(self, texts: list[str], *, explain_min: Mapping[str, float] | None = None) -> list[Scores]:
        """Score a batch; result ``i`` belongs to ``texts[i]``.  Pure CPU, thread-safe.

        Vectorised over the batch (see :meth:`FeatureSpace.transform_batch` and
        :meth:`FeatureSpace.explain_batch`); outputs equal :meth:`score_reference` exactly.

        ``explain_min`` (label -> probability) limits the explanations, a third of the scoring CPU, to the
        texts that need them: a text gets ``reasons`` only when some label's probability is >= its entry
        (then for every label, as without it); the others get empty lists.  Intake passes the thresholds at
        which a decision quotes the reasons, so its decisions are unchanged.
        """
        texts = list(texts)
        if not texts:
            return []
        batch = self.features.transform_batch(texts)
        probs = self._proba(batch.x)
        spam, abuse = probs["spam"].tolist(), probs["abuse"].tolist()
        rows = None
        if explain_min is not None:
            floors = [(values, explain_min.get(label)) for label, values in zip(LABELS, (spam, abuse), strict=True)]
            rows = {i for i in range(len(texts))
                    if any(floor is not None and values[i] >= floor for values, floor in floors)}
        explained = self.features.explain_batch(batch, [self._heads[label][0] for label in LABELS], rows=rows)
        return [
            Scores(spam=spam[i], abuse=abuse[i], reasons=dict(zip(LABELS, per_label, strict=True)))
            for i, per_label in enumerate(explained)
        ]

    def score_reference(self, texts: list[str]) -> list[Scores]:
        """:meth:`score` the straightforward way: sklearn's vectorisers, then :meth:`FeatureSpace.explain`
        on each scipy row.  Slow; it is the definition the fast path is tested against and the
        baseline of ``bench/classifier_throughput.py``.
        """
        texts = list(texts)
        if not texts:
            return []
        x, cleaned = self.features.transform_reference(texts)
        x = x.tocsr()
        probs = self._proba(x)
        results: list[Scores] = []
        for i in range(len(texts)):
            row = x[i : i + 1]
            reasons = {label: self.features.explain(row, self._heads[label][0], cleaned[i]) for label in LABELS}
            results.append(Scores(spam=float(probs["spam"][i]), abuse=float(probs["abuse"][i]), reasons=reasons))
        return results


def load_model(path: str | Path | None = None) -> Model:
    """Load a model directory (``None`` -> the shipped default).

    The artefact's sha256 must match ``metadata.json`` and it may only contain the types in
    :data:`TRUSTED_TYPES`; otherwise :class:`ModelIntegrityError` is raised.
    """
    import skops.io as sio

    model_dir = Path(path) if path is not None else DEFAULT_MODEL_DIR
    artifact_path = model_dir / ARTIFACT_NAME
    meta_path = model_dir / METADATA_NAME
    if not artifact_path.is_file() or not meta_path.is_file():
        raise ModelIntegrityError(f"no model in {model_dir} (need {ARTIFACT_NAME} and {METADATA_NAME})")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(f"unreadable {meta_path}: {exc}") from exc
    expected = metadata.get("artifact", {}).get("sha256")
    actual = sha256_file(artifact_path)
    if not expected or actual != expected:
        raise ModelIntegrityError(
            f"{artifact_path} sha256 {actual} does not match metadata ({expected}); refusing to load"
        )
    try:
        untrusted = set(sio.get_untrusted_types(file=artifact_path))
    except Exception as exc:
        raise ModelIntegrityError(f"{artifact_path} is not a valid skops file: {exc}") from exc
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelIntegrityError(f"{artifact_path} contains untrusted types: {unexpected}")
    try:
        artifact = sio.load(artifact_path, trusted=sorted(untrusted))
    except Exception as exc:
        raise ModelIntegrityError(f"{artifact_path} could not be loaded: {exc}") from exc
    if not isinstance(artifact, dict):
        raise ModelIntegrityError("artefact is not a model dictionary")
    model = Model(artifact, metadata)
    if model.features_changed:
        # still usable (same vocabulary and weights), but not the model that was evaluated: say so, loudly
        log.warning("model %s (%s) was trained with other feature definitions (lexicons, patterns) than this "
                    "code's; its scores differ from its metrics. Retrain it: moderation train", model.version, path)
    return model
