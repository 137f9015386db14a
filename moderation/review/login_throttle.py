"""Login throttling that slows a password guesser down without letting anyone lock the real user out.

A fixed per-account window (the old rule: 10 attempts per 5 minutes per e-mail) lets anybody who knows an
admin's e-mail keep them locked out by failing on purpose.  Instead (as OWASP's authentication cheat sheet
advises):

* **per account and network address**: after ``FREE_FAILURES`` failures from one (e-mail, address) pair,
  each further attempt from that pair waits an exponentially growing time (2, 4, 8 … s, at most
  ``MAX_BACKOFF_S``); a success clears the pair.  The attacker slows down only themselves;
* **per address**: the existing fixed window over all accounts (a spray across many accounts);
* **per account from unknown devices**: a generous fixed window (``ACCOUNT_LIMIT`` per ``ACCOUNT_WINDOW_S``)
  bounds a guesser spread over many addresses.  A browser that logged in to the account before carries a
  signed *known-device* cookie and skips this check, so a flood from elsewhere cannot lock the real user out
  of their own machine.

Failures are kept per keyed hash of the pair (no e-mail or address in the table) and pruned by the retention
worker a day after the last failure.
"""

from __future__ import annotations

import math
import secrets

from aiohttp import web

from moderation.core import keys, ratelimit
from moderation.core.hashing import keyed_hash, same_secret
from moderation.core.problems import Problem
from moderation.core.sql import Q

FREE_FAILURES = 3
MAX_BACKOFF_S = 900.0
ACCOUNT_LIMIT = 50
ACCOUNT_WINDOW_S = 900.0
DEVICE_COOKIE = "moderation_device"
DEVICE_MAX_AGE = 365 * 86400


def backoff_s(failures: int) -> float:
    """How long the pair waits after ``failures`` consecutive failures."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(MAX_BACKOFF_S, 2.0 ** (failures - FREE_FAILURES))


def _email_key(request: web.Request, email: str) -> str:
    return keyed_hash(request.app[keys.CONFIG].hashing_key, email.strip().lower(), purpose="login")


def pair_key(request: web.Request, email: str) -> str:
    return f"{_email_key(request, email)}:{ratelimit.client_hash(request)}"


def _device_sig(request: web.Request, email_key: str, nonce: str) -> str:
    return keyed_hash(request.app[keys.CONFIG].hashing_key, f"{email_key}.{nonce}", purpose="known-device")[:32]


def known_device(request: web.Request, email: str) -> bool:
    """Whether this browser logged in to this account before (a valid known-device cookie for its e-mail)."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    email_key = _email_key(request, email)
    for entry in value.split("~")[:8]:
        tag, _, rest = entry.partition(".")
        nonce, _, sig = rest.partition(".")
        if tag == email_key[:16] and nonce and same_secret(sig, _device_sig(request, email_key, nonce)):
            return True
    return False


def remember_device(request: web.Request, response: web.StreamResponse, email: str) -> None:
    """After a successful login: this browser is a known device of the account (kept beside up to 7 others)."""
    email_key = _email_key(request, email)
    nonce = secrets.token_urlsafe(9)
    entry = f"{email_key[:16]}.{nonce}.{_device_sig(request, email_key, nonce)}"
    others = [e for e in request.cookies.get(DEVICE_COOKIE, "").split("~") if e and not e.startswith(email_key[:16])]
    config = request.app[keys.CONFIG]
    response.set_cookie(DEVICE_COOKIE, "~".join([entry, *others[:7]]), max_age=DEVICE_MAX_AGE,
                        path="/moderate/login", httponly=True, samesite="Strict",
                        secure=config.secure_cookies or request.secure)


async def check(request: web.Request, email: str, *, ip_limit: int, ip_window_s: float) -> None:
    """Raise a 429 Problem when this attempt must wait; otherwise count it against the address (and, from an
    unknown device, the account)."""
    pool = request.app[keys.POOL]
    wait = await pool.fetchval(Q.login_failures_wait, pair_key(request, email))
    if wait is not None and wait > 0:
        seconds = max(1, math.ceil(wait))
        raise Problem("rate-limited", f"Too many failed logins from here; retry in {seconds} s.",
                      headers={"Retry-After": str(seconds)}, retry_after=seconds)
    await ratelimit.enforce(pool, ratelimit.ip_bucket(request, "login"), limit=ip_limit, window_s=ip_window_s,
                            what="login attempts")
    if not known_device(request, email):
        await ratelimit.enforce(pool, f"login:email:{_email_key(request, email)}", limit=ACCOUNT_LIMIT,
                                window_s=ACCOUNT_WINDOW_S, what="login attempts from new devices")


async def failed(request: web.Request, email: str) -> None:
    failures = await request.app[keys.POOL].fetchval(Q.login_failures_add, pair_key(request, email))
    await request.app[keys.POOL].execute(Q.login_failures_block, pair_key(request, email), backoff_s(failures))


async def succeeded(request: web.Request, email: str) -> None:
    await request.app[keys.POOL].execute(Q.login_failures_clear, pair_key(request, email))
