"""GET /openapi.json: the document is valid OpenAPI 3.1, describes exactly the routes the app registers, and a
bounded schemathesis run against the live service finds no server error and no response that contradicts it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis

from moderation.app import create_app
from moderation.core import keys
from moderation.core.config import Config
from moderation.core.problems import CATALOGUE
from moderation.core.webhooks import sign
from moderation.openapi import HTML_PREFIXES, build_spec
from moderation.review.auth import create_moderator, issue_token
from tests.conftest import LiveServer, comment_payload

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Registered routes that are deliberately not in the document: static files.
UNDOCUMENTED_PREFIXES = ("/static",)
# The main schemathesis run's time budget (seconds); the whole test stays under 90 s.
FUZZ_SECONDS = int(os.environ.get("MODERATION_FUZZ_SECONDS", "35"))
# Signed webhook bodies per generation mode (valid, constraint-breaking).
WEBHOOK_EXAMPLES = int(os.environ.get("MODERATION_FUZZ_WEBHOOK_EXAMPLES", "40"))


def registered_operations(config: Config) -> set[tuple[str, str]]:
    """(METHOD, path template) of every route, minus aiohttp's automatic HEAD twins and static files."""
    app = create_app(config)
    ops: set[tuple[str, str]] = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(UNDOCUMENTED_PREFIXES):
            continue
        ops.add((route.method.upper(), path))
    # HEAD routes aiohttp adds next to every GET (allow_head=True) are the GET's twins: not listed separately.
    return {(m, p) for m, p in ops if not (m == "HEAD" and ("GET", p) in ops)}


def documented_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in HTTP_METHODS}


def test_document_is_valid_openapi_31(config: Config) -> None:
    spec = build_spec(config)
    assert spec["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(spec).validate()   # the OpenAPI 3.1 meta-schema
    ids = [op["operationId"] for item in spec["paths"].values() for m, op in item.items() if m in HTTP_METHODS]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    assert all(ids)

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for target in set(refs(spec)):
        section, kind, name = target.removeprefix("#/").split("/")
        assert name in spec[section][kind], f"dangling {target}"


def test_every_route_is_documented_and_nothing_else(config: Config) -> None:
    routes = registered_operations(config)
    documented = documented_operations(build_spec(config))
    assert sorted(routes - documented) == [], "routes missing from moderation/openapi/"
    assert sorted(documented - routes) == [], "documented operations that the app does not serve"


def test_every_operation_documents_its_errors(config: Config) -> None:
    spec = build_spec(config)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path.startswith(HTML_PREFIXES):
                assert "default" in responses, (method, path)
                continue
            assert {"500", "503"} <= set(responses), (method, path)
            if method in ("post", "put") and "requestBody" in operation and path != "/v1/siteverify":
                assert "422" in responses or "400" in responses, (method, path)
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                assert "404" in responses or "422" in responses, (method, path)
            if {"bearerAuth": []} in operation.get("security", []):
                assert "401" in responses, (method, path)


def test_problem_schema_names_every_problem_type(config: Config) -> None:
    problem = build_spec(config)["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["type"]["enum"]) == {f"/problems/{slug}" for slug in CATALOGUE}
    assert problem["additionalProperties"] is True
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


async def test_openapi_json_is_served(client: Any, config: Config) -> None:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == json.loads(json.dumps(build_spec(config)))


# ── schemathesis against the live service ─────────────────────────────────────────────────────────
async def _seed(server: LiveServer) -> tuple[str, str]:
    """Two bearer tokens of an admin, and a few comments (published, held, a reply) to find."""
    app = server.app
    pool = app[keys.POOL]
    admin = await create_moderator(pool, "fuzz-admin@example.org", "correct horse battery", "admin")
    await create_moderator(pool, "fuzz-mod@example.org", "correct horse battery", "moderator")
    # The run may revoke tokens (DELETE /v1/tokens/{id}, the UI's revoke): give ours an id fuzzing won't guess.
    await pool.execute("SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), 7340031917)")
    token = await issue_token(pool, admin.id, "schemathesis")
    spare = await issue_token(pool, admin.id, "schemathesis: revocations")
    config = app[keys.CONFIG]
    async with aiohttp.ClientSession() as http:
        # Warm the captcha renderer processes up (they start on first use) so renders answer within the timeout.
        async with http.post(f"{server.url}/v1/challenges", json={"article_id": "art-1"}) as resp:
            challenge = await resp.json()
        for kind in ("image", "audio"):
            async with http.get(f"{server.url}{challenge[f'{kind}_url']}") as resp:
                assert resp.status == 200, await resp.text()
        for i, text in enumerate(["Thanks for the thoughtful article.", "BUY CHEAP WATCHES http://spam.example",
                                  "I disagree with the council, but a fair report."]):
            payload = comment_payload(f"c-{i}", text, **({"parent_id": "c-0"} if i == 2 else {}))
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **sign(config.webhook_key, body).as_dict()}
            async with http.post(f"{server.url}/v1/webhooks/comments", data=body, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
    return token, spare


def _schemathesis(url: str, token: str, seconds: int, *selection: str, cwd: Path) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json", *selection,
           "--checks", ",".join(CHECKS), "--header", f"Authorization: Bearer {token}",
           "--max-time", str(seconds), "--max-examples", "25", "--request-timeout", "20", "--workers", "1",
           "--seed", os.environ.get("MODERATION_FUZZ_SEED", "20261125"), "--suppress-health-check", "all",
           "--no-color"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, cwd=cwd, check=False)
    return result.returncode, result.stdout + result.stderr


CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")
# Operations that revoke API tokens: run last and apart, or they would revoke the run's own token midway
# (stateful testing feeds them the ids that GET /v1/tokens lists).
REVOKING = ("revokeToken", "uiRevokeToken")


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_nor_schema_violation(config: Config, tmp_path: Path) -> None:
    fuzz_config = dataclasses.replace(config, demo_enabled=True, callback_url="http://127.0.0.1:9/callback",
                                      challenge_rate_per_minute=10_000, reaction_rate_reader=10_000,
                                      reaction_rate_ip=10_000)
    t0 = time.monotonic()
    server = LiveServer(create_app(fuzz_config))
    try:
        token, spare = server.call(_seed(server), timeout=120)
        started = time.monotonic()
        print(f"live server + seed: {started - t0:.1f} s")
        exclude = [arg for op_id in REVOKING for arg in ("--exclude-operation-id", op_id)]
        include = [arg for op_id in REVOKING for arg in ("--include-operation-id", op_id)]
        include += ["--phases", "examples,coverage,fuzzing"]   # no links among those two: nothing stateful
        code, output = _schemathesis(server.url, token, FUZZ_SECONDS, *exclude, cwd=tmp_path)
        print(f"main run: {time.monotonic() - started:.1f} s")
        code2, output2 = _schemathesis(server.url, spare, 5, *include, cwd=tmp_path)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    print(f"schemathesis ran {elapsed:.1f} s\n{output[-4000:]}\n{output2[-1500:]}")
    assert code == 0, output[-20000:]
    assert code2 == 0, output2[-20000:]


@pytest.mark.slow
def test_signed_webhooks_find_no_server_error_nor_schema_violation(config: Config) -> None:
    """The one route schemathesis cannot sign: generate its bodies from the document (valid ones, and ones that
    break each constraint), sign them like a CMS, and hold every answer to the documented responses."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.core import NOT_SET
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    operation = schemathesis.openapi.from_dict(build_spec(config))["/v1/webhooks/comments"]["POST"]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    server = LiveServer(create_app(config))
    statuses: Counter[int] = Counter()
    try:
        with requests.Session() as http:
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                @settings(max_examples=WEBHOOK_EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def post_signed(case: schemathesis.Case) -> None:
                    raw = b"" if case.body is NOT_SET else case.body
                    body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()  # negative mode: also bytes
                    headers = {"Content-Type": "application/json", **sign(config.webhook_key, body).as_dict()}
                    resp = http.post(f"{server.url}/v1/webhooks/comments", data=body, headers=headers, timeout=30)
                    statuses[resp.status_code] += 1
                    case.validate_response(resp, checks=checks)

                post_signed()
    finally:
        server.stop()
    print(f"signed webhook answers: {dict(statuses)}")
    assert statuses[200] > 0 and statuses[422] > 0   # both the stored and the refused paths were exercised


# ── regressions: 500s the contract run found (each is now the documented 4xx) ────────────────────────
async def _admin_token(client: Any) -> str:
    pool = client.app[keys.POOL]
    admin = await create_moderator(pool, "regress-admin@example.org", "correct horse battery", "admin")
    return await issue_token(pool, admin.id, "regressions")


async def test_webhook_timestamp_too_large_for_a_float_is_401(client: Any) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1" + "0" * 400, "webhook-signature": "v1,x",
               "Content-Type": "application/json"}
    resp = await client.post("/v1/webhooks/comments", data=b"{}", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["type"] == "/problems/invalid-signature"


async def test_decision_action_of_the_wrong_json_type_is_422(client: Any) -> None:
    token = await _admin_token(client)
    for action in ({"a": 1}, ["approve"]):
        resp = await client.post("/v1/comments/1/decision", json={"action": action},
                                 headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 422, await resp.text()
        assert (await resp.json())["errors"][0]["field"] == "action"


@pytest.mark.parametrize("path", ["/moderate/tokens", "/moderate/login", "/demo/challenge"])
async def test_multipart_form_without_boundary_is_400(client: Any, path: str) -> None:
    token = await _admin_token(client)
    resp = await client.post(path, data=b"name=x", headers={"Content-Type": "multipart/form-data",
                                                           "Authorization": f"Bearer {token}",
                                                           "Accept": "application/json"})
    assert resp.status == 400, await resp.text()
    assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/v1/tokens/%C2%B3"), ("GET", "/v1/comments/%C2%B3"),
                                              ("POST", "/moderate/tokens/%C2%B3/revoke"),
                                              ("GET", "/v1/reactions/abuse?limit=%C2%B3")])
async def test_superscript_digit_ids_are_422(client: Any, method: str, path: str) -> None:
    token = await _admin_token(client)   # '³'.isdigit() is True but int('³') raises: it used to be a 500
    resp = await client.request(method, path, headers={"Authorization": f"Bearer {token}",
                                                       "Accept": "application/json"})
    assert resp.status == 422, await resp.text()
