"""Our Standard Webhooks signer/verifier agrees with the reference library, both ways."""

import base64
import time
from datetime import UTC

import pytest
import standardwebhooks

from moderation.core.config import parse_webhook_secret
from moderation.core.webhooks import SignatureError, sign, verify
from tests.conftest import TEST_SECRET

KEY = parse_webhook_secret(TEST_SECRET)


def test_reference_library_verifies_our_signature() -> None:
    body = b'{"hello": "world"}'
    signed = sign(KEY, body)
    standardwebhooks.Webhook(TEST_SECRET).verify(body, signed.as_dict())


def test_we_verify_reference_library_signature() -> None:
    body = b'{"x": 1}'
    wh = standardwebhooks.Webhook(TEST_SECRET)
    from datetime import datetime

    now = datetime.now(tz=UTC)
    sig = wh.sign("msg_1", now, body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": sig}
    assert verify(KEY, headers, body) == "msg_1"


def test_several_signatures_one_valid() -> None:
    body = b"{}"
    signed = sign(KEY, body)
    bogus = "v1," + base64.b64encode(b"x" * 32).decode()
    headers = {**signed.as_dict(), "webhook-signature": f"v2,abc {bogus} {signed.signature}"}
    assert verify(KEY, headers, body) == signed.webhook_id


@pytest.mark.parametrize("offset,slug", [(-301, "stale-timestamp"), (301, "stale-timestamp"),
                                         (-299, None), (299, None)])
def test_timestamp_tolerance(offset: int, slug: str | None) -> None:
    body = b"{}"
    now = time.time()
    signed = sign(KEY, body, timestamp=int(now) + offset)
    if slug is None:
        verify(KEY, signed.as_dict(), body, now=now)
    else:
        with pytest.raises(SignatureError) as err:
            verify(KEY, signed.as_dict(), body, now=now)
        assert err.value.slug == slug
