"""How a comment frames the abusive words it contains (text version 5): quoted to condemn, or negated.

Why: a bag of n-grams scores the words, not what the reader does with them.  "Saying 'Jews are animals' is
hate speech" carries every n-gram of the abuse it condemns (toxicity 0.94), and "Christians are not a
threat to anyone" carries "threat" (identity_attack 0.88).  Two narrow rewrites, applied before the
vectorisers and the dense features see the text:

- **Reported abuse** (counter-speech, Röttger et al.'s "quoting/referencing abuse"): words the reader
  attributes to someone else -- a quotation introduced by a verb of saying or naming ("calling X 'vermin'",
  "someone sprayed 'kill all X'", "the word '...'"), a clause of reported speech ("he shouted that X should be
  shot") or the word after "call(ing) <group>" -- become the token
  ``xquotedx``, but only when the comment also condemns what it reports ("hate speech", "unacceptable",
  "report it", "say more about the commenters").  Both are required, so a reader cannot launder an insult by
  wrapping it in quotation marks ("you are an 'idiot'" keeps its words; so does "I'm saying 'you are an idiot'").
- **Negated harm**: "are not a threat / danger / menace / problem / burden" -- the noun becomes ``xnegbadx``
  (like version 4's ``xnegverbx`` for "don't hate"); "I have nothing against X" is ``xnegverbx`` too.
- **A denied claim**: "It's not true that X are dangerous", "the myth that X are lazy" -- the claim becomes
  ``xdeniedx``.

The tokens are rare in the training data, so they carry little weight of their own; what matters is that the
abusive n-grams are gone.  The phrase rule (:func:`classifier.phrases.phrase_holds`) already ignored quoted
matches; the head now does too.
"""

from __future__ import annotations

import re

from classifier.phrases import word_start_alternation

DENIED_TOKEN = "xdeniedx"  # noqa: S105
NEGATED_VERB_TOKEN = "xnegverbx"  # noqa: S105 (text version 4's negated "hate", classifier.text)
QUOTED_TOKEN = "xquotedx"  # noqa: S105 (a placeholder word, not a secret)
NEGATED_HARM_TOKEN = "xnegbadx"  # noqa: S105

# A verb of saying, writing or naming, or "the word/term/slur", right before a quotation (up to 4 words apart:
# "calling gay people 'vermin'", "shouted at them 'go home'").
_REPORTING = (
    r"(?:call|calls|called|calling|say|says|said|saying|shout|shouts|shouted|shouting|yell|yelled|yelling|"
    r"scream|screamed|chant|chanted|chanting|write|writes|wrote|written|writing|post|posted|posting|spray|"
    r"sprayed|painted|scrawled|tweet|tweeted|label|labelled|labeled|labelling|labeling|describe|described|"
    r"describing|read|reading|think|thinks|heard|hear|words?|terms?|phrases?|slurs?|slogans?|signs?|graffiti|"
    r"comments?|messages?|like)"
)
_QUOTE_OPEN = "'\"\u201c\u2018"
_QUOTE_CLOSE = "'\"\u201d\u2019"
_REPORTED_QUOTE_RE = re.compile(
    rf"\b{_REPORTING}\b(?:\s+[^\s'\"\u201c\u2018.!?]+){{0,4}}\s+[{_QUOTE_OPEN}]([^{_QUOTE_OPEN}{_QUOTE_CLOSE}]{{1,200}})"
    rf"[{_QUOTE_CLOSE}](?=[\s.,;:!?)\]]|$)",
    re.IGNORECASE,
)
# Reported speech without quotation marks: "the man shouted that X should be shot", "someone wrote that ...":
# the clause, up to the sentence's end.
_REPORTED_CLAUSE_RE = re.compile(
    r"\b(?:shouted|yelled|screamed|chanted|wrote|posted|tweeted|sprayed|painted|scrawled|said|claimed|suggested|"
    r"declared|told (?:us|them|him|her|me|everyone|the crowd)) that ([^.!?]{1,160})",
    re.IGNORECASE,
)
# "calling Muslims scum", "call gay people a plague", "people who call immigrants parasites": the word(s) after
# a group named by "call".  The group is one or two words ("immigrants", "gay people", "the Jews").
_CALLED_RE = re.compile(
    r"\b(?:call|calls|called|calling)\s+(?:the\s+|all\s+|these\s+|those\s+)?(?!(?:it|this|that|what|which|for|out|"
    r"on|up|in|off|back)\b)[A-Za-z]+(?:\s+(?:people|men|women|folks|families|immigrants|kids))?+\s+((?:a|an)\s+)?"
    r"([A-Za-z][A-Za-z-]+)\b",
    re.IGNORECASE,
)
# The comment condemns what it reports.  Deliberately words of judgement about speech, not about people.  Matched
# on the lower-cased text, the alternatives grouped by first letter (``phrases.word_start_alternation``): most
# comments have none, and an IGNORECASE alternation tried at every word cost ~40 µs on a news comment.
_CONDEMNS = [
    "hate speech", "hateful", "hatred", "disgusting", "disgrace", "disgraceful", "unacceptable", "not acceptable",
    "racism", "racist", r"bigot\w*", "offensive", "vile", "shameful", "shame on", "appalling", "abhorrent", "wrong",
    "reported", "report (?:it|this|them|him|her)", "remove", "removed", "delete", "deleted", "banned", "a crime",
    "propaganda", "not ok(?:ay)?", "has no place", "have no place", "tired of", "sick of", "says? more about",
    "should be ashamed", r"dehumani[sz]\w*", r"condemn\w*", "inexcusable", "appalled", "horrified", "ugly",
    "no excuse", "stop (?:calling|saying|using)", "don't (?:call|say)", "repeating", "spreading",
]
_CONDEMNS_RE = word_start_alternation(_CONDEMNS, whole_words=True)
_NEGATED_HARM_RE = re.compile(
    r"\b((?:are|is|were|was|be)(?:n't|\s+not|\s+never|\s+no)(?:\s+(?:really|actually|even|at all))?\s+(?:an?\s+)?"
    r"(?:real\s+|serious\s+|big\s+)?)(?:threat|threats|danger|dangers|menace|problem|problems|burden|drain)\b",
    re.IGNORECASE,
)
_NEGATED_HARM_HINTS = ("threat", "danger", "menace", "problem", "burden", "drain")


def mask_reported(text: str) -> str:
    """``text`` with abuse the reader reports and condemns replaced by :data:`QUOTED_TOKEN` (see the module)."""
    low = text.lower()
    if not _CONDEMNS_RE.search(low):
        return text
    if any(q in text for q in _QUOTE_OPEN):
        text = _REPORTED_QUOTE_RE.sub(lambda m: _replace_group(m, 1, f" {QUOTED_TOKEN} "), text)
    if " that " in low:
        text = _REPORTED_CLAUSE_RE.sub(lambda m: _replace_group(m, 1, QUOTED_TOKEN), text)
    if "call" in low:
        text = _CALLED_RE.sub(_mask_called, text)
    return text


def _replace_group(m: re.Match[str], group: int, token: str) -> str:
    start, end = m.span(group)
    whole = m.group(0)
    return whole[: start - m.start()] + token + whole[end - m.start():]


def _mask_called(m: re.Match[str]) -> str:
    word = m.group(2)
    if word.lower() in _NOT_A_NAME:
        return m.group(0)
    return _replace_group(m, 2, QUOTED_TOKEN)


# "calling people out", "call them back", "called the police": the word after the group is not a name for it.
_NOT_A_NAME = frozenset(
    "out back up in on off for to and or but the this that it them him her me us you who which what when because "
    "is are was were be been has have had will would should can could may might must do does did not so too "
    "police cops names something anything everything nothing".split()
)


# A claim the reader denies: "It's not true that X are dangerous", "the myth that X are lazy".  The claim becomes
# :data:`DENIED_TOKEN`; no condemnation is needed, the denial is explicit.  "I have nothing against X" is the
# version-4 negated hostility (``xnegverbx``).
_DENIED_CLAUSE_RE = re.compile(
    r"\b(?:(?:isn't|is not|it's not|its not|that's not|was not|wasn't|simply not|just not) true|untrue|false|"
    r"(?:a|the) (?:myth|lie|stereotype|falsehood|smear)) that ([^.!?]{1,160})",
    re.IGNORECASE,
)
_NOTHING_AGAINST_RE = re.compile(r"\bnothing against\b", re.IGNORECASE)


def deny(text: str) -> str:
    """``text`` with a denied claim replaced by :data:`DENIED_TOKEN` and "nothing against" by
    :data:`NEGATED_VERB_TOKEN`."""
    low = text.lower()
    if " that " in low and ("true" in low or "myth" in low or "lie" in low or "stereotype" in low
                            or "false" in low or "smear" in low):
        text = _DENIED_CLAUSE_RE.sub(lambda m: _replace_group(m, 1, DENIED_TOKEN), text)
    if "nothing against" in low:
        text = _NOTHING_AGAINST_RE.sub(NEGATED_VERB_TOKEN, text)
    return text


def negate_harm(text: str) -> str:
    """``text`` with a negated threat/danger/... noun replaced by :data:`NEGATED_HARM_TOKEN`."""
    low = text.lower()
    if not any(w in low for w in _NEGATED_HARM_HINTS):
        return text
    return _NEGATED_HARM_RE.sub(lambda m: m.group(1) + NEGATED_HARM_TOKEN, text)


def reframe(text: str) -> str:
    """Every rewrite, in the order the features apply them."""
    return negate_harm(deny(mask_reported(text)))


PROBES = [
    "Calling gay people 'vermin' is disgusting, and the paper should remove those comments.",
    "Saying 'Jews are animals' is hate speech, plain and simple.", "you are an 'idiot'",
    "I'm saying 'you are an idiot'", "Someone sprayed 'kill all Muslims' on the bus shelter. Report it.",
    "The comments calling immigrants scum say more about the commenters.", "They called the police, which is wrong",
    "Christians are not a threat to anyone.", "Immigrants aren't a burden", "Immigrants are a burden",
    "When people call Muslims a plague, they are repeating propaganda.",
    "The man shouted that Muslims should be shot. That is a crime.", "He said that you are an idiot",
    "It's not true that Muslims are dangerous.", "the myth that immigrants are lazy", "I have nothing against Jews",
]
