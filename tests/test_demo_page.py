"""The demo article page: server-side behaviour, then end to end in headless Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from moderation.app import create_app
from moderation.challenges import code_for
from moderation.core import keys
from tests.browser_support import wait_until
from tests.test_reactions import seed_comment

ABUSIVE = "Shut up you stupid idiot, you worthless moron"
CLEAN = "Thanks for the careful reporting on the council vote; the budget figures were very helpful."


@pytest.fixture
def config(config: Any) -> Any:
    return config.with_changes(demo_enabled=True)


async def test_demo_is_off_by_default(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(demo_enabled=False)))
    resp = await client.get("/demo/articles/a1")
    body = await resp.json()
    assert resp.status == 404 and "MODERATION_DEMO" in body["detail"]
    resp = await client.post("/demo/articles/a1/comments", data={"name": "x", "text": "y"})
    assert resp.status == 404


async def test_page_renders_counts_and_escapes_text(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-1", text="<script>alert('x')</script> <b>bold</b> & more",
                             author="<i>Mallory</i>")
    await seed_comment(db, "c-held", status="pending", text="held text must not show")
    await client.put(f"/v1/comments/{cid}/reaction", json={"reader_id": "a", "kind": "like"})
    await client.put("/v1/articles/art-1/reaction", json={"reader_id": "a", "kind": "dislike"})
    resp = await client.get("/demo/articles/art-1")
    html = await resp.text()
    assert resp.status == 200 and resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "Total Comments (<span id=\"total-comments\">1</span>)" in html
    assert "Comments About This Article" in html and "Article art-1" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "&lt;i&gt;Mallory&lt;/i&gt;" in html and "<script>alert" not in html and "<b>bold" not in html
    assert "held text must not show" not in html
    article_box = html[html.index('id="article-reactions"'):]
    assert re.search(r'data-count="likes">\(0\)', article_box) and re.search(r'data-count="dislikes">\(1\)',
                                                                             article_box)
    assert 'data-moderation-challenge data-article-id="art-1"' in html and "/static/widget.js" in html


async def test_post_goes_through_the_signed_webhook(client: Any, db: Any) -> None:
    resp = await client.post("/demo/articles/news-1/comments", allow_redirects=False,
                             data={"name": "Ann Reader", "email": "ann@example.org", "text": CLEAN})
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith("/demo/articles/news-1?posted=demo-")
    external_id = location.split("posted=")[1].split("#")[0]
    row = await db.fetchrow("SELECT * FROM comments WHERE external_id = $1", external_id)
    # stored exactly as a CMS comment: scored, decided, hashed personal data, a webhook receipt
    assert row["status"] == "approved" and row["model_version"] and row["author_name"] == "Ann Reader"
    assert row["author_id"].startswith("anon:") and row["author_email_hash"] and row["author_ip_hash"]
    assert await db.fetchval("SELECT count(*) FROM webhook_receipts WHERE status = 200") == 1
    page = await (await client.get(location)).text()  # the cookie jar carries the reader cookie
    assert "Your comment was published." in page and "Total Comments (<span id=\"total-comments\">1" in page
    # someone else (no cookie) does not see the flash
    client.session.cookie_jar.clear()
    assert "Your comment was published." not in await (await client.get(location)).text()


async def test_post_errors_are_shown_in_the_form(client: Any, db: Any) -> None:
    resp = await client.post("/demo/articles/news-1/comments", data={"name": "", "email": "nope", "text": "Hi"})
    html = await resp.text()
    assert resp.status == 422
    assert "Name: must not be empty" in html and "E-mail: must be an e-mail address" in html
    assert ">Hi</textarea>" in html  # what the reader typed is kept
    assert await db.fetchval("SELECT count(*) FROM comments") == 0


async def test_held_comment_is_reported_and_hidden(client: Any, db: Any) -> None:
    resp = await client.post("/demo/articles/news-1/comments", data={"name": "Troll", "text": ABUSIVE})
    html = await resp.text()  # followed the redirect
    assert resp.status == 200 and "held for review" in html
    assert ABUSIVE not in html and "Total Comments (<span id=\"total-comments\">0" in html


# ── headless Chromium ───────────────────────────────────────────────────────────────────────────────
def wait_for(browser: Any, condition: Any, timeout: float = 20) -> Any:
    return wait_until(lambda: condition(browser), timeout)


def solve_code(live_server: Any, browser: Any) -> None:
    """The captcha capability's test seam: derive the code of the challenge the widget shows."""
    wait_for(browser, lambda b: b.execute_script(
        "const i = document.querySelector('.mc-image'); return i && i.complete && i.naturalWidth > 0;"))
    src = browser.find_element("css selector", ".mc-image").get_attribute("src")
    challenge_id = src.rstrip("/").split("/")[-2]
    app = live_server.app

    async def fetch() -> Any:
        return await app[keys.POOL].fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1",
                                             challenge_id)

    code = code_for(app[keys.CONFIG].hashing_key, live_server.call(fetch()))
    browser.find_element("css selector", ".mc-input").send_keys(code)
    browser.find_element("css selector", "button.mc-check").click()
    wait_for(browser, lambda b: b.find_element("css selector", 'input[name="confirmation_token"]')
             .get_attribute("value").startswith("mct_"))


def post(live_server: Any, browser: Any, name: str, text: str) -> str:
    browser.find_element("id", "name").clear()
    browser.find_element("id", "name").send_keys(name)
    browser.find_element("id", "email").clear()
    browser.find_element("id", "email").send_keys("reader@example.org")
    browser.find_element("id", "text").send_keys(text)
    from selenium.webdriver.support.expected_conditions import staleness_of

    submit = browser.find_element("id", "submit-comment")
    before = browser.current_url  # may already say posted= (the previous post's page)
    submit.click()   # the widget's proof of work is exchanged for a token and the form goes...
    # ... unless the service asks for the code as well (here: after several comments from one address)
    asked = wait_for(browser, lambda b: (b.current_url != before and "posted")
                     or (b.find_element("css selector", ".mc-code").is_displayed() and "code"))
    if asked == "code":
        solve_code(live_server, browser)
        submit.click()
    # the redirect loads a new page: wait for its URL and for the old page's elements to be gone, or we
    # would read the previous post's flash (or a node of a document being replaced)
    wait_for(browser, lambda b: b.current_url != before and "posted=" in b.current_url and staleness_of(submit)(b)
             and b.execute_script("return document.readyState") == "complete")
    return wait_for(browser, lambda b: b.find_element("id", "post-result").get_attribute("data-result"))


def counts(box: Any) -> tuple[str, str]:
    return (box.find_element("css selector", '[data-count="likes"]').text,
            box.find_element("css selector", '[data-count="dislikes"]').text)


@pytest.mark.browser
@pytest.mark.slow
def test_article_page_end_to_end(config: Any, browser: Any) -> None:
    from tests.conftest import LiveServer

    server = LiveServer(create_app(config.with_changes(require_confirmation=True)))
    try:
        _end_to_end(server, browser)
    finally:
        server.stop()


def _end_to_end(live_server: Any, browser: Any) -> None:
    browser.get(live_server.url + "/demo/articles/city-council")
    assert browser.find_element("tag name", "h1").text == "Demo article city-council"
    assert browser.find_element("id", "total-heading").text == "Total Comments (0)"
    assert browser.find_element("id", "comments-heading").text == "Comments About This Article"
    article = browser.find_element("id", "article-reactions")
    assert counts(article) == ("(0)", "(0)")

    # 1. a clean comment is published and shows up
    assert post(live_server, browser, "Ann Reader", CLEAN) == "published"
    assert "published" in browser.find_element("id", "post-result").text
    assert browser.find_element("id", "total-heading").text == "Total Comments (1)"
    [comment] = browser.find_elements("css selector", "#comment-list > li.comment")
    assert comment.find_element("css selector", ".comment-text").text == CLEAN
    assert comment.find_element("css selector", ".author").text == "Ann Reader"
    box = comment.find_element("css selector", ".reactions")
    assert counts(box) == ("(0)", "(0)")

    # 2. react: like, then switch to dislike; like the article; counts change on the page
    box.find_element("css selector", "button.react-like").click()
    wait_for(browser, lambda b: counts(box) == ("(1)", "(0)"))
    assert box.find_element("css selector", "button.react-like").get_attribute("aria-pressed") == "true"
    box.find_element("css selector", "button.react-dislike").click()
    wait_for(browser, lambda b: counts(box) == ("(0)", "(1)"))
    article = browser.find_element("id", "article-reactions")  # the page was reloaded by the post
    article.find_element("css selector", "button.react-like").click()
    wait_for(browser, lambda b: counts(article) == ("(1)", "(0)"))

    # another reader likes the comment meanwhile (through the API): a reload shows both, and ours stays ours
    comment_id = comment.get_attribute("data-comment-id")

    async def other_reader() -> None:
        pool = live_server.app[keys.POOL]
        from moderation.core.sql import Q
        from moderation.readers.reactions import shard_for

        await pool.fetchrow(Q.reaction_apply, "comment", comment_id, "cms:other", "like", shard_for("cms:other"),
                            None, [], [], [], 60.0)

    live_server.call(other_reader())
    browser.get(live_server.url + "/demo/articles/city-council")
    box = browser.find_element("css selector", f"#comment-{comment_id} .reactions")
    assert counts(box) == ("(1)", "(1)")
    assert box.find_element("css selector", "button.react-dislike").get_attribute("aria-pressed") == "true"
    article = browser.find_element("id", "article-reactions")
    assert counts(article) == ("(1)", "(0)")
    # clicking the pressed button takes the reaction back
    article.find_element("css selector", "button.react-like").click()
    wait_for(browser, lambda b: counts(article) == ("(0)", "(0)"))

    # 3. an abusive comment is held for review and does not appear
    assert post(live_server, browser, "Troll", ABUSIVE) == "held"
    assert "held for review" in browser.find_element("id", "post-result").text
    assert browser.find_element("id", "total-heading").text == "Total Comments (1)"
    texts = [e.text for e in browser.find_elements("css selector", ".comment-text")]
    assert texts == [CLEAN]

    # 4. a reply is threaded under its parent
    browser.find_element("css selector", f"#comment-{comment_id} button.reply").click()
    assert browser.find_element("id", "replying").is_displayed()
    assert post(live_server, browser, "Bob Reader", "Agreed, the figures were clear and useful.") == "published"
    replies = browser.find_elements("css selector", f"#comment-{comment_id} .replies .comment-text")
    assert [r.text for r in replies] == ["Agreed, the figures were clear and useful."]
    assert browser.find_element("id", "total-heading").text == "Total Comments (2)"

    # 5. a reader reports a comment: thanked once, told on a second try; moderators get the report
    from selenium.webdriver.support.select import Select

    box = browser.find_element("css selector", f"#comment-{comment_id} > .reactions")
    for expected in ("Thank you", "already reported"):
        box.find_element("css selector", "details.report > summary").click()
        Select(box.find_element("css selector", "select.report-reason")).select_by_value("off_topic")
        box.find_element("css selector", "button.send-report").click()
        wait_for(browser, lambda b, e=expected: e in box.find_element("css selector", ".react-status").text)

    async def reports() -> Any:
        return await live_server.app[keys.POOL].fetch("SELECT reason FROM comment_reports WHERE comment_id = $1",
                                                      int(comment_id))

    assert [r["reason"] for r in live_server.call(reports())] == ["off_topic"]
