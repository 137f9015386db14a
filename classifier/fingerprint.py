"""A digest of the feature definitions that are code, not data (text cleaning, dense features, word lists).

An artefact stores its vocabularies and weights, but the regexes and lexicons that feed them live in
:mod:`classifier.text` and friends; an artefact trained before they changed would score differently with the
same weights.  The digest is computed from their outputs on probe texts (every lexicon entry among them), so
a refactor that keeps every output keeps it; it is recorded in the metadata at training and compared at load.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from classifier import lexicon, phrases
from classifier.framing import PROBES as FRAMING_PROBES
from classifier.lexicon_ar import ADDED_V6, ARABIC_INSULTS
from classifier.text import MAX_CHARS, clean_text, dense_features, dense_names

_FINGERPRINT_PROBES = [
    "", "Great article, thanks.", "Visit www.example.com or http://bit.ly/x and https://a.example.org/p?q=1",
    "mail me: john.doe+x@example.co.uk", "call +44 7700 900123 or 0800-123-4567", "win $500, £20 or 30 dollars",
    "THIS IS ALL CAPS!!!!!", "so so so so so so good", "soooo goooood", "1d10t st00pid m0r0n", "i.d.i.o.t",
    "<a href='http://x.example'>link</a> <b>bold</b> &amp;", "@someone hello", "RT : retweet this", "word " * 500,
    "check out my channel", "subscribe", "please subscribe to me", "click here", "work from home", "text WIN to 80888",
    "promo code", "like this comment if", "free prize giveaway", "you are an idiot", "go to hell", "shut up",
]


_FINGERPRINT_PROBES_V2 = [
    "see https://www.reuters.com/world/article-2024-11-05-12345678/ and bbc.co.uk/news/uk-67891234",
    "details at https://spam.example.com/offer/08001234567/now", "From 2015-2017, on 12/05/2024", "(555) 123-4567",
    "\u0623\u0646\u062a\u064e \u0645\u0640\u0640\u062c\u0646\u0648\u0646\u0629 \u0625\u0644\u0649",
]


_FINGERPRINT_PROBES_V3 = [
    "you idoit", "Every one of you is trsh and tarsh", "istrash youidiot I hatedeaf people", "I h a t e them",
    "Senator Stabenow", "you idiiot, stpuid mroon", "the moon is an itch", "fukc off", "hte",
]


_FINGERPRINT_PROBES_V4 = [
    "\u064a\u0627 \u062d\u0645\u0627\u0631",
    "\u0648\u0627\u0644\u0643\u0644\u0627\u0628 \u0627\u0644\u062e\u0648\u0646\u0629",
    "\u0645\u0642\u0627\u0644 \u062c\u064a\u062f",
    "I don't hate them", "we never really despised it", "I hate them",
    "As a subscriber, my subscription", "please subscribe", "Subscribe to my channel", "subscribe back!!",
]


_FINGERPRINT_PROBES_V6 = ["\u064a\u0627 \u0627\u0647\u0628\u0644", "\u0641\u062e\u0631\u0647", "\u0628\u0643\u0633"]


@lru_cache(maxsize=8)
def definitions_fingerprint(version: int = 1) -> str:
    """A digest of what the artefact cannot carry: the dense features and text cleaning are code (regexes,
    the lexicons), so an artefact trained before they changed scores differently with the same weights.
    Computed from their outputs on probe texts (every lexicon entry among them), so a refactor that keeps
    every output keeps the digest; recorded in the metadata at training and compared at load."""
    lists = {name: getattr(lexicon, name) for name in ("INSULTS", "PROFANITY", "THREATS", "DISMISSALS", "SELF_PROMO")}
    probes = [*_FINGERPRINT_PROBES, *(term for terms in lists.values() for term in terms)]
    if version > 1:
        probes += [*phrases.PROBES, *_FINGERPRINT_PROBES_V2]
    if version > 2:
        probes += _FINGERPRINT_PROBES_V3
    if version > 3:
        lists["ARABIC_INSULTS"] = sorted(ARABIC_INSULTS)
        probes += [*sorted(ARABIC_INSULTS), *_FINGERPRINT_PROBES_V4, *phrases.EXCLUSION_PROBES]
    if version > 4:
        probes += [*FRAMING_PROBES, *phrases.GENERALISATION_PROBES, "You are a m o r o n", "a b c"]
    if version > 5:
        lists["ARABIC_INSULTS_V6_ADDED"] = sorted(ADDED_V6)
        probes += [*sorted(ADDED_V6), *("و" + w for w in sorted(ADDED_V6)), *_FINGERPRINT_PROBES_V6,
                   *phrases.HATRED_PROBES]
    payload = {
        "names": dense_names(version),
        "lists": lists,
        "max_chars": MAX_CHARS,
        "dense": [dense_features(t, version) for t in probes],
        "clean": [clean_text(t, version) for t in probes],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
