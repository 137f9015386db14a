"""Word-list rules: normalisation tricks and word-boundary matching."""

from __future__ import annotations

import pytest

from classifier.rules import RuleHit, WordLists, normalise, repeat_fingerprint
from classifier.rules_default import BANNED, SUSPECT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("You 1D10T", "you idiot"),
        ("a$$hole", "asshole"),
        ("sh!t happens", "shit happens"),
        ("St00p1d", "stoopid"),
        ("Café CRÈME brûlée", "cafe creme brulee"),
        ("i d i o t", "idiot"),
        ("i.d.i.o.t", "idiot"),
        ("i-d-i-o-t!", "idiot!"),
        ("idiooooooot", "idioot"),
        ("  lots   of\n space ", "lots of space"),
        ("1000 people in 2024", "1000 people in 2024"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.fixture(scope="module")
def lists() -> WordLists:
    return WordLists(banned=["ass", "idiot", "shut up"], suspect=["stupid", "click here"])


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("a first class performance", []),
        ("the assassin passed the grass", []),
        ("Kiss my a55", [RuleHit("banned", "ass")]),
        ("You absolute I.D.I.O.T", [RuleHit("banned", "idiot")]),
        ("what an idiooooot", [RuleHit("banned", "idiot")]),
        ("idiots everywhere", [RuleHit("banned", "idiot")]),
        ("idiotic idea", []),
        ("SHUT   UP already", [RuleHit("banned", "shut up")]),
        ("shut-up", [RuleHit("banned", "shut up")]),
        ("so STUPIDDDD", [RuleHit("suspect", "stupid")]),
        ("Click here now, you idiot", [RuleHit("banned", "idiot"), RuleHit("suspect", "click here")]),
        ("Stüpid", [RuleHit("suspect", "stupid")]),
    ],
)
def test_wordlists_match(lists: WordLists, text: str, hits: list[RuleHit]) -> None:
    assert lists.match(text) == hits


def test_empty_and_duplicate_terms() -> None:
    w = WordLists(banned=["", "  ", "Idiot", "idiot"], suspect=[])
    assert len(w) == 1
    assert WordLists().match("anything") == []


def test_default_lists_compile_and_work() -> None:
    w = WordLists(BANNED, SUSPECT)
    assert len(w) == len(set(BANNED)) + len(set(SUSPECT))
    assert w.match("Scunthorpe played a first class match in Essex") == []
    assert RuleHit("suspect", "subscribe to my channel") in w.match("pls SUBSCRIBE to my channel!!")


def test_repeat_fingerprint() -> None:
    a = repeat_fingerprint("Check out my channel!!!")
    assert a == repeat_fingerprint("  check   OUT my channel ")
    assert a == repeat_fingerprint("Check out my channel.")
    assert a != repeat_fingerprint("Check out my other channel")
    assert len(a) == 40


def test_prefilter_and_normalised_argument_change_nothing() -> None:
    from classifier.rules import WordLists, fingerprint_normalised, normalise, repeat_fingerprint

    lists = WordLists(banned=["idiot", "shut up"], suspect=["moron", "lizard people"])
    for text in ["You i d 1 0 t", "Sh*t up, m0r0n", "A calm remark", "LIZARD   people!!", ""]:
        norm = normalise(text)
        assert lists.match(text) == lists.match(text, normalised=norm)
        assert repeat_fingerprint(text) == fingerprint_normalised(norm)
    assert [h.term for h in lists.match("you idiots, shut up")] == ["idiot", "shut up"]
    assert lists.match("A calm remark") == []
