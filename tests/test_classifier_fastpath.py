"""The vectorised scoring path equals its reference definitions, exactly.

* ``FeatureSpace.transform_batch`` (own analyzers + cached char-n-gram columns + numpy tf-idf)
  must build the very matrix the fitted sklearn vectorisers + ``sp.hstack`` build
  (``transform_reference``): same indptr, indices and float32 data, bit for bit.
* ``FeatureSpace.explain_batch`` must give what the per-row ``explain`` gives, including rows
  whose contributions tie (coefficient vectors are forced to produce many ties below).
* The pre-filtered text functions (``clean_text``, ``dense_features``, ``lexicon_features``,
  ``normalise``) must equal straightforward reference versions (the code as it was before the
  pre-filters, kept verbatim here) on generated adversarial strings.
"""

from __future__ import annotations

import html
import json
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from classifier import Model, load_model
from classifier import features as F
from classifier import lexicon as L
from classifier import rules as R

FIXTURES = Path(__file__).parent / "fixtures" / "classifier"


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    cases = json.loads((FIXTURES / "score_regression.json").read_text(encoding="utf-8"))["cases"]
    return [c["text"] for c in cases]


def _assert_same_csr(a, b) -> None:
    b = b.tocsr()
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.data.dtype == b.data.dtype == np.float32
    np.testing.assert_array_equal(a.data, b.data)  # exact, not approximate


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_fast_transform_equals_sklearn(model: Model, texts: list[str], batch: int) -> None:
    space = model.features
    for i in range(0, len(texts), batch):
        chunk = texts[i : i + batch]
        fast = space.transform_batch(chunk)
        ref, cleaned = space.transform_reference(chunk)
        _assert_same_csr(fast.x, ref)
        assert fast.cleaned == cleaned


def test_fast_transform_cold_and_warm_cache_agree(model: Model, texts: list[str]) -> None:
    space = model.features
    space._word_info.cache_clear()
    cold = space.transform_batch(texts).x
    warm = space.transform_batch(texts).x
    _assert_same_csr(cold, warm)
    assert space._word_info.cache_info().maxsize == F._WORD_CACHE_SIZE  # bounded memory


def _coef(model: Model, attribute: str) -> np.ndarray:
    pack = model._packs["en"]
    return pack.coefs[pack.attributes.index(attribute)]


def test_empty_batch(model: Model) -> None:
    batch = model.features.transform_batch([])
    assert batch.x.shape == (0, model.features.n_features)
    assert model.features.explain_batch(batch, [_coef(model, "spam")]) == []
    assert model.score([]) == []
    assert all(len(v) == 0 for v in model.predict_proba([]).values())


def _tie_heavy_coefs(model: Model) -> list[np.ndarray]:
    spam = _coef(model, "spam")
    return [
        spam,
        _coef(model, "toxicity"),
        np.ones_like(spam),  # contributions = tf-idf values: many equal within a row
        np.round(spam, 1).astype(np.float32),  # few distinct coefficients
        np.where(spam > 0, np.float32(0.5), np.float32(-1.0)).astype(np.float32),
    ]


def test_explain_batch_equals_per_row_explain(model: Model, texts: list[str]) -> None:
    space = model.features
    coefs = _tie_heavy_coefs(model)
    for size in (1, 13, len(texts)):
        for i in range(0, len(texts), size):
            batch = space.transform_batch(texts[i : i + size])
            got = space.explain_batch(batch, coefs)
            for r in range(batch.x.shape[0]):
                row = batch.x[[r]]
                want = [space.explain(row, coef, batch.cleaned[r], raw=texts[i + r]) for coef in coefs]
                assert got[r] == want, texts[i + r][:80]


def test_explain_batch_explains_only_the_heads_asked_per_row(model: Model, texts: list[str]) -> None:
    """rows={row: heads}: those heads as explain gives them, empty lists for the other heads and rows."""
    space = model.features
    coefs = _tie_heavy_coefs(model)
    batch = space.transform_batch(texts[:16])
    wanted = {r: [h for h in range(len(coefs)) if (r + h) % 3 == 0] for r in range(0, 16, 2)}
    got = space.explain_batch(batch, coefs, rows=wanted)
    full = space.explain_batch(batch, coefs)
    for r in range(16):
        for h in range(len(coefs)):
            assert got[r][h] == (full[r][h] if h in wanted.get(r, ()) else [])
    assert any(full[r][h] for r, hs in wanted.items() for h in hs)


def test_tie_heavy_coefs_do_produce_ties(model: Model, texts: list[str]) -> None:
    """Guard for the test above: rows whose 41 best contributions tie really occur with those coefs."""
    x = model.features.transform_batch(texts).x
    tied_rows = 0
    for r in range(x.shape[0]):
        vals = np.sort(x.data[x.indptr[r] : x.indptr[r + 1]])[::-1][:41]  # coef = ones
        tied_rows += bool(len(vals) > 1 and np.any(vals[1:] == vals[:-1]))
    assert tied_rows > 10


# --- reference versions of the pre-filtered text functions (verbatim, before pre-filters) ---------


def _ref_strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _ref_normalise(text: str) -> str:
    text = _ref_strip_accents(text).casefold().translate(R._CONFUSABLES)
    text = R._SPACED.sub(lambda m: R._SEP.sub("", m.group(0)), text)
    text = R._TOKEN.sub(R._deleet_token, text)
    text = R._REPEAT3.sub(r"\1\1", text)
    return R._WS.sub(" ", text).strip()


def _ref_lexicon_features(text: str) -> list[float]:
    norm = _ref_normalise(text)
    insults = len(L._INSULT_RE.findall(norm))
    return [
        min(insults / 2.0, 1.0),
        1.0 if L._TARGETED_RE.search(norm) else 0.0,
        min(len(L._PROFANITY_RE.findall(norm)) / 2.0, 1.0),
        1.0 if L._THREAT_RE.search(norm) else 0.0,
        1.0 if L._DISMISS_RE.search(norm) else 0.0,
        min(len(L._PROMO_RE.findall(norm)) / 2.0, 1.0),
    ]


def _ref_clean_text(text: str) -> str:
    text = html.unescape(html.unescape(text))
    text = F.HREF_RE.sub(r" \1 ", text)
    text = F.TAG_RE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = F.EMAIL_RE.sub(" xemailx ", text)
    text = F.URL_RE.sub(" xurlx ", text)
    text = F.MENTION_RE.sub(" ", text)
    text = F.RT_RE.sub(" ", text)
    text = F.MONEY_RE.sub(lambda m: " xmoneyx " + m.group(0) + " ", text)
    text = F.PHONE_RE.sub(lambda m: " xphonex " if F._is_phone(m.group(0)) else m.group(0), text)
    text = F.deleet(text)
    text = F.REPEAT_RE.sub(r"\1\1", text)
    text = F.SPACED_RE.sub(lambda m: F.SEP_RE.sub("", m.group(0)), text)
    return F.WS_RE.sub(" ", text).strip()


def _ref_dense_features(raw: str) -> list[float]:
    text = F.TAG_RE.sub(" ", F.HREF_RE.sub(r" \1 ", html.unescape(raw)))
    text_no_mentions = F.MENTION_RE.sub(" ", text)
    n_urls = len(F.URL_RE.findall(text))
    letters = [c for c in text_no_mentions if c.isalpha()]
    n_letters = len(letters)
    caps = sum(1 for c in letters if c.isupper()) / n_letters if n_letters >= 12 else 0.0
    n_chars = max(len(text), 1)
    words = [w.lower() for w in F.WORD_RE.findall(text_no_mentions)]
    rep_words = 1.0 - len(set(words)) / len(words) if len(words) >= 6 else 0.0
    rep_chars = min(len(F.REPEAT_RE.findall(text)) / 3.0, 1.0)
    digits = sum(c.isdigit() for c in F.deleet(text)) / n_chars
    symbols = sum(1 for c in text if not (c.isalnum() or c.isspace())) / n_chars
    return [
        1.0 if n_urls else 0.0,
        1.0 if n_urls >= 2 else 0.0,
        1.0 if F.EMAIL_RE.search(text) else 0.0,
        1.0 if F._count_phones(text) else 0.0,
        1.0 if F.MONEY_RE.search(text) else 0.0,
        max(0.0, (caps - 0.5) * 2.0),
        min(text.count("!") / 5.0, 1.0),
        rep_words,
        rep_chars,
        min(digits * 5.0, 1.0),
        min(symbols * 4.0, 1.0),
        min(max(0.0, len(text) - 600) / 1400.0, 1.0),
        1.0 if len(words) <= 3 else 0.0,
        *_ref_lexicon_features(text),
    ]


_PIECES = [
    *"aAbBiIdDoOtTuUsSkKyY 0123456789@$+|€£!.,-_*/:?=&<>\"'#;()\n\t",
    *"ßæœøđłıéÉüñçſKİ\u0301\u0308\u00a0\u200b😀’“²½Ⅷ٣＜﹫",
    "http://", "https://x.", "www.", "WWW.", ".com", ". Com", ".co.uk", "watch?v=", " you ", "u r ", "your ",
    "idiot", "IDIOTS", "moron", "fuck", "shit", "kill you", "kys", "shut up", "go to hell", "subscribe",
    "check out my", "&amp;", "&lt;b&gt;", "<a href='x.com'>", "</b>", "<p>", "@bob", "bob@ex.com", "RT ", "$5",
    "£10", "10 pounds", "0800 123 4567", "2,124,923", "i d i o t", "i.d.i.o.t", "1d10t", "sh!t", "st00pid",
    "aaa", "!!!", "...", "Σ", "ΟΔΟΣ", "Ты идиот", "مقال",
]


def _adversarial(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def test_prefiltered_text_functions_equal_references(texts: list[str]) -> None:
    for t in [*texts, *_adversarial(3000, seed=11)]:
        t = t[: F.MAX_CHARS]
        assert R.normalise(t) == _ref_normalise(t), t
        assert L.lexicon_features(t) == _ref_lexicon_features(t), t
        assert F.clean_text(t) == _ref_clean_text(t), t
        assert F.dense_features(t) == _ref_dense_features(t), t


def test_symbol_regex_matches_str_predicates_for_every_code_point() -> None:
    chars = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    by_regex = {m.group(0) for m in F._SYMBOL_RE.finditer(chars)}
    by_predicate = {c for c in chars if not (c.isalnum() or c.isspace())}
    assert by_regex == by_predicate


@pytest.mark.parametrize("terms", [L.INSULTS, L.PROFANITY, L.THREATS, L.DISMISSALS, L.SELF_PROMO])
def test_lexicon_shortcut_never_skips_a_term(terms: list[str]) -> None:
    for term in terms:
        for text in (term, f"ok {term}", f"{term}s!", f"{term}es.", f"you are a {term}", f"YOU {term.upper()}!!"):
            assert L.lexicon_features(text) == _ref_lexicon_features(text), text


def test_unsupported_vectoriser_config_falls_back_to_sklearn(
    model: Model, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An artefact whose vectorisers the fast path does not model is scored through sklearn, same result."""
    fast = model.score(texts[:40])
    monkeypatch.setattr(model.features, "_fast", False)
    assert model.score(texts[:40]) == fast


def test_model_still_pickles(model: Model, texts: list[str]) -> None:
    """The word cache must not make the model unpicklable (e.g. ``model.score`` sent to a process pool)."""
    import pickle

    clone = pickle.loads(pickle.dumps(model))
    assert clone.score(texts[:30]) == model.score(texts[:30])
