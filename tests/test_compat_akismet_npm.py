"""The npm package ``akismet-api`` (unmodified; options ``host`` and ``protocol`` set) against the live service.

It sends the key as the host name's first label (``KEY.localhost:PORT``): ``*.localhost`` resolves to the
loopback (RFC 6761; on Debian through ``libnss-myhostname``, which ``.ci/run`` installs with Node and the
package when missing).  The npm project is ``tests/npm_clients`` (``package-lock.json`` pins it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from moderation.compat import apikeys
from moderation.compat.akismet import THANKS
from moderation.core import keys
from tests.conftest import LiveServer
from tests.test_compat_akismet import HAM_TEXT, SPAM_TEXT

NPM_DIR = Path(__file__).parent / "npm_clients"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (NPM_DIR / "node_modules" / "akismet-api").exists():
        return f"akismet-api is not installed: (cd {NPM_DIR} && npm ci)"
    try:
        socket.getaddrinfo("probe.localhost", 80)
    except OSError:
        return "*.localhost does not resolve (apt-get install libnss-myhostname)"
    return None


@pytest.fixture
def live(config: Any) -> Any:
    from moderation.app import create_app

    reason = _missing()
    if reason:
        if os.environ.get("MODERATION_REQUIRE_BROWSER"):  # CI: .ci/run installs these, so never skip there
            pytest.fail(reason)
        pytest.skip(reason)
    server = LiveServer(create_app(config.with_changes(scoring_deadline_s=30.0)))
    yield server
    server.stop()


def test_akismet_api_npm_client(live: LiveServer) -> None:
    pool = live.app[keys.POOL]
    _, key = live.call(apikeys.create(pool, "node-blog"))
    # the live server listens on 127.0.0.1; *.localhost also resolves to ::1, which an older Node tries alone
    env = {**os.environ, "NODE_OPTIONS": "--dns-result-order=ipv4first"}
    run = subprocess.run(["node", "akismet_api_check.js", f"localhost:{live.port}", key, SPAM_TEXT, HAM_TEXT],
                         cwd=NPM_DIR, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["verify"] is True and out["ham"] is False and out["spam"] is True and out["guaranteed"] is True
    assert out["submitSpam"] == THANKS and out["submitHam"] == THANKS
    assert out["wrongVerify"] is False and out["wrongCheck"] == "Invalid API key"
    assert "user_ip" in out["missing"]
    labels = live.call(pool.fetch("SELECT label FROM compat_labels ORDER BY id"))
    assert [r["label"] for r in labels] == ["spam", "ham"]
