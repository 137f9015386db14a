"""Spam signals and language detection: the evidence the service may auto-reject on, and the routing."""

from __future__ import annotations

import pytest

from classifier import ATTRIBUTES, load_model
from classifier.language import detect
from classifier.signals import EMAIL, LINK, OBFUSCATED, PHONE, PROMO, SHORT_CODE, is_reference_host, spam_signals

SUBSCRIBER = (
    "I've been a subscriber for 12 years and I was charged twice this month ($14.99 each). Customer service "
    "hasn't answered my emails. Can someone from the paper help?"
)


@pytest.mark.parametrize(
    "text",
    [
        SUBSCRIBER,
        "See https://www.reuters.com/world/us/article-2024-11-05-12345678/ and https://www.bbc.co.uk/news/uk-67891234",
        "The Guardian had it first: https://www.theguardian.com/politics/2024/nov/05/story-1234567",
        "Figures from https://www.census.gov/data/tables/2023/demo/12345678.html and en.wikipedia.org/wiki/Budget",
        "Source: apnews.com/article/9876543210abcdef and www.nytimes.com/2024/11/05/us/politics/vote.html",
        "The video has 2,124,923,004 views",
        "From 2015-2017 the deficit rose by 12,345,678 dollars",
        "Subscribe to the council newsletter for updates on the budget.",
        "email the editor and ask for a correction",
        "The meeting is on 12/05/2024 at 7pm",
    ],
)
def test_no_signal_in_ordinary_news_comments(text: str) -> None:
    assert spam_signals(text) == ()


@pytest.mark.parametrize(
    ("text", "signals"),
    [
        ("Call 0800 123 4567 now", (PHONE,)),
        ("+44 (0) 20 7946 0958 is the number", (PHONE,)),
        ("phone (555) 123-4567", (PHONE,)),
        ("visit cheap-pills.ru today", (LINK,)),
        ("great deals http://bit.ly/abc123", (LINK,)),
        ("Email me at john.doe+promo@example.co.uk", (EMAIL,)),
        ("Text WIN to 80086 now!", (SHORT_CODE,)),
        ("go to example . com", (OBFUSCATED,)),
        ("check out my channel", (PROMO,)),
        ("Subscribe to my channel!!! http://bit.ly/x call 08001234567", (PHONE, LINK, PROMO)),
    ],
)
def test_signals_found(text: str, signals: tuple[str, ...]) -> None:
    assert spam_signals(text) == signals


def test_a_digit_run_in_a_url_is_not_a_phone_number() -> None:
    assert PHONE not in spam_signals("details at https://spam.example.com/offer/08001234567/now")
    assert spam_signals("https://www.bbc.co.uk/news/world-01234567890") == ()


@pytest.mark.parametrize("host", ["www.reuters.com", "bbc.co.uk", "en.wikipedia.org", "www.nasa.gov", "ons.gov.uk",
                                  "www.canada.gc.ca", "mit.edu", "www.ox.ac.uk", "news.bbc.co.uk"])
def test_reference_hosts(host: str) -> None:
    assert is_reference_host(host)


@pytest.mark.parametrize("host", ["bit.ly", "cheap-pills.ru", "reuters.com.evil.example", "mybbc.com", "gov.example"])
def test_not_reference_hosts(host: str) -> None:
    assert not is_reference_host(host)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Great article, thanks.", "en"),
        ("lol ok", "en"),
        ("ur so dumb lmao", "en"),
        (SUBSCRIBER, "en"),
        ("مقال رائع شكرا لكم على هذا التقرير", "ar"),
        ("좋은 기사 감사합니다", "ko"),
        ("Das ist ein sehr guter Artikel, vielen Dank für die Recherche", "de"),
        ("C'est vraiment nul ce gouvernement, ils mentent tous", "fr"),
        ("Спасибо за статью, очень интересно.", "ru"),
        ("這篇文章寫得很好", "zh"),
        ("記事をありがとうございます", "ja"),
        ("👍", "und"),
        ("12345", "und"),
        ("", "und"),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect(text) == language


def test_language_routing_and_attributes_per_language() -> None:
    model = load_model()
    assert "en" in model.languages
    assert set(model.attributes_for("en")) <= set(ATTRIBUTES) and "toxicity" in model.attributes_for("en")
    assert model.attributes_for("und") == model.attributes_for("en")
    assert model.attributes_for("de") == ()
    en, de, emoji = model.score(["you are a stupid idiot", "Das ist ein dummer Artikel, Sie Idiot und Lügner!", "👍"])
    assert (en.language, en.language_supported) == ("en", True)
    assert set(en.attributes) == set(model.attributes_for("en"))
    assert (de.language, de.language_supported, de.attributes, de.reasons) == ("de", False, {}, {})
    assert (de.spam, de.abuse) == (0.0, 0.0)
    assert emoji.language == "und" and emoji.language_supported and emoji.attributes
    for lang in model.languages:
        assert model.attributes_for(lang), lang


def test_thresholds_per_attribute_in_metadata() -> None:
    model = load_model()
    t = model.metadata["thresholds"]
    for lang in model.languages:
        for attr in model.attributes_for(lang):
            assert 0.0 < t[attr] < 1.0, attr
    assert t["spam_reject"] >= t["spam"]


def test_the_subscriber_complaint_is_not_confident_spam() -> None:
    """The 2026.11.26 model scored it 0.9995; from text version 4 (a reader's "subscriber" is no longer
    spam vocabulary) it is below the reject threshold, so it is held at most, never rejected."""
    model = load_model()
    (s,) = model.score([SUBSCRIBER])
    assert s.spam_signals == ()
    assert s.language == "en"
    assert s.spam < model.metadata["thresholds"]["spam_reject"]


def _language_fixture() -> list[dict[str, str]]:
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "classifier" / "languages.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_language_fixture_routing() -> None:
    model = load_model()
    rows = _language_fixture()
    scores = model.score([r["text"] for r in rows])
    for r, s in zip(rows, scores, strict=True):
        assert s.language == r["language"], r["text"]
        assert s.language_supported == (r["language"] in model.languages), r["text"]
        assert set(s.attributes) == set(model.attributes_for(r["language"])), r["text"]


def test_arabic_and_korean_heads_rank_abuse_above_clean() -> None:
    model = load_model()
    rows = _language_fixture()
    for lang in ("ar", "ko"):
        if lang not in model.languages:
            pytest.skip(f"model {model.version} has no {lang} heads")
        mine = [r for r in rows if r["language"] == lang]
        scores = model.score([r["text"] for r in mine])
        bad = [s.attributes["toxicity"] for r, s in zip(mine, scores, strict=True) if r["label"] == "abusive"]
        good = [s.attributes["toxicity"] for r, s in zip(mine, scores, strict=True) if r["label"] == "clean"]
        assert min(bad) > max(good), (lang, bad, good)
