"""The confirmation-code widget in a real headless Chromium, on the example comment form.

These run the classic code flow (``MODERATION_CONFIRMATION=code``); the proof of work and the code as its
second step are in tests/test_challenges_proof_widget.py."""

from __future__ import annotations

import io
import urllib.request
import wave
from typing import Any

import pytest

from moderation.challenges import code_for
from moderation.challenges.codes import ALPHABET
from moderation.core import keys
from tests.browser_support import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def config(config: Any) -> Any:
    return config.with_changes(confirmation="code")


def code_from_server(live_server: Any, challenge_id: str) -> str:
    """The test seam: read the challenge row through the app's pool, derive the code as the server does."""
    app = live_server.app

    async def fetch() -> Any:
        return await app[keys.POOL].fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1",
                                             challenge_id)

    return code_for(app[keys.CONFIG].hashing_key, live_server.call(fetch()))


def wait_for(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return wait_until(lambda: condition(browser), timeout)


def challenge_id_of(browser: Any) -> str:
    src = browser.find_element("css selector", ".mc-image").get_attribute("src")
    return src.rstrip("/").split("/")[-2]


def image_loaded(browser: Any) -> bool:
    return bool(browser.execute_script(
        "const i = document.querySelector('.mc-image'); return i && i.complete && i.naturalWidth > 0;"))


def test_widget_wrong_then_right_code_fills_the_token(live_server: Any, browser: Any) -> None:
    browser.get(live_server.url + "/demo/challenge")
    wait_for(browser, image_loaded)
    assert browser.execute_script("return document.querySelector('.mc-image').naturalWidth") == 220
    # the accessible pieces are there
    assert browser.find_element("css selector", "label.mc-label").text
    assert browser.find_element("css selector", ".mc-image").get_attribute("alt")
    assert browser.find_element("css selector", "button.mc-audio").text == "Play audio"
    assert browser.find_element("css selector", "button.mc-new").text == "New code"
    status = browser.find_element("css selector", ".mc-status")
    assert status.get_attribute("role") == "status"

    challenge_id = challenge_id_of(browser)
    code = code_from_server(live_server, challenge_id)
    wrong = "".join(ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)] for c in code)

    field = browser.find_element("css selector", ".mc-input")
    field.send_keys(wrong)
    browser.find_element("css selector", "button.mc-check").click()
    wait_for(browser, lambda b: "attempts left" in status.text)
    assert "4 attempts left" in status.text
    hidden = browser.find_element("css selector", 'input[name="confirmation_token"]')
    assert hidden.get_attribute("value") == ""

    # posting without a solved code is stopped in the page
    browser.find_element("id", "name").send_keys("Ann Reader")
    browser.find_element("id", "comment").send_keys("A comment from the browser test.")
    browser.find_element("css selector", 'button[type="submit"]').click()
    assert "/demo/challenge" in browser.current_url and "before posting" in status.text

    field.clear()
    field.send_keys(" ".join(code.lower()))   # lower case and spaces are fine
    browser.find_element("css selector", "button.mc-check").click()
    wait_for(browser, lambda b: hidden.get_attribute("value").startswith("mct_"))
    assert "confirmed" in status.text.lower()

    browser.find_element("css selector", 'button[type="submit"]').click()
    result = wait_for(browser, lambda b: b.find_elements("id", "result"))[0]
    assert result.get_attribute("data-result") == "accepted"


def test_new_code_button_loads_another_challenge(live_server: Any, browser: Any) -> None:
    browser.get(live_server.url + "/demo/challenge")
    wait_for(browser, image_loaded)
    first = challenge_id_of(browser)
    browser.find_element("css selector", "button.mc-new").click()
    wait_for(browser, lambda b: challenge_id_of(b) != first and image_loaded(b))


def test_audio_url_returns_a_valid_wav(live_server: Any, browser: Any) -> None:
    browser.get(live_server.url + "/demo/challenge")
    wait_for(browser, image_loaded)
    challenge_id = challenge_id_of(browser)
    with urllib.request.urlopen(f"{live_server.url}/v1/challenges/{challenge_id}/audio", timeout=30) as resp:
        assert resp.headers["Content-Type"] == "audio/wav"
        data = resp.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 1 and w.getframerate() == 8000 and w.getnframes() > 8000
    # and the page's audio button plays that URL without an error in the page
    browser.find_element("css selector", "button.mc-audio").click()
    src = browser.execute_script("return document.querySelector('[data-moderation-challenge]').__mcWidget.audio.src")
    assert src.endswith(f"/v1/challenges/{challenge_id}/audio")


def test_widget_shows_problem_when_the_service_refuses(live_server: Any, browser: Any) -> None:
    """A burned challenge: after five wrong codes the widget says so and loads a new code by itself."""
    browser.get(live_server.url + "/demo/challenge")
    wait_for(browser, image_loaded)
    first = challenge_id_of(browser)
    status = browser.find_element("css selector", ".mc-status")
    field = browser.find_element("css selector", ".mc-input")
    for _ in range(5):
        field.clear()
        field.send_keys("ZZZZZ")
        browser.find_element("css selector", "button.mc-check").click()
        wait_for(browser, lambda b: "not the code" in status.text or challenge_id_of(b) != first)
        wait_for(browser, lambda b: browser.find_element("css selector", "button.mc-check").is_enabled())
    wait_for(browser, lambda b: challenge_id_of(b) != first)
    assert "new code" in status.text.lower()


def _cross_origin_page(server: Any) -> str:
    # localhost and 127.0.0.1 are different origins: the page comes from one, the API answers from the other
    return f"http://localhost:{server.port}/demo/challenge?endpoint=http://127.0.0.1:{server.port}"


def test_widget_works_cross_origin_with_cors(config: Any, browser: Any) -> None:
    from moderation.app import create_app
    from tests.conftest import LiveServer

    server = LiveServer(create_app(config.with_changes(cors_origins=("*",))))
    try:
        browser.get(_cross_origin_page(server))
        wait_for(browser, image_loaded)
        status = browser.find_element("css selector", ".mc-status")
        browser.find_element("css selector", ".mc-input").send_keys("ZZZZZ")
        browser.find_element("css selector", "button.mc-check").click()
        wait_for(browser, lambda b: "attempts left" in status.text)   # the problem body was readable
    finally:
        server.stop()


def test_widget_without_cors_cannot_call_from_another_origin(live_server: Any, browser: Any) -> None:
    browser.get(_cross_origin_page(live_server))
    status = browser.find_element("css selector", ".mc-status")
    wait_for(browser, lambda b: "Could not reach" in status.text)
