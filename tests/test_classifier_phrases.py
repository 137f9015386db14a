"""The curated threat/dehumanisation phrases: the cheap guard never changes an outcome, and a match is
reported per attribute for the decision's phrase rule."""

from __future__ import annotations

import pytest

from classifier import functional, phrases
from classifier.rules import normalise


def _without_guard(text: str) -> list[float]:
    norm = normalise(text)
    return [1.0 if phrases._THREAT_RE.search(norm) else 0.0, 1.0 if phrases._DEHUMAN_RE.search(norm) else 0.0]


def test_the_guard_changes_no_outcome() -> None:
    """The guard once lacked "shoot", "choke" and "track" ("I will shoot you" never matched): every text of
    the functional suite and the probes must give what the full patterns give."""
    texts = [c.text for c in functional.expand()] + phrases.PROBES + [
        "I will shoot you", "I'm going to choke you", "we will track you down", "line them up and shoot them",
        "they are less than human", "these people are a pestilence", "deport every last one of the foreigners",
    ]
    for text in texts:
        assert phrases.phrase_features(text) == _without_guard(text), text


@pytest.mark.parametrize(("text", "expected"), [
    ("Immigrants are vermin and should be sent back.", {"identity_attack": "immigrants are vermin"}),
    ("Mayor Smith deserves to be shot", {"threat": "deserves to be shot"}),
    ("I will shoot you", {"threat": "i will shoot you"}),
    ("The suspect was shot by police on Main Street.", {}),
    ("He threatened to kill his neighbour, the court heard.", {}),
])
def test_phrase_holds_names_the_attribute_and_the_phrase(text: str, expected: dict[str, str]) -> None:
    assert phrases.phrase_holds(text) == expected
