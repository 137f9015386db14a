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
from functools import lru_cache

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
    r"foreigners?|natives?|aborigines?|gypsies|roma|homeless(?: people)?|disabled(?: people)?)"
    # "gay people", "Black men", "deaf folks": any word before a plural noun of people
    r"|(?!(?:some|many|most|few|other|certain|several|lots|plenty) )\w+ (?:people|men|women|folks?|kids|families|"
    r"immigrants|voters))"
)
_VERMIN = (
    r"(?:animals|vermin|rats|cockroaches|roaches|parasites|insects|maggots|leeches|subhuman|sub-human|savages|"
    r"beasts|apes|monkeys|dogs|pigs|swine|scum|filth|garbage|trash|a disease|a plague|a cancer|a virus|"
    r"an infestation|a pestilence|a scourge|not (?:even |fully |really )?human|less than human|inferior|mongrels)"
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
    # shapes of a threat without a violent verb of the lists (added 2026-12-03 from the functional suite's
    # threat failures, so its threat figures on the check set are no longer on unseen shapes)
    r"\b(?:someone|somebody) (?:should|needs to|ought to) put (?!it\b|this\b|that\b)[^.!?]{1,30} in the ground\b",
    r"\bput (?:him|her|them|you|u) in the ground\b",
    r"\b(?:carried|wheeled|taken) out in a (?:body ?)?bag\b",
    r"\b(?:gets?|getting|get|will get) a (?:knife|blade|bullet) in (?:the|his|her|their|your) "
    r"(?:ribs|back|head|gut|chest|face)\b",
    r"\bmake sure (?:they|he|she|you|u|them|y'?all)(?: all)? (?:don't|do not|doesn't|does not|won't|will not|never) "
    r"(?:survive|live|make it|wake up|come home)\b",
    r"\b(?:had|'d) better (?:hire a bodyguard|watch (?:his|her|their|your) back|sleep with one eye open)\b",
    r"\bdragged (?:out |into |through |down )[^.!?]{0,30}\band (?:beaten|shot|hanged|hung|killed|stabbed|lynched)\b",
    r"\b(?:hang|lynch|string up) [^.!?]{1,30} from (?:a|the) (?:nearest )?(?:lamp ?post|tree|bridge|rafters)\b",
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

# Text version 4: a call to expel a group ("Mexicans ... should leave", "send them back where they came from",
# "immigrants don't belong here").  Not in the phrase families of versions 2-3 (their artefacts stay scored as
# trained).  Leaving a party, an office or a team is not an expulsion; "be banned" (from a league, a forum) is
# left out.  On the shared data these match 0 of civil_comments' and Jigsaw's clean rows and 2 of 9,046 other
# clean rows (ToxiGen, HateXplain); written from the functional suite's tuning templates ("{Group} are
# d1sgust1ng and should leave.", "{group} should be kicked out of the country"), so its tuning figures are not
# on unseen shapes (its check set is).
_EXPEL = (
    r"(?:leave|go back|go home|get out|be deported|be sent (?:back|home)|be kicked out|be thrown out|be expelled)"
)
_NOT_EXPULSION = (
    r"(?! (?:the|his|her|their|its|of the) (?:party|room|job|office|race|team|stage|building|field|league|game|"
    r"house|senate|white house|cabinet|government|presidency|stadium|church|city council|council|board|company|"
    r"sport|nfl|nba)\b)"
)
EXCLUSION_PATTERNS = [
    rf"\b{_GROUP} (?:(?:are|is) [^.!?]{{1,40}}? and )?(?:should|must|need to|ought to|have to|has to)"
    rf"(?: all| just)? {_EXPEL}\b{_NOT_EXPULSION}",
    rf"\b{_GROUP} (?:don't|do not|does not|doesn't) belong (?:here|in (?:this|our|the) (?:country|town|city|"
    r"society|community|neighbourhood|neighborhood))\b",
    rf"\b(?:send|ship|kick|throw|deport) (?:them|'?em|{_GROUP}) (?:all )?(?:back (?:home|where they came from|"
    r"to (?:where|their|africa|mexico|the middle east))|out of (?:the|this|our) country)\b",
    rf"\b{_GROUP} (?:should )?(?:go|get|went) back (?:home )?(?:to )?where (?:they|you) came from\b",
]

# Text version 5: a negative generalisation about a group ("{group} are a drain on this country", "Why are
# {group} so disgusting?", "{group} can't be trusted", "I would never trust a {member}").  A dense feature, and
# like the other families it holds for identity_attack on its own (PHRASE_ATTRIBUTES; 0 of civil_comments'
# 1,002 clean rows match).  The group is a named identity, "these/those people" or "<word> people", never a
# party ("Republicans are ruining the country" is an opinion a newsroom may publish), a bare pronoun or "these
# <thing>" ("these rules are stupid").  A trait after a negation ("are not dangerous") or a claim the reader
# denies (_DENIED_RE) does not count.  Written after reading the functional suite's templates (both sets), so
# that suite's derogation, negated-praise and hate-as-a-question/opinion figures are not on unseen shapes.
_IDENTITY = (
    r"(?:muslims?|jews|jewish people|immigrants?|migrants?|refugees?|blacks|whites|gays|lesbians?|"
    r"trans(?:gender)? (?:people|women|men)|women|feminists?|mexicans?|arabs?|christians?|asians?|africans?|"
    r"indians?|chinese|latinos?|hispanics?|atheists?|catholics?|hindus?|foreigners?|gypsies|roma|"
    r"these people|those people|such people|their kind|your kind|"
    r"(?!(?:some|many|most|few|other|certain|several|lots|plenty|the|these|those|all|young|old|older|more|"
    r"fewer|local|rich|poor|sick|good|bad|smart|real|normal|ordinary|working|vulnerable|innocent|homeless|"
    r"elected|unvaccinated|vaccinated|a|an|one|that|this|every|any|no|nice|great|need|like|why|how|what|where|who|"
    r"with|for|to|of|and|or|by|from|than|about|against|two|three|four|five|six|seven|eight|nine|ten|dozen|dozens|"
    r"hundreds|thousands|millions|\d+) )\w+ (?:people|folks|man|men|woman|women))"
)
_TRAIT = (
    r"(?:disgusting|a disgrace|repulsive|revolting|vile|inferior|worthless|useless|lazy|dirty|filthy|stupid|dumb|"
    r"primitive|backward|evil|dangerous|violent|criminals|thieves|liars|rapists|terrorists|thugs|a drain|"
    r"a burden|a menace|the problem|a problem|the lowest of the low|less intelligent|lesser|unfit|"
    r"(?:ruin|ruins|ruined|ruining|destroy|destroys|destroying) (?:every|everything|our|this|the)|"
    r"(?:can't|cannot|can never|should never) be trusted|untrustworthy|(?:don't|do not) deserve|no place|"
    r"never (?:any )?good|good for nothing|never be (?:decent|good|equal|trusted)|nothing but trouble|"
    r"always (?:cause|causing|bring|bringing) trouble)"
)
_NO_NEGATION = r"(?:(?!\b(?:not|never|no)\b|n't\b|xquotedx)[^.!?'\"\u201c\u201d\u2018\u2019]){0,30}?"
GENERALISATION_PATTERNS = [
    rf"\b{_IDENTITY} (?:(?:are|were|'re|have|has|will|would|just|all|always|simply|really|should)\b)?"
    rf"{_NO_NEGATION}\b{_TRAIT}\b",
    rf"\b(?:why|how come) (?:are|do|does|is|must) (?:all |so many |the )?{_IDENTITY}\b{_NO_NEGATION}\b{_TRAIT}\b",
    rf"\b(?:never|don't|do not|can't|cannot|wouldn't|would never|won't) (?:ever )?(?:trust|respect|hire|rent to) "
    rf"(?:any |a |an |the )?(?:\w+ )?{_IDENTITY}",
    rf"\bnothing (?:good|admirable|decent|redeeming|worthwhile) (?:about|from|has ever come from)\b[^.!?]{{0,20}}"
    rf"\b{_IDENTITY}",
]
GENERALISATION_NAME = "negative generalisation about a group"
GENERALISATION_PROBES = [
    "Immigrants are a drain on this country", "Why are gay people so disgusting?", "Muslims can't be trusted",
    "I would never trust a Jewish banker", "Muslims are not dangerous", "these rules are stupid",
    "Christians are organising a food drive", "Nothing good has ever come from letting Hindus vote",
    "Young people are lazy", "Republicans are ruining the country",
]
_GENERALISATION_RE = re.compile("|".join(f"(?:{p})" for p in GENERALISATION_PATTERNS))
_GENERALISATION_HINT_RE = re.compile(
    r"muslim|jew|immigra|migrant|refugee|black|white|gay|lesbian|trans|women|feminist|mexican|arab|christian|"
    r"asian|african|indian|chinese|latin|hispanic|atheist|catholic|hindu|foreign|gyps|roma|people|folks|kind"
)
# Every generalisation pattern needs one of these word beginnings too (a trait, or trust/respect/hire/...):
# most comments that name a group have none, and the full alternation costs ~40 µs on a news comment.
_TRAIT_HINTS = (
    r"disgust|disgrace|repuls|revolt|vile|inferior|worthless|useless|lazy|dirty|filthy|stupid|dumb|primitive|"
    r"backward|evil|dangerous|violent|criminal|thieves|liars|rapists|terrorists|thugs|drain|burden|menace|problem|"
    r"lowest|less intel|lesser|unfit|ruin|destroy|trust|untrust|deserve|place|good|decent|equal|trouble|respect|hire|"
    r"rent|admirable|redeem|worthwhile"
).split("|")
# A generalisation the reader denies or attributes to others is not theirs: "It's not true that X are
# dangerous", "I don't think X are any worse", "the myth that X are lazy".
_DENIED_RE = re.compile(
    r"(?:\b(?:not|isn't|is not|never been|hardly) true|\buntrue|\bfalse|\bmyth|\bstereotypes?|\bnonsense|\blie|"
    r"\b(?:don't|do not|doesn't|does not|didn't|never) (?:think|believe|say|said|accept|agree)|"
    r"\bwrong to (?:say|think)|"
    r"\b(?:claim|idea|notion|belief) (?:that )?)[^.!?]{0,12}$"
)


@lru_cache(maxsize=256)
def _generalisation_matches(norm: str) -> tuple[tuple[int, int, str], ...]:
    if not _GENERALISATION_HINT_RE.search(norm) or not _TRAIT_HINT_RE.search(norm):
        return ()
    return tuple(m for m in _spans(_GENERALISATION_RE, norm) if not _DENIED_RE.search(norm[max(0, m[0] - 40):m[0]]))


def generalisation_feature(text: str) -> float:
    """1.0 when the normalised text generalises negatively about a group (text version 5)."""
    return 1.0 if _generalisation_matches(normalise(text)) else 0.0


# Text version 6: hatred of a group said outright ("I hate lesbians"; "I don't hate" is already the token
# xnegverbx) and slurs used at all ("this paper is run by kikes now") hold for identity_attack like the
# generalisations.  Left out: slurs whose letters are everyday words ("a chink in the armour", "spic and span",
# "fag" a cigarette, "dyke" a dike) and words communities reclaim ("queer", "dyke"); quoted slurs are the
# reader's report, not their word (phrase_holds).
_SLURS = (r"(?:kikes?|spics|wetbacks?|ragheads?|towelheads?|gooks?|niggers?|faggots?|trann(?:y|ies)|beaners?|"
          r"pakis?|retards?)")
HATRED_PATTERNS = [
    rf"\b(?:i|we) (?:really |truly |just |absolutely |simply )?(?:hate|despise|loathe|detest|can't stand|"
    rf"cannot stand) (?:all |every |the |those |these )?{_IDENTITY}\b",
    rf"\b{_SLURS}\b",
]
HATRED_NAME = "stated hatred of a group or slur"
HATRED_PROBES = ["I hate lesbians", "we despise all immigrants", "I hate Mondays", "I hate people who litter",
                 "This paper is run by kikes now", "a chink in the armour", "spic and span", "I don't hate Muslims"]
_HATRED_RE = re.compile("|".join(f"(?:{p})" for p in HATRED_PATTERNS))
_HATRED_HINT_RE = re.compile(r"hate|despis|loath|detest|stand|kike|spic|wetback|raghead|towelhead|gook|nigger|"
                             r"faggot|trann|beaner|paki|retard")


@lru_cache(maxsize=256)
def _hatred_matches(norm: str) -> tuple[tuple[int, int, str], ...]:
    return _spans(_HATRED_RE, norm) if _HATRED_HINT_RE.search(norm) else ()


def hatred_feature(text: str) -> float:
    """1.0 when the normalised text states hatred of a group or uses a slur (text version 6)."""
    return 1.0 if _hatred_matches(normalise(text)) else 0.0


PHRASE_NAMES = ["threat phrase", "dehumanising phrase"]
EXCLUSION_NAME = "exclusion phrase"
_THREAT_RE = re.compile("|".join(f"(?:{p})" for p in THREAT_PATTERNS))
_DEHUMAN_RE = re.compile("|".join(f"(?:{p})" for p in DEHUMANISATION_PATTERNS))
_EXCLUSION_RE = re.compile("|".join(f"(?:{p})" for p in EXCLUSION_PATTERNS))
_RES = {"threat phrase": _THREAT_RE, "dehumanising phrase": _DEHUMAN_RE, EXCLUSION_NAME: _EXCLUSION_RE}
# The exclusion patterns need one of these; most comments have none.
_EXCLUSION_HINT_RE = re.compile(
    r"\b(?:leave|go (?:back|home)|get out|deported|sent (?:back|home)|kicked out|thrown out|expelled|belong|"
    r"back (?:home|where|to)|out of (?:the|this|our) country)"
)
# Cheap guard: every pattern needs one of these word beginnings (a violent word, a weapon, a vermin word, a
# verb of removal), and most comments contain none, so the two big alternations are skipped.  The previous
# guard listed "are|is|get|end" (almost every comment passed) yet lacked "shoot", "choke" and "track", so
# "I will shoot you" never matched; tests/test_classifier_phrases.py checks the guard changes no outcome.
_HINTS = (
    r"shot|shoot|kill|hang|hung|lynch|execut|murder|behead|stab|strang|chok|gas|extermin|burn|put down|strung|"
    r"beat|beating|drown|tortur|rape\b|raped\b|rapes\b|raping\b|slaughter|eliminat|wipe|wiping|run over|thrown|"
    r"bullet|rope|noose|chair|throat|live|dead|back\b|die[sd]?\b|hurt|punch|smash|slit|cut\b|bury|find|hunt|track|"
    r"rots?\b|rifle|gun|shotgun|pistol|handgun|knife|machete|axe|bat\b|ar-?15|"
    r"animal|vermin|rats\b|cockroach|roach|parasit|insect|maggot|leech|sub-?human|human|"
    r"savage|beast|apes\b|monkey|dogs\b|pigs\b|swine|scum|filth|garbage|trash|disease|plague|cancer|virus|infest|"
    r"pestilen|scourge|inferior|mongrel|breed|multipl|spread|eradicat|purge|cleans|rid\b|deport|steril|remov|"
    r"ground\b|bag\b|blade|survive|bodyguard|eye open|dragged|wake up|come home|make it"
).split("|")
# The dehumanisation patterns need one of these (a _VERMIN word, a verb of spreading or of removal, "infest"),
# each at a word's start: the costlier of the two alternations runs only then (1 in 4 of the texts that pass
# _HINT_RE in the bench's mix).
_DEHUMAN_HINTS = (
    r"animal|vermin|rats\b|cockroach|roach|parasit|insect|maggot|leech|sub-?human|human|savage|beast|apes\b|monkey|"
    r"dogs\b|pigs\b|swine|scum|filth|garbage|trash|disease|plague|cancer|virus|infest|pestilen|scourge|inferior|"
    r"mongrel|breed|multipl|spread|extermin|eradicat|purge|cleans|wipe|rid\b|gas|deport|steril|remov|put down"
).split("|")


def word_start_alternation(alternatives: list[str], whole_words: bool = False) -> re.Pattern[str]:
    r"""``\b(?:a|b|...)`` with the alternatives grouped by their first letter: the same texts match, but at
    each word start re tries one group instead of every alternative (about 3x faster on a comment).
    ``whole_words``: each alternative must also end at a word's end (``\b(?:a|b|...)\b``)."""
    groups: dict[str, list[str]] = {}
    for alt in alternatives:
        assert alt[:1].isalpha(), alt  # a literal first letter, so that grouping by it is exact
        groups.setdefault(alt[0], []).append(alt[1:])
    body = "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in groups.items())
    return re.compile(r"\b(?:" + body + (r")\b" if whole_words else ")"))


_HINT_RE = word_start_alternation(_HINTS)
_DEHUMAN_HINT_RE = word_start_alternation(_DEHUMAN_HINTS)
_TRAIT_HINT_RE = word_start_alternation(_TRAIT_HINTS)

# Probe texts for the definitions fingerprint (every pattern family at least once).
PROBES = [
    "Smith deserves to be shot", "they should be hanged", "I will find you", "I hope you die", "we know where you live",
    "immigrants are vermin", "they breed like rats", "exterminate the jews", "these people are animals",
    "the suspect was shot by police", "he threatened to kill his neighbour", "rats are animals",
    "I hope Judge Ruiz gets stabbed", "he won't live to see May, I'll make sure of it",
    "I'm going to wait outside her office with my rifle", "I will go hunting with my rifle in May",
    "I will show up at his house with a gun", "gay people are vermin", "someone should put him in the ground",
    "you will be carried out in a bag", "the next one gets a knife in the ribs", "we'll make sure they don't survive",
    "she had better hire a bodyguard", "he should be dragged into the street and beaten",
    "hang him from the nearest lamp post", "they put the cable in the ground", "put it in the ground",
    "some people are animals when they drive", "we will put new pipes in the ground",
]
EXCLUSION_PROBES = [
    "Mexicans are d1sgust1ng and should leave.", "muslims should be kicked out of the country",
    "send them all back where they came from", "immigrants don't belong here", "Republicans should leave the party",
    "these players should be banned from the league",
]


@lru_cache(maxsize=256)  # a comment's features and its phrase rule search the same normalised text
def _matches(norm: str) -> tuple[tuple[tuple[int, int, str], ...], ...]:
    """Per family of :data:`PHRASE_NAMES`, every match in ``norm`` as (start, end, phrase)."""
    if not _HINT_RE.search(norm):
        return tuple(() for _ in PHRASE_NAMES)
    return tuple(
        _spans(_RES[name], norm) if name != "dehumanising phrase" or _DEHUMAN_HINT_RE.search(norm) else ()
        for name in PHRASE_NAMES
    )


def _spans(rx: re.Pattern[str], norm: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((m.start(), m.end(), m.group(0)) for m in rx.finditer(norm))


@lru_cache(maxsize=256)
def _exclusion_matches(norm: str) -> tuple[tuple[int, int, str], ...]:
    return _spans(_EXCLUSION_RE, norm) if _EXCLUSION_HINT_RE.search(norm) else ()


def phrase_features(text: str, exclusion: bool = False) -> list[float]:
    """1.0 per phrase family found in the normalised text (``exclusion``: also the text-version-4 family)."""
    norm = normalise(text)
    out = [1.0 if found else 0.0 for found in _matches(norm)]
    if exclusion:
        out.append(1.0 if _exclusion_matches(norm) else 0.0)
    return out


# The attribute a family's match holds for on its own (classifier.Scores.phrases; the service's decision
# holds a comment with a match even when the head's probability is below its threshold).
PHRASE_ATTRIBUTES = {"threat phrase": "threat", "dehumanising phrase": "identity_attack",
                     EXCLUSION_NAME: "identity_attack", GENERALISATION_NAME: "identity_attack",
                     HATRED_NAME: "identity_attack"}


# A quotation: an opening quote at a word's start, no quote inside, a closing quote before a word's end.
# An apostrophe between letters ("'I'll kill you,' he told the victim") stays inside the quotation.
_QUOTED_RE = re.compile(r"(?:^|(?<=[\s(\[]))['\"\u201c\u2018]"
                        r"((?:[^'\"\u201c\u201d\u2018\u2019]|(?<=[a-z])['\u2019](?=[a-z])){1,300})['\"\u201d\u2019]"
                        r"(?=[\s.,;:!?)\]]|$)")


# Matches that are features but hold nothing on their own: words also said of things ("golf courses should be
# eliminated", "the plan was executed") and the loose infestation pattern (measured on civil_comments' 1,002
# clean news comments: these were the 3 that matched).
_NOT_ON_ITS_OWN_RE = re.compile(r"(?:eliminated|wiped out|executed|put down|run over|removed from \w+ \w+)$|infest")


def phrase_holds(text: str, exclusion: bool = False, generalisation: bool = False,
                 hatred: bool = False) -> dict[str, str]:
    """``{attribute: matched phrase}`` for every phrase family found in ``text`` (normalised), outside quotation
    marks: a reader who quotes abuse to condemn it ("Calling refugees 'vermin' is disgusting", "Saying
    'Jews are animals' is hate speech") is not held by the rule (the head still weighs the words).
    ``exclusion``: also the text-version-4 family (calls to expel a group), for models trained with it;
    ``generalisation``: also the version-5 negative generalisations about a group; ``hatred``: also version 6's
    stated hatred of a group and slurs."""
    norm = normalise(text)
    found = dict(zip(PHRASE_NAMES, _matches(norm), strict=True))
    found[EXCLUSION_NAME] = _exclusion_matches(norm) if exclusion else ()
    found[GENERALISATION_NAME] = _generalisation_matches(norm) if generalisation else ()
    found[HATRED_NAME] = _hatred_matches(norm) if hatred else ()
    if not any(found.values()):
        return {}
    quoted = [m.span(1) for m in _QUOTED_RE.finditer(norm)] if any(q in norm for q in "'\"\u201c\u2018") else []
    out: dict[str, str] = {}
    for name, attribute in PHRASE_ATTRIBUTES.items():
        if attribute in out:  # the first family that holds for an attribute is the one quoted
            continue
        for start, end, phrase in found[name]:
            if _NOT_ON_ITS_OWN_RE.search(phrase):
                continue
            if not any(a <= start and end <= b for a, b in quoted):
                out[attribute] = phrase.strip()
                break
    return out


# Families matched by a cached span finder (the others by one regex in _RES).
_SPAN_FAMILIES = {GENERALISATION_NAME: _generalisation_matches, HATRED_NAME: _hatred_matches}


def phrase_match(name: str, text: str) -> str | None:
    """The phrase of family ``name`` found in ``text`` (normalised), for a reason; ``None`` when none."""
    matches = _SPAN_FAMILIES.get(name)
    if matches is not None:
        found = matches(normalise(text))
        return found[0][2].strip() if found else None
    rx = _RES.get(name)
    if rx is None:
        return None
    m = rx.search(normalise(text))
    return m.group(0).strip() if m else None
