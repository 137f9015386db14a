"""Akismet 1.1 on this service: the PyPI ``akismet`` client (given an HTTP client that points at us), the key in
the Host's first label, the form fields, and every error as Akismet shapes it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from moderation.compat import apikeys
from moderation.compat.akismet import THANKS
from moderation.core import keys
from tests.conftest import LiveServer

SPAM_TEXT = "Buy cheap viagra now!!! Click http://cheap-pills.example/buy and WIN a FREE iPhone, call 555-0199"
HAM_TEXT = "Thanks for covering the council meeting, the bit about the library budget was useful."


@pytest.fixture
def config(config: Any) -> Any:
    """conftest's, with a scoring deadline a loaded CI machine cannot miss: these tests are about protocols
    (the deadline's own behaviour is tested in test_intake)."""
    return config.with_changes(scoring_deadline_s=30.0)


class ToUs(httpx.BaseTransport):
    """httpx transport that sends every request to the live server: the library keeps its own URLs."""

    def __init__(self, base: str) -> None:
        self.base = httpx.URL(base)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        return self.inner.handle_request(request)


@pytest.fixture
def live(config: Any) -> Any:
    from moderation.app import create_app

    # a loaded CI machine may take more than the default 2 s on the first scoring; this test is about the protocol
    server = LiveServer(create_app(config.with_changes(scoring_deadline_s=30.0)))
    yield server
    server.stop()


def test_pypi_akismet_client(live: LiveServer) -> None:
    import akismet

    live_server = live
    pool = live_server.app[keys.POOL]
    _, key = live_server.call(apikeys.create(pool, "wordpress"))
    config = akismet.Config(key=key, url="https://blog.example")
    http = httpx.Client(transport=ToUs(live_server.url))
    client = akismet.SyncClient.validated_client(config=config, http_client=http)  # calls verify-key
    assert client.verify_key()

    assert client.comment_check(user_ip="203.0.113.9", comment_content=HAM_TEXT, comment_type="comment",
                                comment_author="Ann Reader", user_agent="Mozilla/5.0", referrer="https://x.example/",
                                permalink="https://blog.example/post/1", blog_lang="en",
                                comment_date_gmt="2026-12-02T10:00:00Z") == akismet.CheckResponse.HAM
    assert client.comment_check(user_ip="203.0.113.9", comment_content=SPAM_TEXT,
                                comment_author_url="http://cheap-pills.example") in (
        akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
    assert client.comment_check(user_ip="203.0.113.9", comment_content="Hello",
                                comment_author="akismet-guaranteed-spam") == akismet.CheckResponse.SPAM
    assert client.submit_spam(user_ip="203.0.113.9", comment_content="Cheap watches at replica-shop.example")
    assert client.submit_ham(user_ip="203.0.113.9", comment_content="Subscribe to the council newsletter, it is "
                                                                    "how I found out about the vote.")
    labels = live_server.call(pool.fetch("SELECT protocol, label, attributes FROM compat_labels ORDER BY id"))
    assert [(r["label"], r["attributes"]) for r in labels] == [("spam", {"spam": 1}), ("ham", {"spam": 0})]

    bad = akismet.SyncClient(config=akismet.Config(key="mk" + "z" * 52, url="https://blog.example"),
                             http_client=httpx.Client(transport=ToUs(live_server.url)))
    assert bad.verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        bad.comment_check(user_ip="203.0.113.9", comment_content=HAM_TEXT)


@pytest.fixture
async def key(db: Any) -> str:
    return (await apikeys.create(db, "akismet-test"))[1]


async def test_key_in_the_host_name(client: Any, key: str) -> None:
    form = {"blog": "https://blog.example", "user_ip": "198.51.100.4", "comment_content": HAM_TEXT}
    resp = await client.post("/1.1/comment-check", data=form, headers={"Host": f"{key}.rest.example"})
    assert resp.status == 200 and await resp.text() == "false"
    resp = await client.post("/1.1/comment-check", data=form, headers={"Host": f"{key.upper()}.REST.example:443"})
    assert await resp.text() == "false"


async def test_blatant_spam_is_discard(client: Any, key: str, db: Any) -> None:
    from moderation.core.hashing import hash_ip

    config = client.server.app[keys.CONFIG]
    await db.execute("INSERT INTO blocked_authors (kind, value, reason) VALUES ('ip_hash', $1, 'spammer')",
                     hash_ip(config.hashing_key, "192.0.2.66"))
    resp = await client.post("/1.1/comment-check", data={"api_key": key, "blog": "https://b.example",
                                                         "user_ip": "192.0.2.66", "comment_content": HAM_TEXT})
    assert await resp.text() == "true" and resp.headers["X-akismet-pro-tip"] == "discard"
    assert "blocked_author" in resp.headers["X-Moderation-Reasons"]


async def test_abuse_alone_is_not_spam_but_says_so(client: Any, key: str) -> None:
    resp = await client.post("/1.1/comment-check", data={
        "api_key": key, "blog": "https://b.example", "user_ip": "198.51.100.4",
        "comment_content": "You are a pathetic disgusting idiot and a moron."})
    assert await resp.text() == "false"
    assert resp.headers["X-Moderation-Status"] == "pending" and "abuse" in resp.headers["X-Moderation-Reasons"]


@pytest.mark.parametrize(("path", "form", "body", "debug"), [
    ("/1.1/comment-check", {"blog": "https://b.example", "user_ip": "1.2.3.4"}, "Missing required field: api_key.",
     "api_key"),
    ("/1.1/comment-check", {"api_key": "mk" + "q" * 52, "blog": "https://b.example", "user_ip": "1.2.3.4"},
     "invalid", "not valid"),
    ("/1.1/comment-check", {"api_key": "KEY", "user_ip": "1.2.3.4"}, "Missing required field: blog.", "blog"),
    ("/1.1/comment-check", {"api_key": "KEY", "blog": "https://b.example"}, "Missing required field: user_ip.",
     "user_ip"),
    ("/1.1/verify-key", {"blog": "https://b.example"}, "invalid", "key"),
    ("/1.1/verify-key", {"key": "nope", "blog": "https://b.example"}, "invalid", "not valid"),
    ("/1.1/submit-spam", {"api_key": "KEY"}, "Missing required field: blog.", "blog"),
])
async def test_errors_are_akismet_shaped(client: Any, key: str, path: str, form: dict[str, str], body: str,
                                         debug: str) -> None:
    form = {k: (key if v == "KEY" else v) for k, v in form.items()}
    resp = await client.post(path, data=form)
    assert resp.status == 200 and await resp.text() == body
    assert debug in resp.headers["X-akismet-debug-help"]
    assert resp.headers["X-Moderation-Problem"].startswith("/problems/akismet-")


async def test_rate_limit_is_429(client: Any, db: Any) -> None:
    _, key = await apikeys.create(db, "slow", rate_per_minute=1)
    form = {"api_key": key, "blog": "https://b.example", "user_ip": "1.2.3.4", "comment_content": "hi"}
    assert (await client.post("/1.1/comment-check", data=form)).status == 200
    resp = await client.post("/1.1/comment-check", data=form)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1 and "X-akismet-debug-help" in resp.headers


async def test_submit_answers_thanks_and_is_test_stores_nothing(client: Any, key: str, db: Any) -> None:
    form = {"api_key": key, "blog": "https://b.example", "user_ip": "1.2.3.4", "comment_content": "spam spam",
            "is_test": "1"}
    resp = await client.post("/1.1/submit-spam", data=form)
    assert await resp.text() == THANKS
    assert await db.fetchval("SELECT count(*) FROM compat_labels") == 0


async def test_bad_body_is_a_clear_error(client: Any, key: str) -> None:
    resp = await client.post("/1.1/comment-check", data=b"--x\r\nbroken", headers={
        "Content-Type": "multipart/form-data"})
    assert resp.status == 400 and "X-akismet-debug-help" in resp.headers


@pytest.mark.parametrize("content", [
    "%ED%A0%80",                      # a lone surrogate, percent-encoded
    "caf%C3%A9%00%01%1F" * 10,        # NUL and control characters
    "%F0%9F%98%80" * 5000,            # 20,000 emoji
    "x" * 300_000,                    # over MODERATION_MAX_BODY_BYTES
    "%E2%80%AE%E2%81%A6evil%E2%81%A9",  # bidi controls
])
async def test_hostile_forms_never_500(client: Any, key: str, content: str) -> None:
    body = f"api_key={key}&blog=https%3A%2F%2Fb.example&user_ip=1.2.3.4&comment_content={content}".encode()
    resp = await client.post("/1.1/comment-check", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status in (200, 400, 413), (await resp.text(), resp.headers.get("X-akismet-debug-help"))
    if resp.status == 200:
        assert await resp.text() in ("true", "false")
    else:
        assert "X-akismet-debug-help" in resp.headers
