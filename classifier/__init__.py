"""Comment classifier: ``load_model(path=None).score(texts) -> list[Scores]`` (per-attribute, per-language)."""

from classifier.model import ATTRIBUTES, Model, ModelIntegrityError, Scores, load_model

__all__ = ["ATTRIBUTES", "Model", "ModelIntegrityError", "Scores", "load_model"]
