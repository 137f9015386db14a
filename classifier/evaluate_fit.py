"""Retraining our model and the peer's recipe for one split (the only place evaluation calls training code).

``fit_ours`` prefers ``classifier.train.fit_model`` (the per-attribute trainer's in-memory entry point:
``fit_model(data_dir, *, seed, drop_texts, drop_sources, attributes) -> Model``: trained without any row
whose text is in ``drop_texts`` or whose source is in ``drop_sources``); without it, it trains the two-head
model of ``classifier.train.train_heads`` on ``classifier.data.load_records``.  Here a training row is also
dropped when it equals a test text up to case and whitespace (the peer's rows too).
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from classifier.evaluate_data import Example
from classifier.evaluate_scorers import Scorer, model_scorer, peer_recipe_scorer

_SPACE = re.compile(r"\s+")


def fold_key(text: str) -> str:
    """A text with case and whitespace folded (near-duplicates of a test text never train)."""
    return _SPACE.sub(" ", text).strip().casefold()


ENGLISH_ABUSE = ("davidson", "jigsaw_sample", "civil_comments", "civil_comments_toxic", "toxigen", "hatexplain")


@functools.lru_cache(maxsize=2)
def _records(data_dir: str) -> Any:
    from classifier.data import load_records

    return load_records(data_dir)[0]


def fit_ours(
    data_dir: str | Path,
    *,
    seed: int,
    drop_texts: set[str] | frozenset[str] = frozenset(),
    drop_sources: Iterable[str] = (),
    attributes: Iterable[str] | None = None,
    name: str = "ours (retrained)",
    thresholds: dict[str, float] | None = None,
) -> Scorer:
    """Our model trained without ``drop_texts`` and ``drop_sources``; ``thresholds`` are the shipped ones."""
    from classifier import train

    t0 = time.monotonic()
    drop_sources = tuple(drop_sources)
    wanted = tuple(attributes) if attributes is not None else None
    fit_model = getattr(train, "fit_model", None)
    if fit_model is not None:
        model = fit_model(str(data_dir), seed=seed, drop_texts=set(drop_texts), drop_sources=drop_sources,
                          attributes=wanted)
    else:
        from classifier.data import build_rows
        from classifier.model import Model

        banned = {fold_key(t) for t in drop_texts}
        records = {k: [r for r in v if fold_key(r.text) not in banned]
                   for k, v in _records(str(data_dir)).items() if k not in drop_sources}
        heads = ("spam", "abuse") if wanted is None else tuple(
            h for h, on in (("spam", "spam" in wanted), ("abuse", bool(set(wanted) - {"spam"}))) if on)
        model = Model(train.train_heads(build_rows(records, seed), seed, heads=heads))
    scorer = model_scorer(model, name)
    if thresholds is not None:
        scorer.thresholds = dict(thresholds)
    print(f"  trained {name} in {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
    return scorer


def banned_texts(examples: dict[str, list[Example]], test_texts: Iterable[str]) -> set[str]:
    """The test texts plus every text of any source equal to one of them up to case and whitespace."""
    test = set(test_texts)
    keys = {fold_key(t) for t in test}
    return test | {e.text for exs in examples.values() for e in exs if fold_key(e.text) in keys}


def peer_rows(examples: dict[str, list[Example]], *, drop_texts: set[str] | frozenset[str] = frozenset(),
              drop_sources: Iterable[str] = ()) -> list[Example]:
    """The English abuse rows (with a toxicity label) the peer recipe may learn from for one split."""
    drop_sources = set(drop_sources)
    banned = {fold_key(t) for t in drop_texts}
    return [e for s in ENGLISH_ABUSE if s in examples and s not in drop_sources for e in examples[s]
            if "toxicity" in e.labels and fold_key(e.text) not in banned]


def fit_peer(examples: dict[str, list[Example]], *, drop_texts: set[str] | frozenset[str] = frozenset(),
             drop_sources: Iterable[str] = ()) -> Scorer:
    """alt-profanity-check's recipe on the English abuse rows (toxicity labels) that ours may use."""
    rows = peer_rows(examples, drop_texts=drop_texts, drop_sources=drop_sources)
    return peer_recipe_scorer([e.text for e in rows], [e.labels["toxicity"] for e in rows],
                              "alt-profanity-check recipe (retrained)")
