"""Curated phrase patterns for what n-grams learned from our data miss: threats and dehumanisation.

Why: a direct threat against a named person ("Smith deserves to be shot") or dehumanising language
without a swear word ("immigrants are vermin") is rare in every training set (Jigsaw: 156 threats in
19,725 rows), so word n-grams learn it weakly and from one platform's phrasing.  These patterns are
general grammatical shapes (a violent verb in the passive after "deserve(s)/should/ought to", a
first-person future violent act aimed at someone, a group called vermin), so they carry across sites.
Each is a dense feature the heads weigh like any other (its weight is learned, not set), and the
matched phrase is quoted in the reasons ("'deserves to be shot'").  Matching runs on
:func:`classifier.rules.normalise`-d text, so leetspeak and spacing tricks still match.

Care for generalisation: news reports *about* violence ("the suspect was shot", "he threatened to kill")
must not match, so every threat pattern needs a wish, intent or call ("deserve", "should", "I will",
"hope") with a victim, and dehumanisation needs a group or person as subject.
"""

from __future__ import annotations

import re

from classifier.rules import normalise

_VIOLENT_PASSIVE = (
    r"(?:shot|killed|hanged|hung|lynched|executed|murdered|beheaded|stabbed|strangled|gassed|exterminated|"
    r"burned alive|burnt alive|burned at the stake|put down|strung up|beaten to death|drowned|tortured|"
    r"raped|slaughtered|eliminated|wiped out|run over|thrown off a (?:roof|bridge|cliff)|locked up and tortured)"
)
_VIOLENT_ACTIVE = (
    r"(?:kill|shoot|stab|hang|lynch|murder|behead|strangle|choke|exterminate|slaughter|burn|beat|hurt|"
    r"punch|smash|rape|torture|bury|run over)"
)
_VICTIM = r"(?:you|u|ya|him|her|them|you all|y'?all|your (?:family|kids|wife|husband)|his \w+|her \w+|their \w+|\w+)"
_PERSON = r"(?:you|u|ya|him|her|them|you all|y'?all)"
_GROUP = (
    r"(?:they|them|these people|those people|such people|these \w+|those \w+|all (?:of )?(?:them|these|those) ?\w*|"
    r"(?:muslims?|jews?|immigrants?|migrants?|refugees?|blacks?|whites?|gays?|lesbians?|"
    r"trans(?:gender)? (?:people|women|men)|"
    r"women|men|feminists?|mexicans?|arabs?|christians?|asians?|africans?|indians?|chinese|latinos?|hispanics?|"
    r"liberals?|conservatives?|democrats?|republicans?|leftists?|socialists?|atheists?|catholics?|hindus?|"
    r"foreigners?|natives?|aborigines?|gypsies|roma|homeless(?: people)?|disabled(?: people)?))"
)
_VERMIN = (
    r"(?:animals|vermin|rats|cockroaches|roaches|parasites|insects|maggots|leeches|subhuman|sub-human|savages|"
    r"beasts|apes|monkeys|dogs|pigs|swine|scum|filth|garbage|trash|a disease|a plague|a cancer|a virus|"
    r"an infestation|a pestilence|a scourge|not human|not even human|less than human|inferior|mongrels)"
)

THREAT_PATTERNS = [
    rf"\b(?:deserves?|deserved|ought|needs?|has|have) to (?:be |get )?{_VIOLENT_PASSIVE}",
    rf"\bshould (?:be|get) {_VIOLENT_PASSIVE}",
    r"\b(?:deserves?|needs?|should get|should be given) (?:a bullet|the rope|the noose|the chair|a beating)",
    rf"\b(?:i|we)(?: will|'ll| ll|'m going to| am going to| are going to|'re going to| gonna| shall) "
    rf"{_VIOLENT_ACTIVE} {_VICTIM}",
    rf"\b(?:i|we) (?:hope|wish|pray) (?:you|he|she|they|u|someone|somebody)\b[^.!?]{{0,20}}\b"
    rf"(?:die|dies|gets? {_VIOLENT_PASSIVE}|is {_VIOLENT_PASSIVE}|are {_VIOLENT_PASSIVE}|burns?|rots?)",
    rf"\b(?:someone|somebody) (?:should|needs to|ought to|has to) {_VIOLENT_ACTIVE} {_VICTIM}",
    # a wish for violence against anyone named ("I hope Mayor X gets stabbed"), not only a pronoun
    rf"\b(?:i|we) (?:hope|wish|pray)\b[^.!?]{{0,40}}\b(?:gets?|is|are) {_VIOLENT_PASSIVE}",
    # a death foretold with the speaker's own hand
    r"\b(?:won't|will not|isn't going to|is not going to|aren't going to) live (?:to see|much longer|long)\b"
    r"[^.!?]{0,60}\b(?:i|we)(?:'ll| will| am going to|'m going to) (?:make sure|see to it)",
    # first-person intent with a weapon ("I'm going to wait outside her office with my rifle")
    r"\b(?:i|we)(?: will|'ll|'m going to| am going to| are going to|'re going to| gonna) (?:wait (?:for|outside)|"
    r"visit|pay \w+ a visit|come (?:for|after)|go after|show up (?:at|outside))\b[^.!?]{0,50}\bwith "
    r"(?:my|a|our) (?:rifle|gun|shotgun|pistol|handgun|knife|machete|axe|baseball bat|ar-?15)\b",
    rf"\b(?:i|we)(?: will|'ll| ll| am going to|'m going to| are going to| gonna) (?:find|hunt|track) {_PERSON}"
    r"(?: down)?(?= and\b|[.!,]|$)",
    r"\bput a bullet (?:in|through)\b",
    r"\b(?:slit|cut) (?:your|his|her|their) throats?\b",
    r"\b(?:i|we) know where (?:you|he|she|they) lives?\b",
    r"\byou(?:'re| are| r) (?:a )?dead (?:man|woman|meat)\b",
    r"\bwatch your back\b",
    r"\bline (?:them|em|'em) (?:all )?up (?:against a wall )?and (?:shoot|kill)",
    r"\b(?:kill|shoot|hang|lynch) (?:them|em|'em) all\b",
    r"\b(?:kill|hang) yourself\b",
    r"\bgo (?:die|kill yourself)\b",
]
DEHUMANISATION_PATTERNS = [
    rf"\b{_GROUP} (?:are|r|is) (?:all |just |nothing but |simply |basically |no better than |like )?{_VERMIN}\b",
    rf"\b{_GROUP} (?:breed|multiply|spread) like (?:rats|rabbits|cockroaches|vermin|insects|a disease)\b",
    rf"\b(?:exterminate|eradicate|purge|cleanse|wipe out|get rid of|gas|deport) (?:all |every )?(?:the |of )?"
    rf"{_GROUP}\b",
    rf"\b{_GROUP} (?:should|must|need to) (?:all )?(?:be )?(?:exterminated|eradicated|wiped out|gassed|sterilized|"
    r"sterilised|put down|removed from (?:the|this) (?:earth|planet|country))",
    rf"\binfest(?:ed|ing|ation)\b[^.!?]{{0,30}}\b{_GROUP}|\b{_GROUP}\b[^.!?]{{0,30}}\binfest(?:ed|ing|ation)\b",
]

PHRASE_NAMES = ["threat phrase", "dehumanising phrase"]
_THREAT_RE = re.compile("|".join(f"(?:{p})" for p in THREAT_PATTERNS))
_DEHUMAN_RE = re.compile("|".join(f"(?:{p})" for p in DEHUMANISATION_PATTERNS))
_RES = {"threat phrase": _THREAT_RE, "dehumanising phrase": _DEHUMAN_RE}
# Cheap guard: most comments contain none of these words, and then no pattern can match.
_HINT_RE = re.compile(
    r"shot|kill|hang|hung|lynch|execut|murder|behead|stab|strang|gas|extermin|burn|put down|strung|beat|drown|tortur|"
    r"rap|slaughter|eliminat|wipe|bullet|rope|noose|chair|throat|live|dead|back|die|hurt|punch|smash|slit|break|"
    r"hunt|find|get|destroy|end|bury|run over|are|is|breed|multiply|spread|eradicat|purge|cleanse|rid|deport|"
    r"steril|infest|thrown|rifle|gun|pistol|knife|machete|axe|bat|ar-?15"
)

# Probe texts for the definitions fingerprint (every pattern family at least once).
PROBES = [
    "Smith deserves to be shot", "they should be hanged", "I will find you", "I hope you die", "we know where you live",
    "immigrants are vermin", "they breed like rats", "exterminate the jews", "these people are animals",
    "the suspect was shot by police", "he threatened to kill his neighbour", "rats are animals",
    "I hope Judge Ruiz gets stabbed", "he won't live to see May, I'll make sure of it",
    "I'm going to wait outside her office with my rifle", "I will go hunting with my rifle in May",
    "I will show up at his house with a gun",
]


def phrase_features(text: str) -> list[float]:
    """1.0 per phrase family found in the normalised text."""
    norm = normalise(text)
    if not _HINT_RE.search(norm):
        return [0.0, 0.0]
    return [1.0 if _THREAT_RE.search(norm) else 0.0, 1.0 if _DEHUMAN_RE.search(norm) else 0.0]


def phrase_match(name: str, text: str) -> str | None:
    """The phrase of family ``name`` found in ``text`` (normalised), for a reason; ``None`` when none."""
    rx = _RES.get(name)
    if rx is None:
        return None
    m = rx.search(normalise(text))
    return m.group(0).strip() if m else None
