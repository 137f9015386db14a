"""Perspective's comments:analyze / suggestscore on this service: answers, every error in Google's shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moderation.app import create_app
from moderation.compat import apikeys
from moderation.core import keys

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


@pytest.fixture
def config(config: Any) -> Any:
    """conftest's, with a scoring deadline a loaded CI machine cannot miss: these tests are about protocols
    (the deadline's own behaviour is tested in test_intake)."""
    return config.with_changes(scoring_deadline_s=30.0)


@pytest.fixture
async def api_key(db: Any) -> str:
    return (await apikeys.create(db, "coral-test"))[1]


async def analyze(client: Any, key: str | None, body: Any, *, raw: bytes | None = None) -> Any:
    url = ANALYZE + (f"?key={key}" if key is not None else "")
    data = raw if raw is not None else json.dumps(body).encode()
    return await client.post(url, data=data, headers={"Content-Type": "application/json"})


def google_error(payload: dict[str, Any], code: int, status: str) -> dict[str, Any]:
    assert set(payload["error"]) >= {"code", "message", "status"}, payload
    assert payload["error"]["code"] == code and payload["error"]["status"] == status, payload
    assert payload["type"].startswith("/problems/perspective-") and payload["status"] == code
    return payload["error"]


async def test_analyze_scores_toxicity_and_spam(client: Any, api_key: str) -> None:
    body = {"comment": {"text": "You are a disgusting idiot, shut up."}, "languages": ["en"],
            "requestedAttributes": {"TOXICITY": {}, "SPAM": {}}, "clientToken": "tok-1"}
    resp = await analyze(client, api_key, body)
    assert resp.status == 200, await resp.text()
    out = await resp.json()
    tox = out["attributeScores"]["TOXICITY"]["summaryScore"]
    assert tox["type"] == "PROBABILITY" and tox["value"] > 0.5
    assert 0 <= out["attributeScores"]["SPAM"]["summaryScore"]["value"] <= 1
    assert out["languages"] == ["en"] and out["detectedLanguages"] and out["clientToken"] == "tok-1"

    clean = await (await analyze(client, api_key, {"comment": {"text": "Thanks for the careful reporting on the "
                                                               "council budget."},
                                                   "requestedAttributes": {"TOXICITY_EXPERIMENTAL": {}}})).json()
    assert clean["attributeScores"]["TOXICITY_EXPERIMENTAL"]["summaryScore"]["value"] < 0.3
    assert "clientToken" not in clean


async def test_score_threshold_drops_low_scores(client: Any, api_key: str) -> None:
    body = {"comment": {"text": "Thanks for the careful reporting."},
            "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.9}, "SPAM": {"scoreThreshold": 0.0}}}
    out = await (await analyze(client, api_key, body)).json()
    assert "TOXICITY" not in out["attributeScores"] and "SPAM" in out["attributeScores"]


async def test_span_annotations_are_sentences_in_utf16(client: Any, api_key: str) -> None:
    text = "What a lovely 😀 day. You are a stupid idiot!"
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    out = await (await analyze(client, api_key, body)).json()
    spans = out["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 21), (22, 45)]  # the emoji is 2 UTF-16 units
    assert spans[1]["score"]["value"] > spans[0]["score"]["value"]


async def test_banned_word_makes_toxicity_one(client: Any, api_key: str, db: Any) -> None:
    await db.execute("INSERT INTO word_lists (list, term) VALUES ('banned', 'frobnicate') ON CONFLICT DO NOTHING")
    app = client.server.app
    app[keys.RULES]._lists = None  # the cache would keep the old lists for a while
    body = {"comment": {"text": "Please frobnicate the council."}, "requestedAttributes": {"TOXICITY": {}}}
    out = await (await analyze(client, api_key, body)).json()
    assert out["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == 1.0


@pytest.mark.parametrize(("key", "code", "status"), [(None, 403, "PERMISSION_DENIED"),
                                                     ("wrong", 400, "INVALID_ARGUMENT"),
                                                     ("mk" + "a" * 52, 400, "INVALID_ARGUMENT")])
async def test_bad_keys(client: Any, key: str | None, code: int, status: str) -> None:
    resp = await analyze(client, key, {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}})
    assert resp.status == code and resp.content_type == "application/json"
    google_error(await resp.json(), code, status)


async def test_revoked_key_is_refused(client: Any, db: Any) -> None:
    _, key = await apikeys.create(db, "soon-gone")
    body = {"comment": {"text": "hello there"}, "requestedAttributes": {"TOXICITY": {}}}
    assert (await analyze(client, key, body)).status == 200
    assert await apikeys.revoke(db, "soon-gone")
    client.server.app[keys.COMPAT_KEYS].forget()
    resp = await analyze(client, key, body)
    assert google_error(await resp.json(), 400, "INVALID_ARGUMENT")["message"].startswith("API key not valid")


@pytest.mark.parametrize(("body", "raw", "slug", "needle"), [
    (None, b"{not json", "perspective-malformed-json", "Invalid JSON payload"),
    (None, b"", "perspective-malformed-json", "empty"),
    (None, b"[1, 2]", "perspective-invalid-argument", "Invalid value"),
    ({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}, None, "perspective-invalid-argument",
     "comment.text"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}, None, "perspective-unknown-attribute",
     "FLIRTATION"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {}}, None, "perspective-invalid-argument",
     "requested_attributes"),
    ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, None, "perspective-comment-empty",
     "non-empty"),
    ({"comment": {"text": "x" * 20_481}, "requestedAttributes": {"TOXICITY": {}}}, None,
     "perspective-comment-too-long", "20481 bytes"),
    ({"comment": {"text": "é" * 10_241}, "requestedAttributes": {"TOXICITY": {}}}, None,
     "perspective-comment-too-long", "20482 bytes"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}}, None,
     "perspective-invalid-argument", "PROBABILITY"),
    (None, b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 1e999}}}',
     "perspective-invalid-argument", "scoreThreshold"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 1.5}}}, None,
     "perspective-invalid-argument", "between 0 and 1"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["ja"]}, None,
     "perspective-language-not-supported", "does not support request languages: ja"),
    (None, b'{"comment": {"text": "\\ud800"}, "requestedAttributes": {"TOXICITY": {}}}',
     "perspective-malformed-json", "Invalid JSON payload"),
    (None, b'{"foo": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "perspective-malformed-json", "nested too deeply"),
    (None, b'{"context": ' + b"[" * 5000 + b"]" * 5000 + b"}", "perspective-malformed-json", "nested too deeply"),
])
async def test_problem_cases(client: Any, api_key: str, body: Any, raw: bytes | None, slug: str,
                             needle: str) -> None:
    resp = await analyze(client, api_key, body, raw=raw)
    payload = await resp.json()
    assert resp.status == 400, payload
    error = google_error(payload, 400, "INVALID_ARGUMENT")
    assert payload["type"] == f"/problems/{slug}" and needle in error["message"], payload
    problem = await client.get(payload["type"])
    assert problem.status == 200


async def test_language_error_names_the_attribute(client: Any, api_key: str) -> None:
    body = {"comment": {"text": "hi"}, "requestedAttributes": {"INSULT": {}}, "languages": ["ja"]}
    error = google_error(await (await analyze(client, api_key, body)).json(), 400, "INVALID_ARGUMENT")
    detail = error["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "INSULT"


async def test_body_over_the_limit_is_google_shaped(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(max_body_bytes=4096)))
    _, key = await apikeys.create(db, "big")
    resp = await analyze(client, key, None, raw=b'{"comment": {"text": "' + b"a" * 8000 + b'"}}')
    assert resp.status == 400
    google_error(await resp.json(), 400, "INVALID_ARGUMENT")


async def test_quota_is_resource_exhausted(client: Any, db: Any) -> None:
    _, key = await apikeys.create(db, "tiny", rate_per_minute=2)
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    assert [(await analyze(client, key, body)).status for _ in range(2)] == [200, 200]
    resp = await analyze(client, key, body)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    google_error(await resp.json(), 429, "RESOURCE_EXHAUSTED")


async def test_do_not_store_stores_nothing(client: Any, api_key: str, db: Any) -> None:
    marker = "Zqxjv unmistakable marker text for the storage check"
    body = {"comment": {"text": marker}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": True}
    assert (await analyze(client, api_key, body)).status == 200
    dump = await db.fetchval("SELECT string_agg(t::text, ' ') FROM (SELECT row_to_json(c)::text AS t FROM comments c "
                             "UNION ALL SELECT row_to_json(l)::text FROM compat_labels l "
                             "UNION ALL SELECT row_to_json(r)::text FROM webhook_receipts r) t")
    assert marker not in (dump or "")


async def test_calls_are_counted_per_key_in_metrics(client: Any, api_key: str) -> None:
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    await analyze(client, api_key, body)
    await analyze(client, "wrong", body)
    metrics = await (await client.get("/metrics")).text()
    assert ('moderation_api_key_requests_total{key="coral-test",method="analyze",outcome="ok",'
            'protocol="perspective"} 1.0') in metrics
    assert 'key="(invalid)",method="analyze",outcome="invalid-key"' in metrics


async def test_suggestscore_stores_a_label(client: Any, api_key: str, db: Any) -> None:
    body = {"comment": {"text": "Everyone who disagrees is a moron."}, "attributeScores": {
        "TOXICITY": {"summaryScore": {"value": 1}}}, "languages": ["en"], "communityId": "Coral:https://news.example",
        "clientToken": "comment:42"}
    resp = await client.post(f"{SUGGEST}?key={api_key}", json=body)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"clientToken": "comment:42", "detectedLanguages": ["en"], "requestedLanguages": ["en"]}
    row = await db.fetchrow("SELECT * FROM compat_labels")
    assert (row["text"], row["label"], row["attributes"]) == (body["comment"]["text"], "abusive", {"toxicity": 1})
    bad = await client.post(f"{SUGGEST}?key={api_key}", json={"comment": {"text": "x"}, "attributeScores": {}})
    google_error(await bad.json(), 400, "INVALID_ARGUMENT")


async def test_unknown_method_and_get(client: Any, api_key: str) -> None:
    assert (await client.get(f"{ANALYZE}?key={api_key}")).status == 405
    assert (await client.post(f"/v1alpha1/comments:frobnicate?key={api_key}", json={})).status == 404


async def test_suggestions_reach_the_training_export(client: Any, api_key: str, db: Any, tmp_path: Any) -> None:
    """Coral's approve (TOXICITY 0) and reject (1), and an Akismet submit-spam, are rows of the file that
    ``moderation train --include-decisions`` trains on, and classifier.data reads them as labels."""
    from classifier.data import load_decisions
    from moderation.decisions.learning import export_labels

    for text, value in (("A fair point about the budget.", 0), ("Shut up, idiot.", 1)):
        body = {"comment": {"text": text}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}}}
        assert (await client.post(f"{SUGGEST}?key={api_key}", json=body)).status == 200
    form = {"api_key": api_key, "blog": "https://b.example", "user_ip": "1.2.3.4",
            "comment_content": "Cheap replica watches at watches.example"}
    assert (await client.post("/1.1/submit-spam", data=form)).status == 200
    path = tmp_path / "labels.csv"
    assert await export_labels(db, path) == 3
    records, _ = load_decisions(path)
    got = {(r.text, r.spam, r.abuse) for r in records}
    assert got == {("A fair point about the budget.", None, 0), ("Shut up, idiot.", None, 1),
                   ("Cheap replica watches at watches.example", 1, None)}
