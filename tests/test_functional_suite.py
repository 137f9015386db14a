"""The functional suite (classifier/functional.py): deterministic expansion, and the shipped model's figures pinned.

The pins are a regression guard, not a performance assertion: the figures are whatever the shipped model
scores (``classifier/reports/evaluation.md`` says which goals they meet).  When the shipped model or the
templates change on purpose, regenerate them and commit ``tests/fixtures/classifier/functional/pins.json``:

    .venv/bin/python -m classifier.functional --pin
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from classifier import functional
from classifier.evaluate_scorers import shipped_scorer

REGENERATE = "regenerate with: .venv/bin/python -m classifier.functional --pin"


@pytest.fixture(scope="module")
def cases() -> list[functional.Case]:
    return functional.expand()


@pytest.fixture(scope="module")
def pins() -> dict:
    return json.loads(functional.PINS.read_text(encoding="utf-8"))


def test_expansion_is_deterministic(cases: list[functional.Case]) -> None:
    again = functional.expand()
    assert again == cases
    assert functional.digest(again) == functional.digest(cases)


def test_suite_shape(cases: list[functional.Case]) -> None:
    by_functionality = Counter(c.functionality for c in cases)
    required = {
        "threat_direct", "threat_person", "derogation_implicit", "dehumanisation", "negated_hate", "negated_praise",
        "hate_question", "hate_opinion", "slur_use", "slur_reclaimed", "counter_speech", "identity_neutral",
        "identity_positive", "profanity_no_target", "civil_disagreement",
        *(f"spelling_{name}" for name in functional.SPELLINGS),
    }
    assert required <= set(by_functionality)
    for f in by_functionality:
        sets = {c.set for c in cases if c.functionality == f}
        assert sets == {"tuning", "check"}, f"{f} needs tuning and check templates"
        labels = {c.label for c in cases if c.functionality == f}
        assert len(labels) == 1, f"{f} mixes labels"
    for c in cases:
        assert c.label in ("abusive", "clean")
        assert "{" not in c.text and "[" not in c.text, c.id
    # obfuscations really change the text of the bracketed word
    spelled = [c for c in cases if c.functionality.startswith("spelling_") and c.template == "spl02"]
    assert len({c.text for c in spelled}) == len(functional.SPELLINGS)
    # every identity term appears in the neutral templates (the per-term false-positive rate needs them)
    terms = {c.identity for c in cases if c.functionality == "identity_neutral"}
    assert len(terms) >= 15


def test_pins_match_the_suite(cases: list[functional.Case], pins: dict) -> None:
    assert pins["cases"] == len(cases), REGENERATE
    assert pins["suite_sha256"] == functional.digest(cases), f"the templates or fillers changed; {REGENERATE}"


def test_shipped_model_matches_pinned_figures(cases: list[functional.Case], pins: dict) -> None:
    scorer = shipped_scorer()
    assert pins["model_version"] == scorer.version, f"the shipped model changed; {REGENERATE}"
    result = functional.run(scorer, cases)
    got = {f: {"n": d["n"], "correct": d["correct"]} for f, d in result.per_functionality().items()}
    assert got == pins["per_functionality"], REGENERATE
