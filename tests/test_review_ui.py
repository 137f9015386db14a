"""The moderator UI at /moderate, driven in headless Chromium: login, hotkeys, bulk, search, undo, XSS."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from moderation.app import create_app
from moderation.core import keys
from moderation.core.config import Thresholds, parse_webhook_secret
from moderation.core.webhooks import sign
from moderation.review import auth
from tests.browser_support import wait_until
from tests.conftest import TEST_SECRET, LiveServer, comment_payload

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "desk@example.org", "a long desk password"
DOCS_IMG = Path(__file__).parent.parent / "docs" / "img"


@pytest.fixture
def server(config: Any) -> Iterator[LiveServer]:
    """Premoderation on: every seeded comment is held, so the tests know exactly what is in the queue."""
    live = LiveServer(create_app(config.with_changes(premoderation=True)))
    yield live
    live.stop()


def seed(server: LiveServer, comments: list[dict[str, Any]]) -> dict[str, int]:
    """POST signed webhooks through the live server (scored by the real model); returns external id -> id."""
    async def post_all() -> dict[str, int]:
        ids: dict[str, int] = {}
        async with aiohttp.ClientSession() as session:
            for payload in comments:
                body = json.dumps(payload).encode()
                signed = sign(parse_webhook_secret(TEST_SECRET), body)
                async with session.post(f"{server.url}/v1/webhooks/comments", data=body,
                                        headers={"Content-Type": "application/json", **signed.as_dict()}) as resp:
                    answer = await resp.json()
                    assert resp.status == 200, answer
                    ids[payload["data"]["id"]] = answer["comment"]["id"]
        return ids
    return server.call(post_all())


def status_of(server: LiveServer, comment_id: int) -> str:
    return server.call(server.app[keys.POOL].fetchval("SELECT status FROM comments WHERE id = $1", comment_id))


def log_in(browser: Any, server: LiveServer, role: str = "moderator") -> None:
    from selenium.webdriver.common.by import By

    server.call(auth.create_moderator(server.app[keys.POOL], EMAIL, PASSWORD, role))
    browser.get(f"{server.url}/moderate/queue")
    assert "/moderate/login" in browser.current_url  # redirected, and will come back
    browser.find_element(By.NAME, "email").send_keys(EMAIL)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_until(lambda: browser.current_url.endswith("/moderate/queue"), what="the queue after login")
    # the URL changes when the navigation commits, before the new page is parsed: wait for the page itself
    wait_until(lambda: browser.execute_script("return document.readyState") == "complete"
             and browser.find_elements(By.CSS_SELECTOR, "#items, .empty"), what="the queue page to load")


def press(browser: Any, keys_: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(keys_).perform()


def texts(browser: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.item .text")]


def focused_id(browser: Any) -> int:
    from selenium.webdriver.common.by import By

    return int(browser.find_element(By.CSS_SELECTOR, "li.item.focused").get_attribute("data-id"))


def test_login_approve_with_hotkey_and_undo(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    ids = seed(server, [comment_payload(f"c-{i}", text, author={"id": f"r-{i}", "name": f"Reader {i}"})
                        for i, text in enumerate(["The new library opening hours are a big improvement.",
                                                  "I disagree with the mayor on the tram extension.",
                                                  "Could the paper cover the school closures next?"])])
    log_in(browser, server)
    assert len(texts(browser)) == 3
    first = focused_id(browser)
    press(browser, "j")
    second = focused_id(browser)
    assert second != first
    press(browser, "k")
    assert focused_id(browser) == first
    press(browser, "a")
    wait_until(lambda: status_of(server, first) == "approved", what="the approval in the database")
    wait_until(lambda: focused_id(browser) == second, what="focus to move on")
    decision = server.call(server.app[keys.POOL].fetchrow(
        "SELECT actor, action FROM decisions WHERE comment_id = $1 ORDER BY id DESC LIMIT 1", first))
    assert decision["action"] == "approve" and decision["actor"].startswith("moderator:")
    badge = browser.find_element(By.CSS_SELECTOR, ".tabs a.active .count")
    assert badge.text == "2"  # the pending count follows in-place decisions
    press(browser, "u")
    wait_until(lambda: status_of(server, first) == "pending", what="the undo in the database")
    wait_until(lambda: badge.text == "3", what="the count after undo")
    assert set(ids.values()) == {first, second} | {i for i in ids.values() if i not in (first, second)}
    # reject and spam hotkeys too
    press(browser, "r")
    wait_until(lambda: status_of(server, first) == "rejected", what="the rejection")
    # the database commits before the page has handled the answer (until then a key press is ignored as busy):
    # wait for the page to mark the item decided and move the focus on
    wait_until(lambda: "decided" in browser.find_element(By.ID, f"comment-{first}").get_attribute("class")
             and focused_id(browser) != first, what="the page to mark the rejection")
    target = focused_id(browser)
    press(browser, "s")
    wait_until(lambda: status_of(server, target) == "spam", what="spam")


def test_bulk_reject(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    ids = seed(server, [comment_payload(f"b-{i}", f"Comment number {i} about the budget.",
                                        author={"id": f"r-{i}", "name": f"Reader {i}"}) for i in range(5)])
    log_in(browser, server)
    boxes = browser.find_elements(By.CSS_SELECTOR, "li.item input[name=ids]")
    chosen = [int(b.get_attribute("value")) for b in boxes[:3]]
    for box in boxes[:2]:
        box.click()
    press(browser, "jjx")  # the keyboard way selects the third
    assert browser.find_element(By.ID, "selected-count").text == "3 selected"
    browser.find_element(By.CSS_SELECTOR, "#bulk input[name=reason]").send_keys("off-topic thread")
    browser.find_element(By.CSS_SELECTOR, "#bulk button[data-bulk=reject]").click()
    wait_until(lambda: all(status_of(server, i) == "rejected" for i in chosen), what="the bulk rejection")
    others = set(ids.values()) - set(chosen)
    assert all(status_of(server, i) == "pending" for i in others)
    notes = server.call(server.app[keys.POOL].fetch(
        "SELECT note FROM decisions WHERE action = 'reject' AND comment_id = ANY($1::bigint[])", chosen))
    assert [n["note"] for n in notes] == ["off-topic thread"] * 3
    # undo takes the whole bulk action back
    press(browser, "u")
    wait_until(lambda: all(status_of(server, i) == "pending" for i in chosen), what="the bulk undo")


def test_search_finds_a_keyword(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seed(server, [comment_payload("s-1", "The zeppelin museum needs more funding."),
                  comment_payload("s-2", "Parking near the station is impossible."),
                  comment_payload("s-3", "Another view on the harbour redevelopment.")])
    log_in(browser, server)
    assert len(texts(browser)) == 3
    press(browser, "/")
    search = browser.switch_to.active_element
    assert search.get_attribute("id") == "search"
    search.send_keys("zeppelin", Keys.ENTER)
    wait_until(lambda: "q=zeppelin" in browser.current_url, what="the search")
    # the URL changes when the navigation commits, before the new page is there: wait for its items
    wait_until(lambda: texts(browser) == ["The zeppelin museum needs more funding."], what="the search results")
    assert browser.find_element(By.ID, "search").get_attribute("value") == "zeppelin"
    browser.find_element(By.ID, "search").clear()
    browser.find_element(By.ID, "search").send_keys('"station is impossible"', Keys.ENTER)
    wait_until(lambda: texts(browser) == ["Parking near the station is impossible."], what="the phrase search")
    # "all matching": a bulk decision by the search itself, confirmed in a dialog
    browser.find_element(By.ID, "scope-filter").click()
    browser.find_element(By.CSS_SELECTOR, "#bulk button[data-bulk=spam]").click()
    browser.switch_to.alert.accept()
    statuses = lambda: dict(server.call(server.app[keys.POOL].fetch(  # noqa: E731
        "SELECT external_id, status FROM comments")))
    wait_until(lambda: statuses() == {"s-1": "pending", "s-2": "spam", "s-3": "pending"}, what="the filter bulk")


def test_xss_payloads_are_shown_as_text(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    img = '<img src=x onerror="window.__xss=1">'
    script = "<script>window.__xss=1</script>"
    seed(server, [comment_payload("x-1", f"Nice {img} article", author={"id": "evil", "name": script}),
                  comment_payload("x-2", f"{script} hello", parent_id="x-1",
                                  article={"id": "a-x", "url": "javascript:window.__xss=1", "title": img})])
    log_in(browser, server)
    time.sleep(0.5)  # give any injected handler the chance to run
    assert browser.execute_script("return window.__xss") is None
    shown = texts(browser)
    assert any(img in t for t in shown) and any(script in t for t in shown)
    assert not browser.find_elements(By.CSS_SELECTOR, "li.item img, li.item script")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    assert script in browser.find_element(By.CSS_SELECTOR, "li.item .author").text or any(
        script in e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.item .author"))


def test_right_to_left_overrides_stay_inside_names_and_texts(browser: Any, server: LiveServer) -> None:
    """U+202E (RIGHT-TO-LEFT OVERRIDE) in a name or text would reverse what follows it on the page
    ("gnp.exe" tricks); every reader-supplied value is isolated, so it cannot."""
    from selenium.webdriver.common.by import By

    rlo = "\u202e"
    seed(server, [comment_payload("bidi-1", f"Looks fine {rlo}txt.exe", author={"id": "bidi", "name": f"Ann{rlo}evil"},
                                  article={"id": "a-bidi", "title": f"Budget {rlo}news"})])
    log_in(browser, server)
    author = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "li.item .author bdi"), what="author")
    text = browser.find_element(By.CSS_SELECTOR, "li.item .text")
    isolate = "return getComputedStyle(arguments[0]).unicodeBidi"
    assert browser.execute_script(isolate, author) == "isolate"
    assert browser.execute_script(isolate, text) == "isolate" and text.get_attribute("dir") == "auto"
    reasons = browser.find_elements(By.CSS_SELECTOR, "li.item .reason bdi")
    assert all(browser.execute_script(isolate, r) == "isolate" for r in reasons)


def test_queue_screenshot(browser: Any, config: Any, tmp_path: Path) -> None:
    """A realistic queue (real model scores, everyday thresholds, a suspect-word list) for docs/img.

    Written to docs/img/moderate-queue.png when MODERATION_SCREENSHOTS=1, else only to tmp_path."""
    from selenium.webdriver.common.by import By

    live = LiveServer(create_app(config.with_changes(thresholds=Thresholds(spam_reject=0.999, spam_hold=0.5,
                                                                           abuse_hold=0.3))))
    try:
        live.call(live.app[keys.POOL].executemany(
            "INSERT INTO word_lists (list, term) VALUES ('suspect', $1) ON CONFLICT DO NOTHING",
            [("lizard people",), ("crooks",)]))
        article = {"id": "2026-11-25-council-budget", "url": "https://news.example/politics/council-budget",
                   "title": "Council approves £40m budget with library cuts"}
        other = {"id": "2026-11-24-tram", "url": "https://news.example/local/tram-extension",
                 "title": "Tram extension to run through the old market"}
        rows = [
            ("m-1", article, ("kp-881", "Keith P."), None,
             "You are a pathetic moron and you should be ashamed, nobody wants your garbage opinions here"),
            ("m-2", article, ("sunny-deals", "Best Deals"), None,
             "Great article! I made $5000 a week working from home, visit http://easy-cash.example to find out how"),
            ("m-3", other, ("hl-204", "Helen L."), None,
             "The whole council are crooks, they sold the market site to their friends and everyone knows it."),
            ("m-4", article, ("jt-77", "Jonah T."), "m-0",
             "Honestly the council has been useless on housing for a decade. Typical idiots, every one of them."),
            ("m-5", other, ("anon-4471", "truth seeker"), None,
             "Wake up people, the tram is a plan by the lizard people to track us all. Do your research."),
        ]
        seed(live, [comment_payload("m-0", "Cutting library hours hurts the kids who need them most.",
                                    article=article, author={"id": "ra-1", "name": "Rosa A."})])
        seed(live, [comment_payload(ext, text, article=art, author={"id": aid, "name": name},
                                    **({"parent_id": parent} if parent else {}))
                    for ext, art, (aid, name), parent, text in rows])
        # some history for the authors
        seed(live, [comment_payload(f"h-{i}", f"Earlier comment {i} on the budget debate.", article=article,
                                    author={"id": "jt-77", "name": "Jonah T."}) for i in range(4)])
        held = live.call(live.app[keys.POOL].fetchval("SELECT count(*) FROM comments WHERE status = 'pending'"))
        assert held >= 4, held
        browser.set_window_size(1280, 1100)
        log_in(browser, live)
        browser.find_element(By.CSS_SELECTOR, "li.item")
        shots = [tmp_path / "moderate-queue.png"]
        browser.save_screenshot(str(shots[0]))
        # a few decisions, then the audit log and the shortcut help
        first = focused_id(browser)
        press(browser, "s")
        wait_until(lambda: status_of(live, first) == "spam", what="spam")
        browser.find_element(By.CSS_SELECTOR, "li.item.focused .actions input[name=reason]").send_keys(
            "conspiracy theory, no substance")
        second = focused_id(browser)
        browser.find_element(By.CSS_SELECTOR, "li.item.focused button[data-action=reject]").click()
        wait_until(lambda: status_of(live, second) == "rejected", what="reject")
        press(browser, "?")
        shots.append(tmp_path / "moderate-shortcuts.png")
        browser.save_screenshot(str(shots[-1]))
        press(browser, "?")
        browser.set_window_size(1280, 560)
        browser.get(f"{live.url}/moderate/audit")
        shots.append(tmp_path / "moderate-audit.png")
        browser.save_screenshot(str(shots[-1]))
        for path in shots:
            assert path.stat().st_size > 10_000
            if os.environ.get("MODERATION_SCREENSHOTS"):
                DOCS_IMG.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, DOCS_IMG / path.name)
    finally:
        live.stop()


# ── the same pages without a browser (aiohttp client): every page renders, no-JS forms work ───────────
async def _ui_client(aiohttp_client: Any, config: Any, role: str = "admin") -> Any:
    from tests.test_review_auth import csrf_token, login

    client = await aiohttp_client(create_app(config.with_changes(premoderation=True)))
    await auth.create_moderator(client.app[keys.POOL], "mod@example.org", "correct horse battery staple", role)
    assert (await login(client)).status == 303
    client.csrf = await csrf_token(client)
    return client


async def test_every_page_renders(aiohttp_client: Any, config: Any) -> None:
    from tests.conftest import post_webhook

    client = await _ui_client(aiohttp_client, config)
    await post_webhook(client, comment_payload("p-1", "A held comment about the harbour."))
    for path in ("/moderate/queue", "/moderate/queue?status=spam", "/moderate/queue?status=approved&order=age",
                 "/moderate/queue?q=harbour&reason=premoderation&article=art-1&author=reader-1",
                 "/moderate/audit", "/moderate/audit?action=decision.*", "/moderate/wordlists", "/moderate/blocked",
                 "/moderate/blocked?kind=author&value=reader-1&name=Ann", "/moderate/tokens",
                 "/moderate/deliveries", "/moderate/deliveries?state=failed"):
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 200, (path, html[:500])
        assert 'name="csrf-token"' in html and "<script src=\"/static/moderate.js\"" in html
        assert "<script>" not in html and " style=" not in html  # the CSP allows neither
    resp = await client.get("/moderate", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/moderate/queue"
    resp = await client.get("/moderate?status=spam", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/moderate/queue?status=spam"
    for asset in ("/static/moderate.js", "/static/moderate.css"):
        assert (await client.get(asset)).status == 200
    # bad filters show a readable message, not a 500
    resp = await client.get("/moderate/queue?order=sideways")
    assert resp.status == 200 and "must be one of" in await resp.text()


async def test_every_template_isolates_names_and_texts(aiohttp_client: Any, config: Any, db: Any) -> None:
    from tests.conftest import post_webhook

    rlo = "\u202e"
    client = await _ui_client(aiohttp_client, config)
    reply = await post_webhook(client, comment_payload("rtl-1", f"Held {rlo}txt.exe",
                                                       author={"id": "r", "name": f"Ann{rlo}x"}))
    cid = (await reply.json())["comment"]["id"]
    for path in ("/moderate/queue", f"/moderate/comments/{cid}",
                 f"/moderate/blocked?kind=author&value=r&name=Ann{rlo}x"):
        html = await (await client.get(path)).text()
        assert f"<bdi>Ann{rlo}x</bdi>" in html, path
    queue_html = await (await client.get("/moderate/queue")).text()
    # the override stays inside the text's own dir="auto" box (reason terms may be highlighted before it)
    assert re.search(r'<div class="text" dir="auto">(?:[^<]|<mark [^>]*>|</mark>)*' + rlo, queue_html)


async def test_no_js_forms_decide_and_undo(aiohttp_client: Any, config: Any, db: Any) -> None:
    from tests.conftest import post_webhook

    client = await _ui_client(aiohttp_client, config, role="moderator")
    ids = []
    for i in range(3):
        resp = await post_webhook(client, comment_payload(f"n-{i}", f"Held comment {i} on trams."))
        ids.append((await resp.json())["comment"]["id"])
    resp = await client.post(f"/moderate/comments/{ids[0]}/decision",
                             data={"action": "approve", "reason": "fine", "csrf_token": client.csrf,
                                   "next": "/moderate/queue?status=pending"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/moderate/queue?status=pending&flash=")
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", ids[0]) == "approved"
    # the page no longer lists it, and shows the flash
    page = await (await client.get(resp.headers["Location"])).text()
    assert f'data-id="{ids[0]}"' not in page and "Approved comment" in page
    # a flash we did not sign is not shown (no text injection through crafted links)
    page = await (await client.get("/moderate/queue?flash=Session+expired,+log+in+at+evil.example")).text()
    assert 'class="flash"' not in page and "evil.example" not in page
    # bulk by ids, then by the page's filter
    resp = await client.post("/moderate/decisions", data={"action": "spam", "ids": [str(ids[1])],
                                                          "csrf_token": client.csrf}, allow_redirects=False)
    assert resp.status == 303
    resp = await client.post("/moderate/decisions", data={"action": "reject", "scope": "filter", "q": "trams",
                                                          "status": "pending", "csrf_token": client.csrf},
                             headers={"Accept": "application/json"})
    body = await resp.json()
    assert body["count"] == 1 and body["changed"][0]["comment_id"] == ids[2]
    # JSON answers carry the decision ids the undo needs
    resp = await client.post("/moderate/decisions/undo", data={"ids": [str(d) for d in body["decision_ids"]]},
                             headers={"Accept": "application/json", "X-CSRF-Token": client.csrf})
    assert resp.status == 200, await resp.text()
    assert await db.fetchval("SELECT status FROM comments WHERE id = $1", ids[2]) == "pending"
    # a conflict is a readable page for a form post, problem+json for fetch
    resp = await client.post(f"/moderate/comments/{ids[0]}/decision",
                             data={"action": "approve", "csrf_token": client.csrf})
    assert resp.status == 409 and "already approved" in await resp.text()
    resp = await client.post(f"/moderate/comments/{ids[0]}/decision", data={"action": "approve"},
                             headers={"Accept": "application/json", "X-CSRF-Token": client.csrf})
    assert resp.status == 409 and (await resp.json())["type"] == "/problems/conflict"
    # the audit page shows who did what
    audit = await (await client.get("/moderate/audit")).text()
    assert "decision.approve" in audit and "decision.bulk" in audit and "decision.undo" in audit
    assert "mod@example.org" in audit  # actors by e-mail
    # the comment's own page: every decision with its model, thresholds and note
    detail = await (await client.get(f"/moderate/comments/{ids[2]}")).text()
    assert "Held comment 2 on trams." in re.sub(r"<[^>]+>", "", detail)  # highlighted, so tags in between
    assert detail.count("<code>reject</code>") == 1
    spam_hold = client.server.app[keys.THRESHOLDS].spam_hold   # the model's, as recorded with each decision
    assert "<code>undo</code>" in detail and "undo of decision" in detail and f"hold spam ≥ {spam_hold}" in detail
    assert (await client.get("/moderate/comments/999999")).status == 404


async def test_word_lists_and_blocks_from_the_ui(aiohttp_client: Any, config: Any, db: Any) -> None:
    client = await _ui_client(aiohttp_client, config)
    resp = await client.post("/moderate/wordlists", data={"list": "banned", "term": "  Grifter ",
                                                          "csrf_token": client.csrf})
    assert resp.status == 200 and "grifter" in await resp.text()
    assert await db.fetchval("SELECT count(*) FROM word_lists WHERE list = 'banned' AND term = 'grifter'") == 1
    resp = await client.post("/moderate/wordlists/remove", data={"list": "banned", "term": "grifter",
                                                                 "csrf_token": client.csrf})
    assert resp.status == 200
    assert await db.fetchval("SELECT count(*) FROM word_lists WHERE term = 'grifter'") == 0
    resp = await client.post("/moderate/blocked", data={"kind": "author", "value": "troll-9", "reason": "abuse",
                                                        "csrf_token": client.csrf})
    assert resp.status == 200 and "troll-9" in await resp.text()
    resp = await client.post("/moderate/blocked/remove", data={"kind": "author", "value": "troll-9",
                                                               "csrf_token": client.csrf})
    assert resp.status == 200 and "Nobody is blocked" in await resp.text()
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["word_list.add", "word_list.remove", "commenter.block", "commenter.unblock"]


async def test_queue_pages_with_a_cursor(aiohttp_client: Any, config: Any, db: Any) -> None:
    import re as _re

    from moderation.review.views import queue_pages as views
    from tests.conftest import post_webhook

    client = await _ui_client(aiohttp_client, config)
    old = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        for i in range(5):
            await post_webhook(client, comment_payload(f"q-{i}", f"A thoughtful note on the harbour plan, part {i}."))
        seen: list[str] = []
        url = "/moderate/queue"
        while url:
            html = await (await client.get(url)).text()
            seen += _re.findall(r'data-id="(\d+)"', html)
            nxt = _re.search(r'href="(/moderate/queue\?[^"]*cursor=[^"]+)"', html)
            url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        pending = [str(r["id"]) for r in await db.fetch(
            "SELECT id FROM comments WHERE status = 'pending' ORDER BY coalesce(queue_risk, risk) DESC, id DESC")]
        assert len(pending) >= 3 and seen == pending
    finally:
        views.PAGE_SIZE = old


def test_highlight_escapes_before_marking() -> None:
    from moderation.review.views.helpers import highlight

    reasons = [{"code": "spam", "message": "spam: spam 0.99 ≥ 0.90 — 'script', URL, 'free'"},
               {"code": "suspect_word", "message": "held: suspect word(s) 'idiot'"}]
    out = str(highlight('<script>alert("free")</script> FREE idiots & co', reasons))
    assert "<script>" not in out and "&lt;" in out and "&amp; co" in out
    assert '<mark class="t-spam" title="spam term">FREE</mark>' in out
    assert '<mark class="t-suspect_word" title="suspect word">idiots</mark>' in out
    assert str(highlight("<b>x</b>", [])) == "&lt;b&gt;x&lt;/b&gt;"
    # reasons as data: the terms come from the data, whatever the message says
    from moderation.decisions.reasons import make

    threat = [make("abuse", "held", attribute="threat", score=0.91, threshold=0.5, terms=["deserves to be shot"])]
    threat[0]["message"] = "(a message that quotes nothing)"
    out = str(highlight("He deserves to be shot, frankly", threat))
    assert '<mark class="t-abuse" title="abuse term">deserves to be shot</mark>' in out


async def test_deliveries_page_retry_and_endpoint(aiohttp_client: Any, config: Any, db: Any) -> None:
    from tests.conftest import post_webhook
    from tests.test_review_auth import csrf_token, login

    cfg = config.with_changes(callback_url="http://127.0.0.1:9/cms-callback", callback_secret=TEST_SECRET)
    client = await aiohttp_client(create_app(cfg))
    await auth.create_moderator(client.app[keys.POOL], "mod@example.org", "correct horse battery staple", "admin")
    await login(client)
    token = await csrf_token(client)
    await post_webhook(client, comment_payload("d-1", "A comment for the CMS callback."))
    outbox_id = await db.fetchval("SELECT id FROM outbox ORDER BY id LIMIT 1")
    assert outbox_id is not None
    html = await (await client.get("/moderate/deliveries")).text()
    assert "http://127.0.0.1:9/cms-callback" in html and f"/moderate/deliveries/{outbox_id}/retry" in html
    resp = await client.post("/moderate/deliveries/endpoint", data={"enabled": "false", "reason": "CMS migration",
                                                                    "csrf_token": token})
    assert resp.status == 200 and "Re-enable callbacks" in await resp.text()
    resp = await client.post("/moderate/deliveries/endpoint", data={"enabled": "true", "csrf_token": token})
    assert resp.status == 200 and "Disable callbacks" in await resp.text()
    await db.execute("UPDATE outbox SET delivered_at = NULL, failed_at = now() WHERE id = $1", outbox_id)
    resp = await client.post(f"/moderate/deliveries/{outbox_id}/retry", data={"csrf_token": token},
                             allow_redirects=False)
    assert resp.status == 303
    assert await db.fetchval("SELECT failed_at FROM outbox WHERE id = $1", outbox_id) is None


async def test_claim_and_release_from_the_ui(aiohttp_client: Any, config: Any, db: Any) -> None:
    from tests.conftest import post_webhook

    client = await _ui_client(aiohttp_client, config, role="moderator")
    for i in range(3):
        await post_webhook(client, comment_payload(f"k-{i}", f"A calm remark about the ferry, take {i}."))
    resp = await client.post("/moderate/claim", data={"csrf_token": client.csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/moderate/queue?mine=1")
    me = await db.fetchval("SELECT id FROM moderators")
    held = await db.fetchval("SELECT count(*) FROM comments WHERE claimed_by = $1 AND claim_expires_at > now()", me)
    pending = await db.fetchval("SELECT count(*) FROM comments WHERE status = 'pending'")
    assert held == pending >= 1
    html = await (await client.get(resp.headers["Location"])).text()
    assert "you hold" in html and html.count('class="item"') == held and "held by you" in html
    ids = [str(r["id"]) for r in await db.fetch("SELECT id FROM comments WHERE claimed_by = $1", me)]
    resp = await client.post("/moderate/release", data={"ids": ids, "csrf_token": client.csrf},
                             headers={"Accept": "application/json"})
    assert resp.status == 200 and sorted(map(str, (await resp.json())["released"])) == sorted(ids)
    assert await db.fetchval("SELECT count(*) FROM comments WHERE claimed_by IS NOT NULL") == 0
