"""Waiting on a live page in headless Chromium, shared by the browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` s pass (AssertionError).

    Pages re-render parts of themselves after an action: an element found a moment ago may be replaced or not
    there yet, so those selenium errors mean "look again", not failure."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        except WebDriverException as error:
            # chromedriver's form of "stale" while a navigation swaps the document under a lookup
            if "does not belong to the document" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
