"""The runtime model: safe loading, language routing, batched per-attribute scoring, explanations."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import MAX_CHARS, FeatureSpace, definitions_fingerprint
from classifier.language import UNDETERMINED, detect
from classifier.phrases import phrase_holds
from classifier.signals import spam_signals
from classifier.spelling import kept_words
from classifier.text import feature_text

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
ARTIFACT_NAME = "model.skops"
METADATA_NAME = "metadata.json"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
# The two heads of a format-1 artefact (the 2026.11.26 model), and the training tasks of train.py.
LABELS = ("spam", "abuse")
# Perspective's attribute names, plus spam.  Scores.attributes holds the ones scored for the text's language.
ATTRIBUTES = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity",
              "sexually_explicit", "spam")
ENGLISH = "en"

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

    ``spam``/``abuse`` are calibrated probabilities (``abuse`` is ``attributes["toxicity"]``; both are 0.0
    when the text's language is not supported: read ``language_supported`` first).  ``attributes`` holds the
    calibrated probability of every attribute scored for ``language`` (keys from :data:`ATTRIBUTES`).
    ``reasons`` lists, per attribute (and ``"abuse"``, an alias of toxicity's), the top positive contributors
    (most important first, at most 5).  ``spam_signals`` names the independent spam evidence found in the text
    (:mod:`classifier.signals`), whatever the language.  ``phrases`` maps an attribute to the curated phrase
    (:mod:`classifier.phrases`: a threat's or dehumanisation's grammatical shape) found in an English text:
    such a match holds the comment on its own, whatever the head's probability (its weight in the head is
    learned from data where these shapes are rare, so "Immigrants are vermin and should be sent back." scored
    identity_attack 0.63 < 0.85 and was published).
    """

    spam: float
    abuse: float
    reasons: dict[str, list[str]] = field(default_factory=dict)
    attributes: dict[str, float] = field(default_factory=dict)
    language: str = ENGLISH
    language_supported: bool = True
    spam_signals: tuple[str, ...] = ()
    phrases: dict[str, str] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class LanguageHeads:
    """One language's feature space and its linear heads (one per attribute), Platt-calibrated."""

    def __init__(self, language: str, state: Mapping[str, Any]) -> None:
        self.language = language
        self.features = FeatureSpace.from_state(state["features"])
        heads = state["heads"]
        self.attributes: tuple[str, ...] = tuple(a for a in ATTRIBUTES if a in heads)
        if not self.attributes or set(heads) - set(ATTRIBUTES):
            raise ModelIntegrityError(f"{language} heads {sorted(heads)} are not attributes")
        coefs = []
        for attr in self.attributes:
            coef = np.asarray(heads[attr]["coef"], dtype=np.float32)
            if coef.shape != (self.features.n_features,):
                raise ModelIntegrityError(f"{language} {attr} head does not match the feature space")
            coefs.append(coef)
        self._coef_matrix = np.stack(coefs, axis=1)
        # Each head's vector is a column of the matrix (a strided view, same values): the heads' weights of
        # one feature share a cache line, so explaining all heads reads each looked-up feature once.
        self.coefs: list[np.ndarray] = list(self._coef_matrix.T)
        self._intercept = np.asarray([float(heads[a]["intercept"]) for a in self.attributes])
        self._platt_a = np.asarray([float(heads[a]["platt_a"]) for a in self.attributes])
        self._platt_b = np.asarray([float(heads[a]["platt_b"]) for a in self.attributes])

    def proba(self, x: Any) -> np.ndarray:
        """(n, len(attributes)) calibrated probabilities for a feature matrix."""
        raw = np.asarray(x @ self._coef_matrix, dtype=np.float64)
        return _sigmoid(self._platt_a * (raw + self._intercept) + self._platt_b)


def _upgrade(artifact: dict[str, Any]) -> dict[str, Any]:
    """A format-1 artefact (spam + abuse heads, English only) as format 2: abuse is toxicity."""
    if artifact.get("format_version") == 1:
        heads = artifact["heads"]
        return {"format_version": 2, "languages": {
            ENGLISH: {"features": artifact["features"], "heads": {"toxicity": heads["abuse"], "spam": heads["spam"]}}}}
    return artifact


class Model:
    """Per-language linear heads over per-language feature spaces (English: every attribute).

    Immutable after construction, so :meth:`score` is thread-safe (the vectorisers' transform
    and numpy/scipy products do not mutate shared state).
    """

    def __init__(self, artifact: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        if artifact.get("format_version") not in READABLE_FORMATS:
            raise ModelIntegrityError(f"unsupported artefact format {artifact.get('format_version')!r}")
        artifact = _upgrade(artifact)
        self._packs = {lang: LanguageHeads(lang, state) for lang, state in sorted(artifact["languages"].items())}
        if ENGLISH not in self._packs:
            raise ModelIntegrityError("the model has no English heads")
        self.features = self._packs[ENGLISH].features
        self.languages: tuple[str, ...] = tuple(self._packs)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.metadata["thresholds"] = _complete_thresholds(self.metadata.get("thresholds", {}))
        self.version: str = str(self.metadata.get("version", "unversioned"))
        if self.features.text_version > 2:  # the spelling repair's word list, loaded now, not on the first comment
            kept_words()
        trained_with = self.metadata.get("feature_definitions")
        # None: an artefact from before the digest was recorded (nothing to compare)
        self.features_changed: bool = trained_with is not None and trained_with != definitions_fingerprint(
            self.features.text_version)

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.metadata["thresholds"])

    def attributes_for(self, language: str) -> tuple[str, ...]:
        """Attributes scored for ``language`` (``"und"``: English's; unsupported: none)."""
        pack = self._pack_for(language)
        return pack.attributes if pack is not None else ()

    def _pack_for(self, language: str) -> LanguageHeads | None:
        return self._packs.get(ENGLISH if language == UNDETERMINED else language)

    def _route(self, texts: list[str], languages: list[str] | None) -> tuple[list[str], dict[str, list[int]]]:
        langs = [detect(t) for t in texts] if languages is None else list(languages)
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            pack = self._pack_for(lang)
            if pack is not None:
                groups.setdefault(pack.language, []).append(i)
        return langs, groups

    def predict_proba(self, texts: list[str], languages: list[str] | None = None) -> dict[str, np.ndarray]:
        """Calibrated probabilities only (no explanations) — the fast path used in evaluation.

        Keys: every attribute of any language (NaN where not scored for a text's language), plus
        ``"abuse"`` (= toxicity) and ``"spam"`` as in :class:`Scores` (0.0 for an unsupported language).
        ``languages`` overrides detection (e.g. to score a data set with its known language).
        """
        texts = list(texts)
        n = len(texts)
        out = {a: np.full(n, np.nan) for a in ATTRIBUTES if any(a in p.attributes for p in self._packs.values())}
        _, groups = self._route(texts, languages)
        for lang, idx in groups.items():
            pack = self._packs[lang]
            x, _ = pack.features.transform([texts[i] for i in idx])
            probs = pack.proba(x)
            for j, attr in enumerate(pack.attributes):
                out[attr][idx] = probs[:, j]
        out["abuse"] = np.nan_to_num(out.get("toxicity", np.full(n, np.nan)), nan=0.0)
        out["spam"] = np.nan_to_num(out.get("spam", np.full(n, np.nan)), nan=0.0)
        return out

    def score(self, texts: list[str], *, explain_min: Mapping[str, float] | None = None,
              languages: list[str] | None = None) -> list[Scores]:
        """Score a batch; result ``i`` belongs to ``texts[i]``.  Pure CPU, thread-safe.

        Texts are routed by detected language (``languages`` overrides detection) to that language's heads,
        each language vectorised as one batch (see :meth:`FeatureSpace.transform_batch` and
        :meth:`FeatureSpace.explain_batch`); outputs equal :meth:`score_reference` exactly.

        ``explain_min`` (attribute, or ``"abuse"`` for toxicity -> probability) limits the explanations, a third
        of the scoring CPU, to the attributes that need them: a text gets ``reasons`` for an attribute only when
        its probability is >= the attribute's entry (attributes without an entry: whenever some attribute of the
        text reaches its entry), the same reasons as without ``explain_min``; every other list is empty.
        Intake passes the thresholds at which a decision quotes an attribute's reasons, so its decisions are
        unchanged.
        """
        texts = list(texts)
        if not texts:
            return []
        floors = _floors(explain_min)
        langs, groups = self._route(texts, languages)
        results: list[Scores | None] = [None] * len(texts)
        for lang, idx in groups.items():
            pack = self._packs[lang]
            batch = pack.features.transform_batch([texts[i] for i in idx])
            probs = pack.proba(batch.x)
            rows = None
            if floors is not None:
                floor_of = [floors.get(a) for a in pack.attributes]
                unfloored = floor_of.count(None)
                rows = {}
                for r, row in enumerate(probs.tolist()):
                    over = [j for j, (p, f) in enumerate(zip(row, floor_of, strict=True)) if f is None or p >= f]
                    if len(over) > unfloored:  # some attribute reached its floor
                        rows[r] = over
            explained = pack.features.explain_batch(batch, pack._coef_matrix.T, rows=rows)
            for r, i in enumerate(idx):
                results[i] = _scores(pack, probs[r].tolist(), explained[r], langs[i], texts[i])
        for i, res in enumerate(results):
            if res is None:
                results[i] = Scores(0.0, 0.0, {}, {}, langs[i], False, spam_signals(texts[i]))
        return results  # type: ignore[return-value]

    def score_reference(self, texts: list[str], languages: list[str] | None = None) -> list[Scores]:
        """:meth:`score` the straightforward way: sklearn's vectorisers, then :meth:`FeatureSpace.explain`
        on each scipy row.  Slow; it is the definition the fast path is tested against and the
        baseline of ``bench/classifier_throughput.py``.
        """
        texts = list(texts)
        if not texts:
            return []
        langs = [detect(t) for t in texts] if languages is None else list(languages)
        results: list[Scores] = []
        for text, lang in zip(texts, langs, strict=True):
            pack = self._pack_for(lang)
            if pack is None:
                results.append(Scores(0.0, 0.0, {}, {}, lang, False, spam_signals(text)))
                continue
            x, cleaned = pack.features.transform_reference([text])
            x = x.tocsr()
            probs = pack.proba(x)[0].tolist()
            explained = [pack.features.explain(x[0:1], coef, cleaned[0], raw=text[:MAX_CHARS]) for coef in pack.coefs]
            results.append(_scores(pack, probs, explained, lang, text))
        return results


def _floors(explain_min: Mapping[str, float] | None) -> dict[str, float] | None:
    if explain_min is None:
        return None
    floors = {k: float(v) for k, v in explain_min.items() if v is not None and k != "abuse"}
    if explain_min.get("abuse") is not None:
        floors.setdefault("toxicity", float(explain_min["abuse"]))  # type: ignore[arg-type]
    return floors


def _scores(pack: LanguageHeads, probs: list[float], explained: list[list[str]], lang: str, text: str) -> Scores:
    attributes = dict(zip(pack.attributes, probs, strict=True))
    reasons = dict(zip(pack.attributes, explained, strict=True))
    reasons["abuse"] = reasons.get("toxicity", [])
    return Scores(
        spam=attributes.get("spam", 0.0), abuse=attributes.get("toxicity", 0.0), reasons=reasons, attributes=attributes,
        language=lang, language_supported=True, spam_signals=spam_signals(text), phrases=_phrases(pack, text),
    )


def _phrases(pack: LanguageHeads, text: str) -> dict[str, str]:
    """The curated phrases found in ``text``: English heads whose features have the phrase lexicons (text
    version 2 on), on the text as the features see it (:func:`classifier.text.feature_text`)."""
    version = pack.features.text_version
    if pack.language != ENGLISH or version < 2:
        return {}
    text = text[:MAX_CHARS]
    found = phrase_holds(feature_text(text, version), exclusion=version > 3, generalisation=version > 4,
                         hatred=version > 5)
    return {a: p for a, p in found.items() if a in pack.attributes}


def _complete_thresholds(thresholds: Mapping[str, float]) -> dict[str, float]:
    """Metadata thresholds with every contract key: per attribute, ``spam_reject``, and the old names.

    A format-1 model's metadata has only ``spam_hold``/``abuse_hold``/``spam_reject``: toxicity holds at
    ``abuse_hold``, spam at ``spam_hold``.
    """
    out = {k: float(v) for k, v in thresholds.items()}
    if "toxicity" not in out and "abuse_hold" in out:
        out["toxicity"] = out["abuse_hold"]
    if "spam" not in out and "spam_hold" in out:
        out["spam"] = out["spam_hold"]
    out.setdefault("abuse_hold", out.get("toxicity", 0.5))
    out.setdefault("spam_hold", out.get("spam", 0.5))
    out.setdefault("spam_reject", 0.99)
    return out


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
