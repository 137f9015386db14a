"""The proof-of-work confirmation in a real headless Chromium: the vendored ALTCHA widget solves it unseen.

The example comment form (/demo/challenge) plays the CMS: its result page says whether the token it got was
accepted (consumed once, for this article).  Difficulty is low through config so the suite stays fast.
"""

from __future__ import annotations

from typing import Any

import pytest

from moderation.app import create_app
from moderation.core import keys
from tests.browser_support import wait_until
from tests.conftest import LiveServer
from tests.test_challenges_widget import code_from_server

pytestmark = pytest.mark.browser

LOW = {"pow_difficulty": 2000, "pow_max_difficulty": 200_000}


def wait_for(browser: Any, condition: Any, timeout: float = 30) -> Any:
    return wait_until(lambda: condition(browser), timeout)


def fill_form(browser: Any) -> None:
    browser.find_element("id", "name").send_keys("Ann Reader")
    browser.find_element("id", "comment").send_keys("A comment from the proof-of-work browser test.")


def tokens(server: LiveServer) -> list[Any]:
    async def fetch() -> Any:
        return await server.app[keys.POOL].fetch("SELECT method, article_id, used_by FROM challenge_tokens")

    return server.call(fetch())


def result_of(browser: Any) -> str:
    return wait_for(browser, lambda b: b.find_elements("id", "result"))[0].get_attribute("data-result")


def test_proof_is_solved_unseen_and_the_comment_posts(config: Any, browser: Any) -> None:
    server = LiveServer(create_app(config.with_changes(**LOW)))
    try:
        browser.get(server.url + "/demo/challenge")
        code_box = browser.find_element("css selector", ".mc-code")
        assert not code_box.is_displayed()                    # no picture, no question: nothing to do
        fill_form(browser)                                     # focusing the form starts the proof
        wait_for(browser, lambda b: b.execute_script(
            "const w = document.querySelector('[data-moderation-challenge]').__mcWidget;"
            "return w.proof && w.proof.payload;"))
        assert not code_box.is_displayed()
        browser.find_element("css selector", 'button[type="submit"]').click()
        assert result_of(browser) == "accepted"
        assert [(r["method"], r["used_by"]) for r in tokens(server)] == [("proof", "demo")]
    finally:
        server.stop()


def test_submitting_before_the_proof_is_done_waits_for_it(config: Any, browser: Any) -> None:
    server = LiveServer(create_app(config.with_changes(**LOW)))
    try:
        browser.get(server.url + "/demo/challenge")
        fill_form(browser)
        browser.find_element("css selector", 'button[type="submit"]').click()   # at once
        assert result_of(browser) == "accepted"
    finally:
        server.stop()


def test_risky_request_gets_the_code_as_a_second_step(config: Any, browser: Any) -> None:
    server = LiveServer(create_app(config.with_changes(pow_risk_ip_challenges=0, **LOW)))
    try:
        browser.get(server.url + "/demo/challenge")
        fill_form(browser)
        browser.find_element("css selector", 'button[type="submit"]').click()
        status = browser.find_element("css selector", ".mc-status")
        wait_for(browser, lambda b: b.find_element("css selector", ".mc-code").is_displayed())
        assert "One more step" in status.text and "address" in status.text
        wait_for(browser, lambda b: b.execute_script(
            "const i = document.querySelector('.mc-image'); return i && i.complete && i.naturalWidth > 0;"))
        src = browser.find_element("css selector", ".mc-image").get_attribute("src")
        code = code_from_server(server, src.rstrip("/").split("/")[-2])
        browser.find_element("css selector", ".mc-input").send_keys(code)
        browser.find_element("css selector", "button.mc-check").click()
        wait_for(browser, lambda b: "confirmed" in status.text.lower())
        browser.find_element("css selector", 'button[type="submit"]').click()
        assert result_of(browser) == "accepted"
        assert [r["method"] for r in tokens(server)] == ["proof+code"]
    finally:
        server.stop()
