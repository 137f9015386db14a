"""Misspelt abusive words are written right before featurisation (classifier.spelling, text version 3), and
nothing else is: English words, names, non-ASCII text and initials stay as they are."""

from __future__ import annotations

import pytest

from classifier.spelling import TARGETS, repair
from classifier.text import clean_text, dense_features, dense_names


@pytest.mark.parametrize(("text", "expected"), [
    ("you idoit", "you idiot"),                                  # swapped letters
    ("Every one of you is trsh.", "Every one of you is trash."),  # a dropped letter
    ("you are tarsh", "you are trash"),
    ("Black people are disguting", "Black people are disgusting"),
    ("you idiiot", "you idiot"),                                 # an added letter
    ("I htae them", "I hate them"),
    ("Every one of you istrash", "Every one of you is trash"),   # spaces removed
    ("Jews are disgustingand should leave.", "Jews are disgusting and should leave."),
    ("I hatedeaf people.", "I hate deaf people."),
    ("youidiot", "you idiot"),
    ("I h a t e Muslims.", "I hate Muslims."),                   # spaces added
    ("t.r.a.s.h", "trash"),
    ("YOU STPUID TROLL", "YOU stupid TROLL"),                    # shouting is no shelter
])
def test_misspelt_abusive_words_are_repaired(text: str, expected: str) -> None:
    assert repair(text) == expected


@pytest.mark.parametrize("text", [
    "The moon is an itch I can't scratch.",           # one edit from "moron", "bitch": English words
    "Senator Stabenow met Nazir and Michell Moran.",  # names (capitalised) are not repaired or split
    "The council voted to assess the class sizes.",
    "I like hats and the hatch; 'tis the season.",
    "the a b c of it, U.S.A. and J.R.R. Tolkien",    # initials and spaced letters that spell no target
    "covid brexit lol ppl dont youre im",           # not English words, but near no target either
    "أنت مجنونة ، 너 진짜 바보야, café naïve",           # non-ASCII text
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert repair(text) == text


def test_targets_are_words_of_four_letters_or_more() -> None:
    assert {"idiot", "hate", "trash", "fuck", "disgusting"} <= TARGETS
    assert all(len(t) >= 4 and t.isalpha() and " " not in t for t in TARGETS)


def test_version_3_features_see_the_repaired_text() -> None:
    assert clean_text("Shut up, you idoit", 3) == "Shut up, you idiot"
    assert clean_text("Shut up, you idoit", 2) == "Shut up, you idoit"  # an older model scores as it was evaluated
    names = dense_names(3)
    v3 = dict(zip(names, dense_features("Every one of you istrash", 3), strict=True))
    v2 = dict(zip(names, dense_features("Every one of you istrash", 2), strict=True))
    assert v3["insulting term"] > 0 and v3["insult aimed at 'you'"] == 1.0
    assert v2["insulting term"] == 0


@pytest.mark.parametrize("text, expected", [
    ("Shut up, you idoit.", {"idiot": "idoit"}),
    ("Every one of you istrash", {"trash": "istrash"}),
    ("I h a t e them", {"hate": "I h a t e"}),
    ("you idiot, you idoit", {}),  # spelt right too: quoted as written
    ("A fine, civil comment.", {}),
])
def test_respellings_map_each_repaired_word_to_the_readers_spelling(text: str, expected: dict[str, str]) -> None:
    from classifier.spelling import respellings

    assert respellings(text) == expected


def test_reasons_quote_the_readers_spelling_so_the_queue_can_highlight_it() -> None:
    from classifier.explain import _respelled

    assert _respelled(["'idiot'", "'you idiot'", "insulting term"], "Shut up, you idoit.") == [
        "'idoit'", "'you idoit'", "insulting term"]
    assert _respelled(["'idiot'"], "") == ["'idiot'"]
