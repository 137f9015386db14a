"""Operations: request ids, JSON logs without personal data, Prometheus metrics."""

from __future__ import annotations

import json
import logging
from typing import Any

from moderation.app import create_app
from moderation.core.observability import JsonFormatter
from tests.conftest import comment_payload, post_webhook


async def test_request_id_is_echoed_or_generated(client: Any) -> None:
    resp = await client.get("/healthz", headers={"X-Request-ID": "cms-req-42"})
    assert resp.headers["X-Request-ID"] == "cms-req-42"
    resp = await client.get("/healthz", headers={"X-Request-ID": "bad id; with <spaces>"})
    assert resp.headers["X-Request-ID"] != "bad id; with <spaces>" and len(resp.headers["X-Request-ID"]) == 16
    resp = await client.get("/nope")
    assert resp.status == 404 and resp.headers["X-Request-ID"]


async def test_logs_are_json_with_request_id_and_no_personal_data(aiohttp_client: Any, config: Any,
                                                                   caplog: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(access_log_sample=1.0)))
    caplog.set_level(logging.DEBUG)
    secret_text = "My phone is 555-0199, write me at ann@example.org"
    payload = comment_payload("c-log", secret_text)
    await post_webhook(client, payload, headers={"X-Request-ID": "trace-me"})
    lines = [JsonFormatter().format(r) for r in caplog.records]
    joined = "\n".join(lines)
    assert any(json.loads(line)["request_id"] == "trace-me" for line in lines)
    for forbidden in (secret_text, "ann@example.org", "203.0.113.7"):
        assert forbidden not in joined


async def test_metrics_expose_requests_decisions_scores_and_queue(client: Any) -> None:
    await post_webhook(client, comment_payload("c-m1"))
    await post_webhook(client, comment_payload("c-m2", "Shut up you stupid idiot, you worthless moron"))
    text = await (await client.get("/metrics")).text()
    for name in ("moderation_http_requests_total", "moderation_http_request_duration_seconds_bucket",
                 "moderation_decisions_total", "moderation_scores_bucket", "moderation_queue_depth",
                 "moderation_outbox_lag_seconds", "moderation_captcha_events_total"):
        assert name in text, name
    assert 'route="/v1/webhooks/comments"' in text
    assert 'moderation_decisions_total{actor="system",status="approved"} 1.0' in text
    assert "moderation_queue_depth 1.0" in text


def _access_lines(caplog: Any) -> list[dict[str, Any]]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "moderation.access"]


async def test_access_log_is_sampled_but_errors_are_always_logged(aiohttp_client: Any, config: Any,
                                                                  caplog: Any) -> None:
    """With sampling at 0, a successful webhook writes no access line; a 4xx always does, with its request id."""
    client = await aiohttp_client(create_app(config.with_changes(access_log_sample=0.0)))
    caplog.set_level(logging.INFO)
    ok = await post_webhook(client, comment_payload("c-sampled"), headers={"X-Request-ID": "fast-ok"})
    assert ok.status == 200
    bad = await client.post("/v1/webhooks/comments", data=b"{}", headers={"X-Request-ID": "unsigned"})
    assert bad.status == 401
    lines = _access_lines(caplog)
    assert [line["request_id"] for line in lines] == ["unsigned"]
    assert lines[0]["status"] == 401 and lines[0]["route"] == "/v1/webhooks/comments"


async def test_access_log_every_request_when_sample_is_one(aiohttp_client: Any, config: Any, caplog: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(access_log_sample=1.0)))
    caplog.set_level(logging.INFO)
    for i in range(3):
        resp = await post_webhook(client, comment_payload(f"c-all-{i}"), headers={"X-Request-ID": f"r{i}"})
        assert resp.status == 200
    assert [line["request_id"] for line in _access_lines(caplog)] == ["r0", "r1", "r2"]


async def test_metrics_labelled_children_are_cached_and_exported(client: Any) -> None:
    """The per-request metrics go through Metrics.child (cached label lookups) and still reach /metrics."""
    for i in range(3):
        await post_webhook(client, comment_payload(f"c-cache-{i}"))
    text = await (await client.get("/metrics")).text()
    assert ('moderation_http_requests_total{method="POST",route="/v1/webhooks/comments",status="200"} 3.0'
            in text)
    assert 'moderation_http_request_duration_seconds_count{method="POST",route="/v1/webhooks/comments"} 3.0' in text
    assert 'moderation_scores_count{label="spam"} 3.0' in text
