"""The Arabic insult list: folded spellings, clitics and pronouns, the dense feature and its reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifier.lexicon_ar import (
    ADDED_V6,
    ARABIC_INSULTS,
    ARABIC_INSULTS_V6,
    NAME,
    arabic_insult_feature,
    arabic_insults,
)
from classifier.text import LATEST, dense_features, dense_names, fold_arabic

FIXTURE = Path(__file__).parent / "fixtures" / "classifier" / "languages.csv"


def _ar_rows() -> list[dict[str, str]]:
    with open(FIXTURE, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["language"] == "ar"]


@pytest.mark.parametrize("text, expected", [
    ("يا حمار", ("حمار",)),  # vocative
    ("والكلاب", ("والكلاب",)),  # conjunction + article
    ("الله يلعنك", ("يلعنك",)),  # attached "you"
    ("كلابهم", ("كلابهم",)),  # attached "their"
    ("الخونة", ("الخونه",)),  # ta marbuta folded to ha before matching
    ("أغبياء", ("اغبياء",)),  # hamza seat folded
])
def test_clitics_pronouns_and_folded_spellings_match(text: str, expected: tuple[str, ...]) -> None:
    assert arabic_insults(fold_arabic(text)) == expected


@pytest.mark.parametrize("text", [
    "شكرا على هذا التقرير المهم",  # thanks for this important report
    "كلية الطب",  # "college" shares its first letters with "dog" (كل...)
    "Thank you, what a dog of an article",  # English is the English lexicon's business
    "",
])
def test_clean_text_and_other_scripts_do_not_match(text: str) -> None:
    assert arabic_insults(fold_arabic(text)) == ()
    assert arabic_insult_feature(fold_arabic(text)) == 0.0


def test_fixture_abusive_rows_match_and_clean_rows_do_not() -> None:
    rows = _ar_rows()
    assert rows
    for r in rows:
        assert bool(arabic_insults(fold_arabic(r["text"]))) == (r["label"] == "abusive"), r["text"]


def test_entries_are_in_folded_spelling() -> None:
    """An entry the folding would change could never match: every entry is already folded."""
    assert all(fold_arabic(w) == w for w in ARABIC_INSULTS_V6)


def test_dense_feature_is_the_last_column_from_text_version_4() -> None:
    assert LATEST >= 4
    assert dense_names(4)[-1] == NAME and NAME not in dense_names(3)
    assert len(dense_features("x", 4)) == len(dense_names(4))
    assert dense_features("انت كلب حقير ووسخ", 4)[-1] == 1.0  # three hits, squashed to 1
    assert dense_features("يا حمار", 4)[-1] == 0.5
    assert dense_features("you are a pig", 4)[-1] == 0.0


def test_the_reason_quotes_the_insults_found() -> None:
    from classifier.explain import _dense_label
    from classifier.features import FeatureSpace

    class _Space:  # only the dense names and the text version are read
        dense_names = dense_names(4)
        text_version = 4

    space: FeatureSpace = _Space()  # type: ignore[assignment]
    j = len(dense_names(4)) - 1
    assert _dense_label(space, j, "انت كلب حقير") == "'كلب'"  # merges with the word's own entry
    assert _dense_label(space, j, "") == NAME
    assert _dense_label(space, j, "يا اهبل") == NAME  # version 4 does not know the word
    space.text_version = 6  # type: ignore[misc]
    assert _dense_label(space, j, "يا اهبل") == "'اهبل'"


@pytest.mark.parametrize(("text", "v5", "v6"), [
    ("يا اهبل", (), ("اهبل",)),  # "you fool": only the longer list knows it
    ("انتم مطبلين", (), ("مطبلين",)),  # "you are (regime) drummers"
    ("والبلطجيه", (), ("والبلطجيه",)),  # conjunction + article + "thugs"
    ("يا حمار", ("حمار",), ("حمار",)),  # the first list's words stay
    ("فخره بابنه", (), ()),  # "his pride in his son": no entry is made out of an everyday word by a clitic
])
def test_version_6_reads_the_longer_list_and_version_5_does_not(text: str, v5: tuple[str, ...],
                                                                v6: tuple[str, ...]) -> None:
    folded = fold_arabic(text)
    assert arabic_insults(folded) == v5
    assert arabic_insults(folded, extended=True) == v6
    assert dense_features(text, 5)[dense_names(5).index(NAME)] == arabic_insult_feature(folded)
    assert dense_features(text, 6)[dense_names(6).index(NAME)] == arabic_insult_feature(folded, extended=True)


def test_the_longer_list_only_adds() -> None:
    assert ARABIC_INSULTS < ARABIC_INSULTS_V6 and not ADDED_V6 & ARABIC_INSULTS
