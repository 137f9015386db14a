"""The decision rules and reasons as data (pure functions): per-attribute thresholds from model metadata and
config, the auto-reject rule, unsupported languages, reasons rendered in one place (old rows included)."""

from __future__ import annotations

import pytest

from moderation.core.config import Config, ConfigError, Thresholds, effective_thresholds
from moderation.decisions import reasons as R
from moderation.decisions.decide import Signals, decide

T = Thresholds(spam_reject=0.99, spam_hold=0.55, abuse_hold=0.32, other=(("threat", 0.4), ("profanity", 0.5)))


def _sig(spam: float = 0.01, toxicity: float = 0.01, **kw: object) -> Signals:
    attributes = {"spam": spam, "toxicity": toxicity, **kw.pop("attributes", {})}  # type: ignore[dict-item]
    return Signals(spam=spam, abuse=toxicity, attributes=attributes, **kw)  # type: ignore[arg-type]


def test_model_terms_drop_function_words_and_split_features() -> None:
    words, features = R.model_terms(["insulting term", "'everyone'", "insult aimed at 'you'", "'a'", "'you'"])
    assert words == ["everyone"] and features == ["insulting term", "insult aimed at 'you'"]
    assert R.model_terms(["'a'", "'the'", "'a'"]) == (["a", "the"], [])  # nothing else left: shown as they are
    # a two-word term made only of function words explains as little as one ("Subscribe to … if you want …")
    assert R.model_terms(["'subscribe'", "'newsletter'", "'subscribe to'", "'they are'", "'if you'"])[0] == [
        "subscribe", "newsletter", "subscribe to"]
    assert R.model_terms([]) == ([], [])
    assert R.model_terms(["'اهبل'", "'يا'"]) == (["اهبل"], [])  # Arabic function words too: "O fool" quotes "fool"


def test_a_threat_is_held_even_when_nothing_else_is() -> None:
    d = decide(_sig(attributes={"threat": 0.91}, terms={"threat": ["'deserves to be shot'"]}), T)
    assert d.status == "pending"
    [r] = d.reasons
    assert r["code"] == "abuse" and r["attribute"] == "threat" and r["terms"] == ["deserves to be shot"]
    assert r["message"] == "held: threat 0.91 ≥ 0.40 — 'deserves to be shot'"
    assert d.reason_codes == ["abuse", "threat"]
    assert decide(_sig(attributes={"threat": 0.39}), T).status == "approved"


def test_a_curated_phrase_holds_below_the_threshold() -> None:
    """"Immigrants are vermin and should be sent back." scored identity_attack 0.63 and was published: the
    dehumanising phrase now holds it on its own, with a reason that quotes it; above the threshold the model's
    own reason is enough (no second one)."""
    d = decide(_sig(attributes={"identity_attack": 0.63}, phrases={"identity_attack": "immigrants are vermin"}),
               Thresholds(other=(("identity_attack", 0.85),)))
    assert d.status == "pending"
    [r] = d.reasons
    assert r["code"] == "phrase" and r["attribute"] == "identity_attack" and r["terms"] == ["immigrants are vermin"]
    assert r["message"] == "held: identity attack phrase 'immigrants are vermin' (identity attack 0.63 < 0.85)"
    assert d.reason_codes == ["phrase", "identity_attack"]
    assert R.terms_of(d.reasons_json()) == [("immigrants are vermin", "abuse")]
    above = decide(_sig(attributes={"threat": 0.91}, phrases={"threat": "deserves to be shot"}), T)
    assert [r["code"] for r in above.reasons] == ["abuse"]
    spam = decide(_sig(spam=0.999, attributes={"threat": 0.1}, phrases={"threat": "i will find you"},
                       spam_signals=("phone number", "e-mail address")), T)
    assert spam.status == "spam" and [r["outcome"] for r in spam.reasons] == ["noted", "spam"]


def test_profanity_alone_is_noted_not_held() -> None:
    d = decide(_sig(attributes={"profanity": 0.9}, terms={"profanity": ["'damn'"]}), T)
    assert d.status == "approved"
    assert [r["outcome"] for r in d.reasons] == ["noted", "published"]
    assert d.reasons[0]["message"].startswith("also: profanity 0.90")
    holding = Thresholds(other=(("profanity", 0.5),), holding=("profanity",))
    assert decide(_sig(attributes={"profanity": 0.9}), holding).status == "pending"


def test_spam_probability_alone_never_rejects() -> None:
    complaint = _sig(spam=0.9995, terms={"spam": ["money amount", "'charged'"]})
    d = decide(complaint, T)
    assert d.status == "pending"
    [r] = d.reasons
    assert r["outcome"] == "held" and r["threshold"] == 0.55 and r["reject_threshold"] == 0.99
    assert "not rejected" in r["message"] and r["message"].startswith("held: spam 1.00 ≥ 0.55")
    # one signal is not enough; two independent ones are
    assert decide(_sig(spam=0.9995, spam_signals=("phone number",)), T).status == "pending"
    d = decide(_sig(spam=0.9995, spam_signals=("phone number", "e-mail address")), T)
    assert d.status == "spam" and d.reasons[0]["signals"] == ["phone number", "e-mail address"]
    assert d.reasons[0]["message"].startswith("spam: spam 1.00 ≥ 0.99 — phone number, e-mail address")
    # two signals below the reject threshold: held
    assert decide(_sig(spam=0.7, spam_signals=("phone number", "e-mail address")), T).status == "pending"
    # the same text from other authors is evidence too
    d = decide(_sig(spam=0.995, repeat_authors=3), T)
    assert d.status == "spam" and [r["outcome"] for r in d.reasons] == ["spam", "spam"]
    assert decide(_sig(spam=0.1, repeat_authors=3), T).status == "pending"


def test_a_spam_rejection_never_lists_a_held_reason() -> None:
    d = decide(_sig(spam=0.999, toxicity=0.5, spam_signals=("phone number", "link to a non-reference site"),
                    suspect_hits=["idiot"]), T)
    assert d.status == "spam"
    messages = [r["message"] for r in d.reasons]
    assert not [m for m in messages if m.startswith("held:")], messages
    assert "also: suspect word(s) 'idiot'" in messages and any(m.startswith("also: toxicity 0.50") for m in messages)


def test_banned_word_and_blocked_author_reject() -> None:
    d = decide(_sig(banned_hits=["slur"]), T)
    assert d.status == "rejected" and d.reasons[0]["message"] == "rejected: banned word(s) 'slur'"
    d = decide(_sig(blocked="spammer"), T)
    assert d.status == "rejected" and d.reasons[0]["message"] == "rejected: author is blocked (spammer)"


def test_unsupported_language_is_held_or_published() -> None:
    german = Signals(spam=0.2, abuse=0.1, attributes={}, language="de", language_supported=False)
    d = decide(german, T)
    assert d.status == "pending" and d.reasons[0]["message"] == "held: language 'de' is not supported by the model"
    d = decide(german, T, unsupported_language="publish")
    assert d.status == "approved"
    assert d.reasons[0]["message"] == "published: language 'de' is not supported by the model"
    # the word lists still apply
    banned = Signals(spam=0.2, abuse=0.1, attributes={}, language="de", language_supported=False,
                     banned_hits=["slur"])
    assert decide(banned, T, unsupported_language="publish").status == "rejected"


def test_a_model_without_attributes_is_read_as_toxicity_and_spam() -> None:
    d = decide(Signals(spam=0.01, abuse=0.94, terms={"abuse": ["'idiot'"]}), Thresholds(abuse_hold=0.30))
    assert d.status == "pending"
    assert d.reasons[0]["attribute"] == "toxicity" and d.reasons[0]["message"] == "held: toxicity 0.94 ≥ 0.30 — 'idiot'"
    d = decide(Signals(spam=0.01, abuse=0.02), Thresholds())
    assert d.reasons[0]["message"] == "published: spam 0.01, toxicity 0.02 below thresholds"
    d = decide(Signals(spam=None, abuse=None, unscored_why="model not loaded"), Thresholds())
    assert d.status == "pending" and d.reasons[0]["message"] == "held: not scored (model not loaded)"


def test_thresholds_per_attribute_from_metadata_and_environment() -> None:
    meta = {"toxicity": 0.3, "threat": 0.45, "spam": 0.6, "spam_reject": 0.98, "abuse_hold": 0.9}
    t = effective_thresholds(Config(), meta)
    assert (t.hold("toxicity"), t.hold("threat"), t.hold("spam"), t.spam_reject) == (0.3, 0.45, 0.6, 0.98)
    assert t.hold("insult") == 0.5 and not t.holds("profanity")
    env = {"MODERATION_THREAT_HOLD": "0.2", "MODERATION_ABUSE_HOLD": "0.25", "MODERATION_SPAM_HOLD": "0.7",
           "MODERATION_PROFANITY_HOLD": "0.8"}
    t = effective_thresholds(Config.from_env(env), meta)
    assert (t.hold("threat"), t.hold("toxicity"), t.hold("spam"), t.hold("profanity")) == (0.2, 0.25, 0.7, 0.8)
    assert t.holds("profanity")  # set explicitly: it holds
    assert t.as_dict()["threat_hold"] == 0.2 and t.as_dict()["abuse_hold"] == 0.25
    t = effective_thresholds(Config.from_env({"MODERATION_TOXICITY_HOLD": "0.4"}), meta)
    assert t.hold("toxicity") == 0.4
    # an old model's metadata
    t = effective_thresholds(Config(), {"spam_reject": 0.99, "spam_hold": 0.55, "abuse_hold": 0.32})
    assert (t.spam_reject, t.spam_hold, t.abuse_hold) == (0.99, 0.55, 0.32)
    with pytest.raises(ConfigError, match="MODERATION_THREAT_HOLD"):
        Config.from_env({"MODERATION_THREAT_HOLD": "2"})
    with pytest.raises(ConfigError, match="MODERATION_UNSUPPORTED_LANGUAGE"):
        Config.from_env({"MODERATION_UNSUPPORTED_LANGUAGE": "maybe"})
    assert Config.from_env({"MODERATION_UNSUPPORTED_LANGUAGE": "Publish"}).unsupported_language == "publish"


def test_old_reasons_still_render_and_highlight() -> None:
    old = [{"code": "spam", "message": "spam: spam 0.99 ≥ 0.90 — 'script', URL, 'free'"},
           {"code": "suspect_word", "message": "held: suspect word(s) 'idiot'"},
           {"code": "clean", "message": "published: spam 0.01, abuse 0.02 below thresholds"}]
    assert [R.render(r) for r in old] == [r["message"] for r in old]
    assert R.terms_of(old) == [("script", "spam"), ("free", "spam"), ("idiot", "suspect_word")]
    new = [R.make("abuse", "held", attribute="threat", score=0.91, threshold=0.4, terms=["deserves to be shot"]),
           R.make("banned_word", "rejected", terms=["slur"])]
    assert R.terms_of(new) == [("deserves to be shot", "abuse"), ("slur", "banned_word")]
    assert R.codes(new) == ["abuse", "threat", "banned_word"]


def test_moderator_reasons_name_the_action_and_note() -> None:
    r = R.moderator("reject", "rejected", "personal attack")
    assert r["message"] == "rejected by a moderator: personal attack" and r["code"] == "moderator"
    assert R.moderator("approve", "published", None)["message"] == "published by a moderator"
    assert R.make("reported", "held", count=2, detail="abuse 1, spam 1")["message"] == (
        "held: reported by 2 readers (abuse 1, spam 1)")
