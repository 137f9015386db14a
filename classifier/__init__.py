"""Spam/abuse comment classifier: ``load_model(path=None).score(texts) -> list[Scores]``."""

from classifier.model import Model, ModelIntegrityError, Scores, load_model

__all__ = ["Model", "ModelIntegrityError", "Scores", "load_model"]
