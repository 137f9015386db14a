"""Text version 4: a reader's subscription is not spam vocabulary; a promoter's "subscribe to me" still is."""

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
