"""Text version 5: abuse quoted to condemn it, a negated threat, "a m o r o n", negative generalisations."""

from __future__ import annotations

import pytest

from classifier.fingerprint import definitions_fingerprint
from classifier.framing import NEGATED_HARM_TOKEN, QUOTED_TOKEN, mask_reported, negate_harm
from classifier.phrases import GENERALISATION_NAME, generalisation_feature, phrase_match
from classifier.spelling import join_spaced_after_article, respellings
from classifier.text import LATEST, clean_text, dense_features, dense_names


@pytest.mark.parametrize(("text", "gone"), [
    ("Calling refugees 'vermin' is disgusting, and the paper should remove those comments.", "vermin"),
    ("Saying 'Jews are animals' is hate speech, plain and simple.", "animals"),
    ("Someone sprayed 'kill all Muslims' on the bus shelter. Please report it to the police.", "kill"),
    ("The comments under this story calling immigrants scum say more about the commenters.", "scum"),
    ("When people call Muslims a plague, they are repeating century-old propaganda.", "plague"),
    ("Using the word \u201cretard\u201d about anyone is unacceptable.", "retard"),
])
def test_abuse_reported_to_condemn_it_leaves_the_text(text: str, gone: str) -> None:
    masked = mask_reported(text)
    assert QUOTED_TOKEN in masked and gone not in masked.lower()
    assert gone not in clean_text(text, 5).lower()
    assert gone in clean_text(text, 4).lower()  # older versions are unchanged (shipped artefacts)


@pytest.mark.parametrize("text", [
    "You are an 'idiot' and a 'journalist' in name only.",  # scare quotes: no reporting, no condemnation
    "I'm saying 'you are an idiot'",  # reported but not condemned
    "That 'journalist' is a disgrace",  # condemned but not reported
    "Calling gay people is disgusting",  # no word after the group
    "They called the police, which is wrong",  # "call" + a group + "the"/"police" is not a name
    "They are calling it a crime, which is wrong",
])
def test_quotation_marks_alone_do_not_launder_abuse(text: str) -> None:
    assert mask_reported(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("Christians are not a threat to anyone.", f"Christians are not a {NEGATED_HARM_TOKEN} to anyone."),
    ("Immigrants aren't a burden", f"Immigrants aren't a {NEGATED_HARM_TOKEN}"),
    ("Refugees are not really a danger", f"Refugees are not really a {NEGATED_HARM_TOKEN}"),
    ("Immigrants are a burden", "Immigrants are a burden"),
    ("This is a threat to democracy", "This is a threat to democracy"),
])
def test_a_negated_harm_noun_is_one_token(text: str, expected: str) -> None:
    assert negate_harm(text) == expected


def test_an_article_swallowed_by_spaced_letters_is_split_off() -> None:
    assert join_spaced_after_article("You are a m o r o n here") == "You are a moron here"
    assert join_spaced_after_article("a b c and a n d") == "a b c and a n d"  # not a target word
    assert "a moron" in clean_text("You are a m o r o n and everyone here knows it.", 5)
    assert "amoron" in clean_text("You are a m o r o n and everyone here knows it.", 4)
    assert respellings("You are a m o r o n")["moron"] == "m o r o n"


@pytest.mark.parametrize("text", [
    "Immigrants are a drain on this country and always will be.",
    "Why are gay people so disgusting?",
    "Muslims can't be trusted.",
    "I would never trust a Jewish man with money.",
    "Honestly, I believe Hindus are inferior.",
    "Gay people have no place in a decent society.",
    "Nothing good has ever come from letting Mexicans vote.",
])
def test_a_negative_generalisation_about_a_group_is_found(text: str) -> None:
    assert generalisation_feature(text) == 1.0
    assert phrase_match(GENERALISATION_NAME, text)


@pytest.mark.parametrize("text", [
    "Muslims are not dangerous, whatever the headline says.",
    "These rules are stupid.",
    "Christians are organising a food drive on Saturday.",
    "Republicans are ruining the country.",  # an opinion about a party, not an identity
    "Some people are lazy about recycling.",
    "Six people with hoodies were dangerous, police said.",
])
def test_other_statements_are_not_generalisations(text: str) -> None:
    assert generalisation_feature(text) == 0.0


def test_version_5_adds_one_dense_column_and_keeps_older_digests() -> None:
    assert LATEST >= 5
    assert dense_names(5) == [*dense_names(4), GENERALISATION_NAME]
    assert len(dense_features("Immigrants are a drain on this country", 5)) == len(dense_names(5))
    assert dense_features("Immigrants are a drain on this country", 5)[-1] == 1.0
    # the shipped artefacts of versions 1-5 score as they were evaluated
    assert [definitions_fingerprint(v) for v in (1, 2, 3, 4, 5)] == [
        "d9c5f4b51504286a", "39e9d26ebafc54cc", "5b0d4e21ff88f225", "77b68ddb99ae4d90", "ead397829a64372d"]


@pytest.mark.parametrize(("text", "held"), [
    ("Why do Jews always have to ruin everything?", True),
    ("Muslims can't be trusted.", True),
    ("It's not true that Muslims are dangerous.", False),  # denied
    ("The myth that immigrants are lazy has been debunked again.", False),
    ("Calling Jews 'vermin' is disgusting.", False),  # the quotation is not the reader's claim
])
def test_a_generalisation_holds_for_identity_attack_from_version_5(text: str, held: bool) -> None:
    from classifier.phrases import phrase_holds
    from classifier.text import feature_text

    found = phrase_holds(feature_text(text, 5), exclusion=True, generalisation=True)
    assert ("identity_attack" in found) is held
    assert "identity_attack" not in phrase_holds(feature_text(text, 4), exclusion=True)  # version 4 unchanged


def test_reported_speech_condemned_is_not_the_readers_threat() -> None:
    text = "The man at the rally shouted that Muslims should be shot. That is a crime and he should be charged."
    assert "shot" not in mask_reported(text)
    assert "he should be charged" in mask_reported(text)  # the reader's own sentence is kept
    assert mask_reported("He said that Muslims should be shot.") == "He said that Muslims should be shot."


@pytest.mark.parametrize(("text", "expected"), [
    ("It's not true that Muslims are dangerous.", "It's not true that xdeniedx."),
    ("The myth that immigrants are lazy is old.", "The myth that xdeniedx."),
    ("I have nothing against Christians.", "I have xnegverbx Christians."),
    ("It is true that you are an idiot", "It is true that you are an idiot"),  # asserted, not denied
])
def test_a_denied_claim_leaves_the_text(text: str, expected: str) -> None:
    from classifier.framing import deny

    assert deny(text) == expected
    assert clean_text(text, 4) != clean_text(expected, 4) or text == expected


@pytest.mark.parametrize(("text", "held"), [
    ("I hate lesbians.", True),
    ("We despise all immigrants.", True),
    ("I h4t3 deaf people.", True),  # leetspeak is normalised first
    ("This paper is run by kikes now.", True),  # a slur used as a noun
    ("I don't hate Muslims.", False),  # negated: version 4's xnegverbx
    ("I hate Mondays and I hate people who litter.", False),  # not a group
    ("Calling them 'kikes' is vile.", False),  # quoted: the reader reports the word
    ("There is a chink in the armour, spic and span.", False),  # everyday words left out of the list
    ("As a queer woman, I loved this piece.", False),  # reclaimed words are not listed
])
def test_version_6_holds_stated_hatred_and_slurs(text: str, held: bool) -> None:
    from classifier.phrases import HATRED_NAME, phrase_holds
    from classifier.text import feature_text

    found = phrase_holds(feature_text(text, 6), exclusion=True, generalisation=True, hatred=True)
    assert ("identity_attack" in found) is held
    # the feature reads the reframed text: the condemned quotation is xquotedx there
    assert dense_features(text, 6)[dense_names(6).index(HATRED_NAME)] == float(held)
    assert HATRED_NAME not in dense_names(5)
    assert "identity_attack" not in phrase_holds(feature_text(text, 5), exclusion=True, generalisation=True)


def test_a_bigram_with_a_placeholder_is_named_never_shown_as_the_token() -> None:
    from classifier.text import term_label

    assert term_label("call xphonex") == "'call' + phone number"
    assert term_label("xphonex") == "phone number"
    assert term_label("shut up") == "'shut up'"
