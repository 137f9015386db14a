"""The moderator UI on a phone: every page at a 390 px wide mobile viewport (Chromium's device emulation)
has no sideways scrolling, every control is on screen, big enough and the element a tap reaches; the queue's
bulk bar (Spam included) and a comment's reason field stay usable.  Screenshots go to docs/img/mobile-*.png
when MODERATION_SCREENSHOTS is set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from moderation.review import auth
from tests.browser_support import wait_until
from tests.conftest import LiveServer, comment_payload
from tests.test_review_ui import PASSWORD, seed
from tests.test_review_ui import server as server

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
SHOTS = Path(__file__).parent.parent / "docs" / "img"
ADMIN = "phone-admin@example.org"

# Everything a moderator can tap, and how small it may be (px): WCAG 2.2 SC 2.5.8 asks 24 x 24.
CONTROLS = ("main a[href], main button, main input:not([type=hidden]), main select, main textarea, "
            "header a, header button")
LAYOUT = """
const w = document.documentElement.clientWidth, bad = [];
const sw = document.documentElement.scrollWidth;
if (sw > w + 1) bad.push('page scrolls sideways: ' + sw);
for (const el of document.querySelectorAll(arguments[0])) {
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  if (r.width === 0 && r.height === 0 || s.visibility === 'hidden' || el.closest('[hidden]')) continue;
  const name = el.tagName + '[' + (el.name || el.textContent.trim().slice(0, 20) || el.type) + ']';
  if (r.left < -1 || r.right > w + 1) bad.push(name + ' off screen ' + Math.round(r.left) + '..' + Math.round(r.right));
  // links inside running text are exempt from the 24 px target size (WCAG 2.2 SC 2.5.8's inline exception)
  const inline = el.tagName === 'A' && !el.closest('header, nav, .actions, .toolbar, .pager, .claimbar');
  if (!inline && (r.height < 24 || r.width < 22)) bad.push(name + ' too small '
      + Math.round(r.width) + 'x' + Math.round(r.height));
  if (el.matches('input[type=text], input[type=search], input:not([type]), textarea') && r.width < 140)
    bad.push(name + ' is a sliver: ' + Math.round(r.width) + 'px');
}
return bad;
"""


def phone(browser: Any) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


def log_in(browser: Any, server: LiveServer) -> None:
    server.call(_admin(server))
    browser.get(f"{server.url}/moderate/login")
    check_layout(browser, "login")
    browser.find_element(By.NAME, "email").send_keys(ADMIN)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    tap(browser, browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]"))
    wait_until(lambda: browser.current_url.endswith("/moderate/queue"), what="the queue after login")


async def _admin(server: LiveServer) -> None:
    async with server.app[auth.keys.POOL].acquire() as conn:
        await auth.create_moderator(conn, ADMIN, PASSWORD, "admin")


def tap(browser: Any, element: Any) -> None:
    """Scroll ``element`` into view and check that a tap at its centre reaches it (not something on top)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    hit = browser.execute_script("""const r = arguments[0].getBoundingClientRect();
        const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return e === arguments[0] || arguments[0].contains(e);""", element)
    assert hit, f"{element.tag_name} {element.text!r} is covered where a finger would tap it"
    element.click()


def check_layout(browser: Any, name: str) -> None:
    wait_until(lambda: browser.execute_script("return document.readyState") == "complete", what=f"{name} to load")
    if os.environ.get("MODERATION_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / f"mobile-{name}.png"))
    problems = browser.execute_script(LAYOUT, CONTROLS)
    assert problems == [], f"{name} at {WIDTH} px: {problems}"


def test_every_page_is_usable_on_a_phone(browser: Any, server: LiveServer) -> None:
    ids = seed(server, [comment_payload(f"m-{i}", text=f"Cheap watches at example dot com, offer number {i}")
                        for i in range(3)])
    phone(browser)
    log_in(browser, server)
    check_layout(browser, "queue")

    # every page of the nav is reachable on screen and usable
    links = {a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".topbar nav a")}
    assert len(links) == 6
    for href in sorted(links):
        link = browser.find_element(By.CSS_SELECTOR, f".topbar nav a[href='{href.split(server.url)[1]}']")
        tap(browser, link)
        wait_until(lambda h=href: browser.current_url.startswith(h), what=href)
        check_layout(browser, href.rstrip("/").rsplit("/", 1)[1])

    # a comment page: the reason field is a real field, the buttons are tappable
    browser.get(f"{server.url}/moderate/comments/{ids['m-0']}")
    check_layout(browser, "comment")

    # the bulk bar: select two, tap Spam (it used to be cut off)
    browser.get(f"{server.url}/moderate/queue")
    check_layout(browser, "queue")
    boxes = browser.find_elements(By.CSS_SELECTOR, "li.item input[name=ids]")
    for box in boxes[:2]:
        tap(browser, box)
    reason = browser.find_element(By.CSS_SELECTOR, "#bulk input[name=reason]")
    assert reason.size["width"] >= 140
    reason.send_keys("watch spam")
    check_layout(browser, "bulk")
    tap(browser, browser.find_element(By.CSS_SELECTOR, "#bulk button[value=spam]"))
    wait_until(lambda: server.call(server.app[auth.keys.POOL].fetchval(
        "SELECT count(*) FROM comments WHERE status = 'spam'")) == 2, what="two comments marked as spam")
