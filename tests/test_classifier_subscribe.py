"""Text version 4: a reader's subscription is not spam vocabulary (a promoter's "subscribe to me" still is); a
negated verb of hostility ("I don't hate …") is one token."""

from __future__ import annotations

import pytest

from classifier.lexicon import lexicon_features
from classifier.text import clean_text


@pytest.mark.parametrize("text", [
    "As a subscriber, I expect better fact checking.",
    "My subscription renewal price doubled without warning.",
    "I subscribe to three local papers.",
    "Subscribers should get the print edition on Sundays.",
    "Subscribe to the council newsletter if you want the minutes.",
])
def test_a_readers_subscription_leaves_the_ngrams(text: str) -> None:
    assert "subscri" not in clean_text(text, 4).lower()
    assert "subscri" in clean_text(text, 3).lower()  # older versions are unchanged (shipped artefacts)


@pytest.mark.parametrize("text", [
    "Please subscribe",
    "pls subscribe thx",
    "Subscribe to my channel for more videos",
    "SUBSCRIBE TO ME AND I'LL SUBSCRIBE TO YOU",
    "subscribe back!!",
    "Subscribe to our page",
    "I have 3000 subscribers, help me get 100 more subscribers",
    "subscribe",
])
def test_the_promoters_subscribe_stays(text: str) -> None:
    assert "subscri" in clean_text(text, 4).lower()


def test_the_self_promotion_lexicon_still_reads_the_raw_text() -> None:
    promo = lexicon_features("Subscribe to my channel")[-1]
    assert promo > 0


@pytest.mark.parametrize(("text", "expected"), [
    ("I don't hate gay people.", "I don't xnegverbx gay people."),
    ("We never really despised them", "We never really xnegverbx them"),
    ("I do not hate Muslims", "I do not xnegverbx Muslims"),
])
def test_a_negated_verb_of_hostility_becomes_one_token_from_version_4(text: str, expected: str) -> None:
    assert clean_text(text, 4) == expected
    assert clean_text(text, 3) == text.replace("  ", " ")  # older artefacts are scored as trained


@pytest.mark.parametrize("text", ["I hate gay people.", "I can't hate them enough", "Hate speech is hate."])
def test_hostility_that_is_not_negated_stays(text: str) -> None:
    assert "xnegverbx" not in clean_text(text, 4)
