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


def test_the_exclusion_guard_changes_no_outcome() -> None:
    texts = [c.text for c in functional.expand()] + phrases.PROBES + phrases.EXCLUSION_PROBES
    for text in texts:
        norm = normalise(text)
        assert phrases.phrase_features(text, exclusion=True)[-1] == float(bool(phrases._EXCLUSION_RE.search(norm)))


@pytest.mark.parametrize(("text", "expected"), [
    ("Mexicans are d1sgust1ng and should leave.", "mexicans are disgusting and should leave"),
    ("Muslims should be kicked out of the country.", "muslims should be kicked out"),
    ("Send them all back where they came from!", "send them all back where they came from"),
    ("Immigrants don't belong here.", "immigrants don't belong here"),
    ("Republicans should leave the party before it is too late.", None),  # a party is left, not expelled from
    ("These players should be banned from the league.", None),
    ("Calling it 'send them back where they came from' politics is fair.", None),  # quoted: counter-speech
])
def test_a_call_to_expel_a_group_holds_for_identity_attack_from_text_version_4(text: str, expected: str | None
                                                                              ) -> None:
    found = phrases.phrase_holds(text, exclusion=True)
    assert found.get("identity_attack") == expected
    assert "identity_attack" not in phrases.phrase_holds(text)  # versions 2-3: not a phrase of theirs


def test_exclusion_is_a_dense_column_of_version_4_only() -> None:
    from classifier.text import dense_features, dense_names

    assert phrases.EXCLUSION_NAME in dense_names(4) and phrases.EXCLUSION_NAME not in dense_names(3)
    assert len(dense_features("Immigrants don't belong here.", 3)) == len(dense_names(3))
    assert dense_features("Immigrants don't belong here.", 4)[dense_names(4).index(phrases.EXCLUSION_NAME)] == 1.0


def test_an_apostrophe_inside_a_quotation_keeps_it_a_quotation() -> None:
    """A news report quoting a threat ("'I'll kill you,' he told the victim") is not the reader's threat; an
    apostrophe in the quoted words does not end the quotation, and text outside quotation marks still holds."""
    assert "threat" not in phrases.phrase_holds("'I'll kill you,' he told the victim, according to the court papers.")
    assert phrases.phrase_holds("I'll kill you, don't 'worry'") == {"threat": "i'll kill you"}
