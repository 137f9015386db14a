"""Confirmation codes: the alphabet, how a challenge's code is derived, and how answers are normalised.

The code is never stored.  Each challenge row holds a random ``salt`` (``secrets.token_bytes``); the code is
``HMAC-SHA256(hashing_key, "challenge-code" | id | salt)`` read as a big number and written in the code
alphabet.  So:

* it is as unpredictable as the salt (128 random bits) for anyone without the service's hashing key;
* a database dump alone does not reveal it (the key lives in the config, never beside the rows);
* every re-render of the same challenge shows the same code (the image/audio endpoints re-derive it);
* answers are compared, in constant time, against ``code_hash`` (a keyed hash of the code, stored too).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from moderation.core.hashing import keyed_hash

# No look-alikes: no 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V, A/4; upper case only (answers are case-insensitive).
ALPHABET = "346789CEFHJKMNPRTWXY"
_WHITESPACE = re.compile(r"\s+")


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def new_challenge_id() -> str:
    return secrets.token_urlsafe(18)


def derive_code(key: bytes, challenge_id: str, salt: bytes, length: int) -> str:
    digest = hmac.new(key, b"challenge-code\x00" + challenge_id.encode() + b"\x00" + salt, hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")   # 256 bits: the modulo bias over 22**8 is < 2**-220
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def normalise(answer: str) -> str:
    """What the reader typed, as we compare it: whitespace removed, upper case."""
    return _WHITESPACE.sub("", answer).upper()


def code_hash(key: bytes, code: str) -> str:
    return keyed_hash(key, normalise(code), purpose="challenge")


def matches(key: bytes, answer: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(key, answer), stored_hash)


def code_for(key: bytes, row: Any) -> str:
    """The code of a stored challenge row (needs ``id``, ``salt``, ``code_length``).

    The renderers use it, and it is the tests' seam: a test that holds the config's hashing key and reads
    the row can compute the code exactly as the server does, without any test-only switch in production."""
    return derive_code(key, row["id"], bytes(row["salt"]), row["code_length"])


def new_token() -> str:
    return "mct_" + secrets.token_urlsafe(32)


def token_hash(key: bytes, token: str) -> str:
    return keyed_hash(key, token, purpose="challenge-token")
