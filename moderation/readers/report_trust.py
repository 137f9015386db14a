"""How much one reader's report counts towards holding a comment — so that one client cannot unpublish.

A report is a request to take a comment off the page.  Anyone can send one, and a script can send thousands
with made-up ``reader_id``\\ s or fresh cookies, so a report's weight comes from what an attacker cannot make
up cheaply (Discourse's trust levels and Coral's trusted flaggers work the same way):

* a **verified reader** — the CMS vouches for ``reader_id`` with ``reader_signature`` (an HMAC with the
  webhook secret, :func:`reader_signature`) — weighs 1;
* an **anonymous reader cookie** weighs by its age: nothing in its first day, 0.25 until a week, then 0.5
  (cookies are free to mint, but not to age);
* an **unsigned** ``reader_id`` is an assertion anybody can make: it weighs nothing;
* every **upheld report** of the same reader (a comment they reported that a moderator then rejected)
  adds 0.5, at most twice.

The hold rule (``report_record`` in ``core/sql/reports.sql``): the open reports' weight reaches
``MODERATION_REPORTS_TO_HOLD``, counting anonymous and unsigned readers once per network address (the
heaviest of them) and verified readers each; the reports come from at least two network addresses; and no
moderator has approved the comment since (a moderator's approval is final: later reports only list it under
"Reported").  Below that the comment stays published and moderators see it under "Reported".
"""

from __future__ import annotations

import hashlib
import hmac
import time

from moderation.core.hashing import same_secret

VERIFIED, UNSIGNED, ANONYMOUS = "verified", "unsigned", "anonymous"
DAY_S = 86400.0
WEIGHT_VERIFIED = 1.0
WEIGHT_AGED_COOKIE = 0.5       # a cookie at least a week old
WEIGHT_YOUNG_COOKIE = 0.25     # a day to a week old, or minted before cookies carried their age
UPHELD_BONUS = 0.5
UPHELD_MAX = 2
MIN_ADDRESSES = 2              # reports from one network address never hold a comment by themselves


def reader_signature(webhook_key: bytes, reader_id: str) -> str:
    """What the CMS sends as ``reader_signature`` for a signed-in reader: hex HMAC-SHA256 of
    ``"reader:" + reader_id`` keyed with the webhook secret's bytes (the key behind ``whsec_…``)."""
    return hmac.new(webhook_key, b"reader:" + reader_id.encode(), hashlib.sha256).hexdigest()


def is_verified(webhook_key: bytes | None, reader_id: str | None, signature: str | None) -> bool:
    if webhook_key is None or reader_id is None or not signature:
        return False
    return same_secret(signature.strip().lower(), reader_signature(webhook_key, reader_id))


def cookie_age_s(reader_key: str, now: float | None = None) -> float | None:
    """Age of an anonymous reader's cookie from the mint time inside its id (``anon:<random>.<unix>``);
    None for ids minted before the time was recorded."""
    _, _, minted = reader_key.removeprefix("anon:").rpartition(".")
    if not minted.isdigit():
        return None
    return max(0.0, (time.time() if now is None else now) - int(minted))


def base_weight(kind: str, age_s: float | None) -> float:
    """The weight before upheld reports (which the statement adds, from the reader's history)."""
    if kind == VERIFIED:
        return WEIGHT_VERIFIED
    if kind == ANONYMOUS:
        if age_s is None:
            return WEIGHT_YOUNG_COOKIE
        if age_s >= 7 * DAY_S:
            return WEIGHT_AGED_COOKIE
        return WEIGHT_YOUNG_COOKIE if age_s >= DAY_S else 0.0
    return 0.0
