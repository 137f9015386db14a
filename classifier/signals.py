"""Named spam evidence a moderator accepts at a glance (``Scores.spam_signals``).

The spam head's probability is a judgement over vocabulary; these are facts about the text, each
independent of the others, so the service can require several of them before auto-rejecting.
Deliberately *not* signals: a link to a news or reference site (readers cite their sources), a
price or a subscription ("I was charged twice ($14.99 each)"), the word "e-mail", and a digit run
inside a URL (an article id is not a phone number).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from classifier.lexicon import promo_phrases

PHONE = "phone number"
LINK = "link to a non-reference site"
PROMO = "self-promotion phrase"
EMAIL = "e-mail address"
OBFUSCATED = "obfuscated link"
SHORT_CODE = "SMS short code"
SIGNALS = (PHONE, LINK, PROMO, EMAIL, OBFUSCATED, SHORT_CODE)

# News organisations, encyclopaedias, public bodies and scholarly sites: linking to them is citing.
# A host matches a domain when it equals it or ends with "." + it.
REFERENCE_DOMAINS = frozenset(
    """
    reuters.com apnews.com ap.org bbc.co.uk bbc.com theguardian.com guardian.co.uk nytimes.com washingtonpost.com
    wsj.com ft.com economist.com bloomberg.com npr.org pbs.org cnn.com cbsnews.com nbcnews.com abcnews.go.com
    foxnews.com usatoday.com latimes.com chicagotribune.com bostonglobe.com politico.com politico.eu axios.com
    theatlantic.com newyorker.com time.com newsweek.com propublica.org thehill.com vox.com slate.com
    independent.co.uk telegraph.co.uk thetimes.co.uk dailymail.co.uk mirror.co.uk sky.com skynews.com
    channel4.com itv.com cbc.ca theglobeandmail.com nationalpost.com thestar.com abc.net.au smh.com.au
    theage.com.au nzherald.co.nz rnz.co.nz irishtimes.com rte.ie aljazeera.com aljazeera.net dw.com france24.com
    euronews.com lemonde.fr spiegel.de zeit.de faz.net elpais.com corriere.it nhk.or.jp scmp.com
    straitstimes.com thehindu.com hindustantimes.com timesofindia.indiatimes.com yna.co.kr koreaherald.com
    koreatimes.co.kr chosun.com joongang.co.kr hani.co.kr news.yahoo.com news.google.com
    wikipedia.org wikimedia.org wiktionary.org wikidata.org britannica.com snopes.com factcheck.org
    politifact.com fullfact.org who.int un.org europa.eu oecd.org imf.org worldbank.org nato.int
    nature.com science.org sciencemag.org sciencedirect.com springer.com wiley.com arxiv.org doi.org
    jstor.org ncbi.nlm.nih.gov nih.gov cdc.gov nasa.gov noaa.gov archive.org ourworldindata.org
    pewresearch.org census.gov bls.gov ons.gov.uk legislation.gov.uk parliament.uk congress.gov
    supremecourt.gov uscourts.gov
    """.split()
)
# Public-sector and academic top-level domains (".gov", ".gov.uk", ".gc.ca", ".edu", ".ac.uk", ...).
_PUBLIC_SUFFIX_RE = re.compile(r"(?:^|\.)(?:gov|gouv|gob|govt|gc|mil|edu|ac|go)(?:\.[a-z]{2})?$")

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# A bare domain ("cheap-pills.ru", "example.com/offer"): a label then a TLD that people type.
BARE_DOMAIN_RE = re.compile(
    r"(?<![\w@./-])((?:[a-z0-9-]{1,63}\.){1,4}(?:com|net|org|info|biz|ly|io|tv|co|me|ru|xyz|top|site|online|club|"
    r"shop|store|link|click|us|uk|de|fr|in|cn|au|ca|gov|edu|int|eu))(?:/[^\s<>\"')\]]*)?(?![\w-])",
    re.IGNORECASE,
)
# "example . com", "www . x . com", "example dot com", "hxxp://", "h t t p"
OBFUSCATED_RE = re.compile(
    r"\b[a-z0-9-]{2,}\s+(?:\.|dot|\(dot\)|\[dot\])\s+(?:com|net|org|info|biz|ly|io|ru|xyz)\b"
    r"|\b[a-z0-9-]{2,}(?:\(dot\)|\[dot\])(?:com|net|org|info|biz|ly|io|ru|xyz)\b"
    r"|\bwww\s*\.\s+\S+|\bwww\s+\.\s*\S+|\bhxxps?\b|\bh\s+t\s+t\s+p",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,3}\.[a-z]{2,24}\b", re.IGNORECASE)
# Phone numbers as people write them: an optional +country code, then 7-13 digits in groups.
PHONE_RE = re.compile(r"(?<![\w.,/$£€-])\+?\(?\d[\d\s().-]{5,18}\d(?![\w.,/%-]|\.\d)")
_YEAR_RANGE_RE = re.compile(r"(?:1[89]|20)\d\d\s*[-–]\s*(?:1[89]|20)\d\d")
_DATE_RE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")
_GROUPED_RE = re.compile(r"\d{1,3}(?:[,.]\d{3})+")
# "text WIN to 80086", "txt STOP to 87239", "reply YES to 83355": a premium-rate short code.
SHORT_CODE_RE = re.compile(r"\b(?:text|txt|sms|send|reply)\b[^.!?\n]{0,30}?\bto\s+\d{4,6}\b", re.IGNORECASE)


def host_of(url: str) -> str:
    """The lower-cased host of a URL or bare domain ("" when it has none)."""
    if not re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def is_reference_host(host: str) -> bool:
    """True for a news, reference or public-sector site (see :data:`REFERENCE_DOMAINS`)."""
    host = host.lower().removeprefix("www.")
    parts = host.split(".")
    for i in range(len(parts) - 1):
        if ".".join(parts[i:]) in REFERENCE_DOMAINS:
            return True
    return bool(_PUBLIC_SUFFIX_RE.search(host))


def links(text: str) -> list[str]:
    """Hosts of the links in ``text`` (scheme/www URLs and bare domains), in order."""
    hosts = [host_of(m.group(0)) for m in URL_RE.finditer(text)]
    rest = URL_RE.sub(" ", text)
    hosts += [host_of(m.group(1)) for m in BARE_DOMAIN_RE.finditer(rest) if "@" not in m.group(0)]
    return [h for h in hosts if h]


def _is_phone(candidate: str) -> bool:
    s = candidate.strip()
    digits = sum(c.isdigit() for c in s)
    if not 7 <= digits <= 15:
        return False
    if _GROUPED_RE.fullmatch(s) or _YEAR_RANGE_RE.fullmatch(s) or _DATE_RE.fullmatch(s):
        return False
    # a bare run of digits is a number unless it is phone-length and starts like one (0..., 1-800...)
    if s.isdigit():
        return (len(s) >= 10 and s[0] in "01") or len(s) == 11
    return True


def phone_numbers(text: str) -> list[str]:
    """Phone numbers outside links and e-mail addresses."""
    return list(_phone_numbers(text))


@lru_cache(maxsize=256)  # a comment's dense features (text version 2 on) and its spam signals both ask
def _phone_numbers(text: str) -> tuple[str, ...]:
    rest = EMAIL_RE.sub(" ", URL_RE.sub(" ", text))
    rest = BARE_DOMAIN_RE.sub(" ", rest)
    return tuple(m.group(0).strip() for m in PHONE_RE.finditer(rest) if _is_phone(m.group(0)))


_ANY_DIGIT_RE = re.compile(r"\d")


def spam_signals(text: str) -> tuple[str, ...]:
    """The named signals found in ``text``, in :data:`SIGNALS` order (each at most once)."""
    found: set[str] = set()
    if any(not is_reference_host(h) for h in links(text)):
        found.add(LINK)
    if ("@" in text) and EMAIL_RE.search(text):
        found.add(EMAIL)
    if _ANY_DIGIT_RE.search(text):
        if phone_numbers(text):
            found.add(PHONE)
        if SHORT_CODE_RE.search(text):
            found.add(SHORT_CODE)
    if OBFUSCATED_RE.search(text):
        found.add(OBFUSCATED)
    if promo_phrases(text):
        found.add(PROMO)
    return tuple(s for s in SIGNALS if s in found)
