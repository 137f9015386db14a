from typing import Any
from tests.test_review_ui import log_in, seed, press, status_of, wait_for, server  # noqa: F401
from tests.conftest import comment_payload

def test_shot(browser: Any, server: Any) -> None:
    ids = seed(server, [comment_payload("c-1", "The tram plan is <b>bad</b> and the mayor is an idiot.")])
    log_in(browser, server, role="admin")
    press(browser, "r")
    wait_for(lambda: status_of(server, ids["c-1"]) == "rejected")
    press(browser, "u")
    wait_for(lambda: status_of(server, ids["c-1"]) == "pending")
    browser.get(f"{server.url}/moderate/comments/{ids['c-1']}")
    browser.save_screenshot("/tmp/detail.png")
    browser.get(f"{server.url}/moderate/wordlists")
    browser.save_screenshot("/tmp/wordlists.png")
    browser.get(f"{server.url}/moderate/tokens")
    browser.save_screenshot("/tmp/tokens.png")
