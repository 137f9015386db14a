"""Perspective clients nobody here wrote, unmodified except for their configuration.

- Google's ``google-api-python-client``, through our discovery document: the Perspective docs' Python sample
  with ``discoveryServiceUrl`` (and the key) changed.
- Coral Talk's request, byte for byte as ``server/src/core/server/services/perspective/perspective.ts``
  builds it: ``formatBody`` (``JSON.stringify``: no spaces, keys in that order, non-ASCII as is) posted to
  ``path.join(endpoint.pathname, "/comments:analyze")`` with ``?key=``, and its reading of
  ``attributeScores[model].summaryScore.value``; the same for ``comments:suggestscore`` after a moderator's
  decision.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from moderation.compat import apikeys
from moderation.core import keys
from tests.conftest import LiveServer


@pytest.fixture
def live_server(config: Any) -> Any:
    from moderation.app import create_app

    # a loaded CI machine may take more than the default 2 s on the first scoring; these tests are about protocols
    server = LiveServer(create_app(config.with_changes(scoring_deadline_s=30.0)))
    yield server
    server.stop()


@pytest.fixture
def live_key(live_server: LiveServer) -> str:
    return live_server.call(apikeys.create(live_server.app[keys.POOL],
                                           "google-client"))[1]


def test_google_api_python_client_sample(live_server: LiveServer, live_key: str) -> None:
    from googleapiclient import discovery
    from googleapiclient.errors import HttpError

    # The Perspective docs' sample; only discoveryServiceUrl and the key differ.
    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=live_key,
        discoveryServiceUrl=f"{live_server.url}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
    )
    analyze_request = {
        "comment": {"text": "friendly greetings from python"},
        "requestedAttributes": {"TOXICITY": {}},
    }
    response = client.comments().analyze(body=analyze_request).execute()
    value = response["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert 0.0 <= value < 0.5 and response["attributeScores"]["TOXICITY"]["summaryScore"]["type"] == "PROBABILITY"

    toxic = client.comments().analyze(body={"comment": {"text": "Shut up, you pathetic idiot."},
                                            "requestedAttributes": {"TOXICITY": {}, "SPAM": {}}}).execute()
    assert toxic["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.5
    assert set(toxic["attributeScores"]) == {"TOXICITY", "SPAM"} and toxic["detectedLanguages"] == ["en"]

    suggested = client.comments().suggestscore(body={
        "comment": {"text": "friendly greetings from python"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}}, "clientToken": "c-1"}).execute()
    assert suggested["clientToken"] == "c-1"

    with pytest.raises(HttpError) as refused:
        client.comments().analyze(body={"comment": {"text": "hi"}, "requestedAttributes": {"BOGUS": {}}}).execute()
    assert refused.value.resp.status == 400 and "BOGUS" in str(refused.value)

    wrong = discovery.build("commentanalyzer", "v1alpha1", developerKey="mk" + "0" * 52, static_discovery=False,
                            discoveryServiceUrl=f"{live_server.url}/$discovery/rest?version=v1alpha1")
    with pytest.raises(HttpError) as invalid:
        wrong.comments().analyze(body=analyze_request).execute()
    assert invalid.value.resp.status == 400 and "API key not valid" in str(invalid.value)


def test_discovery_root_url_is_this_service(live_server: LiveServer) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/$discovery/rest?version=v1alpha1") as resp:
        doc = json.load(resp)
    assert doc["rootUrl"] == f"{live_server.url}/" and doc["name"] == "commentanalyzer"
    assert doc["resources"]["comments"]["methods"]["analyze"]["path"] == "v1alpha1/comments:analyze"
    assert doc["schemas"]["AnalyzeCommentRequest"]["properties"]["requestedAttributes"]["additionalProperties"] == {
        "$ref": "AttributeParameters"}


# ── Coral Talk ───────────────────────────────────────────────────────────────────────────────────────
def js_stringify(value: Any) -> bytes:
    """JSON.stringify: compact separators, insertion order, non-ASCII characters unescaped."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def coral_url(endpoint: str, operation: str, key: str) -> str:
    """``new URL(endpoint); url.pathname = path.join(url.pathname, `/${operation}`); searchParams.set("key")``."""
    parts = urlsplit(endpoint.strip())
    return urlunsplit(parts._replace(path=posixpath.normpath(posixpath.join(parts.path or "/", operation)),
                                     query=urlencode({"key": key.strip()})))


def coral_analyze_body(text: str, do_not_store: bool, model: str, language: str) -> bytes:
    return js_stringify({"comment": {"text": text}, "doNotStore": do_not_store,
                         "requestedAttributes": {model: {}}, "languages": [language]})


def with_comment_id(story_url: str, comment_id: str) -> str:
    """getURLWithCommentID: the story URL's query plus commentID, re-stringified (query-string sorts keys)."""
    from urllib.parse import parse_qsl

    parts = urlsplit(story_url)
    query = dict(parse_qsl(parts.query))
    query["commentID"] = comment_id
    return urlunsplit(parts._replace(path=parts.path or "/", query=urlencode(sorted(query.items()))))


def coral_suggest_body(text: str, story_url: str, comment_id: str, parent_id: str | None, status: str, model: str,
                       tenant_url: str, language: str) -> bytes:
    entry: dict[str, Any] = {"url": with_comment_id(story_url, comment_id)}
    if parent_id is not None:  # JSON.stringify leaves out undefined
        entry["reply_to_id_Coral_comment_id"] = parent_id
    entry["Coral_comment_id"] = comment_id
    return js_stringify({
        "comment": {"text": text},
        "context": {"entries": [{"text": js_stringify(entry).decode()}]},
        "attributeScores": {model: {"summaryScore": {"value": 0 if status == "APPROVED" else 1}}},
        "languages": [language],
        "communityId": f"Coral:{tenant_url}",
        "clientToken": f"comment:{comment_id}",
    })


async def test_coral_talk_requests_byte_for_byte(aiohttp_client: Any, config: Any, db: Any) -> None:
    from moderation.app import create_app

    client = await aiohttp_client(create_app(config))
    _, key = await apikeys.create(db, "coral")
    endpoint = str(client.make_url("/v1alpha1"))  # the admin's custom endpoint, as the README tells them
    headers = {"Content-Type": "application/json"}

    scores = {}
    for text in ("Thank you for this — a thoughtful piece on the new library 📚.",
                 "You are a worthless moron and everyone hates you."):
        body = coral_analyze_body(text, True, "TOXICITY", "en")  # tenant locale en-US -> "en"
        url = coral_url(endpoint, "comments:analyze", f" {key} ")
        assert url.endswith(f"/v1alpha1/comments:analyze?key={key}")
        resp = await client.session.post(url, data=body, headers=headers)
        assert resp.ok, await resp.text()
        data = await resp.json()
        scores[text] = data["attributeScores"]["TOXICITY"]["summaryScore"]["value"]  # toxic.ts reads exactly this
    clean, toxic = scores.values()
    # the admin sets Coral's threshold to the model's hold threshold (README); Coral holds when score > threshold
    threshold = client.server.app[keys.MODEL].metadata["thresholds"]["toxicity"]
    assert clean < threshold < toxic, scores

    body = coral_suggest_body("You are a worthless moron and everyone hates you.", "https://news.example/story/1",
                              "c0ffee", None, "DELETED", "TOXICITY", "https://news.example", "en")
    resp = await client.session.post(coral_url(endpoint, "comments:suggestscore", key), data=body, headers=headers)
    assert resp.ok, await resp.text()
    assert (await resp.json())["clientToken"] == "comment:c0ffee"
    row = await db.fetchrow("SELECT label, attributes, client_token, community_id FROM compat_labels")
    assert dict(row) == {"label": "abusive", "attributes": {"toxicity": 1}, "client_token": "comment:c0ffee",
                         "community_id": "Coral:https://news.example"}
    approved = coral_suggest_body("Great reporting.", "https://news.example/story/1?ref=home", "beef", "c0ffee",
                                  "APPROVED", "TOXICITY", "https://news.example", "en")
    assert (await client.session.post(coral_url(endpoint, "comments:suggestscore", key), data=approved,
                                      headers=headers)).ok
    latest = await db.fetchrow("SELECT label, attributes FROM compat_labels ORDER BY id DESC LIMIT 1")
    assert latest["label"] == "clean" and latest["attributes"]["toxicity"] == 0 and latest["attributes"]["insult"] == 0
